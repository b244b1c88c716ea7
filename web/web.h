/*
 * web.h - fleetboot-web: the admin REST API, the live event stream and the
 * static admin UI, served by libmicrohttpd from one internal epoll thread.
 *
 * Threads: MHD's polling thread runs every request handler and owns the
 * server's database handle (fb_db handles are single-thread); the event
 * poller thread has its own handle and wakes suspended event streams;
 * overlay commits run the CLI from short-lived worker threads that touch no
 * database at all. Shared state (sessions, back-off, the event cursor) is
 * guarded by the mutexes named beside it.
 */
#ifndef FB_WEB_H
#define FB_WEB_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "db/db.h"

#define WEB_BODY_MAX     (64 * 1024) /* request bodies larger than this get 413 */
#define WEB_MAX_SEGS     8           /* path segments the router looks at */
#define WEB_SESSION_MAX  1024        /* live sessions kept in memory */
#define WEB_SESSION_IDLE (12 * 3600) /* seconds a session lives without use */
#define WEB_SESSION_LIFE (7 * 86400) /* absolute session lifetime */
#define WEB_COOKIE       "fb_session"

/* The daemon's state, one instance. */
struct web {
	struct fb_config cfg;    /* effective configuration */
	struct fb_db *db;        /* handle of the MHD thread */
	struct MHD_Daemon *mhd;  /* the HTTP daemon */
	char ui_dir[4096];       /* directory of the static UI */
	char conf_arg[4096];     /* -c FILE to pass to the CLI ("" = default) */
	int hsts;                /* unused for plain HTTP; reserved */
	uint64_t requests;       /* requests answered (MHD thread only) */
	uint64_t login_failures; /* failed logins (MHD thread only) */
};

extern struct web web_g;

/* Per-request state, allocated at the first call of the access handler. */
struct web_req {
	char *body;             /* request body (NUL-terminated) */
	size_t len, cap;        /* bytes held, allocated */
	int too_big;            /* body exceeded WEB_BODY_MAX */
	char user[FB_NAME_LEN]; /* authenticated user or token label */
	int via_token;          /* authenticated by a bearer token */
	char session_id[65];    /* session used, if any */
	char peer[64];          /* client address, for back-off and logs */
	struct web_job *job;    /* overlay commit running for this request */
	int started;            /* the access handler has seen this request */
	int bad_uri;            /* the raw URI encodes a NUL or control byte */
};

/* The request parsers below do no I/O and touch neither MHD nor the DB, so
 * the fuzz targets call them directly (tests/fuzz/fuzz_web_*.c). Those that
 * fail say why in a caller's buffer: WEB_WHY writes the message into the
 * why[whylen] in scope and evaluates to -1. */
#define WEB_WHY(...) (snprintf(why, whylen, __VA_ARGS__), -1)

/* ---- text.c: character-level checks of untrusted text -------------------- */

/* 1 when s[0..n) is well-formed UTF-8 (no overlongs, surrogates, NUL). */
int web_utf8_valid(const char *s, size_t n);
/* Metric-name-safe copy ([a-zA-Z0-9_], others become '_'). */
void web_metric_name(const char *in, char *out, size_t len);

/* ---- path.c: URL paths ---------------------------------------------------- */

/* Split an API path into segments after "/api/v1/". Returns the count
 * (0..WEB_MAX_SEGS), or -1 when the path is not under /api/v1, has empty
 * segments, too many segments, or bytes that are not printable UTF-8. */
int web_api_split(const char *url, char segs[WEB_MAX_SEGS][128]);
/* Map a UI URL path to a relative file name under the UI directory ("/" ->
 * "index.html"). -1 for anything that could leave the directory or name a
 * hidden file: "..", ".", backslashes, control bytes, odd characters. */
int web_static_name(const char *url, char *out, size_t len);

/* ---- query.c: query-string values ----------------------------------------- */

/* Parse a decimal integer in [min, max]; -1 when not exactly that. */
int web_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Check event-list query values into f (machine normalised into macbuf).
 * Returns 0 or -1 with a message naming the parameter. */
int web_event_query(const char *machine, const char *stage, const char *after, const char *limit,
                    struct fb_event_filter *f, char macbuf[FB_MACID_LEN], char *why, size_t whylen);

/* ---- body.c: request bodies ----------------------------------------------- */

/* Parse a JSON request body: an object, UTF-8, no duplicate keys. Returns
 * the object or NULL with the reason in why. */
json_t *web_parse_body(const char *body, size_t len, char *why, size_t whylen);

/* ---- machine_fields.c: machine fields of POST and PATCH ------------------- */

/* Apply the fields of a JSON object to a machine (create: POST, else PATCH).
 * Unknown fields, wrong types, bad values and over-long strings fail with a
 * message naming the field in why. Returns 0 or -1. rotate is set when the
 * object asks for a new secret. */
int web_machine_apply(json_t *obj, struct fb_machine *m, int create, int *rotate, char *why,
                      size_t whylen);

/* ---- server.c: responses and dispatch ----------------------------------- */

