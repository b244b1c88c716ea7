/*
 * script.c - the iPXE scripts bootd serves.
 *
 * The machine script names the initrd and passes it as initrd= on the
 * kernel line, which Debian's iPXE under UEFI needs (LAB.md) and BIOS
 * accepts too. Menu choices chain /boot/MAC.ipxe?image=REF: HTTP honours
 * that query only for a machine set to the menu, only for a ready image,
 * and only for the requester that is that machine, so a menu cannot be
 * used to boot a machine pinned to one image into another.
 *
 * Boot entries (installers, tools) are listed after the images; their
 * items boot them in place (kernel + initrd + boot, sanboot of an ISO,
 * chain of a UEFI program), since an entry's script holds nothing that is
 * the machine's own. Entry URLs, titles and command lines were checked
 * when they were added (db/entries.c) to hold no '$' (iPXE expands
 * ${...}), quote, backslash or line break.
 *
 * The menu's "iPXE shell" item is there only with [bootd] menu_shell = on:
 * at the shell, whoever sits at the console can fetch anything the machine
 * may fetch, so it is for labs where the console is trusted.
 */
#include <stdio.h>
#include <string.h>

#include "bootd.h"
#include "db/db.h"
#include "buf.h"

void script_generic(struct fb_buf *out, const struct script_ctx *x)
{
	/* netX is the interface iPXE just configured (the one booting). */
	fb_buf_printf(out,
	              "#!ipxe\n"
	              "chain http://%s:%d/boot/${netX/mac:hexhyp}.ipxe || goto failed\n"
	              "exit\n"
	              ":failed\n"
	              "echo fleetboot: the boot failed; trying again in 10 s\n"
	              "sleep 10\n"
	              "chain http://%s:%d/boot.ipxe\n",
	              x->server, x->http_port, x->server, x->http_port);
}

/* The machine's root device parameter. */
static void root_param(const struct script_ctx *x, const struct bootd_machine *m, char *root,
                       size_t len)
{
	if (m->protocol == FB_PROTOCOL_ISCSI)
		snprintf(root, len, "iscsi:%s:%d:iqn.2026-11.org.fleetboot:%s:0", x->server,
		         x->iscsi_port, m->macid);
	else
		snprintf(root, len, "nbd:%s:%d", x->server, x->nbd_port);
}

void script_params(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                   const struct bootd_image *img)
{
	char root[160];
	const char *mode = fb_mode_name(m->mode);
	root_param(x, m, root, sizeof(root));
	/* fleetboot.tls only locates bootd's HTTPS port: a verified initramfs
	 * uses TLS whatever these (unsigned) parameters say. */
	char tls[24] = "";
	if (m->secure_boot && x->https_port)
		snprintf(tls, sizeof(tls), " fleetboot.tls=%d", x->https_port);
	fb_buf_printf(out,
	              "fleetboot.server=%s fleetboot.machine=%s fleetboot.mode=%s "
	              "fleetboot.root=%s fleetboot.report=http://%s:%d/boot/%s/stage "
	              "fleetboot.image=%s@%d%s\n",
	              x->server, m->macid, mode, root, x->server, x->http_port, m->macid, img->name,
	              img->version, tls);
}

/* The image's own command line comes last, so it can override the defaults
 * (console= above all: the last console= is where userspace prints). */
void script_machine(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                    const struct bootd_image *img)
{
	char root[160];
	const char *mode = fb_mode_name(m->mode);
	root_param(x, m, root, sizeof(root));
	/* A Secure Boot machine's root is checked block by block against its
	 * version's dm-verity root hash (the same parameters its signed UKI
	 * carries; see script_params). */
	char verity[300] = "";
	if (m->secure_boot && img->verity_root_hash[0])
		snprintf(verity, sizeof(verity),
		         " fleetboot.image=%s@%d fleetboot.verity=%s fleetboot.verity_salt=%s",
		         img->name, img->version, img->verity_root_hash, img->verity_salt);
	/* No secret and no credential here: every user of the booted machine
	 * can read /proc/cmdline. The initramfs fetches this boot's credential
	 * from /boot/MACID/credential, beside the report URL; a Secure Boot
	 * machine over bootd's HTTPS port (fleetboot.tls=PORT), checking the
	 * server against the site CA pinned in its initramfs, which also
	 * reaches storaged over TLS then. */
	if (m->secure_boot && x->https_port) {
		size_t n = strlen(verity);
		snprintf(verity + n, sizeof(verity) - n, " fleetboot.tls=%d", x->https_port);
	}
	fb_buf_printf(
	    out,
	    "#!ipxe\n"
	    "echo fleetboot: %s booting %s@%d (%s)\n"
	    "kernel http://%s:%d/images/%s/%d/vmlinuz initrd=initrd.img ip=dhcp "
	    "fleetboot.server=%s fleetboot.machine=%s fleetboot.mode=%s "
	    "fleetboot.root=%s "
	    "fleetboot.report=http://%s:%d/boot/%s/stage%s console=ttyS0 console=tty0%s%s\n"
	    "initrd --name initrd.img http://%s:%d/images/%s/%d/initrd.img\n"
	    "boot\n",
	    m->macid, img->name, img->version, mode, x->server, x->http_port, img->name,
	    img->version, x->server, m->macid, mode, root, x->server, x->http_port, m->macid,
	    verity, img->cmdline[0] ? " " : "", img->cmdline, x->server, x->http_port, img->name,
	    img->version);
}

