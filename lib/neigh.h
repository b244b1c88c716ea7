/*
 * neigh.h - the kernel's neighbour (ARP) table: one entry asked of the kernel
 * (the device the route to the address leaves by), else the whole table
 * read through libnl-route.
 * bootd and storaged use it to learn which MAC stands behind a peer
 * address when no lease of theirs says so (proxy DHCP mode, where another
 * server hands out the addresses).
 */
#ifndef FB_NEIGH_H
#define FB_NEIGH_H

#include <netinet/in.h>
#include <stdint.h>

/* The MAC of a reachable (or stale) IPv4 neighbour. 0, or -1 if unknown. */
int fb_neigh_lookup(struct in_addr ip, uint8_t mac[6]);

/* The entry on the device the route to ip leaves by, asked of the kernel
 * alone (no dump: the cost does not grow with the table). 0, or -1 if it
 * has none there (fb_neigh_lookup then reads the whole table). */
int fb_neigh_get_one(struct in_addr ip, uint8_t mac[6]);

#endif
