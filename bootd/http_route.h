/*
 * http_route.h - pure parsing of boot HTTP request paths, queries and
 * Range headers (no I/O, no libmicrohttpd), so the fuzzer can drive it.
 */
#ifndef FB_BOOTD_HTTP_ROUTE_H
#define FB_BOOTD_HTTP_ROUTE_H

#include <stdint.h>

#include "db/db.h"

enum route_kind {
	R_NONE,
	R_HEALTH,
	R_GENERIC,
	R_SCRIPT,
	R_STAGE,
	R_CREDENTIAL,
	R_PARAMS,
	R_IMAGE,
	R_ENTRY,
	R_TFTP
};

struct route {
	enum route_kind kind;
	int head;               /* HEAD: headers only */
	char mac[FB_MACID_LEN]; /* R_SCRIPT, R_STAGE, R_CREDENTIAL, R_PARAMS */
	char name[FB_NAME_LEN]; /* R_IMAGE image name, R_ENTRY entry name */
	int version;            /* R_IMAGE */
	char file[256];         /* R_IMAGE: vmlinuz | initrd.img | rootfs.verity |
	                         * boot.efi; R_ENTRY: kernel | initrd |
	                         * image.iso | program.efi; R_TFTP: name */
};

/*
 * Route a request. Returns 0, or an HTTP status (400, 404, 405, 414) with
 * a one-line reason in why.
 */
int http_route(const char *method, const char *path, struct route *r, const char **why);

/* A stage name from the initramfs: [a-z0-9-], 1 to 23 characters, and one
 * fb_stage_valid accepts. */
int http_stage_name_ok(const char *s);
/* A dm-verity root hash as a `verified` report carries it: 64 lower-case
 * hex digits (sha256). NULL is not. */
int http_root_hash_ok(const char *s);

/*
 * Parse a Range header for a body of size bytes. Returns 0 with start and
 * len set for a single satisfiable range, 1 when the header should be
 * ignored (absent, several ranges, not bytes), -1 when unsatisfiable (416).
 */
int http_parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len);

#endif
