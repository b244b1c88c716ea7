/* cmd_machine.c - `fleetboot machine add|list|show|set|rm|credential` (and wake,
 * in cmd_wake.c). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "cow/cow.h"
#include "secret.h"
#include "size.h"
#include "str.h"

static int run_machine(struct cli_ctx *ctx, int argc, char **argv);

static struct cli_cmd cmd_machine = {
    .name = "machine",
    .usage = "  machine add MAC [--name HOST] [--image REF|menu] [--mode "
             "persistent|ephemeral|readonly|install]\n"
             "              [--protocol nbd|iscsi] [--ip ADDR] [--group G]\n"
             "  machine list [--json] | show MAC [--json] | rm MAC\n"
             "  machine set MAC [--name ..] [--image ..] [--mode ..] [--protocol ..] [--ip ..] "
             "[--group ..] [--rotate-secret]\n"
             "              [--loader ipxe|pxelinux] [--secure-boot on|off]\n"
             "              (--mode/--protocol/--loader/--secure-boot inherit, --image '': "
             "take the group's)\n"
             "  machine set MAC --next-boot ENTRY|IMAGE-REF|local|none   (once, then back to "
             "normal)\n"
             "  machine credential MAC   (a boot credential by hand; starts a new boot)\n"
             "  machine wake MAC... | --group G   (Wake-on-LAN: bootd sends the magic packets)\n",
    .run = run_machine,
};
CLI_COMMAND(cmd_machine)

json_t *cli_machine_json(const struct fb_machine *m, int full);

json_t *cli_machine_json(const struct fb_machine *m, int full)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "mac", m->mac,
	                      "name", m->name, "image", m->image, "mode", fb_mode_name(m->mode),
	                      "protocol", fb_protocol_name(m->protocol), "ip", m->ip, "group",
	                      m->group, "stage", m->stage, "last_seen", (json_int_t)m->last_seen);
	if (j)
		json_object_set_new(j, "next_boot", json_string(m->next_boot));
	if (j) {
		json_object_set_new(j, "loader", json_string(m->loader[0] ? m->loader : "ipxe"));
		json_object_set_new(j, "secure_boot",
		                    json_string(m->secure_boot[0] ? m->secure_boot : "off"));
		/* Where each effective setting came from: machine, group or default. */
		json_object_set_new(j, "from",
		                    json_pack("{s:s, s:s, s:s, s:s, s:s}", "image",
		                              fb_origin_name(m->from.image), "mode",
		                              fb_origin_name(m->from.mode), "protocol",
		                              fb_origin_name(m->from.protocol), "loader",
		                              fb_origin_name(m->from.loader), "secure_boot",
		                              fb_origin_name(m->from.secure_boot)));
	}
	if (j && full) {
		json_object_set_new(j, "secret", json_string(m->secret));
		json_object_set_new(j, "created", json_integer(m->created));
		json_object_set_new(j, "registered", json_boolean(m->registered));
	}
	return j;
}

/* --next-boot: an entry, a ready image ref, "local", or "none" (clears).
 * The item to store into out ("" for none), or CLI_ERR said. */
static int check_next_boot(struct cli_ctx *ctx, const char *v, char out[FB_REF_LEN])
{
	struct fb_entry e;
	struct fb_image img;
	char name[FB_NAME_LEN];
	int ver;
	if (strlen(v) >= FB_REF_LEN)
		return cli_error("--next-boot: value too long");
	if (!strcmp(v, "none") || !strcmp(v, "local")) {
		fb_strlcpy(out, strcmp(v, "none") ? v : "", FB_REF_LEN);
		return 0;
	}
	if (fb_db_entry_get(ctx->db, v, &e) == 0) {
		fb_strlcpy(out, v, FB_REF_LEN);
		return 0;
	}
	if (fb_image_ref_parse(v, name, &ver) < 0)
		return cli_error(
		    "--next-boot: '%s' is not an entry, NAME, NAME@VERSION, local or none", v);
	if (fb_db_image_resolve(ctx->db, v, &img) < 0)
		return cli_error("--next-boot: no entry or ready image named %s", v);
	if (strcmp(img.state, "ready"))
		return cli_error("--next-boot: %s@%d is retired", img.name, img.version);
	fb_strlcpy(out, v, FB_REF_LEN);
	return 0;
}

