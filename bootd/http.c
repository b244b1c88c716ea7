/*
 * http.c - the boot HTTP endpoints on libmicrohttpd (its own threads, so
 * a slow download never delays DHCP or TFTP).
 *
 *   GET /boot.ipxe                       generic script: chain this machine's
 *   GET /boot/MAC.ipxe[?image=REF]       the machine's script or its menu
 *   POST /boot/MAC/stage?name=STAGE      a boot stage from the initramfs
 *   GET /boot/MAC/credential             this boot's credential, once
 *   GET /images/NAME/VERSION/vmlinuz|initrd.img   (HEAD, Range; sendfile)
 *   GET /entries/NAME/kernel|initrd|image.iso|program.efi   (the same)
 *   GET /tftp/FILE                       TFTP-root files (UEFI HTTP Boot)
 *   GET /healthz
 *
 * A machine script goes only to the requester that is the machine
 * (requester_is): its address holds the machine's lease or reservation AND
 * the kernel's neighbour table maps it to the machine's MAC when the answer
 * is made (an address alone is no identity: any user can make a connection
 * from an address, and root on a client can set any address on it). In
 * proxy mode another server leases the addresses, so the neighbour entry is
 * all there is; a neighbour entry that changes its MAC within a boot is
 * logged and recorded as takeover-suspected.
 *
 * The script holds no secret: the machine's long-lived secret never leaves
 * the server. The initramfs fetches its boot's credential instead
 * (db/credentials.c), from the same requester only, and only once per boot:
 * a second request in the same boot is refused and recorded as a
 * takeover-suspected event, since either the machine's own initramfs or
 * someone else has it already. A stage report needs the requester to be the
 * machine, or this boot's credential (header "X-Fleetboot-Credential"),
 * since the initramfs may run with an address bootd did not hand out.
 *
 * Image and entry files are public, as on any PXE server: they hold no
 * secret (an installer, memtest86+, a kernel and its initramfs), and a
 * machine's disk needs its credential. What a machine boots next is in
 * its script, which only that machine gets.
 *
 * A machine's next boot (once) is decided in the database when its script
 * is made (db/entries.c, fb_db_next_boot_take): the first script that uses
 * it marks it with the boot's number and records a next-boot event; a
 * retry of the same boot (iPXE asking again before a new DHCP boot) gets
 * the same script; the first script of a later boot clears it and is the
 * normal one. A later boot is either a new boot number in the database or,
 * sooner than the event writer's commit, a PXE DHCP seen since this
 * machine's last script (bootd_client.script_served).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bootd.h"
#include "bootd/http_route.h"
#include "buf.h"
#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "logsafe.h"
#include "secret.h"
#include "str.h"

#define MAX_BODY 4096

struct req_state {
	size_t body; /* bytes of request body seen (ignored, but bounded) */
};

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *text, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_msg(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%s\n", msg);
	return send_text(c, status, "text/plain", buf, (size_t)n);
}

static struct in_addr peer_addr(struct MHD_Connection *c)
{
	struct in_addr a = {0};
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		a = ((const struct sockaddr_in *)ci->client_addr)->sin_addr;
	return a;
}

/* Our address on this connection: what the client can reach us at. */
static void local_addr(struct bootd *b, struct MHD_Connection *c, char out[FB_IP_LEN])
{
	if (b->cfg.server_address[0]) {
		fb_strlcpy(out, b->cfg.server_address, FB_IP_LEN);
		return;
	}
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci && getsockname(ci->connect_fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin_family == AF_INET)
		ip4_format(sa.sin_addr, out);
	else
		fb_strlcpy(out, "0.0.0.0", FB_IP_LEN);
}

/* ---- who is asking -------------------------------------------------- */

#define WATCH_SLOTS 1024 /* addresses remembered for takeover detection */
#define WATCH_S     600  /* a neighbour MAC that changes within this is suspect */

/* The MAC each address was last seen with: an address whose neighbour MAC
 * changes between two requests of one boot is a takeover (a forged ARP
 * entry, or a spoofed MAC), or at best a reassigned address. */
