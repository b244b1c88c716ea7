/*
 * cmd_key.c - `fleetboot key init|import|show`: the site key that signs
 * the UKIs of Secure Boot machines (state_dir/keys/site.key, 0600, and
 * site.crt). Making or replacing it rebuilds every image version's
 * boot.efi, so what bootd serves is always signed with the current key.
 * The key and certificate are made and checked with OpenSSL's library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "sitekey.h"
#include "stateperm.h"
#include "uki.h"
#include "verity.h"

static int run_key(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_key = {
    .name = "key",
    .usage = "  key init [--bits 2048|4096] [--name CN] [--days N] [--force]\n"
             "  key import KEYFILE CERTFILE [--force] | show\n",
    .run = run_key,
};
CLI_COMMAND(cmd_key)

struct rebuild {
	struct cli_ctx *ctx;
	int done, failed;
};

static int rebuild_one(void *arg, const struct fb_image *cimg)
{
	struct rebuild *r = arg;
	struct fb_image img = *cimg;
	char why[FB_PATH_LEN + 256], p[FB_PATH_LEN + 16];
	if (fb_image_is_disk(&img))
		return 0; /* a whole disk boots its own loader: no UKI to sign */
	if (!img.verity_root_hash[0]) {
		snprintf(p, sizeof(p), "%s/rootfs.img", img.dir);
		struct stat st;
		const char *no = stat(p, &st) < 0    ? strerror(errno)
		                 : st.st_size % 4096 ? "size not a multiple of 4096"
		                                     : NULL;
		if (no) {
			/* Not an error of the key: this version is just never
			 * offered to Secure Boot machines. */
			printf("%s@%d: no dm-verity tree (%s), so no boot.efi\n", img.name,
			       img.version, no);
			return 0;
		}
		if (verity_backfill(r->ctx->db, r->ctx->cfg.state_dir, &img, why, sizeof(why)) <
		    0) {
			fprintf(stderr, "fleetboot: %s@%d: %s\n", img.name, img.version, why);
			r->failed++;
			return 0;
		}
		printf("%s@%d: made its dm-verity tree (root hash %.16s...)\n", img.name,
		       img.version, img.verity_root_hash);
	}
	char sha[FB_SHA256_HEX];
	if (uki_build(&r->ctx->cfg, &img, img.dir, sha, why, sizeof(why)) < 0) {
		fprintf(stderr, "fleetboot: %s@%d: %s\n", img.name, img.version, why);
		r->failed++;
		return 0;
	}
	snprintf(p, sizeof(p), "%s/boot.efi", img.dir);
	fb_state_give(r->ctx->cfg.state_dir, p);
	/* Recorded: bootd sees the change at once (the database's). */
	if (fb_db_image_set_uki(r->ctx->db, img.id, sha) < 0) {
		fprintf(stderr, "fleetboot: %s@%d: %s\n", img.name, img.version,
		        fb_db_errmsg(r->ctx->db));
		r->failed++;
		return 0;
	}
	r->done++;
	return 0;
}

/* Sign every version's UKI anew with the key just put in place. */
static int rebuild_all(struct cli_ctx *ctx)
{
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	struct rebuild r = {ctx, 0, 0};
	if (fb_db_image_list(db, NULL, rebuild_one, &r) < 0)
		return cli_error("%s", fb_db_errmsg(db));
	printf("rebuilt and signed boot.efi of %d image version(s)%s\n", r.done,
	       r.failed ? "; some failed (above)" : "");
	return r.failed ? CLI_ERR : CLI_OK;
}

/* state_dir/keys, the service's alone; CLI_OK or CLI_ERR (said). */
static int keys_dir(struct cli_ctx *ctx)
{
	char d[FB_PATH_LEN];
	snprintf(d, sizeof(d), "%s/keys", ctx->cfg.state_dir);
	struct stat st;
	if (stat(ctx->cfg.state_dir, &st) < 0)
		return cli_error("%s: %s (did you run fleetboot init?)", ctx->cfg.state_dir,
		                 strerror(errno));
	if (fb_mkdir_p(d, 0700) < 0)
		return cli_error("%s: %s", d, strerror(errno));
	return CLI_OK;
}

static int refuse_existing(struct cli_ctx *ctx, int force)
{
	char key[FB_PATH_LEN], crt[FB_PATH_LEN];
	uki_key_paths(&ctx->cfg, key, sizeof(key), crt, sizeof(crt));
	if (!force && (access(key, F_OK) == 0 || access(crt, F_OK) == 0))
		return cli_error("a site key already exists (%s); machines that enrolled it "
		                 "would refuse UKIs signed with a new one. Replace it with --force",
		                 key);
	return CLI_OK;
}

/* Give the key files to the state tree's owner; the key stays 0600. */
static void give_keys(struct cli_ctx *ctx)
{
	char d[FB_PATH_LEN];
	snprintf(d, sizeof(d), "%s/keys", ctx->cfg.state_dir);
	fb_state_give(ctx->cfg.state_dir, d);
}

