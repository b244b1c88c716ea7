/*
 * tftp_virtual.c - TFTP files that bootd makes or maps instead of finding
 * them in the TFTP root, for PXELINUX (pxelinux.c):
 *
 *   pxelinux.cfg/01-MAC            the machine's config, made now from the
 *                                  cache (and its next boot, taken now)
 *   images/NAME/V/vmlinuz|initrd.img    an image version's files
 *   entries/NAME/kernel|initrd     a kernel entry's files
 *
 * A config goes only to the requester that is the machine (identity.c),
 * as an iPXE script does; anyone else gets an access violation and a log
 * line (not an event: anyone on the LAN could flood a machine's events).
 * Every other pxelinux.cfg/ name (PXELINUX tries its UUID, its address in
 * hex and "default" too) is "file not found" at once, without a log line.
 * Kernels and initrds are public, as over HTTP: their names go through the
 * same strict shape check as HTTP paths (http_route: image names, decimal
 * versions, a fixed set of file names) and map to a file of an image or
 * entry the cache knows, so no name can reach outside the state tree.
 *
 * The config is written to a memfd that the transfer reads like any file.
 * Taking a next boot is a database transaction on the main loop; it
 * happens only for a machine that has a next boot, once or twice a boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bootd.h"
#include "bootd/http_route.h"
#include "daemon.h"
#include "buf.h"
#include "log.h"
#include "logsafe.h"
#include "proto/tftp.h"
#include "str.h"

/* The bytes of out in a sealed memory file: an fd, or -1. */
static int memfile(const struct fb_buf *out)
{
	int fd = memfd_create("pxelinux.cfg", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t at = 0;
	while (at < out->len) {
		ssize_t n = write(fd, out->data + at, out->len - at);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		at += (size_t)n;
	}
	return fd;
}

static int config(struct bootd *b, const char *name, struct in_addr peer, struct in_addr local,
                  const char **why)
{
	uint8_t mac[6];
	char pa[FB_IP_LEN], server[FB_IP_LEN], detail[FB_REF_LEN + 40];
	if (strncmp(name, "01-", 3) || mac_parse(name + 3, mac) < 0 || name[5] != '-') {
		*why = "file not found";
		return -FB_TFTP_ENOTFOUND;
	}
	ip4_format(peer, pa);
	const char *w = "";
	if (!ident_requester_is(b, peer, mac, &w)) {
		char macid[FB_MACID_LEN];
		log_warnx("refused the PXELINUX config of %s to %s: not that machine (%s)",
		          mac_format(mac, macid), pa, w);
		*why = "access violation: this config belongs to another machine";
		return -FB_TFTP_EACCESS;
	}
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_machine *mp = cache_machine(b->st.cache, mac);
	struct bootd_machine m;
	if (mp)
		m = *mp;
	pthread_rwlock_unlock(&b->st.lock);
	if (!mp) {
		*why = "file not found";
		return -FB_TFTP_ENOTFOUND;
	}
	struct script_ctx x = {
	    .server = server,
	    .http_port = b->cfg.http_port,
	    .nbd_port = b->cfg.nbd_port,
	    .iscsi_port = b->cfg.iscsi_port,
	    .menu_timeout = b->cfg.menu_timeout,
	    .menu_default = b->cfg.menu_default,
	};
	if (b->cfg.server_address[0])
		fb_strlcpy(server, b->cfg.server_address, sizeof(server));
	else
		ip4_format(local, server);
	struct next_boot nb;
	next_boot_take(b, &m, pxelinux_entry_ok, &nb);
	struct fb_buf out = {0};
	pthread_rwlock_rdlock(&b->st.lock);
	int rc = pxelinux_config(&out, &x, &m, b->st.cache, &nb);
	char name_ver[FB_REF_LEN + 16] = "";
	char iname[FB_NAME_LEN];
	int iver = 0;
	const struct bootd_image *im = NULL;
	if (rc == 0 && m.image[0] && strcmp(m.image, "menu") &&
	    fb_image_ref_parse(m.image, iname, &iver) == 0)
		im = cache_image(b->st.cache, iname, iver);
	if (im)
		snprintf(name_ver, sizeof(name_ver), "%s@%d", im->name, im->version);
	pthread_rwlock_unlock(&b->st.lock);
	if (rc < 0) {
		char esc[FB_LOG_ESCAPE_LEN];
		log_warnx("%s: image %s is not available (PXELINUX config)", m.macid,
		          fb_log_escape(m.image, esc, sizeof(esc)));
		fb_buf_free(&out);
		*why = "file not found: the machine's image is not available";
		return -FB_TFTP_ENOTFOUND;
	}
	int fd = out.failed ? -1 : memfile(&out);
	fb_buf_free(&out);
	if (fd < 0) {
		log_warn("%s: cannot make its PXELINUX config", m.macid);
		*why = "server out of resources";
		return -FB_TFTP_EUNDEF;
	}
	if (nb.kind != NEXT_NONE) {
		next_boot_served(b, &m, &nb, "pxelinux");
		return fd;
	}
	state_mark_script_served(&b->st, m.mac);
	if (m.installed)
		snprintf(detail, sizeof(detail), "local-disk (installed) pxelinux");
	else if (name_ver[0])
		snprintf(detail, sizeof(detail), "image=%s pxelinux", name_ver);
	else
		snprintf(detail, sizeof(detail), "menu pxelinux");
	writer_event(b->wr, m.macid, "ipxe-script", detail);
	return fd;
}

/* An image's or a kernel entry's file, and its boot event (kernel,
 * initrd) when the requester is a known machine. A machine set to the menu
 * that fetches an image's kernel has chosen that image in its PXELINUX
 * menu: recorded as its script's choice ("image=REF"), which is what
 * storaged reads to serve it that image's disk (as after iPXE's menu). */
static int file(struct bootd *b, const char *name, struct in_addr peer, const char **why)
{
	char url[300], path[PATH_MAX + 2 * FB_NAME_LEN], detail[160];
	struct route rt;
	const char *w = "";
	int n = snprintf(url, sizeof(url), "/%s", name);
	if (n < 0 || (size_t)n >= sizeof(url) || http_route("GET", url, &rt, &w) ||
	    (rt.kind != R_IMAGE && rt.kind != R_ENTRY)) {
		*why = "file not found";
		return -FB_TFTP_ENOTFOUND;
	}
	int found = 0;
	pthread_rwlock_rdlock(&b->st.lock);
	if (rt.kind == R_IMAGE) {
		const struct bootd_image *im = cache_image(b->st.cache, rt.name, rt.version);
		if (im) {
			found = 1;
			snprintf(path, sizeof(path), "%s/%s", im->dir, rt.file);
		}
	} else {
		const struct bootd_entry *e = cache_entry(b->st.cache, rt.name);
		if (e && pxelinux_entry_ok(e) &&
		    (!strcmp(rt.file, "kernel") || (!strcmp(rt.file, "initrd") && e->has_initrd))) {
			found = 1;
			snprintf(path, sizeof(path), "%s/entries/%s/%s", b->cfg.state_dir, rt.name,
			         rt.file);
		}
	}
	pthread_rwlock_unlock(&b->st.lock);
	if (!found) {
		*why = "file not found";
		return -FB_TFTP_ENOTFOUND;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM) {
			fb_log_unreadable(path, errno);
			*why = tftp_why_unreadable;
			return -FB_TFTP_EACCESS;
		}
		log_warn("%s", path);
		*why = "file not found";
		return -FB_TFTP_ENOTFOUND;
	}
	uint8_t mac[6];
	char macid[FB_MACID_LEN];
	if (ident_requester_mac(b, peer, mac) < 0)
		return fd;
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_machine *m = cache_machine(b->st.cache, mac);
	int known = m != NULL, menu = m && (!m->image[0] || !strcmp(m->image, "menu"));
	pthread_rwlock_unlock(&b->st.lock);
	if (!known)
		return fd;
	mac_format(mac, macid);
	int kernel = !strcmp(rt.file, "vmlinuz") || !strcmp(rt.file, "kernel");
	if (rt.kind == R_ENTRY)
		snprintf(detail, sizeof(detail), "entry=%s file=%s via=tftp", rt.name, rt.file);
	else
		snprintf(detail, sizeof(detail), "image=%s@%d via=tftp", rt.name, rt.version);
	if (menu && kernel && rt.kind == R_IMAGE) {
		char choice[FB_REF_LEN + 40];
		snprintf(choice, sizeof(choice), "image=%s@%d pxelinux-menu", rt.name, rt.version);
		writer_event(b->wr, macid, "ipxe-script", choice);
	}
	writer_event(b->wr, macid, kernel ? "kernel" : "initrd", detail);
	return fd;
}

