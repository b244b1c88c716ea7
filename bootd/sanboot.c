/*
 * sanboot.c - the script of a machine assigned a whole-disk image: iPXE
 * sanboot of the machine's own iSCSI target, whose disk carries its own
 * boot loader (Windows, a Linux with GRUB or extlinux, anything).
 *
 * With a kernel image the initramfs fetches this boot's credential itself,
 * once, and nothing on the machine keeps it. A whole disk has no fleetboot
 * initramfs: iPXE must log in with CHAP itself, and the booted OS logs in
 * again with its own initiator from what iPXE leaves it in the iBFT (the
 * ACPI iSCSI Boot Firmware Table: target, LUN, CHAP name and secret). So
 * the script carries the credential (`set username` / `set password`).
 * That is acceptable because the script goes only to the requester that
 * is the machine (requester_is, as every machine script), the credential
 * is this boot's alone (handed out here, once, refused from the next boot
 * on), and the OS needs it in the iBFT anyway. Asking for the script a
 * second time in the same boot is refused like a second credential
 * request (takeover-suspected): the credential went out already.
 *
 * The machine's boot counter moves with its PXE DHCP, which the event
 * writer commits within 100 ms; the script may be asked for sooner, so the
 * queued events are committed first (writer_sync), and the credential is
 * then the one of this boot, not of the last.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bootd.h"
#include "buf.h"
#include "log.h"

void script_sanboot(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                    const struct bootd_image *img, const char *cred)
{
	/* iscsi:SERVER:PROTOCOL:PORT:LUN:IQN (protocol empty = TCP). --keep
	 * leaves the disk registered (and its iBFT in place) should the boot
	 * loader return to iPXE. */
	fb_buf_printf(out,
	              "#!ipxe\n"
	              "echo fleetboot: %s sanboot of disk %s@%d (%s) over iSCSI\n"
	              "set username %s\n"
	              "set password %s\n"
	              "sanboot --keep iscsi:%s::%d:0:iqn.2026-11.org.fleetboot:%s || goto failed\n"
	              "exit\n"
	              ":failed\n"
	              "clear password\n"
	              "echo fleetboot: the sanboot of %s@%d failed; the next boot tries again\n"
	              "sleep 10\n"
	              "exit\n",
	              m->macid, img->name, img->version, fb_mode_name(m->mode), m->macid, cred,
	              x->server, x->iscsi_port, m->macid, img->name, img->version);
}

int machine_script(struct bootd *b, const struct script_ctx *x, const struct bootd_machine *m,
                   const struct bootd_image *img, const char *peer, struct fb_buf *out)
{
	char cred[FB_SECRET_LEN], detail[160];

	if (!img->disk) {
		script_machine(out, x, m, img);
		return 0;
	}
	if (m->mode == FB_MODE_READONLY || m->mode == FB_MODE_INSTALL) {
		/* Refused when set (db/images.c); the image may have become a
		 * disk since, by a new version of its name. */
		log_warnx("%s: %s@%d is a whole-disk image, which mode %s cannot serve", m->macid,
		          img->name, img->version, fb_mode_name(m->mode));
		fb_buf_printf(out,
		              "#!ipxe\n"
		              "echo fleetboot: %s: %s@%d is a whole disk; mode %s cannot serve it "
		              "(persistent or ephemeral only)\n"
		              "sleep 10\n"
		              "exit\n",
		              m->macid, img->name, img->version, fb_mode_name(m->mode));
		return 0;
	}
	if (!b->cred_db) {
		fb_buf_printf(out, "no database");
		return 503;
	}
	int rc = boot_credential_issue(b, m->macid, peer, "sanboot script", cred);
	if (rc == -EALREADY) {
		fb_buf_printf(out, "forbidden: this boot's credential was already handed out");
		return 403;
	}
	if (rc < 0) {
		fb_buf_printf(out, "cannot issue a credential now");
		return 503;
	}
	snprintf(detail, sizeof(detail), "in the sanboot script to %s", peer);
	writer_event(b->wr, m->macid, "credential", detail);
	script_sanboot(out, x, m, img, cred);
	memset(cred, 0, sizeof(cred));
	return 0;
}
