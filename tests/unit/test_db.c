/* Unit tests for db/: schema, machines, images, events, leases, tokens, and
 * two processes writing at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "fileio.h"
#include "harness.h"
#include "str.h"

static char dir[64];
static char path[128];

static struct fb_db *open_db(void)
{
	struct fb_db *db = NULL;
	CHECK_INT(fb_db_open(&db, path), 0);
	return db;
}

static void test_schema(void)
{
	struct fb_db *db = open_db();
	CHECK_INT(fb_db_schema_version(db), 8);
	fb_db_close(db);
	db = open_db(); /* reopening does not migrate again */
	CHECK_INT(fb_db_schema_version(db), 8);
	fb_db_close(db);
}

/* Every mode and protocol name parses back to its value; the database,
 * the API and the CLI rely on these exact names. */
static void test_mode_names(void)
{
	static const char *const modes[] = {"persistent", "ephemeral", "readonly", "install"};
	enum fb_mode md;
	enum fb_protocol pr;
	for (int i = 0; i < 4; i++) {
		CHECK_INT(fb_mode_parse(modes[i], &md), 0);
		CHECK_INT(md, i);
		CHECK_STR(fb_mode_name(md), modes[i]);
	}
	CHECK_INT(fb_mode_parse("Persistent", &md), -EINVAL);
	CHECK_INT(fb_mode_parse("", &md), -EINVAL);
	CHECK_INT(fb_mode_parse(NULL, &md), -EINVAL);
	CHECK(fb_mode_name((enum fb_mode)4) == NULL);
	CHECK_INT(fb_protocol_parse("nbd", &pr), 0);
	CHECK_INT(pr, FB_PROTOCOL_NBD);
	CHECK_INT(fb_protocol_parse("iscsi", &pr), 0);
	CHECK_INT(pr, FB_PROTOCOL_ISCSI);
	CHECK_STR(fb_protocol_name(FB_PROTOCOL_ISCSI), "iscsi");
	CHECK_INT(fb_protocol_parse("iscsi ", &pr), -EINVAL);
	CHECK(fb_protocol_name((enum fb_protocol)2) == NULL);
}

/* The database holds every secret: 0600 whatever the umask, and an older
 * 0644 file (with its WAL) is made 0600 when opened. */
