/*
 * config.c - fleetboot.conf parser. One table lists every key with its
 * section and a setter; the setter validates the value and stores it, so
 * adding a key is one line in the table and one small function.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "locate.h"
#include "str.h"

typedef int (*setter_fn)(struct fb_config *c, const char *v, char *why, size_t whylen);

struct key {
	const char *section;
	const char *name;
	setter_fn set;
};

static int parse_int(const char *v, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -1)

static int set_state_dir(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	if (v[0] != '/')
		return WHY("must be an absolute path");
	if (fb_strlcpy(c->state_dir, v, sizeof(c->state_dir)) >= sizeof(c->state_dir))
		return WHY("path too long");
	return 0;
}

static int set_server_address(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	struct in_addr a;
	if (ip4_parse(v, &a) < 0)
		return WHY("'%s' is not an IPv4 address", v);
	ip4_format(a, c->server_address);
	return 0;
}

/* Strip white space at both ends of t (in place). */
static char *trim_in_place(char *t)
{
	while (isspace((unsigned char)*t))
		t++;
	char *e = t + strlen(t);
	while (e > t && isspace((unsigned char)e[-1]))
		*--e = 0;
	return t;
}

static int set_interface(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	char tmp[512];
	if (fb_strlcpy(tmp, v, sizeof(tmp)) >= sizeof(tmp))
		return WHY("list too long");
	c->n_interfaces = 0;
	char *save = NULL;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		char *e = t + strlen(t);
		while (e > t && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (!*t)
			return WHY("empty interface name");
		if (strlen(t) >= IF_NAMESIZE || strpbrk(t, "/ \t"))
			return WHY("'%s' is not a valid interface name", t);
		if (c->n_interfaces == FB_MAX_IFACES)
			return WHY("more than %d interfaces", FB_MAX_IFACES);
		for (int i = 0; i < c->n_interfaces; i++)
			if (!strcmp(c->interfaces[i], t))
				return WHY("'%s' named twice", t);
		fb_strlcpy(c->interfaces[c->n_interfaces++], t, IF_NAMESIZE);
	}
	if (!c->n_interfaces)
		return WHY("no interface named");
	return 0;
}

static int set_dhcp(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	if (!strcmp(v, "proxy"))
		c->dhcp = FB_DHCP_PROXY;
	else if (!strcmp(v, "authoritative"))
		c->dhcp = FB_DHCP_AUTHORITATIVE;
	else if (!strcmp(v, "off"))
		c->dhcp = FB_DHCP_OFF;
	else
		return WHY("'%s' is not one of proxy, authoritative, off", v);
	return 0;
}

static int set_pool(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	if (ip4_range_parse(v, &c->pool_first, &c->pool_last) < 0)
		return WHY("'%s' is not FIRST-LAST with FIRST <= LAST", v);
	return 0;
}

static int set_netmask(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	struct in_addr a;
	if (ip4_parse(v, &a) < 0)
		return WHY("'%s' is not an IPv4 netmask", v);
	uint32_t m = ip4_host(a);
	if (m == 0 || (~m & (~m + 1)) != 0)
		return WHY("'%s' is not a contiguous netmask", v);
	c->netmask = a;
	return 0;
}

static int set_addr(struct in_addr *dst, const char *v, char *why, size_t whylen)
{
	if (ip4_parse(v, dst) < 0)
		return WHY("'%s' is not an IPv4 address", v);
	return 0;
}

static int set_router(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_addr(&c->router, v, why, whylen);
}

static int set_dns(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_addr(&c->dns, v, why, whylen);
}

static int set_lease_time(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_int(v, 60, 365L * 86400, &n) < 0)
		return WHY("'%s' is not a number of seconds from 60 to 31536000", v);
	c->lease_time = (uint32_t)n;
	return 0;
}

static int set_tftp(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	if (parse_bool(v, &c->tftp) < 0)
		return WHY("'%s' is not on or off", v);
	return 0;
}

static int set_port(int *dst, const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_int(v, 1, 65535, &n) < 0)
		return WHY("'%s' is not a port from 1 to 65535", v);
	*dst = (int)n;
	return 0;
}

static int set_http_port(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_port(&c->http_port, v, why, whylen);
}

static int set_https_port(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_port(&c->https_port, v, why, whylen);
}

static int set_unknown(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	c->unknown_image[0] = 0;
	if (!strcmp(v, "register")) {
		c->unknown_machines = FB_UNKNOWN_REGISTER;
	} else if (!strcmp(v, "ignore")) {
		c->unknown_machines = FB_UNKNOWN_IGNORE;
	} else if (!strncmp(v, "boot:", 5) && v[5]) {
		if (fb_strlcpy(c->unknown_image, v + 5, sizeof(c->unknown_image)) >=
		    sizeof(c->unknown_image))
			return WHY("image reference too long");
		c->unknown_machines = FB_UNKNOWN_BOOT;
	} else {
		return WHY("'%s' is not one of register, ignore, boot:IMAGE", v);
	}
	return 0;
}

