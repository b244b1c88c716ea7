/*
 * dhcp.c - bootd's DHCPv4 server: authoritative (addresses from the pool,
 * reservations, relays) and proxy (boot information only, beside another
 * DHCP server), on port 67 and on the PXE port 4011.
 *
 * Everything here runs from memory on the event loop; the database sees
 * leases and boot events later, through the writer thread. The sockets are
 * dhcp_io.c's: it hands over each frame with the interface it came in on
 * and its Ethernet source address, and sends the replies built here (so a
 * fuzzer can drive this whole state machine with frames).
 *
 * Identity is the frame's source MAC, never an address: a message that did
 * not come through a configured relay counts only when its chaddr is the
 * MAC that sent the frame (an ordinary user on a client can send any DHCP
 * payload from a UDP port, but not frames with another source address).
 * RELEASE, DECLINE and REQUEST then act only on the sender's own lease, a
 * valid lease never moves to another MAC, and a reservation is its
 * machine's alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootd.h"
#include "clock.h"
#include "log.h"
#include "logsafe.h"
#include "proto/dhcp.h"

#define OFFER_HOLD_S   60  /* an offered address is kept for this long */
#define DECLINE_HOLD_S 600 /* a declined address is not offered again for this long */
#define NEWBOOT_GAP_MS 60000
#define MAX_DECLINED                                                                               \
	1024 /* declined addresses remembered at once */ /* an iPXE DHCP this long after the last  \
	                                                    one is a new boot */

struct dhcp_in {
	struct bootd *b;
	struct bootd_iface *ifc;
	struct fb_dhcp_msg m;
	struct sockaddr_in src;
	int from_pxe_port;
	struct in_addr sid;    /* our server identifier on this interface */
	struct in_addr server; /* next-server / URL host */

	/* Worked out by dhcp() for the per-type functions. */
	int64_t now;                      /* unix time the request is handled at */
	char macid[FB_MACID_LEN];         /* the client's MAC as a machine id */
	int arch;                         /* client architecture (option 93); -1 = none */
	int ipxe;                         /* the client is iPXE */
	int pxe;                          /* a PXE, UEFI HTTP Boot or iPXE client */
	const struct bootd_machine *mach; /* the machine; NULL = unknown */
	enum boot_kind bk;                /* what it boots; BOOT_NONE = no boot information */
	char file[160];                   /* boot file name or URL for bk */
	struct in_addr req;               /* requested address (option 50); 0 = none */
};

/* Bad packets are logged at most once a second (then at debug level), so
 * a flood of garbage cannot flood the log. */
static void warn_limited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void warn_limited(const char *fmt, ...)
{
	static uint64_t last;
	char msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	uint64_t now = fb_mono_ms();
	if (now - last >= 1000) {
		last = now;
		log_warnx("%s", msg);
	} else {
		log_debug("%s", msg);
	}
}

/* ---- addresses --------------------------------------------------------- */

static int in_pool(const struct bootd *b, struct in_addr ip)
{
	uint32_t h = ntohl(ip.s_addr);
	return b->cfg.pool_first && h >= b->cfg.pool_first && h <= b->cfg.pool_last;
}

static int declined(struct bootd *b, struct in_addr ip, int64_t now)
{
	for (size_t i = 0; i < b->st.n_declined; i++)
		if (b->st.declined[i].ip.s_addr == ip.s_addr && b->st.declined[i].until > now)
			return 1;
	return 0;
}

static int is_ours(struct bootd *b, struct in_addr ip)
{
	for (int i = 0; i < b->n_ifaces; i++)
		if (b->ifaces[i].addr.s_addr == ip.s_addr)
			return 1;
	return ip.s_addr == b->cfg.router.s_addr || ip.s_addr == b->cfg.dns.s_addr;
}

