/*
 * cmd_overlay.c - fleetboot overlay list | reset MAC | commit MAC --as NAME
 *
 * reset discards a machine's overlay at once when no connection holds it,
 * otherwise marks it reset_pending and storaged discards it once the
 * machine's next boot begins (never under the boot that is using it). commit
 * writes base + overlay as a new version of image NAME (new immutable
 * files, registered in the DB) while every other machine keeps its own
 * pinned version.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>
#include <jansson.h>

#include "cli.h"
#include "image_version.h"
#include "clock.h"
#include "stateperm.h"
#include "cow/cow.h"
#include "fileio.h"
#include "progress.h"
#include "sha256.h"
#include "size.h"
#include "str.h"

static struct cli_cmd overlay_cmd;

static void overlay_path(struct cli_ctx *ctx, const char *mac, char *out, size_t len)
{
	/* Same rule as storaged/disk.c sd_overlay_path(). */
	snprintf(out, len, "%s/overlays/%s.ovl", ctx->cfg.state_dir, mac);
}

struct list_state {
	struct fb_db *db;
	json_t *arr;
	char ***rows;
	int n, cap;
};

static int list_cb(void *arg, const struct fb_overlay *o)
{
	struct list_state *ls = arg;
	struct fb_image img;
	char ref[FB_REF_LEN + 16] = "?", size[32], created[32];
	int live = cow_ovl_in_use(o->path);
	const char *state = live < 0           ? "missing"
	                    : o->reset_pending ? "reset-pending"
	                    : live             ? "connected"
	                                       : "idle";
	struct stat st;
	uint64_t held = (uint64_t)o->bytes;

	if (fb_db_image_get_id(ls->db, o->image_id, &img) == 0)
		snprintf(ref, sizeof(ref), "%s@%d", img.name, img.version);
	/* The file's allocated space is the truth when nobody reported yet. */
	if (stat(o->path, &st) == 0 && !held)
		held = (uint64_t)st.st_blocks * 512;
	if (ls->arr) {
		json_array_append_new(
		    ls->arr, json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:b, s:I, s:I}", "mac",
		                       o->mac, "image", ref, "image_id", (json_int_t)o->image_id,
		                       "path", o->path, "bytes", (json_int_t)held, "state", state,
		                       "reset_pending", o->reset_pending, "boot_seq",
		                       (json_int_t)o->boot_seq, "created", (json_int_t)o->created));
		return 0;
	}
	if (ls->n == ls->cap) {
		int cap = ls->cap ? ls->cap * 2 : 16;
		char ***r = realloc(ls->rows, (size_t)cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		ls->rows = r;
		ls->cap = cap;
	}
	fb_format_size(held, size, sizeof(size));
	snprintf(created, sizeof(created), "%" PRId64, o->created);
	char **row = calloc(4, sizeof(char *));
	if (!row)
		return -ENOMEM;
	row[0] = strdup(o->mac);
	row[1] = strdup(ref);
	row[2] = strdup(size);
	row[3] = strdup(state);
	ls->rows[ls->n++] = row;
	return 0;
}

static int cmd_list(struct cli_ctx *ctx, int json)
{
	struct fb_db *db = cli_db(ctx);
	struct list_state ls = {.db = db};
	static const char *const header[] = {"MACHINE", "IMAGE", "SIZE", "STATE"};
	int rc;

	if (!db)
		return CLI_ERR;
	if (json)
		ls.arr = json_array();
	rc = fb_db_overlay_list(db, list_cb, &ls);
	if (rc < 0) {
		json_decref(ls.arr);
		return cli_error("cannot list overlays: %s", fb_db_errmsg(db));
	}
	if (json) {
		char *t = json_dumps(ls.arr, JSON_INDENT(2));
		puts(t ? t : "[]");
		free(t);
		json_decref(ls.arr);
		return CLI_OK;
	}
	cli_table(stdout, header, 4, ls.rows, ls.n);
	for (int i = 0; i < ls.n; i++) {
		for (int k = 0; k < 4; k++)
			free(ls.rows[i][k]);
		free(ls.rows[i]);
	}
	free(ls.rows);
	return CLI_OK;
}

