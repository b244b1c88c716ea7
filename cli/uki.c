/*
 * uki.c - see uki.h.
 */
#include "uki.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "run.h"
#include "sha256.h"

void uki_key_paths(const struct fb_config *cfg, char *key, size_t klen, char *crt, size_t clen)
{
	snprintf(key, klen, "%s/keys/site.key", cfg->state_dir);
	snprintf(crt, clen, "%s/keys/site.crt", cfg->state_dir);
}

int uki_key_present(const struct fb_config *cfg)
{
	char key[FB_PATH_LEN], crt[FB_PATH_LEN];
	uki_key_paths(cfg, key, sizeof(key), crt, sizeof(crt));
	return access(key, F_OK) == 0 && access(crt, F_OK) == 0;
}

int uki_present(const struct fb_image *img)
{
	return img->uki_sha256[0] != '\0';
}

void uki_cmdline(const struct fb_config *cfg, const struct fb_image *img, char *out, size_t len)
{
	/* ip=dhcp: the initramfs configures the NIC it booted from; the
	 * machine is that NIC's MAC; the server is [global] server_address
	 * when set (one address for the whole site, so it may be signed in),
	 * else the DHCP server that answered (next-server, else its server
	 * identifier); the rest of its parameters come from
	 * http://SERVER:HTTP_PORT/boot/MACID/params. The image's own command
	 * line comes last, as in the iPXE script. */
	char server[FB_IP_LEN + 20] = "";
	if (cfg->server_address[0])
		snprintf(server, sizeof(server), " fleetboot.server=%s", cfg->server_address);
	snprintf(out, len,
	         "ip=dhcp fleetboot.image=%s@%d fleetboot.verity=%s fleetboot.verity_salt=%s "
	         "fleetboot.http_port=%d%s console=ttyS0 console=tty0%s%s",
	         img->name, img->version, img->verity_root_hash, img->verity_salt, cfg->http_port,
	         server, img->cmdline[0] ? " " : "", img->cmdline);
}

/* The end (VMA + size) of the stub's last section, from objdump -h. */
static int stub_end(uint64_t *end, char *why, size_t whylen)
{
	static char out[16384];
	char err[256];
	char *argv[] = {"objdump", "-h", UKI_STUB, NULL};
	int rc = run_prog(argv, out, sizeof(out), err, sizeof(err));
	if (rc) {
		snprintf(why, whylen, "objdump -h %s: %s", UKI_STUB, err);
		return -1;
	}
	*end = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		int idx;
		char name[64];
		uint64_t size, vma;
		if (sscanf(line, " %d %63s %" SCNx64 " %" SCNx64, &idx, &name[0], &size, &vma) ==
		        4 &&
		    vma + size > *end)
			*end = vma + size;
	}
	if (!*end) {
		snprintf(why, whylen, "objdump -h %s: no sections", UKI_STUB);
		return -1;
	}
	return 0;
}

static uint64_t align_up(uint64_t v)
{
	return (v + 0xfff) & ~(uint64_t)0xfff;
}

static int file_size(const char *p, uint64_t *sz, char *why, size_t whylen)
{
	struct stat st;
	if (stat(p, &st) < 0) {
		snprintf(why, whylen, "%s: %s", p, strerror(errno));
		return -1;
	}
	*sz = (uint64_t)st.st_size;
	return 0;
}

int uki_build(const struct fb_config *cfg, const struct fb_image *img, const char *dir,
              char sha[FB_SHA256_HEX], char *why, size_t whylen)
{
	char key[FB_PATH_LEN], crt[FB_PATH_LEN], cmdline[1024], err[256];
	char kpath[FB_PATH_LEN + 16], ipath[FB_PATH_LEN + 16], cpath[FB_PATH_LEN + 32];
	char upath[FB_PATH_LEN + 32], spath[FB_PATH_LEN + 32], final[FB_PATH_LEN + 16];
	char sec[3][FB_PATH_LEN + 64], vma[3][64];
	uint64_t end, ksz, isz;

	if (!img->verity_root_hash[0]) {
		snprintf(why, whylen, "%s@%d has no dm-verity root hash: no UKI for it", img->name,
		         img->version);
		return -1;
	}
	if (access(UKI_STUB, R_OK) < 0) {
		snprintf(why, whylen, "%s: %s (install systemd-boot-efi)", UKI_STUB,
		         strerror(errno));
		return -1;
	}
	uki_key_paths(cfg, key, sizeof(key), crt, sizeof(crt));
	snprintf(kpath, sizeof(kpath), "%s/vmlinuz", dir);
	snprintf(ipath, sizeof(ipath), "%s/initrd.img", dir);
	snprintf(cpath, sizeof(cpath), "%s/.uki-cmdline.%d", dir, (int)getpid());
	snprintf(upath, sizeof(upath), "%s/.uki-unsigned.%d", dir, (int)getpid());
	snprintf(spath, sizeof(spath), "%s/.uki-signed.%d", dir, (int)getpid());
	snprintf(final, sizeof(final), "%s/boot.efi", dir);
	uki_cmdline(cfg, img, cmdline, sizeof(cmdline));
	if (stub_end(&end, why, whylen) < 0 || file_size(kpath, &ksz, why, whylen) < 0 ||
	    file_size(ipath, &isz, why, whylen) < 0)
		return -1;
	/* The stub finds the command line NUL-terminated or by section size. */
	if (fb_write_file_atomic(cpath, cmdline, strlen(cmdline) + 1, 0600) < 0) {
		snprintf(why, whylen, "%s: %s", cpath, strerror(errno));
		return -1;
	}
	uint64_t cm = align_up(end);
	uint64_t lx = align_up(cm + strlen(cmdline) + 1);
	uint64_t rd = align_up(lx + ksz);
	snprintf(sec[0], sizeof(sec[0]), ".cmdline=%s", cpath);
	snprintf(sec[1], sizeof(sec[1]), ".linux=%s", kpath);
	snprintf(sec[2], sizeof(sec[2]), ".initrd=%s", ipath);
	snprintf(vma[0], sizeof(vma[0]), ".cmdline=0x%" PRIx64, cm);
	snprintf(vma[1], sizeof(vma[1]), ".linux=0x%" PRIx64, lx);
	snprintf(vma[2], sizeof(vma[2]), ".initrd=0x%" PRIx64, rd);
	char *oc[] = {"objcopy", "--add-section", sec[0], "--change-section-vma",
	              vma[0],    "--add-section", sec[1], "--change-section-vma",
	              vma[1],    "--add-section", sec[2], "--change-section-vma",
	              vma[2],    UKI_STUB,        upath,  NULL};
	int rc = run_prog(oc, NULL, 0, err, sizeof(err));
	unlink(cpath);
	if (rc) {
		unlink(upath);
		snprintf(why, whylen, "assembling the UKI of %s@%d (objcopy): %s", img->name,
		         img->version, err);
		return -1;
	}
	char *sb[] = {"sbsign", "--key", key, "--cert", crt, "--output", spath, upath, NULL};
	rc = run_prog(sb, NULL, 0, err, sizeof(err));
	unlink(upath);
	if (rc) {
		unlink(spath);
		snprintf(why, whylen, "signing the UKI of %s@%d (sbsign): %s%s", img->name,
		         img->version, rc == 127 ? "install sbsigntool; " : "", err);
		return -1;
	}
	if (fb_sha256_file(spath, sha, NULL, NULL) < 0 || chmod(spath, 0640) < 0 ||
	    rename(spath, final) < 0) {
		snprintf(why, whylen, "%s: %s", final, strerror(errno));
		unlink(spath);
		return -1;
	}
	return 0;
}
