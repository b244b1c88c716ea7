/*
 * bootd.h - fleetboot-bootd: DHCP (authoritative and proxy), TFTP and the
 * boot HTTP endpoints.
 *
 * Threads: the main thread runs one epoll loop (lib/evloop) for DHCP and
 * TFTP; libmicrohttpd runs HTTP in its own threads; a writer thread owns
 * the database (batched lease and event writes, and a cache refresh every
 * second). DHCP never touches SQLite: it reads the in-memory machine cache
 * and lease table (struct bootd_state, under one rwlock) and queues writes.
 */
#ifndef FB_BOOTD_H
#define FB_BOOTD_H

#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>

#include "config.h"
#include "db/db.h"
#include "evloop.h"

struct bootd_iface {
	char name[IF_NAMESIZE]; /* as configured */
	int ifindex;            /* 0 = not present (yet) */
	struct in_addr addr;    /* first IPv4 address; 0 when none */
	struct in_addr mask;    /* its netmask */
};

/* A machine as DHCP and HTTP need it (copied out of the DB). */
struct bootd_machine {
	uint8_t mac[6];
	char macid[FB_MACID_LEN];
	char image[FB_REF_LEN];
	enum fb_mode mode;
	enum fb_protocol protocol;
	struct in_addr ip;          /* reserved; 0 = none */
	int installed;              /* install mode, and its last stage was "installed" */
	int registered;             /* added by bootd itself (unknown_machines) */
	char next_boot[FB_REF_LEN]; /* once: entry, image ref or "local"; "" = none */
	int secure_boot; /* effective secure_boot "on": its signed UKI, never iPXE; TLS, HTTPS
	                    credential */
	int pxelinux;    /* loader "pxelinux" (BIOS: PXELINUX, never iPXE) */
	char menu_default[FB_REF_LEN];            /* its group's menu default; "" = [bootd]'s */
	int menu_timeout;                         /* its group's menu timeout; -1 = [bootd]'s */
	struct bootd_machine *next_mac, *next_ip; /* hash chains */
};

/* An image version as HTTP needs it. */
struct bootd_image {
	char name[FB_NAME_LEN];
	int version;
	int ready; /* state "ready" */
	char dir[FB_PATH_LEN];
	char cmdline[512];
	char verity_root_hash[FB_SHA256_HEX]; /* "" = no dm-verity tree */
	char verity_salt[FB_SHA256_HEX];
	int has_uki;                    /* boot.efi, the signed UKI, is recorded (uki_sha256) */
	char uki_sha256[FB_SHA256_HEX]; /* its sha256, for the uki-served event */
	int disk;                       /* a whole bootable disk: iPXE sanboot over iSCSI */
};

/* A boot entry as scripts and HTTP need it. */
struct bootd_entry {
	char name[FB_NAME_LEN];
	enum fb_entry_kind kind;
	char title[FB_TITLE_LEN];
	char boot_url[FB_URL_LEN];   /* "" = bootd serves /entries/NAME/<boot file> */
	char initrd_url[FB_URL_LEN]; /* "" = bootd serves /entries/NAME/initrd (if any) */
	int has_initrd;
	char cmdline[512];
};

/* Immutable snapshot of machines and images, swapped whole on refresh. */
struct bootd_cache {
	struct bootd_machine *machines;
	size_t n_machines;
	struct bootd_machine **by_mac, **by_ip; /* hash heads, nbuckets each */
	size_t nbuckets;
	struct bootd_image *images;
	size_t n_images;
	struct bootd_entry *entries; /* by name */
	size_t n_entries;
	size_t n_registered;       /* machines bootd registered (unknown_machines) */
	uint64_t reg_done_at_load; /* writer's registrations done when this was read */
};

enum lease_state { LEASE_NONE = 0, LEASE_OFFERED, LEASE_BOUND, LEASE_RELEASED, LEASE_DECLINED };

/* One DHCP client (by MAC): its lease, and when it last did a PXE DHCP. */
struct bootd_client {
	uint8_t mac[6];
	struct in_addr ip; /* 0 = no address */
	int64_t expires;   /* unix time */
	enum lease_state state;
	char hostname[FB_NAME_LEN];
	uint64_t last_pxe_ms; /* monotonic; 0 = never */
	int script_served;    /* its boot script went out since its last new boot */
	struct bootd_client *next_mac, *next_ip;
};

