/*
 * cmd_image.c - `fleetboot image import|list|show|verify|retire|build`.
 *
 * An import copies the files into state_dir/images/NAME/.tmp-VERSION, with
 * sha256 computed on the way, then renames the folder to VERSION and only
 * then registers the version in the database. A crash or Ctrl-C at any
 * point leaves at most an unregistered temp folder (swept by the next
 * import), never a registered version with missing files.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "image_version.h"
#include "clock.h"
#include "fileio.h"
#include "stateperm.h"
#include "image_check.h"
#include "locate.h"
#include "progress.h"
#include "sha256.h"
#include "size.h"
#include "str.h"
#include "cow/cow.h"
#include "uki.h"
#include "verity.h"

static int run_image(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_image = {
    .name = "image",
    .usage =
        "  image import NAME --rootfs FILE --kernel FILE --initrd FILE [--cmdline STR]\n"
        "               [--manifest FILE] [--source STR]\n"
        "  image import NAME --disk FILE [--source STR]   (a whole bootable disk: iPXE sanboot)\n"
        "  image build NAME --from SOURCE [--size SIZE] [--packages a,b] ...\n"
        "  image list [NAME] [--json] | show REF [--json] | verify REF | retire REF [--force]\n",
    .run = run_image,
};
CLI_COMMAND(cmd_image)

static int import_progress(void *label, uint64_t done, uint64_t total)
{
	if (image_version_interrupted())
		return 1;
	if (total >= (64u << 20))
		fb_progress_stderr(label, done, total);
	return 0;
}

static json_t *file_entry(const char *path, const char *sha)
{
	struct stat st;
	if (stat(path, &st) < 0)
		st.st_size = 0;
	return json_pack("{s:I, s:s}", "size", (json_int_t)st.st_size, "sha256", sha);
}

static int write_manifest(const char *dir, const char *manifest_in, const struct fb_image *img,
                          char *why, size_t len)
{
	json_t *m = NULL;
	json_error_t jerr;
	char p[FB_PATH_LEN];

	if (manifest_in) {
		m = json_load_file(manifest_in, 0, &jerr);
		if (!m || !json_is_object(m)) {
			snprintf(why, len, "--manifest %s: not a JSON object (line %d: %s)",
			         manifest_in, jerr.line, jerr.text);
			json_decref(m);
			return -1;
		}
	} else {
		m = json_object();
	}
	json_t *files = json_object();
	const char *names[] = {"rootfs.img", "vmlinuz", "initrd.img"};
	const char *shas[] = {img->sha256, img->kernel_sha256, img->initrd_sha256};
	for (int i = 0; i < 3; i++) {
		if (!shas[i][0])
			continue; /* a disk image has no kernel or initrd */
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		json_object_set_new(files, names[i], file_entry(p, shas[i]));
	}
	snprintf(p, sizeof(p), "%s/rootfs.verity", dir);
	char vsha[FB_SHA256_HEX];
	if (img->verity_root_hash[0] && fb_sha256_file(p, vsha, NULL, NULL) == 0) {
		json_object_set_new(files, "rootfs.verity", file_entry(p, vsha));
		json_object_set_new(m, "verity",
		                    json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "root_hash",
		                              img->verity_root_hash, "salt", img->verity_salt,
		                              "hash", "sha256", "data_block_size", 4096,
		                              "hash_block_size", 4096, "tree", "rootfs.verity"));
	}
	json_object_set_new(m, "kind", json_string(img->kind));
	json_object_set_new(m, "name", json_string(img->name));
	json_object_set_new(m, "version", json_integer(img->version));
	json_object_set_new(m, "files", files);
	json_object_set_new(m, "cmdline", json_string(img->cmdline));
	if (!json_object_get(m, "source"))
		json_object_set_new(m, "source", json_string(img->source));
	json_object_set_new(m, "imported", json_integer((json_int_t)fb_now()));
	char *text = json_dumps(m, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(m);
	if (!text) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	snprintf(p, sizeof(p), "%s/manifest.json", dir);
	int rc = fb_write_file_atomic(p, text, strlen(text), 0644);
	free(text);
	if (rc < 0)
		snprintf(why, len, "%s: %s", p, strerror(errno));
	return rc;
}

