/*
 * cmd_status.c - `fleetboot status`: daemons (from the heartbeats they
 * write to the status table), machines by boot stage, images, leases and
 * overlay space.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "size.h"

static int run_status(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_status = {
    .name = "status",
    .usage = "  status [--json]            daemons, machines by stage, images, overlay space\n",
    .run = run_status,
};
CLI_COMMAND(cmd_status)

struct tally {
	json_t *stages; /* stage -> count */
	int machines, unassigned, registered;
	int images, ready;
	int overlays;
	int64_t overlay_bytes;
	int leases, leases_active;
	json_t *daemons; /* key -> {value, age} */
};

static int count_machine(void *arg, const struct fb_machine *m)
{
	struct tally *t = arg;
	const char *s = m->stage[0] ? m->stage : "never-booted";
	json_t *c = json_object_get(t->stages, s);
	json_object_set_new(t->stages, s, json_integer(c ? json_integer_value(c) + 1 : 1));
	t->machines++;
	t->unassigned += !m->image[0];
	t->registered += m->registered;
	return 0;
}

static int count_image(void *arg, const struct fb_image *img)
{
	struct tally *t = arg;
	t->images++;
	t->ready += !strcmp(img->state, "ready");
	return 0;
}

static int count_overlay(void *arg, const struct fb_overlay *o)
{
	struct tally *t = arg;
	t->overlays++;
	t->overlay_bytes += o->bytes;
	return 0;
}

static int count_lease(void *arg, const struct fb_lease *l)
{
	struct tally *t = arg;
	t->leases++;
	t->leases_active += l->expires > fb_now() && !strcmp(l->state, "bound");
	return 0;
}

static int add_status(void *arg, const char *key, const char *value, int64_t updated)
{
	struct tally *t = arg;
	json_object_set_new(
	    t->daemons, key,
	    json_pack("{s:s, s:I}", "value", value, "age", (json_int_t)(fb_now() - updated)));
	return 0;
}

static int run_status(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_status, argc - 1, argv + 1, o, 1, pos, 0, &npos)))
		return rc;
	if (!cli_db(ctx))
		return CLI_ERR;
	struct tally t = {.stages = json_object(), .daemons = json_object()};
	struct fb_db *db = ctx->db;
	if (fb_db_machine_list(db, count_machine, &t) < 0 ||
	    fb_db_image_list(db, NULL, count_image, &t) < 0 ||
	    fb_db_overlay_list(db, count_overlay, &t) < 0 ||
	    fb_db_lease_list(db, count_lease, &t) < 0 || fb_db_status_list(db, add_status, &t) < 0)
		return cli_error("%s", fb_db_errmsg(db));
	if (o[0].val) {
		json_t *j =
		    json_pack("{s:o, s:{s:i, s:i, s:i, s:o}, s:{s:i, s:i}, s:{s:i, s:i},"
		              " s:{s:i, s:I}}",
		              "daemons", t.daemons, "machines", "total", t.machines, "unassigned",
		              t.unassigned, "registered", t.registered, "by_stage", t.stages,
		              "images", "versions", t.images, "ready", t.ready, "leases", "total",
		              t.leases, "active", t.leases_active, "overlays", "count", t.overlays,
		              "bytes", (json_int_t)t.overlay_bytes);
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
		return CLI_OK;
	}
	char sz[32];
	printf("state:     %s\n", ctx->cfg.state_dir);
	/* Daemons refresh their rows every few seconds; an old row is what a
	 * daemon said before it stopped, not what it is doing now. */
	printf("daemons:  ");
	if (!json_object_size(t.daemons))
		printf(" none has reported (start them with 'fleetboot up')");
	printf("\n");
	const char *key;
	json_t *v;
	int conns = 0;
	json_object_foreach(t.daemons, key, v)
	{
		long long age = (long long)json_integer_value(json_object_get(v, "age"));
		const char *val = json_string_value(json_object_get(v, "value"));
		if (strstr(key, ".machine.")) {
			conns++;
			continue;
		}
		printf("  %-28s %s%s\n", key, val,
		       age > 60 ? "  [stale: not updated for a minute]" : "");
	}
	if (conns) {
		printf("machines on storage:\n");
		json_object_foreach(t.daemons, key, v)
		{
			long long age = (long long)json_integer_value(json_object_get(v, "age"));
			if (!strstr(key, ".machine."))
				continue;
			printf("  %-20s %s%s\n", strstr(key, ".machine.") + 9,
			       json_string_value(json_object_get(v, "value")),
			       age > 60 ? "  [stale]" : "");
		}
	}
	printf("machines:  %d (%d unassigned, %d registered automatically)\n", t.machines,
	       t.unassigned, t.registered);
	json_object_foreach(t.stages, key, v)
	{
		printf("  %-16s %lld\n", key, (long long)json_integer_value(v));
	}
	printf("images:    %d versions, %d ready\n", t.ready + (t.images - t.ready), t.ready);
	printf("leases:    %d (%d active)\n", t.leases, t.leases_active);
	printf("overlays:  %d using %s\n", t.overlays,
	       fb_format_size((uint64_t)t.overlay_bytes, sz, sizeof(sz)));
	json_decref(t.stages);
	json_decref(t.daemons);
	return CLI_OK;
}
