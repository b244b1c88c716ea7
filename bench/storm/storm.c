/*
 * storm.c - the boot-storm generator's main: N machines power on at once,
 * each a thread that boots through every stage on its own interface
 * (PREFIX0 .. PREFIX<N-1>, each with its own MAC: bench/storm.sh makes
 * them), then the figures: time until all N reached the last stage,
 * per-machine p50/p95/max, per-stage durations, failures, retries and
 * bytes by protocol. Per-machine rows go to a CSV file.
 *
 *   storm -i PREFIX -n N [-t TRACE] [-k THINK] [-l LAST_STAGE] [-T TIMEOUT_MS]
 *         [-r TRIES] [-B BLKSIZE] [-f BOOTFILE] [-o CSV] [-R READY_FILE] [-H HOLD_S]
 *
 * -l stops every machine after that stage (a stage name as printed);
 * without -t the last stage is at most "credential". -R names a file
 * written once all machines are done, -H keeps them (and their root
 * connections) for that many seconds after it, so a caller can measure
 * the server with N booted machines. Exit 0 when every machine got
 * through, 1 when any failed, 2 on usage or set-up errors.
 */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "netaddr.h"
#include "storm.h"

static const char *const stage_name[ST_N] = {
    "dhcp-pxe", "tftp",       "dhcp-ipxe", "scripts", "kernel",    "initrd",
    "dhcp-os",  "credential", "attach",    "root-io", "userspace",
};
static const char *const proto_name[PR_N] = {"dhcp", "tftp", "http", "nbd"};

uint64_t storm_t0;
static pthread_barrier_t start_line;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int ndone, released;

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t storm_now(void)
{
	return mono_us() - storm_t0;
}