/* May cl (with machine m, NULL when unknown) have ip? */
static int addr_usable(struct bootd *b, struct bootd_client *cl, struct in_addr ip, int64_t now)
{
	struct bootd_client *other = client_by_ip(&b->st, ip);
	if (other && other != cl && other->expires > now &&
	    (other->state == LEASE_BOUND || other->state == LEASE_OFFERED))
		return 0;
	const struct bootd_machine *owner = cache_machine_by_ip(b->st.cache, ip);
	if (owner && memcmp(owner->mac, cl->mac, 6))
		return 0;
	return !declined(b, ip, now) && !is_ours(b, ip);
}

/* Is this a lease nobody may take: bound or offered, and not expired? */
static int lease_valid(const struct bootd_client *c, int64_t now)
{
	return (c->state == LEASE_BOUND || c->state == LEASE_OFFERED) && c->expires > now;
}

/* Give ip to cl. A valid lease of another MAC on ip is never taken
 * away: -1 (logged) and nothing changes. */
static int assign(struct bootd *b, struct bootd_client *cl, struct in_addr ip, int64_t now)
{
	struct bootd_client *other = client_by_ip(&b->st, ip);
	if (other && other != cl) {
		if (lease_valid(other, now)) {
			char a[FB_IP_LEN], m1[FB_MACID_LEN], m2[FB_MACID_LEN];
			warn_limited("%s may not have %s: %s holds a valid lease of it",
			             mac_format(cl->mac, m1), ip4_format(ip, a),
			             mac_format(other->mac, m2));
			return -1;
		}
		client_set_ip(&b->st, other, (struct in_addr){0});
		other->state = LEASE_NONE;
	}
	client_set_ip(&b->st, cl, ip);
	return 0;
}

/* The address to offer: reservation, current lease, requested, next free. */
static int choose_addr(struct bootd *b, struct bootd_client *cl, const struct bootd_machine *m,
                       struct in_addr req, struct in_addr *out, int64_t now)
{
	if (m && m->ip.s_addr) {
		*out = m->ip;
		return 0;
	}
	if (cl->ip.s_addr && in_pool(b, cl->ip) && addr_usable(b, cl, cl->ip, now)) {
		*out = cl->ip;
		return 0;
	}
	if (req.s_addr && in_pool(b, req) && addr_usable(b, cl, req, now)) {
		*out = req;
		return 0;
	}
	if (!b->cfg.pool_first || now < b->pool_full_until)
		return -1;
	uint64_t n = (uint64_t)b->cfg.pool_last - b->cfg.pool_first + 1;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t k = (b->pool_cursor + i) % n;
		struct in_addr ip = {htonl(b->cfg.pool_first + (uint32_t)k)};
		if (addr_usable(b, cl, ip, now)) {
			b->pool_cursor = k + 1;
			*out = ip;
			return 0;
		}
	}
	/* Exhausted: a full scan per DISCOVER would let a flood of new MACs
	 * eat the loop, so do not scan again for a second (leases expiring
	 * meanwhile are found on the next scan). */
	b->pool_full_until = now + 1;
	return -1;
}

/* ---- replies ----------------------------------------------------------- */

static void send_reply(struct dhcp_in *in, const uint8_t *pkt, size_t len, int type,
                       struct in_addr yiaddr)
{
	struct bootd *b = in->b;
	const struct fb_dhcp_msg *q = &in->m;
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(68)};
	int ifindex = in->ifc->ifindex;
	if (in->from_pxe_port) {
		dst = in->src; /* PXE port: back where it came from */
		ifindex = 0;
	} else if (q->giaddr.s_addr) {
		dst.sin_addr = q->giaddr;
		dst.sin_port = htons(67);
		ifindex = 0;
	} else if (type == FB_DHCPNAK) {
		dst.sin_addr.s_addr = INADDR_BROADCAST;
	} else if (q->ciaddr.s_addr) {
		dst.sin_addr = q->ciaddr;
		ifindex = 0;
	} else if ((q->flags & FB_DHCP_BROADCAST) || !yiaddr.s_addr) {
		dst.sin_addr.s_addr = INADDR_BROADCAST;
	} else if (neigh_add(b, in->ifc->ifindex, yiaddr, q->chaddr) == 0) {
		dst.sin_addr = yiaddr;
	} else {
		dst.sin_addr.s_addr = INADDR_BROADCAST;
	}

	if (dhcp_send(b, in->from_pxe_port, pkt, len, &dst, ifindex, in->ifc->addr) < 0) {
		char a[FB_IP_LEN];
		warn_limited("cannot send a reply to %s: %s", ip4_format(dst.sin_addr, a),
		             strerror(errno));
		return;
	}
	if (log_verbose()) {
		char a[FB_IP_LEN], y[FB_IP_LEN], mac[FB_MACID_LEN];
		log_debug("%s %s to %s yiaddr %s via %s", fb_dhcp_type_name(type),
		          mac_format(q->chaddr, mac), ip4_format(dst.sin_addr, a),
		          ip4_format(yiaddr, y), in->ifc->name);
	}
}