static int cmd_reset(struct cli_ctx *ctx, const char *mac)
{
	struct fb_db *db = cli_db(ctx);
	struct fb_overlay row;
	char path[FB_PATH_LEN];
	int have, fd;

	if (!db)
		return CLI_ERR;
	have = fb_db_overlay_get(db, mac, &row) == 0;
	overlay_path(ctx, mac, path, sizeof(path));
	fd = cow_ovl_lock(path);
	if (fd == -EBUSY) {
		if (!have)
			return cli_error("overlay of %s is in use but not recorded", mac);
		/* Remember the boot it was asked in (+1, so never 0): storaged
		 * discards once a later boot begins (storaged/disk.c). */
		int64_t seq = 0;
		fb_db_machine_boot_seq(db, mac, &seq);
		if (fb_db_overlay_set_reset_pending(db, mac, (int)(seq + 1)) < 0)
			return cli_error("%s", fb_db_errmsg(db));
		printf("%s is connected: its overlay will be discarded when its current boot "
		       "ends\n",
		       mac);
		return CLI_OK;
	}
	if (fd < 0 && fd != -ENOENT)
		return cli_error("%s: %s", path, strerror(-fd));
	if (fd == -ENOENT && !have)
		return cli_error("%s has no overlay", mac);
	if (fd >= 0 && cow_ovl_discard(path, fd) < 0)
		return cli_error("%s: cannot remove: %s", path, strerror(errno));
	if (have && fb_db_overlay_delete(db, mac) < 0)
		return cli_error("%s", fb_db_errmsg(db));
	printf("overlay of %s discarded\n", mac);
	return CLI_OK;
}

static int commit_progress(void *arg, uint64_t done, uint64_t total)
{
	if (image_version_interrupted())
		return 1;
	return fb_progress_stderr(arg, done, total);
}

static int write_manifest(const char *dir, const struct fb_image *img, const char *mac,
                          const struct fb_image *from)
{
	char p[FB_PATH_LEN];
	json_t *m =
	    json_pack("{s:s, s:s, s:i, s:s, s:s, s:{s:s, s:i, s:s}, s:I}", "kind", img->kind,
	              "name", img->name, "version", img->version, "cmdline", img->cmdline, "source",
	              img->source, "commit", "machine", mac, "base_version", from->version,
	              "base_name", from->name, "imported", (json_int_t)fb_now());
	if (m && img->verity_root_hash[0])
		json_object_set_new(m, "verity",
		                    json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "root_hash",
		                              img->verity_root_hash, "salt", img->verity_salt,
		                              "hash", "sha256", "data_block_size", 4096,
		                              "hash_block_size", 4096, "tree", "rootfs.verity"));
	char *t = m ? json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(m);
	if (!t)
		return -1;
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	int rc = fb_write_file_atomic(p, t, strlen(t), 0644);
	free(t);
	return rc;
}

/* The overlay being committed, opened read-only over its base. */
struct commit_src {
	struct cow_header h;    /* the overlay's header */
	struct fb_image from;   /* the base version it is pinned to */
	struct cow_base *base;  /* NULL until opened */
	struct cow_ovl *ovl;    /* NULL until opened */
	char vdir[FB_PATH_LEN]; /* the bases' verification records */
};

/* Open mac's overlay over its base with a shared lock, so the machine
 * cannot be writing while it is copied. CLI_OK or CLI_ERR (said); s holds
 * whatever was opened either way, for the caller to close. */
static int commit_open(struct cli_ctx *ctx, const char *mac, struct commit_src *s)
{
	struct fb_db *db = ctx->db;
	struct fb_overlay row;
	char path[FB_PATH_LEN], why[512], basep[FB_PATH_LEN + 16];
	int rc;

	overlay_path(ctx, mac, path, sizeof(path));
	if (fb_db_overlay_get(db, mac, &row) < 0 && access(path, F_OK) < 0)
		return cli_error("%s has no overlay", mac);
	if ((rc = cow_ovl_read_header(path, &s->h, why, sizeof(why))) < 0)
		return cli_error("%s", why);
	if ((rc = fb_db_image_get_id(db, s->h.image_id, &s->from)) < 0)
		return cli_error("the overlay's base image (id %" PRId64 ") is gone",
		                 s->h.image_id);
	cow_verify_dir(ctx->cfg.state_dir, s->vdir, sizeof(s->vdir));
	snprintf(basep, sizeof(basep), "%s/rootfs.img", s->from.dir);
	if ((rc = cow_base_get(s->from.id, basep, s->from.sha256, s->vdir, &s->base, why,
	                       sizeof(why))) < 0)
		return cli_error("%s", why);
	rc = cow_ovl_open(path, s->base, COW_OPEN_RDONLY, &s->ovl, why, sizeof(why));
	if (rc == -EBUSY)
		return cli_error("%s is connected: shut it down before committing its overlay",
		                 mac);
	if (rc < 0)
		return cli_error("%s", why);
	return CLI_OK;
}

/* Write the new version's files into tmp: the overlay's contents as
 * rootfs.img, the base's kernel and initrd, and the manifest; img gets their
 * hashes and sizes. 0, or -1 (said). */
