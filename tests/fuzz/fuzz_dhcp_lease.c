/*
 * fuzz_dhcp_lease.c - bootd's DHCP lease state machine (bootd/dhcp.c, the
 * real one) driven by sequences of messages. Each 8-byte record of the
 * input becomes one DHCP message from one of eight MACs (four known
 * machines, two with reservations, and four unknown), with the frame's
 * source MAC, addresses, server identifier, relay fields and port chosen
 * by the record, handed to dhcp_frame_in() as bootd's packet socket would.
 *
 * After every message the invariants of issue 13 are checked:
 *  - a message whose frame source is not its chaddr, and that no
 *    configured relay sent, changes nothing;
 *  - a valid lease (bound or offered, not expired) never moves to another
 *    MAC;
 *  - a reserved address is never bound or offered to another MAC;
 *  - the address index agrees with the clients (one holder per address);
 *  - every reply bootd sends parses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootd/bootd.h"
#include "buf.h"
#include "byteorder.h"
#include "clock.h"
#include "proto/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NMAC 8

static struct bootd b;
static const uint8_t macs[NMAC][6] = {
    {0x52, 0x54, 0x00, 0, 0, 1}, {0x52, 0x54, 0x00, 0, 0, 2}, {0x52, 0x54, 0x00, 0, 0, 3},
    {0x52, 0x54, 0x00, 0, 0, 4}, {0x02, 0, 0, 0, 0, 1},       {0x02, 0, 0, 0, 0, 2},
    {0x02, 0, 0, 0, 0, 3},       {0x02, 0, 0, 0, 0, 4},
};
#define RES_IN_POOL  0x0a00006e /* 10.0.0.110: machine 1's reservation */
#define RES_OUT_POOL 0x0a000032 /* 10.0.0.50: machine 2's */
#define RELAY        0x0a0000fe /* 10.0.0.254 */

/* ---- what dhcp.c needs from the rest of bootd ---- */

int dhcp_send(struct bootd *bd, int pxe_port, const void *pkt, size_t len,
              const struct sockaddr_in *dst, int ifindex, struct in_addr src)
{
	static struct fb_dhcp_msg m;
	const char *why;
	if (fb_dhcp_parse(&m, pkt, len, &why) < 0 || m.op != 2)
		abort(); /* our own reply must parse */
	return 0;
}
void writer_lease(struct writer *w, const struct bootd_client *cl)
{
}
void writer_event(struct writer *w, const char *macid, const char *stage, const char *detail)
{
}
int writer_register(struct writer *w, const char *macid, const char *image)
{
	return 0;
}
int neigh_add(struct bootd *bd, int ifindex, struct in_addr ip, const uint8_t mac[6])
{
	return 0;
}
struct in_addr iface_server_addr(struct bootd *bd, const struct bootd_iface *ifc)
{
	return ifc->addr;
}

/* ---- set-up ---- */

static struct bootd_cache *make_cache(void)
{
	struct bootd_cache *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->n_machines = 4;
	c->machines = calloc(c->n_machines, sizeof(*c->machines));
	if (!c->machines)
		abort();
	for (size_t i = 0; i < c->n_machines; i++) {
		struct bootd_machine *m = &c->machines[i];
		memcpy(m->mac, macs[i], 6);
		mac_format(m->mac, m->macid);
		strcpy(m->image, "menu");
	}
	c->machines[1].ip.s_addr = htonl(RES_IN_POOL);
	c->machines[2].ip.s_addr = htonl(RES_OUT_POOL);
	if (cache_index(c) < 0)
		abort();
	return c;
}

static void setup_once(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	fb_config_defaults(&b.cfg);
	b.cfg.dhcp = FB_DHCP_AUTHORITATIVE;
	b.cfg.pool_first = 0x0a000064; /* 10.0.0.100-10.0.0.115: small, so it fills */
	b.cfg.pool_last = 0x0a000073;
	b.cfg.lease_time = 60;
	b.cfg.relays[0].s_addr = htonl(RELAY);
	b.cfg.n_relays = 1;
	b.cfg.register_per_minute = 3;
	b.cfg.register_max = 5;
	b.loop = fb_loop_new();
	if (!b.loop)
		abort();
	strcpy(b.ifaces[0].name, "fz0");
	b.ifaces[0].ifindex = 1;
	b.ifaces[0].addr.s_addr = htonl(0x0a000001);
	b.ifaces[0].mask.s_addr = htonl(0xffffff00);
	b.n_ifaces = 1;
	pthread_mutex_init(&b.reg.lock, NULL);
}

/* ---- invariants ---- */

struct snap {
	int present;
	struct in_addr ip;
	enum lease_state state;
	int64_t expires;
};

static void take(struct snap s[NMAC])
{
	memset(s, 0, sizeof(struct snap) * NMAC); /* padding too: compared whole */
	for (int i = 0; i < NMAC; i++) {
		struct bootd_client *c = client_get(&b.st, macs[i], 0);
		s[i].present = c != NULL;
		s[i].ip = c ? c->ip : (struct in_addr){0};
		s[i].state = c ? c->state : LEASE_NONE;
		s[i].expires = c ? c->expires : 0;
	}
}

static int valid(const struct snap *s, int64_t now)
{
	return s->ip.s_addr && (s->state == LEASE_BOUND || s->state == LEASE_OFFERED) &&
	       s->expires > now;
}

