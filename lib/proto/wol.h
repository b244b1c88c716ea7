/*
 * wol.h - the Wake-on-LAN magic packet (AMD's "Magic Packet" white paper):
 * six bytes of 0xFF, then the target's MAC address sixteen times. A NIC
 * armed for it wakes its machine when it sees that sequence anywhere in a
 * frame addressed to it or to broadcast, whatever the frame's type; bootd
 * sends it twice per interface, as the payload of a UDP broadcast to port
 * 9 and of a raw frame with EtherType 0x0842, which is what firmware of
 * both kinds listens for.
 *
 * Pure code, no I/O.
 */
#ifndef FB_PROTO_WOL_H
#define FB_PROTO_WOL_H

#include <stddef.h>
#include <stdint.h>

#define FB_WOL_LEN       102    /* 6 + 16 * 6 bytes */
#define FB_WOL_ETHERTYPE 0x0842 /* the raw frame's EtherType */
#define FB_WOL_UDP_PORT  9      /* "discard": the UDP port of choice */

/* Build the magic packet for mac into out (FB_WOL_LEN bytes). */
void fb_wol_build(uint8_t out[FB_WOL_LEN], const uint8_t mac[6]);
/* Is p[0..n) a magic packet (at its start) for mac? 1 or 0. Tests use it. */
int fb_wol_match(const uint8_t *p, size_t n, const uint8_t mac[6]);

#endif