struct bootd_state {
	pthread_rwlock_t lock; /* guards everything below */
	struct bootd_cache *cache;
	struct bootd_client **c_by_mac, **c_by_ip;
	size_t c_nbuckets, n_clients;
	/* Declined addresses (not tied to a client): ip -> until. */
	struct declined {
		struct in_addr ip;
		int64_t until;
	} * declined;
	size_t n_declined;
};

/* Registrations of unknown machines: the caps of register_per_minute and
 * register_max (register.c). */
struct bootd_reg {
	pthread_mutex_t lock;   /* DHCP and HTTP both register */
	int64_t window_start;   /* unix time the current minute began */
	int window_count;       /* registrations in it */
	uint64_t issued;        /* registrations queued since start-up */
	uint64_t done;          /* ...of which the writer has done (atomic) */
	uint64_t refused;       /* refused by a cap since start-up */
	uint64_t last_log_ms;   /* the refusal log line is rate-limited */
	uint8_t recent[256][6]; /* MACs queued lately: DISCOVER retries are not counted twice */
	int64_t recent_at[256]; /* when (unix time) */
	unsigned recent_next;   /* next slot to reuse */
};

struct bootd {
	struct fb_config cfg;
	struct fb_loop *loop;
	char tftp_root[PATH_MAX];
	int tftp_rootfd;
	struct bootd_iface ifaces[FB_MAX_IFACES];
	int n_ifaces;
	int dhcp_fd, pxe_fd, tftp_fd;
	int pkt_fd; /* AF_PACKET: every DHCP frame with its Ethernet source */
	struct fb_timer iface_timer;
	struct bootd_state st;
	struct writer *wr;
	struct MHD_Daemon *mhd;
	struct MHD_Daemon *mhd_tls; /* HTTPS (https_port), when STATE/tls has a certificate */
	char *tls_crt, *tls_key;    /* its PEM certificate and key, for the daemon's life */
	/* HTTP's own database handle, for what must be decided in the database
	 * before the answer goes out: handing out a boot's credential (once)
	 * and checking one. Rare (a few requests per boot), under cred_lock. */
	struct fb_db *cred_db;
	pthread_mutex_t cred_lock;
	struct nl_sock *nl; /* main thread's netlink socket */
	uint64_t pool_cursor;
	int64_t pool_full_until; /* no pool scan before this (exhausted) */
	uint64_t stats_dhcp, stats_tftp;
	int tftp_active;
	struct xfer *tftp_xfers; /* transfers under way (tftp.c's list) */
	struct bootd_reg reg;
	uint64_t dropped_spoofed, dropped_relay; /* DHCP messages dropped, by reason */
	/* Wake-on-LAN (wake.c): the sending sockets, and the requests the
	 * writer thread took from the database for the main loop to send. */
	int wake_pkt_fd, wake_udp_fd; /* AF_PACKET (-1: no CAP_NET_RAW), UDP broadcast */
	int wake_evfd;                /* the writer's "requests queued" to the main loop */
	pthread_mutex_t wake_lock;    /* guards wake_q */
	struct wake_job *wake_q;
	size_t wake_n, wake_cap;
};

/* iface.c: interfaces, addresses, neighbours through libnl-route */
int iface_refresh(struct bootd *b);
struct bootd_iface *iface_by_index(struct bootd *b, int ifindex);
/* Address clients use to reach us on this interface (server_address wins). */
struct in_addr iface_server_addr(struct bootd *b, const struct bootd_iface *ifc);
/* Put ip -> mac into the neighbour table of ifindex so a unicast reply can
 * reach a client that has no address yet. 0 or -1. */
int neigh_add(struct bootd *b, int ifindex, struct in_addr ip, const uint8_t mac[6]);
/* Look ip up in the kernel's neighbour table (any thread; opens its own
 * socket). 0 and the MAC, or -1. */
int neigh_lookup(struct in_addr ip, uint8_t mac[6]);

/* identity.c: is the requester at ip the machine want? The neighbour table
 * must map ip to want, and (bootd leasing the addresses) ip must hold
 * want's lease or reservation. 1, or 0 with the reason in why. Any thread. */
