/*
 * api_wake.c - Wake-on-LAN: POST /api/v1/machines/MAC/wake and
 * POST /api/v1/groups/NAME/wake.
 *
 * web only asks, as the CLI does: it queues one request per machine in the
 * database (db/wake.c) and answers 202 at once; fleetboot-bootd sends the
 * magic packets within a second and records a `wake` event per machine
 * (GET /api/v1/events?stage=wake). A bad MAC (400), an unknown machine or
 * a group without machines (404), or a bootd that is not running (503)
 * queues nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "str.h"
#include "web.h"

#define WAKE_GROUP_MAX 1024

struct group_pick {
	const char *group;
	char (*macs)[FB_MACID_LEN];
	size_t n;
};

static int pick_group(void *arg, const struct fb_machine *m)
{
	struct group_pick *p = arg;
	if (strcmp(m->group, p->group))
		return 0;
	if (p->n == WAKE_GROUP_MAX)
		return 1;
	fb_strlcpy(p->macs[p->n++], m->mac, FB_MACID_LEN);
	return 0;
}

static enum MHD_Result queue(struct MHD_Connection *c, struct web_req *req,
                             char (*macs)[FB_MACID_LEN], size_t n)
{
	const char *ptrs[WAKE_GROUP_MAX];
	int64_t ids[WAKE_GROUP_MAX];
	char by[80];
	for (size_t i = 0; i < n; i++)
		ptrs[i] = macs[i];
	int alive = fb_db_wake_bootd_alive(web_g.db);
	if (alive < 0)
		return web_db_error(c, alive, "wake");
	if (!alive)
		return web_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                 "bootd: fleetboot-bootd is not running (no heartbeat in the last "
		                 "%d s); only it sends magic packets: nothing sent",
		                 FB_WAKE_BOOTD_STALE);
	snprintf(by, sizeof(by), "web %s %s", req->via_token ? "token" : "user", req->user);
	int rc = fb_db_wake_request(web_g.db, ptrs, n, by, ids);
	if (rc == -ENOENT)
		return web_error(c, MHD_HTTP_NOT_FOUND, "mac: %s", fb_db_errmsg(web_g.db));
	if (rc < 0)
		return web_db_error(c, rc, "wake");
	json_t *a = json_array();
	if (!a)
		return MHD_NO;
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(
		    a, json_pack("{s:s,s:I}", "mac", macs[i], "request", (json_int_t)ids[i]));
		log_info("%s asked to wake %s (request %lld)", by, macs[i], (long long)ids[i]);
	}
	return web_json(c, MHD_HTTP_ACCEPTED, json_pack("{s:o,s:s}", "wake", a, "state", "queued"));
}

enum MHD_Result web_api_wake(struct MHD_Connection *c, struct web_req *req, const char *method,
                             char segs[][128], int n)
{
	static char macs[WAKE_GROUP_MAX][FB_MACID_LEN]; /* the MHD thread's alone */
	if (strcmp(method, "POST"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use POST");
	if (!strcmp(segs[0], "machines")) {
		struct fb_machine m;
		if (macid_normalize(segs[1], macs[0]) < 0)
			return web_error(c, MHD_HTTP_BAD_REQUEST, "mac: '%s' is not a MAC address",
			                 segs[1]);
		int rc = fb_db_machine_get(web_g.db, macs[0], &m);
		if (rc == -ENOENT)
			return web_error(c, MHD_HTTP_NOT_FOUND, "mac: no machine %s", macs[0]);
		if (rc < 0)
			return web_db_error(c, rc, "machine");
		return queue(c, req, macs, 1);
	}
	struct group_pick p = {segs[1], macs, 0};
	int rc = fb_db_machine_list(web_g.db, pick_group, &p);
	if (rc < 0)
		return web_db_error(c, rc, "group");
	if (!p.n)
		return web_error(c, MHD_HTTP_NOT_FOUND, "group: no machines in '%s': nothing sent",
		                 segs[1]);
	return queue(c, req, macs, p.n);
}