static int set_menu_timeout(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_int(v, 0, 3600, &n) < 0)
		return WHY("'%s' is not a number of seconds from 0 to 3600", v);
	c->menu_timeout = (int)n;
	return 0;
}

static int set_menu_shell(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	if (parse_bool(v, &c->menu_shell) < 0)
		return WHY("'%s' is not on or off", v);
	return 0;
}

static int set_busy_poll(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_int(v, 0, 10000, &n) < 0)
		return WHY("'%s' is not a number of microseconds from 0 to 10000", v);
	c->busy_poll = (int)n;
	return 0;
}

static int set_relays(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	char tmp[512];
	if (fb_strlcpy(tmp, v, sizeof(tmp)) >= sizeof(tmp))
		return WHY("list too long");
	c->n_relays = 0;
	char *save = NULL;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		t = trim_in_place(t);
		struct in_addr a;
		if (ip4_parse(t, &a) < 0 || !a.s_addr || a.s_addr == INADDR_BROADCAST)
			return WHY("'%s' is not a relay's IPv4 address", t);
		if (c->n_relays == FB_MAX_RELAYS)
			return WHY("more than %d relays", FB_MAX_RELAYS);
		for (int i = 0; i < c->n_relays; i++)
			if (c->relays[i].s_addr == a.s_addr)
				return WHY("'%s' named twice", t);
		c->relays[c->n_relays++] = a;
	}
	if (!c->n_relays)
		return WHY("no relay named");
	return 0;
}

static int set_register_per_minute(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_int(v, 1, 100000, &n) < 0)
		return WHY("'%s' is not a number from 1 to 100000", v);
	c->register_per_minute = (int)n;
	return 0;
}

static int set_register_max(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_int(v, 1, 1000000, &n) < 0)
		return WHY("'%s' is not a number from 1 to 1000000", v);
	c->register_max = (int)n;
	return 0;
}

static int set_menu_default(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	/* "local", or NAME / NAME@VERSION (checked against the images at boot). */
	size_t n = strlen(v);
	if (n >= sizeof(c->menu_default))
		return WHY("value too long");
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && !strchr("._-@", v[i]))
			return WHY("'%s' is not local or an image reference (NAME or NAME@VERSION)",
			           v);
	memcpy(c->menu_default, v, n + 1);
	return 0;
}

static int set_nbd_port(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_port(&c->nbd_port, v, why, whylen);
}

static int set_iscsi_port(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_port(&c->iscsi_port, v, why, whylen);
}

static int set_require_lease_ip(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	if (parse_bool(v, &c->require_lease_ip) < 0)
		return WHY("'%s' is not on or off", v);
	return 0;
}

/* A connection cap: 1 to 65535. */
static int set_cap(unsigned *out, const char *v, char *why, size_t whylen)
{
	long n;
	if (parse_int(v, 1, 65535, &n) < 0)
		return WHY("'%s' is not a number of connections from 1 to 65535", v);
	*out = (unsigned)n;
	return 0;
}

static int set_iscsi_prelogin_per_address(struct fb_config *c, const char *v, char *why,
                                          size_t whylen)
{
	return set_cap(&c->iscsi_prelogin_per_address, v, why, whylen);
}

static int set_iscsi_prelogin_max(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_cap(&c->iscsi_prelogin_max, v, why, whylen);
}

static int set_nbd_conns_per_machine(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	return set_cap(&c->nbd_conns_per_machine, v, why, whylen);
}

static int set_listen(struct fb_config *c, const char *v, char *why, size_t whylen)
{
	char host[64];
	int port;
	struct in_addr a;
	if (hostport_parse(v, host, sizeof(host), &port) < 0)
		return WHY("'%s' is not ADDRESS:PORT", v);
	if (!host[0])
		strcpy(host, "127.0.0.1");
	if (ip4_parse(host, &a) < 0)
		return WHY("'%s' is not an IPv4 address", host);
	fb_strlcpy(c->web_host, host, sizeof(c->web_host));
	c->web_port = port;
	return 0;
}