/* Copy the three files into tmp, hashing them into img (and taking the
 * root file system's size). CLI_OK, or CLI_ERR (said) with tmp removed. */
static int import_copy(const char *tmp, const char *name, const char *rootfs, const char *kernel,
                       const char *initrd, struct fb_image *img)
{
	char p[FB_PATH_LEN];
	struct {
		const char *src, *leaf;
		char *sha;
	} files[] = {{rootfs, "rootfs.img", img->sha256},
	             {kernel, "vmlinuz", img->kernel_sha256},
	             {initrd, "initrd.img", img->initrd_sha256}};
	for (int i = 0; i < 3; i++) {
		if (!files[i].src)
			continue; /* a disk image: the disk alone */
		char label[64];
		snprintf(label, sizeof(label), "copying %s", files[i].leaf);
		snprintf(p, sizeof(p), "%s/%s", tmp, files[i].leaf);
		if (fb_copy_file(files[i].src, p, files[i].sha, import_progress, label) < 0) {
			int e = errno;
			fb_rm_rf(tmp);
			if (e == ECANCELED)
				return cli_error("import of %s interrupted; nothing registered",
				                 name);
			return cli_error("%s: %s", files[i].src, strerror(e));
		}
		if (i == 0) {
			struct stat st;
			stat(p, &st);
			img->size = st.st_size;
		}
	}
	return CLI_OK;
}

struct kind_of {
	char kind[8]; /* of the newest version; "" = no version */
};

static int kind_cb(void *arg, const struct fb_image *img)
{
	struct kind_of *k = arg;
	fb_strlcpy(k->kind, img->kind, sizeof(k->kind));
	return 0;
}

/* One name holds one kind: a rootfs version and a disk version under one
 * name would make `NAME` boot in two unrelated ways from one import to
 * the next. CLI_OK, or CLI_ERR (said). */
static int import_kind_ok(struct fb_db *db, const char *name, const char *kind)
{
	struct kind_of k = {""};
	if (fb_db_image_list(db, name, kind_cb, &k) < 0)
		return cli_error("%s", fb_db_errmsg(db));
	if (k.kind[0] && strcmp(k.kind, kind))
		return cli_error("image %s already exists as a %s image; a %s image needs another "
		                 "name",
		                 name, k.kind, kind);
	return CLI_OK;
}