struct sockaddr_in;
/* Parse [web] listen into sin; -1 when the host is not an IPv4 address. */
int web_listen_addr(struct sockaddr_in *sin);
/* Bind and listen (while still privileged); the socket or -1. */
int web_bind(void);
/* Serve on the listening socket from MHD's internal epoll thread. */
int web_start(int listen_fd);
void web_stop(void);
/* Queue a JSON response (steals j); adds the no-store and nosniff headers. */
enum MHD_Result web_json(struct MHD_Connection *c, unsigned status, json_t *j);
/* web_json with one more response header (header NULL: none). */
enum MHD_Result web_json_header(struct MHD_Connection *c, unsigned status, json_t *j,
                                const char *header, const char *value);
/* {"error": "..."} with status. */
enum MHD_Result web_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Map a negative errno from db/ to a status and send fb_db_errmsg. */
enum MHD_Result web_db_error(struct MHD_Connection *c, int rc, const char *what);
/* Send text with a content type. */
enum MHD_Result web_text(struct MHD_Connection *c, unsigned status, const char *type,
                         const char *text, size_t len);
/* Add the headers every response carries. */
void web_common_headers(struct MHD_Response *r);
/* Query parameter (decoded), or NULL. */
const char *web_query(struct MHD_Connection *c, const char *name);

/* ---- auth.c -------------------------------------------------------------- */

/* Who is asking: fills req->user and friends. Returns 1 authenticated,
 * 0 not. csrf_ok is set when the request may change state (a bearer token,
 * or a session with the matching X-CSRF-Token header). */
int web_auth(struct MHD_Connection *c, struct web_req *req, int *csrf_ok);
enum MHD_Result web_login(struct MHD_Connection *c, struct web_req *req);
enum MHD_Result web_logout(struct MHD_Connection *c, struct web_req *req);
enum MHD_Result web_session_info(struct MHD_Connection *c, struct web_req *req);
void web_auth_init(void);
void web_auth_free(void);
size_t web_session_count(void);

/* ---- api_*.c: the REST resources ------------------------------------------ */

/* api_entries.c: /api/v1/entries; an entry as JSON; a next boot checked
 * (an entry, a ready image ref, "local"; "" or "none" clear) into out. */
enum MHD_Result web_api_entries(struct MHD_Connection *c, struct web_req *req, const char *method,
                                char segs[][128], int n);
json_t *web_entry_json(const struct fb_entry *e);
int web_next_boot_check(const char *item, char out[FB_REF_LEN], char *why, size_t whylen);
/* api_wake.c: POST /machines/MAC/wake and /groups/NAME/wake (segs[2] is
 * "wake"). */
enum MHD_Result web_api_wake(struct MHD_Connection *c, struct web_req *req, const char *method,
                             char segs[][128], int n);
enum MHD_Result web_api_machines(struct MHD_Connection *c, struct web_req *req, const char *method,
                                 char segs[][128], int n);
/* api_groups.c: /api/v1/groups (a group as JSON: fb_group_json); a POST/PATCH body applied
 * to g (0, or -1 with the field named in why). */
enum MHD_Result web_api_groups(struct MHD_Connection *c, struct web_req *req, const char *method,
                               char segs[][128], int n);
int web_group_apply(json_t *obj, struct fb_group *g, int create, char *why, size_t whylen);
enum MHD_Result web_api_images(struct MHD_Connection *c, struct web_req *req, const char *method,
                               char segs[][128], int n);
enum MHD_Result web_api_overlays(struct MHD_Connection *c, struct web_req *req, const char *method,
                                 char segs[][128], int n);
enum MHD_Result web_api_leases(struct MHD_Connection *c, const char *method, int n);
enum MHD_Result web_api_events(struct MHD_Connection *c, const char *method, char segs[][128],
                               int n);
enum MHD_Result web_api_status(struct MHD_Connection *c, const char *method, int n);
enum MHD_Result web_metrics(struct MHD_Connection *c);
json_t *web_machine_json(const struct fb_machine *m, int with_secret);

/* ---- events.c: the poller thread and Server-Sent Events ----------------- */

int web_events_start(void);
void web_events_stop(void);
/* Counts of events by stage seen so far (for /metrics); calls cb per stage. */
void web_events_counts(void (*cb)(void *arg, const char *stage, uint64_t n), void *arg);
int64_t web_events_last_id(void);

/* ---- jobs.c: overlay commit in a child process --------------------------- */

struct web_job;
/* Start `fleetboot overlay ACTION MAC [--as NAME]`; the connection is
 * suspended until it ends. 0 or -1. */
int web_job_start(struct MHD_Connection *c, struct web_req *req, const char *action,
                  const char *mac, const char *as);
const char *web_job_action(const struct web_job *j);
const char *web_job_mac(const struct web_job *j);
/* 1 while running, 0 when done (status/exit code/output filled). */
int web_job_done(struct web_job *j, int *exit_code, const char **output);
void web_job_free(struct web_job *j);

/* ---- static.c ------------------------------------------------------------ */

/* Public files the login page needs (served without a session). */
int web_static_public(const char *url);
enum MHD_Result web_static(struct MHD_Connection *c, const char *url, const char *method);

#endif