static const struct key keys[] = {
    {"global", "state_dir", set_state_dir},
    {"global", "server_address", set_server_address},
    {"bootd", "interface", set_interface},
    {"bootd", "dhcp", set_dhcp},
    {"bootd", "pool", set_pool},
    {"bootd", "netmask", set_netmask},
    {"bootd", "router", set_router},
    {"bootd", "dns", set_dns},
    {"bootd", "lease_time", set_lease_time},
    {"bootd", "tftp", set_tftp},
    {"bootd", "http_port", set_http_port},
    {"bootd", "https_port", set_https_port},
    {"bootd", "unknown_machines", set_unknown},
    {"bootd", "menu_timeout", set_menu_timeout},
    {"bootd", "menu_default", set_menu_default},
    {"bootd", "menu_shell", set_menu_shell},
    {"bootd", "busy_poll", set_busy_poll},
    {"bootd", "relays", set_relays},
    {"bootd", "register_per_minute", set_register_per_minute},
    {"bootd", "register_max", set_register_max},
    {"storaged", "nbd_port", set_nbd_port},
    {"storaged", "iscsi_port", set_iscsi_port},
    {"storaged", "require_lease_ip", set_require_lease_ip},
    {"storaged", "iscsi_prelogin_per_address", set_iscsi_prelogin_per_address},
    {"storaged", "iscsi_prelogin_max", set_iscsi_prelogin_max},
    {"storaged", "nbd_conns_per_machine", set_nbd_conns_per_machine},
    {"web", "listen", set_listen},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void fb_config_defaults(struct fb_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->state_dir, "/var/lib/fleetboot");
	c->dhcp = FB_DHCP_PROXY;
	c->netmask.s_addr = htonl(0xffffff00);
	c->lease_time = 3600;
	c->tftp = 1;
	c->http_port = 8067;
	c->https_port = 8068;
	c->unknown_machines = FB_UNKNOWN_REGISTER;
	c->menu_timeout = 5;
	strcpy(c->menu_default, "local");
	c->busy_poll = 50;
	c->register_per_minute = 60;
	c->register_max = 1000;
	c->nbd_port = 10809;
	c->iscsi_port = 3260;
	c->require_lease_ip = 1;
	c->iscsi_prelogin_per_address = 8;
	c->iscsi_prelogin_max = 256;
	c->nbd_conns_per_machine = 8;
	strcpy(c->web_host, "127.0.0.1");
	c->web_port = 8080;
}

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Where parsing is, for messages ("NAME:LINE: ..."). */
struct parse_at {
	const char *name; /* file name */
	int lineno;       /* 1-based */
	char *err;        /* message buffer */
	size_t errlen;
};

/* "[section]" (s is trimmed, starts with '['): a section some key names
 * becomes the current one. 0 or -1 with the message in at->err. */
static int section_line(char *s, char section[32], const struct parse_at *at)
{
	char *e = strchr(s, ']');
	if (!e || e[1]) {
		errf(at->err, at->errlen, "%s:%d: malformed section header", at->name, at->lineno);
		return -1;
	}
	*e = 0;
	char *sec = trim(s + 1);
	int known = 0;
	for (size_t i = 0; i < NKEYS; i++)
		known |= !strcmp(keys[i].section, sec);
	if (!known) {
		errf(at->err, at->errlen, "%s:%d: unknown section [%.32s]", at->name, at->lineno,
		     sec);
		return -1;
	}
	fb_strlcpy(section, sec, 32);
	return 0;
}

/* "key = value" (s is trimmed) in section: a known key, set once, to a
 * value its setter takes; seen[] records the line each key was set on. 0 or
 * -1 with the message in at->err. */
static int key_line(struct fb_config *c, char *s, const char *section, int seen[NKEYS],
                    const struct parse_at *at)
{
	const char *name = at->name;
	int lineno = at->lineno;
	char *eq = strchr(s, '=');
	if (!eq) {
		errf(at->err, at->errlen, "%s:%d: expected 'key = value'", name, lineno);
		return -1;
	}
	*eq = 0;
	char *key = trim(s), *val = trim(eq + 1);
	if (!section[0]) {
		errf(at->err, at->errlen, "%s:%d: %.64s: key outside any [section]", name, lineno,
		     key);
		return -1;
	}
	size_t k;
	for (k = 0; k < NKEYS; k++)
		if (!strcmp(keys[k].section, section) && !strcmp(keys[k].name, key))
			break;
	if (k == NKEYS) {
		errf(at->err, at->errlen, "%s:%d: %.64s: unknown key in [%s]", name, lineno, key,
		     section);
		return -1;
	}
	if (seen[k]) {
		errf(at->err, at->errlen, "%s:%d: %s: already set on line %d", name, lineno, key,
		     seen[k]);
		return -1;
	}
	seen[k] = lineno;
	if (!*val) {
		errf(at->err, at->errlen, "%s:%d: %s: empty value", name, lineno, key);
		return -1;
	}
	char why[256];
	if (keys[k].set(c, val, why, sizeof(why)) < 0) {
		errf(at->err, at->errlen, "%s:%d: %s: %s", name, lineno, key, why);
		return -1;
	}
	return 0;
}

