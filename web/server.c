/*
 * server.c - the libmicrohttpd daemon: request bodies (bounded), the
 * authentication gate in front of every route but the login, and dispatch
 * to the REST resources, the event stream, /metrics and the static UI.
 *
 * Every handler runs in MHD's one internal epoll thread, which owns
 * web_g.db; nothing here blocks for long except a login's password hash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "web.h"

void web_common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

enum MHD_Result web_text(struct MHD_Connection *c, unsigned status, const char *type,
                         const char *text, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	web_common_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result web_json_header(struct MHD_Connection *c, unsigned status, json_t *j,
                                const char *header, const char *value)
{
	if (!j)
		return MHD_NO; /* allocation failed: drop this request only */
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	if (!s)
		return MHD_NO;
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(s);
		return MHD_NO;
	}
	web_common_headers(r);
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"fleetboot\"");
	if (header)
		MHD_add_response_header(r, header, value);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result web_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
	return web_json_header(c, status, j, NULL, NULL);
}

enum MHD_Result web_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return web_json(c, status, json_pack("{s:s}", "error", msg));
}

enum MHD_Result web_db_error(struct MHD_Connection *c, int rc, const char *what)
{
	const char *msg = fb_db_errmsg(web_g.db);
	switch (rc) {
	case -ENOENT:
		return web_error(c, MHD_HTTP_NOT_FOUND, "%s: not found", what);
	case -EEXIST:
		return web_error(c, MHD_HTTP_CONFLICT, "%s", msg && *msg ? msg : "already exists");
	case -EINVAL:
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", msg && *msg ? msg : what);
	case -EBUSY:
		return web_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "database busy; try again");
	default:
		log_warnx("%s: %s", what, msg ? msg : strerror(-rc));
		return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s: database error", what);
	}
}

const char *web_query(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* Query values arrive percent-decoded; refuse any that are not UTF-8. */
static enum MHD_Result check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
	int *bad = cls;
	if (!web_utf8_valid(key, strlen(key)) || (value && !web_utf8_valid(value, strlen(value)))) {
		*bad = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

static enum MHD_Result route_api(struct MHD_Connection *c, struct web_req *req, const char *url,
                                 const char *method)
{
	char segs[WEB_MAX_SEGS][128];
	int n = web_api_split(url, segs);
	if (n < 0)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	if (n == 0)
		return web_json(c, MHD_HTTP_OK, json_pack("{s:s}", "api", "fleetboot/v1"));
	const char *r = segs[0];
	if (!strcmp(r, "session") && n == 1) {
		if (!strcmp(method, "GET"))
			return web_session_info(c, req);
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
	}
	if (!strcmp(r, "logout") && n == 1) {
		if (!strcmp(method, "POST"))
			return web_logout(c, req);
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use POST");
	}
	if (n == 3 && !strcmp(segs[2], "wake") && (!strcmp(r, "machines") || !strcmp(r, "groups")))
		return web_api_wake(c, req, method, segs, n);
	if (!strcmp(r, "machines"))
		return web_api_machines(c, req, method, segs, n);
	if (!strcmp(r, "groups"))
		return web_api_groups(c, req, method, segs, n);
	if (!strcmp(r, "images"))
		return web_api_images(c, req, method, segs, n);
	if (!strcmp(r, "entries"))
		return web_api_entries(c, req, method, segs, n);
	if (!strcmp(r, "overlays"))
		return web_api_overlays(c, req, method, segs, n);
	if (!strcmp(r, "leases"))
		return web_api_leases(c, method, n);
	if (!strcmp(r, "events"))
		return web_api_events(c, method, segs, n);
	if (!strcmp(r, "status"))
		return web_api_status(c, method, n);
	return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource '%s'", r);
}

static enum MHD_Result redirect_login(struct MHD_Connection *c)
{
	static const char body[] = "login required\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	web_common_headers(r);
	MHD_add_response_header(r, "Location", "/login.html");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Content-Type", "text/plain");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_FOUND, r);
	MHD_destroy_response(r);
	return ret;
}

static void peer_of(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, len, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, len);
}

static int is_json_type(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (!ct)
		return 0;
	size_t l = strlen("application/json");
	return !strncasecmp(ct, "application/json", l) && (ct[l] == '\0' || ct[l] == ';');
}

static enum MHD_Result handle(struct MHD_Connection *c, struct web_req *req, const char *url,
                              const char *method)
{
	int api = !strncmp(url, "/api/", 5) || !strcmp(url, "/api");
	int bad = 0;

	web_g.requests++;
	if (req->bad_uri)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "path: encoded NUL or control character");
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, check_arg, &bad);
	if (bad || !web_utf8_valid(url, strlen(url)))
		return web_error(c, MHD_HTTP_BAD_REQUEST, "query: not valid UTF-8");
	if (req->too_big)
		return web_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body: larger than %d bytes",
		                 WEB_BODY_MAX);
	int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	if (req->len && !is_json_type(c))
		return web_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		                 "Content-Type: must be application/json");

	/* The login itself, and the files its page needs, are open to all. */
	if (!strcmp(url, "/api/v1/login")) {
		if (strcmp(method, "POST"))
			return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use POST");
		return web_login(c, req);
	}
	if (!api && is_get && web_static_public(url))
		return web_static(c, url, method);

	int csrf_ok = 0;
	if (!web_auth(c, req, &csrf_ok)) {
		if (!api && strcmp(url, "/metrics") && is_get)
			return redirect_login(c);
		return web_error(c, MHD_HTTP_UNAUTHORIZED,
		                 "authentication required: log in or send Authorization: Bearer "
		                 "TOKEN");
	}
	if (!is_get && !csrf_ok)
		return web_error(c, MHD_HTTP_FORBIDDEN,
		                 "X-CSRF-Token: missing or does not match the session");
	if (!strcmp(url, "/metrics")) {
		if (!is_get)
			return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
		return web_metrics(c);
	}
	if (api)
		return route_api(c, req, url, method);
	if (!is_get)
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
	return web_static(c, url, method);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct web_req *req = *con_cls;
	if (!req)
		return MHD_NO; /* uri_cb could not allocate */
	if (!req->started) {
		req->started = 1;
		peer_of(c, req->peer, sizeof(req->peer));
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		int64_t n;
		if (cl && (web_parse_i64(cl, 0, INT64_MAX, &n) < 0 || n > WEB_BODY_MAX))
			req->too_big = 1;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (req->too_big)
			return MHD_YES;
		if (req->len + n > WEB_BODY_MAX) {
			req->too_big = 1;
			free(req->body);
			req->body = NULL;
			req->len = req->cap = 0;
			return MHD_YES;
		}
		if (req->len + n + 1 > req->cap) {
			size_t cap = req->cap ? req->cap : 1024;
			while (cap < req->len + n + 1)
				cap *= 2;
			char *b = realloc(req->body, cap);
			if (!b)
				return MHD_NO;
			req->body = b;
			req->cap = cap;
		}
		memcpy(req->body + req->len, upload_data, n);
		req->len += n;
		req->body[req->len] = '\0';
		return MHD_YES;
	}
	/* A body too large is refused before it is read at all. */
	if (req->too_big && !req->job)
		return web_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "body: larger than %d bytes",
		                 WEB_BODY_MAX);
	if (req->job) {
		/* Resumed after an overlay commit finished. */
		int code;
		const char *out;
		if (web_job_done(req->job, &code, &out) == 1)
			return MHD_YES; /* spurious wake-up */
		if (code == 0) {
			int commit = !strcmp(web_job_action(req->job), "commit");
			json_t *j = json_pack("{s:s,s:s,s:s}", "mac", web_job_mac(req->job),
			                      "action", web_job_action(req->job), "output", out);
			if (j && !commit) {
				/* Tell the UI whether it happened now or at the end of the
				 * machine's current boot. */
				struct fb_overlay o;
				int pending =
				    fb_db_overlay_get(web_g.db, web_job_mac(req->job), &o) == 0 &&
				    o.reset_pending;
				json_object_set_new(j, "reset_pending", json_boolean(pending));
			}
			return web_json(c, commit ? MHD_HTTP_CREATED : MHD_HTTP_OK, j);
		}
		unsigned st = code < 0    ? MHD_HTTP_INTERNAL_SERVER_ERROR
		              : code == 2 ? MHD_HTTP_BAD_REQUEST
		                          : MHD_HTTP_CONFLICT;
		return web_error(c, st, "%s", out[0] ? out : "overlay action failed");
	}
	return handle(c, req, url, method);
}