static void test_mode(void)
{
	struct stat st;
	char wal[160];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	mode_t old = umask(022);
	struct fb_db *db = open_db();
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(chmod(path, 0644), 0);
	struct fb_db *db2 = open_db(); /* db keeps the WAL there */
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(chmod(wal, 0644), 0);
	fb_db_close(db2);
	db2 = open_db();
	CHECK_INT(stat(wal, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	fb_db_close(db2);
	fb_db_close(db);
	umask(old);
}

/* A new hash after a login replaces the old one only if the password was
 * not changed meanwhile. */
static void test_users(void)
{
	struct fb_db *db = open_db();
	char h[160];
	CHECK_INT(fb_db_user_set(db, "ann", "pbkdf2-sha256$old"), 0);
	CHECK_INT(fb_db_user_rehash(db, "ann", "pbkdf2-sha256$old", "$argon2id$new"), 0);
	CHECK_INT(fb_db_user_get(db, "ann", h, sizeof(h)), 0);
	CHECK_STR(h, "$argon2id$new");
	CHECK_INT(fb_db_user_rehash(db, "ann", "pbkdf2-sha256$old", "$argon2id$other"), -ENOENT);
	CHECK_INT(fb_db_user_get(db, "ann", h, sizeof(h)), 0);
	CHECK_STR(h, "$argon2id$new");
	CHECK_INT(fb_db_user_rehash(db, "nobody", "x", "y"), -ENOENT);
	fb_db_close(db);
}

static void test_machines(void)
{
	struct fb_db *db = open_db();
	struct fb_machine m = {0}, got;
	char why[256];

	fb_strlcpy(m.mac, "52:54:00:AA:BB:01", sizeof(m.mac));
	m.mode = FB_MODE_PERSISTENT;
	m.protocol = FB_PROTOCOL_NBD;
	strcpy(m.ip, "10.0.0.50");
	strcpy(m.group, "lab1");
	CHECK_INT(fb_db_machine_add(db, &m), 0);
	CHECK_STR(m.mac, "52-54-00-aa-bb-01");
	CHECK_INT(strlen(m.secret), 32);
	CHECK_INT(fb_db_machine_add(db, &m), -EEXIST);
	CHECK_INT(fb_db_machine_get(db, "52:54:00:aa:bb:01", &got), 0);
	CHECK_STR(got.secret, m.secret);
	CHECK_STR(got.group, "lab1");
	CHECK_INT(fb_db_machine_by_ip(db, "10.0.0.50", &got), 0);

	struct fb_machine m2 = m;
	strcpy(m2.mac, "52-54-00-aa-bb-02");
	m2.secret[0] = 0;
	CHECK_INT(fb_db_machine_add(db, &m2), -EEXIST); /* same reserved ip */
	m2.ip[0] = 0;
	CHECK_INT(fb_db_machine_add(db, &m2), 0);
	CHECK(strcmp(m2.secret, m.secret) != 0);

	struct fb_machine bad = m2;
	CHECK_INT(fb_machine_validate_text(&bad, "sometimes", NULL, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "mode: 'sometimes' is not one of persistent, ephemeral, readonly, install");
	CHECK_INT(fb_machine_validate_text(&bad, NULL, "Nbd", why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "protocol: 'Nbd' is not nbd or iscsi");
	/* A bad name is reported before a bad mode, as when both were text. */
	strcpy(bad.name, "bad name!");
	CHECK_INT(fb_machine_validate_text(&bad, "sometimes", NULL, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "name:") == why);
	bad = m2;
	bad.mode = (enum fb_mode)42;
	CHECK_INT(fb_machine_validate(&bad, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "mode:") == why);
	CHECK_INT(fb_db_machine_update(db, &bad), -EINVAL);
	bad = m2;
	CHECK_INT(fb_machine_validate_text(&bad, "install", "iscsi", why, sizeof(why)), 0);
	CHECK_INT(bad.mode, FB_MODE_INSTALL);
	CHECK_INT(bad.protocol, FB_PROTOCOL_ISCSI);
	CHECK_INT(fb_db_machine_update(db, &bad), 0);
	CHECK_INT(fb_db_machine_get(db, bad.mac, &got), 0);
	CHECK_INT(got.mode, FB_MODE_INSTALL);
	CHECK_INT(got.protocol, FB_PROTOCOL_ISCSI);
	CHECK_INT(fb_db_machine_update(db, &m2), 0);
	/* Loader and Secure Boot: "" (not set), or one of their names. */
	bad = m2;
	strcpy(bad.loader, "grub");
	CHECK_INT(fb_db_machine_update(db, &bad), -EINVAL);
	CHECK_STR(fb_db_errmsg(db), "loader: 'grub' is not ipxe or pxelinux");
	bad = m2;
	strcpy(bad.secure_boot, "yes");
	CHECK_INT(fb_db_machine_update(db, &bad), -EINVAL);
	CHECK_STR(fb_db_errmsg(db), "secure-boot: 'yes' is not on or off");
	bad = m2;
	strcpy(bad.loader, "pxelinux");
	strcpy(bad.secure_boot, "on");
	/* Secure Boot needs readonly: a verified root takes no writes. */
	CHECK_INT(fb_db_machine_update(db, &bad), -EINVAL);
	CHECK(strstr(fb_db_errmsg(db), "only --mode readonly can run on; mode persistent") != NULL);
	bad.mode = FB_MODE_READONLY;
	CHECK_INT(fb_db_machine_update(db, &bad), 0);
	CHECK_INT(fb_db_machine_get(db, bad.mac, &got), 0);
	CHECK_STR(got.loader, "pxelinux");
	CHECK_STR(got.secure_boot, "on");
	CHECK_INT(fb_db_machine_update(db, &m2), 0);
	CHECK_INT(fb_db_machine_get(db, m2.mac, &got), 0);
	CHECK_STR(got.loader, "ipxe"); /* not set: the default */
	CHECK_INT(got.from.loader, FB_FROM_DEFAULT);
	bad = m2;
	strcpy(bad.image, "bad name!");
	CHECK_INT(fb_machine_validate(&bad, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "image:") == why);
	CHECK_INT(fb_db_machine_update(db, &bad), -EINVAL);

	strcpy(m2.image, "tiny@3");
	strcpy(m2.name, "pc-02");
	CHECK_INT(fb_db_machine_update(db, &m2), 0);
	CHECK_INT(fb_db_machine_get(db, m2.mac, &got), 0);
	CHECK_STR(got.image, "tiny@3");
	CHECK_STR(got.name, "pc-02");
	CHECK_INT(fb_db_machine_delete(db, m2.mac), 0);
	CHECK_INT(fb_db_machine_delete(db, m2.mac), -ENOENT);
	CHECK_INT(fb_db_machine_get(db, m2.mac, &got), -ENOENT);
	fb_db_close(db);
}

static int count_cb(void *arg, const struct fb_image *img)
{
	(*(int *)arg)++;
	return 0;
}

static void test_images(void)
{
	struct fb_db *db = open_db();
	struct fb_image img = {0}, got;
	int v1, v2, n = 0;
	CHECK_INT(fb_db_image_reserve_version(db, "tiny", &v1), 0);
	CHECK_INT(v1, 1);
	CHECK_INT(fb_db_image_reserve_version(db, "tiny", &v2), 0);
	CHECK_INT(v2, 2); /* v1 never registered: still not reused */
	strcpy(img.name, "tiny");
	img.version = v2;
	strcpy(img.dir, "/x");
	CHECK_INT(fb_db_image_add(db, &img), 0);
	CHECK_INT(fb_db_image_add(db, &img), -EEXIST);
	CHECK_INT(fb_db_image_resolve(db, "tiny", &got), 0);
	CHECK_INT(got.version, 2);
	CHECK_INT(fb_db_image_resolve(db, "tiny@1", &got), -ENOENT);
	CHECK_INT(fb_db_image_resolve(db, "tiny@x", &got), -EINVAL);
	CHECK_INT(fb_db_image_resolve(db, "nope", &got), -ENOENT);
	CHECK_INT(fb_db_image_set_state(db, img.id, "retired"), 0);
	CHECK_INT(fb_db_image_resolve(db, "tiny", &got), -ENOENT);
	CHECK_INT(fb_db_image_resolve(db, "tiny@2", &got), 0);
	CHECK_STR(got.state, "retired");
	CHECK_INT(fb_db_image_reserve_version(db, "tiny", &v1), 0);
	CHECK_INT(v1, 3);
	CHECK_INT(fb_db_image_list(db, NULL, count_cb, &n), 0);
	CHECK_INT(n, 1);
	char name[FB_NAME_LEN];
	int ver;
	CHECK_INT(fb_image_ref_parse("a.b_c-1@12", name, &ver), 0);
	CHECK_INT(ver, 12);
	CHECK_INT(fb_image_ref_parse("@1", name, &ver), -EINVAL);
	CHECK_INT(fb_image_ref_parse("x@0", name, &ver), -EINVAL);
	CHECK_INT(fb_image_ref_parse("x@-1", name, &ver), -EINVAL);
	CHECK_INT(fb_image_ref_parse("../x", name, &ver), -EINVAL);
	CHECK_INT(fb_image_ref_parse("menu", name, &ver), -EINVAL);
	fb_db_close(db);
}

static int ev_cb(void *arg, const struct fb_event *e)
{
	int *n = arg;
	(*n)++;
	return 0;
}

static void test_events_leases(void)
{
	struct fb_db *db = open_db();
	int64_t seq0, seq1;
	struct fb_machine m;
	CHECK_INT(fb_db_machine_boot_seq(db, "52-54-00-aa-bb-01", &seq0), 0);
	CHECK_INT(fb_db_event_add(db, "52:54:00:aa:bb:01", "dhcp", "arch=0 ipxe=0"), 0);
	CHECK_INT(fb_db_event_add(db, "52:54:00:aa:bb:01", "dhcp", "arch=0 ipxe=1"), 0);
	CHECK_INT(fb_db_event_add(db, "52:54:00:aa:bb:01", "ipxe-script", ""), 0);
	CHECK_INT(fb_db_machine_boot_seq(db, "52-54-00-aa-bb-01", &seq1), 0);
	CHECK_INT(seq1, seq0 + 1);
	CHECK_INT(fb_db_machine_get(db, "52-54-00-aa-bb-01", &m), 0);
	CHECK_STR(m.stage, "ipxe-script");
	CHECK(m.last_seen > 0);
	CHECK_INT(fb_db_event_add(db, "52:54:00:aa:bb:01", "Bad Stage", ""), -EINVAL);
	CHECK_INT(fb_db_event_add(db, "nonsense", "dhcp", ""), -EINVAL);
	int n = 0;
	struct fb_event_filter f = {.mac = "52:54:00:aa:bb:01", .stage = "dhcp"};
	CHECK_INT(fb_db_event_list(db, &f, ev_cb, &n), 0);
	CHECK_INT(n, 2);

	struct fb_lease l[3] = {{"52-54-00-00-00-01", "10.0.0.100", 100, "", "bound"},
	                        {"52-54-00-00-00-02", "10.0.0.101", 200, "h", "bound"},
	                        {"52-54-00-00-00-01", "10.0.0.102", 300, "", "bound"}};
	CHECK_INT(fb_db_lease_put_batch(db, l, 3), 0);
	struct fb_lease got;
	CHECK_INT(fb_db_lease_get(db, "52-54-00-00-00-01", &got), 0);
	CHECK_STR(got.ip, "10.0.0.102");
	CHECK_INT(fb_db_lease_by_ip(db, "10.0.0.101", &got), 0);
	CHECK_STR(got.mac, "52-54-00-00-00-02");

	struct fb_token t = {0}, tg;
	strcpy(t.name, "ci");
	strcpy(t.hash, "abc");
	CHECK_INT(fb_db_token_add(db, &t), 0);
	CHECK_INT(fb_db_token_add(db, &t), -EEXIST);
	CHECK_INT(fb_db_token_check(db, "abc", &tg), 0);
	CHECK_STR(tg.name, "ci");
	CHECK_INT(fb_db_token_revoke(db, "ci"), 0);
	CHECK_INT(fb_db_token_check(db, "abc", &tg), -ENOENT);
	fb_db_close(db);
}

/* Two processes each add 500 machines at the same moment: all 1000 rows
 * arrive, and neither sees an error. */
static void test_concurrency(void)
{
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			struct fb_db *db;
			if (fb_db_open(&db, path))
				_exit(2);
			for (int i = 0; i < 500; i++) {
				struct fb_machine m = {0};
				snprintf(m.mac, sizeof(m.mac), "02-00-00-00-%02x-%02x", k,
				         i & 0xff);
				m.mac[9] = (char)('0' + (i >> 8)); /* 02-00-00-0X-.. */
				m.mode = FB_MODE_EPHEMERAL;
				m.protocol = FB_PROTOCOL_ISCSI;
				int rc = fb_db_machine_add(db, &m);
				if (rc) {
					fprintf(stderr, "child %d: add %s: %d %s\n", k, m.mac, rc,
					        fb_db_errmsg(db));
					_exit(1);
				}
			}
			fb_db_close(db);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st;
		CHECK(waitpid(kids[k], &st, 0) == kids[k]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	struct fb_db *db = open_db();
	int n = 0;
	struct fb_machine m;
	(void)m;
	CHECK_INT(fb_db_machine_list(db, (fb_machine_cb)(void *)count_cb, &n), 0);
	CHECK_INT(n, 1000 + 1); /* plus the one left from test_machines */
	fb_db_close(db);
}

/* Per-boot credentials (issue 13): handed out once per boot, valid for
 * that boot only, never the long-lived secret. */
static void test_credentials(void)
{
	struct fb_db *db = open_db();
	struct fb_machine m = {0};
	char c1[FB_SECRET_LEN], c2[FB_SECRET_LEN], c3[FB_SECRET_LEN], cur[FB_SECRET_LEN];
	int64_t s1 = 0, s2 = 0, s3 = 0;
	snprintf(m.mac, sizeof(m.mac), "52:54:00:cc:00:01");
	m.mode = FB_MODE_PERSISTENT;
	CHECK_INT(fb_db_machine_add(db, &m), 0);
	CHECK_INT(fb_db_credential_current(db, m.mac, cur), -ENOENT);
	/* bootd's hand-out: the current boot, once. */
	CHECK_INT(fb_db_credential_issue(db, m.mac, 0, "test", c1, &s1), 0);
	CHECK_INT((int)strlen(c1), 32);
	CHECK(strcmp(c1, m.secret) != 0);
	CHECK_INT(fb_db_credential_current(db, m.mac, cur), 0);
	CHECK_STR(cur, c1);
	CHECK_INT(fb_db_credential_issue(db, m.mac, 0, "test", c2, &s2), -EALREADY);
	CHECK_INT(fb_db_credential_current(db, m.mac, cur), 0);
	CHECK_STR(cur, c1);
	/* A new boot (firmware DHCP): the old credential is no longer current. */
	CHECK_INT(fb_db_event_add(db, m.mac, "dhcp", "arch=0 ipxe=0"), 0);
	CHECK_INT(fb_db_credential_current(db, m.mac, cur), -ENOENT);
	CHECK_INT(fb_db_credential_issue(db, m.mac, 0, "test", c2, &s2), 0);
	CHECK_INT(s2, s1 + 1);
	CHECK(strcmp(c1, c2) != 0);
	/* By hand: a new boot each time. */
	CHECK_INT(fb_db_credential_issue(db, m.mac, 1, "cli", c3, &s3), 0);
	CHECK_INT(s3, s2 + 1);
	CHECK_INT(fb_db_credential_current(db, m.mac, cur), 0);
	CHECK_STR(cur, c3);
	CHECK_INT(fb_db_credential_issue(db, "52:54:00:cc:00:99", 1, "cli", c3, &s3), -ENOENT);
	CHECK_INT(fb_db_credential_issue(db, "junk", 0, "cli", c3, &s3), -EINVAL);
	/* Removing the machine removes its credential. */
	CHECK_INT(fb_db_machine_delete(db, m.mac), 0);
	CHECK_INT(fb_db_credential_current(db, m.mac, cur), -ENOENT);
	fb_db_close(db);
}

/* Entries, and a next boot used once: again within the boot that used it,
 * cleared by the first script of a later boot (a new boot number, or bootd
 * saying a new boot began). */
static void test_entries_next_boot(void)
{
	struct fb_db *db = open_db();
	struct fb_entry e = {0}, got;
	struct fb_machine m = {0};
	char item[FB_REF_LEN];
	int first = 0;
	snprintf(e.name, sizeof(e.name), "memtest");
	e.kind = FB_ENTRY_KERNEL;
	CHECK_INT(fb_db_entry_add(db, &e), 0);
	CHECK_INT(fb_db_entry_add(db, &e), -EEXIST);
	snprintf(e.name, sizeof(e.name), "bad");
	snprintf(e.boot_url, sizeof(e.boot_url), "ftp://x/y");
	CHECK_INT(fb_db_entry_add(db, &e), -EINVAL);
	snprintf(e.boot_url, sizeof(e.boot_url), "http://x/$y");
	CHECK_INT(fb_db_entry_add(db, &e), -EINVAL);
	CHECK_INT(fb_db_entry_get(db, "memtest", &got), 0);
	snprintf(m.mac, sizeof(m.mac), "52:54:00:dd:00:01");
	CHECK_INT(fb_db_machine_add(db, &m), 0);
	CHECK_INT(fb_db_next_boot_take(db, m.mac, 0, item, &first), -ENOENT);
	CHECK_INT(fb_db_machine_set_next_boot(db, m.mac, "memtest"), 0);
	CHECK_INT(fb_db_entry_delete(db, "memtest"), -ENOTEMPTY);
	/* First script: used, first = 1; a retry in the same boot: again. */
	CHECK_INT(fb_db_next_boot_take(db, m.mac, 1, item, &first), 0);
	CHECK_STR(item, "memtest");
	CHECK_INT(first, 1);
	CHECK_INT(fb_db_next_boot_take(db, m.mac, 0, item, &first), 0);
	CHECK_INT(first, 0);
	/* bootd saw a new boot before the database did. */
	CHECK_INT(fb_db_next_boot_take(db, m.mac, 1, item, &first), -ENOENT);
	CHECK_INT(fb_db_machine_get(db, m.mac, &m), 0);
	CHECK_STR(m.next_boot, "");
	/* A new boot in the database. */
	CHECK_INT(fb_db_machine_set_next_boot(db, m.mac, "local"), 0);
	CHECK_INT(fb_db_next_boot_take(db, m.mac, 0, item, &first), 0);
	CHECK_INT(fb_db_event_add(db, m.mac, "dhcp", "arch=0 ipxe=0"), 0);
	CHECK_INT(fb_db_next_boot_take(db, m.mac, 0, item, &first), -ENOENT);
	CHECK_INT(fb_db_entry_delete(db, "memtest"), 0);
	CHECK_INT(fb_db_entry_delete(db, "memtest"), -ENOENT);
	CHECK_INT(fb_db_machine_delete(db, m.mac), 0); /* test_concurrency counts machines */
	fb_db_close(db);
}

/* Wake-on-LAN requests: an unknown MAC queues nothing; bootd takes each
 * queued request once; a stale one expires instead of being sent; a taken
 * request cannot be withdrawn. */
struct wake_seen {
	int n;
	int64_t ids[8];
};

static int wake_cb(void *arg, const struct fb_wake *w)
{
	struct wake_seen *s = arg;
	CHECK_STR(w->state, "taken");
	if (s->n < 8)
		s->ids[s->n] = w->id;
	s->n++;
	return 0;
}

static void test_wake(void)
{
	struct fb_db *db = open_db();
	struct fb_machine m = {0};
	struct fb_wake w;
	snprintf(m.mac, sizeof(m.mac), "52-54-00-dd-00-02");
	CHECK_INT(fb_db_machine_add(db, &m), 0);
	const char *bad[] = {"52:54:00:dd:00:02", "52:54:00:dd:00:03"};
	int64_t ids[2] = {0, 0};
	CHECK_INT(fb_db_wake_request(db, bad, 2, "unit", ids), -ENOENT);
	CHECK(strstr(fb_db_errmsg(db), "52-54-00-dd-00-03") != NULL);
	struct wake_seen seen = {0};
	CHECK_INT(fb_db_wake_take(db, 0, wake_cb, &seen), 0);
	CHECK_INT(seen.n, 0); /* the good MAC of the refused call was not queued */
	const char *one[] = {"52:54:00:DD:00:02"};
	CHECK_INT(fb_db_wake_request(db, one, 1, "unit", ids), 0);
	CHECK_INT(fb_db_wake_get(db, ids[0], &w), 0);
	CHECK_STR(w.mac, "52-54-00-dd-00-02");
	CHECK_STR(w.state, "queued");
	CHECK_INT(fb_db_wake_take(db, 0, wake_cb, &seen), 0);
	CHECK_INT(seen.n, 1);
	CHECK_INT(seen.ids[0], ids[0]);
	CHECK_INT(fb_db_wake_take(db, 0, wake_cb, &seen), 0);
	CHECK_INT(seen.n, 1); /* taken once */
	CHECK_INT(fb_db_wake_cancel(db, ids[0]), -EALREADY);
	CHECK_INT(fb_db_wake_done(db, ids[0], 1, "sent on bs0"), 0);
	CHECK_INT(fb_db_wake_get(db, ids[0], &w), 0);
	CHECK_STR(w.state, "sent");
	CHECK_STR(w.result, "sent on bs0");
	CHECK(w.done_ms >= w.requested_ms);
	/* Stale: asked before oldest_ms, so expired, not handed over. */
	CHECK_INT(fb_db_wake_request(db, one, 1, "unit", ids), 0);
	CHECK_INT(fb_db_wake_take(db, INT64_MAX, wake_cb, &seen), 0);
	CHECK_INT(seen.n, 1);
	CHECK_INT(fb_db_wake_get(db, ids[0], &w), 0);
	CHECK_STR(w.state, "expired");
	/* Withdrawn before bootd took it. */
	CHECK_INT(fb_db_wake_request(db, one, 1, "unit", ids), 0);
	CHECK_INT(fb_db_wake_cancel(db, ids[0]), 0);
	CHECK_INT(fb_db_wake_take(db, 0, wake_cb, &seen), 0);
	CHECK_INT(seen.n, 1);
	/* More than one batch (32) is taken in one call. */
	const char *many[40];
	for (int i = 0; i < 40; i++)
		many[i] = one[0];
	int64_t mids[40];
	CHECK_INT(fb_db_wake_request(db, many, 40, "unit", mids), 0);
	CHECK_INT(fb_db_wake_take(db, 0, wake_cb, &seen), 0);
	CHECK_INT(seen.n, 41);
	CHECK_INT(fb_db_machine_delete(db, m.mac), 0); /* its requests go with it */
	CHECK_INT(fb_db_wake_get(db, mids[0], &w), -ENOENT);
	fb_db_close(db);
}

/* Groups: every setting optional; a machine's own setting wins over its
 * group's, which wins over the default; machines made before groups had
 * settings keep their own mode and protocol. */
static void test_groups(void)
{
	struct fb_db *db = open_db();
	struct fb_group g = {0}, gg;
	struct fb_machine m = {0}, got;
	int n = 0;

	snprintf(g.name, sizeof(g.name), "lab9");
	g.menu_timeout = -1;
	CHECK_INT(fb_db_group_add(db, &g), 0);
	CHECK_INT(fb_db_group_add(db, &g), -EEXIST);
	CHECK_STR(fb_db_errmsg(db), "group lab9 already exists");
	snprintf(gg.name, sizeof(gg.name), "bad name");
	CHECK_INT(fb_db_group_add(db, &gg), -EINVAL);
	gg = g;
	snprintf(gg.name, sizeof(gg.name), "lab2");
	snprintf(gg.mode, sizeof(gg.mode), "sometimes");
	CHECK_INT(fb_db_group_add(db, &gg), -EINVAL);
	CHECK_STR(fb_db_errmsg(db),
	          "mode: 'sometimes' is not one of persistent, ephemeral, readonly, install");
	gg.mode[0] = 0;
	gg.menu_timeout = 3601;
	CHECK_INT(fb_db_group_add(db, &gg), -EINVAL);
	gg.menu_timeout = -1;
	snprintf(gg.image, sizeof(gg.image), "nosuch");
	CHECK_INT(fb_db_group_add(db, &gg), -EINVAL);
	CHECK_STR(fb_db_errmsg(db), "image: no image nosuch");
	CHECK_INT(fb_db_group_get(db, "lab2", &gg), -ENOENT);

	/* A machine with nothing set takes the defaults, then the group's. */
	snprintf(m.mac, sizeof(m.mac), "52:54:00:ee:00:01");
	snprintf(m.group, sizeof(m.group), "lab9");
	CHECK_INT(fb_db_machine_add(db, &m), 0);
	CHECK_INT(fb_db_machine_get(db, m.mac, &got), 0);
	CHECK_INT(got.mode, FB_MODE_PERSISTENT);
	CHECK_INT(got.from.mode, FB_FROM_DEFAULT);
	CHECK_INT(got.menu_timeout, -1);
	snprintf(g.mode, sizeof(g.mode), "ephemeral");
	snprintf(g.protocol, sizeof(g.protocol), "iscsi");
	snprintf(g.image, sizeof(g.image), "menu");
	snprintf(g.loader, sizeof(g.loader), "pxelinux");
	snprintf(g.menu_default, sizeof(g.menu_default), "local");
	g.menu_timeout = 9;
	CHECK_INT(fb_db_group_update(db, &g), 0);
	CHECK_INT(fb_db_machine_get(db, m.mac, &got), 0);
	CHECK_INT(got.mode, FB_MODE_EPHEMERAL);
	CHECK_INT(got.from.mode, FB_FROM_GROUP);
	CHECK_INT(got.protocol, FB_PROTOCOL_ISCSI);
	CHECK_STR(got.image, "menu");
	CHECK_INT(got.from.image, FB_FROM_GROUP);
	CHECK_STR(got.loader, "pxelinux");
	CHECK_STR(got.secure_boot, "off");
	CHECK_INT(got.from.secure_boot, FB_FROM_DEFAULT);
	CHECK_STR(got.menu_default, "local");
	CHECK_INT(got.menu_timeout, 9);

	/* An update that leaves a setting alone keeps it inherited; a changed
	 * one is the machine's own, and wins. */
	snprintf(got.name, sizeof(got.name), "pc1");
	CHECK_INT(fb_db_machine_update(db, &got), 0);
	got.mode = FB_MODE_READONLY;
	CHECK_INT(fb_db_machine_update(db, &got), 0);
	snprintf(g.mode, sizeof(g.mode), "install");
	snprintf(g.protocol, sizeof(g.protocol), "nbd");
	CHECK_INT(fb_db_group_update(db, &g), 0);
	CHECK_INT(fb_db_machine_get(db, m.mac, &got), 0);
	CHECK_STR(got.name, "pc1");
	CHECK_INT(got.mode, FB_MODE_READONLY);
	CHECK_INT(got.from.mode, FB_FROM_MACHINE);
	CHECK_INT(got.protocol, FB_PROTOCOL_NBD);
	CHECK_INT(got.from.protocol, FB_FROM_GROUP);
	/* Pinned to the group's value: still the machine's own after the
	 * group changes. Asked to inherit: the group's again. */
	got.from.protocol = FB_FROM_MACHINE;
	CHECK_INT(fb_db_machine_update(db, &got), 0);
	snprintf(g.protocol, sizeof(g.protocol), "iscsi");
	CHECK_INT(fb_db_group_update(db, &g), 0);
	CHECK_INT(fb_db_machine_get(db, m.mac, &got), 0);
	CHECK_INT(got.protocol, FB_PROTOCOL_NBD);
	CHECK_INT(got.from.protocol, FB_FROM_MACHINE);
	/* A text setting of the machine's own wins too. */
	snprintf(got.image, sizeof(got.image), "img7");
	CHECK_INT(fb_db_machine_update(db, &got), 0);
	CHECK_INT(fb_db_machine_get(db, m.mac, &got), 0);
	CHECK_STR(got.image, "img7");
	CHECK_INT(got.from.image, FB_FROM_MACHINE);
	CHECK_STR(got.loader, "pxelinux");
	CHECK_INT(got.from.loader, FB_FROM_GROUP);
	got.from.mode = FB_FROM_INHERIT;
	CHECK_INT(fb_db_machine_update(db, &got), 0);
	CHECK_INT(fb_db_machine_get(db, m.mac, &got), 0);
	CHECK_INT(got.mode, FB_MODE_INSTALL);
	CHECK_INT(got.from.mode, FB_FROM_GROUP);
	CHECK_INT(fb_db_machine_by_ip(db, "10.9.9.9", &got), -ENOENT);

	/* In use: refused, nothing changed; --force takes the machines out,
	 * their own settings stay and the group's go. */
	CHECK_INT(fb_db_group_get(db, "lab9", &gg), 0);
	CHECK_INT(gg.machines, 1);
	CHECK_INT(fb_db_group_delete(db, "lab9", 0, &n), -ENOTEMPTY);
	CHECK_INT(n, 1);
	CHECK_INT(fb_db_group_get(db, "lab9", &gg), 0);
	CHECK_INT(fb_db_group_delete(db, "lab9", 1, &n), 0);
	CHECK_INT(fb_db_group_get(db, "lab9", &gg), -ENOENT);
	CHECK_INT(fb_db_group_delete(db, "lab9", 1, &n), -ENOENT);
	CHECK_INT(fb_db_machine_get(db, m.mac, &got), 0);
	CHECK_STR(got.group, "");
	CHECK_INT(got.mode, FB_MODE_PERSISTENT);
	CHECK_INT(got.from.mode, FB_FROM_DEFAULT);
	CHECK_INT(got.protocol, FB_PROTOCOL_NBD);
	CHECK_STR(got.image, "img7"); /* its own */
	CHECK_STR(got.name, "pc1");
	CHECK_INT(fb_db_machine_delete(db, m.mac), 0); /* test_concurrency counts machines */
	fb_db_close(db);
}

/* Verified-boot evidence (evidence.c) from a boot's events. */
static void test_evidence(void)
{
	struct fb_db *db = open_db();
	struct fb_image img = {0};
	struct fb_machine m = {0};
	struct fb_evidence ev;
	char rh[65], uki[96], good[128], bad[128];
	const char *mac = "52-54-00-e5-00-01";
	memset(rh, 'a', 64);
	rh[64] = 0;
	strcpy(img.name, "ev");
	CHECK_INT(fb_db_image_reserve_version(db, "ev", &img.version), 0);
	strcpy(img.dir, "/x");
	memset(img.sha256, 'b', 64);
	CHECK_INT(fb_db_image_add(db, &img), 0);
	CHECK_INT(fb_db_image_set_verity(db, img.id, rh, "00"), 0);
	snprintf(uki, sizeof(uki), "image=ev@%d sha256=%064d via=tftp", img.version, 7);
	snprintf(good, sizeof(good), "from=10.0.0.9 root_hash=%s", rh);
	snprintf(bad, sizeof(bad), "from=10.0.0.9 root_hash=%064d", 0);
	strcpy(m.mac, mac);
	snprintf(m.image, sizeof(m.image), "ev@%d", img.version);
	m.mode = FB_MODE_READONLY;
	strcpy(m.secure_boot, "on");
	CHECK_INT(fb_db_machine_add(db, &m), 0);
	CHECK_INT(fb_db_machine_get(db, mac, &m), 0);
#define EV_STATE(s)                                                                                \
	do {                                                                                       \
		CHECK_INT(fb_db_evidence_get(db, &m, &ev), 0);                                     \
		CHECK_STR(ev.state, s);                                                            \
	} while (0)
	EV_STATE("no-uki");
	CHECK_INT(fb_db_event_add(db, mac, "dhcp", "arch=7 ipxe=0"), 0);
	CHECK_INT(fb_db_event_add(db, mac, "verified", good), 0); /* before the UKI */
	EV_STATE("no-uki");
	/* A client's report has "from=..." details: never a served UKI. */
	CHECK_INT(fb_db_event_add(db, mac, "uki-served", "from=10.0.0.9"), 0);
	EV_STATE("no-uki");
	CHECK_INT(fb_db_event_add(db, mac, "uki-served", uki), 0);
	EV_STATE("unreported");
	CHECK_INT(ev.uki_served_ms > 0, 1);
	CHECK_INT(fb_db_event_add(db, mac, "verified", bad), 0);
	EV_STATE("mismatch");
	CHECK(strstr(ev.why, "expected aaaa") != NULL);
	CHECK_INT(fb_db_event_add(db, mac, "verified", good), 0);
	EV_STATE("verified");
	CHECK_STR(ev.verity_root_hash, rh);
	CHECK_STR(ev.rootfs_sha256, img.sha256);
	CHECK_INT(strncmp(ev.uki_sha256, "0000", 4), 0);
	CHECK(ev.verified_ms >= ev.uki_served_ms);
	CHECK(strncmp(ev.why, "booted ev@", 10) == 0);
	CHECK_INT(fb_db_event_add(db, mac, "verity-failed", "from=10.0.0.9"), 0);
	EV_STATE("verity-failed");
	/* iPXE's DHCP is no new boot; the firmware's is. */
	CHECK_INT(fb_db_event_add(db, mac, "verified", good), 0);
	CHECK_INT(fb_db_event_add(db, mac, "dhcp", "arch=7 ipxe=1"), 0);
	EV_STATE("verified");
	CHECK_INT(fb_db_event_add(db, mac, "dhcp", "arch=7 ipxe=0"), 0);
	CHECK_INT(fb_db_event_add(db, mac, "verified", good), 0);
	EV_STATE("no-uki");
	strcpy(m.secure_boot, "off");
	EV_STATE("not-secure-boot");
#undef EV_STATE
	CHECK_INT(fb_db_machine_delete(db, mac), 0); /* test_concurrency counts machines */
	fb_db_close(db);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fbdbXXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/fleetboot.db", dir);
	RUN(test_schema);
	RUN(test_mode_names);
	RUN(test_mode);
	RUN(test_users);
	RUN(test_machines);
	RUN(test_images);
	RUN(test_events_leases);
	RUN(test_credentials);
	RUN(test_entries_next_boot);
	RUN(test_wake);
	RUN(test_groups);
	RUN(test_evidence);
	RUN(test_concurrency);
	fb_rm_rf(dir);
	return HARNESS_EXIT();
}