static int do_import(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"rootfs", 1, NULL},  {"kernel", 1, NULL},   {"initrd", 1, NULL},
	                      {"cmdline", 1, NULL}, {"manifest", 1, NULL}, {"source", 1, NULL},
	                      {"disk", 1, NULL}};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[1];
	int npos, rc;
	char why[FB_PATH_LEN + 256];

	if ((rc = cli_parse(&cmd_image, argc, argv, o, no, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_image, "image import needs a NAME");
	const char *name = pos[0];
	const char *rootfs = cli_optval(o, no, "rootfs"), *kernel = cli_optval(o, no, "kernel"),
	           *initrd = cli_optval(o, no, "initrd"), *cmdline = cli_optval(o, no, "cmdline"),
	           *disk = cli_optval(o, no, "disk");
	if (disk && (rootfs || kernel || initrd || cmdline))
		return cli_usage(&cmd_image,
		                 "image import --disk takes no --rootfs, --kernel, "
		                 "--initrd or --cmdline (the disk boots its own loader)");
	if (!disk && (!rootfs || !kernel || !initrd))
		return cli_usage(&cmd_image, "image import needs --rootfs, --kernel and --initrd, "
		                             "or --disk");
	if (!fb_image_name_valid(name))
		return cli_error("'%s' is not a valid image name (letters, digits, '.', '_', '-'; "
		                 "at most 63)",
		                 name);
	if (cmdline && strlen(cmdline) >= sizeof(((struct fb_image *)0)->cmdline))
		return cli_error("--cmdline: too long");
	if (disk ? image_check_disk(disk, why, sizeof(why)) < 0
	         : (image_check_rootfs(rootfs, why, sizeof(why)) < 0 ||
	            image_check_kernel(kernel, why, sizeof(why)) < 0 ||
	            image_check_initrd(initrd, why, sizeof(why)) < 0))
		return cli_error("%s", why);
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	if ((rc = import_kind_ok(db, name, disk ? "disk" : "rootfs")) != CLI_OK)
		return rc;
	if (disk)
		rootfs = disk;

	struct image_version v;
	if ((rc = image_version_begin(ctx, name, 1, &v)) != CLI_OK)
		return rc;
	struct fb_image *img = &v.img;
	fb_strlcpy(img->kind, disk ? "disk" : "rootfs", sizeof(img->kind));
	if ((rc = import_copy(v.tmp, name, rootfs, kernel, initrd, img)) != CLI_OK)
		return rc;
	if (cmdline)
		fb_strlcpy(img->cmdline, cmdline, sizeof(img->cmdline));
	if ((rc = image_version_seal(ctx, &v)) != CLI_OK)
		return rc;
	const char *source = cli_optval(o, no, "source");
	if (source)
		fb_strlcpy(img->source, source, sizeof(img->source));
	else
		snprintf(img->source, sizeof(img->source), "import:%s", rootfs);
	if (write_manifest(v.tmp, cli_optval(o, no, "manifest"), img, why, sizeof(why)) < 0) {
		fb_rm_rf(v.tmp);
		return cli_error("%s", why);
	}
	char what[FB_NAME_LEN + 16];
	snprintf(what, sizeof(what), "import of %s", name);
	if ((rc = image_version_publish(ctx, &v, what)) != CLI_OK)
		return rc;
	char sz[32];
	printf("imported %s@%d (%s%s, sha256 %.16s...)\n", img->name, img->version,
	       disk ? "whole disk, " : "", fb_format_size((uint64_t)img->size, sz, sizeof(sz)),
	       img->sha256);
	return CLI_OK;
}

static json_t *image_json(const struct fb_image *img)
{
	return json_pack("{s:s, s:i, s:s, s:I, s:s, s:I, s:s}", "name", img->name, "version",
	                 img->version, "state", img->state, "size", (json_int_t)img->size, "sha256",
	                 img->sha256, "created", (json_int_t)img->created, "kind", img->kind);
}

static void time_text(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!t) {
		fb_strlcpy(buf, "", len);
		return;
	}
	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

static int list_cb(void *arg, const struct fb_image *img)
{
	struct cli_list *l = arg;
	if (l->arr)
		return cli_list_add(l, image_json(img), NULL);
	char v[16], sz[32], t[32], sha[17];
	snprintf(v, sizeof(v), "%d", img->version);
	fb_format_size((uint64_t)img->size, sz, sizeof(sz));
	time_text(img->created, t, sizeof(t));
	snprintf(sha, sizeof(sha), "%s", img->sha256);
	const char *cols[6] = {img->name, v, img->state, sz, sha, t};
	return cli_list_add(l, NULL, cols);
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(j);
}

static int do_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_image, argc, argv, o, 1, pos, 1, &npos)))
		return rc;
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	struct cli_list l;
	cli_list_begin(&l, o[0].val != NULL, 6);
	rc = fb_db_image_list(db, npos ? pos[0] : NULL, list_cb, &l);
	static const char *const hdr[] = {"NAME", "VERSION", "STATE", "SIZE", "SHA256", "CREATED"};
	int end = cli_list_end(&l, hdr, rc >= 0);
	return rc < 0 ? cli_error("%s", fb_db_errmsg(db)) : end;
}

static int resolve(struct cli_ctx *ctx, const char *ref, struct fb_image *img)
{
	struct fb_db *db = cli_db(ctx);
	if (!db)
		return CLI_ERR;
	if (fb_db_image_resolve(db, ref, img) < 0)
		return cli_error("%s", fb_db_errmsg(db));
	return CLI_OK;
}