int ident_requester_is(struct bootd *b, struct in_addr ip, const uint8_t want[6], const char **why);
/* Which machine is the requester at ip (both tests above)? 0 and its MAC,
 * or -1. */
int ident_requester_mac(struct bootd *b, struct in_addr ip, uint8_t mac[6]);

/* credential.c: issue this boot's credential of macid to peer, for what
 * ("credential", "sanboot script"); queued boot events are committed
 * first. 0; -EALREADY when this boot's was handed out already (logged and
 * recorded as takeover-suspected); another negative errno (logged). */
int boot_credential_issue(struct bootd *b, const char *macid, const char *peer, const char *what,
                          char cred[FB_SECRET_LEN]);

/* state.c: the shared in-memory tables */
int state_init(struct bootd_state *s);
void state_free(struct bootd_state *s);
/* Build a cache from the database (writer thread or start-up). */
struct bootd_cache *cache_load(struct fb_db *db);
void cache_free(struct bootd_cache *c);
/* Install a new cache; frees the old one. */
void state_set_cache(struct bootd_state *s, struct bootd_cache *c);
/* Lookups; the caller holds s->lock (read or write). */
const struct bootd_machine *cache_machine(const struct bootd_cache *c, const uint8_t mac[6]);
const struct bootd_machine *cache_machine_by_ip(const struct bootd_cache *c, struct in_addr ip);
const struct bootd_image *cache_image(const struct bootd_cache *c, const char *name, int version);
const struct bootd_entry *cache_entry(const struct bootd_cache *c, const char *name);
struct bootd_client *client_get(struct bootd_state *s, const uint8_t mac[6], int create);
struct bootd_client *client_by_ip(struct bootd_state *s, struct in_addr ip);
void client_set_ip(struct bootd_state *s, struct bootd_client *cl, struct in_addr ip);
/* Load persisted leases at start-up. */
int state_load_leases(struct bootd_state *s, struct fb_db *db);
/* The machine's boot script was served: its next PXE DHCP starts a new boot. */
void state_mark_script_served(struct bootd_state *s, const uint8_t mac[6]);
/* Which MAC holds ip now (a live lease or a reservation)? 0 or -1. Takes
 * the lock itself. */
int state_mac_of_ip(struct bootd_state *s, struct in_addr ip, uint8_t mac[6]);
/* Does the machine mac hold ip: a live lease of its own, or its
 * reservation? Takes the lock itself. */
int state_ip_held_by(struct bootd_state *s, struct in_addr ip, const uint8_t mac[6]);
/* Index a cache's machines by MAC and address (cache_load does it; tests
 * and fuzzers that build a cache by hand too). 0 or -1. */
int cache_index(struct bootd_cache *c);

/* writer.c: the database thread */
struct writer *writer_start(struct bootd *b, struct fb_db *db);
void writer_stop(struct writer *w);
void writer_lease(struct writer *w, const struct bootd_client *cl);
void writer_event(struct writer *w, const char *macid, const char *stage, const char *detail);
/* Register an unknown machine (image "" or boot:IMAGE's image). 0, or -1
 * when it could not be queued. */
int writer_register(struct writer *w, const char *macid, const char *image);
/* Ask for a cache refresh soon. */
void writer_poke(struct writer *w);
/* A wake request was sent (ok) or failed, with bootd's result text. */
void writer_wake_done(struct writer *w, int64_t id, int ok, const char *result);

/* wake.c: Wake-on-LAN magic packets out of every interface. wake_open
 * (before the privilege drop: the raw frame needs CAP_NET_RAW) opens the
 * sockets and registers the main loop's eventfd; wake_submit (the writer
 * thread) queues one request taken from the database for the main loop
 * to send. 0 or -1. */
int wake_open(struct bootd *b);
void wake_close(struct bootd *b);
int wake_submit(struct bootd *b, const struct fb_wake *w);
/* Wait up to timeout_ms until everything queued so far is committed (a
 * boot's dhcp event, before its credential is issued): 0, -1 on timeout. */
int writer_sync(struct writer *w, int timeout_ms);

