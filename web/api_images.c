/*
 * api_images.c - /api/v1/images, /api/v1/overlays and /api/v1/leases.
 *
 * An image version's directory may hold manifest.json (written by the
 * image builder); GET /images/NAME/VERSION includes it as parsed JSON.
 * Committing an overlay is the storage engine's job: the handler runs
 * `fleetboot overlay commit MAC --as NAME` (jobs.c) and reports its result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "str.h"
#include "web.h"

static json_t *image_json(const struct fb_image *img, int full)
{
	json_t *j = json_pack("{s:s,s:i,s:s,s:I,s:s,s:I}", "name", img->name, "version",
	                      img->version, "state", img->state, "size", (json_int_t)img->size,
	                      "sha256", img->sha256, "created", (json_int_t)img->created);
	if (j)
		json_object_set_new(j, "kind", json_string(img->kind));
	if (j && full) {
		json_object_set_new(j, "kernel_sha256", json_string(img->kernel_sha256));
		json_object_set_new(j, "initrd_sha256", json_string(img->initrd_sha256));
		json_object_set_new(j, "cmdline", json_string(img->cmdline));
		json_object_set_new(j, "source", json_string(img->source));
	}
	return j;
}

static int image_cb(void *arg, const struct fb_image *img)
{
	return json_array_append_new(arg, image_json(img, 0)) < 0 ? -ENOMEM : 0;
}

static json_t *manifest_of(const struct fb_image *img)
{
	char path[FB_PATH_LEN + 32];
	char *text;
	size_t len;
	snprintf(path, sizeof(path), "%s/manifest.json", img->dir);
	if (fb_read_file(path, &text, &len, 1 << 20) < 0)
		return json_null();
	json_t *j = json_loadb(text, len, 0, NULL);
	free(text);
	return j ? j : json_null();
}

static enum MHD_Result image_version(struct MHD_Connection *c, struct web_req *req,
                                     const char *method, char segs[][128], int n)
{
	int64_t v;
	if (!fb_image_name_valid(segs[1]))
		return web_error(c, MHD_HTTP_BAD_REQUEST, "name: not a valid image name");
	if (web_parse_i64(segs[2], 1, 1000000000, &v) < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "version: must be a positive integer");
	char ref[FB_REF_LEN];
	snprintf(ref, sizeof(ref), "%s@%lld", segs[1], (long long)v);
	struct fb_image img;
	int rc = fb_db_image_resolve(web_g.db, ref, &img);
	if (rc < 0)
		return web_db_error(c, rc, "image");
	if (n == 3) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
		json_t *j = image_json(&img, 1);
		int users = 0;
		if (j && fb_db_image_users(web_g.db, img.name, &users) == 0)
			json_object_set_new(j, "machines_using_name", json_integer(users));
		if (j)
			json_object_set_new(j, "manifest", manifest_of(&img));
		return web_json(c, MHD_HTTP_OK, j);
	}
	if (n == 4 && !strcmp(segs[3], "retire")) {
		if (strcmp(method, "POST"))
			return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use POST");
		if (!strcmp(img.state, "retired"))
			return web_error(c, MHD_HTTP_CONFLICT, "image: %s is already retired", ref);
		rc = fb_db_image_set_state(web_g.db, img.id, "retired");
		if (rc < 0)
			return web_db_error(c, rc, "image");
		log_info("%s retired image %s", req->user, ref);
		fb_strlcpy(img.state, "retired", sizeof(img.state));
		return web_json(c, MHD_HTTP_OK, image_json(&img, 1));
	}
	return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
}

enum MHD_Result web_api_images(struct MHD_Connection *c, struct web_req *req, const char *method,
                               char segs[][128], int n)
{
	if (n >= 3)
		return image_version(c, req, method, segs, n);
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
	const char *name = NULL;
	if (n == 2) {
		if (!fb_image_name_valid(segs[1]))
			return web_error(c, MHD_HTTP_BAD_REQUEST, "name: not a valid image name");
		name = segs[1];
	}
	json_t *a = json_array();
	if (!a)
		return MHD_NO;
	int rc = fb_db_image_list(web_g.db, name, image_cb, a);
	if (rc < 0) {
		json_decref(a);
		return web_db_error(c, rc, "images");
	}
	if (name && json_array_size(a) == 0) {
		json_decref(a);
		return web_error(c, MHD_HTTP_NOT_FOUND, "image: no image named '%s'", name);
	}
	if (name)
		return web_json(c, MHD_HTTP_OK,
		                json_pack("{s:s,s:o}", "name", name, "versions", a));
	return web_json(c, MHD_HTTP_OK, json_pack("{s:o}", "images", a));
}

static json_t *overlay_json(const struct fb_overlay *o)
{
	struct fb_image img;
	char base[FB_REF_LEN] = "";
	if (fb_db_image_get_id(web_g.db, o->image_id, &img) == 0)
		snprintf(base, sizeof(base), "%s@%d", img.name, img.version);
	return json_pack("{s:s,s:s,s:I,s:b,s:I,s:I}", "mac", o->mac, "base", base, "bytes",
	                 (json_int_t)o->bytes, "reset_pending", o->reset_pending, "created",
	                 (json_int_t)o->created, "boot_seq", (json_int_t)o->boot_seq);
}

static int overlay_cb(void *arg, const struct fb_overlay *o)
{
	return json_array_append_new(arg, overlay_json(o)) < 0 ? -ENOMEM : 0;
}

enum MHD_Result web_api_overlays(struct MHD_Connection *c, struct web_req *req, const char *method,
                                 char segs[][128], int n)
{
	int rc;
	if (n == 1) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
		json_t *a = json_array();
		if (!a)
			return MHD_NO;
		rc = fb_db_overlay_list(web_g.db, overlay_cb, a);
		if (rc < 0) {
			json_decref(a);
			return web_db_error(c, rc, "overlays");
		}
		return web_json(c, MHD_HTTP_OK, json_pack("{s:o}", "overlays", a));
	}
	char id[FB_MACID_LEN];
	if (macid_normalize(segs[1], id) < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "mac: '%s' is not a MAC address",
		                 segs[1]);
	struct fb_overlay o;
	if (n == 2) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
		rc = fb_db_overlay_get(web_g.db, id, &o);
		if (rc < 0)
			return web_db_error(c, rc, "overlay");
		return web_json(c, MHD_HTTP_OK, overlay_json(&o));
	}
	if (n != 3)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	if (strcmp(method, "POST"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use POST");
	if (!strcmp(segs[2], "reset")) {
		rc = fb_db_overlay_get(web_g.db, id, &o);
		if (rc < 0)
			return web_db_error(c, rc, "overlay");
		log_info("%s resets the overlay of %s", req->user, id);
		if (web_job_start(c, req, "reset", id, NULL) < 0)
			return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			                 "reset: cannot run 'fleetboot overlay reset'");
		return MHD_YES;
	}
	if (!strcmp(segs[2], "commit")) {
		char why[300];
		json_t *j = web_parse_body(req->body, req->len, why, sizeof(why));
		if (!j)
			return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
		json_t *as = json_object_get(j, "as");
		const char *key;
		json_t *v;
		json_object_foreach(j, key, v)
		{
			if (strcmp(key, "as")) {
				json_decref(j);
				return web_error(c, MHD_HTTP_BAD_REQUEST,
				                 "body: unknown field (only \"as\")");
			}
		}
		if (!json_is_string(as) || !fb_image_name_valid(json_string_value(as))) {
			json_decref(j);
			return web_error(
			    c, MHD_HTTP_BAD_REQUEST,
			    "as: required, an image name ([A-Za-z0-9][A-Za-z0-9._-]*)");
		}
		char name[FB_NAME_LEN];
		fb_strlcpy(name, json_string_value(as), sizeof(name));
		json_decref(j);
		rc = fb_db_overlay_get(web_g.db, id, &o);
		if (rc < 0)
			return web_db_error(c, rc, "overlay");
		log_info("%s commits the overlay of %s as %s", req->user, id, name);
		if (web_job_start(c, req, "commit", id, name) < 0)
			return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			                 "commit: cannot run 'fleetboot overlay commit'");
		return MHD_YES; /* the connection is suspended until the job ends */
	}
	return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
}

static int lease_cb(void *arg, const struct fb_lease *l)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:I,s:s,s:s}", "mac", l->mac, "ip",
	                                            l->ip, "expires", (json_int_t)l->expires,
	                                            "hostname", l->hostname, "state", l->state)) < 0
	           ? -ENOMEM
	           : 0;
}

enum MHD_Result web_api_leases(struct MHD_Connection *c, const char *method, int n)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
	if (n != 1)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	json_t *a = json_array();
	if (!a)
		return MHD_NO;
	int rc = fb_db_lease_list(web_g.db, lease_cb, a);
	if (rc < 0) {
		json_decref(a);
		return web_db_error(c, rc, "leases");
	}
	return web_json(c, MHD_HTTP_OK, json_pack("{s:o}", "leases", a));
}