/* Build and send OFFER/ACK/NAK. yiaddr 0: no address (proxy, INFORM). */
static void reply(struct dhcp_in *in, int type, struct in_addr yiaddr, enum boot_kind bk,
                  const char *file, int with_lease)
{
	struct bootd *b = in->b;
	const struct fb_dhcp_msg *q = &in->m;
	uint8_t pkt[1024];
	struct fb_wr w = fb_wr_init(pkt, sizeof(pkt));
	struct fb_dhcp_reply r = {.req = q, .type = (uint8_t)type, .yiaddr = yiaddr};
	if (type != FB_DHCPNAK && bk != BOOT_NONE) {
		r.siaddr = in->server;
		r.file = file;
	}
	if (fb_dhcp_build_start(&w, &r) < 0) {
		log_warnx("boot file name too long: %s", file ? file : "");
		return;
	}
	fb_dhcp_put_ip(&w, FB_OPT_SERVER_ID, in->sid);
	if (type == FB_DHCPNAK) {
		fb_dhcp_put_str(&w, FB_OPT_MESSAGE, "address not valid here");
	} else {
		if (with_lease) {
			uint32_t lt = b->cfg.lease_time;
			fb_dhcp_put_u32(&w, FB_OPT_LEASE, lt);
			fb_dhcp_put_u32(&w, FB_OPT_T1, lt / 2);
			fb_dhcp_put_u32(&w, FB_OPT_T2, (uint32_t)((uint64_t)lt * 7 / 8));
		}
		if (b->cfg.dhcp == FB_DHCP_AUTHORITATIVE && !in->from_pxe_port) {
			fb_dhcp_put_ip(&w, FB_OPT_SUBNET, b->cfg.netmask);
			if (b->cfg.router.s_addr)
				fb_dhcp_put_ip(&w, FB_OPT_ROUTER, b->cfg.router);
			if (b->cfg.dns.s_addr)
				fb_dhcp_put_ip(&w, FB_OPT_DNS, b->cfg.dns);
		}
		if (bk != BOOT_NONE) {
			int proxy = b->cfg.dhcp != FB_DHCP_AUTHORITATIVE || in->from_pxe_port;
			if (fb_dhcp_vendor_is(q, "HTTPClient")) {
				/* UEFI HTTP Boot accepts only an echo of HTTPClient. */
				fb_dhcp_put_str(&w, FB_OPT_VENDOR_CLASS, "HTTPClient");
			} else if (proxy) {
				fb_dhcp_put_str(&w, FB_OPT_VENDOR_CLASS, "PXEClient");
				/* PXE discovery control: boot from the file given. */
				const uint8_t pxe[] = {6, 1, 8, 255};
				fb_dhcp_put(&w, FB_OPT_VENDOR, pxe, sizeof(pxe));
			}
			size_t gl;
			const uint8_t *guid = fb_dhcp_opt(q, FB_OPT_UUID, &gl);
			if (guid && proxy)
				fb_dhcp_put(&w, FB_OPT_UUID, guid, gl);
		}
	}
	/* RFC 3046: a relay's agent information goes back to it unchanged. */
	size_t rl;
	const uint8_t *rai = fb_dhcp_opt(q, 82, &rl);
	if (rai && q->giaddr.s_addr)
		fb_dhcp_put(&w, 82, rai, rl);
	int n = fb_dhcp_build_end(&w);
	if (n < 0) {
		log_warnx("reply does not fit in %zu bytes", sizeof(pkt));
		return;
	}
	send_reply(in, pkt, (size_t)n, type, yiaddr);
}

