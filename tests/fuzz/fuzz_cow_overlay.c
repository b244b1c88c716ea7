/*
 * fuzz_cow_overlay.c - the overlay loader on damaged files: the input is
 * decoded as a raw header, and also laid over the map area of an otherwise
 * valid overlay, which is then checked, opened, read, described by extents
 * and written. Nothing may crash, and check and open must agree that an
 * overlay they accept is readable.
 */
// clang-format off
// clang-format on
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "byteorder.h"
#include "cow/cow_int.h"
#include "crc32c.h"
#include "sha256.h"

#define SIZE (COW_PER_CHUNK * 2 * COW_CLUSTER + 8192) /* three map chunks */

static char dir[64], base_path[128], ovl_path[128];
static struct cow_base *base;

static void setup(void)
{
	static uint8_t zero[SIZE];
	char why[256], sha[65];
	snprintf(dir, sizeof(dir), "/tmp/fuzz_cow.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(base_path, sizeof(base_path), "%s/base", dir);
	snprintf(ovl_path, sizeof(ovl_path), "%s/ovl", dir);
	memset(zero, 0x33, sizeof(zero));
	int fd = open(base_path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0 || write(fd, zero, sizeof(zero)) != (ssize_t)sizeof(zero))
		abort();
	close(fd);
	fb_sha256_file(base_path, sha, NULL, NULL);
	if (cow_base_get(1, base_path, sha, NULL, &base, why, sizeof(why)) < 0)
		abort();
}

static int count_extent(void *arg, uint64_t off, uint64_t len, int type, int hole)
{
	if (type < COW_BASE || type > COW_ZERO || !len)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cow_header h;
	struct cow_ovl *o = NULL;
	char why[256];
	static uint8_t buf[3 * COW_CLUSTER];

	if (!base)
		setup();
	cow_header_decode(data, size, &h, why, sizeof(why));

	unlink(ovl_path);
	if (cow_ovl_create(ovl_path, base->size, 1, base->sha256, 0, "fuzz") < 0)
		abort();
	int fd = open(ovl_path, O_RDWR);
	uint8_t page[COW_HDR_SIZE];
	if (fd < 0 || pread(fd, page, sizeof(page), 0) != (ssize_t)sizeof(page))
		abort();
	if (cow_header_decode(page, sizeof(page), &h, why, sizeof(why)) < 0)
		abort();
	/* The first byte says which slots to "seal" (valid magic, index and
	 * crc over fuzzed states and seq), so the loader's choice between two
	 * copies and its state checks are reached, not just its crc check. */
	size_t room = h.data_off - h.map_off;
	uint8_t seal = size ? data[0] : 0;
	static uint8_t area[2 * 3 * COW_PAGE];
	size_t n = size < room ? size : room;
	if (n > sizeof(area))
		n = sizeof(area);
	memset(area, 0, sizeof(area));
	memcpy(area, data, n);
	for (int slot = 0; slot < 6; slot++) {
		uint8_t *p = area + slot * COW_PAGE;
		if (!(seal & (1 << slot)))
			continue;
		fb_put_le32(p, COW_PAGE_MAGIC);
		fb_put_le64(p + 16, (uint64_t)(slot / 2));
		for (size_t k = COW_PAGE_HDR; k < COW_PAGE; k++)
			p[k] %= (seal & 0x80) ? 4 : 3; /* sometimes an invalid state */
		fb_put_le32(p + 4, fb_crc32c(0, p + 8, COW_PAGE - 8));
	}
	if (pwrite(fd, area, sizeof(area), (off_t)h.map_off) < 0)
		abort();
	close(fd);

	int checked = cow_ovl_check(ovl_path, NULL);
	int rc = cow_ovl_open(ovl_path, base, 0, &o, why, sizeof(why));
	if ((checked == 0) != (rc == 0))
		abort(); /* the checker and the loader disagree */
	if (rc == 0) {
		cow_ovl_read(o, buf, sizeof(buf), 0);
		cow_ovl_read(o, buf, 5000, base->size - 5000);
		cow_ovl_extents(o, base->size, 0, count_extent, NULL);
		cow_ovl_write(o, buf, 700, 4000, 0);
		cow_ovl_zero(o, 9000, 100, 0);
		cow_ovl_close(o);
	}
	return 0;
}
