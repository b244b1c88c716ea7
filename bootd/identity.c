/*
 * identity.c - is the requester the machine it says it is?
 *
 * Shared by HTTP (scripts, credentials, stage reports) and TFTP (PXELINUX
 * configs): an address alone is no identity, since any user can make a
 * connection from an address and root on a client can set any address on
 * it. The requester must hold the machine's lease or reservation (when
 * bootd leases the addresses) AND the kernel's neighbour table must map
 * its address to the machine's MAC when the answer is made. In proxy mode
 * another server leases the addresses, so the neighbour entry is all there
 * is; a neighbour entry that changes its MAC within a boot is logged and
 * recorded as takeover-suspected.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bootd.h"
#include "clock.h"
#include "log.h"

/* ---- who is asking -------------------------------------------------- */

#define WATCH_SLOTS 1024 /* addresses remembered for takeover detection */
#define WATCH_S     600  /* a neighbour MAC that changes within this is suspect */

/* The MAC each address was last seen with: an address whose neighbour MAC
 * changes between two requests of one boot is a takeover (a forged ARP
 * entry, or a spoofed MAC), or at best a reassigned address. */
static struct {
	pthread_mutex_t lock;
	struct watch {
		struct in_addr ip;
		uint8_t mac[6];
		int64_t seen;
	} slot[WATCH_SLOTS];
} watch = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void watch_neigh(struct bootd *b, struct in_addr ip, const uint8_t mac[6])
{
	int64_t now = fb_now();
	uint8_t was[6];
	int changed = 0;
	size_t h = (size_t)((ntohl(ip.s_addr) * 2654435761u) % WATCH_SLOTS);
	pthread_mutex_lock(&watch.lock);
	struct watch *w = &watch.slot[h];
	if (w->ip.s_addr == ip.s_addr && now - w->seen < WATCH_S && memcmp(w->mac, mac, 6)) {
		changed = 1;
		memcpy(was, w->mac, 6);
	}
	w->ip = ip;
	memcpy(w->mac, mac, 6);
	w->seen = now;
	pthread_mutex_unlock(&watch.lock);
	if (!changed)
		return;
	char a[FB_IP_LEN], m_was[FB_MACID_LEN], m_now[FB_MACID_LEN], detail[120];
	ip4_format(ip, a);
	mac_format(was, m_was);
	mac_format(mac, m_now);
	log_warnx("takeover suspected: %s was %s, now the neighbour table says %s", a, m_was,
	          m_now);
	snprintf(detail, sizeof(detail), "address %s moved from %s to %s", a, m_was, m_now);
	pthread_rwlock_rdlock(&b->st.lock);
	int known_was = cache_machine(b->st.cache, was) != NULL;
	int known_now = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (known_now)
		writer_event(b->wr, m_now, "takeover-suspected", detail);
	if (known_was)
		writer_event(b->wr, m_was, "takeover-suspected", detail);
}

/* The MAC the neighbour table gives for ip now (and the watch told). */
static int neigh_now(struct bootd *b, struct in_addr ip, uint8_t mac[6])
{
	if (!ip.s_addr || neigh_lookup(ip, mac) < 0)
		return -1;
	watch_neigh(b, ip, mac);
	return 0;
}

/* Is the requester at ip the machine want? The neighbour table must map
 * ip to want, and (bootd leasing the addresses) ip must hold want's lease
 * or reservation. 1, or 0 with the reason in why. */
int ident_requester_is(struct bootd *b, struct in_addr ip, const uint8_t want[6], const char **why)
{
	uint8_t mac[6];
	if (neigh_now(b, ip, mac) < 0) {
		*why = "no neighbour entry for the address";
		return 0;
	}
	if (memcmp(mac, want, 6)) {
		*why = "the neighbour table maps the address to another MAC";
		return 0;
	}
	if (b->cfg.dhcp == FB_DHCP_AUTHORITATIVE && !state_ip_held_by(&b->st, ip, want)) {
		*why = "the address holds neither the machine's lease nor its reservation";
		return 0;
	}
	return 1;
}

/* Which machine is this requester (for boot events)? Both tests above. */
int ident_requester_mac(struct bootd *b, struct in_addr ip, uint8_t mac[6])
{
	if (neigh_now(b, ip, mac) < 0)
		return -1;
	if (b->cfg.dhcp == FB_DHCP_AUTHORITATIVE && !state_ip_held_by(&b->st, ip, mac))
		return -1;
	return 0;
}