static int do_init(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {
	    {"bits", 1, NULL}, {"name", 1, NULL}, {"days", 1, NULL}, {"force", 0, NULL}};
	const size_t no = sizeof(o) / sizeof(o[0]);
	int npos, rc;
	char host[64], cn[128], why[FB_PATH_LEN + 256];
	if ((rc = cli_parse(&cmd_key, argc, argv, o, no, NULL, 0, &npos)))
		return rc;
	const char *bits_s = cli_optval(o, no, "bits"), *days_s = cli_optval(o, no, "days");
	int bits = bits_s ? atoi(bits_s) : 2048;
	if (bits != 2048 && bits != 4096)
		return cli_usage(&cmd_key, "--bits: 2048 or 4096");
	int days = days_s ? atoi(days_s) : 3650;
	if (days < 1 || days > 36500)
		return cli_usage(&cmd_key, "--days: 1 to 36500");
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "fleetboot");
	host[sizeof(host) - 1] = 0;
	const char *name = cli_optval(o, no, "name");
	if (name)
		snprintf(cn, sizeof(cn), "%s", name);
	else
		snprintf(cn, sizeof(cn), "fleetboot site key (%s)", host);
	if ((rc = refuse_existing(ctx, cli_optval(o, no, "force") != NULL)) || (rc = keys_dir(ctx)))
		return rc;
	char key[FB_PATH_LEN], crt[FB_PATH_LEN];
	uki_key_paths(&ctx->cfg, key, sizeof(key), crt, sizeof(crt));
	if (sitekey_generate(key, crt, bits, cn, days, why, sizeof(why)) < 0)
		return cli_error("%s", why);
	give_keys(ctx);
	printf("made the site key: RSA-%d, %s (key %s, mode 0600)\n", bits, crt, key);
	printf("enroll %s in your machines' firmware: `fleetboot key show`\n", crt);
	return rebuild_all(ctx);
}

static int do_import(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"force", 0, NULL}};
	char *pos[2];
	int npos, rc;
	char why[FB_PATH_LEN * 2 + 256];
	if ((rc = cli_parse(&cmd_key, argc, argv, o, 1, pos, 2, &npos)))
		return rc;
	if (npos != 2)
		return cli_usage(&cmd_key, "key import needs KEYFILE and CERTFILE");
	if ((rc = refuse_existing(ctx, o[0].val != NULL)) || (rc = keys_dir(ctx)))
		return rc;
	char key[FB_PATH_LEN], crt[FB_PATH_LEN];
	uki_key_paths(&ctx->cfg, key, sizeof(key), crt, sizeof(crt));
	if (sitekey_import(pos[0], pos[1], key, crt, why, sizeof(why)) < 0)
		return cli_error("%s", why);
	give_keys(ctx);
	printf("imported the site key (key %s, mode 0600; certificate %s)\n", key, crt);
	return rebuild_all(ctx);
}

static int do_show(struct cli_ctx *ctx, int argc, char **argv)
{
	int npos, rc;
	char text[2048], why[FB_PATH_LEN + 256];
	if ((rc = cli_parse(&cmd_key, argc, argv, NULL, 0, NULL, 0, &npos)))
		return rc;
	char key[FB_PATH_LEN], crt[FB_PATH_LEN];
	uki_key_paths(&ctx->cfg, key, sizeof(key), crt, sizeof(crt));
	if (access(crt, F_OK) < 0)
		return cli_error("no site key yet: make one with `fleetboot key init` or bring "
		                 "yours with `fleetboot key import KEYFILE CERTFILE`");
	if (sitekey_describe(crt, text, sizeof(text), why, sizeof(why)) < 0)
		return cli_error("%s: %s", crt, why);
	printf("certificate: %s\nprivate key: %s\n%s\n", crt, key, text);
	printf("How to enroll it (each Secure Boot machine must trust it before it is set to\n"
	       "--secure-boot on):\n"
	       "- Firmware db, on machines you control: convert it to DER\n"
	       "  (`openssl x509 -in %s -outform DER -out site.cer`) and add site.cer to the\n"
	       "  firmware's \"db\" (authorized signatures) in its setup screen, with KeyTool\n"
	       "  (efitools), or from a running Linux with `efi-updatevar -a -c %s db`\n"
	       "  (needs the KEK's private key, or the firmware in Setup Mode).\n"
	       "- Machines that boot through shim: `mokutil --import site.cer`, then confirm\n"
	       "  the enrollment in MokManager at the next boot.\n"
	       "Then: fleetboot machine set MAC --secure-boot on\n",
	       crt, crt);
	return CLI_OK;
}

static int run_key(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"init", do_init},
	    {"import", do_import},
	    {"show", do_show},
	};
	return cli_dispatch(&cmd_key, ctx, argc, argv, subs, sizeof(subs) / sizeof(subs[0]));
}