static void check(const struct snap before[NMAC], const struct snap after[NMAC], int counts,
                  int64_t now)
{
	if (!counts && memcmp(before, after, sizeof(struct snap) * NMAC))
		abort(); /* a message that does not count changed a lease */
	for (int i = 0; i < NMAC; i++) {
		const struct snap *a = &after[i];
		if (a->ip.s_addr) {
			struct bootd_client *h = client_by_ip(&b.st, a->ip);
			if (!h || memcmp(h->mac, macs[i], 6))
				abort(); /* the address index disagrees */
		}
		/* A valid lease before: nobody else holds its address now. */
		if (valid(&before[i], now - 1))
			for (int j = 0; j < NMAC; j++)
				if (j != i && after[j].ip.s_addr == before[i].ip.s_addr &&
				    (after[j].state == LEASE_BOUND ||
				     after[j].state == LEASE_OFFERED))
					abort(); /* a valid lease moved to another MAC */
		if ((a->state == LEASE_BOUND || a->state == LEASE_OFFERED) &&
		    ((ntohl(a->ip.s_addr) == RES_IN_POOL && i != 1) ||
		     (ntohl(a->ip.s_addr) == RES_OUT_POOL && i != 2)))
			abort(); /* a reservation went to another MAC */
	}
}

/* ---- one message from a record ---- */

static struct in_addr pick_ip(uint8_t sel)
{
	if (!sel)
		return (struct in_addr){0};
	if (sel == 0xff)
		return (struct in_addr){htonl(RES_OUT_POOL)};
	return (struct in_addr){htonl(0x0a000060 + (sel % 32u))}; /* around the pool */
}

static size_t build(uint8_t *pkt, size_t cap, const uint8_t r[8], int *counts, struct dhcp_frame *f)
{
	int type = 1 + r[0] % 8;
	const uint8_t *ch = macs[r[1] % NMAC];
	int honest = r[2] & 0x80;
	const uint8_t *src = honest ? ch : macs[r[2] % NMAC];
	uint8_t fl = r[5];
	struct in_addr gi = {0};
	if (fl & 0x04)
		gi.s_addr = htonl(RELAY);
	else if (fl & 0x08)
		gi.s_addr = htonl(0x0a0000fd);
	struct fb_wr w = fb_wr_init(pkt, cap);
	fb_wr_u8(&w, 1);
	fb_wr_u8(&w, 1);
	fb_wr_u8(&w, 6);
	fb_wr_u8(&w, 0);
	fb_wr_be32(&w, r[6]);
	fb_wr_be16(&w, 0);
	fb_wr_be16(&w, (fl & 0x80) ? FB_DHCP_BROADCAST : 0);
	fb_wr_be32(&w, ntohl(pick_ip(r[3]).s_addr));
	fb_wr_zero(&w, 8);
	fb_wr_be32(&w, ntohl(gi.s_addr));
	fb_wr_bytes(&w, ch, 6);
	fb_wr_zero(&w, 10 + 64 + 128);
	fb_wr_be32(&w, FB_DHCP_COOKIE);
	fb_dhcp_put_u8(&w, FB_OPT_MSGTYPE, (uint8_t)type);
	struct in_addr req = pick_ip(r[4]);
	if (req.s_addr)
		fb_dhcp_put_ip(&w, FB_OPT_REQ_IP, req);
	if (fl & 0x01)
		fb_dhcp_put_ip(&w, FB_OPT_SERVER_ID,
		               (struct in_addr){htonl((fl & 0x02) ? 0x0a000002 : 0x0a000001)});
	if (fl & 0x40) {
		uint8_t a[2] = {0, (uint8_t)(r[7] & 0x0f)};
		fb_dhcp_put(&w, FB_OPT_ARCH, a, 2);
		fb_dhcp_put_str(&w, FB_OPT_VENDOR_CLASS, "PXEClient");
	}
	if (r[7] & 0x80)
		fb_dhcp_put_str(&w, FB_OPT_USER_CLASS, "iPXE");
	int n = fb_dhcp_build_end(&w);
	if (n < 0)
		abort();
	memset(f, 0, sizeof(*f));
	memcpy(f->src_mac, src, 6);
	f->src.sin_family = AF_INET;
	f->src.sin_port = htons(68);
	f->src.sin_addr.s_addr = (fl & 0x10) ? htonl(RELAY) : pick_ip(r[3]).s_addr;
	f->pxe_port = (fl & 0x20) != 0;
	f->data = pkt;
	f->len = (size_t)n;
	int relayed_ok = gi.s_addr == htonl(RELAY) && (fl & 0x10);
	*counts = gi.s_addr ? relayed_ok : !memcmp(src, ch, 6);
	return (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup_once();
	if (state_init(&b.st) < 0)
		abort();
	state_set_cache(&b.st, make_cache());
	memset(&b.reg.window_start, 0,
	       sizeof(b.reg) - offsetof(struct bootd_reg, window_start)); /* fresh caps */
	b.pool_cursor = 0;
	b.pool_full_until = 0;
	for (size_t off = 0; off + 8 <= size && off < 8 * 64; off += 8) {
		uint8_t pkt[600];
		struct dhcp_frame f;
		int counts;
		struct snap before[NMAC], after[NMAC];
		build(pkt, sizeof(pkt), data + off, &counts, &f);
		take(before);
		int64_t now = fb_now();
		dhcp_frame_in(&b, &b.ifaces[0], &f);
		take(after);
		check(before, after, counts, now);
	}
	state_free(&b.st);
	return 0;
}