static int do_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	struct fb_image img;
	if ((rc = cli_parse(&cmd_image, argc, argv, o, 1, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_image, "image show needs REF");
	if ((rc = resolve(ctx, pos[0], &img)))
		return rc;
	int users = 0;
	fb_db_image_users(ctx->db, img.name, &users);
	if (o[0].val) {
		json_t *j = image_json(&img);
		json_object_set_new(j, "kernel_sha256", json_string(img.kernel_sha256));
		json_object_set_new(j, "initrd_sha256", json_string(img.initrd_sha256));
		json_object_set_new(j, "cmdline", json_string(img.cmdline));
		json_object_set_new(j, "dir", json_string(img.dir));
		json_object_set_new(j, "source", json_string(img.source));
		json_object_set_new(j, "machines", json_integer(users));
		json_object_set_new(j, "verity_root_hash", json_string(img.verity_root_hash));
		json_object_set_new(j, "verity_salt", json_string(img.verity_salt));
		json_object_set_new(j, "uki_sha256", json_string(img.uki_sha256));
		print_json(j);
		return CLI_OK;
	}
	char sz[32], t[32];
	time_text(img.created, t, sizeof(t));
	printf("image:    %s@%d\nkind:     %s\nstate:    %s\nsize:     %s\ncreated:  %s\n"
	       "source:   %s\ndir:      %s\n",
	       img.name, img.version, img.kind, img.state,
	       fb_format_size((uint64_t)img.size, sz, sizeof(sz)), t, img.source, img.dir);
	if (fb_image_is_disk(&img))
		printf("disk:     %s\nboot:     iPXE sanboot over iSCSI (its own boot loader)\n",
		       img.sha256);
	else
		printf("rootfs:   %s\nkernel:   %s\ninitrd:   %s\ncmdline:  %s\n", img.sha256,
		       img.kernel_sha256, img.initrd_sha256, img.cmdline);
	if (!fb_image_is_disk(&img)) {
		printf("verity:   %s\n",
		       img.verity_root_hash[0] ? img.verity_root_hash : "none (no verified boot)");
		if (img.verity_root_hash[0])
			printf("salt:     %s\n", img.verity_salt);
		if (uki_present(&img))
			printf("uki:      boot.efi, sha256 %s (signed with the site key)\n",
			       img.uki_sha256);
		else
			printf("uki:      none (no site key, or no dm-verity tree)\n");
	}
	printf("machines: %d using %s\n", users, img.name);
	return CLI_OK;
}

/* The one REF argument of verify and retire (with their options), resolved. */
static int one_ref(struct cli_ctx *ctx, const char *what, int argc, char **argv, struct cli_opt *o,
                   size_t no, struct fb_image *img)
{
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_image, argc, argv, o, no, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_image, "image %s needs REF", what);
	return resolve(ctx, pos[0], img);
}

static int do_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc;
	struct fb_image img;
	if ((rc = one_ref(ctx, "verify", argc, argv, NULL, 0, &img)))
		return rc;
	const char *leaf[] = {"rootfs.img", "vmlinuz", "initrd.img"};
	const char *want[] = {img.sha256, img.kernel_sha256, img.initrd_sha256};
	int bad = 0, nfiles = fb_image_is_disk(&img) ? 1 : 3;
	for (int i = 0; i < nfiles; i++) {
		char p[FB_PATH_LEN + 16], got[FB_SHA256_HEX], label[64];
		snprintf(p, sizeof(p), "%s/%s", img.dir, leaf[i]);
		snprintf(label, sizeof(label), "checking %s", leaf[i]);
		if (fb_sha256_file(p, got, import_progress, label) < 0) {
			fprintf(stderr, "fleetboot: %s: %s\n", p, strerror(errno));
			bad++;
			continue;
		}
		if (strcmp(got, want[i])) {
			fprintf(stderr, "fleetboot: %s@%d: %s MISMATCH: recorded %s, file has %s\n",
			        img.name, img.version, leaf[i], want[i], got);
			bad++;
		}
	}
	if (img.verity_root_hash[0]) {
		char data[FB_PATH_LEN + 16], hash[FB_PATH_LEN + 16], why[512];
		snprintf(data, sizeof(data), "%s/rootfs.img", img.dir);
		snprintf(hash, sizeof(hash), "%s/rootfs.verity", img.dir);
		if (verity_verify(data, hash, img.verity_root_hash, why, sizeof(why)) < 0) {
			fprintf(
			    stderr,
			    "fleetboot: %s@%d: dm-verity MISMATCH: rootfs.img and rootfs.verity "
			    "do not give root hash %s (%s)\n",
			    img.name, img.version, img.verity_root_hash, why);
			bad++;
		}
	}
	if (bad)
		return CLI_ERR;
	if (nfiles == 1)
		printf("%s@%d: OK (the disk matches its sha256)\n", img.name, img.version);
	else if (img.verity_root_hash[0])
		printf("%s@%d: OK (rootfs, kernel and initrd match their sha256; dm-verity root "
		       "hash %.16s... checked)\n",
		       img.name, img.version, img.verity_root_hash);
	else
		printf("%s@%d: OK (rootfs, kernel and initrd match their sha256; no dm-verity "
		       "tree)\n",
		       img.name, img.version);
	return CLI_OK;
}

