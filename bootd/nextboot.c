/*
 * nextboot.c - a machine's next boot (once), for iPXE scripts (http.c) and
 * PXELINUX configs (tftp_virtual.c) alike.
 *
 * The decision is made in the database when the script or config is made
 * (db/entries.c, fb_db_next_boot_take): the first one that uses it marks it
 * with the boot's number and records a next-boot event; a retry of the same
 * boot (iPXE or PXELINUX asking again before a new DHCP boot) gets the same
 * answer; the first one of a later boot clears it and is the normal one. A
 * later boot is either a new boot number in the database or, sooner than
 * the event writer's commit, a PXE DHCP seen since this machine's last
 * script (bootd_client.script_served).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bootd.h"
#include "log.h"
#include "logsafe.h"

void next_boot_take(struct bootd *b, const struct bootd_machine *m,
                    int (*ok)(const struct bootd_entry *e), struct next_boot *nb)
{
	char name[FB_NAME_LEN], esc[FB_LOG_ESCAPE_LEN];
	int version = 0;
	memset(nb, 0, sizeof(*nb));
	if (!m->next_boot[0] || !b->cred_db)
		return;
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_client *cl = client_get(&b->st, m->mac, 0);
	int new_boot = !cl || !cl->script_served;
	/* An entry this loader cannot boot is left for a boot that can. */
	const struct bootd_entry *pe = ok ? cache_entry(b->st.cache, m->next_boot) : NULL;
	int refused = pe && !ok(pe);
	pthread_rwlock_unlock(&b->st.lock);
	if (refused) {
		log_warnx("%s: its next boot %s cannot be booted by this loader; the normal boot "
		          "instead (the next boot is kept)",
		          m->macid, fb_log_escape(m->next_boot, esc, sizeof(esc)));
		return;
	}
	pthread_mutex_lock(&b->cred_lock);
	int rc = fb_db_next_boot_take(b->cred_db, m->macid, new_boot, nb->item, &nb->first);
	if (rc < 0 && rc != -ENOENT)
		log_warnx("%s: cannot read its next boot: %s", m->macid, fb_db_errmsg(b->cred_db));
	pthread_mutex_unlock(&b->cred_lock);
	if (rc < 0)
		return;
	pthread_rwlock_rdlock(&b->st.lock);
	const struct bootd_entry *e = cache_entry(b->st.cache, nb->item);
	const struct bootd_image *ip = NULL;
	if (!e && fb_image_ref_parse(nb->item, name, &version) == 0)
		ip = cache_image(b->st.cache, name, version);
	if (!strcmp(nb->item, "local")) {
		nb->kind = NEXT_LOCAL;
	} else if (e && (!ok || ok(e))) {
		nb->kind = NEXT_ENTRY;
		nb->entry = *e;
	} else if (ip && ip->ready) {
		nb->kind = NEXT_IMAGE;
		nb->image = *ip;
	}
	pthread_rwlock_unlock(&b->st.lock);
	if (nb->kind == NEXT_NONE)
		log_warnx("%s: its next boot %s is not available; the normal boot instead",
		          m->macid, fb_log_escape(nb->item, esc, sizeof(esc)));
}

void next_boot_served(struct bootd *b, const struct bootd_machine *m, const struct next_boot *nb,
                      const char *via)
{
	char detail[FB_REF_LEN + 40];
	state_mark_script_served(&b->st, m->mac);
	snprintf(detail, sizeof(detail), "%s, once", nb->item);
	if (nb->first)
		writer_event(b->wr, m->macid, "next-boot", detail);
	snprintf(detail, sizeof(detail), "next-boot=%s%s%s", nb->item, via[0] ? " " : "", via);
	writer_event(b->wr, m->macid, "ipxe-script", detail);
}
