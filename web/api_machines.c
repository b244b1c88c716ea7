/*
 * api_machines.c - /api/v1/machines (groups: api_groups.c).
 *
 * Field names are the CLI's (DESIGN.md). Input is checked by
 * web_machine_apply (types, lengths, unknown fields) and then by the DB's
 * fb_machine_validate_text, so both print the name of the offending field.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "secret.h"
#include "str.h"
#include "web.h"

json_t *web_machine_json(const struct fb_machine *m, int with_secret)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:b}", "mac", m->mac,
	                      "name", m->name, "image", m->image, "mode", fb_mode_name(m->mode),
	                      "protocol", fb_protocol_name(m->protocol), "ip", m->ip, "group",
	                      m->group, "stage", m->stage, "last_seen", (json_int_t)m->last_seen,
	                      "created", (json_int_t)m->created, "registered", m->registered);
	if (j) {
		json_object_set_new(j, "next_boot", json_string(m->next_boot));
		json_object_set_new(j, "loader", json_string(m->loader));
		json_object_set_new(j, "secure_boot", json_string(m->secure_boot));
		/* Where each effective setting came from: machine, group or default. */
		json_object_set_new(j, "from",
		                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "image",
		                              fb_origin_name(m->from.image), "mode",
		                              fb_origin_name(m->from.mode), "protocol",
		                              fb_origin_name(m->from.protocol), "loader",
		                              fb_origin_name(m->from.loader), "secure_boot",
		                              fb_origin_name(m->from.secure_boot)));
	}
	if (j && with_secret)
		json_object_set_new(j, "secret", json_string(m->secret));
	return j;
}

/* The machine with its verified-boot evidence (db/evidence.c), as GET
 * gives it; NULL when out of memory, *rc < 0 on a database error. */
static json_t *machine_json_evidence(const struct fb_machine *m, int with_secret, int *rc)
{
	struct fb_evidence ev;
	*rc = fb_db_evidence_get(web_g.db, m, &ev);
	if (*rc < 0)
		return NULL;
	json_t *j = web_machine_json(m, with_secret);
	if (j)
		json_object_set_new(j, "verified_boot", fb_evidence_json(&ev));
	return j;
}

static int list_cb(void *arg, const struct fb_machine *m)
{
	int rc;
	json_t *j = machine_json_evidence(m, 0, &rc);
	if (rc < 0)
		return rc;
	return json_array_append_new(arg, j) < 0 ? -ENOMEM : 0;
}

/* An assigned image must exist (or be "menu"); a machine pointing at
 * nothing would only fail later, at boot. */
static int image_known(const char *ref, char *why, size_t whylen)
{
	struct fb_image img;
	if (!ref[0] || !strcmp(ref, "menu"))
		return 0;
	int rc = fb_db_image_resolve(web_g.db, ref, &img);
	if (rc == -ENOENT) {
		snprintf(why, whylen, "image: no such image '%s' (see GET /api/v1/images)", ref);
		return -1;
	}
	if (rc == 0 && strcmp(img.state, "ready") && strchr(ref, '@')) {
		snprintf(why, whylen, "image: '%s' is retired", ref);
		return -1;
	}
	return rc;
}

static enum MHD_Result machine_add(struct MHD_Connection *c, struct web_req *req)
{
	char why[300];
	int rotate;
	json_t *j = web_parse_body(req->body, req->len, why, sizeof(why));
	if (!j)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	struct fb_machine m;
	memset(&m, 0, sizeof(m));
	int rc = web_machine_apply(j, &m, 1, &rotate, why, sizeof(why));
	json_decref(j);
	if (rc < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	if ((rc = image_known(m.image, why, sizeof(why))) == -1)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	if (rc < 0)
		return web_db_error(c, rc, "image");
	rc = fb_db_machine_add(web_g.db, &m);
	if (rc < 0)
		return web_db_error(c, rc, "machine");
	log_info("%s added machine %s", req->user, m.mac);
	if (fb_db_machine_get(web_g.db, m.mac, &m) < 0)
		return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "machine: added but unreadable");
	return web_json(c, MHD_HTTP_CREATED, web_machine_json(&m, 1));
}

static enum MHD_Result machine_patch(struct MHD_Connection *c, struct web_req *req,
                                     struct fb_machine *m)
{
	char why[300];
	int rotate;
	json_t *j = web_parse_body(req->body, req->len, why, sizeof(why));
	if (!j)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	char old_image[FB_REF_LEN], next[FB_REF_LEN];
	fb_strlcpy(old_image, m->image, sizeof(old_image));
	int set_next = json_object_get(j, "next_boot") != NULL;
	int rc = web_machine_apply(j, m, 0, &rotate, why, sizeof(why));
	json_decref(j);
	if (rc < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	if (set_next && web_next_boot_check(m->next_boot, next, why, sizeof(why)) < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	if (strcmp(old_image, m->image)) {
		if ((rc = image_known(m->image, why, sizeof(why))) == -1)
			return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
		if (rc < 0)
			return web_db_error(c, rc, "image");
	}
	if (rotate && fb_random_hex(m->secret, 16) < 0)
		return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "secret: no randomness");
	rc = fb_db_machine_update(web_g.db, m);
	if (rc == 0 && set_next)
		rc = fb_db_machine_set_next_boot(web_g.db, m->mac, next);
	if (rc < 0)
		return web_db_error(c, rc, "machine");
	log_info("%s changed machine %s", req->user, m->mac);
	if (fb_db_machine_get(web_g.db, m->mac, m) < 0)
		return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "machine: changed but unreadable");
	return web_json(c, MHD_HTTP_OK, web_machine_json(m, 1));
}

enum MHD_Result web_api_machines(struct MHD_Connection *c, struct web_req *req, const char *method,
                                 char segs[][128], int n)
{
	int rc;
	if (n == 1) {
		if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
			json_t *a = json_array();
			if (!a)
				return MHD_NO;
			rc = fb_db_machine_list(web_g.db, list_cb, a);
			if (rc < 0) {
				json_decref(a);
				return web_db_error(c, rc, "machines");
			}
			return web_json(c, MHD_HTTP_OK, json_pack("{s:o}", "machines", a));
		}
		if (!strcmp(method, "POST"))
			return machine_add(c, req);
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET or POST");
	}
	if (n != 2)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	char id[FB_MACID_LEN];
	if (macid_normalize(segs[1], id) < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "mac: '%s' is not a MAC address",
		                 segs[1]);
	struct fb_machine m;
	rc = fb_db_machine_get(web_g.db, id, &m);
	if (rc < 0)
		return web_db_error(c, rc, "machine");
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
		json_t *j = machine_json_evidence(&m, 1, &rc);
		if (rc < 0)
			return web_db_error(c, rc, "machine");
		return web_json(c, MHD_HTTP_OK, j);
	}
	if (!strcmp(method, "PATCH"))
		return machine_patch(c, req, &m);
	if (!strcmp(method, "DELETE")) {
		rc = fb_db_machine_delete(web_g.db, id);
		if (rc < 0)
			return web_db_error(c, rc, "machine");
		log_info("%s removed machine %s", req->user, id);
		return web_json(c, MHD_HTTP_OK, json_pack("{s:s}", "deleted", id));
	}
	return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET, PATCH or DELETE");
}
