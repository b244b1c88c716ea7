/*
 * pxelinux.c - the PXELINUX config bootd makes for a machine set to
 * PXELINUX (machines.loader = pxelinux): what it serves as
 * pxelinux.cfg/01-MAC over TFTP, made from the in-memory cache when it is
 * asked for (tftp_virtual.c), never a file on disk.
 *
 * The menu is vesamenu.c32's: MENU TITLE, DEFAULT, TIMEOUT (tenths of a
 * second; 0 would wait for ever, so at least 1), one LABEL per bootable
 * item, and LABEL local with LOCALBOOT 0. Kernels and initrds come over
 * TFTP from bootd's virtual paths (images/NAME/V/..., entries/NAME/...);
 * an image's command line is the iPXE script's (script_cmdline), so the
 * initramfs fetches its credential over HTTP as it does after iPXE.
 *
 * What is listed follows the iPXE rules: a machine pinned to an image
 * gets that image only (a console user must not boot it into another
 * image), a machine set to the menu every ready image; both get the
 * kernel entries bootd serves itself (plain pxelinux.0 speaks TFTP only,
 * so an entry whose files are at a URL, an ISO or an EFI program is left
 * out). A next boot (once) is an extra LABEL next, the DEFAULT, with a one
 * second timeout. An installed install-mode machine boots its disk.
 */
#include <stdio.h>
#include <string.h>

#include "bootd.h"
#include "buf.h"

#define NEXT_TIMEOUT 10 /* tenths: a next boot goes ahead after one second */

int pxelinux_entry_ok(const struct bootd_entry *e)
{
	return e->kind == FB_ENTRY_KERNEL && !e->boot_url[0] &&
	       (!e->has_initrd || !e->initrd_url[0]);
}

static void label_image(struct fb_buf *out, const struct script_ctx *x,
                        const struct bootd_machine *m, const char *label, const char *title,
                        const struct bootd_image *im)
{
	fb_buf_printf(out,
	              "LABEL %s\n"
	              "  MENU LABEL %s\n"
	              "  KERNEL images/%s/%d/vmlinuz\n"
	              "  APPEND initrd=images/%s/%d/initrd.img ",
	              label, title, im->name, im->version, im->name, im->version);
	script_cmdline(out, x, m, im);
	fb_buf_printf(out, "\n");
}

static void label_entry(struct fb_buf *out, const char *label, const char *title,
                        const struct bootd_entry *e)
{
	fb_buf_printf(out,
	              "LABEL %s\n"
	              "  MENU LABEL %s\n"
	              "  KERNEL entries/%s/kernel\n",
	              label, title, e->name);
	if (!e->has_initrd && !e->cmdline[0])
		return;
	fb_buf_printf(out, "  APPEND");
	if (e->has_initrd)
		fb_buf_printf(out, " initrd=entries/%s/initrd", e->name);
	if (e->cmdline[0])
		fb_buf_printf(out, " %s", e->cmdline);
	fb_buf_printf(out, "\n");
}

static const char *entry_title(const struct bootd_entry *e)
{
	return e->title[0] ? e->title : e->name;
}

int pxelinux_config(struct fb_buf *out, const struct script_ctx *x, const struct bootd_machine *m,
                    const struct bootd_cache *c, const struct next_boot *nb)
{
	int menu = !m->image[0] || !strcmp(m->image, "menu");
	const struct bootd_image *pinned = NULL;
	char name[FB_NAME_LEN], title[FB_REF_LEN + 40];
	int version = 0;
	if (!menu && !m->installed) {
		if (fb_image_ref_parse(m->image, name, &version) == 0)
			pinned = cache_image(c, name, version);
		if (!pinned && nb->kind == NEXT_NONE)
			return -1;
	}
	/* The default: the next boot, else the machine's image, else (menu)
	 * [bootd] menu_default as the iPXE menu reads it; unknown: local. */
	char def[24] = "local", dname[FB_NAME_LEN];
	int dver = -1, newest = 0, timeout = x->menu_timeout * 10;
	if (nb->kind != NEXT_NONE) {
		snprintf(def, sizeof(def), "next");
		timeout = NEXT_TIMEOUT;
	} else if (m->installed) {
		timeout = 1;
	} else if (menu && x->menu_default && strcmp(x->menu_default, "local") &&
	           fb_image_ref_parse(x->menu_default, dname, &dver) < 0) {
		dver = -1;
	}
	if (timeout < 1)
		timeout = 1;

	struct fb_buf body = {0};
	if (nb->kind == NEXT_LOCAL) {
		fb_buf_printf(&body, "LABEL next\n"
		                     "  MENU LABEL Next boot, once: the local disk\n"
		                     "  LOCALBOOT 0\n");
	} else if (nb->kind == NEXT_ENTRY) {
		snprintf(title, sizeof(title), "Next boot, once: %s", entry_title(&nb->entry));
		label_entry(&body, "next", title, &nb->entry);
	} else if (nb->kind == NEXT_IMAGE && !nb->image.disk) {
		snprintf(title, sizeof(title), "Next boot, once: %s@%d", nb->image.name,
		         nb->image.version);
		label_image(&body, x, m, "next", title, &nb->image);
	}
	if (!m->installed || nb->kind != NEXT_NONE) {
		for (size_t i = 0; c && i < c->n_images; i++) {
			const struct bootd_image *im = &c->images[i];
			/* A whole disk boots by iPXE sanboot only: PXELINUX has none. */
			if ((menu ? !im->ready : im != pinned) || im->disk)
				continue;
			char label[24];
			snprintf(label, sizeof(label), "img%zu", i);
			snprintf(title, sizeof(title), "%s@%d", im->name, im->version);
			label_image(&body, x, m, label, title, im);
			if (im == pinned && nb->kind == NEXT_NONE)
				snprintf(def, sizeof(def), "%s", label);
			if (menu && nb->kind == NEXT_NONE && dver >= 0 &&
			    !strcmp(im->name, dname) &&
			    (dver ? im->version == dver : im->version > newest)) {
				snprintf(def, sizeof(def), "%s", label);
				newest = im->version;
			}
		}
		for (size_t i = 0; c && i < c->n_entries; i++) {
			const struct bootd_entry *e = &c->entries[i];
			if (!pxelinux_entry_ok(e))
				continue;
			char label[24];
			snprintf(label, sizeof(label), "ent%zu", i);
			label_entry(&body, label, entry_title(e), e);
			if (menu && nb->kind == NEXT_NONE && !newest && x->menu_default &&
			    !strcmp(x->menu_default, e->name))
				snprintf(def, sizeof(def), "%s", label);
		}
	}
	fb_buf_printf(&body, "LABEL local\n"
	                     "  MENU LABEL Boot from the local disk\n"
	                     "  LOCALBOOT 0\n");

	fb_buf_printf(out,
	              "# fleetboot: the PXELINUX config of %s, made for this boot\n"
	              "SERIAL 0 115200\n"
	              "UI vesamenu.c32\n"
	              "MENU TITLE fleetboot: %s\n"
	              "PROMPT 0\n"
	              "TIMEOUT %d\n"
	              "DEFAULT %s\n",
	              m->macid, m->macid, timeout, def);
	if (body.failed)
		out->failed = 1;
	else
		fb_buf_append(out, body.data, body.len);
	fb_buf_free(&body);
	return 0;
}
