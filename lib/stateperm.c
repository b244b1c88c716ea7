/* stateperm.c - see stateperm.h. */
#include "stateperm.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

void fb_umask_private(void)
{
	umask(FB_UMASK);
}

int fb_state_tighten(const char *state_dir)
{
	struct stat st;
	if (stat(state_dir, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	mode_t mode = st.st_mode & 07777;
	if (!(mode & ~(mode_t)FB_STATE_DIR_MODE))
		return 0;
	if (chmod(state_dir, mode & FB_STATE_DIR_MODE) < 0)
		return -1;
	return 1;
}

/* nftw passes no argument to its callback: the owner goes through here. */
static uid_t give_uid;
static gid_t give_gid;

static int give_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	if (st->st_uid == give_uid && st->st_gid == give_gid)
		return 0;
	return lchown(path, give_uid, give_gid) < 0 ? -1 : 0;
}

int fb_state_give(const char *state_dir, const char *path)
{
	struct stat st;
	if (geteuid() != 0)
		return 0;
	if (stat(state_dir, &st) < 0)
		return -1;
	if (st.st_uid == 0)
		return 0;
	give_uid = st.st_uid;
	give_gid = st.st_gid;
	return nftw(path, give_one, 16, FTW_PHYS) != 0 ? -1 : 0;
}
