/*
 * scsi_info.c - the commands that describe the unit rather than move its
 * data: INQUIRY (standard data and VPD pages), READ CAPACITY, MODE SENSE,
 * REPORT LUNS, REQUEST SENSE, READ DEFECT DATA. Linux's sd and libiscsi's conformance suite
 * read these first and decide from them what else to send (WCE=1 makes
 * Linux send SYNCHRONIZE CACHE; VPD 0xB0/0xB2 make it use UNMAP).
 */
#include "iscsi/scsi_info.h"

#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "proto/scsi_cdb.h"

#define VENDOR   "FLEETBT "
#define PRODUCT  "fleetboot disk  "
#define REVISION "0001"

/* Block limits we report (VPD 0xB0) and enforce. */
#define MAX_UNMAP_DESC 256

/* Hand the built reply to the request: at most alloc_len bytes. */
static void reply(struct scsi_req *r, const uint8_t *buf, uint32_t len, uint32_t alloc_len)
{
	uint32_t n = len < alloc_len ? len : alloc_len;
	if (n == 0)
		return;
	r->in = malloc(n);
	if (!r->in) {
		scsi_set_sense(r, SCSI_SENSE_HARDWARE_ERROR, 0x55,
		               0x03); /* insufficient resources */
		return;
	}
	memcpy(r->in, buf, n);
	r->in_len = n;
}

static uint32_t inquiry_std(struct scsi_lu *lu, uint8_t *b)
{
	memset(b, 0, 96);
	b[0] = 0x00;        /* direct access block device */
	b[2] = 0x06;        /* SPC-4 */
	b[3] = 0x02 | 0x10; /* response format 2, HiSup */
	b[4] = 96 - 5;      /* additional length */
	b[7] = 0x02;        /* CmdQue */
	memcpy(b + 8, VENDOR, 8);
	memcpy(b + 16, PRODUCT, 16);
	memcpy(b + 32, REVISION, 4);
	/* Version descriptors: SAM-5, iSCSI, SPC-4, SBC-3. */
	fb_put_be16(b + 58, 0x00a0);
	fb_put_be16(b + 60, 0x0960);
	fb_put_be16(b + 62, 0x0460);
	fb_put_be16(b + 64, 0x04c0);
	return 96;
}

static uint32_t vpd_devid(struct scsi_lu *lu, uint8_t *b, size_t cap)
{
	size_t o = 4;
	/* NAA IEEE Registered (6), binary, associated with the LU. */
	b[o] = 0x01; /* code set binary */
	b[o + 1] = 0x03;
	b[o + 3] = 16;
	memcpy(b + o + 4, lu->naa, 16);
	b[o + 4] = (uint8_t)(0x60 | (lu->naa[0] & 0x0f));
	o += 20;
	/* T10 vendor identification: vendor + serial, ASCII. */
	size_t sl = strlen(lu->serial);
	b[o] = 0x02;
	b[o + 1] = 0x01;
	b[o + 3] = (uint8_t)(8 + sl);
	memcpy(b + o + 4, VENDOR, 8);
	memcpy(b + o + 12, lu->serial, sl);
	o += 4 + 8 + sl;
	/* SCSI name string of the target device, iSCSI, UTF-8. */
	size_t nl = strlen(lu->name) + 1;
	size_t padded = (nl + 3) & ~(size_t)3;
	if (o + 4 + padded <= cap) {
		b[o] = 0x53;                   /* protocol iSCSI, code set UTF-8 */
		b[o + 1] = 0x80 | 0x20 | 0x08; /* PIV, target device, SCSI name */
		b[o + 3] = (uint8_t)padded;
		memset(b + o + 4, 0, padded);
		memcpy(b + o + 4, lu->name, nl - 1);
		o += 4 + padded;
	}
	b[0] = 0;
	b[1] = 0x83;
	fb_put_be16(b + 2, (uint16_t)(o - 4));
	return (uint32_t)o;
}

