/*
 * svc_reach.h - can the service user reach the state directory?
 *
 * `fleetboot init`, run as root, gives the state tree to the service user,
 * and the daemons drop to it. If a directory above the state directory is
 * closed to that user (a 0700 temporary directory, a private home), every
 * file it serves then fails with "Permission denied" while the tree looks
 * fine to root. init checks first and refuses, naming the directory.
 */
#ifndef FB_CLI_SVC_REACH_H
#define FB_CLI_SVC_REACH_H

#include <stddef.h>
#include <sys/types.h>

/* The user who will own the state tree: name, uid, gid. */
struct svc_user {
	char name[64]; /* user name, or "uid N" when it has none */
	uid_t uid;
	gid_t gid;
};

/*
 * Whom the daemons will run as once init has run as root: the owner of
 * state_dir when it already belongs to someone other than root, else the
 * user env_name names (FLEETBOOT_USER, or "fleetboot" when NULL or empty)
 * when that user exists and is not root. 1 with *u filled, 0 when the tree
 * stays root's (not root, no such user, or the user is root).
 */
int svc_user_for(const char *state_dir, const char *env_name, struct svc_user *u);

/*
 * Check, as u in a child process (its uid, gid and groups, so ACLs and
 * group bits count as the kernel sees them), that every existing directory
 * above state_dir (an absolute path) can be searched. 0 when it can; 1
 * when not, with one line in msg naming the first directory that blocks,
 * its mode and owner, and the ways out; -1 with errno when the check could
 * not run.
 */
int svc_reach_check(const char *state_dir, const struct svc_user *u, char *msg, size_t msglen);

/*
 * Create the missing directories above state_dir 0755, so that the ones
 * init makes do not shut the service user out (the umask, 077, would
 * make them 0700 root). 0 or -1 with errno.
 */
int svc_make_parents(const char *state_dir);

#endif
