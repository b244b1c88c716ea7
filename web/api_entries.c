/*
 * api_entries.c - /api/v1/entries: boot entries (installers, rescue and
 * diagnostic tools), and a machine's next boot (PATCH /machines/MAC
 * {"next_boot": ...}, checked here).
 *
 *   GET    /entries          {"entries": [...]}
 *   GET    /entries/NAME     one entry
 *   POST   /entries          {"name", one of "kernel"/"iso"/"efi", "initrd",
 *                             "cmdline", "title"}: each file an http(s) URL
 *                             (the client fetches it) or an absolute path
 *                             on the server (copied into the state tree
 *                             with its sha256, served by bootd)
 *   DELETE /entries/NAME     409 while a machine's next boot or
 *                             [bootd] menu_default names it
 *
 * Field names are the CLI's (`fleetboot entry show --json`). Fetching a URL
 * on the server (the CLI's --cache) is not offered here: the web daemon
 * makes no outbound requests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "entryfile.h"
#include "fileio.h"
#include "log.h"
#include "str.h"
#include "web.h"

json_t *web_entry_json(const struct fb_entry *e)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "name", e->name, "kind",
	                      fb_entry_kind_name(e->kind), "title", e->title, "url", e->boot_url,
	                      "sha256", e->boot_sha256, "source", e->source, "created",
	                      (json_int_t)e->created, "served", !e->boot_url[0]);
	if (j && e->kind == FB_ENTRY_KERNEL) {
		json_object_set_new(j, "cmdline", json_string(e->cmdline));
		json_object_set_new(j, "initrd", json_boolean(e->has_initrd));
		if (e->has_initrd) {
			json_object_set_new(j, "initrd_url", json_string(e->initrd_url));
			json_object_set_new(j, "initrd_sha256", json_string(e->initrd_sha256));
		}
	}
	return j;
}

int web_next_boot_check(const char *item, char out[FB_REF_LEN], char *why, size_t whylen)
{
	struct fb_entry e;
	struct fb_image img;
	char name[FB_NAME_LEN];
	int ver;
	if (!item[0] || !strcmp(item, "none") || !strcmp(item, "local")) {
		fb_strlcpy(out, strcmp(item, "local") ? "" : "local", FB_REF_LEN);
		return 0;
	}
	if (fb_db_entry_get(web_g.db, item, &e) == 0 ||
	    (fb_image_ref_parse(item, name, &ver) == 0 &&
	     fb_db_image_resolve(web_g.db, item, &img) == 0 && !strcmp(img.state, "ready"))) {
		fb_strlcpy(out, item, FB_REF_LEN);
		return 0;
	}
	return WEB_WHY("next_boot: no entry or ready image named '%s' (or local, none)", item);
}

static int list_cb(void *arg, const struct fb_entry *e)
{
	return json_array_append_new(arg, web_entry_json(e)) < 0 ? -ENOMEM : 0;
}

static const char *str_field(json_t *j, const char *key, int *bad)
{
	json_t *v = json_object_get(j, key);
	if (!v)
		return NULL;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(v);
}

/* One file: an http(s) URL stays a URL; an absolute path is copied. */
static int take_file(const char *kind, const char *val, const char *dir, const char *leaf,
                     char *url, size_t url_len, char sha[FB_SHA256_HEX], char *why, size_t whylen)
{
	char dst[FB_PATH_LEN + 80];
	if (strstr(val, "://")) {
		if (!fb_entry_url_valid(val))
			return WEB_WHY(
			    "%s: '%s' is not an http:// or https:// URL a client can fetch", kind,
			    val);
		fb_strlcpy(url, val, url_len);
		return 0;
	}
	if (val[0] != '/')
		return WEB_WHY("%s: give a URL or an absolute path on the server", kind);
	snprintf(dst, sizeof(dst), "%s/%s", dir, leaf);
	return fb_entry_file_copy(kind, kind, val, dst, sha, why, whylen);
}

