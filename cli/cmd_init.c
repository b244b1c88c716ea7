/*
 * cmd_init.c - `fleetboot init`: the state tree, the database, the TFTP root
 * with Debian's iPXE binaries, and the admin account. Running it again is
 * harmless: what exists is kept, and no second password is made.
 *
 * Run as root, it gives a root-owned state tree to the service user
 * ("fleetboot", which `make install` creates; FLEETBOOT_USER names another),
 * so the daemons drop root after binding their ports: they run as the
 * owner of the state directory. It refuses, changing nothing, when that
 * user could not reach the state directory (svc_reach.c).
 *
 * The tree is the service's alone: the state directory is 0750 and the
 * database 0600 (a tree made before that, 0755 and 0644, is tightened here
 * and by the next daemon start); overlays and tmp are 0700.
 */
#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "fileio.h"
#include "pwhash.h"
#include "sha256.h"
#include "stateperm.h"
#include "svc_reach.h"
#include "tls_ca.h"
#include "cow/cow.h"

static const char *const ipxe_files[] = {"undionly.kpxe", "ipxe.efi", "snponly.efi"};

static int copy_ipxe(const char *tftp)
{
	const char *src_dir = getenv("FLEETBOOT_IPXE_DIR");
	int missing = 0;
	if (!src_dir || !*src_dir)
		src_dir = "/usr/lib/ipxe";
	for (size_t i = 0; i < sizeof(ipxe_files) / sizeof(ipxe_files[0]); i++) {
		char src[FB_PATH_LEN], dst[FB_PATH_LEN], tmp[FB_PATH_LEN + 8];
		snprintf(src, sizeof(src), "%s/%s", src_dir, ipxe_files[i]);
		snprintf(dst, sizeof(dst), "%s/%s", tftp, ipxe_files[i]);
		snprintf(tmp, sizeof(tmp), "%s.new", dst);
		if (access(src, R_OK) < 0) {
			missing++;
			continue;
		}
		unlink(tmp);
		if (fb_copy_file(src, tmp, NULL, NULL, NULL) < 0 || chmod(tmp, 0644) < 0 ||
		    rename(tmp, dst) < 0) {
			cli_error("%s: cannot copy to %s: %s", src, dst, strerror(errno));
			unlink(tmp);
			return -1;
		}
	}
	if (missing)
		fprintf(stderr,
		        "fleetboot: warning: %d iPXE binaries missing from %s; install Debian's "
		        "ipxe package and run 'fleetboot init' again\n",
		        missing, src_dir);
	return 0;
}

static uid_t tree_uid;
static gid_t tree_gid;

static int chown_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	if (lchown(path, tree_uid, tree_gid) < 0) {
		cli_error("%s: cannot give to the service user: %s", path, strerror(errno));
		return 1;
	}
	return 0;
}

/* Image versions whose storaged verification record is valid: a chown
 * moves the files' ctime, which voids the records, so they are written
 * again afterwards (else storaged would hash every image once more). */
struct verified {
	size_t n, cap;
	struct fb_image *v;
	const char *vdir;
};

static void rootfs_path(const struct fb_image *img, char *out, size_t len)
{
	snprintf(out, len, "%s/rootfs.img", img->dir);
}

static int collect_verified(void *arg, const struct fb_image *img)
{
	struct verified *ver = arg;
	char p[FB_PATH_LEN + 16];
	rootfs_path(img, p, sizeof(p));
	if (!cow_base_record_ok(img->id, p, img->sha256, ver->vdir))
		return 0;
	if (ver->n == ver->cap) {
		size_t cap = ver->cap ? ver->cap * 2 : 8;
		struct fb_image *v = realloc(ver->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ver->v = v;
		ver->cap = cap;
	}
	ver->v[ver->n++] = *img;
	return 0;
}

/* Root running init on a state tree still owned by root: hand the tree to
 * the service user, if there is one. A tree already given to someone is
 * left as it is. */
static int give_to_service_user(struct fb_db *db, const char *state_dir)
{
	struct stat st;
	if (geteuid() != 0 || stat(state_dir, &st) < 0 || st.st_uid != 0)
		return 0;
	const char *name = getenv("FLEETBOOT_USER");
	if (!name || !*name)
		name = FB_SERVICE_USER;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		fprintf(stderr,
		        "fleetboot: warning: no user '%s': %s stays owned by root, so the daemons "
		        "will keep root privileges ('make install' creates the user)\n",
		        name, state_dir);
		return 0;
	}
	if (pw->pw_uid == 0)
		return 0;
	tree_uid = pw->pw_uid;
	tree_gid = pw->pw_gid;
	char vdir[FB_PATH_LEN];
	cow_verify_dir(state_dir, vdir, sizeof(vdir));
	struct verified ver = {.vdir = vdir};
	fb_db_image_list(db, NULL, collect_verified, &ver);
	int rc = nftw(state_dir, chown_one, 16, FTW_PHYS) != 0 ? -1 : 0;
	for (size_t i = 0; i < ver.n; i++) {
		char p[FB_PATH_LEN + 16];
		rootfs_path(&ver.v[i], p, sizeof(p));
		cow_base_record(ver.v[i].id, p, ver.v[i].sha256, vdir);
	}
	free(ver.v);
	if (rc < 0)
		return -1;
	printf("fleetboot: %s belongs to %s; the daemons run as %s\n", state_dir, name, name);
	return 0;
}

