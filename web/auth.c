/*
 * auth.c - who may use fleetboot-web: the login with back-off, sessions,
 * CSRF tokens and API bearer tokens.
 *
 * Sessions live only in memory (a restart logs everyone out, which is the
 * safe direction): a 256-bit random id in an HttpOnly, SameSite=Strict
 * cookie, and a separate random CSRF token the UI sends back in the
 * X-CSRF-Token header on every change. Bearer tokens are checked by their
 * sha256 against the tokens table, so the database never holds a token.
 *
 * Failed logins are counted per client address and per user name at that
 * address; after three, each further attempt must wait twice as long as the
 * one before (1 s, 2 s, 4 s ... up to 5 minutes), and attempts in that
 * window are refused without touching the password hash. Never per user
 * name alone: then anyone could lock the admin out by failing on purpose,
 * while this way the admin can always log in from another address.
 *
 * Everything here runs in the MHD thread, so the tables need no lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "pwhash.h"
#include "secret.h"
#include "sha256.h"
#include "str.h"
#include "web.h"

struct session {
	char id[65];            /* cookie value; "" = free slot */
	char csrf[65];          /* token the UI must echo on changes */
	char user[FB_NAME_LEN]; /* who logged in */
	int64_t created;        /* unix time */
	int64_t last_used;      /* unix time */
};

#define BACKOFF_MAX    1024
#define BACKOFF_FREE   3         /* failures allowed before any wait */
#define BACKOFF_CAP    300       /* longest wait, seconds */
#define BACKOFF_FORGET (15 * 60) /* failures older than this are forgotten */
#define US_PER_S       1000000LL

/* Times are on the monotonic clock in microseconds: with whole seconds, a
 * "1 s" wait that began at x.999 would end a millisecond later. */
struct backoff {
	char key[144]; /* "ip:ADDR" or "user:NAME@ADDR"; "" = free */
	int fails;     /* consecutive failures */
	int64_t last;  /* time of the last failure, us */
	int64_t until; /* no attempt before this time, us */
};

static struct session *sessions;
static struct backoff *backoffs;

void web_auth_init(void)
{
	sessions = calloc(WEB_SESSION_MAX, sizeof(*sessions));
	backoffs = calloc(BACKOFF_MAX, sizeof(*backoffs));
	if (!sessions || !backoffs)
		fatal("cannot allocate the session tables");
}

void web_auth_free(void)
{
	free(sessions);
	free(backoffs);
	sessions = NULL;
	backoffs = NULL;
}

static int session_live(const struct session *s, int64_t now)
{
	return s->id[0] && now - s->last_used < WEB_SESSION_IDLE &&
	       now - s->created < WEB_SESSION_LIFE;
}

size_t web_session_count(void)
{
	size_t n = 0;
	int64_t now = fb_now();
	for (size_t i = 0; i < WEB_SESSION_MAX; i++)
		n += session_live(&sessions[i], now);
	return n;
}

static struct session *session_find(const char *id)
{
	int64_t now = fb_now();
	if (!id || strlen(id) != 64)
		return NULL;
	for (size_t i = 0; i < WEB_SESSION_MAX; i++) {
		struct session *s = &sessions[i];
		if (!s->id[0])
			continue;
		if (!session_live(s, now)) {
			memset(s, 0, sizeof(*s));
			continue;
		}
		if (fb_secret_equal(s->id, id))
			return s;
	}
	return NULL;
}

static struct session *session_new(const char *user)
{
	int64_t now = fb_now();
	struct session *slot = NULL;
	/* A free or expired slot, else the least recently used one. */
	for (size_t i = 0; i < WEB_SESSION_MAX; i++) {
		struct session *s = &sessions[i];
		if (!session_live(s, now)) {
			slot = s;
			break;
		}
		if (!slot || s->last_used < slot->last_used)
			slot = s;
	}
	memset(slot, 0, sizeof(*slot));
	if (fb_random_hex(slot->id, 32) < 0 || fb_random_hex(slot->csrf, 32) < 0) {
		memset(slot, 0, sizeof(*slot));
		return NULL;
	}
	fb_strlcpy(slot->user, user, sizeof(slot->user));
	slot->created = slot->last_used = now;
	return slot;
}

