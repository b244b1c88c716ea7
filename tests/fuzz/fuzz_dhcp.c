/*
 * fuzz_dhcp.c - the DHCP codec and bootd's boot-file policy on arbitrary
 * datagrams: parse, read every option accessor, pick a boot file, and
 * build a reply to the parsed request, which must parse back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootd/bootd.h"
#include "proto/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fb_dhcp_msg m, back;
	const char *why;
	if (fb_dhcp_parse(&m, data, size, &why) < 0) {
		if (!why)
			abort(); /* every refusal must say why */
		return 0;
	}
	char s[300], file[160];
	struct in_addr a;
	for (int code = 0; code < 256; code++) {
		size_t n;
		const uint8_t *p = fb_dhcp_opt(&m, (uint8_t)code, &n);
		if (p && (p < m.optbuf || p + n > m.optbuf + sizeof(m.optbuf)))
			abort();
		fb_dhcp_opt_str(&m, (uint8_t)code, s, sizeof(s));
		fb_dhcp_opt_ip(&m, (uint8_t)code, &a);
	}
	fb_dhcp_client_arch(&m);
	fb_dhcp_is_ipxe(&m);
	struct in_addr server = {htonl(0x0a000001)};
	int fallback;
	dhcp_boot_file(&m, server, 8067, 0, file, sizeof(file), &fallback);
	dhcp_boot_file(&m, server, 8067, 1, file, sizeof(file), &fallback);
	uint8_t out[1500];
	struct fb_wr w = fb_wr_init(out, sizeof(out));
	struct fb_dhcp_reply r = {.req = &m, .type = FB_DHCPOFFER, .file = "undionly.kpxe"};
	if (fb_dhcp_build_start(&w, &r) < 0)
		abort();
	size_t gl;
	const uint8_t *guid = fb_dhcp_opt(&m, FB_OPT_UUID, &gl);
	if (guid)
		fb_dhcp_put(&w, FB_OPT_UUID, guid, gl);
	int n = fb_dhcp_build_end(&w);
	if (n > 0 && (m.hlen <= 16) && fb_dhcp_parse(&back, out, (size_t)n, &why) < 0)
		abort(); /* our own reply must parse */
	return 0;
}
