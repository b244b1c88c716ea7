/*
 * api_groups.c - /api/v1/groups: shared settings for many machines.
 *
 *   GET    /groups          {"groups": [...]}
 *   GET    /groups/NAME     one group
 *   POST   /groups          {"name", "image", "mode", "protocol", "loader",
 *                            "secure_boot", "menu_default", "menu_timeout"}
 *   PATCH  /groups/NAME     any of those but "name"
 *   DELETE /groups/NAME     409 while machines are in it; ?force=1 takes
 *                           them out of the group first
 *
 * Field names are the CLI's (`fleetboot group show --json`). Every setting
 * is optional: "" (menu_timeout null) = not set, so each machine's own
 * setting, else the default, applies. A machine's own setting wins over its
 * group's (db/groups.c); GET /machines shows the effective values.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "web.h"

static int take_text(json_t *v, const char *field, char *dst, size_t len, char *why, size_t whylen)
{
	if (!json_is_string(v))
		return WEB_WHY("%s: must be a string", field);
	size_t l = json_string_length(v);
	if (l != strlen(json_string_value(v)))
		return WEB_WHY("%s: must not contain NUL", field);
	if (l >= len)
		return WEB_WHY("%s: too long (at most %zu characters)", field, len - 1);
	memcpy(dst, json_string_value(v), l + 1);
	return 0;
}

/* Apply a POST or PATCH body to g; then the DB checks the values. */
int web_group_apply(json_t *obj, struct fb_group *g, int create, char *why, size_t whylen)
{
	const char *key;
	json_t *v;
	if (!json_is_object(obj))
		return WEB_WHY("body: must be a JSON object");
	if (create && !json_object_get(obj, "name"))
		return WEB_WHY("name: required");
	json_object_foreach(obj, key, v)
	{
		struct {
			const char *key;
			char *dst;
			size_t len;
		} text[] = {{"image", g->image, sizeof(g->image)},
		            {"mode", g->mode, sizeof(g->mode)},
		            {"protocol", g->protocol, sizeof(g->protocol)},
		            {"loader", g->loader, sizeof(g->loader)},
		            {"secure_boot", g->secure_boot, sizeof(g->secure_boot)},
		            {"menu_default", g->menu_default, sizeof(g->menu_default)},
		            {"name", create ? g->name : NULL, sizeof(g->name)}};
		size_t i, n = sizeof(text) / sizeof(text[0]);
		for (i = 0; i < n && strcmp(key, text[i].key); i++)
			;
		if (i < n && !text[i].dst)
			return WEB_WHY("name: cannot be changed; add a new group");
		if (i < n) {
			if (take_text(v, key, text[i].dst, text[i].len, why, whylen) < 0)
				return -1;
		} else if (!strcmp(key, "menu_timeout")) {
			if (json_is_null(v))
				g->menu_timeout = -1;
			else if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			         json_integer_value(v) > 3600)
				return WEB_WHY(
				    "menu_timeout: must be seconds from 0 to 3600, or null");
			else
				g->menu_timeout = (int)json_integer_value(v);
		} else {
			char shown[40];
			snprintf(shown, sizeof(shown), "%s", key);
			for (char *p = shown; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					*p = '?';
			return WEB_WHY("%s: unknown field", shown);
		}
	}
	if (fb_group_validate(g, why, whylen) < 0) {
		/* The CLI's messages name options (secure-boot); the API's fields. */
		if (!strncmp(why, "secure-boot:", 12))
			why[6] = '_';
		else if (!strncmp(why, "menu-", 5))
			why[4] = '_';
		return -1;
	}
	return 0;
}

static int list_cb(void *arg, const struct fb_group *g)
{
	return json_array_append_new(arg, fb_group_json(g)) < 0 ? -ENOMEM : 0;
}

/* The DB's messages name options the CLI's way; the API names fields. */
static enum MHD_Result db_error(struct MHD_Connection *c, int rc)
{
	if (rc == -EINVAL) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", fb_db_errmsg(web_g.db));
		if (!strncmp(msg, "menu-", 5))
			msg[4] = '_';
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", msg);
	}
	if (rc == -ENOTEMPTY)
		return web_error(c, MHD_HTTP_CONFLICT, "%s", fb_db_errmsg(web_g.db));
	return web_db_error(c, rc, "group");
}

static enum MHD_Result group_write(struct MHD_Connection *c, struct web_req *req,
                                   struct fb_group *g, int create)
{
	char why[300];
	json_t *j = web_parse_body(req->body, req->len, why, sizeof(why));
	if (!j)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	int rc = web_group_apply(j, g, create, why, sizeof(why));
	json_decref(j);
	if (rc < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	rc = create ? fb_db_group_add(web_g.db, g) : fb_db_group_update(web_g.db, g);
	if (rc < 0)
		return db_error(c, rc);
	log_info("%s %s group %s", req->user, create ? "added" : "changed", g->name);
	if (fb_db_group_get(web_g.db, g->name, g) < 0)
		return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                 "group: written but unreadable");
	return web_json(c, create ? MHD_HTTP_CREATED : MHD_HTTP_OK, fb_group_json(g));
}

enum MHD_Result web_api_groups(struct MHD_Connection *c, struct web_req *req, const char *method,
                               char segs[][128], int n)
{
	struct fb_group g;
	int rc;
	if (n == 1) {
		if (!strcmp(method, "GET") || !strcmp(method, "HEAD")) {
			json_t *a = json_array();
			if (!a)
				return MHD_NO;
			rc = fb_db_group_list(web_g.db, list_cb, a);
			if (rc < 0) {
				json_decref(a);
				return web_db_error(c, rc, "groups");
			}
			return web_json(c, MHD_HTTP_OK, json_pack("{s:o}", "groups", a));
		}
		if (!strcmp(method, "POST")) {
			memset(&g, 0, sizeof(g));
			g.menu_timeout = -1;
			return group_write(c, req, &g, 1);
		}
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET or POST");
	}
	if (n != 2)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	rc = fb_db_group_get(web_g.db, segs[1], &g);
	if (rc < 0)
		return web_db_error(c, rc, "group");
	if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
		return web_json(c, MHD_HTTP_OK, fb_group_json(&g));
	if (!strcmp(method, "PATCH"))
		return group_write(c, req, &g, 0);
	if (strcmp(method, "DELETE"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		                 "method: use GET, PATCH or DELETE");
	const char *force = web_query(c, "force");
	if (force && strcmp(force, "1") && strcmp(force, "0"))
		return web_error(c, MHD_HTTP_BAD_REQUEST, "force: must be 1 or 0");
	int moved = 0;
	rc = fb_db_group_delete(web_g.db, g.name, force && !strcmp(force, "1"), &moved);
	if (rc < 0)
		return db_error(c, rc);
	log_info("%s removed group %s (%d machines taken out)", req->user, g.name, moved);
	return web_json(c, MHD_HTTP_OK,
	                json_pack("{s:s, s:i}", "deleted", g.name, "machines", moved));
}
