/*
 * byteorder.h - reading and writing fixed-width integers in a stated byte
 * order at any address: big-endian for the wire formats (DHCP, TFTP, iSCSI,
 * SCSI CDBs and parameter data), little-endian for the overlay format
 * (cow/FORMAT.md) and iSCSI digests. Byte by byte, so alignment and the
 * host's own order never matter; compilers turn these into single loads,
 * stores and byte swaps.
 *
 * Not named endian.h: with -Ilib it would hide glibc's <endian.h>.
 */
#ifndef FB_BYTEORDER_H
#define FB_BYTEORDER_H

#include <stdint.h>

/* ---- big-endian (network order) ---- */

static inline uint16_t fb_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A 24-bit field (iSCSI DataSegmentLength, SCSI transfer lengths). */
static inline uint32_t fb_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t fb_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t fb_get_be64(const uint8_t *p)
{
	return (uint64_t)fb_get_be32(p) << 32 | fb_get_be32(p + 4);
}

static inline void fb_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The low 24 bits of v. */
static inline void fb_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void fb_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void fb_put_be64(uint8_t *p, uint64_t v)
{
	fb_put_be32(p, (uint32_t)(v >> 32));
	fb_put_be32(p + 4, (uint32_t)v);
}

/* ---- little-endian ---- */

static inline uint32_t fb_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t fb_get_le64(const uint8_t *p)
{
	return (uint64_t)fb_get_le32(p) | (uint64_t)fb_get_le32(p + 4) << 32;
}

static inline void fb_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void fb_put_le64(uint8_t *p, uint64_t v)
{
	fb_put_le32(p, (uint32_t)v);
	fb_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