static struct backoff *backoff_get(const char *kind, const char *val, int create)
{
	char key[sizeof(((struct backoff *)0)->key)];
	snprintf(key, sizeof(key), "%s:%s", kind, val);
	struct backoff *oldest = NULL;
	int64_t now = (int64_t)fb_mono_us();
	for (size_t i = 0; i < BACKOFF_MAX; i++) {
		struct backoff *b = &backoffs[i];
		if (b->key[0] && now - b->last > BACKOFF_FORGET * US_PER_S && now >= b->until)
			memset(b, 0, sizeof(*b));
		if (b->key[0] && !strcmp(b->key, key))
			return b;
		if (!oldest || !b->key[0] || (oldest->key[0] && b->last < oldest->last))
			oldest = b;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	fb_strlcpy(oldest->key, key, sizeof(oldest->key));
	return oldest;
}

/* Seconds left to wait, rounded up; 0 = may try now. */
static int64_t backoff_wait(const char *kind, const char *val)
{
	struct backoff *b = backoff_get(kind, val, 0);
	int64_t now = (int64_t)fb_mono_us();
	return b && b->until > now ? (b->until - now + US_PER_S - 1) / US_PER_S : 0;
}

static void backoff_fail(const char *kind, const char *val)
{
	struct backoff *b = backoff_get(kind, val, 1);
	int64_t now = (int64_t)fb_mono_us();
	b->fails++;
	b->last = now;
	if (b->fails > BACKOFF_FREE) {
		int shift = b->fails - BACKOFF_FREE - 1;
		int64_t wait = shift >= 9 ? BACKOFF_CAP : (int64_t)1 << shift;
		b->until = now + (wait > BACKOFF_CAP ? BACKOFF_CAP : wait) * US_PER_S;
	}
}

static void backoff_clear(const char *kind, const char *val)
{
	struct backoff *b = backoff_get(kind, val, 0);
	if (b)
		memset(b, 0, sizeof(*b));
}

static const char *cookie_session(struct MHD_Connection *c)
{
	return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, WEB_COOKIE);
}

int web_auth(struct MHD_Connection *c, struct web_req *req, int *csrf_ok)
{
	*csrf_ok = 0;
	const char *authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (authz) {
		/* A bearer token, or nothing: a bad Authorization header never
		 * falls back to the cookie. */
		if (strncasecmp(authz, "Bearer ", 7))
			return 0;
		const char *tok = authz + 7;
		while (*tok == ' ')
			tok++;
		size_t l = strlen(tok);
		if (l < 16 || l > 256)
			return 0;
		char hash[FB_SHA256_HEX];
		struct fb_token t;
		fb_sha256_mem(tok, l, hash);
		if (fb_db_token_check(web_g.db, hash, &t) < 0)
			return 0;
		fb_strlcpy(req->user, t.name, sizeof(req->user));
		req->via_token = 1;
		*csrf_ok = 1; /* a bearer token is not sent by browsers on their own */
		return 1;
	}
	struct session *s = session_find(cookie_session(c));
	if (!s)
		return 0;
	s->last_used = fb_now();
	fb_strlcpy(req->user, s->user, sizeof(req->user));
	fb_strlcpy(req->session_id, s->id, sizeof(req->session_id));
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	*csrf_ok = h && fb_secret_equal(h, s->csrf);
	return 1;
}

static enum MHD_Result too_many(struct MHD_Connection *c, int64_t wait)
{
	char secs[24];
	snprintf(secs, sizeof(secs), "%lld", (long long)wait);
	json_t *j = json_pack("{s:s,s:I}", "error",
	                      "login: too many failed attempts; wait before trying again",
	                      "retry_after", (json_int_t)wait);
	return web_json_header(c, MHD_HTTP_TOO_MANY_REQUESTS, j, "Retry-After", secs);
}

