/*
 * cmd_group.c - `fleetboot group add|list|show|set|rm`: shared settings for
 * many machines. Every setting is optional; '' clears one (not set: each
 * machine's own, else the default). A machine's own setting wins over its
 * group's (db/groups.c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "str.h"

static int run_group(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_group = {
    .name = "group",
    .usage = "  group add NAME [--image REF|menu] [--mode M] [--protocol nbd|iscsi] "
             "[--loader ipxe|pxelinux]\n"
             "            [--menu-default ITEM] [--menu-timeout SECS] [--secure-boot on|off]\n"
             "  group list [--json] | show NAME [--json] | set NAME ... (--X '' unsets) | "
             "rm NAME [--force]\n"
             "            (rm --force takes the group's machines out of it first)\n",
    .run = run_group,
};
CLI_COMMAND(cmd_group)

#define GROUP_OPTS                                                                                 \
	{"image", 1, NULL}, {"mode", 1, NULL}, {"protocol", 1, NULL}, {"loader", 1, NULL},         \
	    {"menu-default", 1, NULL}, {"menu-timeout", 1, NULL},                                  \
	{                                                                                          \
		"secure-boot", 1, NULL                                                             \
	}
#define N_GROUP_OPTS 7

/* Apply the given options to g ("" unsets). */
static int apply_opts(struct cli_opt *o, size_t no, struct fb_group *g)
{
	struct {
		const char *opt;
		char *field;
		size_t len;
	} map[] = {{"image", g->image, sizeof(g->image)},
	           {"mode", g->mode, sizeof(g->mode)},
	           {"protocol", g->protocol, sizeof(g->protocol)},
	           {"loader", g->loader, sizeof(g->loader)},
	           {"menu-default", g->menu_default, sizeof(g->menu_default)},
	           {"secure-boot", g->secure_boot, sizeof(g->secure_boot)}};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = cli_optval(o, no, map[i].opt);
		if (!v)
			continue;
		if (strlen(v) >= map[i].len)
			return cli_error("--%s: value too long", map[i].opt);
		fb_strlcpy(map[i].field, v, map[i].len);
	}
	const char *t = cli_optval(o, no, "menu-timeout");
	if (t) {
		char *end;
		long n = strtol(t, &end, 10);
		if (!t[0])
			n = -1;
		else if (*end || n < 0 || n > 3600 || end == t)
			return cli_error(
			    "--menu-timeout: '%s' is not a number of seconds from 0 to 3600", t);
		g->menu_timeout = (int)n;
	}
	char why[256];
	if (fb_group_validate(g, why, sizeof(why)) < 0)
		return cli_error("--%s", why);
	return 0;
}

