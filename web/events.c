/*
 * events.c - boot events: the paged list, the Server-Sent Events stream,
 * and the poller thread behind both.
 *
 * bootd and storaged write events into the database from other processes,
 * so the poller (its own thread and DB handle) looks for new event ids
 * every 300 ms. It keeps the newest id and per-stage counts (for /metrics),
 * and resumes the suspended SSE connections when there is something new for
 * them, or every 15 s for a keep-alive comment that also notices clients
 * that went away. About once a second it also fingerprints the machines
 * table and announces a change as a "machines" event (a machine that
 * registered itself, or one changed with the CLI). A stream with nothing to send suspends itself
 * from its content callback, so idle streams cost no CPU in the HTTP thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "str.h"
#include "web.h"

#define POLL_MS      300
#define KEEPALIVE_MS 15000
#define STAGES_MAX   64

struct stream {
	struct MHD_Connection *conn; /* the SSE connection */
	char mac[FB_MACID_LEN];      /* filter; "" = every machine */
	int64_t cursor;              /* last event id sent */
	uint64_t machines_gen;       /* machines_gen last announced */
	int suspended;               /* parked until the poller wakes it */
	uint64_t last_write_ms;      /* for keep-alives */
	char *pend;                  /* formatted bytes not yet taken by MHD */
	size_t pend_len, pend_off;
	struct stream *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* all below */
static struct stream *streams;
static int64_t last_id;       /* newest event id the poller has seen */
static uint64_t machines_gen; /* bumped when the machines table changes */
static uint64_t machines_sum; /* fingerprint of the machines table */
static int stopping;
static struct {
	char stage[24];
	uint64_t n;
} counts[STAGES_MAX];
static size_t ncounts;

static pthread_t poller;
static int poller_running;
static struct fb_db *poll_db;

static void count_stage(const char *stage)
{
	for (size_t i = 0; i < ncounts; i++)
		if (!strcmp(counts[i].stage, stage)) {
			counts[i].n++;
			return;
		}
	if (ncounts < STAGES_MAX) {
		fb_strlcpy(counts[ncounts].stage, stage, sizeof(counts[ncounts].stage));
		counts[ncounts++].n = 1;
	} else {
		/* Free-form stages beyond the table share one bucket. */
		fb_strlcpy(counts[STAGES_MAX - 1].stage, "other", sizeof(counts[0].stage));
		counts[STAGES_MAX - 1].n++;
	}
}

struct scan {
	int64_t last;
	int rows;
};

static int scan_cb(void *arg, const struct fb_event *e)
{
	struct scan *s = arg;
	/* The cursor moves with each row counted (the lock is held), so a
	 * listing that fails half way never counts a row twice. */
	s->last = e->id;
	s->rows++;
	last_id = e->id;
	count_stage(e->stage);
	return 0;
}

/* Read every event after last_id (in pages); returns 1 when any was new. */
static int poll_once(void)
{
	int any = 0;
	for (;;) {
		struct fb_event_filter f = {.after = last_id, .limit = 1000};
		struct scan s = {.last = last_id};
		pthread_mutex_lock(&lock);
		int rc = fb_db_event_list(poll_db, &f, scan_cb, &s);
		if (s.rows)
			any = 1;
		pthread_mutex_unlock(&lock);
		if (rc < 0) {
			log_warnx("reading events: %s", fb_db_errmsg(poll_db));
			return any;
		}
		if (s.rows < 1000)
			return any;
	}
}

/* FNV-1a over the fields the UI shows, so a machine that registers
 * itself (bootd records no event for that) or is changed by the CLI reaches
 * open dashboards too. */
static void fnv(uint64_t *h, const char *s)
{
	for (; *s; s++)
		*h = (*h ^ (unsigned char)*s) * 1099511628211ULL;
	*h = (*h ^ 0xff) * 1099511628211ULL;
}

static int sum_cb(void *arg, const struct fb_machine *m)
{
	uint64_t *h = arg;
	fnv(h, m->mac);
	fnv(h, m->name);
	fnv(h, m->image);
	fnv(h, fb_mode_name(m->mode));
	fnv(h, fb_protocol_name(m->protocol));
	fnv(h, m->ip);
	fnv(h, m->group);
	fnv(h, m->registered ? "r" : "-");
	return 0;
}

static void poll_machines(void)
{
	uint64_t h = 14695981039346656037ULL;
	if (fb_db_machine_list(poll_db, sum_cb, &h) < 0)
		return;
	pthread_mutex_lock(&lock);
	if (h != machines_sum) {
		if (machines_sum)
			machines_gen++;
		machines_sum = h;
	}
	pthread_mutex_unlock(&lock);
}

