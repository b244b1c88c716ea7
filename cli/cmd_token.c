/*
 * cmd_token.c - API tokens for fleetboot-web's `Authorization: Bearer`:
 *
 *   fleetboot token create NAME        print a new token once
 *   fleetboot token list [--json]
 *   fleetboot token revoke NAME|ID
 *
 * (also reachable as `fleetboot user token ...`). Only the sha256 of a
 * token is stored, so a lost token cannot be shown again: revoke it and
 * create another.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "secret.h"
#include "sha256.h"
#include "str.h"

int cli_token_run(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_token = {
    .name = "token",
    .usage =
        "  token create NAME | list [--json] | revoke NAME|ID   (API tokens for the web API)\n",
    .run = cli_token_run,
};
CLI_COMMAND(cmd_token)

/* Token labels follow the image-name rules: short, printable, no spaces. */
static int label_ok(const char *s)
{
	size_t l = strlen(s);
	if (l == 0 || l >= FB_NAME_LEN)
		return 0;
	for (size_t i = 0; i < l; i++) {
		char c = s[i];
		int alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
			return 0;
	}
	return 1;
}

static int token_create(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[2];
	int npos, rc;
	if ((rc = cli_parse(&cmd_token, argc, argv, o, 1, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_token, "token create needs a NAME");
	if (!label_ok(pos[0]))
		return cli_error("%s: not a valid token name (letters, digits, '-', '_', '.')",
		                 pos[0]);
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	/* 32 random bytes: the prefix makes a leaked token easy to recognise. */
	char hex[65], token[80];
	if (fb_random_hex(hex, 32) < 0)
		return cli_error("no randomness: %s", strerror(errno));
	snprintf(token, sizeof(token), "fbt_%s", hex);
	struct fb_token t;
	memset(&t, 0, sizeof(t));
	fb_strlcpy(t.name, pos[0], sizeof(t.name));
	fb_sha256_mem(token, strlen(token), t.hash);
	rc = fb_db_token_add(db, &t);
	if (rc == -EEXIST)
		return cli_error("token %s already exists (revoke it first)", pos[0]);
	if (rc < 0)
		return cli_error("cannot add token: %s", fb_db_errmsg(db));
	if (cli_optval(o, 1, "json")) {
		json_t *j = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)t.id, "name", t.name,
		                      "token", token);
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		printf("%s\n", token);
		fprintf(stderr,
		        "token %s (id %lld) created; it is shown only this once.\n"
		        "use it as: Authorization: Bearer <token>\n",
		        t.name, (long long)t.id);
	}
	return CLI_OK;
}

struct list_out {
	json_t *arr;
	char ***rows;
	int n, cap;
};

static void fmt_time(int64_t t, char *out, size_t len)
{
	if (!t) {
		snprintf(out, len, "never");
		return;
	}
	struct tm tm;
	time_t tt = (time_t)t;
	localtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M", &tm);
}

static int list_cb(void *arg, const struct fb_token *t)
{
	struct list_out *o = arg;
	if (o->arr)
		return json_array_append_new(
		    o->arr, json_pack("{s:I,s:s,s:I,s:I}", "id", (json_int_t)t->id, "name", t->name,
		                      "created", (json_int_t)t->created, "last_used",
		                      (json_int_t)t->last_used));
	printf("%-6lld  %-24s  ", (long long)t->id, t->name);
	char a[32], b[32];
	fmt_time(t->created, a, sizeof(a));
	fmt_time(t->last_used, b, sizeof(b));
	printf("%-16s  %s\n", a, b);
	o->n++;
	return 0;
}

static int token_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_token, argc, argv, o, 1, pos, 0, &npos)))
		return rc;
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	struct list_out out = {0};
	if (cli_optval(o, 1, "json"))
		out.arr = json_array();
	else
		printf("%-6s  %-24s  %-16s  %s\n", "ID", "NAME", "CREATED", "LAST USED");
	rc = fb_db_token_list(db, list_cb, &out);
	if (rc < 0) {
		json_decref(out.arr);
		return cli_error("cannot list tokens: %s", fb_db_errmsg(db));
	}
	if (out.arr) {
		json_dumpf(out.arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(out.arr);
	}
	return CLI_OK;
}

static int token_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
	char *pos[2];
	int npos, rc;
	if ((rc = cli_parse(&cmd_token, argc, argv, NULL, 0, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_token, "token revoke needs a NAME or ID");
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	rc = fb_db_token_revoke(db, pos[0]);
	if (rc == -ENOENT)
		return cli_error("no token named or numbered '%s'", pos[0]);
	if (rc < 0)
		return cli_error("cannot revoke: %s", fb_db_errmsg(db));
	fprintf(stderr, "token %s revoked\n", pos[0]);
	return CLI_OK;
}

int cli_token_run(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(&cmd_token, "token needs a subcommand");
	if (!strcmp(argv[1], "create"))
		return token_create(ctx, argc - 2, argv + 2);
	if (!strcmp(argv[1], "list"))
		return token_list(ctx, argc - 2, argv + 2);
	if (!strcmp(argv[1], "revoke"))
		return token_revoke(ctx, argc - 2, argv + 2);
	return cli_usage(&cmd_token, "unknown token subcommand '%s'", argv[1]);
}