static int inquiry_vpd(struct scsi_lu *lu, uint8_t page, uint8_t *b, size_t cap, uint32_t *len)
{
	memset(b, 0, cap);
	b[1] = page;
	switch (page) {
	case 0x00: {
		static const uint8_t pages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};
		memcpy(b + 4, pages, sizeof(pages));
		fb_put_be16(b + 2, (uint16_t)sizeof(pages));
		*len = 4 + sizeof(pages);
		return 0;
	}
	case 0x80: {
		size_t sl = strlen(lu->serial);
		memcpy(b + 4, lu->serial, sl);
		fb_put_be16(b + 2, (uint16_t)sl);
		*len = (uint32_t)(4 + sl);
		return 0;
	}
	case 0x83:
		*len = vpd_devid(lu, b, cap);
		return 0;
	case 0xb0: /* block limits */
		fb_put_be16(b + 2, 0x3c);
		b[4] = 0x01; /* WSNZ: WRITE SAME with 0 blocks is refused */
		b[5] = 255;  /* maximum COMPARE AND WRITE length */
		fb_put_be32(b + 8, SCSI_MAX_XFER_BYTES / lu->bs);
		fb_put_be32(b + 12, (1u << 20) / lu->bs); /* optimal transfer length */
		fb_put_be32(b + 20, 0xffffffffu);         /* maximum unmap LBA count */
		fb_put_be32(b + 24, MAX_UNMAP_DESC);
		fb_put_be32(b + 28, 1);                            /* optimal unmap granularity */
		fb_put_be64(b + 36, SCSI_MAX_XFER_BYTES / lu->bs); /* maximum WRITE SAME length */
		*len = 64;
		return 0;
	case 0xb1: /* block device characteristics */
		fb_put_be16(b + 2, 0x3c);
		fb_put_be16(b + 4, 1); /* non-rotating medium */
		*len = 64;
		return 0;
	case 0xb2: /* logical block provisioning */
		fb_put_be16(b + 2, 4);
		b[5] = 0x80 | 0x40 | 0x20 | 0x04; /* LBPU, LBPWS, LBPWS10, LBPRZ */
		b[6] = 0x02;                      /* thin provisioned */
		*len = 8;
		return 0;
	default:
		return -1;
	}
}

void scsi_inquiry(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	uint8_t b[512];
	uint32_t len;
	int evpd = r->cdb[1] & 0x01;
	if ((r->cdb[1] & 0xfe) || (!evpd && r->cdb[2])) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	if (!evpd)
		len = inquiry_std(lu, b);
	else if (inquiry_vpd(lu, r->cdb[2], b, sizeof(b), &len) < 0) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	reply(r, b, len, c->alloc_len);
}

void scsi_read_capacity10(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	uint8_t b[8];
	/* PMI is obsolete; a non-zero LBA without it is invalid (SBC-3). */
	if (!(r->cdb[8] & 1) && c->lba) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	uint64_t last = lu->nblocks ? lu->nblocks - 1 : 0;
	fb_put_be32(b, last > 0xffffffffu ? 0xffffffffu : (uint32_t)last);
	fb_put_be32(b + 4, lu->bs);
	reply(r, b, 8, 8);
}

void scsi_read_capacity16(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	uint8_t b[32];
	memset(b, 0, sizeof(b));
	fb_put_be64(b, lu->nblocks ? lu->nblocks - 1 : 0);
	fb_put_be32(b + 8, lu->bs);
	b[14] = 0x80 | 0x40; /* LBPME, LBPRZ: unmapped blocks read as zeros */
	reply(r, b, 32, c->alloc_len);
}

void scsi_get_lba_status(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	uint8_t b[24];
	if (c->lba >= lu->nblocks) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x21, 0x00);
		return;
	}
	/* The blockdev interface has no extent map: report everything from
	 * lba on as "mapped or unknown" (status 0), which is always true. */
	uint64_t n = lu->nblocks - c->lba;
	memset(b, 0, sizeof(b));
	fb_put_be32(b, 20);
	fb_put_be64(b + 8, c->lba);
	fb_put_be32(b + 16, n > 0xffffffffu ? 0xffffffffu : (uint32_t)n);
	reply(r, b, sizeof(b), c->alloc_len);
}

void scsi_report_luns(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	uint8_t b[16];
	uint8_t sel = r->cdb[2];
	if (c->alloc_len < 16 || (sel > 2 && sel != 0x10 && sel != 0x11 && sel != 0x12)) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	memset(b, 0, sizeof(b));
	if (sel == 0x01) { /* well-known LUs only: we have none */
		reply(r, b, 8, c->alloc_len);
		return;
	}
	fb_put_be32(b, 8); /* one LUN, number 0 */
	reply(r, b, 16, c->alloc_len);
}