static struct {
	pthread_mutex_t lock;
	struct watch {
		struct in_addr ip;
		uint8_t mac[6];
		int64_t seen;
	} slot[WATCH_SLOTS];
} watch = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void watch_neigh(struct bootd *b, struct in_addr ip, const uint8_t mac[6])
{
	int64_t now = fb_now();
	uint8_t was[6];
	int changed = 0;
	size_t h = (size_t)((ntohl(ip.s_addr) * 2654435761u) % WATCH_SLOTS);
	pthread_mutex_lock(&watch.lock);
	struct watch *w = &watch.slot[h];
	if (w->ip.s_addr == ip.s_addr && now - w->seen < WATCH_S && memcmp(w->mac, mac, 6)) {
		changed = 1;
		memcpy(was, w->mac, 6);
	}
	w->ip = ip;
	memcpy(w->mac, mac, 6);
	w->seen = now;
	pthread_mutex_unlock(&watch.lock);
	if (!changed)
		return;
	char a[FB_IP_LEN], m_was[FB_MACID_LEN], m_now[FB_MACID_LEN], detail[120];
	ip4_format(ip, a);
	mac_format(was, m_was);
	mac_format(mac, m_now);
	log_warnx("takeover suspected: %s was %s, now the neighbour table says %s", a, m_was,
	          m_now);
	snprintf(detail, sizeof(detail), "address %s moved from %s to %s", a, m_was, m_now);
	pthread_rwlock_rdlock(&b->st.lock);
	int known_was = cache_machine(b->st.cache, was) != NULL;
	int known_now = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (known_now)
		writer_event(b->wr, m_now, "takeover-suspected", detail);
	if (known_was)
		writer_event(b->wr, m_was, "takeover-suspected", detail);
}

/* The MAC the neighbour table gives for ip now (and the watch told). */
static int neigh_now(struct bootd *b, struct in_addr ip, uint8_t mac[6])
{
	if (!ip.s_addr || neigh_lookup(ip, mac) < 0)
		return -1;
	watch_neigh(b, ip, mac);
	return 0;
}

/* Is the requester at ip the machine want? The neighbour table must map
 * ip to want, and (bootd leasing the addresses) ip must hold want's lease
 * or reservation. 1, or 0 with the reason in why. */
static int requester_is(struct bootd *b, struct in_addr ip, const uint8_t want[6], const char **why)
{
	uint8_t mac[6];
	if (neigh_now(b, ip, mac) < 0) {
		*why = "no neighbour entry for the address";
		return 0;
	}
	if (memcmp(mac, want, 6)) {
		*why = "the neighbour table maps the address to another MAC";
		return 0;
	}
	if (b->cfg.dhcp == FB_DHCP_AUTHORITATIVE && !state_ip_held_by(&b->st, ip, want)) {
		*why = "the address holds neither the machine's lease nor its reservation";
		return 0;
	}
	return 1;
}

/* Which machine is this requester (for boot events)? Both tests above. */
static int requester_mac(struct bootd *b, struct in_addr ip, uint8_t mac[6])
{
	if (neigh_now(b, ip, mac) < 0)
		return -1;
	if (b->cfg.dhcp == FB_DHCP_AUTHORITATIVE && !state_ip_held_by(&b->st, ip, mac))
		return -1;
	return 0;
}

static void script_ctx_of(struct bootd *b, struct MHD_Connection *c, struct script_ctx *x,
                          char server[FB_IP_LEN])
{
	local_addr(b, c, server);
	x->server = server;
	x->http_port = b->cfg.http_port;
	x->nbd_port = b->cfg.nbd_port;
	x->iscsi_port = b->cfg.iscsi_port;
	x->menu_timeout = b->cfg.menu_timeout;
	x->menu_default = b->cfg.menu_default;
	x->menu_shell = b->cfg.menu_shell;
}

static enum MHD_Result send_buf(struct MHD_Connection *c, struct fb_buf *out)
{
	if (out->failed) {
		fb_buf_free(out);
		return send_msg(c, 503, "out of memory");
	}
	enum MHD_Result r = send_text(c, 200, "text/plain", (const char *)out->data, out->len);
	/* A sanboot script holds this boot's credential (sanboot.c). */
	if (out->data)
		explicit_bzero(out->data, out->len);
	fb_buf_free(out);
	return r;
}

/* A refusal whose message machine_script wrote into out. */
static enum MHD_Result send_status(struct MHD_Connection *c, int status, struct fb_buf *out)
{
	enum MHD_Result r = out->failed ? send_msg(c, status, "refused")
	                                : send_text(c, (unsigned)status, "text/plain",
	                                            (const char *)out->data, out->len);
	fb_buf_free(out);
	return r;
}

/* The script of m's next boot into out: 1, or 0 when none applies now
 * (the normal script then). */