/* Where the client fetches one of an entry's files. */
static void entry_url(struct fb_buf *out, const struct script_ctx *x, const struct bootd_entry *e,
                      const char *url, const char *leaf)
{
	if (url[0])
		fb_buf_printf(out, "%s", url);
	else
		fb_buf_printf(out, "http://%s:%d/entries/%s/%s", x->server, x->http_port, e->name,
		              leaf);
}

/* The commands that boot e (no header). */
static void entry_cmds(struct fb_buf *out, const struct script_ctx *x, const struct bootd_entry *e)
{
	const char *leaf = fb_entry_boot_file(e->kind);
	switch (e->kind) {
	case FB_ENTRY_KERNEL:
		fb_buf_printf(out, "kernel ");
		entry_url(out, x, e, e->boot_url, leaf);
		fb_buf_printf(out, "%s%s%s\n", e->has_initrd ? " initrd=initrd.img" : "",
		              e->cmdline[0] ? " " : "", e->cmdline);
		if (e->has_initrd) {
			fb_buf_printf(out, "initrd --name initrd.img ");
			entry_url(out, x, e, e->initrd_url, "initrd");
			fb_buf_printf(out, "\n");
		}
		fb_buf_printf(out, "boot\n");
		break;
	case FB_ENTRY_ISO:
		fb_buf_printf(out, "sanboot ");
		entry_url(out, x, e, e->boot_url, leaf);
		fb_buf_printf(out, "\n");
		break;
	case FB_ENTRY_EFI:
		fb_buf_printf(out, "chain ");
		entry_url(out, x, e, e->boot_url, leaf);
		fb_buf_printf(out, "\n");
		break;
	}
}

void script_entry(struct fb_buf *out, const struct script_ctx *x, const char *macid,
                  const struct bootd_entry *e)
{
	fb_buf_printf(out,
	              "#!ipxe\n"
	              "echo fleetboot: %s booting entry %s\n",
	              macid, e->name);
	entry_cmds(out, x, e);
}

void script_menu(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                 const struct bootd_cache *c)
{
	fb_buf_printf(out,
	              "#!ipxe\n"
	              "menu fleetboot: %s\n"
	              "item --gap Images:\n",
	              m->macid);
	/* The default: [bootd] menu_default, "local", an image ref (NAME is
	 * its newest ready version) or an entry. Anything unknown falls back
	 * to local. */
	char def[32] = "local", dname[FB_NAME_LEN];
	int dver = -1, newest = 0;
	if (x->menu_default && strcmp(x->menu_default, "local") &&
	    fb_image_ref_parse(x->menu_default, dname, &dver) < 0)
		dver = -1;
	int n = 0;
	for (size_t i = 0; c && i < c->n_images; i++) {
		const struct bootd_image *im = &c->images[i];
		if (!im->ready)
			continue;
		fb_buf_printf(out, "item img%zu %s@%d\n", i, im->name, im->version);
		if (dver >= 0 && !strcmp(im->name, dname) &&
		    (dver ? im->version == dver : im->version > newest)) {
			snprintf(def, sizeof(def), "img%zu", i);
			newest = im->version;
		}
		n++;
	}
	if (!n)
		fb_buf_printf(out, "item --gap (no images are ready)\n");
	if (c && c->n_entries)
		fb_buf_printf(out, "item --gap Installers and tools:\n");
	for (size_t i = 0; c && i < c->n_entries; i++) {
		const struct bootd_entry *e = &c->entries[i];
		fb_buf_printf(out, "item ent%zu %s\n", i, e->title[0] ? e->title : e->name);
		if (!newest && x->menu_default && !strcmp(x->menu_default, e->name))
			snprintf(def, sizeof(def), "ent%zu", i);
	}
	fb_buf_printf(out, "item --gap Other:\n"
	                   "item local Boot from the local disk\n");
	if (x->menu_shell)
		fb_buf_printf(out, "item shell iPXE shell\n");
	fb_buf_printf(out,
	              "choose --default %s --timeout %d target || goto local\n"
	              "goto ${target}\n",
	              def, x->menu_timeout * 1000);
	for (size_t i = 0; c && i < c->n_images; i++) {
		const struct bootd_image *im = &c->images[i];
		if (!im->ready)
			continue;
		fb_buf_printf(out, ":img%zu\nchain http://%s:%d/boot/%s.ipxe?image=%s@%d\n", i,
		              x->server, x->http_port, m->macid, im->name, im->version);
	}
	for (size_t i = 0; c && i < c->n_entries; i++) {
		fb_buf_printf(out, ":ent%zu\n", i);
		entry_cmds(out, x, &c->entries[i]);
		fb_buf_printf(out, "exit\n");
	}
	fb_buf_printf(out, ":local\n"
	                   "sanboot --no-describe --drive 0x80 || exit\n");
	if (x->menu_shell)
		fb_buf_printf(out, ":shell\n"
		                   "shell\n");
}

void script_wait(struct fb_buf *out, const struct script_ctx *x, const char *macid)
{
	/* A machine registered a moment ago: the cache catches up within a
	 * second, so try again shortly. */
	fb_buf_printf(out,
	              "#!ipxe\n"
	              "echo fleetboot: %s is being registered\n"
	              "sleep 2\n"
	              "chain http://%s:%d/boot/%s.ipxe\n",
	              macid, x->server, x->http_port, macid);
}

/* An install-mode machine whose image is on its disk boots that disk, so a
 * firmware that tries the network first does not re-image it in a loop. */
void script_local(struct fb_buf *out, const char *macid, const char *why)
{
	fb_buf_printf(out,
	              "#!ipxe\n"
	              "echo fleetboot: %s %s\n"
	              "sanboot --no-describe --drive 0x80 || exit\n",
	              macid, why);
}
