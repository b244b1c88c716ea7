/*
 * tftp_path.c - map a TFTP file name to a file under the TFTP root.
 *
 * Refused with an access violation: '..' components, absolute paths that
 * are not inside the root, and anything (symlinks included) that resolves
 * outside it. The kernel does the last check (openat2 RESOLVE_BENEATH), so
 * there is no window between checking a path and opening it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bootd.h"
#include "daemon.h"
#include "logsafe.h"
#include "proto/tftp.h"

const char tftp_why_unreadable[] = "access violation: the server cannot read this file";

int tftp_open_file(int rootfd, const char *root, const char *name, const char **why)
{
	char p[256];
	size_t n = strlen(name);
	if (n >= sizeof(p)) {
		*why = "file name too long";
		return -FB_TFTP_EACCESS;
	}
	/* Some firmware sends DOS separators. */
	for (size_t i = 0; i <= n; i++)
		p[i] = name[i] == '\\' ? '/' : name[i];
	const char *rel = p;
	if (p[0] == '/') {
		size_t rl = strlen(root);
		if (!strncmp(p, root, rl) && p[rl] == '/') {
			rel = p + rl;
		} else {
			*why = "absolute path outside the TFTP root";
			return -FB_TFTP_EACCESS;
		}
	}
	while (*rel == '/')
		rel++;
	/* Reject '..' as a whole component anywhere. */
	for (const char *c = rel; *c;) {
		const char *e = strchr(c, '/');
		size_t l = e ? (size_t)(e - c) : strlen(c);
		if (l == 2 && c[0] == '.' && c[1] == '.') {
			*why = "'..' is not allowed";
			return -FB_TFTP_EACCESS;
		}
		c += l;
		while (*c == '/')
			c++;
	}
	if (!*rel) {
		*why = "no file name";
		return -FB_TFTP_ENOTFOUND;
	}
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd < 0) {
		switch (errno) {
		case ENOENT:
		case ENOTDIR:
			*why = "file not found";
			return -FB_TFTP_ENOTFOUND;
		case EXDEV:
		case ELOOP:
			*why = "path escapes the TFTP root";
			return -FB_TFTP_EACCESS;
		case EACCES:
		case EPERM: {
			/* There, but not for bootd's user: a setup mistake the
			 * log must name, not a missing file. */
			int e = errno;
			char esc[FB_LOG_ESCAPE_LEN], full[FB_PATH_LEN + sizeof(esc) + 1];
			snprintf(full, sizeof(full), "%s/%s", root,
			         fb_log_escape(rel, esc, sizeof(esc)));
			fb_log_unreadable(full, e);
			*why = tftp_why_unreadable;
			return -FB_TFTP_EACCESS;
		}
		default:
			*why = "access denied";
			return -FB_TFTP_EACCESS;
		}
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return -FB_TFTP_ENOTFOUND;
	}
	/* Back to blocking reads (the page cache answers them). */
	fcntl(fd, F_SETFL, 0);
	return fd;
}
