/*
 * cmd_user.c - web users:
 *
 *   fleetboot user passwd [NAME]     set NAME's password (default admin)
 *   fleetboot user token ...         same as `fleetboot token ...`
 *
 * The new password is read from standard input when it is not a terminal
 * (one line), else prompted for twice with echo off. There is no default
 * password: `fleetboot init` makes a random one and prints it once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "pwhash.h"

#define PW_MIN 8
#define PW_MAX 1024

int cli_token_run(struct cli_ctx *ctx, int argc, char **argv);
static int run_user(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_user = {
    .name = "user",
    .usage = "  user passwd [NAME]            set a web password (stdin or prompt; default "
             "user admin)\n"
             "  user token create|list|revoke  same as token ...\n",
    .run = run_user,
};
CLI_COMMAND(cmd_user)

/* Read one line into buf; strips the newline. echo_off on a terminal. */
static int read_line(FILE *in, const char *prompt, int tty, char *buf, size_t len)
{
	struct termios old, quiet;
	int restore = 0;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(fileno(in), &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			restore = tcsetattr(fileno(in), TCSAFLUSH, &quiet) == 0;
		}
	}
	char *r = fgets(buf, (int)len, in);
	if (restore) {
		tcsetattr(fileno(in), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!r)
		return -1;
	size_t l = strlen(buf);
	if (l && buf[l - 1] == '\n')
		buf[--l] = '\0';
	else if (l == len - 1)
		return -2; /* longer than the buffer */
	if (l && buf[l - 1] == '\r')
		buf[--l] = '\0';
	return 0;
}

static int user_name_ok(const char *s)
{
	size_t l = strlen(s);
	if (l == 0 || l >= FB_NAME_LEN)
		return 0;
	for (size_t i = 0; i < l; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '-' || c == '_' || c == '.'))))
			return 0;
	}
	return 1;
}

static int user_passwd(struct cli_ctx *ctx, int argc, char **argv)
{
	char *pos[2];
	int npos, rc;
	if ((rc = cli_parse(&cmd_user, argc, argv, NULL, 0, pos, 1, &npos)))
		return rc;
	const char *name = npos ? pos[0] : "admin";
	if (!user_name_ok(name))
		return cli_error("%s: not a valid user name (letters, digits, '-', '_', '.')",
		                 name);
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;

	int tty = isatty(STDIN_FILENO);
	char pw[PW_MAX + 2], again[PW_MAX + 2], prompt[128];
	snprintf(prompt, sizeof(prompt), "new password for %s: ", name);
	rc = read_line(stdin, prompt, tty, pw, sizeof(pw));
	if (rc == -2)
		return cli_error("password: longer than %d characters", PW_MAX);
	if (rc < 0)
		return cli_error("password: nothing read from standard input");
	if (strlen(pw) < PW_MIN) {
		explicit_bzero(pw, sizeof(pw));
		return cli_error("password: at least %d characters", PW_MIN);
	}
	if (tty) {
		if (read_line(stdin, "again: ", tty, again, sizeof(again)) < 0 ||
		    strcmp(pw, again)) {
			explicit_bzero(pw, sizeof(pw));
			explicit_bzero(again, sizeof(again));
			return cli_error("password: the two entries differ; nothing changed");
		}
		explicit_bzero(again, sizeof(again));
	}
	char hash[FB_PWHASH_LEN];
	rc = fb_pwhash_make(pw, hash, sizeof(hash));
	explicit_bzero(pw, sizeof(pw));
	if (rc < 0)
		return cli_error("cannot hash the password");
	rc = fb_db_user_set(db, name, hash);
	if (rc < 0)
		return cli_error("cannot set the password: %s", fb_db_errmsg(db));
	fprintf(stderr, "password for %s set\n", name);
	return CLI_OK;
}

static int run_user(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(&cmd_user, "user needs a subcommand");
	if (!strcmp(argv[1], "passwd"))
		return user_passwd(ctx, argc - 2, argv + 2);
	if (!strcmp(argv[1], "token"))
		return cli_token_run(ctx, argc - 1, argv + 1);
	return cli_usage(&cmd_user, "unknown user subcommand '%s'", argv[1]);
}
