/* Unit tests for lib/: addresses, buffers, sizes, config, event loop,
 * files, byte order, CRC-32C, secrets, hex, zero tests. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "byteorder.h"
#include "config.h"
#include "crc32c.h"
#include "evloop.h"
#include "fileio.h"
#include "hex.h"
#include "logsafe.h"
#include "netaddr.h"
#include "proto/wol.h"
#include "pwhash.h"
#include "secret.h"
#include "sha256.h"
#include "size.h"
#include "str.h"
#include "harness.h"

static void test_mac(void)
{
	uint8_t m[6];
	char id[FB_MACID_LEN];
	CHECK_INT(mac_parse("52:54:00:12:34:56", m), 0);
	CHECK_STR(mac_format(m, id), "52-54-00-12-34-56");
	CHECK_INT(macid_normalize("52-54-00-AB-CD-EF", id), 0);
	CHECK_STR(id, "52-54-00-ab-cd-ef");
	CHECK_INT(mac_parse("52:54:00:12:34", m), -1);
	CHECK_INT(mac_parse("52:54:00:12:34:5g", m), -1);
	CHECK_INT(mac_parse("52:54-00:12:34:56", m), -1);
	CHECK_INT(mac_parse("52:54:00:12:34:567", m), -1);
	CHECK_INT(mac_parse("", m), -1);
	CHECK_INT(mac_parse(NULL, m), -1);
}

static void test_log_escape(void)
{
	char o[FB_LOG_ESCAPE_LEN], small[8];
	CHECK_STR(fb_log_escape("iqn.2026-11.x:a", o, sizeof(o)), "iqn.2026-11.x:a");
	CHECK_STR(fb_log_escape("a\nb\\c\x1b[31m\xff", o, sizeof(o)),
	          "a\\x0ab\\x5cc\\x1b[31m\\xff");
	CHECK_STR(fb_log_escape(NULL, o, sizeof(o)), "(null)");
	CHECK_STR(fb_log_escape_n("abcdef", 3, o, sizeof(o)), "abc");
	CHECK_STR(fb_log_escape("abcdefghij", small, sizeof(small)), "abcd...");
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	fb_log_escape(big, o, sizeof(o));
	CHECK_INT((int)strlen(o), FB_LOG_ESCAPE_MAX + 3);
	memset(big, '\n', sizeof(big) - 1);
	fb_log_escape(big, o, sizeof(o));
	CHECK(strlen(o) < sizeof(o) && !strchr(o, '\n'));
}

static void test_ip(void)
{
	struct in_addr a;
	char s[FB_IP_LEN];
	uint32_t f, l;
	CHECK_INT(ip4_parse("10.0.0.1", &a), 0);
	CHECK_STR(ip4_format(a, s), "10.0.0.1");
	CHECK_INT(ip4_parse("10.0.0", &a), -1);
	CHECK_INT(ip4_parse("10.0.0.256", &a), -1);
	CHECK_INT(ip4_parse("10.0.0.01", &a), -1);
	CHECK_INT(ip4_parse("10.0.0.1 ", &a), -1);
	CHECK_INT(ip4_parse("1.2.3.4.5", &a), -1);
	CHECK_INT(ip4_range_parse("10.0.0.100-10.0.0.199", &f, &l), 0);
	CHECK_INT(l - f, 99);
	CHECK_INT(ip4_range_parse("10.0.0.199-10.0.0.100", &f, &l), -1);
	CHECK_INT(ip4_range_parse("10.0.0.1", &f, &l), -1);
}

static void test_buf(void)
{
	struct fb_buf b = {0};
	fb_buf_printf(&b, "%s-%d", "x", 42);
	fb_buf_puts(&b, "!");
	CHECK_STR((char *)b.data, "x-42!");
	for (int i = 0; i < 1000; i++)
		fb_buf_append(&b, "abcd", 4);
	CHECK_INT(b.len, 4005);
	fb_buf_free(&b);

	uint8_t in[] = {1, 2, 3, 4, 5, 6, 7};
	struct fb_rd r = fb_rd_init(in, sizeof(in));
	CHECK_INT(fb_rd_u8(&r), 1);
	CHECK_INT(fb_rd_be16(&r), 0x0203);
	CHECK_INT(fb_rd_be32(&r), 0x04050607);
	CHECK_INT(r.err, 0);
	CHECK_INT(fb_rd_u8(&r), 0);
	CHECK_INT(r.err, 1);
	CHECK(fb_rd_ptr(&r, 1) == NULL);

	uint8_t out[5];
	struct fb_wr w = fb_wr_init(out, sizeof(out));
	fb_wr_be32(&w, 0xdeadbeef);
	CHECK_INT(w.err, 0);
	fb_wr_be16(&w, 1);
	CHECK_INT(w.err, 1);
	CHECK_INT(out[0], 0xde);
}

static void test_size(void)
{
	uint64_t v;
	char s[32];
	CHECK_INT(fb_parse_size("512", &v), 0);
	CHECK_INT(v, 512);
	CHECK_INT(fb_parse_size("64K", &v), 0);
	CHECK_INT(v, 65536);
	CHECK_INT(fb_parse_size("2G", &v), 0);
	CHECK_INT(v, 2147483648LL);
	CHECK_INT(fb_parse_size("2GiB", &v), 0);
	CHECK_INT(fb_parse_size("-1", &v), -1);
	CHECK_INT(fb_parse_size("3X", &v), -1);
	CHECK_INT(fb_parse_size("", &v), -1);
	CHECK_INT(fb_parse_size("99999999999T", &v), -1);
	CHECK_STR(fb_format_size(1536, s, sizeof(s)), "1.5 KiB");
}

static void test_random(void)
{
	char a[33], b[33];
	CHECK_INT(fb_random_hex(a, 16), 0);
	CHECK_INT(fb_random_hex(b, 16), 0);
	CHECK_INT(strlen(a), 32);
	CHECK(strcmp(a, b) != 0);
	char h[FB_SHA256_HEX];
	fb_sha256_mem("abc", 3, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_config(void)
{
	struct fb_config c;
	char err[256];
	fb_config_defaults(&c);
	CHECK_INT(
	    fb_config_parse(&c, "t.conf",
	                    "; comment\n[global]\nstate_dir = /srv/fb ; trailing\n"
	                    "[bootd]\ninterface = eth1, eth2\ndhcp = authoritative\n"
	                    "pool = 10.0.0.100-10.0.0.199\nunknown_machines = boot:tiny@2\n"
	                    "[storaged]\nrequire_lease_ip = off\n[web]\nlisten = 0.0.0.0:9000\n",
	                    err, sizeof(err)),
	    0);
	CHECK_STR(c.state_dir, "/srv/fb");
	CHECK_INT(c.n_interfaces, 2);
	CHECK_STR(c.interfaces[1], "eth2");
	CHECK_INT(c.dhcp, FB_DHCP_AUTHORITATIVE);
	CHECK_INT(c.unknown_machines, FB_UNKNOWN_BOOT);
	CHECK_STR(c.unknown_image, "tiny@2");
	CHECK_INT(c.require_lease_ip, 0);
	CHECK_INT(c.web_port, 9000);

	struct {
		const char *text, *msg;
	} bad[] = {
	    {"[bootd]\nbogus = 1\n", "t.conf:2: bogus: unknown key in [bootd]"},
	    {"[nope]\n", "t.conf:1: unknown section [nope]"},
	    {"state_dir = /x\n", "t.conf:1: state_dir: key outside any [section]"},
	    {"[bootd]\nhttp_port = 70000\n",
	     "t.conf:2: http_port: '70000' is not a port from 1 to 65535"},
	    {"[bootd]\ndhcp = maybe\n",
	     "t.conf:2: dhcp: 'maybe' is not one of proxy, authoritative, off"},
	    {"[bootd]\ntftp = on\ntftp = off\n", "t.conf:3: tftp: already set on line 2"},
	    {"[global]\nstate_dir\n", "t.conf:2: expected 'key = value'"},
	    {"[bootd]\ndhcp = authoritative\n", "t.conf: pool: required when dhcp = authoritative"},
	    {"[bootd]\nnetmask = 255.0.255.0\n",
	     "t.conf:2: netmask: '255.0.255.0' is not a contiguous netmask"},
	    {"[bootd\n", "t.conf:1: malformed section header"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fb_config_defaults(&c);
		err[0] = 0;
		CHECK_INT(fb_config_parse(&c, "t.conf", bad[i].text, err, sizeof(err)), -1);
		CHECK_STR(err, bad[i].msg);
	}
}

struct loopstate {
	int fired[4];
	int order[4];
	int n;
	struct fb_timer t[4];
};

static void on_timer(struct fb_loop *l, void *arg)
{
	int *slot = arg;
	struct loopstate *st = (struct loopstate *)(slot - *slot);
	(void)st;
}

static struct loopstate ls;

static void timer_cb(struct fb_loop *l, void *arg)
{
	int i = (int)(intptr_t)arg;
	ls.fired[i]++;
	ls.order[ls.n++] = i;
	if (ls.n == 3)
		fb_loop_stop(l);
}

static void pipe_cb(struct fb_loop *l, int fd, uint32_t ev, void *arg)
{
	char c;
	if (read(fd, &c, 1) == 1)
		*(int *)arg = c;
	fb_loop_del_fd(l, fd);
}

/* The many-timers check: which fired, how many, and whether any fired
 * before one with an earlier deadline. */