/* ---- policy: machines, events ------------------------------------------ */

/* Record the DHCP boot event for PXE firmware and iPXE (not the OS). */
static void dhcp_event(struct dhcp_in *in, struct bootd_client *cl, int arch, int ipxe)
{
	struct bootd *b = in->b;
	uint64_t now = fb_loop_now(b->loop);
	int newboot = 0;
	/* iPXE in the NIC ROM: its DHCP starts a boot when the previous boot
	 * already got its script (a reboot), or after a long quiet gap. The
	 * firmware's own PXE DHCP (ipxe=0) always starts one. */
	if (ipxe && cl &&
	    (!cl->last_pxe_ms || cl->script_served || now - cl->last_pxe_ms > NEWBOOT_GAP_MS))
		newboot = 1;
	if (cl) {
		cl->last_pxe_ms = now;
		if (newboot || !ipxe)
			cl->script_served = 0;
	}
	char mac[FB_MACID_LEN], detail[160];
	mac_format(in->m.chaddr, mac);
	snprintf(detail, sizeof(detail), "arch=%d ipxe=%d%s iface=%s", arch, ipxe,
	         newboot ? " newboot=1" : "", in->ifc->name);
	writer_event(b->wr, mac, "dhcp", detail);
}

/* ---- one function per message type (authoritative mode) ---------------- */

/* DISCOVER: offer the client an address (its lease, its reservation or a
 * free one from the pool), held for a while so no one else gets it. */
static void dhcpdiscover(struct dhcp_in *in, struct bootd_client *cl)
{
	struct bootd *b = in->b;
	struct in_addr ip;
	if (in->pxe)
		dhcp_event(in, cl, in->arch, in->ipxe);
	if (choose_addr(b, cl, in->mach, in->req, &ip, in->now) < 0) {
		warn_limited("no free address for %s", in->macid);
		return;
	}
	if (!(cl->ip.s_addr == ip.s_addr && cl->state == LEASE_BOUND && cl->expires > in->now)) {
		if (assign(b, cl, ip, in->now) < 0)
			return; /* a reservation another MAC still holds a lease of */
		cl->state = LEASE_OFFERED;
		cl->expires = in->now + OFFER_HOLD_S;
	}
	reply(in, FB_DHCPOFFER, ip, in->bk, in->file, 1);
}

/* REQUEST: selecting our offer, or renewing or rebooting with an address;
 * bind it when it is the client's to have, NAK it when it is not. */