static int next_boot_script(struct bootd *b, const struct script_ctx *x,
                            const struct bootd_machine *m, int new_boot, const char *peer,
                            struct fb_buf *out, int *status)
{
	char item[FB_REF_LEN], detail[FB_REF_LEN + 40], name[FB_NAME_LEN];
	int first = 0, version = 0;
	if (!b->cred_db)
		return 0;
	pthread_mutex_lock(&b->cred_lock);
	int rc = fb_db_next_boot_take(b->cred_db, m->macid, new_boot, item, &first);
	if (rc < 0 && rc != -ENOENT)
		log_warnx("%s: cannot read its next boot: %s", m->macid, fb_db_errmsg(b->cred_db));
	pthread_mutex_unlock(&b->cred_lock);
	if (rc < 0)
		return 0;
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_entry *e = cache_entry(b->st.cache, item);
	const struct bootd_image *ip = NULL;
	if (!e && fb_image_ref_parse(item, name, &version) == 0)
		ip = cache_image(b->st.cache, name, version);
	if (!strcmp(item, "local")) {
		script_local(out, m->macid, "next boot (once): booting its local disk");
	} else if (e) {
		script_entry(out, x, m->macid, e);
	} else if (ip && ip->ready) {
		struct bootd_image img = *ip;
		pthread_rwlock_unlock(&b->st.lock);
		*status = machine_script(b, x, m, &img, peer, out);
		if (*status)
			return 1;
		pthread_rwlock_rdlock(&b->st.lock);
	} else {
		pthread_rwlock_unlock(&b->st.lock);
		char esc[FB_LOG_ESCAPE_LEN];
		log_warnx("%s: its next boot %s is not available; the normal boot instead",
		          m->macid, fb_log_escape(item, esc, sizeof(esc)));
		return 0;
	}
	pthread_rwlock_unlock(&b->st.lock);
	state_mark_script_served(&b->st, m->mac);
	snprintf(detail, sizeof(detail), "%s, once", item);
	if (first)
		writer_event(b->wr, m->macid, "next-boot", detail);
	snprintf(detail, sizeof(detail), "next-boot=%s", item);
	writer_event(b->wr, m->macid, "ipxe-script", detail);
	return 1;
}

static enum MHD_Result do_script(struct bootd *b, struct MHD_Connection *c, const struct route *rt)
{
	uint8_t mac[6];
	char server[FB_IP_LEN], peer[FB_IP_LEN];
	struct script_ctx x;
	struct fb_buf out = {0};
	struct in_addr pa = peer_addr(c);
	mac_parse(rt->mac, mac);
	ip4_format(pa, peer);
	script_ctx_of(b, c, &x, server);
	const char *want_image = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "image");

	const char *why = "";
	if (!requester_is(b, pa, mac, &why)) {
		log_warnx("refused the script of %s to %s: not that machine (%s)", rt->mac, peer,
		          why);
		return send_msg(c, 403, "forbidden: this script belongs to another machine");
	}
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_machine *mp = cache_machine(b->st.cache, mac);
	struct bootd_machine m;
	if (mp)
		m = *mp;
	if (!mp) {
		int ok = b->cfg.unknown_machines != FB_UNKNOWN_IGNORE &&
		         register_unknown(
		             b, mac,
		             b->cfg.unknown_machines == FB_UNKNOWN_BOOT ? b->cfg.unknown_image : "",
		             fb_now());
		pthread_rwlock_unlock(&b->st.lock);
		if (!ok)
			return send_msg(c, 404, "unknown machine");
		script_wait(&out, &x, rt->mac);
		return send_buf(c, &out);
	}
	if (m.next_boot[0] && !want_image) {
		const struct bootd_client *cl = client_get(&b->st, mac, 0);
		int new_boot = !cl || !cl->script_served;
		pthread_rwlock_unlock(&b->st.lock);
		int status = 0;
		if (next_boot_script(b, &x, &m, new_boot, peer, &out, &status))
			return status ? send_status(c, status, &out) : send_buf(c, &out);
		fb_buf_free(&out);
		out = (struct fb_buf){0};
		pthread_rwlock_rdlock(&b->st.lock);
	}
	if (m.installed && !want_image) {
		pthread_rwlock_unlock(&b->st.lock);
		script_local(&out, rt->mac, "is installed; booting its local disk");
		writer_event(b->wr, rt->mac, "ipxe-script", "local-disk (installed)");
		return send_buf(c, &out);
	}
	int menu = !m.image[0] || !strcmp(m.image, "menu");
	char name[FB_NAME_LEN], detail[200];
	int version = 0;
	const char *ref = m.image;
	if (want_image) {
		if (!menu) {
			pthread_rwlock_unlock(&b->st.lock);
			char esc[FB_LOG_ESCAPE_LEN];
			log_warnx("%s (%s) asked for image %s but is not set to the menu", rt->mac,
			          peer, fb_log_escape(want_image, esc, sizeof(esc)));
			return send_msg(c, 403, "forbidden: this machine is not set to the menu");
		}
		ref = want_image;
		menu = 0;
	}
	if (menu) {
		script_menu(&out, &x, &m, b->st.cache);
		pthread_rwlock_unlock(&b->st.lock);
		writer_event(b->wr, rt->mac, "ipxe-script", "menu");
		return send_buf(c, &out);
	}
	const struct bootd_image *ip = NULL;
	if (fb_image_ref_parse(ref, name, &version) == 0)
		ip = cache_image(b->st.cache, name, version);
	if (!ip || (want_image && !ip->ready)) {
		pthread_rwlock_unlock(&b->st.lock);
		char esc[FB_LOG_ESCAPE_LEN];
		log_warnx("%s: image %s is not available", rt->mac,
		          fb_log_escape(ref, esc, sizeof(esc)));
		return send_msg(c, 404, "image not available");
	}
	struct bootd_image img = *ip;
	pthread_rwlock_unlock(&b->st.lock);
	int status = machine_script(b, &x, &m, &img, peer, &out);
	if (status)
		return send_status(c, status, &out);
	state_mark_script_served(&b->st, m.mac);
	snprintf(detail, sizeof(detail), "image=%s@%d%s", img.name, img.version,
	         img.disk ? " sanboot" : "");
	writer_event(b->wr, rt->mac, "ipxe-script", detail);
	return send_buf(c, &out);
}

