/*
 * verity.c - see verity.h.
 */
#include "verity.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "stateperm.h"
#include "str.h"

/* The hex value after "Key:" on a line of veritysetup's report. */
static int field(const char *out, const char *key, char val[FB_SHA256_HEX])
{
	const char *p = strstr(out, key);
	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = 0;
	while (isxdigit((unsigned char)p[n]) && n < FB_SHA256_HEX - 1)
		n++;
	if (n != FB_SHA256_HEX - 1)
		return -1;
	memcpy(val, p, n);
	val[n] = 0;
	return 0;
}

int verity_format(const char *data_path, const char *hash_path, char root_hash[FB_SHA256_HEX],
                  char salt[FB_SHA256_HEX], char *why, size_t whylen)
{
	char out[4096], err[256];
	char *argv[] = {"veritysetup",
	                "format",
	                "--data-block-size",
	                "4096",
	                "--hash-block-size",
	                "4096",
	                "--hash",
	                "sha256",
	                (char *)data_path,
	                (char *)hash_path,
	                NULL};
	int rc = run_prog(argv, out, sizeof(out), err, sizeof(err));
	if (rc) {
		unlink(hash_path);
		snprintf(why, whylen, "dm-verity hash tree of %s: %s%s", data_path,
		         rc == 127 ? "veritysetup not found (install cryptsetup-bin)" : "", err);
		return -1;
	}
	if (field(out, "Root hash:", root_hash) < 0 || field(out, "Salt:", salt) < 0) {
		unlink(hash_path);
		snprintf(why, whylen,
		         "dm-verity hash tree of %s: no root hash in veritysetup's "
		         "report",
		         data_path);
		return -1;
	}
	return 0;
}

int verity_verify(const char *data_path, const char *hash_path, const char *root_hash, char *why,
                  size_t whylen)
{
	char err[256];
	char *argv[] = {"veritysetup",     "verify",          (char *)data_path,
	                (char *)hash_path, (char *)root_hash, NULL};
	int rc = run_prog(argv, NULL, 0, err, sizeof(err));
	if (rc) {
		snprintf(why, whylen, "%s", err[0] ? err : "veritysetup verify failed");
		return -1;
	}
	return 0;
}

int verity_backfill(struct fb_db *db, const char *state_dir, struct fb_image *img, char *why,
                    size_t whylen)
{
	char data[FB_PATH_LEN + 16], hash[FB_PATH_LEN + 16], tmp[FB_PATH_LEN + 32];
	char root[FB_SHA256_HEX], salt[FB_SHA256_HEX];
	snprintf(data, sizeof(data), "%s/rootfs.img", img->dir);
	snprintf(hash, sizeof(hash), "%s/rootfs.verity", img->dir);
	snprintf(tmp, sizeof(tmp), "%s/.rootfs.verity.%d", img->dir, (int)getpid());
	if (verity_format(data, tmp, root, salt, why, whylen) < 0)
		return -1;
	if (fb_state_give(state_dir, tmp) < 0 || rename(tmp, hash) < 0) {
		snprintf(why, whylen, "%s: %s", hash, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (fb_db_image_set_verity(db, img->id, root, salt) < 0) {
		snprintf(why, whylen, "%s", fb_db_errmsg(db));
		return -1;
	}
	fb_strlcpy(img->verity_root_hash, root, sizeof(img->verity_root_hash));
	fb_strlcpy(img->verity_salt, salt, sizeof(img->verity_salt));
	return 0;
}