static void dhcprequest(struct dhcp_in *in, struct bootd_client *cl)
{
	struct bootd *b = in->b;
	const struct fb_dhcp_msg *m = &in->m;
	struct in_addr want = in->req.s_addr ? in->req : m->ciaddr, sid = {0};
	if (fb_dhcp_opt_ip(m, FB_OPT_SERVER_ID, &sid) == 0 && sid.s_addr != in->sid.s_addr) {
		/* The client took another server's offer. */
		if (cl->state == LEASE_OFFERED) {
			client_set_ip(&b->st, cl, (struct in_addr){0});
			cl->state = LEASE_NONE;
		}
		return;
	}
	if (!want.s_addr)
		return;
	int ok;
	if (m->ciaddr.s_addr && (cl->ip.s_addr != m->ciaddr.s_addr || cl->state != LEASE_BOUND)) {
		/* Renewing or rebinding (ciaddr set): only the address this
		 * MAC holds a lease of can be renewed. */
		char a[FB_IP_LEN];
		warn_limited("%s asked to renew %s, which is not its lease: NAK", in->macid,
		             ip4_format(m->ciaddr, a));
		ok = 0;
	} else if (in->mach && in->mach->ip.s_addr) {
		ok = want.s_addr == in->mach->ip.s_addr;
	} else {
		ok = in_pool(b, want) && addr_usable(b, cl, want, in->now);
	}
	if (!ok || assign(b, cl, want, in->now) < 0) {
		/* Authoritative: a wrong address for this network, or one
		 * somebody else holds, gets a NAK so the client restarts. */
		reply(in, FB_DHCPNAK, (struct in_addr){0}, BOOT_NONE, NULL, 0);
		return;
	}
	cl->state = LEASE_BOUND;
	cl->expires = in->now + b->cfg.lease_time;
	if (fb_dhcp_opt_str(m, FB_OPT_HOSTNAME, cl->hostname, sizeof(cl->hostname)) < 0)
		cl->hostname[0] = 0;
	writer_lease(b->wr, cl);
	reply(in, FB_DHCPACK, want, in->bk, in->file, 1);
}

/* RELEASE: the client gives its bound address back. */
static void dhcprelease(struct dhcp_in *in, struct bootd_client *cl)
{
	if (cl->ip.s_addr && cl->ip.s_addr == in->m.ciaddr.s_addr && cl->state == LEASE_BOUND) {
		cl->state = LEASE_RELEASED;
		cl->expires = in->now;
		writer_lease(in->b->wr, cl);
	}
}

/* DECLINE: the client found its address in use; nobody gets that address
 * for a while. */
static void dhcpdecline(struct dhcp_in *in, struct bootd_client *cl)
{
	struct bootd *b = in->b;
	struct in_addr req = in->req;
	if (!req.s_addr || cl->ip.s_addr != req.s_addr)
		return;
	/* Bounded: one client declining address after address cannot grow
	 * the list without end (it still gets a new address each time). */
	void *p = b->st.n_declined < MAX_DECLINED
	              ? realloc(b->st.declined, (b->st.n_declined + 1) * sizeof(*b->st.declined))
	              : NULL;
	if (p) {
		b->st.declined = p;
		b->st.declined[b->st.n_declined].ip = req;
		b->st.declined[b->st.n_declined].until = in->now + DECLINE_HOLD_S;
		b->st.n_declined++;
	}
	cl->state = LEASE_DECLINED;
	writer_lease(b->wr, cl);
	client_set_ip(&b->st, cl, (struct in_addr){0});
	cl->state = LEASE_NONE;
	char a[FB_IP_LEN];
	log_warnx("%s declined %s (in use by someone else?)", in->macid, ip4_format(req, a));
}

/* INFORM: a client with an address of its own asks for the rest. */
static void dhcpinform(struct dhcp_in *in)
{
	if (in->m.ciaddr.s_addr)
		reply(in, FB_DHCPACK, (struct in_addr){0}, in->bk, in->file, 0);
}

/* ---- dispatch ----------------------------------------------------------- */

/* Whether a PXE client may get boot information. An unknown one is
 * registered (on DISCOVER) or ignored, as unknown_machines says. */
static int unknown_may_boot(struct dhcp_in *in)
{
	struct bootd *b = in->b;
	switch (b->cfg.unknown_machines) {
	case FB_UNKNOWN_IGNORE:
		return 0;
	case FB_UNKNOWN_REGISTER:
		if (in->m.type == FB_DHCPDISCOVER)
			return register_unknown(b, in->m.chaddr, "", in->now);
		break;
	case FB_UNKNOWN_BOOT:
		if (in->m.type == FB_DHCPDISCOVER)
			return register_unknown(b, in->m.chaddr, b->cfg.unknown_image, in->now);
		break;
	}
	return 1;
}

/* A Secure Boot machine: its version's signed UKI, or nothing (logged,
 * and recorded as an event once per DISCOVER). */