static struct {
	int fired[2000];
	int n, out_of_order, guard;
	uint64_t last;
} many_st;
static struct fb_timer *many_base;

static void many_cb(struct fb_loop *l, void *arg)
{
	struct fb_timer *t = arg;
	if (t->when < many_st.last)
		many_st.out_of_order++;
	many_st.last = t->when;
	many_st.fired[t - many_base]++;
	if (++many_st.n == 1000)
		fb_loop_stop(l);
}

static void guard_cb(struct fb_loop *l, void *arg)
{
	(void)arg;
	many_st.guard = 1;
	fb_loop_stop(l);
}

static int got_signal;
static void sig_cb(struct fb_loop *l, int signo, void *arg)
{
	got_signal = signo;
	fb_loop_stop(l);
}

static void test_loop(void)
{
	struct fb_loop *l = fb_loop_new();
	(void)on_timer;
	CHECK(l != NULL);
	for (int i = 0; i < 4; i++)
		fb_timer_init(&ls.t[i], timer_cb, (void *)(intptr_t)i);
	fb_timer_arm(l, &ls.t[0], 30);
	fb_timer_arm(l, &ls.t[1], 10);
	fb_timer_arm(l, &ls.t[2], 20);
	fb_timer_arm(l, &ls.t[3], 15);
	fb_timer_disarm(l, &ls.t[3]);
	CHECK_INT(fb_loop_timer_count(l), 3);
	int p[2], got = 0;
	CHECK_INT(pipe(p), 0);
	CHECK_INT(fb_loop_add_fd(l, p[0], EPOLLIN, pipe_cb, &got), 0);
	CHECK_INT(write(p[1], "x", 1), 1);
	CHECK_INT(fb_loop_run(l), 0);
	CHECK_INT(ls.order[0], 1);
	CHECK_INT(ls.order[1], 2);
	CHECK_INT(ls.order[2], 0);
	CHECK_INT(ls.fired[3], 0);
	CHECK_INT(got, 'x');
	close(p[0]);
	close(p[1]);

	/* Many timers fire in order: 2000 armed with scattered deadlines,
	 * every other one disarmed again (removals from the middle of the
	 * heap); the loop runs until the other 1000 have fired, each once,
	 * in the order of their deadlines. A guard timer ends a loop that
	 * stalls. */
	static struct fb_timer many[2000];
	memset(&many_st, 0, sizeof(many_st));
	many_base = many;
	for (int i = 0; i < 2000; i++) {
		fb_timer_init(&many[i], many_cb, &many[i]);
		fb_timer_arm(l, &many[i], (uint64_t)((i * 7919) % 41));
	}
	CHECK_INT(fb_loop_timer_count(l), 2000);
	for (int i = 0; i < 2000; i += 2)
		fb_timer_disarm(l, &many[i]);
	CHECK_INT(fb_loop_timer_count(l), 1000);
	struct fb_timer guard;
	fb_timer_init(&guard, guard_cb, NULL);
	fb_timer_arm(l, &guard, 5000);
	CHECK_INT(fb_loop_run(l), 0);
	CHECK_INT(many_st.guard, 0);
	CHECK_INT(many_st.n, 1000);
	CHECK_INT(many_st.out_of_order, 0);
	int once = 1;
	for (int i = 0; i < 2000; i++)
		if (many_st.fired[i] != (i % 2 ? 1 : 0))
			once = 0;
	CHECK(once);
	fb_timer_disarm(l, &guard);
	CHECK_INT(fb_loop_timer_count(l), 0);

	CHECK_INT(fb_loop_add_signal(l, SIGUSR1, sig_cb, NULL), 0);
	kill(getpid(), SIGUSR1);
	CHECK_INT(fb_loop_run(l), 0);
	CHECK_INT(got_signal, SIGUSR1);
	fb_loop_free(l);
}

