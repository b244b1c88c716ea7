/*
 * scsi_orwrite.c - SBC-3 commands that are small variations of a read or
 * a write: ORWRITE(16) (the data-out is ORed into the medium, atomically
 * against every other write to the disk, like COMPARE AND WRITE) and
 * PRE-FETCH(10/16) (a hint: the blocks are checked and the answer is
 * GOOD, since the blockdev interface has no cache to fill ahead).
 */
#include <errno.h>
#include <stdlib.h>

#include "iscsi/scsi_cmds.h"

void scsi_cmd_orwrite(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	if (!scsi_protect_ok(r, c) || !scsi_range_ok(lu, r, c->lba, c->nblocks))
		return;
	uint64_t len = (uint64_t)c->nblocks * lu->bs;
	if (len > SCSI_MAX_XFER_BYTES) {
		scsi_invalid_cdb(r);
		return;
	}
	r->out_need = (uint32_t)len;
	if (len == 0)
		return;
	if (lu->bd->readonly) {
		scsi_set_sense(r, SCSI_SENSE_DATA_PROTECT, 0x27, 0x00);
		return;
	}
	if (r->out_len < len) {
		scsi_invalid_cdb(r);
		return;
	}
	uint8_t *buf = malloc(len);
	if (!buf) {
		scsi_io_error(r, -ENOMEM, 1);
		return;
	}
	pthread_rwlock_wrlock(lu->wlock);
	int rc = lu->bd->ops->read(lu->bd, buf, len, c->lba * lu->bs);
	if (rc < 0) {
		scsi_io_error(r, rc, 0);
	} else {
		r->bytes_read += len;
		for (uint64_t i = 0; i < len; i++)
			buf[i] |= r->out[i];
		rc = lu->bd->ops->write(lu->bd, buf, len, c->lba * lu->bs, c->fua ? FB_BD_FUA : 0);
		if (rc < 0)
			scsi_io_error(r, rc, 1);
		else
			r->bytes_written += len;
	}
	pthread_rwlock_unlock(lu->wlock);
	free(buf);
}

void scsi_cmd_prefetch(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	/* IMMED (byte 1 bit 1) and the group number change nothing here. */
	scsi_range_ok(lu, r, c->lba, c->nblocks);
}
