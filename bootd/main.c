/*
 * main.c - fleetboot-bootd start-up: options, configuration, sockets,
 * privilege drop, threads, and the event loop.
 *
 *   fleetboot-bootd [-c FILE] [-f] [-n] [-v]
 *
 * Privileges: all ports are bound first (and the DHCP packet socket and
 * the Wake-on-LAN one, which need CAP_NET_RAW, opened); then, when started as root, the
 * process becomes the owner of the state directory (the user "fleetboot"
 * once `fleetboot init` has run as root), since bootd must keep writing the
 * database. A root-owned state directory keeps bootd as root, and says so
 * in the log. Of root's capabilities only CAP_NET_ADMIN is kept, to add the
 * neighbour entries that unicast replies to clients without an address.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/netlink.h>

#include "bootd.h"
#include "daemon.h"
#include "log.h"
#include "str.h"

static void on_signal(struct fb_loop *l, int signo, void *arg)
{
	log_info("signal %d: stopping", signo);
	fb_loop_stop(l);
}

static void raise_nofile(void)
{
	/* One socket and one file per TFTP transfer: thousands at once. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static struct bootd b;
	struct fb_daemon_opts o = {0};
	fb_daemon_init(argc, argv, "fleetboot-bootd", NULL, &o, &b.cfg);
	if (b.cfg.dhcp == FB_DHCP_AUTHORITATIVE && !b.cfg.pool_first) {
		fprintf(stderr,
		        "fleetboot-bootd: %s: [bootd] pool: required when dhcp = "
		        "authoritative\n",
		        b.cfg.path[0] ? b.cfg.path : "(defaults)");
		return 1;
	}
	if (b.cfg.dhcp != FB_DHCP_OFF && !b.cfg.n_interfaces) {
		fprintf(stderr,
		        "fleetboot-bootd: %s: [bootd] interface: required when dhcp is on\n",
		        b.cfg.path[0] ? b.cfg.path : "(defaults)");
		return 1;
	}
	if (o.check) {
		if (o.verbose)
			fb_config_print(&b.cfg, stdout);
		return 0;
	}
	if (!o.foreground && daemon(0, 0) < 0)
		fatal("daemon");
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);

	fb_config_path(&b.cfg, "tftp", b.tftp_root, sizeof(b.tftp_root));
	b.tftp_rootfd = open(b.tftp_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b.tftp_rootfd < 0 && b.cfg.tftp)
		fatal("TFTP root %s", b.tftp_root);
	for (int i = 0; i < b.cfg.n_interfaces; i++)
		fb_strlcpy(b.ifaces[i].name, b.cfg.interfaces[i], IF_NAMESIZE);
	b.n_ifaces = b.cfg.n_interfaces;

	if (state_init(&b.st) < 0 || pthread_mutex_init(&b.reg.lock, NULL))
		fatalx("out of memory");
	struct fb_db *db;
	int rc = fb_db_open_state(&db, b.cfg.state_dir);
	if (rc < 0)
		fatalx("cannot open the database in %s: %s", b.cfg.state_dir, strerror(-rc));
	struct bootd_cache *c = cache_load(db);
	if (!c)
		fatalx("cannot read machines and images: %s", fb_db_errmsg(db));
	state_set_cache(&b.st, c);
	if (state_load_leases(&b.st, db) < 0)
		fatalx("cannot read leases: %s", fb_db_errmsg(db));
	log_info("%zu machines, %zu images, %zu leases", c->n_machines, c->n_images,
	         b.st.n_clients);

	b.loop = fb_loop_new();
	if (!b.loop)
		fatal("event loop");
	fb_loop_set_spin(b.loop, (unsigned)b.cfg.busy_poll);
	/* Before any thread starts, so every thread has them blocked and
	 * they arrive through the loop's signalfd. */
	fb_loop_add_signal(b.loop, SIGTERM, on_signal, &b);
	fb_loop_add_signal(b.loop, SIGINT, on_signal, &b);
	iface_refresh(&b);
	if (dhcp_open(&b) < 0 || tftp_open(&b) < 0)
		fatalx("cannot open the DHCP/TFTP sockets");
	/* Before the drop: the raw Wake-on-LAN frame needs CAP_NET_RAW. */
	if (wake_open(&b) < 0)
		fatalx("cannot open the Wake-on-LAN sockets");
	b.wr = writer_start(&b, db);
	if (!b.wr)
		fatalx("cannot start the database writer");
	if (http_start(&b) < 0)
		fatalx("cannot start HTTP");
	/* CAP_NET_ADMIN stays: neighbour entries let OFFERs and ACKs go unicast
	 * to clients that have no address yet. */
	fb_daemon_drop(&b.cfg, fb_daemon_run_as(&b.cfg), 1ULL << CAP_NET_ADMIN);
	log_info("serving: dhcp %s, tftp %s, http port %d",
	         b.cfg.dhcp == FB_DHCP_AUTHORITATIVE ? "authoritative"
	         : b.cfg.dhcp == FB_DHCP_PROXY       ? "proxy"
	                                             : "off",
	         b.cfg.tftp ? "on" : "off", b.cfg.http_port);
	rc = fb_loop_run(b.loop);
	tftp_close(&b);
	http_stop(&b);
	writer_stop(b.wr); /* commits whatever is still queued */
	wake_close(&b);
	if (b.nl)
		nl_socket_free(b.nl);
	fb_loop_free(b.loop);
	state_free(&b.st);
	return rc < 0 ? 1 : 0;
}
