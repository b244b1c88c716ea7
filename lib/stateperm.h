/*
 * stateperm.h - the state tree is the service's alone (DESIGN.md, Security
 * model): every fleetboot process runs with umask 077, the state directory
 * is 0750 and the database 0600 (db/db.c sees to the database).
 *
 * Root may run the fleetboot command in a tree that belongs to the service
 * user; what it creates there would then be root's and, under umask 077,
 * unreadable by the daemons. fb_state_give hands such files to the owner.
 */
#ifndef FB_STATEPERM_H
#define FB_STATEPERM_H

#include <sys/types.h>

#define FB_UMASK          077
#define FB_STATE_DIR_MODE 0750

/* Set umask 077 for this process and its children. */
void fb_umask_private(void);

/*
 * Take away from state_dir every permission bit outside 0750 (an install
 * made before these modes: 0755). Never adds one. 1 when the mode was
 * changed, 0 when there was nothing to do or state_dir does not exist yet,
 * -1 with errno.
 */
int fb_state_tighten(const char *state_dir);

/*
 * When running as root in a state tree owned by another user: give path,
 * and everything under it that is not that user's yet, to the owner of
 * state_dir (symbolic links themselves, never what they point to). Files
 * already the owner's are not touched (a chown would move their ctime).
 * Does nothing otherwise. 0 or -1 with errno. Not thread-safe (for the
 * fleetboot command).
 */
int fb_state_give(const char *state_dir, const char *path);

#endif
