/* neigh.c - see neigh.h. */
#include "neigh.h"

#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>
#include <string.h>
#include <sys/socket.h>

struct neigh_find {
	struct in_addr ip;
	uint8_t mac[6];
	int found;
};

static void find_neigh(struct nl_object *obj, void *arg)
{
	struct neigh_find *f = arg;
	struct rtnl_neigh *n = (struct rtnl_neigh *)obj;
	if (f->found || rtnl_neigh_get_family(n) != AF_INET)
		return;
	int st = rtnl_neigh_get_state(n);
	if (st & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP))
		return;
	struct nl_addr *dst = rtnl_neigh_get_dst(n), *ll = rtnl_neigh_get_lladdr(n);
	if (!dst || !ll || nl_addr_get_len(dst) != 4 || nl_addr_get_len(ll) != 6)
		return;
	if (memcmp(nl_addr_get_binary_addr(dst), &f->ip.s_addr, 4))
		return;
	memcpy(f->mac, nl_addr_get_binary_addr(ll), 6);
	f->found = 1;
}

int fb_neigh_lookup(struct in_addr ip, uint8_t mac[6])
{
	struct nl_sock *s = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct neigh_find f = {.ip = ip};
	if (!s)
		return -1;
	if (nl_connect(s, NETLINK_ROUTE) == 0 && rtnl_neigh_alloc_cache(s, &cache) == 0) {
		nl_cache_foreach(cache, find_neigh, &f);
		nl_cache_free(cache);
	}
	nl_socket_free(s);
	if (!f.found)
		return -1;
	memcpy(mac, f.mac, 6);
	return 0;
}