static int run_init(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_init = {
    .name = "init",
    .usage = "  init                      create the state tree, database, TFTP root and admin "
             "account\n",
    .run = run_init,
};
CLI_COMMAND(cmd_init)

static int run_init(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct fb_config *c = &ctx->cfg;
	static const struct {
		const char *leaf;
		mode_t mode;
	} dirs[] = {{"", FB_STATE_DIR_MODE}, {"images", 0750}, {"overlays", 0700},
	            {"tftp", 0750},          {"tmp", 0700},    {"cache", 0750}};
	char path[FB_PATH_LEN];

	if (argc > 1)
		return cli_usage(&cmd_init, "init takes no arguments");
	/* Before anything is made: a tree the daemons' user cannot reach
	 * would look fine to root and serve nothing. */
	struct svc_user su;
	if (svc_user_for(c->state_dir, getenv("FLEETBOOT_USER"), &su)) {
		char msg[FB_PATH_LEN * 2 + 256];
		int r = svc_reach_check(c->state_dir, &su, msg, sizeof(msg));
		if (r < 0)
			return cli_error(
			    "%s: cannot check that the service user '%s' can reach it: %s",
			    c->state_dir, su.name, strerror(errno));
		if (r > 0)
			return cli_error("%s", msg);
		if (svc_make_parents(c->state_dir) < 0)
			return cli_error("%s: cannot create: %s", c->state_dir, strerror(errno));
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, dirs[i].leaf);
		int made = stat(path, &st) < 0;
		/* The umask (077) would leave a new folder 0700: set its mode. */
		if (fb_mkdir_p(path, dirs[i].mode) < 0 || (made && chmod(path, dirs[i].mode) < 0))
			return cli_error("%s: cannot create: %s", path, strerror(errno));
		if (access(path, W_OK) < 0)
			return cli_error("%s: not writable: %s", path, strerror(errno));
		/* Folders new to a tree given to the service user earlier. */
		if (made && i > 0 && fb_state_give(c->state_dir, path) < 0)
			return cli_error("%s: cannot give to the service user: %s", path,
			                 strerror(errno));
	}
	if (fb_state_tighten(c->state_dir) < 0)
		return cli_error("%s: cannot close to other users: %s", c->state_dir,
		                 strerror(errno));
	snprintf(path, sizeof(path), "%s/tftp", c->state_dir);
	if (copy_ipxe(path) < 0)
		return CLI_ERR;
	if (fb_state_give(c->state_dir, path) < 0)
		return cli_error("%s: cannot give to the service user: %s", path, strerror(errno));

	/* Before the tree is given to the service user, which must read the
	 * server key (nbdkit, bootd's HTTPS port). */
	if (fb_tls_ca_ensure(c->state_dir) < 0)
		return CLI_ERR;

	struct fb_db *db;
	int rc = fb_db_open_state(&db, c->state_dir);
	if (rc < 0)
		return cli_error("%s/fleetboot.db: cannot create database: %s", c->state_dir,
		                 strerror(-rc));
	ctx->db = db;
	if (fb_db_user_exists_any(db)) {
		printf("fleetboot: %s already initialised (database kept, schema version %d)\n",
		       c->state_dir, fb_db_schema_version(db));
		return give_to_service_user(db, c->state_dir) < 0 ? CLI_ERR : CLI_OK;
	}
	char pw[17], hash[FB_PWHASH_LEN];
	if (fb_password_random(pw, 16) < 0 || fb_pwhash_make(pw, hash, sizeof(hash)) < 0)
		return cli_error("cannot make a password: %s", strerror(errno));
	if ((rc = fb_db_user_set(db, "admin", hash)) < 0)
		return cli_error("cannot create the admin account: %s", fb_db_errmsg(db));
	if (give_to_service_user(db, c->state_dir) < 0)
		return CLI_ERR;
	printf("fleetboot: initialised %s\n", c->state_dir);
	printf("web login: admin / %s\n", pw);
	printf("(the password is shown only now; change it with 'fleetboot user passwd')\n");
	return CLI_OK;
}