/* register.c: registrations of unknown machines, capped by [bootd]
 * register_per_minute and register_max. Queue one (image "" or boot:IMAGE's
 * image) unless a cap says no; 1 when queued (or queued moments ago), 0 when
 * refused (logged). The caller holds b->st.lock (read or write). */
int register_unknown(struct bootd *b, const uint8_t mac[6], const char *image, int64_t now);

/* One DHCP datagram as the packet socket saw it (dhcp_io.c fills it in). */
struct dhcp_frame {
	uint8_t src_mac[6];     /* the Ethernet frame's source address */
	struct sockaddr_in src; /* IP source address and UDP source port */
	int pxe_port;           /* sent to port 4011 (else 67) */
	const uint8_t *data;    /* the DHCP message: the UDP payload */
	size_t len;
};

/* dhcp.c: the DHCP server proper, from a frame to the reply it sends.
 * Identity: a message counts only when its chaddr is the frame's source
 * MAC, or when a configured relay (giaddr in relays) sent it. */
void dhcp_frame_in(struct bootd *b, struct bootd_iface *ifc, const struct dhcp_frame *f);
/* Forget declined addresses whose hold has passed. */
void dhcp_prune(struct bootd *b, int64_t now);

/* dhcp_io.c: the sockets. A packet socket reads every DHCP frame (with its
 * source MAC); the UDP sockets on 67 and 4011 only send (a filter drops
 * whatever they would receive). */
int dhcp_open(struct bootd *b);
/* Send a UDP datagram on fd out of interface ifindex (0: by route) from
 * address src (IP_PKTINFO): DHCP replies, Wake-on-LAN broadcasts. 0 or -1
 * with errno. */
int udp_send_via(int fd, const void *pkt, size_t len, const struct sockaddr_in *dst, int ifindex,
                 struct in_addr src);
/* Send a reply out of port 67 (or 4011) to dst, on ifindex (0: by route)
 * from src. 0 or -1 with errno. */
int dhcp_send(struct bootd *b, int pxe_port, const void *pkt, size_t len,
              const struct sockaddr_in *dst, int ifindex, struct in_addr src);
/* dhcp_policy.c: boot file by client, for tests too */
struct fb_dhcp_msg;
enum boot_kind { BOOT_NONE, BOOT_TFTP, BOOT_URL };
/* Pick the boot file for a request: BOOT_NONE for non-PXE clients. A
 * machine set to PXELINUX (pxelinux) gets pxelinux.0 when it is a BIOS
 * client, even from iPXE (a NIC's option ROM); a UEFI one falls back to
 * iPXE, and *fallback says so (the caller logs it). */
enum boot_kind dhcp_boot_file(const struct fb_dhcp_msg *m, struct in_addr server, int http_port,
                              int pxelinux, char *file, size_t len, int *fallback);
/* The same for a machine set to Secure Boot, booting img (NULL: none):
 * its signed UKI, by TFTP (images/NAME/V/boot.efi) or HTTP URL, or
 * BOOT_NONE with the reason in why (never an iPXE binary). */
enum boot_kind dhcp_secure_boot_file(const struct fb_dhcp_msg *m, const struct bootd_image *img,
                                     struct in_addr server, int http_port, char *file, size_t len,
                                     const char **why);

/* nextboot.c: a machine's next boot (once), decided in the database when
 * its boot script or PXELINUX config is made (fb_db_next_boot_take). */
enum next_kind { NEXT_NONE, NEXT_LOCAL, NEXT_ENTRY, NEXT_IMAGE };
struct next_boot {
	enum next_kind kind;
	char item[FB_REF_LEN];
	int first;                /* this boot is the first to use it */
	struct bootd_entry entry; /* NEXT_ENTRY */
	struct bootd_image image; /* NEXT_IMAGE */
};
/* Take m's next boot for this boot (a new boot unless m's script was
 * served since its last PXE DHCP). NEXT_NONE: none applies now (the
 * normal boot then; an item that is not available is logged). ok, when
 * given, says whether the loader can boot an entry; one it cannot is left
 * for a later boot and logged. */
void next_boot_take(struct bootd *b, const struct bootd_machine *m,
                    int (*ok)(const struct bootd_entry *e), struct next_boot *nb);
/* The boot m was given is its next boot: mark its script served and record
 * the next-boot event (first use) and the script's event (via: the loader,
 * "" for iPXE). */
