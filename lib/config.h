/*
 * config.h - fleetboot.conf: the INI file every program reads.
 *
 * The keys are those of DESIGN.md. Unknown sections and keys, bad values and
 * keys given twice are errors naming the file, line and key. A missing file
 * is an error only when the caller says it must exist (an explicit -c).
 */
#ifndef FB_CONFIG_H
#define FB_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include "netaddr.h"

#define FB_MAX_IFACES 16
#define FB_MAX_RELAYS 16

enum fb_dhcp_mode { FB_DHCP_PROXY, FB_DHCP_AUTHORITATIVE, FB_DHCP_OFF };
enum fb_unknown { FB_UNKNOWN_REGISTER, FB_UNKNOWN_IGNORE, FB_UNKNOWN_BOOT };

struct fb_config {
	char path[PATH_MAX]; /* the file read ("" when none existed) */

	/* [global] */
	char state_dir[PATH_MAX];       /* db, images, overlays, tftp root */
	char server_address[FB_IP_LEN]; /* "" = address of the bootd interface */

	/* [bootd] */
	char interfaces[FB_MAX_IFACES][IF_NAMESIZE]; /* interface = a,b,c */
	int n_interfaces;                            /* how many were named */
	enum fb_dhcp_mode dhcp;                      /* proxy | authoritative | off */
	uint32_t pool_first, pool_last;              /* host order; 0 when no pool */
	struct in_addr netmask;                      /* default 255.255.255.0 */
	struct in_addr router;                       /* 0 when unset */
	struct in_addr dns;                          /* 0 when unset */
	uint32_t lease_time;                         /* seconds */
	int tftp;                                    /* on/off */
	int http_port;                               /* boot HTTP port */
	int https_port;                   /* boot HTTPS port (credential of verified boots) */
	enum fb_unknown unknown_machines; /* register | ignore | boot:IMAGE */
	char unknown_image[128];          /* IMAGE for boot:IMAGE */
	int menu_timeout;                 /* seconds */
	char menu_default[128];           /* "local" or an image ref: the menu default */
	int menu_shell; /* on/off: an "iPXE shell" menu item (a console user acts as the machine) */
	int busy_poll;  /* microseconds of polling without sleep after activity */
	struct in_addr relays[FB_MAX_RELAYS]; /* relays = a, b: the DHCP relays (giaddr) answered */
	int n_relays;                         /* 0: no relayed request is answered */
	int register_per_minute;              /* unknown machines registered per minute, at most */
	int register_max;                     /* self-registered machines in all, at most */

	/* [storaged] */
	int nbd_port;
	int iscsi_port;
	int require_lease_ip;
	unsigned iscsi_prelogin_per_address; /* iSCSI connections not logged in, per address */
	unsigned iscsi_prelogin_max;         /* ... and in all */
	unsigned nbd_conns_per_machine;      /* NBD connections open per machine */

	/* [web] */
	char web_host[64];
	int web_port;
};

/* Fill in every default. */
void fb_config_defaults(struct fb_config *c);
/*
 * Read path (NULL: the default file, FLEETBOOT_CONF honoured) over the
 * defaults. must_exist: a missing file is an error. On error returns -1 and
 * puts one line ("FILE:LINE: key: problem") into err.
 */
int fb_config_load(struct fb_config *c, const char *path, int must_exist, char *err, size_t errlen);
/* Parse from memory (for tests and fuzzing); name is used in messages. */
int fb_config_parse(struct fb_config *c, const char *name, const char *text, char *err,
                    size_t errlen);
/* Print the effective configuration as INI (for -n -v and golden tests). */
void fb_config_print(const struct fb_config *c, FILE *out);
/* Paths under state_dir: db, images, overlays, tftp. */
void fb_config_path(const struct fb_config *c, const char *leaf, char *out, size_t len);

#endif
