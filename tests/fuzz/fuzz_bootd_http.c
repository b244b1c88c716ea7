/*
 * fuzz_bootd_http.c - bootd's HTTP request routing, stage-name check and
 * Range parser on arbitrary input. The first byte picks the method; the
 * rest is split at the first newline into the path and a Range header.
 * Aborts when a route could name a file other than the ones served, or
 * when a credential hand-out is routed for anything but a GET of a
 * well-formed machine id (a HEAD would spend the one hand-out).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootd/http_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "X"};
	if (!size)
		return 0;
	const char *method = methods[data[0] % 6];
	char *buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = 0;
	char *range = strchr(buf, '\n');
	if (range)
		*range++ = 0;
	struct route r;
	const char *why = NULL;
	int st = http_route(method, buf, &r, &why);
	if (st && !why)
		abort();
	/* The files of an image version bootd serves; never rootfs.img. */
	if (!st && r.kind == R_IMAGE && strcmp(r.file, "vmlinuz") && strcmp(r.file, "initrd.img") &&
	    strcmp(r.file, "rootfs.verity") && strcmp(r.file, "boot.efi"))
		abort();
	if (!st && r.kind == R_TFTP && (strchr(r.file, '/') || r.file[0] == '.'))
		abort();
	if (!st && r.kind == R_CREDENTIAL &&
	    (strcmp(method, "GET") || strlen(r.mac) != 17 || strchr(r.mac, ':')))
		abort();
	http_stage_name_ok(buf);
	/* A `verified` report's root hash: 64 lower-case hex digits only. */
	if (http_root_hash_ok(range) && strspn(range, "0123456789abcdef") != 64)
		abort();
	uint64_t start = 0, len = 0, sizes[] = {0, 1, 1000, UINT64_MAX / 2};
	for (int i = 0; i < 4; i++) {
		if (http_parse_range(range ? range : buf, sizes[i], &start, &len) == 0 &&
		    (len == 0 || start + len > sizes[i]))
			abort(); /* a range outside the body */
	}
	free(buf);
	return 0;
}