static int do_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {GROUP_OPTS};
	char *pos[1];
	int npos, rc;
	struct fb_group g;
	memset(&g, 0, sizeof(g));
	g.menu_timeout = -1;
	if ((rc = cli_parse(&cmd_group, argc, argv, o, N_GROUP_OPTS, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_group, "group add needs a NAME");
	if (strlen(pos[0]) >= sizeof(g.name))
		return cli_error("group name too long (at most %zu characters)",
		                 sizeof(g.name) - 1);
	fb_strlcpy(g.name, pos[0], sizeof(g.name));
	if ((rc = apply_opts(o, N_GROUP_OPTS, &g)))
		return rc;
	if (!cli_db(ctx))
		return CLI_ERR;
	if (fb_db_group_add(ctx->db, &g) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	printf("added group %s\n", g.name);
	return CLI_OK;
}

static int get_group(struct cli_ctx *ctx, const char *name, struct fb_group *g)
{
	if (!cli_db(ctx))
		return CLI_ERR;
	if (fb_db_group_get(ctx->db, name, g) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	return 0;
}

static int do_set(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {GROUP_OPTS};
	char *pos[1];
	int npos, rc, any = 0;
	struct fb_group g;
	if ((rc = cli_parse(&cmd_group, argc, argv, o, N_GROUP_OPTS, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_group, "group set needs a NAME");
	for (size_t i = 0; i < N_GROUP_OPTS; i++)
		any |= o[i].val != NULL;
	if (!any)
		return cli_usage(&cmd_group, "group set needs at least one option");
	if ((rc = get_group(ctx, pos[0], &g)))
		return rc;
	if ((rc = apply_opts(o, N_GROUP_OPTS, &g)))
		return rc;
	if (fb_db_group_update(ctx->db, &g) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	printf("updated group %s\n", g.name);
	return CLI_OK;
}

static const char *or_dash(const char *s)
{
	return s[0] ? s : "-";
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(j);
}

static int do_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	struct fb_group g;
	if ((rc = cli_parse(&cmd_group, argc, argv, o, 1, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_group, "group show needs a NAME");
	if ((rc = get_group(ctx, pos[0], &g)))
		return rc;
	if (o[0].val) {
		print_json(fb_group_json(&g));
		return CLI_OK;
	}
	printf("group:        %s\nmachines:     %d\nimage:        %s\nmode:         %s\n"
	       "protocol:     %s\nloader:       %s\nsecure boot:  %s\nmenu default: %s\n",
	       g.name, g.machines, or_dash(g.image), or_dash(g.mode), or_dash(g.protocol),
	       or_dash(g.loader), or_dash(g.secure_boot), or_dash(g.menu_default));
	if (g.menu_timeout >= 0)
		printf("menu timeout: %d s\n", g.menu_timeout);
	else
		printf("menu timeout: -\n");
	printf("(- = not set: each machine's own, else the default)\n");
	return CLI_OK;
}

static int list_cb(void *arg, const struct fb_group *g)
{
	struct cli_list *l = arg;
	char num[2][16];
	snprintf(num[0], sizeof(num[0]), "%d", g->machines);
	if (g->menu_timeout >= 0)
		snprintf(num[1], sizeof(num[1]), "%d", g->menu_timeout);
	else
		snprintf(num[1], sizeof(num[1]), "-");
	const char *cols[9] = {g->name,
	                       num[0],
	                       or_dash(g->image),
	                       or_dash(g->mode),
	                       or_dash(g->protocol),
	                       or_dash(g->loader),
	                       or_dash(g->secure_boot),
	                       or_dash(g->menu_default),
	                       num[1]};
	return cli_list_add(l, l->arr ? fb_group_json(g) : NULL, cols);
}

static int do_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_group, argc, argv, o, 1, pos, 0, &npos)))
		return rc;
	if (!cli_db(ctx))
		return CLI_ERR;
	struct cli_list l;
	cli_list_begin(&l, o[0].val != NULL, 9);
	rc = fb_db_group_list(ctx->db, list_cb, &l);
	static const char *const hdr[] = {"GROUP",       "MACHINES",     "IMAGE",
	                                  "MODE",        "PROTO",        "LOADER",
	                                  "SECURE BOOT", "MENU DEFAULT", "MENU TIMEOUT"};
	int end = cli_list_end(&l, hdr, rc >= 0);
	return rc < 0 ? cli_error("%s", fb_db_errmsg(ctx->db)) : end;
}

static int do_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"force", 0, NULL}};
	char *pos[1];
	int npos, rc, n = 0;
	if ((rc = cli_parse(&cmd_group, argc, argv, o, 1, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_group, "group rm needs a NAME");
	if (!cli_db(ctx))
		return CLI_ERR;
	if (fb_db_group_delete(ctx->db, pos[0], o[0].val != NULL, &n) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	if (n)
		printf("removed group %s (%d machine%s taken out of it)\n", pos[0], n,
		       n == 1 ? "" : "s");
	else
		printf("removed group %s\n", pos[0]);
	return CLI_OK;
}

static int run_group(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", do_add}, {"list", do_list}, {"show", do_show}, {"set", do_set}, {"rm", do_rm},
	};
	return cli_dispatch(&cmd_group, ctx, argc, argv, subs, sizeof(subs) / sizeof(subs[0]));
}
