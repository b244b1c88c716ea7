/* entryfile.c - see entryfile.h. */
#include "entryfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fb_entry_file_check(const char *kind, const char *label, const char *shown, const char *path,
                        char *why, size_t len)
{
	/* A magic number at a known offset: bzImage "HdrS" at 0x202, ISO 9660
	 * "CD001" at 0x8001, PE "MZ" at 0. */
	static const struct {
		const char *kind, *magic, *what;
		off_t off;
	} magic[] = {{"kernel", "HdrS", "a Linux kernel (bzImage)", 0x202},
	             {"iso", "CD001", "an ISO 9660 image", 0x8001},
	             {"efi", "MZ", "a UEFI program (PE)", 0}};
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "%s %s: %s", label, shown, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(why, len, "%s %s: not a regular file with data in it", label, shown);
		close(fd);
		return -1;
	}
	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++) {
		if (strcmp(kind, magic[i].kind))
			continue;
		char b[8] = {0};
		size_t n = strlen(magic[i].magic);
		if (pread(fd, b, n, magic[i].off) != (ssize_t)n || memcmp(b, magic[i].magic, n)) {
			snprintf(why, len, "%s %s: not %s", label, shown, magic[i].what);
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

int fb_entry_file_copy(const char *kind, const char *label, const char *src, const char *dst,
                       char sha[FB_SHA256_HEX], char *why, size_t len)
{
	if (fb_entry_file_check(kind, label, src, src, why, len) < 0)
		return -1;
	if (fb_copy_file(src, dst, sha, NULL, NULL) < 0) {
		snprintf(why, len, "%s %s: %s", label, src, strerror(errno));
		return -1;
	}
	return 0;
}
