/*
 * nbdkit.c - fleetboot-storaged runs nbdkit with the fleetboot plugin as a
 * child and restarts it when it dies, with a growing back-off so a plugin
 * that cannot start does not spin. --exit-with-parent makes nbdkit go when
 * storaged goes, even by kill -9.
 *
 * In the sanitizer build (make SAN=1) the plugin is an ASan/UBSan shared
 * object loaded into an uninstrumented nbdkit, which only works when the
 * sanitizer runtimes are loaded first: FB_SAN_PRELOAD (set by
 * storaged/module.mk from the compiler) goes into nbdkit's LD_PRELOAD.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "locate.h"
#include "log.h"
#include "storaged/storaged.h"

#define BACKOFF_MIN    500
#define BACKOFF_MAX    30000
#define NBDKIT_THREADS "4" /* worker threads per connection: see sd_nbdkit_start */

static void restart_cb(struct fb_loop *l, void *arg)
{
	struct sd_nbdkit *n = arg;
	if (!n->stopping && !n->pid && sd_nbdkit_start(n) < 0) {
		fb_timer_arm(l, &n->restart, n->backoff_ms);
		n->backoff_ms = n->backoff_ms * 2 > BACKOFF_MAX ? BACKOFF_MAX : n->backoff_ms * 2;
	}
}

int sd_nbdkit_start(struct sd_nbdkit *n)
{
	char plugin[4096], port[16], conf[4200];
	const char *argv[24];
	int i = 0;
	pid_t pid;

	if (!n->restart.fn)
		fb_timer_init(&n->restart, restart_cb, n);
	if (!n->backoff_ms)
		n->backoff_ms = BACKOFF_MIN;
	if (fb_find_program("nbdkit-fleetboot-plugin.so", plugin, sizeof(plugin)) < 0) {
		log_warnx("nbdkit-fleetboot-plugin.so not found next to %s", fb_self_dir());
		return -1;
	}
	snprintf(port, sizeof(port), "%d", n->port);
	snprintf(conf, sizeof(conf), "config=%s", n->conf_path);
	argv[i++] = "nbdkit";
	argv[i++] = "--foreground";
	argv[i++] = "--exit-with-parent";
	argv[i++] = "--log=stderr";
	argv[i++] = "-p";
	argv[i++] = port;
	/* Worker threads per connection (nbdkit's default is 16). Each costs
	 * its stack and buffers for as long as the machine holds its root
	 * disk: at 16, 1.2 MiB per booted machine, most of the server's
	 * memory in a lab. A root disk's requests are page-cache reads and
	 * overlay writes that take microseconds; a few workers keep the
	 * client's queue moving (bench/storm.md has the figures). */
	argv[i++] = "-t";
	argv[i++] = NBDKIT_THREADS;
	if (n->run_user) {
		argv[i++] = "-u";
		argv[i++] = n->run_user;
	}
	/* TLS is offered to every client and required by the plugin for
	 * Secure Boot machines (fb_open): their initramfs pins the site CA
	 * and refuses a server without its certificate. */
	if (n->tls_dir) {
		argv[i++] = "--tls=on";
		argv[i++] = "--tls-certificates";
		argv[i++] = n->tls_dir;
	}
	/* Not nbdkit's own -v: its debug lines quote the export name, and
	 * the export name holds the credential. The plugin's verbose log
	 * names machines by MACID only. */
	argv[i++] = plugin;
	argv[i++] = conf;
	if (n->verbose)
		argv[i++] = "verbose=1";
	argv[i] = NULL;

	pid = fork();
	if (pid < 0) {
		log_warn("fork");
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef FB_SAN_PRELOAD
		setenv("LD_PRELOAD", FB_SAN_PRELOAD, 1);
		/* nbdkit itself is not ours to leak-check. */
		char opts[1024];
		const char *old = getenv("ASAN_OPTIONS");
		snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0:verify_asan_link_order=0",
		         old ? old : "", old && *old ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
#endif
		execvp("nbdkit", (char **)argv);
		fprintf(stderr, "fleetboot-storaged: cannot run nbdkit: %s\n", strerror(errno));
		_exit(127);
	}
	n->pid = pid;
	n->started_ms = fb_mono_ms();
	log_info("nbdkit started (pid %d, port %d, plugin %s, TLS %s)", (int)pid, n->port, plugin,
	         n->tls_dir ? "offered" : "off (no STATE/tls/server-cert.pem)");
	return 0;
}

void sd_nbdkit_reap(struct sd_nbdkit *n)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != n->pid)
			continue;
		n->pid = 0;
		if (n->stopping)
			continue;
		n->restarts++;
		if (WIFSIGNALED(st))
			log_warnx("nbdkit (pid %d) killed by signal %d", (int)pid, WTERMSIG(st));
		else
			log_warnx("nbdkit (pid %d) exited with status %d", (int)pid,
			          WEXITSTATUS(st));
		/* A child that ran a while earns a fresh back-off. */
		if (fb_mono_ms() - n->started_ms > 60000)
			n->backoff_ms = BACKOFF_MIN;
		log_info("restarting nbdkit in %llu ms", (unsigned long long)n->backoff_ms);
		fb_timer_arm(n->loop, &n->restart, n->backoff_ms);
		n->backoff_ms = n->backoff_ms * 2 > BACKOFF_MAX ? BACKOFF_MAX : n->backoff_ms * 2;
	}
}

void sd_nbdkit_stop(struct sd_nbdkit *n)
{
	n->stopping = 1;
	if (n->restart.fn)
		fb_timer_disarm(n->loop, &n->restart);
	if (!n->pid)
		return;
	/* nbdkit waits for open connections on SIGTERM, and a client that
	 * powered off never closes its own: give up after 3 s (well inside
	 * the 10 s `fleetboot up` grants the whole daemon). */
	kill(n->pid, SIGTERM);
	for (int i = 0; i < 60; i++) {
		if (waitpid(n->pid, NULL, WNOHANG) == n->pid) {
			n->pid = 0;
			return;
		}
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	log_warnx("nbdkit did not stop; killing it");
	kill(n->pid, SIGKILL);
	waitpid(n->pid, NULL, 0);
	n->pid = 0;
}
