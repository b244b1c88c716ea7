/*
 * cmd_entry.c - `fleetboot entry add|list|show|rm`: boot entries
 * (installers, rescue and diagnostic tools) for menus and next boots.
 *
 * A file given by path is copied into state_dir/entries/NAME/ under a fixed
 * name (kernel, initrd, image.iso, program.efi) with its sha256, and bootd
 * serves it at /entries/NAME/FILE as it serves image files. A file given by
 * URL (http or https only) is fetched by the client from there, or, with
 * --cache, fetched once here with curl, checked like a local file and then
 * served by bootd. Everything is checked before the database changes; a
 * failure leaves no row and no files.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "entryfile.h"
#include "fileio.h"
#include "sha256.h"
#include "stateperm.h"
#include "str.h"

static int run_entry(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_entry = {
    .name = "entry",
    .usage = "  entry add NAME --kernel URL|FILE [--initrd URL|FILE] [--cmdline STR] [--title STR] "
             "[--cache]\n"
             "  entry add NAME --iso URL|FILE | --efi URL|FILE [--title STR] [--cache]\n"
             "  entry list [--json] | show NAME [--json] | rm NAME\n",
    .run = run_entry,
};
CLI_COMMAND(cmd_entry)

static int is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

/* Fetch url into path with curl (http and https only, redirects to those
 * only, bounded in time). 0, or -1 with the reason in why. */
static int fetch(const char *opt, const char *url, const char *path, char *why, size_t len)
{
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, len, "--%s: cannot run curl: %s", opt, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0)
			dup2(null, 0);
		execlp("curl", "curl", "-fsSL", "--proto", "=http,https", "--proto-redir",
		       "=http,https", "--max-time", "600", "-o", path, "--", url, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			break;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		snprintf(why, len, "--%s %s: download failed (curl exit %d)", opt, url,
		         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -1;
	}
	return 0;
}

struct source {
	const char *opt;  /* "kernel", "initrd", "iso", "efi" */
	const char *arg;  /* what the user gave */
	const char *leaf; /* the served file's name */
	char *url;        /* entry field: the URL the client fetches ("" = served) */
	size_t url_len;
	char *sha; /* entry field: the served file's sha256 */
};

/* Put one file in dir (copied, or fetched with --cache), checked and
 * hashed; or leave it as a URL. */
static int place(const struct source *s, const char *dir, int cache, char *why, size_t len)
{
	char p[FB_PATH_LEN + 32];
	snprintf(p, sizeof(p), "%s/%s", dir, s->leaf);
	if (is_url(s->arg) && !cache) {
		fb_strlcpy(s->url, s->arg, s->url_len);
		return 0;
	}
	char label[16];
	snprintf(label, sizeof(label), "--%s", s->opt);
	if (is_url(s->arg)) {
		if (fetch(s->opt, s->arg, p, why, len) < 0 ||
		    fb_entry_file_check(s->opt, label, s->arg, p, why, len) < 0)
			return -1;
		if (fb_sha256_file(p, s->sha, NULL, NULL) < 0) {
			snprintf(why, len, "%s: %s", p, strerror(errno));
			return -1;
		}
		return 0;
	}
	return fb_entry_file_copy(s->opt, label, s->arg, p, s->sha, why, len);
}

