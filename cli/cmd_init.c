/*
 * cmd_init.c - `fleetboot init`: the state tree, the database, the TFTP root
 * with Debian's iPXE binaries, and the admin account. Running it again is
 * harmless: what exists is kept, and no second password is made.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "pwhash.h"

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
	} dirs[] = {{"", 0755},     {"images", 0755}, {"overlays", 0700},
	            {"tftp", 0755}, {"tmp", 0700},    {"cache", 0755}};
	char path[FB_PATH_LEN];

	if (argc > 1)
		return cli_usage(&cmd_init, "init takes no arguments");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, dirs[i].leaf);
		if (fb_mkdir_p(path, dirs[i].mode) < 0)
			return cli_error("%s: cannot create: %s", path, strerror(errno));
		if (access(path, W_OK) < 0)
			return cli_error("%s: not writable: %s", path, strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/tftp", c->state_dir);
	if (copy_ipxe(path) < 0)
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
		return CLI_OK;
	}
	char pw[17], hash[FB_PWHASH_LEN];
	if (fb_password_random(pw, 16) < 0 || fb_pwhash_make(pw, hash, sizeof(hash)) < 0)
		return cli_error("cannot make a password: %s", strerror(errno));
	if ((rc = fb_db_user_set(db, "admin", hash)) < 0)
		return cli_error("cannot create the admin account: %s", fb_db_errmsg(db));
	printf("fleetboot: initialised %s\n", c->state_dir);
	printf("web login: admin / %s\n", pw);
	printf("(the password is shown only now; change it with 'fleetboot user passwd')\n");
	return CLI_OK;
}
