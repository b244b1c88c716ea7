/*
 * static.c - the admin UI's files (web/ui, installed under
 * share/fleetboot/web/ui). Only names web_static_name accepts are looked
 * up, the resolved path must still lie inside the UI directory (no symlink
 * escapes), and only regular files with a known type are served.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "web.h"

static const char *const public_files[] = {"/login.html", "/login.js", "/style.css",
                                           "/favicon.svg"};

int web_static_public(const char *url)
{
	for (size_t i = 0; i < sizeof(public_files) / sizeof(public_files[0]); i++)
		if (!strcmp(url, public_files[i]))
			return 1;
	return 0;
}

static const char *type_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".json", "application/json"},
	    {".webmanifest", "application/manifest+json"},
	};
	const char *dot = strrchr(name, '.');
	if (!dot)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return NULL;
}

/* A UI file that is there but that web's user cannot read: a setup
 * mistake, logged as one, and answered 403 rather than "not found". */
static enum MHD_Result unreadable(struct MHD_Connection *c, const char *path, int err)
{
	fb_log_unreadable(path, err);
	return web_error(c, MHD_HTTP_FORBIDDEN,
	                 "path: the server cannot read this file (see its log)");
}

enum MHD_Result web_static(struct MHD_Connection *c, const char *url, const char *method)
{
	char name[256], path[PATH_MAX], real[PATH_MAX];
	const char *type;
	if (web_static_name(url, name, sizeof(name)) < 0)
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: not found");
	if (!(type = type_of(name)))
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: not found");
	if (snprintf(path, sizeof(path), "%s/%s", web_g.ui_dir, name) >= (int)sizeof(path))
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: not found");
	size_t dl = strlen(web_g.ui_dir);
	if (!realpath(path, real)) {
		if (errno == EACCES)
			return unreadable(c, path, errno);
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: not found");
	}
	if (strncmp(real, web_g.ui_dir, dl) || real[dl] != '/')
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: not found");
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return unreadable(c, real, errno);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return web_error(c, MHD_HTTP_NOT_FOUND, "path: not found");
	}
	struct MHD_Response *r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	web_common_headers(r);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "Content-Security-Policy",
	                        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
	                        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
	                        "base-uri 'none'; form-action 'self'");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