struct pinned {
	const char *ref; /* "NAME@V" */
	int count;
};

static int count_pinned(void *arg, const struct fb_machine *m)
{
	struct pinned *p = arg;
	p->count += !strcmp(m->image, p->ref);
	return 0;
}

static int do_retire(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"force", 0, NULL}};
	int rc;
	struct fb_image img;
	if ((rc = one_ref(ctx, "retire", argc, argv, o, 1, &img)))
		return rc;
	if (!strcmp(img.state, "retired")) {
		printf("%s@%d is already retired\n", img.name, img.version);
		return CLI_OK;
	}
	/* Machines pinned to exactly this version could no longer boot it. */
	char ref[FB_REF_LEN];
	snprintf(ref, sizeof(ref), "%s@%d", img.name, img.version);
	struct pinned p = {ref, 0};
	if (fb_db_machine_list(ctx->db, count_pinned, &p) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	if (p.count && !o[0].val)
		return cli_error("%d machine(s) are pinned to %s; assign them another image first, "
		                 "or retire with --force",
		                 p.count, ref);
	if ((rc = fb_db_image_set_state(ctx->db, img.id, "retired")) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	printf("retired %s (machines using %s now get its newest ready version)\n", ref, img.name);
	return CLI_OK;
}

static int do_build(struct cli_ctx *ctx, int argc, char **argv)
{
	char prog[FB_PATH_LEN];
	if (fb_find_program("fleetboot-image", prog, sizeof(prog)) < 0)
		return cli_error("fleetboot-image not found next to %s", fb_self_dir());
	if (ctx->conf_path)
		setenv("FLEETBOOT_CONF", ctx->conf_path, 1);
	char **args = calloc((size_t)argc + 2, sizeof(char *));
	if (!args)
		return cli_error("out of memory");
	args[0] = prog;
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i]; /* "build" NAME ... */
	execv(prog, args);
	int e = errno;
	free(args);
	return cli_error("%s: %s", prog, strerror(e));
}

static int run_image(struct cli_ctx *ctx, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(&cmd_image, "image needs a subcommand");
	const char *sub = argv[1];
	if (!strcmp(sub, "import"))
		return do_import(ctx, argc - 2, argv + 2);
	if (!strcmp(sub, "list"))
		return do_list(ctx, argc - 2, argv + 2);
	if (!strcmp(sub, "show"))
		return do_show(ctx, argc - 2, argv + 2);
	if (!strcmp(sub, "verify"))
		return do_verify(ctx, argc - 2, argv + 2);
	if (!strcmp(sub, "retire"))
		return do_retire(ctx, argc - 2, argv + 2);
	if (!strcmp(sub, "build"))
		return do_build(ctx, argc - 1, argv + 1);
	return cli_usage(&cmd_image, "unknown image subcommand '%s'", sub);
}