/* Does the presented credential open this boot of mac? */
static int credential_ok(struct bootd *b, const char *macid, const char *presented)
{
	char cred[FB_SECRET_LEN];
	if (!presented || !b->cred_db)
		return 0;
	pthread_mutex_lock(&b->cred_lock);
	int ok = fb_db_credential_current(b->cred_db, macid, cred) == 0 &&
	         fb_secret_equal(presented, cred);
	pthread_mutex_unlock(&b->cred_lock);
	memset(cred, 0, sizeof(cred));
	return ok;
}

/*
 * GET /boot/MAC/credential: this boot's credential, handed out once, to the
 * requester that is the machine. The decision is made in the database (one
 * transaction), so two requests at once, or a request after a restart of
 * bootd, still get one answer between them.
 */
static enum MHD_Result do_credential(struct bootd *b, struct MHD_Connection *c,
                                     const struct route *rt)
{
	uint8_t mac[6];
	char peer[FB_IP_LEN], detail[160], how[64], cred[FB_SECRET_LEN + 1];
	struct in_addr pa = peer_addr(c);
	int64_t seq = 0;
	ip4_format(pa, peer);
	mac_parse(rt->mac, mac);
	pthread_rwlock_rdlock(&b->st.lock);
	int known = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (!known)
		return send_msg(c, 404, "unknown machine");
	const char *why = "";
	if (!requester_is(b, pa, mac, &why)) {
		/* Logged, not recorded as an event: anyone on the LAN can ask,
		 * and must not be able to flood a machine's event list. */
		log_warnx("refused the credential of %s to %s: not that machine (%s)", rt->mac,
		          peer, why);
		return send_msg(c, 403, "forbidden: this credential belongs to another machine");
	}
	if (!b->cred_db)
		return send_msg(c, 503, "no database");
	snprintf(how, sizeof(how), "bootd to %s", peer);
	pthread_mutex_lock(&b->cred_lock);
	int rc = fb_db_credential_issue(b->cred_db, rt->mac, 0, how, cred, &seq);
	if (rc < 0 && rc != -EALREADY)
		log_warnx("cannot issue a credential for %s: %s", rt->mac,
		          fb_db_errmsg(b->cred_db));
	pthread_mutex_unlock(&b->cred_lock);
	if (rc == -EALREADY) {
		log_warnx("refused a second credential for %s's boot %lld to %s: takeover "
		          "suspected",
		          rt->mac, (long long)seq, peer);
		snprintf(detail, sizeof(detail),
		         "second credential request in one boot, from %s: refused", peer);
		writer_event(b->wr, rt->mac, "takeover-suspected", detail);
		return send_msg(c, 403, "forbidden: this boot's credential was already handed out");
	}
	if (rc < 0)
		return send_msg(c, 503, "cannot issue a credential now");
	snprintf(detail, sizeof(detail), "handed out to %s", peer);
	writer_event(b->wr, rt->mac, "credential", detail);
	size_t n = strlen(cred);
	cred[n++] = '\n';
	enum MHD_Result r = send_text(c, 200, "text/plain", cred, n);
	memset(cred, 0, sizeof(cred));
	return r;
}