static int do_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"kernel", 1, NULL}, {"initrd", 1, NULL}, {"cmdline", 1, NULL},
	                      {"iso", 1, NULL},    {"efi", 1, NULL},    {"title", 1, NULL},
	                      {"cache", 0, NULL}};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[1], why[2 * FB_PATH_LEN];
	int npos, rc;
	struct fb_entry e = {0};

	if ((rc = cli_parse(&cmd_entry, argc, argv, o, no, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_entry, "entry add needs a NAME");
	const char *kernel = cli_optval(o, no, "kernel"), *initrd = cli_optval(o, no, "initrd"),
	           *iso = cli_optval(o, no, "iso"), *efi = cli_optval(o, no, "efi"),
	           *cmdline = cli_optval(o, no, "cmdline"), *title = cli_optval(o, no, "title");
	int cache = cli_optval(o, no, "cache") != NULL;
	if (!!kernel + !!iso + !!efi != 1)
		return cli_usage(&cmd_entry, "entry add needs one of --kernel, --iso, --efi");
	if (!kernel && (initrd || cmdline))
		return cli_usage(&cmd_entry, "--initrd and --cmdline go with --kernel");
	const char *name = pos[0];
	if (strlen(name) >= sizeof(e.name))
		return cli_error("'%.70s...' is not a valid entry name (at most 63 characters)",
		                 name);
	fb_strlcpy(e.name, name, sizeof(e.name));
	e.kind = kernel ? FB_ENTRY_KERNEL : iso ? FB_ENTRY_ISO : FB_ENTRY_EFI;
	e.has_initrd = initrd != NULL;
	struct {
		const char *opt, *val;
		char *field;
		size_t len;
	} texts[] = {{"title", title, e.title, sizeof(e.title)},
	             {"cmdline", cmdline, e.cmdline, sizeof(e.cmdline)}};
	for (size_t i = 0; i < 2; i++) {
		if (!texts[i].val)
			continue;
		if (strlen(texts[i].val) >= texts[i].len)
			return cli_error("--%s: too long (at most %zu characters)", texts[i].opt,
			                 texts[i].len - 1);
		fb_strlcpy(texts[i].field, texts[i].val, texts[i].len);
	}
	struct source src[2] = {
	    {kernel ? "kernel"
	     : iso  ? "iso"
	            : "efi",
	     kernel ? kernel
	     : iso  ? iso
	            : efi,
	     fb_entry_boot_file(e.kind), e.boot_url, sizeof(e.boot_url), e.boot_sha256},
	    {"initrd", initrd, "initrd", e.initrd_url, sizeof(e.initrd_url), e.initrd_sha256}};
	int nsrc = initrd ? 2 : 1, any_url = 0;
	/* URLs are checked before anything is fetched or copied. */
	for (int i = 0; i < nsrc; i++) {
		if (!is_url(src[i].arg))
			continue;
		any_url = 1;
		if (!fb_entry_url_valid(src[i].arg))
			return cli_error(
			    "--%s %s: not a URL a client can fetch (http:// or https://, "
			    "no spaces, quotes or '$')",
			    src[i].opt, src[i].arg);
		/* Stand-in so the whole entry validates before any copy. */
		fb_strlcpy(src[i].url, src[i].arg, src[i].url_len);
	}
	if (cache && !any_url)
		return cli_usage(&cmd_entry, "--cache is for entries given by URL");
	if (fb_entry_validate(&e, why, sizeof(why)) < 0)
		return cli_error("%s", why);
	for (int i = 0; i < nsrc; i++)
		src[i].url[0] = 0;
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	struct fb_entry old;
	struct fb_image img;
	if (fb_db_entry_get(db, e.name, &old) == 0)
		return cli_error("entry %s already exists", e.name);
	if (fb_db_image_resolve(db, e.name, &img) == 0)
		return cli_error("an image is named %s: entries and images share menu names",
		                 e.name);

	/* Files go to a scratch directory first, renamed into place whole. */
	char top[FB_PATH_LEN], dir[FB_PATH_LEN + 80], tmp[FB_PATH_LEN + 80];
	snprintf(top, sizeof(top), "%s/entries", ctx->cfg.state_dir);
	snprintf(dir, sizeof(dir), "%s/%s", top, e.name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp%ld", top, e.name, (long)getpid());
	if (fb_mkdir_p(top, 0750) < 0 || (fb_rm_rf(tmp), mkdir(tmp, 0750)) < 0)
		return cli_error("%s: %s", tmp, strerror(errno));
	for (int i = 0; i < nsrc; i++)
		if (place(&src[i], tmp, cache, why, sizeof(why)) < 0) {
			fb_rm_rf(tmp);
			return cli_error("%s", why);
		}
	snprintf(e.source, sizeof(e.source), "%s%s%s%s", cache ? "cached:" : "", src[0].arg,
	         initrd ? " " : "", initrd ? initrd : "");
	/* A directory left by an entry removed half-way is no one's. */
	fb_rm_rf(dir);
	if (rename(tmp, dir) < 0) {
		int err = errno;
		fb_rm_rf(tmp);
		return cli_error("%s: %s", dir, strerror(err));
	}
	fb_fsync_dir(top);
	if (fb_state_give(ctx->cfg.state_dir, top) < 0)
		fprintf(stderr, "fleetboot: warning: %s: cannot give it to the service user: %s\n",
		        dir, strerror(errno));
	if ((rc = fb_db_entry_add(db, &e)) < 0) {
		fb_rm_rf(dir);
		return cli_error("%s", fb_db_errmsg(db));
	}
	printf("added entry %s (%s, %s)\n", e.name, fb_entry_kind_name(e.kind),
	       e.boot_url[0] ? "fetched by the client from its URL" : "served by bootd");
	return CLI_OK;
}

static json_t *entry_json(const struct fb_entry *e)
{
	json_t *j =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "name", e->name, "kind",
	              fb_entry_kind_name(e->kind), "title", e->title, "url", e->boot_url, "sha256",
	              e->boot_sha256, "source", e->source, "created", (json_int_t)e->created);
	if (!j)
		return NULL;
	json_object_set_new(j, "served", json_boolean(!e->boot_url[0]));
	if (e->kind == FB_ENTRY_KERNEL) {
		json_object_set_new(j, "cmdline", json_string(e->cmdline));
		json_object_set_new(j, "initrd", json_boolean(e->has_initrd));
		if (e->has_initrd) {
			json_object_set_new(j, "initrd_url", json_string(e->initrd_url));
			json_object_set_new(j, "initrd_sha256", json_string(e->initrd_sha256));
		}
	}
	return j;
}

static int list_cb(void *arg, const struct fb_entry *e)
{
	struct cli_list *l = arg;
	const char *cols[4] = {e->name, fb_entry_kind_name(e->kind),
	                       e->boot_url[0] ? "url" : "served", e->title};
	return cli_list_add(l, l->arr ? entry_json(e) : NULL, cols);
}

static int do_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_entry, argc, argv, o, 1, pos, 0, &npos)))
		return rc;
	if (!cli_db(ctx))
		return CLI_ERR;
	struct cli_list l;
	cli_list_begin(&l, o[0].val != NULL, 4);
	rc = fb_db_entry_list(ctx->db, list_cb, &l);
	static const char *const hdr[] = {"NAME", "KIND", "FILES", "TITLE"};
	int end = cli_list_end(&l, hdr, rc >= 0);
	return rc < 0 ? cli_error("%s", fb_db_errmsg(ctx->db)) : end;
}

