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
 * (ident_requester_is, identity.c): its address holds the machine's lease or reservation AND
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
 * A machine's next boot (once): nextboot.c.
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
#include "fileio.h"
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

static void script_ctx_of(struct bootd *b, struct MHD_Connection *c, struct script_ctx *x,
                          char server[FB_IP_LEN])
{
	local_addr(b, c, server);
	x->server = server;
	x->http_port = b->cfg.http_port;
	x->https_port = b->mhd_tls ? b->cfg.https_port : 0;
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
                            const struct bootd_machine *m, const char *peer, struct fb_buf *out,
                            int *status)
{
	struct next_boot nb;
	next_boot_take(b, m, NULL, &nb);
	switch (nb.kind) {
	case NEXT_NONE:
		return 0;
	case NEXT_LOCAL:
		script_local(out, m->macid, "next boot (once): booting its local disk");
		break;
	case NEXT_ENTRY:
		script_entry(out, x, m->macid, &nb.entry);
		break;
	case NEXT_IMAGE:
		/* A whole disk's sanboot script carries this boot's credential. */
		*status = machine_script(b, x, m, &nb.image, peer, out);
		if (*status)
			return 1;
		break;
	}
	next_boot_served(b, m, &nb, "");
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
	if (!ident_requester_is(b, pa, mac, &why)) {
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
		pthread_rwlock_unlock(&b->st.lock);
		int status = 0;
		if (next_boot_script(b, &x, &m, peer, &out, &status))
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
		/* The machine's group's menu default and timeout, else [bootd]'s. */
		if (m.menu_default[0])
			x.menu_default = m.menu_default;
		if (m.menu_timeout >= 0)
			x.menu_timeout = m.menu_timeout;
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

/*
 * GET /boot/MAC/params: the per-machine kernel parameters for an
 * initramfs started from a signed UKI (which is per image version and so
 * cannot carry them). Served to the machine itself only, as its script is;
 * nothing secret in it. A machine without an image (or on the menu) has
 * none.
 */
static enum MHD_Result do_params(struct bootd *b, struct MHD_Connection *c, const struct route *rt)
{
	uint8_t mac[6];
	char server[FB_IP_LEN], peer[FB_IP_LEN], name[FB_NAME_LEN];
	struct script_ctx x;
	struct fb_buf out = {0};
	struct in_addr pa = peer_addr(c);
	int version = 0;
	mac_parse(rt->mac, mac);
	ip4_format(pa, peer);
	script_ctx_of(b, c, &x, server);
	const char *why = "";
	if (!ident_requester_is(b, pa, mac, &why)) {
		log_warnx("refused the parameters of %s to %s: not that machine (%s)", rt->mac,
		          peer, why);
		return send_msg(c, 403, "forbidden: these parameters belong to another machine");
	}
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_machine *mp = cache_machine(b->st.cache, mac);
	const struct bootd_image *ip = NULL;
	if (mp && fb_image_ref_parse(mp->image, name, &version) == 0)
		ip = cache_image(b->st.cache, name, version);
	if (!mp || !ip) {
		pthread_rwlock_unlock(&b->st.lock);
		return send_msg(c, 404, mp ? "no image set for this machine" : "unknown machine");
	}
	struct bootd_machine m = *mp;
	struct bootd_image img = *ip;
	pthread_rwlock_unlock(&b->st.lock);
	script_params(&out, &x, &m, &img);
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
	char peer[FB_IP_LEN], detail[160], cred[FB_SECRET_LEN + 1];
	struct in_addr pa = peer_addr(c);
	ip4_format(pa, peer);
	mac_parse(rt->mac, mac);
	pthread_rwlock_rdlock(&b->st.lock);
	int known = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (!known)
		return send_msg(c, 404, "unknown machine");
	const char *why = "";
	if (!ident_requester_is(b, pa, mac, &why)) {
		/* Logged, not recorded as an event: anyone on the LAN can ask,
		 * and must not be able to flood a machine's event list. */
		log_warnx("refused the credential of %s to %s: not that machine (%s)", rt->mac,
		          peer, why);
		return send_msg(c, 403, "forbidden: this credential belongs to another machine");
	}
	if (!b->cred_db)
		return send_msg(c, 503, "no database");
	int rc = boot_credential_issue(b, rt->mac, peer, "credential", cred);
	if (rc == -EALREADY)
		return send_msg(c, 403, "forbidden: this boot's credential was already handed out");
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
	char peer[FB_IP_LEN], detail[160];
	struct in_addr pa = peer_addr(c);
	ip4_format(pa, peer);
	mac_parse(rt->mac, mac);
	const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
	const char *root_hash = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "root_hash");
	const char *cred =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Fleetboot-Credential");
	if (!name || !http_stage_name_ok(name))
		return send_msg(c, 400, "name: expected a stage name ([a-z0-9-], 1-23 chars)");
	/* Verified-boot evidence (db/evidence.c): bootd alone says it handed
	 * out a UKI, and a `verified` report names the root hash it used. */
	if (!strcmp(name, "uki-served"))
		return send_msg(c, 403, "forbidden: uki-served is recorded by bootd, not reported");
	if (!strcmp(name, "verified") && !http_root_hash_ok(root_hash))
		return send_msg(c, 400,
		                "root_hash: expected the dm-verity root hash (64 lower-case hex "
		                "digits) with stage verified");
	pthread_rwlock_rdlock(&b->st.lock);
	int found = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (!found)
		return send_msg(c, 404, "unknown machine");
	/* The machine itself, or whoever holds this boot's credential (never
	 * the long-lived secret, which stays on the server). */
	const char *why = "";
	int ok = ident_requester_is(b, pa, mac, &why);
	if (!ok)
		ok = credential_ok(b, rt->mac, cred);
	if (!ok) {
		log_warnx(
		    "refused stage %s for %s from %s: not that machine (%s) and no credential",
		    name, rt->mac, peer, why);
		return send_msg(c, 403,
		                "forbidden: not that machine (send this boot's credential)");
	}
	if (!strcmp(name, "verified"))
		snprintf(detail, sizeof(detail), "from=%s root_hash=%s", peer, root_hash);
	else
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
	char macid[FB_MACID_LEN], detail[200];
	if (rt->head || MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range"))
		return; /* only a whole download marks the stage */
	if (!strcmp(rt->file, "rootfs.verity"))
		return; /* the initramfs's fetch; its root-attached report follows */
	if (ident_requester_mac(b, peer_addr(c), mac) < 0)
		return;
	pthread_rwlock_rdlock(&b->st.lock);
	int known = cache_machine(b->st.cache, mac) != NULL;
	pthread_rwlock_unlock(&b->st.lock);
	if (!known)
		return;
	if (rt->kind == R_IMAGE && !strcmp(rt->file, "boot.efi")) {
		/* The signed UKI, whole, to the machine: the uki-served
		 * evidence (db/evidence.c), with the sha256 bootd serves. */
		pthread_rwlock_rdlock(&b->st.lock);
		const struct bootd_image *im = cache_image(b->st.cache, rt->name, rt->version);
		if (im && im->has_uki)
			snprintf(detail, sizeof(detail), "image=%s@%d sha256=%s via=http", im->name,
			         im->version, im->uki_sha256);
		pthread_rwlock_unlock(&b->st.lock);
		if (im && im->has_uki)
			writer_event(b->wr, mac_format(mac, macid), "uki-served", detail);
		return;
	}
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
	case R_PARAMS:
		return do_params(b, c, &rt);
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

/*
 * The same endpoints over HTTPS on https_port, with the server certificate
 * `fleetboot init` made (STATE/tls). A Secure Boot machine's initramfs
 * fetches its credential here, checking the server against the site CA it
 * carries, so a sniffer on the LAN never sees the credential and an
 * impostor cannot hand out one. Without a certificate (a tree from before
 * the CA) there is no HTTPS, and such machines cannot boot: logged.
 */
static void https_free(struct bootd *b)
{
	if (b->tls_key) {
		explicit_bzero(b->tls_key, strlen(b->tls_key));
		free(b->tls_key);
	}
	free(b->tls_crt);
	b->tls_key = b->tls_crt = NULL;
}

static void https_start(struct bootd *b, unsigned threads)
{
	char crt[FB_PATH_LEN + 32], key[FB_PATH_LEN + 32];
	size_t n;
	if (b->cfg.https_port <= 0)
		return;
	snprintf(crt, sizeof(crt), "%s/tls/server-cert.pem", b->cfg.state_dir);
	snprintf(key, sizeof(key), "%s/tls/server-key.pem", b->cfg.state_dir);
	if (fb_read_file(crt, &b->tls_crt, &n, 1 << 20) < 0 ||
	    fb_read_file(key, &b->tls_key, &n, 1 << 20) < 0) {
		log_warnx(
		    "no HTTPS: cannot read %s and its key (run 'fleetboot init'); Secure Boot "
		    "machines cannot fetch their credential",
		    crt);
		https_free(b);
		return;
	}
	b->mhd_tls = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_TLS,
	    (uint16_t)b->cfg.https_port, NULL, NULL, handler, b, MHD_OPTION_EXTERNAL_LOGGER,
	    mhd_log, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, b, MHD_OPTION_THREAD_POOL_SIZE,
	    threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)30, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_HTTPS_MEM_KEY, b->tls_key, MHD_OPTION_HTTPS_MEM_CERT, b->tls_crt,
	    MHD_OPTION_END);
	if (!b->mhd_tls) {
		log_warnx("cannot start the HTTPS server on port %d", b->cfg.https_port);
		https_free(b);
	} else {
		log_info("HTTPS on port %d (certificate %s)", b->cfg.https_port, crt);
	}
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
	https_start(b, threads);
	return 0;
}

void http_stop(struct bootd *b)
{
	if (b->mhd_tls)
		MHD_stop_daemon(b->mhd_tls);
	b->mhd_tls = NULL;
	https_free(b);
	if (b->mhd)
		MHD_stop_daemon(b->mhd);
	b->mhd = NULL;
	fb_db_close(b->cred_db);
	b->cred_db = NULL;
}