static enum MHD_Result do_stage(struct bootd *b, struct MHD_Connection *c, const struct route *rt)
{
	uint8_t mac[6];
	char peer[FB_IP_LEN], detail[64];
	struct in_addr pa = peer_addr(c);
	ip4_format(pa, peer);
	mac_parse(rt->mac, mac);
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
	const char *cred =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Fleetboot-Credential");
	if (!name || !http_stage_name_ok(name))
		return send_msg(c, 400, "name: expected a stage name ([a-z0-9-], 1-23 chars)");
	pthread_rwlock_rdlock(&b->st.lock);
	int found = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (!found)
		return send_msg(c, 404, "unknown machine");
	/* The machine itself, or whoever holds this boot's credential (never
	 * the long-lived secret, which stays on the server). */
	const char *why = "";
	int ok = requester_is(b, pa, mac, &why);
	if (!ok)
		ok = credential_ok(b, rt->mac, cred);
	if (!ok) {
		log_warnx(
		    "refused stage %s for %s from %s: not that machine (%s) and no credential",
		    name, rt->mac, peer, why);
		return send_msg(c, 403,
		                "forbidden: not that machine (send this boot's credential)");
	}
	snprintf(detail, sizeof(detail), "from=%s", peer);
	writer_event(b->wr, rt->mac, name, detail);
	return send_msg(c, 200, "ok");
}

/* Serve an open file with Content-Length, Range and sendfile. Takes fd. */
static enum MHD_Result serve_fd(struct MHD_Connection *c, int fd, const char *type)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return send_msg(c, 404, "not found");
	}
	uint64_t size = (uint64_t)st.st_size, start = 0, len = size;
	const char *rh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
	int rr = http_parse_range(rh, size, &start, &len);
	char cr[96];
	if (rr < 0) {
		close(fd);
		struct MHD_Response *r =
		    MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		snprintf(cr, sizeof(cr), "bytes */%llu", (unsigned long long)size);
		MHD_add_response_header(r, "Content-Range", cr);
		enum MHD_Result ret = MHD_queue_response(c, 416, r);
		MHD_destroy_response(r);
		return ret;
	}
	struct MHD_Response *r = MHD_create_response_from_fd_at_offset64(len, fd, start);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Accept-Ranges", "bytes");
	unsigned status = 200;
	if (rr == 0) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)start,
		         (unsigned long long)(start + len - 1), (unsigned long long)size);
		MHD_add_response_header(r, "Content-Range", cr);
		status = 206;
	}
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void file_event(struct bootd *b, struct MHD_Connection *c, const struct route *rt)
{
	uint8_t mac[6];
	char macid[FB_MACID_LEN], detail[160];
	if (rt->head || MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range"))
		return; /* only a whole download marks the stage */
	if (requester_mac(b, peer_addr(c), mac) < 0)
		return;
	pthread_rwlock_rdlock(&b->st.lock);
	int known = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (!known)
		return;
	if (rt->kind == R_ENTRY)
		snprintf(detail, sizeof(detail), "entry=%s file=%s", rt->name, rt->file);
	else
		snprintf(detail, sizeof(detail), "image=%s@%d", rt->name, rt->version);
	writer_event(b->wr, mac_format(mac, macid),
	             !strcmp(rt->file, "initrd") || !strcmp(rt->file, "initrd.img") ? "initrd"
	                                                                            : "kernel",
	             detail);
}

/* An entry's file that bootd serves (its URL in the database is empty). */
/* Serve an image's or an entry's file (Range, HEAD, zero-copy) and record
 * the fetch. A file there but not readable by the user bootd runs as is
 * said so (403 and a log line), not "missing". */
static enum MHD_Result serve_path(struct bootd *b, struct MHD_Connection *c, const struct route *rt,
                                  const char *path, const char *missing)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		fb_log_unreadable(path, errno);
		return send_msg(c, 403,
		                "forbidden: the server cannot read this file (see its log)");
	}
	if (fd < 0) {
		log_warn("%s", path);
		return send_msg(c, 404, missing);
	}
	file_event(b, c, rt);
	return serve_fd(c, fd, "application/octet-stream");
}

