/* cmd_events.c - `fleetboot events [--machine MAC] [--stage S] [--follow]`. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int run_events(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_events = {
    .name = "events",
    .usage = "  events [--machine MAC] [--stage STAGE] [--limit N] [--follow] [--json]\n",
    .run = run_events,
};
CLI_COMMAND(cmd_events)

struct ev_out {
	int json;
	int64_t last;
	int count;
};

static int print_event(void *arg, const struct fb_event *e)
{
	struct ev_out *o = arg;
	o->last = e->id;
	o->count++;
	if (o->json) {
		/* One object per line, so --follow output can be streamed. */
		json_t *j = json_pack("{s:I, s:I, s:s, s:s, s:s}", "id", (json_int_t)e->id,
		                      "time_ms", (json_int_t)e->time_ms, "mac", e->mac, "stage",
		                      e->stage, "detail", e->detail);
		json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		struct tm tm;
		time_t t = (time_t)(e->time_ms / 1000);
		char ts[32];
		localtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%s.%03d  %s  %-13s  %s\n", ts, (int)(e->time_ms % 1000), e->mac, e->stage,
		       e->detail);
	}
	return 0;
}

struct ring {
	int64_t *ids;
	int n;
	long seen;
};

static int ring_add(void *arg, const struct fb_event *e)
{
	struct ring *r = arg;
	r->ids[r->seen++ % r->n] = e->id;
	return 0;
}

static volatile sig_atomic_t stop;
static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int run_events(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"machine", 1, NULL},
	                      {"stage", 1, NULL},
	                      {"limit", 1, NULL},
	                      {"follow", 0, NULL},
	                      {"json", 0, NULL}};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_events, argc - 1, argv + 1, o, no, pos, 0, &npos)))
		return rc;
	struct fb_event_filter f = {0};
	char id[FB_MACID_LEN];
	const char *mac = cli_optval(o, no, "machine"), *lim = cli_optval(o, no, "limit");
	if (mac) {
		if (macid_normalize(mac, id) < 0)
			return cli_error("--machine: '%s' is not a MAC address", mac);
		f.mac = id;
	}
	f.stage = cli_optval(o, no, "stage");
	if (f.stage && !fb_stage_valid(f.stage))
		return cli_error("--stage: '%s' is not a stage name", f.stage);
	if (lim) {
		char *end;
		long n = strtol(lim, &end, 10);
		if (*end || n < 1 || n > 100000)
			return cli_error("--limit: '%s' is not a number from 1 to 100000", lim);
		f.limit = (int)n;
	}
	if (!cli_db(ctx))
		return CLI_ERR;
	struct ev_out out = {.json = cli_optval(o, no, "json") != NULL};
	int follow = cli_optval(o, no, "follow") != NULL;
	if (f.limit) {
		/* --limit N shows the newest N: find the cursor just before them. */
		struct ring r = {.ids = calloc((size_t)f.limit, sizeof(int64_t)), .n = f.limit};
		struct fb_event_filter all = f;
		if (!r.ids)
			return cli_error("out of memory");
		all.limit = 1 << 30;
		fb_db_event_list(ctx->db, &all, ring_add, &r);
		if (r.seen > r.n)
			f.after = r.ids[r.seen % r.n] - 1;
		free(r.ids);
	}
	if (fb_db_event_list(ctx->db, &f, print_event, &out) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	if (!follow)
		return CLI_OK;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGPIPE, on_stop);
	while (!stop) {
		fflush(stdout);
		usleep(300000);
		f.after = out.last;
		if (fb_db_event_list(ctx->db, &f, print_event, &out) < 0)
			return cli_error("%s", fb_db_errmsg(ctx->db));
	}
	return CLI_OK;
}
