/*
 * storm_http.c - the HTTP a booting machine makes: iPXE's GETs of
 * /boot.ipxe, its own script, the kernel and the initrd; the initramfs's
 * GET of this boot's credential and its stage reports (POST). One
 * connection per request (Connection: close), from the machine's address
 * on its interface, so bootd's neighbour check sees the machine's MAC.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "storm.h"

#define CHUNK (64 * 1024)

/* http://HOST:PORT/PATH -> host address, port, path. 0 or -1. */
static int url_split(const char *url, struct in_addr *ip, int *port, const char **path,
                     char host[64])
{
	const char *h = url + 7, *slash, *colon;
	if (strncmp(url, "http://", 7) || !(slash = strchr(h, '/')))
		return -1;
	colon = memchr(h, ':', (size_t)(slash - h));
	size_t hl = (size_t)((colon ? colon : slash) - h);
	if (hl >= 64)
		return -1;
	memcpy(host, h, hl);
	host[hl] = 0;
	*port = colon ? atoi(colon + 1) : 80;
	*path = slash;
	return inet_pton(AF_INET, host, ip) == 1 ? 0 : -1;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int storm_http(struct machine *m, const char *method, const char *url, const char *post, char *body,
               size_t cap)
{
	struct in_addr ip;
	int port, fd = -1, status = -1;
	const char *path;
	char host[64];
	if (url_split(url, &ip, &port, &path, host) < 0)
		return storm_fail(m, "bad URL %s", url);
	char *buf = malloc(CHUNK + 1);
	if (!buf)
		return storm_fail(m, "out of memory");
	for (int attempt = 0; fd < 0; attempt++) {
		fd = storm_connect(m, ip, port);
		if (fd >= 0)
			break;
		if (attempt + 1 >= m->cfg->tries)
			goto out; /* storm_connect said why */
		m->retries++;
		usleep(1000u * (unsigned)m->cfg->timeout_ms);
	}
	int n = post
	            ? snprintf(buf, CHUNK,
	                       "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: fleetboot-storm\r\n"
	                       "Connection: close\r\nContent-Type: "
	                       "application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
	                       method, path, host, port, strlen(post), post)
	            : snprintf(buf, CHUNK,
	                       "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: fleetboot-storm\r\n"
	                       "Connection: close\r\n\r\n",
	                       method, path, host, port);
	if (n < 0 || n >= CHUNK || send_all(fd, buf, (size_t)n) < 0) {
		storm_fail(m, "HTTP send %s: %s", url, strerror(errno));
		goto out;
	}
	m->bytes[PR_HTTP] += (uint64_t)n;
	/* Headers, then the body up to Content-Length or the close. */
	size_t have = 0, hdr = 0;
	long long clen = -1, got = 0;
	size_t kept = 0;
	for (;;) {
		ssize_t k = recv(fd, buf + have, CHUNK - have, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			storm_fail(m, "HTTP %s: %s", url, strerror(errno));
			goto out;
		}
		m->bytes[PR_HTTP] += (uint64_t)k;
		have += (size_t)k;
		size_t from = 0;
		if (!hdr) {
			buf[have] = 0;
			char *end = strstr(buf, "\r\n\r\n");
			if (!end) {
				if (k == 0 || have == CHUNK) {
					storm_fail(m, "HTTP %s: no response header", url);
					goto out;
				}
				continue;
			}
			hdr = (size_t)(end - buf) + 4;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
				storm_fail(m, "HTTP %s: bad status line", url);
				goto out;
			}
			for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
				if (!strncasecmp(l + 2, "Content-Length:", 15))
					clen = atoll(l + 17);
			from = hdr;
		} else if (k == 0) {
			break;
		}
		size_t len = have - from;
		if (body && kept + 1 < cap) {
			size_t c = len < cap - 1 - kept ? len : cap - 1 - kept;
			memcpy(body + kept, buf + from, c);
			kept += c;
		}
		got += (long long)len;
		have = 0;
		if (k == 0 || (clen >= 0 && got >= clen))
			break;
	}
	if (body)
		body[kept] = 0;
	if (clen >= 0 && got < clen) {
		storm_fail(m, "HTTP %s: %lld of %lld bytes", url, got, clen);
		status = -1;
	} else if (status < 200 || status > 299) {
		storm_fail(m, "HTTP %s: status %d", url, status);
		status = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return status;
}

/* The first whitespace-separated word of s that starts with prefix, into out. */
static int word(const char *s, const char *prefix, char *out, size_t cap)
{
	const char *p = strstr(s, prefix);
	if (!p)
		return -1;
	size_t n = strcspn(p, " \t\r\n");
	if (n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

/* /boot.ipxe chains the machine's script, ${netX/mac:hexhyp} filled in as
 * iPXE does; the machine's script names the kernel, the initrd, the root
 * and the report URL (on the kernel line, where the initramfs reads them). */
int storm_boot_scripts(struct machine *m)
{
	char s[4096], url[256];
	if (storm_http(m, "GET", m->script_url, NULL, s, sizeof(s)) < 0)
		return -1;
	const char *c = strstr(s, "chain ");
	if (!c || word(c + 6, "http://", url, sizeof(url)) < 0)
		return storm_fail(m, "/boot.ipxe chains nothing");
	char *v = strstr(url, "${");
	char *e = v ? strchr(v, '}') : NULL;
	if (v && e) {
		char tail[256];
		snprintf(tail, sizeof(tail), "%s", e + 1);
		snprintf(v, sizeof(url) - (size_t)(v - url), "%s%s", m->macid, tail);
	}
	if (storm_http(m, "GET", url, NULL, s, sizeof(s)) < 0)
		return -1;
	const char *k = strstr(s, "\nkernel "), *i = strstr(s, "\ninitrd ");
	char root[128];
	if (!k || !i || word(k, "http://", m->kernel_url, sizeof(m->kernel_url)) < 0 ||
	    word(i, "http://", m->initrd_url, sizeof(m->initrd_url)) < 0 ||
	    word(k, "fleetboot.report=", url, sizeof(url)) < 0 ||
	    word(k, "fleetboot.root=", root, sizeof(root)) < 0)
		return storm_fail(m, "the machine script has no kernel, initrd, root or report");
	snprintf(m->report_url, sizeof(m->report_url), "%s", url + 17);
	char *h = root + 15, *colon;
	if (strncmp(h, "nbd:", 4) || !(colon = strchr(h + 4, ':')))
		return storm_fail(m, "root %s: only nbd:HOST:PORT is replayed", root);
	*colon = 0;
	snprintf(m->root_host, sizeof(m->root_host), "%s", h + 4);
	m->root_port = atoi(colon + 1);
	return 0;
}
