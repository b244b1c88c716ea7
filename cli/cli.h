/*
 * cli.h - the fleetboot admin command. Each subcommand lives in its own
 * file (cli/cmd_NAME.c) and registers itself with CLI_COMMAND(), so parts
 * can add commands without editing a shared table.
 *
 * Exit codes (DESIGN.md): 0 success, 1 user error with one clear line on
 * stderr, 2 usage error.
 */
#ifndef FB_CLI_H
#define FB_CLI_H

#include <jansson.h>
#include <stdio.h>

#include "config.h"
#include "db/db.h"

#define CLI_OK    0
#define CLI_ERR   1
#define CLI_USAGE 2

struct cli_ctx {
	struct fb_config cfg;  /* effective configuration */
	const char *conf_path; /* -c FILE or NULL */
	int verbose;           /* -v count */
	struct fb_db *db;      /* opened on demand by cli_db() */
};

struct cli_cmd {
	const char *name;  /* first word: "image", "machine", ... */
	const char *usage; /* lines printed by `fleetboot help` */
	int (*run)(struct cli_ctx *ctx, int argc, char **argv); /* argv[0] = name */
	struct cli_cmd *next;
};

void cli_register(struct cli_cmd *cmd);
#define CLI_COMMAND(var)                                                                           \
	static void __attribute__((constructor)) var##_register(void)                              \
	{                                                                                          \
		cli_register(&var);                                                                \
	}

/* Print "fleetboot: MESSAGE" on stderr; returns CLI_ERR. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a usage error and the command's usage; returns CLI_USAGE. */
int cli_usage(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A subcommand: its word and what runs it, given the arguments after the
 * word. */
struct cli_sub {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};
/* Run the subcommand argv[1] names (argv[0] is cmd's own word): a usage
 * error ("CMD needs a subcommand", "unknown CMD subcommand 'X'") when
 * there is none or subs has no such word. */
int cli_dispatch(const struct cli_cmd *cmd, struct cli_ctx *ctx, int argc, char **argv,
                 const struct cli_sub *subs, size_t nsubs);
/* Open the state database (fleetboot init must have run); NULL after
 * printing an error. */
struct fb_db *cli_db(struct cli_ctx *ctx);

/*
 * Option parsing shared by subcommands: long options only ("--name X",
 * "--name=X", flags). spec lists "name=" for options with a value and
 * "name" for flags. Positional arguments are collected in pos. Returns 0,
 * or prints a usage error and returns CLI_USAGE.
 */
struct cli_opt {
	const char *name; /* without dashes */
	int has_arg;      /* takes a value */
	const char *val;  /* value, or "1" for a set flag; NULL when absent */
};
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opt *opts, size_t nopts,
              char **pos, int maxpos, int *npos);
const char *cli_optval(const struct cli_opt *opts, size_t nopts, const char *name);

/* `machine wake MAC... | --group G` (cmd_wake.c); argv after "wake". */
int cli_machine_wake(const struct cli_cmd *cmd, struct cli_ctx *ctx, int argc, char **argv);

/* Print a table with aligned columns (rows of ncols strings). */
void cli_table(FILE *out, const char *const *header, int ncols, char ***rows, int nrows);

/* A `list` subcommand's output (listing.c): the items as a JSON array
 * (--json) or as a table of ncols columns. */
struct cli_list {
	json_t *arr; /* --json: the items; NULL: a table */
	int ncols;
	char ***rows;
	int n, cap;
	int failed; /* out of memory */
};
void cli_list_begin(struct cli_list *l, int json, int ncols);
/* One item: obj for JSON (taken; NULL is fine for a table) or the row's
 * ncols texts for the table (copied; NULL prints empty). 0, or 1 when out
 * of memory: a list callback returns that to stop the listing. */
int cli_list_add(struct cli_list *l, json_t *obj, const char *const *cols);
/* When ok, print the listing (the table under header, or the JSON array);
 * then free it all. CLI_OK, or an error said when out of memory. */
int cli_list_end(struct cli_list *l, const char *const *header, int ok);

#endif