static enum MHD_Result do_entry(struct bootd *b, struct MHD_Connection *c, const struct route *rt)
{
	char path[PATH_MAX + 2 * FB_NAME_LEN];
	int served = 0;
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_entry *e = cache_entry(b->st.cache, rt->name);
	if (e) {
		if (!strcmp(rt->file, "initrd"))
			served = e->has_initrd && !e->initrd_url[0];
		else
			served = !strcmp(rt->file, fb_entry_boot_file(e->kind)) && !e->boot_url[0];
	}
	pthread_rwlock_unlock(&b->st.lock);
	if (!served)
		return send_msg(c, 404, "no such entry file");
	snprintf(path, sizeof(path), "%s/entries/%s/%s", b->cfg.state_dir, rt->name, rt->file);
	return serve_path(b, c, rt, path, "file missing from the entry");
}

static enum MHD_Result do_image(struct bootd *b, struct MHD_Connection *c, const struct route *rt)
{
	char path[FB_PATH_LEN + 32];
	int found = 0;
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_image *im = cache_image(b->st.cache, rt->name, rt->version);
	if (im) {
		found = 1;
		snprintf(path, sizeof(path), "%s/%s", im->dir, rt->file);
	}
	pthread_rwlock_unlock(&b->st.lock);
	if (!found)
		return send_msg(c, 404, "no such image version");
	return serve_path(b, c, rt, path, "file missing from the image");
}

static enum MHD_Result do_tftp_file(struct bootd *b, struct MHD_Connection *c,
                                    const struct route *rt)
{
	const char *why;
	int fd = tftp_open_file(b->tftp_rootfd, b->tftp_root, rt->file, &why);
	if (fd < 0)
		return send_msg(c, why == tftp_why_unreadable ? 403 : 404, why);
	return serve_fd(c, fd, "application/efi");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct bootd *b = cls;
	struct req_state *rs = *con_cls;
	if (!rs) {
		rs = calloc(1, sizeof(*rs));
		if (!rs)
			return MHD_NO;
		*con_cls = rs;
		return MHD_YES;
	}
	if (*upload_size) {
		/* Bodies are not used; read and drop them, up to a bound. */
		rs->body += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rs->body > MAX_BODY)
		return send_msg(c, 413, "request body too large");
	struct route rt;
	const char *why = "";
	int st = http_route(method, url, &rt, &why);
	if (st)
		return send_msg(c, (unsigned)st, why);
	char server[FB_IP_LEN];
	struct script_ctx x;
	struct fb_buf out = {0};
	switch (rt.kind) {
	case R_HEALTH:
		return send_msg(c, 200, "ok");
	case R_GENERIC:
		script_ctx_of(b, c, &x, server);
		script_generic(&out, &x);
		return send_buf(c, &out);
	case R_SCRIPT:
		return do_script(b, c, &rt);
	case R_STAGE:
		return do_stage(b, c, &rt);
	case R_CREDENTIAL:
		return do_credential(b, c, &rt);
	case R_IMAGE:
		return do_image(b, c, &rt);
	case R_ENTRY:
		return do_entry(b, c, &rt);
	case R_TFTP:
		return do_tftp_file(b, c, &rt);
	default:
		return send_msg(c, 404, "not found");
	}
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	char esc[FB_LOG_ESCAPE_LEN];
	log_debug("http: %s", fb_log_escape(buf, esc, sizeof(esc)));
}

int http_start(struct bootd *b)
{
	pthread_mutex_init(&b->cred_lock, NULL);
	if (fb_db_open_state(&b->cred_db, b->cfg.state_dir) < 0) {
		log_warnx("cannot open the database for boot credentials");
		return -1;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = ncpu > 1 ? (unsigned)(ncpu > 8 ? 8 : ncpu) : 1;
	b->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
	    (uint16_t)b->cfg.http_port, NULL, NULL, handler, b, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, b, MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)60, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
	if (!b->mhd) {
		log_warnx("cannot start the HTTP server on port %d", b->cfg.http_port);
		fb_db_close(b->cred_db);
		b->cred_db = NULL;
		return -1;
	}
	return 0;
}

void http_stop(struct bootd *b)
{
	if (b->mhd)
		MHD_stop_daemon(b->mhd);
	b->mhd = NULL;
	fb_db_close(b->cred_db);
	b->cred_db = NULL;
}
