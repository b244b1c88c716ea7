/*
 * fuzz_nbd_open.c - the NBD plugin's side of a connection's start, in
 * sequences. nbdkit itself does the NBD handshake (option haggling,
 * NBD_OPT_GO); what fleetboot adds is the plugin's open and close: the
 * export name MACID.CREDENTIAL taken apart, the machine id normalised,
 * the credential and peer checked (sd_authorize, against a real
 * database), the per-machine connection cap, the disk opened from a real
 * base image and overlay, and the counts given back on close. This
 * target drives that through the plugin's own struct nbdkit_plugin
 * (plugin_init), with the few nbdkit_* calls the plugin makes stubbed
 * here, so no nbdkit process is needed. Each input is a list of
 * operations: open with an export name built from the input (a known
 * machine in some spelling, its credential right or wrong, or raw bytes),
 * or close one of the open handles. nbd_conns_per_machine is 2, so the
 * cap is hit often.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "db/db.h"
#include "fileio.h"
#include "sha256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
struct nbdkit_plugin *plugin_init(void);

/* ---- what nbdkit would provide ---- */
static char export_name[300];

const char *nbdkit_export_name(void)
{
	return export_name;
}
int nbdkit_peer_name(struct sockaddr *addr, socklen_t *addrlen)
{
	if (*addrlen < sizeof(sa_family_t))
		return -1;
	addr->sa_family = AF_UNIX; /* a local peer: no address to check */
	*addrlen = sizeof(sa_family_t);
	return 0;
}
/* A plain connection: a Secure Boot machine's export is refused on it. */
int nbdkit_is_tls(void)
{
	return 0;
}
void nbdkit_error(const char *msg, ...)
{
}
void nbdkit_debug(const char *msg, ...)
{
}
void nbdkit_set_error(int err)
{
}
char *nbdkit_realpath(const char *path)
{
	return realpath(path, NULL);
}
int nbdkit_add_extent(struct nbdkit_extents *e, uint64_t offset, uint64_t length, uint32_t type)
{
	return 0;
}

/* ---- a state dir with a base image and three machines ---- */
static const char *macs[3] = {"52-54-00-f0-00-01", "52-54-00-f0-00-02", "52-54-00-f0-00-03"};
static const char *secrets[3] = {"00112233445566778899aabbccddeeff",
                                 "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                                 "ffeeddccbbaa99887766554433221100"};
static struct nbdkit_plugin *pl;

static int setup(void)
{
	static char dir[] = "/tmp/fuzz-nbd-XXXXXX";
	char path[4200], conf[4200], img_dir[4200];
	if (!mkdtemp(dir))
		return -1;
	snprintf(img_dir, sizeof(img_dir), "%s/images/base/1", dir);
	if (fb_mkdir_p(img_dir, 0700) < 0)
		return -1;
	static uint8_t base[65536];
	for (size_t i = 0; i < sizeof(base); i++)
		base[i] = (uint8_t)i;
	snprintf(path, sizeof(path), "%s/rootfs.img", img_dir);
	FILE *f = fopen(path, "w");
	if (!f || fwrite(base, 1, sizeof(base), f) != sizeof(base))
		return -1;
	fclose(f);
	struct fb_db *db;
	if (fb_db_open_state(&db, dir) < 0)
		return -1;
	struct fb_image img = {0};
	snprintf(img.name, sizeof(img.name), "base");
	img.version = 1;
	snprintf(img.state, sizeof(img.state), "ready");
	img.size = sizeof(base);
	fb_sha256_mem(base, sizeof(base), img.sha256);
	snprintf(img.dir, sizeof(img.dir), "%s", img_dir);
	snprintf(img.source, sizeof(img.source), "fuzz");
	if (fb_db_image_add(db, &img) < 0)
		return -1;
	for (int i = 0; i < 3; i++) {
		struct fb_machine m = {0};
		snprintf(m.mac, sizeof(m.mac), "%s", macs[i]);
		snprintf(m.image, sizeof(m.image), "base");
		m.mode = i == 2 ? FB_MODE_READONLY : FB_MODE_PERSISTENT;
		m.protocol = FB_PROTOCOL_NBD;
		snprintf(m.secret, sizeof(m.secret), "%s", secrets[i]);
		if (fb_db_machine_add(db, &m) < 0)
			return -1;
	}
	fb_db_close(db);
	snprintf(conf, sizeof(conf), "%s/fleetboot.conf", dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	fprintf(f,
	        "[global]\nstate_dir = %s\n[storaged]\nrequire_lease_ip = off\n"
	        "nbd_conns_per_machine = 2\n",
	        dir);
	fclose(f);
	pl = plugin_init();
	if (pl->config("config", conf) < 0 || pl->config_complete() < 0 || pl->get_ready() < 0)
		return -1;
	return 0;
}

/* ---- the operations ---- */
struct in {
	const uint8_t *p;
	size_t n;
};
static uint8_t take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* An export name for this open, as the input decides. */
static void make_name(struct in *in)
{
	uint8_t v = take(in);
	int m = v % 3;
	char mac[32];
	snprintf(mac, sizeof(mac), "%s", macs[m]);
	if (v & 4) /* capitals */
		for (char *p = mac; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 32);
	if (v & 8) /* colons */
		for (char *p = mac; *p; p++)
			if (*p == '-')
				*p = ':';
	if (v & 0x80) { /* raw bytes from the input */
		size_t n = take(in) % (sizeof(export_name) - 1);
		for (size_t i = 0; i < n; i++)
			export_name[i] = (char)take(in);
		export_name[n] = 0;
		return;
	}
	const char *sec = (v & 0x10) ? "00000000000000000000000000000000" : secrets[m];
	snprintf(export_name, sizeof(export_name), "%s%s%s", mac, (v & 0x20) ? "" : ".", sec);
	if (v & 0x40) /* a byte changed somewhere */
		export_name[take(in) % strlen(export_name)] = (char)take(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (setup() < 0)
			abort();
		ready = 1;
	}
	void *h[8] = {0};
	struct in in = {data, size};
	for (int ops = 0; in.n && ops < 64; ops++) {
		uint8_t op = take(&in);
		int slot = op >> 5 & 7;
		if ((op & 1) == 0) {
			if (h[slot])
				continue;
			make_name(&in);
			h[slot] = pl->open(op & 2);
			if (h[slot]) {
				/* An open handle serves: its size, a read. */
				char buf[512];
				if (pl->get_size(h[slot]) <= 0 ||
				    pl->pread(h[slot], buf, sizeof(buf), 0, 0) < 0)
					abort();
			}
		} else if (h[slot]) {
			pl->close(h[slot]);
			h[slot] = NULL;
		}
	}
	for (int i = 0; i < 8; i++)
		if (h[i])
			pl->close(h[i]);
	return 0;
}
