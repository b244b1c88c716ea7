/*
 * netaddr.h - MAC and IPv4 address parsing and formatting.
 *
 * A machine id is its MAC in lower-case hex with hyphens
 * ("52-54-00-12-34-56"); every input also accepts colons and upper case.
 */
#ifndef FB_NETADDR_H
#define FB_NETADDR_H

#include <stdint.h>
#include <netinet/in.h>

#define FB_MACID_LEN 18 /* "52-54-00-12-34-56" plus NUL */
#define FB_IP_LEN    16 /* "255.255.255.255" plus NUL */

/* Parse "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" (either case) into 6
 * bytes. Returns 0, or -1 when the text is not exactly such a MAC. */
int mac_parse(const char *s, uint8_t mac[6]);
/* Format as the machine id ("aa-bb-..."), into buf of FB_MACID_LEN. */
char *mac_format(const uint8_t mac[6], char *buf);
/* Normalise any accepted MAC text to the machine id; -1 when invalid. */
int macid_normalize(const char *in, char out[FB_MACID_LEN]);

/* Strict dotted-quad parse (no shorthand, no leading junk). 0 or -1. */
int ip4_parse(const char *s, struct in_addr *out);
char *ip4_format(struct in_addr a, char *buf);
/* Host-order helpers for pool arithmetic. */
uint32_t ip4_host(struct in_addr a);
struct in_addr ip4_from_host(uint32_t h);
/* Parse "A.B.C.D-E.F.G.H" into host-order first/last; -1 when invalid or
 * reversed. */
int ip4_range_parse(const char *s, uint32_t *first, uint32_t *last);
/* Parse "HOST:PORT" or ":PORT" or "PORT" (HOST defaults to def_host). */
int hostport_parse(const char *s, char *host, size_t hostlen, int *port);

#endif
