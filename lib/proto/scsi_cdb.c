/* scsi_cdb.c - see scsi_cdb.h. */
#include "proto/scsi_cdb.h"

#include <string.h>

#include "byteorder.h"

/* CDB length from the group code (SPC-4 4.2.5.1). */
static uint8_t group_len(uint8_t op)
{
	switch (op >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		return 16; /* reserved / vendor: take the most we may have */
	}
}

int scsi_cdb_decode(const uint8_t *cdb, size_t len, struct scsi_cdb *c)
{
	memset(c, 0, sizeof(*c));
	if (len < 1)
		return -1;
	c->opcode = cdb[0];
	c->cdb_len = group_len(cdb[0]);
	if (len < c->cdb_len)
		return -1;
	c->b1 = cdb[1];
	c->control = cdb[c->cdb_len - 1];
	c->known = 1;
	c->dir = SCSI_DIR_NONE;
	switch (c->opcode) {
	case SCSI_TEST_UNIT_READY:
	case SCSI_START_STOP:
	case SCSI_PREVENT_ALLOW:
	case SCSI_RESERVE6:
	case SCSI_RELEASE6:
		break;
	case SCSI_RESERVE10:
	case SCSI_RELEASE10:
		/* Third-party reservations carry a parameter list. */
		c->alloc_len = fb_get_be16(cdb + 7);
		c->dir = c->alloc_len ? SCSI_DIR_OUT : SCSI_DIR_NONE;
		break;
	case SCSI_READ_DEFECT10:
		c->alloc_len = fb_get_be16(cdb + 7);
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_READ_DEFECT12:
		c->alloc_len = fb_get_be32(cdb + 6);
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_PR_IN:
		c->sa = cdb[1] & 0x1f;
		c->alloc_len = fb_get_be16(cdb + 7);
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_PR_OUT:
		c->sa = cdb[1] & 0x1f;
		c->alloc_len = fb_get_be32(cdb + 5);
		c->dir = SCSI_DIR_OUT;
		break;
	case SCSI_PREFETCH10:
		c->is_rw = 1;
		c->lba = fb_get_be32(cdb + 2);
		c->nblocks = fb_get_be16(cdb + 7);
		break;
	case SCSI_PREFETCH16:
		c->is_rw = 1;
		c->lba = fb_get_be64(cdb + 2);
		c->nblocks = fb_get_be32(cdb + 10);
		break;
	case SCSI_REQUEST_SENSE:
		c->alloc_len = cdb[4];
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_READ6:
	case SCSI_WRITE6:
		c->is_rw = 1;
		c->lba = (uint64_t)(cdb[1] & 0x1f) << 16 | fb_get_be16(cdb + 2);
		c->nblocks = cdb[4] ? cdb[4] : 256; /* SBC-3: 0 means 256 */
		c->dir = c->opcode == SCSI_READ6 ? SCSI_DIR_IN : SCSI_DIR_OUT;
		break;
	case SCSI_INQUIRY:
		c->alloc_len = fb_get_be16(cdb + 3);
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_MODE_SENSE6:
		c->alloc_len = cdb[4];
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_MODE_SELECT6:
		c->alloc_len = cdb[4];
		c->dir = SCSI_DIR_OUT;
		break;
	case SCSI_MODE_SENSE10:
		c->alloc_len = fb_get_be16(cdb + 7);
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_MODE_SELECT10:
		c->alloc_len = fb_get_be16(cdb + 7);
		c->dir = SCSI_DIR_OUT;
		break;
	case SCSI_READ_CAPACITY10:
		c->lba = fb_get_be32(cdb + 2);
		c->alloc_len = 8;
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_READ10:
	case SCSI_WRITE10:
	case SCSI_WRITE_VERIFY10:
	case SCSI_VERIFY10:
	case SCSI_SYNC_CACHE10:
	case SCSI_WRITE_SAME10:
		c->is_rw = c->opcode != SCSI_SYNC_CACHE10;
		c->lba = fb_get_be32(cdb + 2);
		c->nblocks = fb_get_be16(cdb + 7);
		break;
	case SCSI_READ12:
	case SCSI_WRITE12:
	case SCSI_WRITE_VERIFY12:
	case SCSI_VERIFY12:
		c->is_rw = 1;
		c->lba = fb_get_be32(cdb + 2);
		c->nblocks = fb_get_be32(cdb + 6);
		break;
	case SCSI_READ16:
	case SCSI_WRITE16:
	case SCSI_ORWRITE16:
	case SCSI_WRITE_VERIFY16:
	case SCSI_VERIFY16:
	case SCSI_SYNC_CACHE16:
	case SCSI_WRITE_SAME16:
		c->is_rw = c->opcode != SCSI_SYNC_CACHE16;
		c->lba = fb_get_be64(cdb + 2);
		c->nblocks = fb_get_be32(cdb + 10);
		break;
	case SCSI_COMPARE_AND_WRITE:
		c->is_rw = 1;
		c->lba = fb_get_be64(cdb + 2);
		c->nblocks = cdb[13];
		c->dir = SCSI_DIR_OUT;
		break;
	case SCSI_UNMAP:
		c->alloc_len = fb_get_be16(cdb + 7);
		c->dir = SCSI_DIR_OUT;
		break;
	case SCSI_SERVICE_ACTION_IN16:
		c->sa = cdb[1] & 0x1f;
		c->lba = fb_get_be64(cdb + 2);
		c->alloc_len = fb_get_be32(cdb + 10);
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_MAINTENANCE_IN:
		c->sa = cdb[1] & 0x1f;
		c->alloc_len = fb_get_be32(cdb + 6);
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_REPORT_LUNS:
		c->alloc_len = fb_get_be32(cdb + 6);
		c->dir = SCSI_DIR_IN;
		break;
	default:
		c->known = 0;
		break;
	}
	switch (c->opcode) {
	case SCSI_READ6:
	case SCSI_READ10:
	case SCSI_READ12:
	case SCSI_READ16:
		c->dir = SCSI_DIR_IN;
		break;
	case SCSI_WRITE10:
	case SCSI_WRITE12:
	case SCSI_WRITE16:
	case SCSI_ORWRITE16:
	case SCSI_WRITE_VERIFY10:
	case SCSI_WRITE_VERIFY12:
	case SCSI_WRITE_VERIFY16:
		c->dir = SCSI_DIR_OUT;
		break;
	case SCSI_WRITE_SAME10:
		c->dir = SCSI_DIR_OUT;
		break;
	case SCSI_WRITE_SAME16:
		c->dir = (cdb[1] & 0x01) ? SCSI_DIR_NONE : SCSI_DIR_OUT; /* NDOB */
		break;
	case SCSI_VERIFY10:
	case SCSI_VERIFY12:
	case SCSI_VERIFY16:
		/* BYTCHK 01b and 11b send data to compare against. */
		c->dir = (cdb[1] & 0x02) ? SCSI_DIR_OUT : SCSI_DIR_NONE;
		break;
	default:
		break;
	}
	/* PRE-FETCH: byte 1 holds IMMED, not DPO/FUA. */
	if (c->is_rw && c->opcode != SCSI_PREFETCH10 && c->opcode != SCSI_PREFETCH16) {
		c->fua = (c->b1 & 0x08) != 0;
		c->dpo = (c->b1 & 0x10) != 0;
	}
	return 0;
}

uint64_t scsi_cdb_data_out_len(const struct scsi_cdb *c, uint32_t block_size)
{
	if (c->dir != SCSI_DIR_OUT)
		return 0;
	switch (c->opcode) {
	case SCSI_WRITE_SAME10:
	case SCSI_WRITE_SAME16:
		return block_size;
	case SCSI_COMPARE_AND_WRITE:
		return 2ull * c->nblocks * block_size;
	case SCSI_VERIFY10:
	case SCSI_VERIFY12:
	case SCSI_VERIFY16:
		/* BYTCHK 11b: one block compared against every block. */
		return ((c->b1 >> 1) & 3) == 3 ? block_size : (uint64_t)c->nblocks * block_size;
	case SCSI_UNMAP:
	case SCSI_MODE_SELECT6:
	case SCSI_MODE_SELECT10:
	case SCSI_PR_OUT:
	case SCSI_RESERVE10:
	case SCSI_RELEASE10:
		return c->alloc_len;
	default:
		return (uint64_t)c->nblocks * block_size;
	}
}
