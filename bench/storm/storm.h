/*
 * storm.h - the boot-storm generator: N simulated diskless machines, each
 * on its own interface (a macvlan with its own MAC, made by
 * bench/storm.sh), doing on the wire what a real boot does, in order.
 * One thread per machine, blocking I/O with timeouts: the machine's boot
 * reads as the sequence it is.
 */
#ifndef FB_BENCH_STORM_H
#define FB_BENCH_STORM_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>

/* The stages, in boot order; each is timed from the storm's start to its end. */
enum storm_stage {
	ST_DHCP_PXE,  /* firmware PXE: DISCOVER/OFFER/REQUEST/ACK with 93/60/97 */
	ST_TFTP,      /* the iPXE binary named in the ACK */
	ST_DHCP_IPXE, /* iPXE's own DHCP (user class iPXE): the script URL */
	ST_SCRIPT,    /* /boot.ipxe, then the machine's script */
	ST_KERNEL,    /* the kernel over HTTP */
	ST_INITRD,    /* the initrd over HTTP */
	ST_DHCP_OS,   /* the initramfs's DHCP (udhcpc) */
	ST_CRED,      /* GET /boot/MAC/credential */
	ST_ATTACH,    /* NBD negotiation with this boot's credential, root-attached report */
	ST_ROOT,      /* the recorded block trace replayed on the root disk */
	ST_USERSPACE, /* the userspace stage report */
	ST_N
};

enum storm_proto { PR_DHCP, PR_TFTP, PR_HTTP, PR_NBD, PR_N };

/* One recorded block request (bench/traces/README.md). */
struct trace_req {
	char op;          /* R W F T Z */
	uint64_t off;     /* bytes */
	uint32_t len;     /* bytes */
	uint32_t after;   /* depends on the request this many back (0: none) */
	uint32_t wait_us; /* client time before sending it */
};

struct trace {
	struct trace_req *req;
	size_t n;
	uint32_t max_len;
};

struct storm_cfg {
	int timeout_ms;          /* first DHCP/TFTP wait; DHCP doubles it per try */
	int tries;               /* attempts per exchange before the machine fails */
	unsigned blksize;        /* TFTP block size asked (PXE ROMs: 1432..1468) */
	double think;            /* factor on the trace's WAIT_US */
	int last;                /* stop after this stage (an enum storm_stage) */
	const struct trace *tr;  /* NULL: no root phase */
	const char *expect_file; /* PXE boot file expected in the first ACK */
};

struct machine {
	int idx;
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint8_t mac[6];
	char macid[18];
	struct in_addr ip, mask, server; /* leased address, its mask, the boot server */
	int ip_set;                      /* ip is configured on ifname */
	int dhcp_fd;                     /* UDP 0.0.0.0:68 on ifname, send only */
	uint64_t t[ST_N];                /* microseconds after the start, at each stage's end */
	int failed;                      /* 0, or 1 + the stage that failed */
	char err[200];
	unsigned retries;
	uint64_t bytes[PR_N];
	char boot_file[130];
	char script_url[256];
	char kernel_url[256], initrd_url[256], report_url[256];
	char root_host[64];
	int root_port;
	char cred[96];
	void *nbd; /* struct nbd_handle *, held open until the storm ends */
	const struct storm_cfg *cfg;
};

/* storm.c */
extern uint64_t storm_t0;
uint64_t storm_now(void); /* microseconds since storm_t0 */
int storm_fail(struct machine *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int storm_socket(struct machine *m, int type); /* bound to m's interface (and address) */
int storm_connect(struct machine *m, struct in_addr ip, int port);

/* storm_dhcp.c */
enum dhcp_kind { DHCP_PXE, DHCP_IPXE, DHCP_OS };
int storm_dhcp(struct machine *m, enum dhcp_kind kind);

/* storm_tftp.c */
int storm_tftp(struct machine *m, const char *file);

/* storm_http.c: status (200...) or -1 with m->err set. body: the first
 * cap-1 bytes kept, NUL-terminated (NULL: counted and dropped). */
int storm_http(struct machine *m, const char *method, const char *url, const char *post, char *body,
               size_t cap);
int storm_boot_scripts(struct machine *m);

/* storm_nbd.c */
int trace_load(struct trace *t, const char *path);
int storm_nbd_attach(struct machine *m);
int storm_nbd_replay(struct machine *m);
void storm_nbd_close(struct machine *m);

#endif