static int check_image(struct cli_ctx *ctx, const char *ref)
{
	struct fb_image img;
	if (!ref[0] || !strcmp(ref, "menu"))
		return 0;
	if (fb_db_image_resolve(ctx->db, ref, &img) < 0)
		return cli_error("--image: %s", fb_db_errmsg(ctx->db));
	if (!strcmp(img.state, "retired"))
		return cli_error("--image: %s@%d is retired", img.name, img.version);
	return 0;
}

/* Apply the shared options to m; fields given as "" are cleared. The mode
 * and the protocol stay text until fb_machine_validate_text, so a bad one is
 * reported in the same order as any other field. */
static int apply_opts(struct cli_ctx *ctx, struct cli_opt *o, size_t no, struct fb_machine *m)
{
	char mode[FB_MODE_TEXT_LEN], protocol[FB_PROTOCOL_TEXT_LEN];
	struct {
		const char *opt;
		char *field;
		size_t len;
	} map[] = {{"name", m->name, sizeof(m->name)},
	           {"image", m->image, sizeof(m->image)},
	           {"mode", mode, sizeof(mode)},
	           {"protocol", protocol, sizeof(protocol)},
	           {"ip", m->ip, sizeof(m->ip)},
	           {"group", m->group, sizeof(m->group)},
	           {"loader", m->loader, sizeof(m->loader)},
	           {"secure-boot", m->secure_boot, sizeof(m->secure_boot)}};
	/* Where a given setting comes from now: the machine's own, or, for
	 * "inherit" (or "" for the image), its group's (else the default). */
	struct {
		const char *opt;
		enum fb_origin *from;
	} origin[] = {{"image", &m->from.image},
	              {"mode", &m->from.mode},
	              {"protocol", &m->from.protocol},
	              {"loader", &m->from.loader},
	              {"secure-boot", &m->from.secure_boot}};
	int inherit_mode = 0, inherit_protocol = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = cli_optval(o, no, map[i].opt);
		if (!v)
			continue;
		/* "inherit" is a word, not a value: it fits no field's length. */
		int word = strcmp(map[i].opt, "image") && !strcmp(v, "inherit");
		if (!word && strlen(v) >= map[i].len)
			return cli_error("--%s: value too long", map[i].opt);
		fb_strlcpy(map[i].field, word ? "" : v, map[i].len);
		for (size_t k = 0; k < sizeof(origin) / sizeof(origin[0]); k++) {
			if (strcmp(origin[k].opt, map[i].opt))
				continue;
			int inherit = !v[0] || word;
			*origin[k].from = inherit ? FB_FROM_INHERIT : FB_FROM_MACHINE;
			inherit_mode |= inherit && map[i].field == mode;
			inherit_protocol |= inherit && map[i].field == protocol;
		}
	}
	char why[256];
	if (fb_machine_validate_text(m, cli_optval(o, no, "mode") && !inherit_mode ? mode : NULL,
	                             cli_optval(o, no, "protocol") && !inherit_protocol ? protocol
	                                                                                : NULL,
	                             why, sizeof(why)) < 0)
		return cli_error("--%s", why);
	return check_image(ctx, m->image);
}

#define MACHINE_OPTS                                                                               \
	{"name", 1, NULL}, {"image", 1, NULL}, {"mode", 1, NULL}, {"protocol", 1, NULL},           \
	    {"ip", 1, NULL}, {"group", 1, NULL}, {"loader", 1, NULL},                              \
	{                                                                                          \
		"secure-boot", 1, NULL                                                             \
	}