enum MHD_Result web_login(struct MHD_Connection *c, struct web_req *req)
{
	char why[256];
	json_t *j = web_parse_body(req->body, req->len, why, sizeof(why));
	if (!j)
		return web_error(c, MHD_HTTP_BAD_REQUEST, "%s", why);
	json_t *ju = json_object_get(j, "user"), *jp = json_object_get(j, "password");
	if (!json_is_string(ju) || !json_string_length(ju) ||
	    json_string_length(ju) >= FB_NAME_LEN) {
		json_decref(j);
		return web_error(c, MHD_HTTP_BAD_REQUEST, "user: required (a user name)");
	}
	if (!json_is_string(jp) || json_string_length(jp) > 1024) {
		json_decref(j);
		return web_error(c, MHD_HTTP_BAD_REQUEST, "password: required (a string)");
	}
	char user[FB_NAME_LEN];
	fb_strlcpy(user, json_string_value(ju), sizeof(user));
	char *pw = strdup(json_string_value(jp));
	json_decref(j);
	if (!pw)
		return MHD_NO;

	char user_at[FB_NAME_LEN + sizeof(req->peer) + 1];
	snprintf(user_at, sizeof(user_at), "%s@%s", user, req->peer);
	int64_t wait = backoff_wait("ip", req->peer), w2 = backoff_wait("user", user_at);
	if (w2 > wait)
		wait = w2;
	if (wait > 0) {
		free(pw);
		log_info("login for '%s' from %s refused: back-off %llds", user, req->peer,
		         (long long)wait);
		return too_many(c, wait);
	}

	char stored[FB_PWHASH_LEN];
	int ok = 0;
	if (fb_db_user_get(web_g.db, user, stored, sizeof(stored)) == 0) {
		ok = fb_pwhash_check(pw, stored) == 1;
		/* A hash of an older kind (PBKDF2) or weaker parameters: the
		 * password is at hand, so store today's kind of hash. */
		char fresh[FB_PWHASH_LEN];
		if (ok && fb_pwhash_needs_rehash(stored) &&
		    fb_pwhash_make(pw, fresh, sizeof(fresh)) == 0) {
			int rc = fb_db_user_rehash(web_g.db, user, stored, fresh);
			if (rc == 0)
				log_info("password hash of '%s' renewed (argon2id)", user);
			else if (rc != -ENOENT) /* ENOENT: the password changed meanwhile */
				log_warnx("cannot renew the password hash of '%s': %s", user,
				          fb_db_errmsg(web_g.db));
		}
	} else {
		/* Spend the same time on unknown users as on known ones: one
		 * check against a hash made once. */
		static char dummy[FB_PWHASH_LEN];
		if (dummy[0] || fb_pwhash_make("x", dummy, sizeof(dummy)) == 0)
			fb_pwhash_check(pw, dummy);
	}
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (!ok) {
		backoff_fail("ip", req->peer);
		backoff_fail("user", user_at);
		web_g.login_failures++;
		log_warnx("failed login for '%s' from %s", user, req->peer);
		return web_error(c, MHD_HTTP_UNAUTHORIZED, "user or password: wrong");
	}
	backoff_clear("ip", req->peer);
	backoff_clear("user", user_at);
	struct session *s = session_new(user);
	if (!s)
		return web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "session: cannot create");
	log_info("user '%s' logged in from %s", user, req->peer);
	char cookie[256];
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d",
	         WEB_COOKIE, s->id, WEB_SESSION_LIFE);
	return web_json_header(c, MHD_HTTP_OK,
	                       json_pack("{s:s,s:s}", "user", s->user, "csrf", s->csrf),
	                       "Set-Cookie", cookie);
}

enum MHD_Result web_logout(struct MHD_Connection *c, struct web_req *req)
{
	if (req->session_id[0]) {
		struct session *s = session_find(req->session_id);
		if (s)
			memset(s, 0, sizeof(*s));
	}
	char cookie[128];
	snprintf(cookie, sizeof(cookie), "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
	         WEB_COOKIE);
	return web_json_header(c, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1), "Set-Cookie",
	                       cookie);
}

enum MHD_Result web_session_info(struct MHD_Connection *c, struct web_req *req)
{
	if (req->via_token)
		return web_json(c, MHD_HTTP_OK,
		                json_pack("{s:s,s:s}", "user", req->user, "via", "token"));
	struct session *s = session_find(req->session_id);
	if (!s)
		return web_error(c, MHD_HTTP_UNAUTHORIZED, "session: expired");
	return web_json(
	    c, MHD_HTTP_OK,
	    json_pack("{s:s,s:s,s:s}", "user", s->user, "csrf", s->csrf, "via", "session"));
}
