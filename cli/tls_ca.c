/*
 * tls_ca.c - the fleetboot CA that authenticates the server to Secure Boot
 * machines: `fleetboot init` makes it once (STATE/tls/), with one server
 * certificate issued by it.
 *
 *   STATE/tls/ca-cert.pem      the CA certificate: pinned in the initramfs
 *                              a verified machine boots (image build, UKI)
 *   STATE/tls/server-cert.pem  server certificate, DNS name fleetboot-server
 *   STATE/tls/server-key.pem   its key (0600)
 *   STATE/tls-ca-key.pem       the CA's key (0600), outside the folder
 *                              nbdkit and bootd read
 *
 * The folder is what nbdkit's --tls-certificates wants, and bootd's HTTPS
 * port serves the boot credential with the same pair. The client checks
 * the chain to the pinned CA and the name fleetboot-server (the server's
 * address varies by site; the CA is the site's own, so the name is fixed).
 * The keys are EC P-256, made by openssl(1) (the openssl package is
 * already a dependency); a CA that exists is kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "tls_ca.h"

static int run_openssl(const char *const argv[])
{
	pid_t pid = fork();
	int st;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			close(null);
		}
		execvp("openssl", (char *const *)argv);
		fprintf(stderr, "fleetboot: cannot run openssl: %s\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int fb_tls_ca_ensure(const char *state_dir)
{
	char dir[FB_PATH_LEN], ca[FB_PATH_LEN + 16], cakey[FB_PATH_LEN + 16];
	char crt[FB_PATH_LEN + 20], key[FB_PATH_LEN + 20];
	snprintf(dir, sizeof(dir), "%s/tls", state_dir);
	snprintf(ca, sizeof(ca), "%s/ca-cert.pem", dir);
	snprintf(cakey, sizeof(cakey), "%s/tls-ca-key.pem", state_dir);
	snprintf(crt, sizeof(crt), "%s/server-cert.pem", dir);
	snprintf(key, sizeof(key), "%s/server-key.pem", dir);
	if (access(ca, F_OK) == 0 && access(crt, F_OK) == 0 && access(key, F_OK) == 0)
		return 0;
	if (fb_mkdir_p(dir, 0750) < 0 || chmod(dir, 0750) < 0)
		return cli_error("%s: cannot create: %s", dir, strerror(errno)), -1;
	const char *const mkca[] = {"openssl",
	                            "req",
	                            "-x509",
	                            "-newkey",
	                            "ec",
	                            "-pkeyopt",
	                            "ec_paramgen_curve:prime256v1",
	                            "-nodes",
	                            "-keyout",
	                            cakey,
	                            "-out",
	                            ca,
	                            "-days",
	                            "3650",
	                            "-subj",
	                            "/CN=fleetboot site CA",
	                            "-addext",
	                            "basicConstraints=critical,CA:TRUE",
	                            "-addext",
	                            "keyUsage=critical,keyCertSign,cRLSign",
	                            NULL};
	const char *const mksrv[] = {"openssl",
	                             "req",
	                             "-x509",
	                             "-newkey",
	                             "ec",
	                             "-pkeyopt",
	                             "ec_paramgen_curve:prime256v1",
	                             "-nodes",
	                             "-keyout",
	                             key,
	                             "-out",
	                             crt,
	                             "-days",
	                             "3650",
	                             "-subj",
	                             "/CN=fleetboot-server",
	                             "-CA",
	                             ca,
	                             "-CAkey",
	                             cakey,
	                             "-addext",
	                             "subjectAltName=DNS:fleetboot-server",
	                             "-addext",
	                             "basicConstraints=critical,CA:FALSE",
	                             "-addext",
	                             "extendedKeyUsage=serverAuth",
	                             NULL};
	if (run_openssl(mkca) < 0 || run_openssl(mksrv) < 0 || chmod(cakey, 0600) < 0 ||
	    chmod(key, 0600) < 0 || chmod(ca, 0644) < 0 || chmod(crt, 0644) < 0) {
		cli_error("%s: cannot make the TLS CA and server certificate (openssl failed)",
		          dir);
		unlink(ca);
		unlink(crt);
		unlink(key);
		return -1;
	}
	printf("fleetboot: made the site TLS CA %s (pinned in verified images)\n", ca);
	return 0;
}
