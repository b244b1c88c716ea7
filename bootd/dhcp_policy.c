/*
 * dhcp_policy.c - which boot file a DHCP client gets.
 *
 * The decision is by what the client says it is, never by MAC alone, so
 * iPXE is never handed iPXE again (a chainload loop): iPXE (user-class
 * "iPXE" or option 175) gets the HTTP script; UEFI HTTP Boot (vendor class
 * "HTTPClient") gets an HTTP URL of the iPXE EFI binary; PXE firmware gets
 * an iPXE binary over TFTP by its architecture (option 93; 7 and 9 are
 * both x86-64 UEFI in practice). Plain DHCP clients get no boot file.
 *
 * A machine set to Secure Boot gets its image version's signed UKI
 * (boot.efi) as the boot file itself, by TFTP (PXE, arch 7 or 9) or as an
 * HTTP URL (UEFI HTTP Boot, arch 16): an unsigned loader (iPXE) is never
 * offered to it, and when there is no UKI to give it gets nothing.
 *
 * A machine set to PXELINUX (machines.loader) gets pxelinux.0 instead when
 * it is a BIOS client, and never iPXE: also when the asker is iPXE itself
 * (QEMU's NICs and many others carry iPXE as their option ROM), since
 * pxelinux.0 runs on the ROM's PXE stack and reuses its DHCP answer, with
 * no DHCP of its own, so there is no loop. Debian's pxelinux.0 is BIOS
 * only; a UEFI machine set to PXELINUX gets iPXE as any other machine, and
 * the caller logs that it did.
 */
#include <stdio.h>

#include "bootd.h"
#include "proto/dhcp.h"

enum boot_kind dhcp_boot_file(const struct fb_dhcp_msg *m, struct in_addr server, int http_port,
                              int pxelinux, char *file, size_t len, int *fallback)
{
	char s[FB_IP_LEN];
	ip4_format(server, s);
	int arch = fb_dhcp_client_arch(m);
	int ipxe = fb_dhcp_is_ipxe(m), http = fb_dhcp_vendor_is(m, "HTTPClient");
	*fallback = 0;
	if (pxelinux && !http &&
	    (arch == 0 || (arch < 0 && (ipxe || fb_dhcp_vendor_is(m, "PXEClient"))))) {
		snprintf(file, len, "pxelinux.0");
		return BOOT_TFTP;
	}
	if (pxelinux && (arch > 0 || http))
		*fallback = 1;
	if (ipxe) {
		snprintf(file, len, "http://%s:%d/boot.ipxe", s, http_port);
		return BOOT_URL;
	}
	if (http) {
		const char *bin = arch == 19 || arch == 11 ? "ipxe-arm64.efi" : "ipxe.efi";
		snprintf(file, len, "http://%s:%d/tftp/%s", s, http_port, bin);
		return BOOT_URL;
	}
	if (!fb_dhcp_vendor_is(m, "PXEClient") && arch < 0)
		return BOOT_NONE;
	const char *f;
	switch (arch) {
	case -1:
	case 0:
		f = "undionly.kpxe";
		break;
	case 6:
		f = "ipxe-i386.efi";
		break;
	case 7:
	case 9:
		f = "ipxe.efi";
		break;
	case 10:
		f = "ipxe-arm32.efi";
		break;
	case 11:
		f = "ipxe-arm64.efi";
		break;
	default:
		return BOOT_NONE; /* an architecture we have nothing for */
	}
	snprintf(file, len, "%s", f);
	return BOOT_TFTP;
}

enum boot_kind dhcp_secure_boot_file(const struct fb_dhcp_msg *m, const struct bootd_image *img,
                                     struct in_addr server, int http_port, char *file, size_t len,
                                     const char **why)
{
	char s[FB_IP_LEN];
	ip4_format(server, s);
	int arch = fb_dhcp_client_arch(m);
	int http = fb_dhcp_vendor_is(m, "HTTPClient");
	*why = "";
	if (fb_dhcp_is_ipxe(m)) {
		*why = "it is running iPXE, an unsigned loader: no boot script for it";
		return BOOT_NONE;
	}
	if (!(http ? arch == 16 : arch == 7 || arch == 9)) {
		*why = "it is not an x86-64 UEFI client (option 93 is not 7, 9 or HTTP 16), and "
		       "only UEFI runs a signed UKI";
		return BOOT_NONE;
	}
	if (!img) {
		*why = "it has no image version to boot (a Secure Boot machine boots its image's "
		       "UKI; no menu, no entries)";
		return BOOT_NONE;
	}
	if (!img->verity_root_hash[0]) {
		*why = "its image version has no dm-verity root hash (made before verified boot, "
		       "or its size is not a multiple of 4096)";
		return BOOT_NONE;
	}
	if (!img->has_uki) {
		*why = "its image version has no signed UKI (boot.efi): run `fleetboot key init` "
		       "or `key import`";
		return BOOT_NONE;
	}
	if (http) {
		snprintf(file, len, "http://%s:%d/images/%s/%d/boot.efi", s, http_port, img->name,
		         img->version);
		return BOOT_URL;
	}
	snprintf(file, len, "images/%s/%d/boot.efi", img->name, img->version);
	return BOOT_TFTP;
}