static enum boot_kind secure_boot_file(struct dhcp_in *in)
{
	struct bootd *b = in->b;
	char name[FB_NAME_LEN], esc[FB_LOG_ESCAPE_LEN];
	int version = 0;
	const struct bootd_image *img = NULL;
	if (fb_image_ref_parse(in->mach->image, name, &version) == 0)
		img = cache_image(b->st.cache, name, version);
	if (img && !img->ready && !version)
		img = NULL;
	const char *why;
	enum boot_kind bk = dhcp_secure_boot_file(&in->m, img, in->server, b->cfg.http_port,
	                                          in->file, sizeof(in->file), &why);
	if (bk != BOOT_NONE)
		return bk;
	in->file[0] = '\0';
	warn_limited("no boot offer to %s (Secure Boot, image %s): %s", in->macid,
	             fb_log_escape(in->mach->image[0] ? in->mach->image : "none", esc, sizeof(esc)),
	             why);
	if (in->m.type == FB_DHCPDISCOVER) {
		char detail[300];
		snprintf(detail, sizeof(detail), "no boot offer: %s", why);
		writer_event(b->wr, in->macid, "secureboot-refused", detail);
	}
	return BOOT_NONE;
}

/* One request: work out who the client is and what it may boot, then
 * answer as the port and the mode say, one function per message type. */
static void dhcp(struct dhcp_in *in)
{
	struct bootd *b = in->b;
	struct fb_dhcp_msg *m = &in->m;
	in->now = fb_now();
	mac_format(m->chaddr, in->macid);
	in->arch = fb_dhcp_client_arch(m);
	in->ipxe = fb_dhcp_is_ipxe(m);
	in->pxe = in->ipxe || in->arch >= 0 || fb_dhcp_vendor_is(m, "PXEClient") ||
	          fb_dhcp_vendor_is(m, "HTTPClient");
	in->mach = cache_machine(b->st.cache, m->chaddr);
	int may_boot = in->pxe && (in->mach || unknown_may_boot(in));
	in->file[0] = '\0';
	int fallback = 0;
	if (may_boot && in->mach && in->mach->secure_boot)
		in->bk = secure_boot_file(in);
	else
		in->bk = may_boot ? dhcp_boot_file(m, in->server, b->cfg.http_port,
		                                   in->mach && in->mach->pxelinux, in->file,
		                                   sizeof(in->file), &fallback)
		                  : BOOT_NONE;
	if (fallback && m->type == FB_DHCPDISCOVER)
		log_info("%s is set to PXELINUX but is a UEFI client (arch %d): PXELINUX here "
		         "is BIOS only, so it gets iPXE (%s)",
		         in->macid, in->arch, in->file);

	/* The PXE port: boot information for a REQUEST, in either mode. */
	if (in->from_pxe_port) {
		if ((m->type == FB_DHCPREQUEST || m->type == FB_DHCPINFORM) && in->bk != BOOT_NONE)
			reply(in, FB_DHCPACK, (struct in_addr){0}, in->bk, in->file, 0);
		return;
	}

	if (b->cfg.dhcp == FB_DHCP_PROXY) {
		if (m->type != FB_DHCPDISCOVER || in->bk == BOOT_NONE)
			return; /* the other server does the rest */
		struct bootd_client *cl = client_get(&b->st, m->chaddr, 1);
		dhcp_event(in, cl, in->arch, in->ipxe);
		reply(in, FB_DHCPOFFER, (struct in_addr){0}, in->bk, in->file, 0);
		return;
	}

	/* Authoritative. */
	in->req.s_addr = 0;
	fb_dhcp_opt_ip(m, FB_OPT_REQ_IP, &in->req);
	struct bootd_client *cl = client_get(&b->st, m->chaddr, 1);
	if (!cl)
		return;
	switch (m->type) {
	case FB_DHCPDISCOVER:
		dhcpdiscover(in, cl);
		break;
	case FB_DHCPREQUEST:
		dhcprequest(in, cl);
		break;
	case FB_DHCPRELEASE:
		dhcprelease(in, cl);
		break;
	case FB_DHCPDECLINE:
		dhcpdecline(in, cl);
		break;
	case FB_DHCPINFORM:
		dhcpinform(in);
		break;
	default:
		break;
	}
}