static int commit_write(const struct commit_src *s, const char *mac, const char *tmp,
                        struct fb_image *img)
{
	char p[FB_PATH_LEN + 64], q[FB_PATH_LEN + 64];
	int rc = 0, ret = -1;
	snprintf(p, sizeof(p), "%s/rootfs.img", tmp);
	int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 || (rc = cow_ovl_export(s->ovl, fd, img->sha256, commit_progress,
	                                   (void *)"writing rootfs.img")) < 0) {
		cli_error("%s: %s", p,
		          rc == -ECANCELED ? "interrupted" : strerror(fd < 0 ? errno : -rc));
		goto out;
	}
	img->size = (int64_t)s->h.size;
	const char *leaf[] = {"vmlinuz", "initrd.img"};
	char *sha[] = {img->kernel_sha256, img->initrd_sha256};
	/* A whole-disk image stays one: no kernel or initrd to carry over. */
	fb_strlcpy(img->kind, s->from.kind, sizeof(img->kind));
	for (int i = 0; i < (fb_image_is_disk(&s->from) ? 0 : 2); i++) {
		snprintf(p, sizeof(p), "%s/%s", s->from.dir, leaf[i]);
		snprintf(q, sizeof(q), "%s/%s", tmp, leaf[i]);
		if (fb_copy_file(p, q, sha[i], NULL, NULL) < 0) {
			cli_error("%s: %s", p, strerror(errno));
			goto out;
		}
	}
	fb_strlcpy(img->cmdline, s->from.cmdline, sizeof(img->cmdline));
	snprintf(img->source, sizeof(img->source), "commit:%s over %s@%d", mac, s->from.name,
	         s->from.version);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Make the overlay's contents a new version of image name. CLI_OK or
 * CLI_ERR (said). */
static int commit_publish(struct cli_ctx *ctx, const struct commit_src *s, const char *mac,
                          const char *name)
{
	struct image_version v;
	int rc = image_version_begin(ctx, name, 0, &v);
	if (rc != CLI_OK)
		return rc;
	if (commit_write(s, mac, v.tmp, &v.img) < 0) {
		fb_rm_rf(v.tmp);
		return CLI_ERR;
	}
	/* Like an import: its dm-verity tree, and its signed UKI when the
	 * site key exists. */
	if ((rc = image_version_seal(ctx, &v)) != CLI_OK)
		return rc;
	if (write_manifest(v.tmp, &v.img, mac, &s->from) < 0) {
		fb_rm_rf(v.tmp);
		return cli_error("%s: cannot write manifest.json", v.tmp);
	}
	if ((rc = image_version_publish(ctx, &v, "commit")) != CLI_OK)
		return rc;
	printf("committed %s's overlay over %s@%d as %s@%d (sha256 %.16s...)\n", mac, s->from.name,
	       s->from.version, name, v.img.version, v.img.sha256);
	return CLI_OK;
}

static int cmd_commit(struct cli_ctx *ctx, const char *mac, const char *name)
{
	struct commit_src s = {0};
	int ret;

	if (!cli_db(ctx))
		return CLI_ERR;
	if (!fb_image_name_valid(name))
		return cli_error("--as: invalid image name '%s'", name);
	ret = commit_open(ctx, mac, &s);
	if (ret == CLI_OK)
		ret = commit_publish(ctx, &s, mac, name);
	cow_ovl_close(s.ovl);
	cow_base_put(s.base);
	return ret;
}

static int overlay_run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}, {"as", 1, NULL}};
	char *pos[3];
	char mac[FB_MACID_LEN];
	int npos = 0, rc;

	rc = cli_parse(&overlay_cmd, argc - 1, argv + 1, o, 2, pos, 3, &npos);
	if (rc)
		return rc;
	if (npos < 1)
		return cli_usage(&overlay_cmd, "overlay: which action?");
	if (!strcmp(pos[0], "list")) {
		if (npos != 1)
			return cli_usage(&overlay_cmd, "overlay list takes no arguments");
		return cmd_list(ctx, cli_optval(o, 2, "json") != NULL);
	}
	if (strcmp(pos[0], "reset") && strcmp(pos[0], "commit"))
		return cli_usage(&overlay_cmd, "overlay: unknown action '%s'", pos[0]);
	if (npos != 2)
		return cli_usage(&overlay_cmd, "overlay %s needs one MAC", pos[0]);
	if (macid_normalize(pos[1], mac) < 0)
		return cli_error("'%s' is not a MAC address", pos[1]);
	if (!strcmp(pos[0], "reset"))
		return cmd_reset(ctx, mac);
	const char *as = cli_optval(o, 2, "as");
	if (!as)
		return cli_usage(&overlay_cmd, "overlay commit needs --as NAME");
	return cmd_commit(ctx, mac, as);
}

static struct cli_cmd overlay_cmd = {
    .name = "overlay",
    .usage = "  overlay list [--json]\n"
             "  overlay reset MAC\n"
             "  overlay commit MAC --as NAME    (overlay + base -> new version of NAME)\n",
    .run = overlay_run,
};
CLI_COMMAND(overlay_cmd)
