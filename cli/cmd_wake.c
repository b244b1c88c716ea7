/*
 * cmd_wake.c - `fleetboot machine wake MAC... | --group G`: Wake-on-LAN.
 *
 * The CLI only asks: it queues one request per machine in the database
 * (db/wake.c) and waits a few seconds for fleetboot-bootd, which owns the
 * boot interfaces and the raw socket, to send the magic packets and say
 * what it did. Every MAC is checked first: a bad or unknown one, an empty
 * group, or a bootd that is not running sends nothing at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "str.h"

#define WAKE_MAX     1024 /* machines per command */
#define WAKE_WAIT_MS 5000 /* how long bootd may take to send */

struct group_pick {
	const char *group;
	char (*macs)[FB_MACID_LEN];
	size_t n;
	int over;
};

static int pick_group(void *arg, const struct fb_machine *m)
{
	struct group_pick *p = arg;
	if (strcmp(m->group, p->group))
		return 0;
	if (p->n == WAKE_MAX) {
		p->over = 1;
		return 1;
	}
	fb_strlcpy(p->macs[p->n++], m->mac, FB_MACID_LEN);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int finished(const struct fb_wake *w)
{
	return strcmp(w->state, "queued") && strcmp(w->state, "taken");
}

int cli_machine_wake(const struct cli_cmd *cmd, struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"group", 1, NULL}};
	char *pos[WAKE_MAX];
	int npos, rc;
	if ((rc = cli_parse(cmd, argc, argv, o, 1, pos, WAKE_MAX, &npos)))
		return rc;
	const char *group = o[0].val;
	if (!npos && !group)
		return cli_usage(cmd, "machine wake needs MACs or --group G");
	if (npos && group)
		return cli_usage(cmd, "machine wake takes MACs or --group G, not both");
	char(*macs)[FB_MACID_LEN] = calloc(WAKE_MAX, FB_MACID_LEN);
	const char **ptrs = calloc(WAKE_MAX, sizeof(*ptrs));
	int64_t *ids = calloc(WAKE_MAX, sizeof(*ids));
	size_t n = 0;
	rc = CLI_ERR;
	if (!macs || !ptrs || !ids) {
		cli_error("out of memory");
		goto out;
	}
	for (int i = 0; i < npos; i++, n++)
		if (macid_normalize(pos[i], macs[i]) < 0) {
			cli_error("'%s' is not a MAC address (use 52:54:00:12:34:56): nothing sent",
			          pos[i]);
			goto out;
		}
	if (!cli_db(ctx))
		goto out;
	if (group) {
		struct group_pick p = {group, macs, 0, 0};
		if (fb_db_machine_list(ctx->db, pick_group, &p) < 0) {
			cli_error("%s", fb_db_errmsg(ctx->db));
			goto out;
		}
		if (p.over) {
			cli_error("group %s has more than %d machines: nothing sent", group,
			          WAKE_MAX);
			goto out;
		}
		if (!p.n) {
			cli_error("group %s has no machines: nothing sent", group);
			goto out;
		}
		n = p.n;
	}
	for (size_t i = 0; i < n; i++) {
		struct fb_machine m;
		if (fb_db_machine_get(ctx->db, macs[i], &m) < 0) {
			cli_error("%s: nothing sent", fb_db_errmsg(ctx->db));
			goto out;
		}
		ptrs[i] = macs[i];
	}
	int alive = fb_db_wake_bootd_alive(ctx->db);
	if (alive < 0) {
		cli_error("%s", fb_db_errmsg(ctx->db));
		goto out;
	}
	if (!alive) {
		cli_error("fleetboot-bootd is not running (no heartbeat in the last %d s); only "
		          "it can send magic packets: nothing sent",
		          FB_WAKE_BOOTD_STALE);
		goto out;
	}
	char by[80];
	snprintf(by, sizeof(by), "cli (uid %u)", (unsigned)getuid());
	if (fb_db_wake_request(ctx->db, ptrs, n, by, ids) < 0) {
		cli_error("%s: nothing sent", fb_db_errmsg(ctx->db));
		goto out;
	}
	/* bootd takes the requests within a fraction of a second. */
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		struct fb_wake w = {0};
		int waited = 0;
		for (;;) {
			if (fb_db_wake_get(ctx->db, ids[i], &w) < 0) {
				snprintf(w.state, sizeof(w.state), "failed");
				fb_strlcpy(w.result, fb_db_errmsg(ctx->db), sizeof(w.result));
				break;
			}
			if (finished(&w))
				break;
			if (waited >= WAKE_WAIT_MS && fb_db_wake_cancel(ctx->db, ids[i]) == 0) {
				snprintf(w.result, sizeof(w.result),
				         "not sent: bootd did not take it within %d s",
				         WAKE_WAIT_MS / 1000);
				snprintf(w.state, sizeof(w.state), "cancelled");
				break;
			}
			if (waited >= 3 * WAKE_WAIT_MS) {
				snprintf(w.result, sizeof(w.result),
				         "bootd took it but has not said what it did");
				break;
			}
			sleep_ms(50);
			waited += 50;
		}
		if (!strcmp(w.state, "sent")) {
			printf("woke %s: %s\n", macs[i], w.result);
		} else {
			fprintf(stderr, "fleetboot: %s: %s\n", macs[i], w.result);
			bad++;
		}
	}
	rc = bad ? CLI_ERR : CLI_OK;
out:
	free(macs);
	free(ptrs);
	free(ids);
	return rc;
}