static enum MHD_Result entry_add(struct MHD_Connection *c, struct web_req *req)
{
	char why[2 * FB_PATH_LEN];
	const size_t whylen = sizeof(why);
	json_t *j = web_parse_body(req->body, req->len, why, sizeof(why));
	if (!j)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	static const char *const known[] = {"name", "kernel",  "initrd", "iso",
	                                    "efi",  "cmdline", "title"};
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v)
	{
		size_t i = 0;
		while (i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]))
			i++;
		if (i == sizeof(known) / sizeof(known[0])) {
			char shown[41];
			snprintf(shown, sizeof(shown), "%s", key);
			for (char *p = shown; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					*p = '?';
			json_decref(j);
			return web_error(c, MHD_HTTP_BAD_REQUEST, "%s: unknown field", shown);
		}
	}
	int bad = 0;
	const char *name = str_field(j, "name", &bad), *kernel = str_field(j, "kernel", &bad),
	           *initrd = str_field(j, "initrd", &bad), *iso = str_field(j, "iso", &bad),
	           *efi = str_field(j, "efi", &bad), *cmdline = str_field(j, "cmdline", &bad),
	           *title = str_field(j, "title", &bad);
	struct fb_entry e;
	memset(&e, 0, sizeof(e));
	enum MHD_Result r;
	if (bad || !name) {
		r = web_error(c, MHD_HTTP_BAD_REQUEST, "%s",
		              bad ? "fields must be strings" : "name: required");
		goto out;
	}
	if (!!kernel + !!iso + !!efi != 1 || (!kernel && (initrd || cmdline))) {
		r = web_error(c, MHD_HTTP_BAD_REQUEST,
		              "kernel, iso, efi: give one (initrd and cmdline go with kernel)");
		goto out;
	}
	if (strlen(name) >= sizeof(e.name) || (title && strlen(title) >= sizeof(e.title)) ||
	    (cmdline && strlen(cmdline) >= sizeof(e.cmdline))) {
		r = web_error(c, MHD_HTTP_BAD_REQUEST, "name, title or cmdline: too long");
		goto out;
	}
	fb_strlcpy(e.name, name, sizeof(e.name));
	fb_strlcpy(e.title, title ? title : "", sizeof(e.title));
	fb_strlcpy(e.cmdline, cmdline ? cmdline : "", sizeof(e.cmdline));
	e.kind = kernel ? FB_ENTRY_KERNEL : iso ? FB_ENTRY_ISO : FB_ENTRY_EFI;
	e.has_initrd = initrd != NULL;
	const char *boot = kernel ? kernel : iso ? iso : efi;
	if (fb_entry_validate(&e, why, sizeof(why)) < 0) {
		r = web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
		goto out;
	}
	struct fb_entry old;
	struct fb_image img;
	if (fb_db_entry_get(web_g.db, e.name, &old) == 0 ||
	    fb_db_image_resolve(web_g.db, e.name, &img) == 0) {
		r = web_error(c, MHD_HTTP_CONFLICT, "name: an entry or image named %s exists",
		              e.name);
		goto out;
	}
	char top[FB_PATH_LEN], dir[FB_PATH_LEN + 80], tmp[FB_PATH_LEN + 80];
	snprintf(top, sizeof(top), "%s/entries", web_g.cfg.state_dir);
	snprintf(dir, sizeof(dir), "%s/%s", top, e.name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp%ld", top, e.name, (long)getpid());
	fb_rm_rf(tmp);
	if (fb_mkdir_p(top, 0750) < 0 || mkdir(tmp, 0750) < 0) {
		log_warn("%s", tmp);
		r = web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "entries: cannot make a folder");
		goto out;
	}
	if (take_file(kernel ? "kernel"
	              : iso  ? "iso"
	                     : "efi",
	              boot, tmp, fb_entry_boot_file(e.kind), e.boot_url, sizeof(e.boot_url),
	              e.boot_sha256, why, whylen) < 0 ||
	    (initrd && take_file("initrd", initrd, tmp, "initrd", e.initrd_url,
	                         sizeof(e.initrd_url), e.initrd_sha256, why, whylen) < 0)) {
		fb_rm_rf(tmp);
		r = web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
		goto out;
	}
	snprintf(e.source, sizeof(e.source), "%s%s%s", boot, initrd ? " " : "",
	         initrd ? initrd : "");
	fb_rm_rf(dir);
	if (rename(tmp, dir) < 0) {
		log_warn("%s", dir);
		fb_rm_rf(tmp);
		r = web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "entries: cannot place the files");
		goto out;
	}
	int rc = fb_db_entry_add(web_g.db, &e);
	if (rc < 0) {
		fb_rm_rf(dir);
		r = web_db_error(c, rc, "entry");
		goto out;
	}
	log_info("%s added entry %s", req->user, e.name);
	r = web_json(c, MHD_HTTP_CREATED, web_entry_json(&e));
out:
	json_decref(j);
	return r;
}

enum MHD_Result web_api_entries(struct MHD_Connection *c, struct web_req *req, const char *method,
                                char segs[][128], int n)
{
	int rc;
	if (n == 1) {
		if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
			json_t *a = json_array();
			if (!a)
				return MHD_NO;
			rc = fb_db_entry_list(web_g.db, list_cb, a);
			if (rc < 0) {
				json_decref(a);
				return web_db_error(c, rc, "entries");
			}
			return web_json(c, MHD_HTTP_OK, json_pack("{s:o}", "entries", a));
		}
		if (!strcmp(method, "POST"))
			return entry_add(c, req);
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET or POST");
	}
	if (n != 2)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	struct fb_entry e;
	if (!fb_image_name_valid(segs[1]))
		return web_error(c, MHD_HTTP_BAD_REQUEST, "name: not a valid entry name");
	rc = fb_db_entry_get(web_g.db, segs[1], &e);
	if (rc < 0)
		return web_db_error(c, rc, "entry");
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return web_json(c, MHD_HTTP_OK, web_entry_json(&e));
	if (strcmp(method, "DELETE"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET or DELETE");
	if (!strcmp(web_g.cfg.menu_default, e.name))
		return web_error(c, MHD_HTTP_CONFLICT,
		                 "entry %s is in use: [bootd] menu_default names it", e.name);
	rc = fb_db_entry_delete(web_g.db, e.name);
	if (rc == -ENOTEMPTY)
		return web_error(c, MHD_HTTP_CONFLICT, "%s", fb_db_errmsg(web_g.db));
	if (rc < 0)
		return web_db_error(c, rc, "entry");
	char dir[FB_PATH_LEN + 80];
	snprintf(dir, sizeof(dir), "%s/entries/%s", web_g.cfg.state_dir, e.name);
	if (fb_rm_rf(dir) < 0 && errno != ENOENT)
		log_warn("%s", dir);
	log_info("%s removed entry %s", req->user, e.name);
	return web_json(c, MHD_HTTP_OK, json_pack("{s:s}", "deleted", e.name));
}