static void test_files(void)
{
	char dir[] = "/tmp/fbunitXXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char p[256], q[256], h1[FB_SHA256_HEX], h2[FB_SHA256_HEX];
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	CHECK_INT(fb_mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/f", dir);
	CHECK_INT(fb_write_file_atomic(p, "hello", 5, 0644), 0);
	char *t;
	size_t n;
	CHECK_INT(fb_read_file(p, &t, &n, 100), 0);
	CHECK_STR(t, "hello");
	free(t);
	snprintf(q, sizeof(q), "%s/a/g", dir);
	CHECK_INT(fb_copy_file(p, q, h1, NULL, NULL), 0);
	CHECK_INT(fb_sha256_file(q, h2, NULL, NULL), 0);
	CHECK_STR(h1, h2);
	CHECK_INT(fb_copy_file(p, q, h1, NULL, NULL), -1); /* exists */
	/* Positioned writes and reads of the whole request. */
	int fd = open(q, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	char rb[8];
	CHECK_INT(fb_pwrite_full(fd, "abc", 3, 10), 0);
	CHECK_INT(fb_pread_full(fd, rb, 3, 10, 0), 0);
	CHECK(!memcmp(rb, "abc", 3));
	CHECK_INT(fb_pread_full(fd, rb, 8, 10, 0), -EIO); /* past the end */
	memset(rb, 'x', sizeof(rb));
	CHECK_INT(fb_pread_full(fd, rb, 8, 10, FB_PREAD_ZERO_FILL), 0);
	CHECK(!memcmp(rb, "abc\0\0\0\0\0", 8));
	close(fd);
	CHECK_INT(fb_rm_rf(dir), 0);
	CHECK(access(dir, F_OK) != 0);
}

static void test_all_zero(void)
{
	static uint8_t b[4096 + 7];
	CHECK_INT(fb_all_zero(b, 0), 1);
	CHECK_INT(fb_all_zero(b, sizeof(b)), 1);
	/* A set byte anywhere (the head, its edge, the tail) is seen; one
	 * just past the length is not. */
	const size_t at[] = {0, 1, 15, 16, 17, 31, 32, 1000, 4095, 4102};
	for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		b[at[k]] = 0x80;
		CHECK_INT(fb_all_zero(b, sizeof(b)), 0);
		CHECK_INT(fb_all_zero(b, at[k]), 1);
		CHECK_INT(fb_all_zero(b, at[k] + 1), 0);
		b[at[k]] = 0;
	}
}

static void test_hex(void)
{
	char out[9];
	const uint8_t b[4] = {0x00, 0x9f, 0xa0, 0xff};
	fb_hex_encode(b, 4, out);
	CHECK_STR(out, "009fa0ff");
	fb_hex_encode(b, 0, out);
	CHECK_STR(out, "");
	CHECK_INT(fb_hex_digit('0'), 0);
	CHECK_INT(fb_hex_digit('9'), 9);
	CHECK_INT(fb_hex_digit('a'), 10);
	CHECK_INT(fb_hex_digit('F'), 15);
	CHECK_INT(fb_hex_digit('g'), -1);
	CHECK_INT(fb_hex_digit('/'), -1);
	CHECK_INT(fb_hex_digit(':'), -1);
	CHECK_INT(fb_hex_digit('@'), -1);
	CHECK_INT(fb_hex_digit(0), -1);
	CHECK_INT(fb_hex_digit(0xe1), -1);
}

static void test_secret_equal(void)
{
	CHECK_INT(fb_secret_equal("0123abcd", "0123abcd"), 1);
	CHECK_INT(fb_secret_equal("0123abcd", "0123abce"), 0);
	CHECK_INT(fb_secret_equal("0123abcd", "0123abc"), 0);  /* a prefix */
	CHECK_INT(fb_secret_equal("0123abc", "0123abcd"), 0);  /* longer known */
	CHECK_INT(fb_secret_equal("0123abcd", "1123abcd"), 0); /* first byte */
	/* Empty never matches: an unset secret lets nobody in, and sending
	 * nothing proves nothing. */
	CHECK_INT(fb_secret_equal("", ""), 0);
	CHECK_INT(fb_secret_equal("", "0123abcd"), 0);
	CHECK_INT(fb_secret_equal("0123abcd", ""), 0);
	CHECK_INT(fb_secret_equal(NULL, "0123abcd"), 0);
	CHECK_INT(fb_secret_equal("0123abcd", NULL), 0);
	CHECK_INT(fb_secret_equal(NULL, NULL), 0);
	/* Two real secrets from the generator. */
	char a[65], b[65];
	CHECK_INT(fb_random_hex(a, 32), 0);
	memcpy(b, a, sizeof(b));
	CHECK_INT(fb_secret_equal(a, b), 1);
	b[63] = b[63] == '0' ? '1' : '0';
	CHECK_INT(fb_secret_equal(a, b), 0);
}

static void test_byteorder(void)
{
	uint8_t b[9] = {0};
	fb_put_be16(b + 1, 0x0102);
	CHECK(b[1] == 0x01 && b[2] == 0x02);
	CHECK_INT(fb_get_be16(b + 1), 0x0102);
	fb_put_be24(b + 1, 0xaa010203u); /* only the low 24 bits */
	CHECK(b[1] == 0x01 && b[2] == 0x02 && b[3] == 0x03 && b[4] == 0);
	CHECK_INT(fb_get_be24(b + 1), 0x010203);
	fb_put_be32(b + 1, 0x01020304u);
	CHECK(b[1] == 0x01 && b[4] == 0x04);
	CHECK_INT(fb_get_be32(b + 1), 0x01020304u);
	fb_put_be64(b + 1, 0x0102030405060708ull);
	CHECK(b[1] == 0x01 && b[8] == 0x08);
	CHECK(fb_get_be64(b + 1) == 0x0102030405060708ull);
	fb_put_le32(b + 1, 0x01020304u);
	CHECK(b[1] == 0x04 && b[4] == 0x01);
	CHECK_INT(fb_get_le32(b + 1), 0x01020304u);
	fb_put_le64(b + 1, 0x0102030405060708ull);
	CHECK(b[1] == 0x08 && b[8] == 0x01);
	CHECK(fb_get_le64(b + 1) == 0x0102030405060708ull);
	/* Top bits survive (no sign extension through int promotion). */
	fb_put_be32(b, 0xfffffffeu);
	CHECK_INT(fb_get_be32(b), 0xfffffffeu);
	fb_put_le64(b, UINT64_MAX - 1);
	CHECK(fb_get_le64(b) == UINT64_MAX - 1);
}

static void test_crc32c(void)
{
	/* The standard check value (CRC catalogue: CRC-32/ISCSI). */
	CHECK_INT(fb_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_INT(fb_crc32c(0, "", 0), 0);
	/* Continuing a CRC equals the CRC of the concatenation, wherever the
	 * split falls relative to the 8-byte steps of the hardware path. */
	uint8_t big[100];
	for (int i = 0; i < 100; i++)
		big[i] = (uint8_t)(i * 53 + 7);
	uint32_t whole = fb_crc32c(0, big, sizeof(big));
	for (size_t k = 0; k <= sizeof(big); k++)
		CHECK_INT(fb_crc32c(fb_crc32c(0, big, k), big + k, sizeof(big) - k), whole);
	/* Unaligned starts give the same answer as aligned ones. */
	uint8_t moved[101];
	memcpy(moved + 1, big, sizeof(big));
	CHECK_INT(fb_crc32c(0, moved + 1, sizeof(big)), whole);
}

/* Passwords: new hashes are argon2id; a PBKDF2 hash made before (by the
 * 120000-iteration code) still verifies and is reported for rehashing. */
static void test_pwhash(void)
{
	static const char old[] =
	    "pbkdf2-sha256$120000$000102030405060708090a0b0c0d0e0f$"
	    "12e8376f214007f6825591f72e330e6aee96a944404bb477960f2e79bf487fc8";
	char h[FB_PWHASH_LEN], h2[FB_PWHASH_LEN];
	CHECK_INT(fb_pwhash_check("old-password-1", old), 1);
	CHECK_INT(fb_pwhash_check("old-password-2", old), 0);
	CHECK_INT(fb_pwhash_needs_rehash(old), 1);
	CHECK_INT(fb_pwhash_make("new-password-1", h, sizeof(h)), 0);
	CHECK(!strncmp(h, "$argon2id$v=19$m=65536,t=3,p=1$", 31));
	CHECK_INT(fb_pwhash_needs_rehash(h), 0);
	CHECK_INT(fb_pwhash_check("new-password-1", h), 1);
	CHECK_INT(fb_pwhash_check("new-password-2", h), 0);
	/* Salted: the same password never gives the same hash. */
	CHECK_INT(fb_pwhash_make("new-password-1", h2, sizeof(h2)), 0);
	CHECK(strcmp(h, h2) != 0);
	/* Weaker argon2id parameters are renewed too; garbage is malformed. */
	CHECK_INT(fb_pwhash_needs_rehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaA"), 1);
	CHECK_INT(fb_pwhash_check("x", "$argon2id$v=19$m=65536,t=3,p=1$!!$!!"), -1);
	CHECK_INT(fb_pwhash_check("x", "plain"), -1);
	CHECK_INT(fb_pwhash_make("x", h, 40), -1); /* too small a buffer */
}

/* The magic packet: 6 x 0xff, then the MAC 16 times, 102 bytes in all. */
static void test_wol(void)
{
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	uint8_t p[FB_WOL_LEN + 1];
	memset(p, 0xaa, sizeof(p));
	fb_wol_build(p, mac);
	CHECK_INT(p[FB_WOL_LEN], 0xaa); /* nothing written past the end */
	for (int i = 0; i < 6; i++)
		CHECK_INT(p[i], 0xff);
	for (int r = 0; r < 16; r++)
		CHECK(!memcmp(p + 6 + 6 * r, mac, 6));
	CHECK_INT(fb_wol_match(p, FB_WOL_LEN, mac), 1);
	CHECK_INT(fb_wol_match(p, FB_WOL_LEN - 1, mac), 0);
	uint8_t other[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
	CHECK_INT(fb_wol_match(p, FB_WOL_LEN, other), 0);
	p[FB_WOL_LEN - 1] ^= 1; /* the last repetition counts too */
	CHECK_INT(fb_wol_match(p, FB_WOL_LEN, mac), 0);
}

int main(void)
{
	RUN(test_mac);
	RUN(test_log_escape);
	RUN(test_ip);
	RUN(test_buf);
	RUN(test_size);
	RUN(test_random);
	RUN(test_config);
	RUN(test_loop);
	RUN(test_files);
	RUN(test_all_zero);
	RUN(test_hex);
	RUN(test_secret_equal);
	RUN(test_byteorder);
	RUN(test_crc32c);
	RUN(test_pwhash);
	RUN(test_wol);
	return HARNESS_EXIT();
}