/* Called with the raw request URI before MHD decodes it: the place to see
 * an encoded NUL, which decoding would silently cut the path at. Its return
 * value becomes the request's state. */
static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct web_req *req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	for (const char *p = uri; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			req->bad_uri = 1;
		if (p[0] == '%' && p[1] && p[2] &&
		    (p[1] == '0' || p[1] == '1' || (p[1] == '7' && (p[2] == 'f' || p[2] == 'F'))))
			req->bad_uri = 1;
	}
	return req;
}

static void completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct web_req *req = *con_cls;
	if (!req)
		return;
	if (req->job)
		web_job_free(req->job);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t l = strlen(msg);
	while (l && msg[l - 1] == '\n')
		msg[--l] = '\0';
	log_debug("%s", msg);
}

int web_listen_addr(struct sockaddr_in *sin)
{
	const char *host = web_g.cfg.web_host;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(web_g.cfg.web_port);
	if (!host[0] || !strcmp(host, "*"))
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (!strcmp(host, "localhost"))
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	return 0;
}

int web_bind(void)
{
	struct sockaddr_in sin;
	int one = 1;
	if (web_listen_addr(&sin) < 0) {
		log_warnx("[web] listen: '%s' is not an IPv4 address", web_g.cfg.web_host);
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0) {
		log_warn("cannot listen on %s:%d", web_g.cfg.web_host[0] ? web_g.cfg.web_host : "*",
		         web_g.cfg.web_port);
		close(fd);
		return -1;
	}
	return fd;
}

int web_start(int listen_fd)
{
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	/* The logger goes first so MHD uses it for every later message. */
	web_g.mhd = MHD_start_daemon(
	    flags, 0, NULL, NULL, access_cb, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_cb, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, NULL, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)256, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(128 * 1024), MHD_OPTION_END);
	if (!web_g.mhd) {
		log_warnx("cannot start the HTTP server");
		return -1;
	}
	return 0;
}

void web_stop(void)
{
	if (web_g.mhd) {
		MHD_stop_daemon(web_g.mhd);
		web_g.mhd = NULL;
	}
}
