/*
 * image_version.c - see image_version.h.
 */
#include "image_version.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cow/cow.h"
#include "fileio.h"
#include "stateperm.h"
#include "str.h"
#include "uki.h"
#include "verity.h"

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

int image_version_interrupted(void)
{
	return interrupted;
}

/* Remove temporary folders of runs whose process is gone. */
static void sweep_stale(const char *name_dir)
{
	DIR *d = opendir(name_dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		int ver, pid;
		if (sscanf(e->d_name, ".tmp-%d-%d", &ver, &pid) != 2)
			continue;
		if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
			continue;
		char p[FB_PATH_LEN];
		if (snprintf(p, sizeof(p), "%s/%s", name_dir, e->d_name) < (int)sizeof(p))
			fb_rm_rf(p);
	}
	closedir(d);
}

int image_version_begin(struct cli_ctx *ctx, const char *name, int sweep, struct image_version *v)
{
	struct fb_db *db = ctx->db;
	memset(v, 0, sizeof(*v));
	snprintf(v->name_dir, sizeof(v->name_dir), "%s/images/%s", ctx->cfg.state_dir, name);
	struct stat nst;
	int made = stat(v->name_dir, &nst) < 0;
	if (fb_mkdir_p(v->name_dir, 0750) < 0 ||
	    (made && fb_state_give(ctx->cfg.state_dir, v->name_dir) < 0))
		return cli_error("%s: %s", v->name_dir, strerror(errno));
	if (sweep)
		sweep_stale(v->name_dir);
	fb_strlcpy(v->img.name, name, sizeof(v->img.name));
	if (fb_db_image_reserve_version(db, name, &v->img.version) < 0)
		return cli_error("%s", fb_db_errmsg(db));
	snprintf(v->tmp, sizeof(v->tmp), "%s/.tmp-%d-%d", v->name_dir, v->img.version,
	         (int)getpid());
	snprintf(v->final, sizeof(v->final), "%s/%d", v->name_dir, v->img.version);
	if (mkdir(v->tmp, 0750) < 0)
		return cli_error("%s: %s", v->tmp, strerror(errno));
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return CLI_OK;
}

/* The version's dm-verity hash tree, and its signed UKI when the site key
 * exists. A root file system whose size is not a whole number of 4096-byte
 * blocks gets no tree (its tail would go unchecked): said, not fatal;
 * a version without a tree is never offered to Secure Boot machines. */
int image_version_seal(struct cli_ctx *ctx, struct image_version *v)
{
	struct fb_image *img = &v->img;
	char data[FB_PATH_LEN + 48], hash[FB_PATH_LEN + 48], why[FB_PATH_LEN + 256];
	snprintf(data, sizeof(data), "%s/rootfs.img", v->tmp);
	snprintf(hash, sizeof(hash), "%s/rootfs.verity", v->tmp);
	/* A whole disk boots its own loader from its own partitions: nothing
	 * here could check what it loads, so no tree and no UKI. */
	if (fb_image_is_disk(img))
		return CLI_OK;
	if (img->size % 4096) {
		fprintf(stderr,
		        "fleetboot: warning: the root file system's size (%lld) is not a multiple "
		        "of 4096 bytes: no dm-verity tree, so no verified boot for %s@%d\n",
		        (long long)img->size, img->name, img->version);
		return CLI_OK;
	}
	if (verity_format(data, hash, img->verity_root_hash, img->verity_salt, why, sizeof(why)) <
	    0) {
		fb_rm_rf(v->tmp);
		return cli_error("%s", why);
	}
	if (uki_key_present(&ctx->cfg) &&
	    uki_build(&ctx->cfg, img, v->tmp, img->uki_sha256, why, sizeof(why)) < 0) {
		fb_rm_rf(v->tmp);
		return cli_error("%s", why);
	}
	return CLI_OK;
}

int image_version_publish(struct cli_ctx *ctx, struct image_version *v, const char *what)
{
	struct fb_db *db = ctx->db;
	struct fb_image *img = &v->img;
	/* Root writing into the service user's tree: the daemons serve these. */
	if (fb_state_give(ctx->cfg.state_dir, v->tmp) < 0) {
		int e = errno;
		fb_rm_rf(v->tmp);
		return cli_error("%s: cannot give to the service user: %s", v->tmp, strerror(e));
	}
	fb_fsync_dir(v->tmp);
	if (interrupted) {
		fb_rm_rf(v->tmp);
		return cli_error("%s interrupted; nothing registered", what);
	}
	if (rename(v->tmp, v->final) < 0) {
		int e = errno;
		fb_rm_rf(v->tmp);
		return cli_error("%s: %s", v->final, strerror(e));
	}
	fb_fsync_dir(v->name_dir);
	fb_strlcpy(img->dir, v->final, sizeof(img->dir));
	if (fb_db_image_add(db, img) < 0) {
		fb_rm_rf(v->final);
		return cli_error("cannot register %s@%d: %s", img->name, img->version,
		                 fb_db_errmsg(db));
	}
	/* The hash just taken is storaged's verification too: recorded, the
	 * first machine to boot it does not wait for a second full hash. */
	char vdir[FB_PATH_LEN], p[FB_PATH_LEN + 48];
	cow_verify_dir(ctx->cfg.state_dir, vdir, sizeof(vdir));
	snprintf(p, sizeof(p), "%s/rootfs.img", v->final);
	if (cow_base_record(img->id, p, img->sha256, vdir) < 0)
		(void)cli_error(
		    "warning: cannot record the verification of %s: storaged will hash it once", p);
	return CLI_OK;
}
