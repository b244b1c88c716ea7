/*
 * svc_reach.c - see svc_reach.h.
 *
 * The check runs in a child that becomes the service user and calls
 * access(X_OK) on each directory above the state directory, from / down:
 * the kernel then answers with everything it weighs (mode bits, owner,
 * group and supplementary groups, ACLs), which mode arithmetic in the
 * parent would only approximate.
 */
#include "svc_reach.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "str.h"

static void fill(struct svc_user *u, const struct passwd *pw)
{
	fb_strlcpy(u->name, pw->pw_name, sizeof(u->name));
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
}

int svc_user_for(const char *state_dir, const char *env_name, struct svc_user *u)
{
	struct stat st;
	struct passwd *pw;
	if (geteuid() != 0)
		return 0;
	if (stat(state_dir, &st) == 0 && st.st_uid != 0) {
		/* Given before: the daemons run as its owner (fb_daemon_run_as),
		 * and keep root when the owner has no passwd entry. */
		pw = getpwuid(st.st_uid);
		if (!pw)
			return 0;
		fill(u, pw);
		return 1;
	}
	const char *name = env_name && *env_name ? env_name : FB_SERVICE_USER;
	pw = getpwnam(name);
	if (!pw || pw->pw_uid == 0)
		return 0;
	fill(u, pw);
	return 1;
}

/* A copy of state_dir without trailing slashes (the state directory itself
 * is init's to set up; only what is above it is checked). */
static int copy_dir(const char *state_dir, char *p, size_t len)
{
	if (fb_strlcpy(p, state_dir, len) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (p[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	return 0;
}

/* In the child, as u: the length of the first directory above p that u
 * cannot search (1 for "/"), or 0. A missing directory ends the walk: init
 * creates the rest (svc_make_parents). */
static size_t first_blocked(char *p)
{
	if (access("/", X_OK) < 0)
		return 1;
	for (size_t i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = 0;
		int rc = access(p, X_OK), e = errno;
		p[i] = '/';
		if (rc == 0)
			continue;
		if (e == ENOENT || e == ENOTDIR)
			return 0;
		return i;
	}
	return 0;
}

static void describe(const char *state_dir, const struct svc_user *u, const char *dir, char *msg,
                     size_t msglen)
{
	struct stat st;
	char owner[64] = "?", group[64] = "?";
	mode_t mode = 0;
	if (stat(dir, &st) == 0) {
		struct passwd *pw = getpwuid(st.st_uid);
		struct group *gr = getgrgid(st.st_gid);
		mode = st.st_mode & 07777;
		if (pw)
			fb_strlcpy(owner, pw->pw_name, sizeof(owner));
		else
			snprintf(owner, sizeof(owner), "%u", (unsigned)st.st_uid);
		if (gr)
			fb_strlcpy(group, gr->gr_name, sizeof(group));
		else
			snprintf(group, sizeof(group), "%u", (unsigned)st.st_gid);
	}
	struct stat sst;
	int given = stat(state_dir, &sst) == 0 && sst.st_uid == u->uid && u->uid != 0;
	snprintf(msg, msglen,
	         "state dir %s: the service user '%s' cannot reach it: %s is %04o %s:%s; "
	         "chmod o+x it, %s",
	         state_dir, u->name, dir, (unsigned)mode, owner, group,
	         given ? "or move the state directory"
	               : "choose another place, or FLEETBOOT_USER=root (the daemons keep root)");
}

int svc_reach_check(const char *state_dir, const struct svc_user *u, char *msg, size_t msglen)
{
	char p[PATH_MAX];
	gid_t groups[256];
	int ng = (int)(sizeof(groups) / sizeof(groups[0]));
	int pfd[2];
	if (copy_dir(state_dir, p, sizeof(p)) < 0)
		return -1;
	if (getgrouplist(u->name, u->gid, groups, &ng) < 0) {
		groups[0] = u->gid;
		ng = 1;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (setgroups((size_t)ng, groups) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
			_exit(2);
		size_t at = first_blocked(p);
		if (at && write(pfd[1], &at, sizeof(at)) != (ssize_t)sizeof(at))
			_exit(2);
		_exit(at ? 1 : 0);
	}
	close(pfd[1]);
	size_t at = 0;
	ssize_t got;
	do
		got = read(pfd[0], &at, sizeof(at));
	while (got < 0 && errno == EINTR);
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) {
		errno = EPERM; /* could not become the user */
		return -1;
	}
	if (WEXITSTATUS(status) == 0)
		return 0;
	if (got != (ssize_t)sizeof(at) || at == 0 || at >= strlen(p)) {
		errno = EIO;
		return -1;
	}
	p[at] = 0;
	describe(state_dir, u, at == 1 ? "/" : p, msg, msglen);
	return 1;
}

int svc_make_parents(const char *state_dir)
{
	char p[PATH_MAX];
	if (copy_dir(state_dir, p, sizeof(p)) < 0)
		return -1;
	for (size_t i = 1; p[i]; i++) {
		if (p[i] != '/')
			continue;
		p[i] = 0;
		/* chmod after mkdir: the umask (077) would take 0755 to 0700. */
		int rc = mkdir(p, 0755) == 0 ? chmod(p, 0755) : (errno == EEXIST ? 0 : -1);
		p[i] = '/';
		if (rc < 0)
			return -1;
	}
	return 0;
}