static int get_machine(struct cli_ctx *ctx, const char *mac, struct fb_machine *m)
{
	char id[FB_MACID_LEN];
	if (macid_normalize(mac, id) < 0)
		return cli_error("'%s' is not a MAC address (use 52:54:00:12:34:56)", mac);
	if (!cli_db(ctx))
		return CLI_ERR;
	if (fb_db_machine_get(ctx->db, id, m) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	return 0;
}

static int do_add(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {MACHINE_OPTS};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[1];
	int npos, rc;
	struct fb_machine m = {0};

	if ((rc = cli_parse(&cmd_machine, argc, argv, o, no, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_machine, "machine add needs a MAC");
	if (macid_normalize(pos[0], m.mac) < 0)
		return cli_error("'%s' is not a MAC address (use 52:54:00:12:34:56)", pos[0]);
	m.mode = FB_MODE_PERSISTENT;
	m.protocol = FB_PROTOCOL_NBD;
	if (!cli_db(ctx))
		return CLI_ERR;
	if ((rc = apply_opts(ctx, o, no, &m)))
		return rc;
	if ((rc = fb_db_machine_add(ctx->db, &m)) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	/* Say what it runs: its group's settings where it has none of its own. */
	if (fb_db_machine_get(ctx->db, m.mac, &m) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	printf("added %s%s%s (%s, %s, image %s)\n", m.mac, m.name[0] ? " " : "", m.name,
	       fb_mode_name(m.mode), fb_protocol_name(m.protocol),
	       m.image[0] ? m.image : "unassigned");
	return CLI_OK;
}

/* The table shows the address in use (the reservation, else the lease),
 * so the list callback needs the database. */
struct machine_list {
	struct cli_list l;
	struct fb_db *db;
};

static void age_text(int64_t t, char *buf, size_t len)
{
	if (!t) {
		fb_strlcpy(buf, "never", len);
		return;
	}
	int64_t d = fb_now() - t;
	if (d < 0)
		d = 0;
	if (d < 120)
		snprintf(buf, len, "%llds ago", (long long)d);
	else if (d < 7200)
		snprintf(buf, len, "%lldm ago", (long long)(d / 60));
	else if (d < 172800)
		snprintf(buf, len, "%lldh ago", (long long)(d / 3600));
	else
		snprintf(buf, len, "%lldd ago", (long long)(d / 86400));
}

static int list_cb(void *arg, const struct fb_machine *m)
{
	struct machine_list *a = arg;
	if (a->l.arr) {
		/* As GET /api/v1/machines: each machine with its evidence. */
		struct fb_evidence ev;
		if (fb_db_evidence_get(a->db, m, &ev) < 0)
			return -1;
		json_t *j = cli_machine_json(m, 0);
		json_object_set_new(j, "verified_boot", fb_evidence_json(&ev));
		return cli_list_add(&a->l, j, NULL);
	}
	char seen[32];
	age_text(m->last_seen, seen, sizeof(seen));
	const char *ip = m->ip;
	struct fb_lease lease;
	if (!m->ip[0] && fb_db_lease_get(a->db, m->mac, &lease) == 0 && lease.expires > fb_now())
		ip = lease.ip;
	const char *cols[9] = {m->mac,
	                       m->name,
	                       m->image[0] ? m->image : (m->registered ? "(new)" : "(unassigned)"),
	                       fb_mode_name(m->mode),
	                       fb_protocol_name(m->protocol),
	                       ip,
	                       m->group,
	                       m->stage,
	                       seen};
	return cli_list_add(&a->l, NULL, cols);
}

static int do_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	if ((rc = cli_parse(&cmd_machine, argc, argv, o, 1, pos, 0, &npos)))
		return rc;
	if (!cli_db(ctx))
		return CLI_ERR;
	struct machine_list a = {.db = ctx->db};
	cli_list_begin(&a.l, o[0].val != NULL, 9);
	rc = fb_db_machine_list(ctx->db, list_cb, &a);
	static const char *const hdr[] = {"MAC", "NAME",  "IMAGE", "MODE",     "PROTO",
	                                  "IP",  "GROUP", "STAGE", "LAST SEEN"};
	int end = cli_list_end(&a.l, hdr, rc >= 0);
	return rc < 0 ? cli_error("%s", fb_db_errmsg(ctx->db)) : end;
}

/* " (from group G)", " (default)", or "" for the machine's own. */
static const char *from_text(const struct fb_machine *m, enum fb_origin from, char *buf, size_t len)
{
	if (from == FB_FROM_GROUP)
		snprintf(buf, len, " (from group %s)", m->group);
	else if (from == FB_FROM_DEFAULT)
		snprintf(buf, len, " (default)");
	else
		buf[0] = 0;
	return buf;
}

static int do_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {{"json", 0, NULL}};
	char *pos[1];
	int npos, rc;
	struct fb_machine m;
	if ((rc = cli_parse(&cmd_machine, argc, argv, o, 1, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_machine, "machine show needs a MAC");
	if ((rc = get_machine(ctx, pos[0], &m)))
		return rc;
	struct fb_overlay ov;
	struct fb_lease lease;
	int has_ov = fb_db_overlay_get(ctx->db, m.mac, &ov) == 0;
	int has_lease = fb_db_lease_get(ctx->db, m.mac, &lease) == 0;
	/* Verified-boot evidence of the current boot (db/evidence.c). */
	struct fb_evidence ev;
	if ((rc = fb_db_evidence_get(ctx->db, &m, &ev)) < 0)
		return cli_error("verified boot: %s", fb_db_errmsg(ctx->db));
	if (o[0].val) {
		json_t *j = cli_machine_json(&m, 1);
		json_object_set_new(j, "verified_boot", fb_evidence_json(&ev));
		if (has_ov)
			json_object_set_new(j, "overlay",
			                    json_pack("{s:s, s:I, s:b}", "path", ov.path, "bytes",
			                              (json_int_t)ov.bytes, "reset_pending",
			                              ov.reset_pending));
		if (has_lease)
			json_object_set_new(j, "lease",
			                    json_pack("{s:s, s:I}", "ip", lease.ip, "expires",
			                              (json_int_t)lease.expires));
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
		return CLI_OK;
	}
	char seen[32], sz[32], f_img[96], f_mode[96], f_proto[96], f_loader[96], f_sb[96];
	age_text(m.last_seen, seen, sizeof(seen));
	printf("machine:  %s\nname:     %s\nimage:    %s%s\n", m.mac, m.name,
	       m.image[0] ? m.image : "(unassigned)",
	       from_text(&m, m.from.image, f_img, sizeof(f_img)));
	if (m.next_boot[0])
		printf("Next boot: %s, once%s\n", m.next_boot,
		       m.next_boot_seq ? " (its script went out; the boot after is the normal one)"
		                       : "");
	printf("mode:     %s%s\nprotocol: %s%s\n"
	       "ip:       %s\ngroup:    %s\nstage:    %s (%s)\nsecret:   %s\n",
	       fb_mode_name(m.mode), from_text(&m, m.from.mode, f_mode, sizeof(f_mode)),
	       fb_protocol_name(m.protocol),
	       from_text(&m, m.from.protocol, f_proto, sizeof(f_proto)),
	       m.ip[0] ? m.ip : "(from the pool)", m.group, m.stage[0] ? m.stage : "-", seen,
	       m.secret);
	printf("loader:   %s%s\nsecure boot: %s%s\n", m.loader[0] ? m.loader : "ipxe",
	       from_text(&m, m.from.loader, f_loader, sizeof(f_loader)),
	       m.secure_boot[0] ? m.secure_boot : "off",
	       from_text(&m, m.from.secure_boot, f_sb, sizeof(f_sb)));
	/* A menu's default and timeout: the group's, else [bootd]'s. */
	if (m.menu_default[0])
		printf("menu default: %s (from group %s)\n", m.menu_default, m.group);
	if (m.menu_timeout >= 0)
		printf("menu timeout: %d s (from group %s)\n", m.menu_timeout, m.group);
	printf("verified boot: %s - %s\n", ev.state, ev.why);
	if (has_lease)
		printf("lease:    %s\n", lease.ip);
	if (has_ov)
		printf("overlay:  %s (%s%s)\n", ov.path,
		       fb_format_size((uint64_t)ov.bytes, sz, sizeof(sz)),
		       ov.reset_pending ? ", reset pending" : "");
	return CLI_OK;
}

static int do_set(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_opt o[] = {MACHINE_OPTS, {"rotate-secret", 0, NULL}, {"next-boot", 1, NULL}};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[1];
	int npos, rc;
	struct fb_machine m;

	if ((rc = cli_parse(&cmd_machine, argc, argv, o, no, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_machine, "machine set needs a MAC");
	int any = 0;
	for (size_t i = 0; i < no; i++)
		any |= o[i].val != NULL;
	if (!any)
		return cli_usage(&cmd_machine, "machine set needs at least one option");
	if ((rc = get_machine(ctx, pos[0], &m)))
		return rc;
	if ((rc = apply_opts(ctx, o, no, &m)))
		return rc;
	const char *next = cli_optval(o, no, "next-boot");
	char next_item[FB_REF_LEN];
	if (next && (rc = check_next_boot(ctx, next, next_item)))
		return rc;
	if (cli_optval(o, no, "rotate-secret") && fb_random_hex(m.secret, 16) < 0)
		return cli_error("cannot make a secret: %s", strerror(errno));
	if (fb_db_machine_update(ctx->db, &m) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	if (next && fb_db_machine_set_next_boot(ctx->db, m.mac, next_item) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	/* Asking for install mode (again) re-arms it: bootd serves an
	 * installed machine its local disk until then. */
	if (cli_optval(o, no, "mode") && m.mode == FB_MODE_INSTALL &&
	    fb_db_event_add(ctx->db, m.mac, "install-pending", "requested by admin") < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	printf("updated %s\n", m.mac);
	return CLI_OK;
}

static int do_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	char *pos[1];
	int npos, rc;
	struct fb_machine m;
	if ((rc = cli_parse(&cmd_machine, argc, argv, NULL, 0, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_machine, "machine rm needs a MAC");
	if ((rc = get_machine(ctx, pos[0], &m)))
		return rc;
	struct fb_overlay ov;
	int has_ov = fb_db_overlay_get(ctx->db, m.mac, &ov) == 0;
	if (fb_db_machine_delete(ctx->db, m.mac) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	fb_db_lease_delete(ctx->db, m.mac);
	/* The overlay row went with the machine; its file goes too. */
	int drc = has_ov && ov.path[0] ? cow_ovl_discard(ov.path, -1) : 0;
	if (drc < 0)
		fprintf(stderr, "fleetboot: warning: %s: %s\n", ov.path, strerror(-drc));
	printf("removed %s\n", m.mac);
	return CLI_OK;
}

/*
 * `machine credential MAC`: issue a boot credential by hand, so a tool
 * (nbdinfo, iscsi-ls, the tests) can attach the machine's disk with it. It
 * starts a new boot, as a real boot would: the machine's previous
 * credential stops opening its disk, and an ephemeral overlay starts
 * afresh at the next attach.
 */
static int do_credential(struct cli_ctx *ctx, int argc, char **argv)
{
	char *pos[1], cred[FB_SECRET_LEN];
	int npos, rc;
	int64_t seq = 0;
	struct fb_machine m;
	if ((rc = cli_parse(&cmd_machine, argc, argv, NULL, 0, pos, 1, &npos)))
		return rc;
	if (npos != 1)
		return cli_usage(&cmd_machine, "machine credential needs a MAC");
	if ((rc = get_machine(ctx, pos[0], &m)))
		return rc;
	if (fb_db_credential_issue(ctx->db, m.mac, 1, "cli", cred, &seq) < 0)
		return cli_error("%s", fb_db_errmsg(ctx->db));
	char detail[64];
	snprintf(detail, sizeof(detail), "issued by hand (fleetboot machine credential), boot %lld",
	         (long long)seq);
	if (fb_db_event_add(ctx->db, m.mac, "credential", detail) < 0)
		fprintf(stderr, "fleetboot: warning: event not recorded: %s\n",
		        fb_db_errmsg(ctx->db));
	printf("%s\n", cred);
	memset(cred, 0, sizeof(cred));
	return CLI_OK;
}

static int do_wake(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_machine_wake(&cmd_machine, ctx, argc, argv);
}

static int run_machine(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", do_add},   {"list", do_list}, {"show", do_show},
	    {"set", do_set},   {"rm", do_rm},     {"credential", do_credential},
	    {"wake", do_wake},
	};
	return cli_dispatch(&cmd_machine, ctx, argc, argv, subs, sizeof(subs) / sizeof(subs[0]));
}