static void *poll_main(void *arg)
{
	unsigned ticks = 0;
	while (1) {
		pthread_mutex_lock(&lock);
		int stop = stopping;
		pthread_mutex_unlock(&lock);
		if (stop)
			break;
		poll_once();
		if (++ticks % 3 == 0)
			poll_machines();
		uint64_t now = fb_mono_ms();
		pthread_mutex_lock(&lock);
		for (struct stream *s = streams; s; s = s->next) {
			if (!s->suspended)
				continue;
			if (s->cursor < last_id || s->machines_gen != machines_gen ||
			    now - s->last_write_ms >= KEEPALIVE_MS) {
				s->suspended = 0;
				MHD_resume_connection(s->conn);
			}
		}
		pthread_mutex_unlock(&lock);
		struct timespec ts = {0, POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int web_events_start(void)
{
	int rc = fb_db_open_state(&poll_db, web_g.cfg.state_dir);
	if (rc < 0) {
		log_warnx("%s: cannot open the database: %s", web_g.cfg.state_dir, strerror(-rc));
		return -1;
	}
	poll_once(); /* counts and the starting cursor, before anyone streams */
	poll_machines();
	if (pthread_create(&poller, NULL, poll_main, NULL)) {
		log_warnx("cannot start the event poller");
		return -1;
	}
	poller_running = 1;
	return 0;
}

void web_events_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = 1;
	/* MHD refuses to stop with suspended connections: wake them; their
	 * callbacks see `stopping` and end the stream. */
	for (struct stream *s = streams; s; s = s->next)
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	pthread_mutex_unlock(&lock);
	if (poller_running)
		pthread_join(poller, NULL);
	poller_running = 0;
	fb_db_close(poll_db);
	poll_db = NULL;
}

void web_events_counts(void (*cb)(void *arg, const char *stage, uint64_t n), void *arg)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < ncounts; i++)
		cb(arg, counts[i].stage, counts[i].n);
	pthread_mutex_unlock(&lock);
}

int64_t web_events_last_id(void)
{
	pthread_mutex_lock(&lock);
	int64_t v = last_id;
	pthread_mutex_unlock(&lock);
	return v;
}

static json_t *event_json(const struct fb_event *e)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:s}", "id", (json_int_t)e->id, "time_ms",
	                 (json_int_t)e->time_ms, "mac", e->mac, "stage", e->stage, "detail",
	                 e->detail);
}

static int list_cb(void *arg, const struct fb_event *e)
{
	return json_array_append_new(arg, event_json(e)) < 0 ? -ENOMEM : 0;
}

/* ---- the stream ---------------------------------------------------------- */

struct fmt {
	struct stream *s;
	char *buf;
	size_t len, cap;
	int failed;
};