int storm_fail(struct machine *m, const char *fmt, ...)
{
	if (!m->err[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(m->err, sizeof(m->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

int storm_socket(struct machine *m, int type)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return storm_fail(m, "socket: %s", strerror(errno));
	struct timeval tv = {30, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, m->ifname,
	               (socklen_t)strlen(m->ifname) + 1) < 0) {
		close(fd);
		return storm_fail(m, "SO_BINDTODEVICE %s: %s", m->ifname, strerror(errno));
	}
	if (m->ip_set) {
		struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr = m->ip};
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
			close(fd);
			return storm_fail(m, "bind: %s", strerror(errno));
		}
	}
	return fd;
}

int storm_connect(struct machine *m, struct in_addr ip, int port)
{
	int fd = storm_socket(m, SOCK_STREAM);
	if (fd < 0)
		return -1;
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = ip};
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		char a[FB_IP_LEN];
		storm_fail(m, "connect %s:%d: %s", ip4_format(ip, a), port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The boot, stage by stage; m->t[s] is stamped as each ends. */
static int boot(struct machine *m)
{
	const struct storm_cfg *c = m->cfg;
	char url[300];
	int s = ST_DHCP_PXE;
#define DONE(stage)                                                                                \
	do {                                                                                       \
		m->t[stage] = storm_now();                                                         \
		if ((stage) == c->last)                                                            \
			return 0;                                                                  \
		s = (stage) + 1;                                                                   \
	} while (0)
	if (storm_dhcp(m, DHCP_PXE) < 0)
		goto fail;
	if (c->expect_file && strcmp(m->boot_file, c->expect_file)) {
		storm_fail(m, "PXE boot file '%s', expected '%s'", m->boot_file, c->expect_file);
		goto fail;
	}
	DONE(ST_DHCP_PXE);
	if (storm_tftp(m, m->boot_file) < 0)
		goto fail;
	DONE(ST_TFTP);
	if (storm_dhcp(m, DHCP_IPXE) < 0)
		goto fail;
	if (strncmp(m->script_url, "http://", 7)) {
		storm_fail(m, "iPXE's DHCP gave file '%s', not a script URL", m->script_url);
		goto fail;
	}
	DONE(ST_DHCP_IPXE);
	if (storm_boot_scripts(m) < 0)
		goto fail;
	DONE(ST_SCRIPT);
	if (storm_http(m, "GET", m->kernel_url, NULL, NULL, 0) < 0)
		goto fail;
	DONE(ST_KERNEL);
	if (storm_http(m, "GET", m->initrd_url, NULL, NULL, 0) < 0)
		goto fail;
	DONE(ST_INITRD);
	if (storm_dhcp(m, DHCP_OS) < 0)
		goto fail;
	close(m->dhcp_fd); /* the booted system has no more DHCP to do here */
	m->dhcp_fd = -1;
	DONE(ST_DHCP_OS);
	size_t rl = strlen(m->report_url);
	if (rl < 6 || strcmp(m->report_url + rl - 6, "/stage")) {
		storm_fail(m, "report URL %s does not end in /stage", m->report_url);
		goto fail;
	}
	snprintf(url, sizeof(url), "%.*scredential", (int)(rl - 5), m->report_url);
	if (storm_http(m, "GET", url, NULL, m->cred, sizeof(m->cred)) < 0)
		goto fail;
	m->cred[strcspn(m->cred, " \r\n")] = 0;
	if (strlen(m->cred) < 32) {
		storm_fail(m, "short credential '%s'", m->cred);
		goto fail;
	}
	DONE(ST_CRED);
	snprintf(url, sizeof(url), "%s?name=root-attached", m->report_url);
	if (storm_nbd_attach(m) < 0 ||
	    storm_http(m, "POST", url, "stage=root-attached", NULL, 0) < 0)
		goto fail;
	DONE(ST_ATTACH);
	if (storm_nbd_replay(m) < 0)
		goto fail;
	DONE(ST_ROOT);
	snprintf(url, sizeof(url), "%s?name=userspace", m->report_url);
	if (storm_http(m, "POST", url, "stage=userspace", NULL, 0) < 0)
		goto fail;
	DONE(ST_USERSPACE);
#undef DONE
	return 0;
fail:
	m->failed = s + 1;
	return -1;
}

static void *machine_thread(void *arg)
{
	struct machine *m = arg;
	pthread_barrier_wait(&start_line);
	boot(m);
	pthread_mutex_lock(&lock);
	ndone++;
	pthread_cond_broadcast(&cond);
	while (!released)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	storm_nbd_close(m);
	if (m->dhcp_fd >= 0)
		close(m->dhcp_fd);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n sorted values. */
static double pct(const uint64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	return (double)v[k ? k - 1 : 0];
}

static void usage(void)
{
	fprintf(stderr, "usage: storm -i PREFIX -n N [-t TRACE] [-k THINK] [-l LAST_STAGE] "
	                "[-T TIMEOUT_MS] [-r TRIES] [-B BLKSIZE] [-f BOOTFILE] [-o CSV] "
	                "[-R READY_FILE] [-H HOLD_S]\n");
	exit(2);
}

static int stage_by_name(const char *s)
{
	for (int i = 0; i < ST_N; i++)
		if (!strcmp(s, stage_name[i]))
			return i;
	return -1;
}

static void report(struct machine *ms, int n, const struct storm_cfg *c, uint64_t end, FILE *csv)
{
	uint64_t *v = calloc((size_t)n, sizeof(*v)), bytes[PR_N] = {0}, total = 0;
	int ok = 0, failed_at[ST_N + 1] = {0};
	unsigned retries = 0;
	if (!v)
		return;
	for (int i = 0; i < n; i++) {
		struct machine *m = &ms[i];
		retries += m->retries;
		for (int p = 0; p < PR_N; p++)
			bytes[p] += m->bytes[p];
		if (m->failed)
			failed_at[m->failed - 1]++;
		else
			v[ok++] = m->t[c->last];
		if (!csv)
			continue;
		char ip[FB_IP_LEN];
		fprintf(csv, "%d,%s,%s,%s,\"%s\",%u", i, m->macid, ip4_format(m->ip, ip),
		        m->failed ? stage_name[m->failed - 1] : "", m->err, m->retries);
		for (int s = 0; s <= c->last; s++)
			fprintf(csv, ",%.3f", m->t[s] / 1000.0);
		for (int p = 0; p < PR_N; p++)
			fprintf(csv, ",%llu", (unsigned long long)m->bytes[p]);
		fputc('\n', csv);
	}
	qsort(v, (size_t)ok, sizeof(*v), cmp_u64);
	double p50 = pct(v, (size_t)ok, 50) / 1e6, p95 = pct(v, (size_t)ok, 95) / 1e6,
	       max = pct(v, (size_t)ok, 100) / 1e6;
	for (int p = 0; p < PR_N; p++)
		total += bytes[p];
	printf("storm: %d machines, through %s, %.2f s to the last (%d ok, %d failed, %u "
	       "retries)\n",
	       n, stage_name[c->last], end / 1e6, ok, n - ok, retries);
	printf("per machine, power-on to %s: p50 %.3f s  p95 %.3f s  max %.3f s\n",
	       stage_name[c->last], p50, p95, max);
	printf("%-12s %10s %10s %10s %8s\n", "stage", "p50 ms", "p95 ms", "max ms", "failed");
	for (int s = 0; s <= c->last; s++) {
		int k = 0;
		for (int i = 0; i < n; i++)
			if (!ms[i].failed)
				v[k++] = ms[i].t[s] - (s ? ms[i].t[s - 1] : 0);
		qsort(v, (size_t)k, sizeof(*v), cmp_u64);
		printf("%-12s %10.1f %10.1f %10.1f %8d\n", stage_name[s],
		       pct(v, (size_t)k, 50) / 1e3, pct(v, (size_t)k, 95) / 1e3,
		       pct(v, (size_t)k, 100) / 1e3, failed_at[s]);
	}
	printf("bytes:");
	for (int p = 0; p < PR_N; p++)
		printf(" %s %.1f MB", proto_name[p], bytes[p] / 1e6);
	printf(", total %.1f MB\n", total / 1e6);
	/* One line for scripts. */
	printf("summary n=%d ok=%d failed=%d retries=%u last=%s all_s=%.3f p50_s=%.3f "
	       "p95_s=%.3f max_s=%.3f bytes=%llu\n",
	       n, ok, n - ok, retries, stage_name[c->last], end / 1e6, p50, p95, max,
	       (unsigned long long)total);
	for (int i = 0, shown = 0; i < n && shown < 5; i++)
		if (ms[i].failed) {
			printf("failed: %s at %s: %s\n", ms[i].macid, stage_name[ms[i].failed - 1],
			       ms[i].err);
			shown++;
		}
	free(v);
}

int main(int argc, char **argv)
{
	const char *prefix = NULL, *trace_path = NULL, *csv_path = NULL, *ready = NULL;
	int n = 0, hold = 0, opt, last = -1;
	struct storm_cfg c = {.timeout_ms = 1000,
	                      .tries = 6,
	                      .blksize = 1432,
	                      .think = 1.0,
	                      .expect_file = "undionly.kpxe"};
	while ((opt = getopt(argc, argv, "i:n:t:k:l:T:r:B:f:o:R:H:")) != -1) {
		switch (opt) {
		case 'i':
			prefix = optarg;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 't':
			trace_path = optarg;
			break;
		case 'k':
			c.think = atof(optarg);
			break;
		case 'l':
			if ((last = stage_by_name(optarg)) < 0)
				usage();
			break;
		case 'T':
			c.timeout_ms = atoi(optarg);
			break;
		case 'r':
			c.tries = atoi(optarg);
			break;
		case 'B':
			c.blksize = (unsigned)atoi(optarg);
			break;
		case 'f':
			c.expect_file = *optarg ? optarg : NULL;
			break;
		case 'o':
			csv_path = optarg;
			break;
		case 'R':
			ready = optarg;
			break;
		case 'H':
			hold = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!prefix || n < 1 || c.timeout_ms < 1 || c.tries < 1 || c.think < 0 || c.blksize < 8)
		usage();
	static struct trace tr;
	if (trace_path) {
		if (trace_load(&tr, trace_path) < 0) {
			fprintf(stderr, "storm: cannot load trace %s\n", trace_path);
			return 2;
		}
		c.tr = &tr;
	}
	c.last = last >= 0 ? last : c.tr ? ST_USERSPACE : ST_CRED;
	if (c.last > ST_CRED && !c.tr) {
		fprintf(stderr, "storm: stages after credential need a trace (-t)\n");
		return 2;
	}
	/* A socket or two per machine, and a root connection each at the end. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct machine *ms = calloc((size_t)n, sizeof(*ms));
	pthread_t *th = calloc((size_t)n, sizeof(*th));
	if (!ms || !th)
		return 2;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	for (int i = 0; i < n; i++) {
		struct machine *m = &ms[i];
		struct ifreq ifr;
		m->idx = i;
		m->cfg = &c;
		m->dhcp_fd = -1;
		snprintf(m->ifname, sizeof(m->ifname), "%s%d", prefix, i);
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, m->ifname, sizeof(ifr.ifr_name));
		m->ifindex = (int)if_nametoindex(m->ifname);
		if (!m->ifindex || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
			fprintf(stderr, "storm: interface %s: %s\n", m->ifname, strerror(errno));
			return 2;
		}
		memcpy(m->mac, ifr.ifr_hwaddr.sa_data, 6);
		mac_format(m->mac, m->macid);
	}
	close(fd);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	pthread_barrier_init(&start_line, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++)
		if (pthread_create(&th[i], &at, machine_thread, &ms[i])) {
			fprintf(stderr, "storm: cannot start machine %d\n", i);
			return 2;
		}
	storm_t0 = mono_us(); /* every machine's power-on */
	pthread_barrier_wait(&start_line);
	pthread_mutex_lock(&lock);
	while (ndone < n)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	uint64_t end = 0;
	for (int i = 0; i < n; i++)
		if (!ms[i].failed && ms[i].t[c.last] > end)
			end = ms[i].t[c.last];
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fclose(f);
	}
	if (hold > 0)
		sleep((unsigned)hold);
	pthread_mutex_lock(&lock);
	released = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
	if (csv) {
		fprintf(csv, "machine,mac,ip,failed_stage,error,retries");
		for (int s = 0; s <= c.last; s++)
			fprintf(csv, ",%s_ms", stage_name[s]);
		for (int p = 0; p < PR_N; p++)
			fprintf(csv, ",%s_bytes", proto_name[p]);
		fputc('\n', csv);
	}
	report(ms, n, &c, end, csv);
	if (csv)
		fclose(csv);
	int bad = 0;
	for (int i = 0; i < n; i++)
		bad |= ms[i].failed != 0;
	free(ms);
	free(th);
	free(tr.req);
	return bad;
}
