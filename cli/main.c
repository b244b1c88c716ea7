/*
 * main.c - fleetboot's entry point: global options, then the subcommand
 * named by the first word, found in the list the cmd_*.c files register.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "stateperm.h"

static struct cli_cmd *commands;

void cli_register(struct cli_cmd *cmd)
{
	/* Keep the list sorted by name for help output. */
	struct cli_cmd **p = &commands;
	while (*p && strcmp((*p)->name, cmd->name) < 0)
		p = &(*p)->next;
	cmd->next = *p;
	*p = cmd;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("fleetboot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_ERR;
}

int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fputs("fleetboot: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "usage:\n%s", cmd->usage);
	return CLI_USAGE;
}

int cli_dispatch(const struct cli_cmd *cmd, struct cli_ctx *ctx, int argc, char **argv,
                 const struct cli_sub *subs, size_t nsubs)
{
	if (argc < 2)
		return cli_usage(cmd, "%s needs a subcommand", cmd->name);
	for (size_t i = 0; i < nsubs; i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(ctx, argc - 2, argv + 2);
	return cli_usage(cmd, "unknown %s subcommand '%s'", cmd->name, argv[1]);
}

struct fb_db *cli_db(struct cli_ctx *ctx)
{
	char path[FB_PATH_LEN];
	if (ctx->db)
		return ctx->db;
	if (snprintf(path, sizeof(path), "%s/fleetboot.db", ctx->cfg.state_dir) >=
	    (int)sizeof(path)) {
		cli_error("state_dir is too long");
		return NULL;
	}
	if (access(path, F_OK) < 0) {
		cli_error("%s: no database; run 'fleetboot init' first", path);
		return NULL;
	}
	int rc = fb_db_open(&ctx->db, path);
	if (rc < 0) {
		cli_error("%s: cannot open database: %s", path, strerror(-rc));
		ctx->db = NULL;
		return NULL;
	}
	return ctx->db;
}

const char *cli_optval(const struct cli_opt *opts, size_t nopts, const char *name)
{
	for (size_t i = 0; i < nopts; i++)
		if (!strcmp(opts[i].name, name))
			return opts[i].val;
	return NULL;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opt *opts, size_t nopts,
              char **pos, int maxpos, int *npos)
{
	int stop = 0;
	*npos = 0;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (!stop && !strcmp(a, "--")) {
			stop = 1;
			continue;
		}
		if (stop || strncmp(a, "--", 2) || !a[2]) {
			if (*npos >= maxpos)
				return cli_usage(cmd, "unexpected argument '%s'", a);
			pos[(*npos)++] = a;
			continue;
		}
		char *name = a + 2, *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		size_t k;
		for (k = 0; k < nopts; k++)
			if (strlen(opts[k].name) == nlen && !strncmp(opts[k].name, name, nlen))
				break;
		if (k == nopts)
			return cli_usage(cmd, "unknown option '--%.*s'", (int)nlen, name);
		if (opts[k].val)
			return cli_usage(cmd, "option '--%s' given twice", opts[k].name);
		if (opts[k].has_arg) {
			if (eq)
				opts[k].val = eq + 1;
			else if (i + 1 < argc)
				opts[k].val = argv[++i];
			else
				return cli_usage(cmd, "option '--%s' needs a value", opts[k].name);
		} else {
			if (eq)
				return cli_usage(cmd, "option '--%s' takes no value", opts[k].name);
			opts[k].val = "1";
		}
	}
	return 0;
}

void cli_table(FILE *out, const char *const *header, int ncols, char ***rows, int nrows)
{
	size_t w[32] = {0};
	if (ncols > 32)
		ncols = 32;
	for (int c = 0; c < ncols; c++)
		w[c] = strlen(header[c]);
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++)
			if (strlen(rows[r][c]) > w[c])
				w[c] = strlen(rows[r][c]);
	for (int c = 0; c < ncols; c++) {
		if (c == ncols - 1)
			fprintf(out, "%s\n", header[c]);
		else
			fprintf(out, "%-*s  ", (int)w[c], header[c]);
	}
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++) {
			const char *v = rows[r][c][0] ? rows[r][c] : "-";
			if (c == ncols - 1)
				fprintf(out, "%s\n", v);
			else
				fprintf(out, "%-*s  ", (int)w[c], v);
		}
}

static void help(FILE *out)
{
	fprintf(out, "usage: fleetboot [-c FILE] [-v] COMMAND ...\n\ncommands:\n");
	for (struct cli_cmd *c = commands; c; c = c->next)
		fprintf(out, "%s", c->usage);
	fprintf(out, "\nListings take --json. FLEETBOOT_CONF names the config file "
	             "(default /etc/fleetboot/fleetboot.conf).\n");
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = {0};
	int i = 1;

	/* What the command creates (the database, image files) and what it
	 * runs (fleetboot-image, the daemons under `up`) is the service's alone. */
	fb_umask_private();
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			ctx.conf_path = argv[++i];
		} else if (!strcmp(argv[i], "-v")) {
			ctx.verbose++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			help(stdout);
			return CLI_OK;
		} else {
			fprintf(stderr, "fleetboot: unknown option '%s'\n", argv[i]);
			help(stderr);
			return CLI_USAGE;
		}
	}
	if (i >= argc) {
		help(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		help(stdout);
		return CLI_OK;
	}
	log_init("fleetboot", 1, ctx.verbose);
	char err[512];
	if (fb_config_load(&ctx.cfg, ctx.conf_path, ctx.conf_path != NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "fleetboot: %s\n", err);
		return CLI_ERR;
	}
	for (struct cli_cmd *c = commands; c; c = c->next) {
		if (strcmp(c->name, argv[i]))
			continue;
		int rc = c->run(&ctx, argc - i, argv + i);
		fb_db_close(ctx.db);
		return rc;
	}
	fprintf(stderr, "fleetboot: unknown command '%s'\n", argv[i]);
	help(stderr);
	return CLI_USAGE;
}
