/*
 * iscsi_testtarget.c - fleetboot-iscsi-testtarget: the iSCSI target of
 * fleetboot-storaged serving plain files, one per machine, with no
 * database. For tests and iscsi-test-cu until the daemon integration lands.
 *
 *   fleetboot-iscsi-testtarget [-f] [-v] [-l ADDR] [-p PORT] [-t THREADS]
 *       [-P PIDFILE] [-r] [-a PEER] [-L PER_ADDRESS:MAX] [-R DIR] -m MACID:SECRET:FILE [-m ...]
 *
 * Target iqn.2026-11.org.fleetboot:MACID, CHAP user MACID, secret SECRET.
 * -a PEER refuses every peer address but PEER (like require_lease_ip).
 * -r serves the files read-only. -L caps connections not yet logged in.
 * -R DIR keeps persistent reservations asked to persist (APTPL) in
 * DIR/MACID.pr; without it APTPL=1 is refused.
 * The mutual CHAP secret (the target's) is SECRET reversed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "iscsi/blockdev_file.h"
#include "iscsi/target.h"
#include "str.h"

#define MAX_MACHINES 16

struct machine {
	char macid[64];
	char secret[33];
	struct fb_blockdev *bd;
};

static struct machine machines[MAX_MACHINES];
static int nmachines;
static struct in_addr allowed_peer;
static int have_allowed_peer;
static const char *pr_dir;

static struct machine *find(const char *macid)
{
	for (int i = 0; i < nmachines; i++)
		if (!strcmp(machines[i].macid, macid))
			return &machines[i];
	return NULL;
}

static int tt_lookup(void *arg, const char *macid, const struct sockaddr_in *peer, char secret[33],
                     char mutual[33], char must_mutual[FB_ISCSI_REASON_LEN])
{
	struct machine *m = find(macid);
	if (!m)
		return -ENOENT;
	if (have_allowed_peer && peer->sin_addr.s_addr != allowed_peer.s_addr)
		return -EACCES;
	memcpy(secret, m->secret, 33);
	/* The target's own secret for mutual CHAP: the initiator's, reversed
	 * (tests compute it the same way; storaged derives it with HMAC). */
	size_t n = strlen(m->secret);
	for (size_t i = 0; i < n; i++)
		mutual[i] = m->secret[n - 1 - i];
	mutual[n] = 0;
	return 0;
}

static struct fb_blockdev *tt_open(void *arg, const char *macid, const struct sockaddr_in *peer)
{
	struct machine *m = find(macid);
	if (!m) {
		errno = ENOENT;
		return NULL;
	}
	return m->bd; /* shared by every session of the machine */
}

static void tt_release(void *arg, const char *macid, struct fb_blockdev *bd)
{
}

static int tt_pr_file(void *arg, const char *macid, struct fb_blockdev *bd, char *path, size_t len)
{
	if (!pr_dir || bd->readonly)
		return -1;
	int n = snprintf(path, len, "%s/%s.pr", pr_dir, macid);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: fleetboot-iscsi-testtarget [-f] [-v] [-r] [-l ADDR] [-p PORT] "
	    "[-t THREADS] [-P PIDFILE] [-a PEER] [-L PER:MAX] [-R DIR] -m MACID:SECRET:FILE ...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *pidfile = NULL;
	int port = 3260, threads = 4, verbose = 0, readonly = 0, opt;
	unsigned cap_per = 0, cap_max = 0;
	char *specs[MAX_MACHINES];
	int nspecs = 0;
	while ((opt = getopt(argc, argv, "fvrl:p:t:P:a:m:L:R:")) != -1) {
		switch (opt) {
		case 'f':
			break;
		case 'v':
			verbose++;
			break;
		case 'r':
			readonly = 1;
			break;
		case 'l':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &allowed_peer) != 1)
				usage();
			have_allowed_peer = 1;
			break;
		case 'L':
			if (sscanf(optarg, "%u:%u", &cap_per, &cap_max) != 2)
				usage();
			break;
		case 'R':
			pr_dir = optarg;
			break;
		case 'm':
			if (nspecs == MAX_MACHINES)
				usage();
			specs[nspecs++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (!nspecs || optind != argc)
		usage();
	log_init("fleetboot-iscsi-testtarget", 1, verbose);
	for (int i = 0; i < nspecs; i++) {
		char *mac = specs[i], *sec = strchr(mac, ':'),
		     *file = sec ? strchr(sec + 1, ':') : NULL;
		if (!file)
			usage();
		*sec++ = 0;
		*file++ = 0;
		struct machine *m = &machines[nmachines++];
		fb_strlcpy(m->macid, mac, sizeof(m->macid));
		fb_strlcpy(m->secret, sec, sizeof(m->secret));
		m->bd = fb_blockdev_file_open(file, readonly);
		if (!m->bd)
			fatal("%s", file);
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct fb_iscsi_backend be = {.lookup = tt_lookup,
	                              .open = tt_open,
	                              .release = tt_release,
	                              .pr_file = tt_pr_file,
	                              .arg = NULL,
	                              .prelogin_per_address = cap_per,
	                              .prelogin_max = cap_max};
	struct fb_iscsi_target *t = fb_iscsi_target_start(addr, port, &be, threads);
	if (!t)
		fatal("cannot listen on %s:%d", addr ? addr : "*", port);
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (!f)
			fatal("%s", pidfile);
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	int sig;
	sigwait(&set, &sig);
	struct fb_iscsi_stats st;
	fb_iscsi_target_stats(t, &st);
	log_info("stopping: %u sessions, %llu bytes read, %llu written", st.sessions,
	         (unsigned long long)st.bytes_read, (unsigned long long)st.bytes_written);
	fb_iscsi_target_stop(t);
	for (int i = 0; i < nmachines; i++)
		machines[i].bd->ops->close(machines[i].bd);
	if (pidfile)
		unlink(pidfile);
	return 0;
}
