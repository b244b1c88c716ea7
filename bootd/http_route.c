/*
 * http_route.c - see http_route.h. Everything is checked against a strict
 * shape before it reaches a file name: MACs are parsed, image names follow
 * fb_image_name_valid, versions are plain decimals, and the only files are
 * vmlinuz, initrd.img, rootfs.verity and boot.efi; an entry's are kernel,
 * initrd, image.iso and program.efi (TFTP-root files go through
 * tftp_open_file).
 */
#include "bootd/http_route.h"

#include <ctype.h>
#include <string.h>

#include "netaddr.h"

#define MAX_PATH 512

static int parse_version(const char *s, size_t n, int *out)
{
	if (!n || n > 9)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || (s[0] == '0'))
		return -1;
	*out = v;
	return 0;
}

static int mac_of(const char *s, size_t n, char out[FB_MACID_LEN])
{
	char tmp[FB_MACID_LEN];
	if (n != 17)
		return -1;
	memcpy(tmp, s, 17);
	tmp[17] = 0;
	return macid_normalize(tmp, out);
}

int http_route(const char *method, const char *path, struct route *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	int get = !strcmp(method, "GET"), head = !strcmp(method, "HEAD"),
	    post = !strcmp(method, "POST");
	r->head = head;
	size_t len = strlen(path);
	if (len > MAX_PATH) {
		*why = "path too long";
		return 414;
	}
	if (path[0] != '/') {
		*why = "bad path";
		return 400;
	}
	if (!strcmp(path, "/healthz")) {
		r->kind = R_HEALTH;
	} else if (!strcmp(path, "/boot.ipxe")) {
		r->kind = R_GENERIC;
	} else if (!strncmp(path, "/boot/", 6)) {
		const char *p = path + 6;
		size_t n = strlen(p);
		if (n == 17 + 5 && !strcmp(p + 17, ".ipxe")) {
			if (mac_of(p, 17, r->mac) < 0) {
				*why = "bad MAC address";
				return 400;
			}
			r->kind = R_SCRIPT;
		} else if (n == 17 + 6 && !strcmp(p + 17, "/stage")) {
			if (mac_of(p, 17, r->mac) < 0) {
				*why = "bad MAC address";
				return 400;
			}
			r->kind = R_STAGE;
			if (!post) {
				*why = "use POST";
				return 405;
			}
			return 0;
		} else if (n == 17 + 11 && !strcmp(p + 17, "/credential")) {
			if (mac_of(p, 17, r->mac) < 0) {
				*why = "bad MAC address";
				return 400;
			}
			r->kind = R_CREDENTIAL;
			/* Handed out once: a HEAD would spend it for nothing. */
			if (!get) {
				*why = "use GET";
				return 405;
			}
			return 0;
		} else if (n == 17 + 7 && !strcmp(p + 17, "/params")) {
			if (mac_of(p, 17, r->mac) < 0) {
				*why = "bad MAC address";
				return 400;
			}
			r->kind = R_PARAMS;
		} else {
			*why = "not found";
			return 404;
		}
	} else if (!strncmp(path, "/images/", 8)) {
		const char *p = path + 8, *s1 = strchr(p, '/');
		const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
		if (!s1 || !s2 || strchr(s2 + 1, '/') || (size_t)(s1 - p) >= FB_NAME_LEN) {
			*why = "not found";
			return 404;
		}
		memcpy(r->name, p, (size_t)(s1 - p));
		r->name[s1 - p] = 0;
		if (!fb_image_name_valid(r->name) ||
		    parse_version(s1 + 1, (size_t)(s2 - s1 - 1), &r->version) < 0) {
			*why = "bad image name or version";
			return 400;
		}
		if (strcmp(s2 + 1, "vmlinuz") && strcmp(s2 + 1, "initrd.img") &&
		    strcmp(s2 + 1, "rootfs.verity") && strcmp(s2 + 1, "boot.efi")) {
			*why = "not found";
			return 404;
		}
		strcpy(r->file, s2 + 1);
		r->kind = R_IMAGE;
	} else if (!strncmp(path, "/entries/", 9)) {
		const char *p = path + 9, *s1 = strchr(p, '/');
		if (!s1 || strchr(s1 + 1, '/') || (size_t)(s1 - p) >= FB_NAME_LEN) {
			*why = "not found";
			return 404;
		}
		memcpy(r->name, p, (size_t)(s1 - p));
		r->name[s1 - p] = 0;
		if (!fb_image_name_valid(r->name)) {
			*why = "bad entry name";
			return 400;
		}
		const char *f = s1 + 1;
		if (strcmp(f, "kernel") && strcmp(f, "initrd") && strcmp(f, "image.iso") &&
		    strcmp(f, "program.efi")) {
			*why = "not found";
			return 404;
		}
		strcpy(r->file, f);
		r->kind = R_ENTRY;
	} else if (!strncmp(path, "/tftp/", 6)) {
		const char *p = path + 6;
		if (!*p || strlen(p) >= sizeof(r->file)) {
			*why = "not found";
			return 404;
		}
		for (const char *c = p; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_') {
				*why = "bad file name";
				return 400;
			}
		if (p[0] == '.') {
			*why = "bad file name";
			return 400;
		}
		strcpy(r->file, p);
		r->kind = R_TFTP;
	} else {
		*why = "not found";
		return 404;
	}
	if (!get && !head) {
		*why = "method not allowed";
		return 405;
	}
	return 0;
}

int http_stage_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 23)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return fb_stage_valid(s);
}

static int parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*out = v;
	return 0;
}

int http_parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *len)
{
	if (!h)
		return 1;
	while (*h == ' ')
		h++;
	if (strncmp(h, "bytes=", 6))
		return 1;
	const char *p = h + 6;
	while (*p == ' ')
		p++;
	if (strchr(p, ','))
		return 1; /* several ranges: send the whole body */
	uint64_t a, z;
	if (*p == '-') {
		p++;
		if (parse_u64(&p, &z) < 0)
			return 1;
		while (*p == ' ')
			p++;
		if (*p || z == 0)
			return z == 0 && !*p ? -1 : 1;
		if (size == 0)
			return -1;
		if (z > size)
			z = size;
		*start = size - z;
		*len = z;
		return 0;
	}
	if (parse_u64(&p, &a) < 0 || *p != '-')
		return 1;
	p++;
	if (!*p) {
		z = size ? size - 1 : 0;
	} else {
		if (parse_u64(&p, &z) < 0)
			return 1;
		while (*p == ' ')
			p++;
		if (*p || z < a)
			return 1;
	}
	if (a >= size)
		return -1;
	if (z >= size)
		z = size - 1;
	*start = a;
	*len = z - a + 1;
	return 0;
}

int http_root_hash_ok(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}
