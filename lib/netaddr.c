/* netaddr.c - see netaddr.h. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

int mac_parse(const char *s, uint8_t mac[6])
{
	char sep = 0;

	if (!s || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = fb_hex_digit((unsigned char)s[i * 3]),
		    lo = fb_hex_digit((unsigned char)s[i * 3 + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		if (i < 5) {
			char c = s[i * 3 + 2];
			if (c != ':' && c != '-')
				return -1;
			if (sep && c != sep)
				return -1; /* mixed separators */
			sep = c;
		}
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *mac_format(const uint8_t mac[6], char *buf)
{
	snprintf(buf, FB_MACID_LEN, "%02x-%02x-%02x-%02x-%02x-%02x", mac[0], mac[1], mac[2], mac[3],
	         mac[4], mac[5]);
	return buf;
}

int macid_normalize(const char *in, char out[FB_MACID_LEN])
{
	uint8_t mac[6];
	if (mac_parse(in, mac) < 0)
		return -1;
	mac_format(mac, out);
	return 0;
}

int ip4_parse(const char *s, struct in_addr *out)
{
	unsigned v[4];
	int n = 0;
	const char *p = s;

	if (!s)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		unsigned x = 0;
		int digits = 0;
		while (isdigit((unsigned char)*p)) {
			x = x * 10 + (unsigned)(*p - '0');
			if (++digits > 3 || x > 255)
				return -1;
			p++;
		}
		if (digits > 1 && p[-digits] == '0')
			return -1; /* no leading zeros: 010 is ambiguous */
		v[n++] = x;
		if (i < 3) {
			if (*p != '.')
				return -1;
			p++;
		}
	}
	if (*p)
		return -1;
	out->s_addr = htonl(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]);
	return 0;
}

char *ip4_format(struct in_addr a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, FB_IP_LEN);
	return buf;
}

uint32_t ip4_host(struct in_addr a)
{
	return ntohl(a.s_addr);
}

struct in_addr ip4_from_host(uint32_t h)
{
	struct in_addr a = {.s_addr = htonl(h)};
	return a;
}

int ip4_range_parse(const char *s, uint32_t *first, uint32_t *last)
{
	char a[FB_IP_LEN], b[FB_IP_LEN];
	const char *dash = s ? strchr(s, '-') : NULL;
	struct in_addr x, y;

	if (!dash || (size_t)(dash - s) >= sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return -1;
	memcpy(a, s, dash - s);
	a[dash - s] = 0;
	strcpy(b, dash + 1);
	if (ip4_parse(a, &x) < 0 || ip4_parse(b, &y) < 0)
		return -1;
	if (ip4_host(x) > ip4_host(y))
		return -1;
	*first = ip4_host(x);
	*last = ip4_host(y);
	return 0;
}

int hostport_parse(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	const char *ps = colon ? colon + 1 : s;
	char *end;
	long p;

	if (!*ps)
		return -1;
	p = strtol(ps, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -1;
	if (colon) {
		size_t n = (size_t)(colon - s);
		if (n >= hostlen)
			return -1;
		memcpy(host, s, n);
		host[n] = 0;
	} else if (hostlen) {
		host[0] = 0;
	}
	*port = (int)p;
	return 0;
}