void next_boot_served(struct bootd *b, const struct bootd_machine *m, const struct next_boot *nb,
                      const char *via);

/* pxelinux.c: PXELINUX configs (pure) */
struct fb_buf;
struct script_ctx;
/* Can PXELINUX boot e (a kernel entry whose files bootd serves)? */
int pxelinux_entry_ok(const struct bootd_entry *e);
/* The config of m: a vesamenu menu of its image (or every ready image for
 * a machine set to the menu), the kernel entries, and local; nb's item as
 * DEFAULT with a short timeout when it is set. c is read under the lock.
 * 0, or -1 when the image m is pinned to is not there. */
int pxelinux_config(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                    const struct bootd_cache *c, const struct next_boot *nb);

/* tftp_virtual.c: files bootd makes or maps rather than finds in the TFTP
 * root: pxelinux.cfg/01-MAC (made for that machine only), and
 * images/NAME/V/vmlinuz|initrd.img and entries/NAME/kernel|initrd (from
 * the state tree). peer asks, at our address local. An open fd, a
 * negative TFTP error (why says), or
 * TFTP_NOT_VIRTUAL for a name that is none of these. */
#define TFTP_NOT_VIRTUAL (-1000)
int tftp_virtual_open(struct bootd *b, const char *name, struct in_addr peer, struct in_addr local,
                      const char **why);

/* tftp.c */
int tftp_open(struct bootd *b);
/* End every transfer under way (at shutdown). */
void tftp_close(struct bootd *b);
/* tftp_path.c: resolve a requested name under the root; an open fd or a
 * negative TFTP error code. */
int tftp_open_file(int rootfd, const char *root, const char *name, const char **why);
/* The why of a file that is there but that bootd's user cannot read (an
 * access violation, logged with fb_log_unreadable): HTTP answers it 403. */
extern const char tftp_why_unreadable[];

/* http.c */
int http_start(struct bootd *b);
void http_stop(struct bootd *b);

/* script.c: iPXE scripts (pure; tested by the integration tests) */
struct fb_buf;
struct script_ctx {
	const char *server; /* address clients reach us on */
	int http_port;
	int https_port; /* 0 = no HTTPS (no STATE/tls certificate) */
	int nbd_port, iscsi_port;
	int menu_timeout;         /* seconds */
	const char *menu_default; /* "local", an image ref or an entry */
	int menu_shell;           /* [bootd] menu_shell: offer the iPXE shell */
};
void script_generic(struct fb_buf *out, const struct script_ctx *x);
void script_machine(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                    const struct bootd_image *img);
/* The per-machine parameters a signed UKI cannot carry (it is per image
 * version), one line, as GET /boot/MACID/params gives them to the
 * initramfs: server, machine, mode, root, report and the machine's image
 * version (the initramfs compares it with the one its UKI was made for). */
void script_params(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                   const struct bootd_image *img);
/* The kernel command line of m booting img, after the initrd= argument
 * (shared by iPXE scripts and PXELINUX configs). */
void script_cmdline(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                    const struct bootd_image *img);
/* A whole-disk image: sanboot of the machine's own iSCSI target, with
 * this boot's credential as the CHAP secret (sanboot.c says why). */
void script_sanboot(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                    const struct bootd_image *img, const char *cred);
/* The script of m booting img into out (sanboot.c): the kernel script, or
 * for a whole disk the sanboot script with this boot's credential, issued
 * here. 0, or an HTTP status (403, 503) with out holding the message. */
int machine_script(struct bootd *b, const struct script_ctx *x, const struct bootd_machine *m,
                   const struct bootd_image *img, const char *peer, struct fb_buf *out);
void script_menu(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                 const struct bootd_cache *c);
/* Boot an entry: kernel + initrd + boot, sanboot of an ISO, or chain of
 * a UEFI program. */
void script_entry(struct fb_buf *out, const struct script_ctx *x, const char *macid,
                  const struct bootd_entry *e);
void script_wait(struct fb_buf *out, const struct script_ctx *x, const char *macid);
/* Boot the first local disk (an install-mode machine already installed,
 * or a next boot of "local"). why ends "booting its local disk". */
void script_local(struct fb_buf *out, const char *macid, const char *why);

#endif