int tftp_virtual_open(struct bootd *b, const char *name, struct in_addr peer, struct in_addr local,
                      const char **why)
{
	char p[256];
	size_t n = strlen(name);
	if (n >= sizeof(p))
		return TFTP_NOT_VIRTUAL;
	for (size_t i = 0; i <= n; i++)
		p[i] = name[i] == '\\' ? '/' : name[i];
	const char *rel = p;
	while (*rel == '/')
		rel++;
	int virt = !strncmp(rel, "pxelinux.cfg/", 13) || !strncmp(rel, "images/", 7) ||
	           !strncmp(rel, "entries/", 8);
	if (!virt)
		return TFTP_NOT_VIRTUAL;
	/* '..' anywhere is refused as in the TFTP root (tftp_path.c). */
	for (const char *c = rel; (c = strstr(c, "..")); c += 2)
		if ((c == rel || c[-1] == '/') && (c[2] == '/' || !c[2])) {
			*why = "'..' is not allowed";
			return -FB_TFTP_EACCESS;
		}
	if (!strncmp(rel, "pxelinux.cfg/", 13))
		return config(b, rel + 13, peer, local, why);
	if (!strncmp(rel, "images/", 7) || !strncmp(rel, "entries/", 8))
		return file(b, rel, peer, why);
	return TFTP_NOT_VIRTUAL; /* not reached */
}
