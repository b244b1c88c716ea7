/* locate.c - see locate.h. */
#include "locate.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *fb_self_dir(void)
{
	static char dir[PATH_MAX];
	if (!dir[0]) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		if (n <= 0) {
			strcpy(dir, ".");
		} else {
			dir[n] = 0;
			char *s = strrchr(dir, '/');
			if (s)
				*s = 0;
		}
	}
	return dir;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fb_share_dir(void)
{
	static char share[PATH_MAX];
	const char *env = getenv("FLEETBOOT_SHARE");
	if (env && *env)
		return env;
	if (share[0])
		return share;
	const char *self = fb_self_dir();
	char cand[PATH_MAX];
	/* Installed: PREFIX/{bin,sbin,lib/fleetboot}/prog. */
	const char *rel[] = {"/../share/fleetboot", "/../../share/fleetboot",
	                     /* build tree: TOP/build/bin/prog */
	                     "/../.."};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(cand, sizeof(cand), "%s%s", self, rel[i]);
		char probe[PATH_MAX + 16];
		snprintf(probe, sizeof(probe), "%s/initramfs", cand);
		if (is_dir(probe) && realpath(cand, share))
			return share;
	}
	snprintf(share, sizeof(share), "%s", self);
	return share;
}

int fb_find_program(const char *name, char *out, size_t len)
{
	const char *self = fb_self_dir();
	const char *rel[] = {"", "/../bin", "/../sbin", "/../lib/fleetboot", "/../lib"};
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (snprintf(out, len, "%s%s/%s", self, rel[i], name) >= (int)len)
			continue;
		if (access(out, X_OK) == 0 || (strstr(name, ".so") && access(out, R_OK) == 0))
			return 0;
	}
	return -1;
}

const char *fb_default_conf(void)
{
	const char *env = getenv("FLEETBOOT_CONF");
	return env && *env ? env : "/etc/fleetboot/fleetboot.conf";
}