void scsi_request_sense(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	uint8_t b[18];
	if (r->cdb[1] & 0x01) { /* descriptor format not supported */
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	memset(b, 0, sizeof(b));
	b[0] = 0x70;
	b[7] = 10;
	reply(r, b, 18, c->alloc_len);
}

void scsi_read_defect_data(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	/* A virtual disk has no grown or primary defects: the list asked for
	 * comes back empty, in the format asked for (SBC-3 5.11, 5.12). */
	uint8_t b[8];
	int twelve = c->opcode == SCSI_READ_DEFECT12;
	uint8_t what = (twelve ? r->cdb[1] : r->cdb[2]) & 0x1f; /* REQ_PLIST, REQ_GLIST, format */
	memset(b, 0, sizeof(b));
	b[1] = what;
	reply(r, b, twelve ? 8 : 4, c->alloc_len);
}

/* One mode page into b; returns its length, 0 if the page is unknown.
 * pc: 0 current, 1 changeable, 2 default. */
static uint32_t mode_page(uint8_t page, int pc, uint8_t *b)
{
	switch (page) {
	case 0x08: /* caching: volatile write cache on, honestly */
		memset(b, 0, 20);
		b[0] = 0x08;
		b[1] = 0x12;
		if (pc != 1)
			b[2] = 0x04; /* WCE */
		return 20;
	case 0x0a: /* control */
		memset(b, 0, 12);
		b[0] = 0x0a;
		b[1] = 0x0a;
		if (pc != 1) {
			b[3] = 0x10; /* unrestricted reordering of commands allowed */
			fb_put_be16(b + 8, 0xffff); /* busy timeout period: unlimited */
		}
		return 12;
	case 0x1c: /* informational exceptions control: nothing to report */
		memset(b, 0, 12);
		b[0] = 0x1c;
		b[1] = 0x0a;
		return 12;
	default:
		return 0;
	}
}

void scsi_mode_sense(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	uint8_t b[256];
	int ten = c->opcode == SCSI_MODE_SENSE10;
	int dbd = (r->cdb[1] & 0x08) != 0;
	int llbaa = ten && (r->cdb[1] & 0x10);
	uint8_t page = r->cdb[2] & 0x3f, pc = r->cdb[2] >> 6, sub = r->cdb[3];
	if (pc == 3) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x39, 0x00); /* saving unsupported */
		return;
	}
	if (sub != 0 && !(page == 0x3f && sub == 0xff)) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	memset(b, 0, sizeof(b));
	uint32_t hdr = ten ? 8 : 4, o = hdr;
	uint8_t devspec = (uint8_t)(0x10 | (lu->bd->readonly ? 0x80 : 0)); /* DPOFUA, WP */
	if (!dbd) {
		if (llbaa) {
			fb_put_be64(b + o, lu->nblocks);
			fb_put_be32(b + o + 12, lu->bs);
			o += 16;
		} else {
			fb_put_be32(b + o, lu->nblocks > 0xffffffffu ? 0xffffffffu
			                                             : (uint32_t)lu->nblocks);
			fb_put_be32(b + o + 4, lu->bs & 0xffffff);
			o += 8;
		}
	}
	uint32_t bdlen = o - hdr;
	if (page == 0x3f) {
		static const uint8_t all[] = {0x08, 0x0a, 0x1c};
		for (size_t i = 0; i < sizeof(all); i++)
			o += mode_page(all[i], pc, b + o);
	} else {
		uint32_t n = mode_page(page, pc, b + o);
		if (!n) {
			scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
			return;
		}
		o += n;
	}
	if (ten) {
		fb_put_be16(b, (uint16_t)(o - 2));
		b[3] = devspec;
		if (llbaa && !dbd)
			b[4] = 0x01;
		fb_put_be16(b + 6, (uint16_t)bdlen);
	} else {
		b[0] = (uint8_t)(o - 1);
		b[2] = devspec;
		b[3] = (uint8_t)bdlen;
	}
	reply(r, b, o, c->alloc_len);
}