void dhcp_prune(struct bootd *b, int64_t now)
{
	size_t j = 0;
	for (size_t i = 0; i < b->st.n_declined; i++)
		if (b->st.declined[i].until > now)
			b->st.declined[j++] = b->st.declined[i];
	b->st.n_declined = j;
}

static int is_relay(const struct bootd *b, struct in_addr a)
{
	for (int i = 0; i < b->cfg.n_relays; i++)
		if (b->cfg.relays[i].s_addr == a.s_addr)
			return 1;
	return 0;
}

/* Does this message count? Relayed (giaddr set): only from a configured
 * relay, sent by a relay's address (a relay may send from another of its
 * addresses than giaddr; list both). Direct: only when the frame's source
 * MAC is the chaddr, so a client speaks for itself alone. */
static int sender_ok(struct dhcp_in *in, const struct dhcp_frame *f)
{
	struct bootd *b = in->b;
	const struct fb_dhcp_msg *m = &in->m;
	char a[FB_IP_LEN], g[FB_IP_LEN], c[FB_MACID_LEN], s[FB_MACID_LEN];
	if (m->giaddr.s_addr) {
		if (!is_relay(b, m->giaddr)) {
			b->dropped_relay++;
			warn_limited(
			    "dropped a relayed %s for %s from %s: giaddr %s is not in [bootd] "
			    "relays",
			    fb_dhcp_type_name(m->type), mac_format(m->chaddr, c),
			    ip4_format(f->src.sin_addr, a), ip4_format(m->giaddr, g));
			return 0;
		}
		if (!is_relay(b, f->src.sin_addr)) {
			b->dropped_relay++;
			warn_limited(
			    "dropped a relayed %s for %s from %s: giaddr %s is a relay, but "
			    "the sender is not",
			    fb_dhcp_type_name(m->type), mac_format(m->chaddr, c),
			    ip4_format(f->src.sin_addr, a), ip4_format(m->giaddr, g));
			return 0;
		}
		return 1;
	}
	if (memcmp(f->src_mac, m->chaddr, 6)) {
		b->dropped_spoofed++;
		warn_limited("dropped a %s from %s (%s): chaddr %s is not the frame's source MAC "
		             "(%llu such)",
		             fb_dhcp_type_name(m->type), ip4_format(f->src.sin_addr, a),
		             mac_format(f->src_mac, s), mac_format(m->chaddr, c),
		             (unsigned long long)b->dropped_spoofed);
		return 0;
	}
	return 1;
}

void dhcp_frame_in(struct bootd *b, struct bootd_iface *ifc, const struct dhcp_frame *f)
{
	static struct dhcp_in in; /* large (option table); the loop is single-threaded */
	char a[FB_IP_LEN];
	in.b = b;
	in.from_pxe_port = f->pxe_port;
	in.src = f->src;
	in.ifc = ifc;
	const char *why;
	if (fb_dhcp_parse(&in.m, f->data, f->len, &why) < 0) {
		warn_limited("malformed DHCP packet from %s: %s", ip4_format(f->src.sin_addr, a),
		             why);
		return;
	}
	if (in.m.op != 1 || !fb_dhcp_has_ether(&in.m) || !in.m.type)
		return; /* replies, non-Ethernet and plain BOOTP are not ours */
	if (!sender_ok(&in, f))
		return;
	in.sid = ifc->addr;
	in.server = iface_server_addr(b, ifc);
	__atomic_fetch_add(&b->stats_dhcp, 1, __ATOMIC_RELAXED);
	pthread_rwlock_wrlock(&b->st.lock);
	if (b->st.n_declined)
		dhcp_prune(b, fb_now());
	dhcp(&in);
	pthread_rwlock_unlock(&b->st.lock);
}
