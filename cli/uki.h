/*
 * uki.h - the site key (state_dir/keys/site.key, 0600, and site.crt) and
 * the signed UKI of an image version (boot.efi in its folder): systemd's
 * EFI stub (Debian's systemd-boot-efi) with the version's kernel, initrd
 * and command line added as the .cmdline, .linux and .initrd sections
 * (objcopy, binutils), then signed with the site key (sbsign, Debian's
 * sbsigntool). A Secure Boot firmware that trusts the site key runs it
 * directly; under Secure Boot the stub ignores any command line the
 * firmware passes, so the one signed in is the one the kernel gets.
 *
 * The UKI is per version, not per machine: its command line holds only
 * what is the same for every machine (see uki_cmdline); the initramfs
 * learns the rest at boot (README, "Verified boot").
 */
#ifndef FB_CLI_UKI_H
#define FB_CLI_UKI_H

#include <stddef.h>

#include "config.h"
#include "db/db.h"

#define UKI_STUB "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"

/* Paths of the site key and certificate. */
void uki_key_paths(const struct fb_config *cfg, char *key, size_t klen, char *crt, size_t clen);
/* Both files of the site key are there. */
int uki_key_present(const struct fb_config *cfg);
/* The version has its signed UKI (its sha256 recorded). */
int uki_present(const struct fb_image *img);

/* The command line signed into img's UKI: the fleetboot parameters every
 * machine booting this version shares, the dm-verity root hash among them;
 * never a credential, never a machine's identity or the server's address. */
void uki_cmdline(const struct fb_config *cfg, const struct fb_image *img, char *out, size_t len);

/* Build and sign dir/boot.efi from dir/vmlinuz, dir/initrd.img and
 * uki_cmdline (img must have its root hash); written beside and renamed
 * into place, so a reader never sees half a file; its sha256 goes to
 * sha. 0, or -1 with the reason in why. */
int uki_build(const struct fb_config *cfg, const struct fb_image *img, const char *dir,
              char sha[FB_SHA256_HEX], char *why, size_t whylen);

#endif
