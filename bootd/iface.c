/*
 * iface.c - the interfaces bootd serves, their addresses, and neighbour
 * entries, all through libnl-route.
 *
 * Addresses are re-read every few seconds (an address added after start-up
 * is picked up without a restart). A DHCP reply to a client without an
 * address is sent by unicast after putting the client's MAC into the
 * neighbour table (what the kernel's ARP would need), or by broadcast when
 * that is not possible (no CAP_NET_ADMIN after a privilege drop).
 */
#include <errno.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>

#include "bootd.h"
#include "neigh.h"
#include "log.h"

struct addr_pick {
	int ifindex;
	struct in_addr addr, mask;
};

static void pick_addr(struct nl_object *obj, void *arg)
{
	struct addr_pick *p = arg;
	struct rtnl_addr *a = (struct rtnl_addr *)obj;
	if (rtnl_addr_get_ifindex(a) != p->ifindex || rtnl_addr_get_family(a) != AF_INET ||
	    p->addr.s_addr)
		return;
	struct nl_addr *local = rtnl_addr_get_local(a);
	if (!local || nl_addr_get_len(local) != 4)
		return;
	memcpy(&p->addr.s_addr, nl_addr_get_binary_addr(local), 4);
	int plen = rtnl_addr_get_prefixlen(a);
	p->mask.s_addr = plen ? htonl(~0u << (32 - plen)) : 0;
}

int iface_refresh(struct bootd *b)
{
	struct nl_cache *links = NULL, *addrs = NULL;
	int rc = -1;
	if (!b->nl) {
		b->nl = nl_socket_alloc();
		if (!b->nl || nl_connect(b->nl, NETLINK_ROUTE) < 0) {
			log_warnx("cannot open a netlink socket");
			if (b->nl)
				nl_socket_free(b->nl);
			b->nl = NULL;
			return -1;
		}
	}
	if (rtnl_link_alloc_cache(b->nl, AF_UNSPEC, &links) < 0 ||
	    rtnl_addr_alloc_cache(b->nl, &addrs) < 0) {
		log_warnx("cannot read interfaces from netlink");
		goto out;
	}
	for (int i = 0; i < b->n_ifaces; i++) {
		struct bootd_iface *ifc = &b->ifaces[i];
		int idx = rtnl_link_name2i(links, ifc->name);
		struct addr_pick p = {.ifindex = idx};
		if (idx > 0)
			nl_cache_foreach(addrs, pick_addr, &p);
		if (idx != ifc->ifindex || p.addr.s_addr != ifc->addr.s_addr) {
			char a[FB_IP_LEN];
			if (idx <= 0)
				log_warnx("interface %s does not exist (yet)", ifc->name);
			else if (!p.addr.s_addr)
				log_warnx("interface %s has no IPv4 address", ifc->name);
			else
				log_info("interface %s (index %d) address %s", ifc->name, idx,
				         ip4_format(p.addr, a));
		}
		ifc->ifindex = idx > 0 ? idx : 0;
		ifc->addr = p.addr;
		ifc->mask = p.mask;
	}
	rc = 0;
out:
	if (links)
		nl_cache_free(links);
	if (addrs)
		nl_cache_free(addrs);
	return rc;
}

struct bootd_iface *iface_by_index(struct bootd *b, int ifindex)
{
	for (int i = 0; i < b->n_ifaces; i++)
		if (b->ifaces[i].ifindex == ifindex && ifindex > 0)
			return &b->ifaces[i];
	return NULL;
}

struct in_addr iface_server_addr(struct bootd *b, const struct bootd_iface *ifc)
{
	struct in_addr a = {0};
	if (b->cfg.server_address[0] && ip4_parse(b->cfg.server_address, &a) == 0)
		return a;
	return ifc ? ifc->addr : a;
}

int neigh_add(struct bootd *b, int ifindex, struct in_addr ip, const uint8_t mac[6])
{
	if (!b->nl)
		return -1;
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = nl_addr_build(AF_INET, &ip.s_addr, 4);
	struct nl_addr *ll = nl_addr_build(AF_UNSPEC, mac, 6);
	int rc = -1;
	if (n && dst && ll) {
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_lladdr(n, ll);
		rtnl_neigh_set_state(n, NUD_REACHABLE);
		rc = rtnl_neigh_add(b->nl, n, NLM_F_CREATE | NLM_F_REPLACE) < 0 ? -1 : 0;
	}
	if (ll)
		nl_addr_put(ll);
	if (dst)
		nl_addr_put(dst);
	if (n)
		rtnl_neigh_put(n);
	return rc;
}

/* The neighbour table lookup itself is shared with storaged (lib/neigh.c). */
int neigh_lookup(struct in_addr ip, uint8_t mac[6])
{
	return fb_neigh_lookup(ip, mac);
}
