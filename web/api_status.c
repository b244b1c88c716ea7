/*
 * api_status.c - GET /api/v1/status (JSON) and GET /metrics (Prometheus
 * text exposition format, every name prefixed fleetboot_).
 *
 * Both read the same sources: machines grouped by their current boot stage,
 * images, overlays, leases, the per-stage event counts the poller keeps, and
 * the counters the daemons publish in the status table ("DAEMON.NAME" ->
 * value). Numeric status values become metrics named
 * fleetboot_DAEMON_NAME; text values are shown only in /status.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "web.h"

struct tally {
	json_t *by_stage;   /* stage -> count */
	int64_t machines;   /* total */
	int64_t unassigned; /* registered automatically, no image yet */
	int64_t images, images_ready, image_bytes;
	int64_t overlays, overlay_bytes, resets_pending;
	json_t *leases;  /* state -> count */
	json_t *daemons; /* key -> {value, updated} */
};

static void bump(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	json_object_set_new(obj, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static int t_machine(void *arg, const struct fb_machine *m)
{
	struct tally *t = arg;
	t->machines++;
	if (m->registered && !m->image[0])
		t->unassigned++;
	bump(t->by_stage, m->stage[0] ? m->stage : "never");
	return 0;
}

static int t_image(void *arg, const struct fb_image *img)
{
	struct tally *t = arg;
	t->images++;
	if (!strcmp(img->state, "ready")) {
		t->images_ready++;
		t->image_bytes += img->size;
	}
	return 0;
}

static int t_overlay(void *arg, const struct fb_overlay *o)
{
	struct tally *t = arg;
	t->overlays++;
	t->overlay_bytes += o->bytes;
	t->resets_pending += o->reset_pending != 0;
	return 0;
}

static int t_lease(void *arg, const struct fb_lease *l)
{
	struct tally *t = arg;
	bump(t->leases, l->state);
	return 0;
}

static int t_status(void *arg, const char *key, const char *value, int64_t updated)
{
	struct tally *t = arg;
	json_object_set_new(t->daemons, key,
	                    json_pack("{s:s,s:I}", "value", value, "updated", (json_int_t)updated));
	return 0;
}

static void tally_free(struct tally *t)
{
	json_decref(t->by_stage);
	json_decref(t->leases);
	json_decref(t->daemons);
}

static int tally(struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->by_stage = json_object();
	t->leases = json_object();
	t->daemons = json_object();
	if (!t->by_stage || !t->leases || !t->daemons)
		return -ENOMEM;
	int rc = fb_db_machine_list(web_g.db, t_machine, t);
	if (!rc)
		rc = fb_db_image_list(web_g.db, NULL, t_image, t);
	if (!rc)
		rc = fb_db_overlay_list(web_g.db, t_overlay, t);
	if (!rc)
		rc = fb_db_lease_list(web_g.db, t_lease, t);
	if (!rc)
		rc = fb_db_status_list(web_g.db, t_status, t);
	return rc;
}

enum MHD_Result web_api_status(struct MHD_Connection *c, const char *method, int n)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
	if (n != 1)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	struct tally t;
	int rc = tally(&t);
	if (rc < 0) {
		tally_free(&t);
		return web_db_error(c, rc, "status");
	}
	json_t *j = json_pack(
	    "{s:{s:I,s:I,s:O},s:{s:I,s:I,s:I},s:{s:I,s:I,s:I},s:O,s:O,s:{s:I},s:{s:I}}", "machines",
	    "total", (json_int_t)t.machines, "unassigned", (json_int_t)t.unassigned, "by_stage",
	    t.by_stage, "images", "versions", (json_int_t)t.images, "ready",
	    (json_int_t)t.images_ready, "bytes", (json_int_t)t.image_bytes, "overlays", "count",
	    (json_int_t)t.overlays, "bytes", (json_int_t)t.overlay_bytes, "resets_pending",
	    (json_int_t)t.resets_pending, "leases", t.leases, "daemons", t.daemons, "events",
	    "last_id", (json_int_t)web_events_last_id(), "web", "sessions",
	    (json_int_t)web_session_count());
	tally_free(&t);
	return web_json(c, MHD_HTTP_OK, j);
}

/* ---- /metrics ----------------------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if (o->p && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 8192;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		char *b = realloc(o->p, cap);
		if (!b) {
			o->failed = 1;
			return;
		}
		o->p = b, o->cap = cap;
	}
}

/* Label values: escape backslash, quote and newline. */
static const char *label(const char *in, char *buf, size_t len)
{
	size_t k = 0;
	for (; *in && k + 3 < len; in++) {
		if (*in == '\\' || *in == '"') {
			buf[k++] = '\\';
			buf[k++] = *in;
		} else if (*in == '\n') {
			buf[k++] = '\\';
			buf[k++] = 'n';
		} else {
			buf[k++] = *in;
		}
	}
	buf[k] = '\0';
	return buf;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP fleetboot_%s %s\n# TYPE fleetboot_%s %s\n", name, help, name, type);
}

static void count_line(void *arg, const char *stage, uint64_t n)
{
	char b[64];
	put(arg, "fleetboot_boot_events_total{stage=\"%s\"} %llu\n", label(stage, b, sizeof(b)),
	    (unsigned long long)n);
}

static void kernel_count(void *arg, const char *stage, uint64_t n)
{
	if (!strcmp(stage, "kernel"))
		*(uint64_t *)arg = n;
}

static int numeric(const char *s, double *v)
{
	char *end;
	/* Plain decimal numbers only (no "inf", "nan" or hex). */
	if (!*s || strspn(s, "0123456789.-+eE") != strlen(s))
		return 0;
	*v = strtod(s, &end);
	return *end == '\0';
}

enum MHD_Result web_metrics(struct MHD_Connection *c)
{
	struct tally t;
	struct out o = {0};
	const char *k;
	json_t *v;
	char b[96];
	int rc = tally(&t);
	if (rc < 0) {
		tally_free(&t);
		return web_db_error(c, rc, "metrics");
	}

	family(&o, "machines", "gauge", "Machines by their last boot stage (never = not booted).");
	json_object_foreach(t.by_stage, k, v)
	    put(&o, "fleetboot_machines{stage=\"%s\"} %lld\n", label(k, b, sizeof(b)),
	        (long long)json_integer_value(v));
	family(&o, "machines_unassigned", "gauge",
	       "Unknown machines that registered and await an image.");
	put(&o, "fleetboot_machines_unassigned %lld\n", (long long)t.unassigned);
	family(&o, "boot_events_total", "counter", "Boot events recorded, by stage.");
	web_events_counts(count_line, &o);
	uint64_t boots = 0;
	web_events_counts(kernel_count, &boots);
	family(&o, "boots_total", "counter", "Boots that fetched a kernel.");
	put(&o, "fleetboot_boots_total %llu\n", (unsigned long long)boots);
	family(&o, "dhcp_leases", "gauge", "DHCP leases by state.");
	json_object_foreach(t.leases, k, v)
	    put(&o, "fleetboot_dhcp_leases{state=\"%s\"} %lld\n", label(k, b, sizeof(b)),
	        (long long)json_integer_value(v));
	family(&o, "images", "gauge", "Image versions by state.");
	put(&o, "fleetboot_images{state=\"ready\"} %lld\n", (long long)t.images_ready);
	put(&o, "fleetboot_images{state=\"retired\"} %lld\n",
	    (long long)(t.images - t.images_ready));
	family(&o, "image_bytes", "gauge", "Bytes of ready image root filesystems.");
	put(&o, "fleetboot_image_bytes %lld\n", (long long)t.image_bytes);
	family(&o, "overlays", "gauge", "Machine overlays.");
	put(&o, "fleetboot_overlays %lld\n", (long long)t.overlays);
	family(&o, "overlay_bytes", "gauge", "Bytes held by all overlays (last reported).");
	put(&o, "fleetboot_overlay_bytes %lld\n", (long long)t.overlay_bytes);
	family(&o, "overlay_resets_pending", "gauge", "Overlays waiting to be discarded.");
	put(&o, "fleetboot_overlay_resets_pending %lld\n", (long long)t.resets_pending);

	/* Daemon counters: one family each, untyped (the daemons define them). */
	int64_t newest = 0;
	json_object_foreach(t.daemons, k, v)
	{
		double d;
		const char *val = json_string_value(json_object_get(v, "value"));
		int64_t upd = json_integer_value(json_object_get(v, "updated"));
		if (upd > newest)
			newest = upd;
		if (!val || !numeric(val, &d))
			continue;
		web_metric_name(k, b, sizeof(b));
		put(&o, "# TYPE fleetboot_%s %s\nfleetboot_%s %s\n", b,
		    strstr(b, "_total") ? "counter" : "gauge", b, val);
	}
	family(&o, "status_updated_seconds", "gauge",
	       "Unix time of the newest daemon status report.");
	put(&o, "fleetboot_status_updated_seconds %lld\n", (long long)newest);
	family(&o, "web_sessions", "gauge", "Live admin sessions.");
	put(&o, "fleetboot_web_sessions %zu\n", web_session_count());
	family(&o, "web_requests_total", "counter", "Requests answered by fleetboot-web.");
	put(&o, "fleetboot_web_requests_total %llu\n", (unsigned long long)web_g.requests);
	family(&o, "web_login_failures_total", "counter", "Failed admin logins.");
	put(&o, "fleetboot_web_login_failures_total %llu\n",
	    (unsigned long long)web_g.login_failures);
	tally_free(&t);
	if (o.failed) {
		free(o.p);
		return MHD_NO;
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(o.len, o.p, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(o.p);
		return MHD_NO;
	}
	web_common_headers(r);
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
