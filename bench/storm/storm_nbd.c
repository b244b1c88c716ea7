/*
 * storm_nbd.c - the root disk: the initramfs's NBD attach with this boot's
 * credential (export MACID.CREDENTIAL), then the recorded block trace of a
 * real boot replayed on it with libnbd's asynchronous calls, keeping the
 * trace's dependencies and the client's own time between requests
 * (bench/traces/README.md). The connection stays open after the trace, as a
 * booted machine keeps its root, until the storm ends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storm.h"

int trace_load(struct trace *t, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[256];
	size_t cap = 0;
	memset(t, 0, sizeof(*t));
	while (fgets(line, sizeof(line), f)) {
		struct trace_req r;
		unsigned long long off;
		unsigned len, after, wait;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, " %c %llu %u %u %u", &r.op, &off, &len, &after, &wait) != 5 ||
		    !strchr("RWFTZ", r.op)) {
			fprintf(stderr, "storm: %s: bad line: %s", path, line);
			fclose(f);
			return -1;
		}
		r.off = off;
		r.len = len;
		r.after = after;
		r.wait_us = wait;
		if (t->n == cap) {
			cap = cap ? cap * 2 : 256;
			struct trace_req *n = realloc(t->req, cap * sizeof(*n));
			if (!n) {
				fclose(f);
				return -1;
			}
			t->req = n;
		}
		t->req[t->n++] = r;
		if (len > t->max_len)
			t->max_len = len;
	}
	fclose(f);
	return t->n ? 0 : -1;
}

int storm_nbd_attach(struct machine *m)
{
	struct in_addr ip;
	if (inet_pton(AF_INET, m->root_host, &ip) != 1)
		return storm_fail(m, "root host %s", m->root_host);
	int fd = storm_connect(m, ip, m->root_port);
	if (fd < 0)
		return -1;
	struct nbd_handle *h = nbd_create();
	char export[160];
	snprintf(export, sizeof(export), "%s.%s", m->macid, m->cred);
	if (!h || nbd_set_export_name(h, export) < 0 || nbd_connect_socket(h, fd) < 0) {
		storm_fail(m, "NBD attach: %s", h ? nbd_get_error() : "nbd_create");
		if (h)
			nbd_close(h);
		else
			close(fd);
		return -1;
	}
	m->nbd = h;
	return 0;
}

static int64_t issue(struct nbd_handle *h, const struct trace_req *r, void *buf)
{
	switch (r->op) {
	case 'R':
		return nbd_aio_pread(h, buf, r->len, r->off, NBD_NULL_COMPLETION, 0);
	case 'W':
		return nbd_aio_pwrite(h, buf, r->len, r->off, NBD_NULL_COMPLETION, 0);
	case 'F':
		return nbd_aio_flush(h, NBD_NULL_COMPLETION, 0);
	case 'T':
		if (nbd_can_trim(h) == 1)
			return nbd_aio_trim(h, r->len, r->off, NBD_NULL_COMPLETION, 0);
		return nbd_aio_flush(h, NBD_NULL_COMPLETION, 0); /* a no-op stand-in */
	default:                                                 /* Z */
		if (nbd_can_zero(h) == 1)
			return nbd_aio_zero(h, r->len, r->off, NBD_NULL_COMPLETION, 0);
		return nbd_aio_pwrite(h, buf, r->len, r->off, NBD_NULL_COMPLETION, 0);
	}
}

int storm_nbd_replay(struct machine *m)
{
	const struct trace *t = m->cfg->tr;
	struct nbd_handle *h = m->nbd;
	int rc = -1;
	uint64_t *done = calloc(t->n, sizeof(*done)); /* completion time, 0: not yet */
	int64_t *cookie = calloc(t->n, sizeof(*cookie));
	size_t *fly = calloc(t->n, sizeof(*fly)), nfly = 0, next = 0, finished = 0;
	void *buf = calloc(1, t->max_len ? t->max_len : 1);
	uint64_t last_sent = storm_now();
	if (!done || !cookie || !fly || !buf) {
		storm_fail(m, "out of memory");
		goto out;
	}
	while (finished < t->n) {
		int wait_ms = -1;
		if (next < t->n) {
			const struct trace_req *r = &t->req[next];
			size_t dep = r->after && r->after <= next ? next - r->after : (size_t)-1;
			if (dep == (size_t)-1 || done[dep]) {
				uint64_t base = last_sent, now = storm_now();
				if (dep != (size_t)-1 && done[dep] > base)
					base = done[dep];
				uint64_t due = base + (uint64_t)(r->wait_us * m->cfg->think);
				if (now >= due) {
					int64_t c = issue(h, r, buf);
					if (c < 0) {
						storm_fail(m, "NBD request %zu (%c %llu+%u): %s",
						           next, r->op, (unsigned long long)r->off,
						           r->len, nbd_get_error());
						goto out;
					}
					cookie[next] = c;
					fly[nfly++] = next++;
					last_sent = now;
					if (r->op == 'R' || r->op == 'W')
						m->bytes[PR_NBD] += r->len;
					continue;
				}
				wait_ms = (int)((due - now + 999) / 1000);
			}
		}
		if (nfly) {
			int pr = nbd_poll(h, wait_ms < 0 ? 30000 : wait_ms);
			if (pr < 0 || (pr == 0 && wait_ms < 0)) {
				storm_fail(m, "NBD: %s",
				           pr < 0 ? nbd_get_error() : "no reply in 30 s");
				goto out;
			}
		}
		if (!nfly && wait_ms > 0)
			usleep((unsigned)wait_ms * 1000u);
		for (size_t i = 0; i < nfly;) {
			int d = nbd_aio_command_completed(h, (uint64_t)cookie[fly[i]]);
			if (d < 0) {
				storm_fail(m, "NBD request %zu failed: %s", fly[i],
				           nbd_get_error());
				goto out;
			}
			if (!d) {
				i++;
				continue;
			}
			done[fly[i]] = storm_now() | 1;
			fly[i] = fly[--nfly];
			finished++;
		}
	}
	rc = 0;
out:
	free(done);
	free(cookie);
	free(fly);
	free(buf);
	return rc;
}

void storm_nbd_close(struct machine *m)
{
	if (!m->nbd)
		return;
	nbd_shutdown(m->nbd, 0);
	nbd_close(m->nbd);
	m->nbd = NULL;
}
