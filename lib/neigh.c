/* neigh.c - see neigh.h. */
#include "neigh.h"

#include <linux/neighbour.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---- the fast path: two netlink requests, no dump ----
 *
 * A dump of the whole table costs as much as the table is long, and a
 * server for N machines holds N entries: at a boot storm every request of
 * every machine dumped them all (O(N) each, O(N^2) for the storm). The
 * kernel answers a single entry instead (RTM_GETNEIGH for one address on
 * one device, Linux 5.0 on); the device is the one the route to the
 * address goes out of (RTM_GETROUTE), which is where the entry a reply
 * uses lives. */

struct nl_req {
	struct nlmsghdr n;
	union {
		struct rtmsg r;
		struct ndmsg nd;
	} u;
	char attrs[16];
};

/* Send req (its header's length set) and read its one answer into buf.
 * The answer's payload length, or -1. */
static int nl_ask(int fd, struct nl_req *req, uint16_t type, char *buf, size_t cap,
                  struct nlmsghdr **out)
{
	static _Atomic unsigned seq;
	req->n.nlmsg_type = type;
	req->n.nlmsg_flags = NLM_F_REQUEST;
	req->n.nlmsg_seq = ++seq;
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	if (sendto(fd, req, req->n.nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)) < 0)
		return -1;
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != req->n.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE)
				return -1;
			*out = h;
			return 0;
		}
	}
}

static void nl_put_attr(struct nl_req *req, uint16_t type, const void *data, uint16_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->n.nlmsg_len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	req->n.nlmsg_len = NLMSG_ALIGN(req->n.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

int fb_neigh_get_one(struct in_addr ip, uint8_t mac[6])
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), rc = -1, oif = 0;
	if (fd < 0)
		return -1;
	struct timeval tv = {.tv_sec = 1};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	union {
		char b[8192];
		struct nlmsghdr align;
	} buf;
	struct nlmsghdr *h;
	struct nl_req req;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.u.r.rtm_family = AF_INET;
	req.u.r.rtm_dst_len = 32;
	nl_put_attr(&req, RTA_DST, &ip.s_addr, 4);
	if (nl_ask(fd, &req, RTM_GETROUTE, buf.b, sizeof(buf.b), &h) < 0 ||
	    h->nlmsg_type != RTM_NEWROUTE)
		goto out;
	struct rtmsg *r = NLMSG_DATA(h);
	int len = (int)RTM_PAYLOAD(h);
	for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(&oif, RTA_DATA(a), sizeof(int));
	if (oif <= 0)
		goto out;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req.u.nd.ndm_family = AF_INET;
	req.u.nd.ndm_ifindex = oif;
	nl_put_attr(&req, NDA_DST, &ip.s_addr, 4);
	if (nl_ask(fd, &req, RTM_GETNEIGH, buf.b, sizeof(buf.b), &h) < 0 ||
	    h->nlmsg_type != RTM_NEWNEIGH)
		goto out;
	struct ndmsg *nd = NLMSG_DATA(h);
	if (nd->ndm_family != AF_INET ||
	    (nd->ndm_state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP)))
		goto out;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	int dst_ok = 0, ll_ok = 0;
	for (struct rtattr *a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 4)
			dst_ok = !memcmp(RTA_DATA(a), &ip.s_addr, 4);
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
			memcpy(mac, RTA_DATA(a), 6);
			ll_ok = 1;
		}
	}
	rc = dst_ok && ll_ok ? 0 : -1;
out:
	close(fd);
	return rc;
}

/* ---- the slow path: the whole table, any device ---- */

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
	if (fb_neigh_get_one(ip, mac) == 0)
		return 0;
	/* No route, no entry on the route's device, or a kernel without
	 * single-entry gets: the whole table, as before. */
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