int fb_config_parse(struct fb_config *c, const char *name, const char *text, char *err,
                    size_t errlen)
{
	char section[32] = "";
	int seen[NKEYS] = {0};
	const char *p = text;
	struct parse_at at = {.name = name, .lineno = 0, .err = err, .errlen = errlen};

	while (*p) {
		char line[1024];
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		at.lineno++;
		if (n >= sizeof(line)) {
			errf(err, errlen, "%s:%d: line too long", name, at.lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		if (memchr(line, 0, n)) {
			errf(err, errlen, "%s:%d: NUL byte in line", name, at.lineno);
			return -1;
		}
		/* Comments: a line starting with ; or #, or " ;" / " #" after a value. */
		for (char *q = line; *q; q++) {
			if ((*q == ';' || *q == '#') &&
			    (q == line || isspace((unsigned char)q[-1]))) {
				*q = 0;
				break;
			}
		}
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[' ? section_line(s, section, &at) : key_line(c, s, section, seen, &at))
			return -1;
	}
	if (c->dhcp == FB_DHCP_AUTHORITATIVE && !c->pool_first) {
		errf(err, errlen, "%s: pool: required when dhcp = authoritative", name);
		return -1;
	}
	return 0;
}

int fb_config_load(struct fb_config *c, const char *path, int must_exist, char *err, size_t errlen)
{
	char *text = NULL;
	fb_config_defaults(c);
	if (!path)
		path = fb_default_conf();
	if (fb_read_file(path, &text, NULL, 1 << 20) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	fb_strlcpy(c->path, path, sizeof(c->path));
	int rc = fb_config_parse(c, path, text, err, errlen);
	free(text);
	return rc;
}

void fb_config_print(const struct fb_config *c, FILE *out)
{
	static const char *dhcp[] = {"proxy", "authoritative", "off"};
	char a[FB_IP_LEN], b[FB_IP_LEN];

	fprintf(out, "[global]\nstate_dir = %s\n", c->state_dir);
	if (c->server_address[0])
		fprintf(out, "server_address = %s\n", c->server_address);
	fprintf(out, "\n[bootd]\n");
	if (c->n_interfaces) {
		fprintf(out, "interface = ");
		for (int i = 0; i < c->n_interfaces; i++)
			fprintf(out, "%s%s", i ? "," : "", c->interfaces[i]);
		fprintf(out, "\n");
	}
	fprintf(out, "dhcp = %s\n", dhcp[c->dhcp]);
	if (c->pool_first)
		fprintf(out, "pool = %s-%s\n", ip4_format(ip4_from_host(c->pool_first), a),
		        ip4_format(ip4_from_host(c->pool_last), b));
	fprintf(out, "netmask = %s\n", ip4_format(c->netmask, a));
	if (c->router.s_addr)
		fprintf(out, "router = %s\n", ip4_format(c->router, a));
	if (c->dns.s_addr)
		fprintf(out, "dns = %s\n", ip4_format(c->dns, a));
	fprintf(out, "lease_time = %u\ntftp = %s\nhttp_port = %d\nhttps_port = %d\n", c->lease_time,
	        c->tftp ? "on" : "off", c->http_port, c->https_port);
	if (c->unknown_machines == FB_UNKNOWN_BOOT)
		fprintf(out, "unknown_machines = boot:%s\n", c->unknown_image);
	else
		fprintf(out, "unknown_machines = %s\n",
		        c->unknown_machines == FB_UNKNOWN_REGISTER ? "register" : "ignore");
	fprintf(out, "menu_timeout = %d\nmenu_default = %s\nmenu_shell = %s\nbusy_poll = %d\n",
	        c->menu_timeout, c->menu_default, c->menu_shell ? "on" : "off", c->busy_poll);
	if (c->n_relays) {
		fprintf(out, "relays = ");
		for (int i = 0; i < c->n_relays; i++)
			fprintf(out, "%s%s", i ? ", " : "", ip4_format(c->relays[i], a));
		fprintf(out, "\n");
	}
	fprintf(out, "register_per_minute = %d\nregister_max = %d\n", c->register_per_minute,
	        c->register_max);
	fprintf(out, "\n[storaged]\nnbd_port = %d\niscsi_port = %d\nrequire_lease_ip = %s\n",
	        c->nbd_port, c->iscsi_port, c->require_lease_ip ? "on" : "off");
	fprintf(out,
	        "iscsi_prelogin_per_address = %u\niscsi_prelogin_max = %u\n"
	        "nbd_conns_per_machine = %u\n",
	        c->iscsi_prelogin_per_address, c->iscsi_prelogin_max, c->nbd_conns_per_machine);
	fprintf(out, "\n[web]\nlisten = %s:%d\n", c->web_host, c->web_port);
}

void fb_config_path(const struct fb_config *c, const char *leaf, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", c->state_dir, leaf);
}