static int stream_cb(void *arg, const struct fb_event *e)
{
	struct fmt *f = arg;
	json_t *j = event_json(e);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(j);
	if (!text) {
		f->failed = 1;
		return -ENOMEM;
	}
	size_t need = strlen(text) + 64;
	if (f->len + need > f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4096;
		while (cap < f->len + need)
			cap *= 2;
		char *b = realloc(f->buf, cap);
		if (!b) {
			free(text);
			f->failed = 1;
			return -ENOMEM;
		}
		f->buf = b, f->cap = cap;
	}
	f->len += (size_t)snprintf(f->buf + f->len, f->cap - f->len,
	                           "id: %lld\nevent: stage\ndata: %s\n\n", (long long)e->id, text);
	free(text);
	f->s->cursor = e->id;
	return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	if (s->pend_off < s->pend_len) {
		size_t n = s->pend_len - s->pend_off;
		if (n > max)
			n = max;
		memcpy(buf, s->pend + s->pend_off, n);
		s->pend_off += n;
		s->last_write_ms = fb_mono_ms();
		return (ssize_t)n;
	}
	free(s->pend);
	s->pend = NULL;
	s->pend_len = s->pend_off = 0;

	pthread_mutex_lock(&lock);
	int stop = stopping;
	int64_t newest = last_id;
	uint64_t gen = machines_gen;
	pthread_mutex_unlock(&lock);
	if (stop)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->machines_gen != gen) {
		int n = snprintf(buf, max, "event: machines\ndata: {\"gen\":%llu}\n\n",
		                 (unsigned long long)gen);
		if (n > 0 && (size_t)n < max) {
			s->machines_gen = gen;
			s->last_write_ms = fb_mono_ms();
			return n;
		}
	}

	if (s->cursor < newest) {
		struct fb_event_filter f = {
		    .mac = s->mac[0] ? s->mac : NULL, .after = s->cursor, .limit = 200};
		struct fmt fm = {.s = s};
		int rc = fb_db_event_list(web_g.db, &f, stream_cb, &fm);
		if (rc < 0 && !fm.failed) {
			free(fm.buf);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (fm.len == 0) {
			/* Nothing for this filter up to newest. */
			if (s->cursor < newest && rc == 0)
				s->cursor = newest;
			free(fm.buf);
		} else {
			s->pend = fm.buf;
			s->pend_len = fm.len;
			return stream_read(cls, pos, buf, max);
		}
	}
	uint64_t now = fb_mono_ms();
	if (now - s->last_write_ms >= KEEPALIVE_MS) {
		static const char ping[] = ": keep-alive\n\n";
		size_t n = sizeof(ping) - 1 < max ? sizeof(ping) - 1 : max;
		memcpy(buf, ping, n);
		s->last_write_ms = now;
		return (ssize_t)n;
	}
	/* Park until the poller sees something newer; checked under the lock
	 * so a wake-up between the check and the suspend is not lost. */
	pthread_mutex_lock(&lock);
	if (last_id > s->cursor || machines_gen != s->machines_gen || stopping) {
		pthread_mutex_unlock(&lock);
		return stream_read(cls, pos, buf, max);
	}
	s->suspended = 1;
	MHD_suspend_connection(s->conn);
	pthread_mutex_unlock(&lock);
	return 0;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	pthread_mutex_lock(&lock);
	for (struct stream **p = &streams; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	pthread_mutex_unlock(&lock);
	free(s->pend);
	free(s);
}

static enum MHD_Result stream_start(struct MHD_Connection *c)
{
	const char *machine = web_query(c, "machine");
	const char *after = web_query(c, "after");
	const char *lei = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->conn = c;
	if (machine && *machine && macid_normalize(machine, s->mac) < 0) {
		free(s);
		return web_error(c, MHD_HTTP_BAD_REQUEST, "machine: not a MAC address");
	}
	int64_t v;
	s->cursor = web_events_last_id();
	pthread_mutex_lock(&lock);
	s->machines_gen = machines_gen;
	pthread_mutex_unlock(&lock);
	if (lei && *lei) {
		if (web_parse_i64(lei, 0, INT64_MAX, &v) < 0) {
			free(s);
			return web_error(c, MHD_HTTP_BAD_REQUEST, "Last-Event-ID: not an event id");
		}
		s->cursor = v;
	} else if (after && *after) {
		if (web_parse_i64(after, 0, INT64_MAX, &v) < 0) {
			free(s);
			return web_error(c, MHD_HTTP_BAD_REQUEST,
			                 "after: must be a non-negative integer");
		}
		s->cursor = v;
	}
	/* An opening comment tells the browser the stream is up at once. */
	static const char hello[] = ": fleetboot events\nretry: 2000\n\n";
	s->pend = malloc(sizeof(hello));
	if (!s->pend) {
		free(s);
		return MHD_NO;
	}
	memcpy(s->pend, hello, sizeof(hello));
	s->pend_len = sizeof(hello) - 1;
	s->last_write_ms = fb_mono_ms();

	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
	if (!r) {
		free(s->pend);
		free(s);
		return MHD_NO;
	}
	pthread_mutex_lock(&lock);
	s->next = streams;
	streams = s;
	pthread_mutex_unlock(&lock);
	web_common_headers(r);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result web_api_events(struct MHD_Connection *c, const char *method, char segs[][128],
                               int n)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method: use GET");
	if (n == 2 && !strcmp(segs[1], "stream"))
		return stream_start(c);
	if (n != 1)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: no such resource");
	struct fb_event_filter f;
	char mac[FB_MACID_LEN], why[200];
	if (web_event_query(web_query(c, "machine"), web_query(c, "stage"), web_query(c, "after"),
	                    web_query(c, "limit"), &f, mac, why, sizeof(why)) < 0)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	json_t *a = json_array();
	if (!a)
		return MHD_NO;
	int rc = fb_db_event_list(web_g.db, &f, list_cb, a);
	if (rc < 0) {
		json_decref(a);
		return web_db_error(c, rc, "events");
	}
	int64_t next = f.after;
	size_t cnt = json_array_size(a);
	if (cnt)
		next = json_integer_value(json_object_get(json_array_get(a, cnt - 1), "id"));
	return web_json(c, MHD_HTTP_OK,
	                json_pack("{s:o,s:I,s:b}", "events", a, "next", (json_int_t)next, "more",
	                          cnt == (size_t)f.limit));
}