static int do_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	struct fb_entry e;
	if ((rc = cli_parse(&cmd_entry, argc, argv, o, 1, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_entry, "entry show needs a NAME");
	if (!cli_db(ctx))
		return CLI_ERR;
	if (fb_db_entry_get(ctx->db, pos[0], &e) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	if (o[0].val) {
		json_t *j = entry_json(&e);
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
		return CLI_OK;
	}
	const char *leaf = fb_entry_boot_file(e.kind);
	printf("entry:    %s\nkind:     %s\ntitle:    %s\n", e.name, fb_entry_kind_name(e.kind),
	       e.title[0] ? e.title : e.name);
	if (e.boot_url[0])
		printf("%-9s %s (fetched by the client)\n",
		       leaf[0] == 'k' ? "kernel:" : "file:", e.boot_url);
	else
		printf("%-9s /entries/%s/%s (served by bootd, sha256 %s)\n",
		       leaf[0] == 'k' ? "kernel:" : "file:", e.name, leaf, e.boot_sha256);
	if (e.has_initrd && e.initrd_url[0])
		printf("initrd:   %s (fetched by the client)\n", e.initrd_url);
	else if (e.has_initrd)
		printf("initrd:   /entries/%s/initrd (served by bootd, sha256 %s)\n", e.name,
		       e.initrd_sha256);
	if (e.kind == FB_ENTRY_KERNEL)
		printf("cmdline:  %s\n", e.cmdline);
	printf("source:   %s\n", e.source);
	return CLI_OK;
}

static int do_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	char *pos[1];
	int npos, rc;
	struct fb_entry e;
	if ((rc = cli_parse(&cmd_entry, argc, argv, NULL, 0, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_entry, "entry rm needs a NAME");
	if (!cli_db(ctx))
		return CLI_ERR;
	if (fb_db_entry_get(ctx->db, pos[0], &e) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	if (!strcmp(ctx->cfg.menu_default, e.name))
		return cli_error("entry %s is in use: [bootd] menu_default names it", e.name);
	if (fb_db_entry_delete(ctx->db, e.name) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	char dir[FB_PATH_LEN + 80];
	snprintf(dir, sizeof(dir), "%s/entries/%s", ctx->cfg.state_dir, e.name);
	if (fb_rm_rf(dir) < 0 && errno != ENOENT)
		fprintf(stderr, "fleetboot: warning: %s: %s\n", dir, strerror(errno));
	printf("removed entry %s\n", e.name);
	return CLI_OK;
}

static int run_entry(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", do_add},
	    {"list", do_list},
	    {"show", do_show},
	    {"rm", do_rm},
	};
	return cli_dispatch(&cmd_entry, ctx, argc, argv, subs, sizeof(subs) / sizeof(subs[0]));
}
