/*
 * locate.h - where fleetboot's own files are: the directory of the running
 * binary, the shared data (initramfs pieces, the web UI), sibling programs,
 * and the default configuration file. Found from /proc/self/exe, so the
 * same binary works installed under any PREFIX and straight from build/.
 */
#ifndef FB_LOCATE_H
#define FB_LOCATE_H

#include <stddef.h>

/*
 * Where this program's shared files are: PREFIX/share/fleetboot when run
 * from an installed tree (found from /proc/self/exe, so any PREFIX works),
 * or the source tree when run from build/ or build-san/. FLEETBOOT_SHARE
 * overrides. Returns a static string.
 */
const char *fb_share_dir(void);
/* Directory holding this program's own binary (static string). */
const char *fb_self_dir(void);
/* Find a sibling program: PREFIX/{bin,sbin,lib/fleetboot}/NAME or the
 * build dir. Returns 0 and fills out, or -1. */
int fb_find_program(const char *name, char *out, size_t len);

/* Default configuration file, honouring FLEETBOOT_CONF. */
const char *fb_default_conf(void);

#endif
