/*
 * scsi_lu.c - SBC-3 block commands over a blockdev: the dispatcher and the
 * commands that move data (READ, WRITE, VERIFY, WRITE SAME, UNMAP,
 * COMPARE AND WRITE, SYNCHRONIZE CACHE). What is served is the table in
 * scsi_opcodes.c; opcodes not in it get ILLEGAL REQUEST / INVALID COMMAND
 * OPERATION CODE, which libiscsi's suite treats as "not implemented"
 * rather than as a failure.
 */
#include "iscsi/scsi_lu.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "proto/scsi_cdb.h"
#include "iscsi/scsi_cmds.h"
#include "iscsi/scsi_info.h"
#include "iscsi/scsi_pr.h"
#include "sha256.h"
#include "str.h"

#define MAX_UNMAP_DESC 256

void scsi_set_sense(struct scsi_req *r, uint8_t key, uint8_t asc, uint8_t ascq)
{
	memset(r->sense, 0, sizeof(r->sense));
	r->sense[0] = 0x70; /* current error, fixed format */
	r->sense[2] = key;
	r->sense[7] = 10; /* additional sense length */
	r->sense[12] = asc;
	r->sense[13] = ascq;
	r->sense_len = 18;
	r->status = SCSI_STATUS_CHECK_CONDITION;
}

static void sense_info(struct scsi_req *r, uint32_t info)
{
	r->sense[0] |= 0x80; /* VALID: the information field is set */
	fb_put_be32(r->sense + 3, info);
}

void scsi_invalid_cdb(struct scsi_req *r)
{
	scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
}

static void lba_out_of_range(struct scsi_req *r)
{
	scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x21, 0x00);
}

static void write_protected(struct scsi_req *r)
{
	scsi_set_sense(r, SCSI_SENSE_DATA_PROTECT, 0x27, 0x00);
}

/* A blockdev error as sense data. */
void scsi_io_error(struct scsi_req *r, int err, int writing)
{
	if (err == -EROFS)
		write_protected(r);
	else if (err == -ENOSPC)
		scsi_set_sense(r, SCSI_SENSE_DATA_PROTECT, 0x27,
		               0x07); /* space allocation failed */
	else if (err == -ENOMEM)
		scsi_set_sense(r, SCSI_SENSE_HARDWARE_ERROR, 0x55, 0x03);
	else if (writing)
		scsi_set_sense(r, SCSI_SENSE_MEDIUM_ERROR, 0x0c, 0x00);
	else
		scsi_set_sense(r, SCSI_SENSE_MEDIUM_ERROR, 0x11, 0x00);
}

/* Sessions of one machine each have their own scsi_lu over the same disk;
 * the lock that makes COMPARE AND WRITE atomic must be shared by them, so
 * it is picked from a fixed set by the disk's address. */
#define WLOCKS 64
static pthread_rwlock_t wlocks[WLOCKS];
static pthread_once_t wlocks_once = PTHREAD_ONCE_INIT;

static void wlocks_init(void)
{
	for (int i = 0; i < WLOCKS; i++)
		pthread_rwlock_init(&wlocks[i], NULL);
}

int scsi_lu_init(struct scsi_lu *lu, struct fb_blockdev *bd, const char *name)
{
	char hex[FB_SHA256_HEX];
	memset(lu, 0, sizeof(*lu));
	lu->bd = bd;
	lu->bs = bd->block_size ? bd->block_size : 512;
	lu->nblocks = bd->size / lu->bs;
	fb_strlcpy(lu->name, name, sizeof(lu->name));
	/* Stable identifiers derived from the target name: the same machine
	 * gets the same serial and NAA across restarts (multipath, udev). */
	fb_sha256_mem(name, strlen(name), hex);
	memcpy(lu->serial, hex, 32);
	lu->serial[32] = 0;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(hex + 32 + 2 * i, "%2x", &v);
		lu->naa[i] = (uint8_t)v;
	}
	if (pthread_once(&wlocks_once, wlocks_init))
		return -1;
	lu->wlock = &wlocks[((uintptr_t)bd >> 6) % WLOCKS];
	return 0;
}

int scsi_lu_attach(struct scsi_lu *lu, const char *initiator, uint64_t isid, const char *aptpl_path)
{
	snprintf(lu->port, sizeof(lu->port), "%s,i,0x%012llx", initiator,
	         (unsigned long long)(isid & 0xffffffffffffull));
	lu->pr = scsi_pr_get(lu->name, aptpl_path);
	return lu->pr ? 0 : -1;
}

void scsi_lu_reset(struct scsi_lu *lu)
{
	if (lu->pr)
		scsi_pr_lu_reset(lu->pr);
}

void scsi_lu_destroy(struct scsi_lu *lu)
{
	if (lu->pr) {
		scsi_pr_nexus_lost(lu->pr, lu->port);
		scsi_pr_put(lu->pr);
		lu->pr = NULL;
	}
	lu->wlock = NULL; /* the striped locks live for the process */
}

/* LBA range check shared by every data command. */
int scsi_range_ok(struct scsi_lu *lu, struct scsi_req *r, uint64_t lba, uint64_t n)
{
	if (lba > lu->nblocks || n > lu->nblocks - lba) {
		lba_out_of_range(r);
		return 0;
	}
	return 1;
}

/* The RDPROTECT/WRPROTECT/VRPROTECT field: no protection information here. */
int scsi_protect_ok(struct scsi_req *r, const struct scsi_cdb *c)
{
	if (c->opcode != SCSI_READ6 && c->opcode != SCSI_WRITE6 && (c->b1 & 0xe0)) {
		scsi_invalid_cdb(r);
		return 0;
	}
	return 1;
}

void scsi_cmd_read(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	if (!scsi_protect_ok(r, c) || !scsi_range_ok(lu, r, c->lba, c->nblocks))
		return;
	uint64_t need = (uint64_t)c->nblocks * lu->bs;
	if (need > SCSI_MAX_XFER_BYTES) {
		scsi_invalid_cdb(r);
		return;
	}
	/* Read only what the transport can carry (residual overflow), in
	 * whole blocks: the engine below works in blocks. */
	uint64_t cap = ((uint64_t)r->edtl + lu->bs - 1) / lu->bs * lu->bs;
	uint64_t want = need < cap ? need : cap;
	r->in_len = (uint32_t)need;
	if (want == 0)
		return;
	r->in = malloc(want);
	if (!r->in) {
		scsi_io_error(r, -ENOMEM, 0);
		r->in_len = 0;
		return;
	}
	int rc = r->nowait ? lu->bd->ops->read_nowait(lu->bd, r->in, want, c->lba * lu->bs)
	                   : lu->bd->ops->read(lu->bd, r->in, want, c->lba * lu->bs);
	if (rc == -EAGAIN && r->nowait) {
		free(r->in);
		r->in = NULL;
		r->in_len = 0;
		r->would_block = 1;
		return;
	}
	if (rc < 0) {
		free(r->in);
		r->in = NULL;
		r->in_len = 0;
		scsi_io_error(r, rc, 0);
		return;
	}
	r->bytes_read += want;
}

static int write_blocks(struct scsi_lu *lu, struct scsi_req *r, const uint8_t *data, uint64_t len,
                        uint64_t lba, unsigned flags)
{
	if (len == 0)
		return 0;
	int rc = lu->bd->ops->write(lu->bd, data, len, lba * lu->bs, flags);
	if (rc < 0) {
		scsi_io_error(r, rc, 1);
		return -1;
	}
	r->bytes_written += len;
	return 0;
}

void scsi_cmd_write(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	if (!scsi_protect_ok(r, c) || !scsi_range_ok(lu, r, c->lba, c->nblocks))
		return;
	uint64_t need = (uint64_t)c->nblocks * lu->bs;
	if (need > SCSI_MAX_XFER_BYTES) {
		scsi_invalid_cdb(r);
		return;
	}
	r->out_need = (uint32_t)need;
	if (lu->bd->readonly) {
		write_protected(r);
		return;
	}
	/* Write the whole blocks the initiator actually sent (residual). */
	uint64_t have = r->out_len < need ? r->out_len : need;
	have -= have % lu->bs;
	int verify = c->opcode == SCSI_WRITE_VERIFY10 || c->opcode == SCSI_WRITE_VERIFY12 ||
	             c->opcode == SCSI_WRITE_VERIFY16;
	unsigned flags = (c->fua || verify) ? FB_BD_FUA : 0;
	if (r->nowait) {
		int rc = -EAGAIN;
		if (!flags && !pthread_rwlock_tryrdlock(lu->wlock)) {
			rc = have ? lu->bd->ops->write_nowait(lu->bd, r->out, have, c->lba * lu->bs)
			          : 0;
			pthread_rwlock_unlock(lu->wlock);
		}
		if (rc == -EAGAIN)
			r->would_block = 1;
		else if (rc < 0)
			scsi_io_error(r, rc, 1);
		else
			r->bytes_written += have;
		return;
	}
	pthread_rwlock_rdlock(lu->wlock);
	write_blocks(lu, r, r->out, have, c->lba, flags);
	pthread_rwlock_unlock(lu->wlock);
}

void scsi_cmd_write_same(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	int ndob = c->opcode == SCSI_WRITE_SAME16 && (c->b1 & 0x01);
	int unmap = (c->b1 & 0x08) != 0;
	/* ANCHOR and the obsolete PBDATA/LBDATA bits are not supported. */
	if (!scsi_protect_ok(r, c) || (c->b1 & 0x16)) {
		if (r->status == SCSI_STATUS_GOOD)
			scsi_invalid_cdb(r);
		return;
	}
	if (c->nblocks == 0 || (uint64_t)c->nblocks * lu->bs > SCSI_MAX_XFER_BYTES) {
		scsi_invalid_cdb(r); /* WSNZ is reported, and the maximum length */
		return;
	}
	if (!scsi_range_ok(lu, r, c->lba, c->nblocks))
		return;
	r->out_need = ndob ? 0 : lu->bs;
	if (lu->bd->readonly) {
		write_protected(r);
		return;
	}
	if (!ndob && r->out_len < lu->bs) {
		scsi_invalid_cdb(r);
		return;
	}
	uint64_t len = (uint64_t)c->nblocks * lu->bs, off = c->lba * lu->bs;
	int rc;
	pthread_rwlock_rdlock(lu->wlock);
	if (ndob || fb_all_zero(r->out, lu->bs)) {
		rc = unmap ? lu->bd->ops->trim(lu->bd, len, off, 0)
		           : lu->bd->ops->zero(lu->bd, len, off, 0);
		if (rc < 0)
			scsi_io_error(r, rc, 1);
		else
			r->bytes_written += len;
	} else {
		/* Repeat the block into a buffer of up to 1 MiB and write it out. */
		uint64_t chunk = len < (1u << 20) ? len : (1u << 20);
		uint8_t *buf = malloc(chunk);
		if (!buf) {
			scsi_io_error(r, -ENOMEM, 1);
		} else {
			for (uint64_t o = 0; o < chunk; o += lu->bs)
				memcpy(buf + o, r->out, lu->bs);
			for (uint64_t done = 0; done < len; done += chunk) {
				uint64_t n = len - done < chunk ? len - done : chunk;
				if (write_blocks(lu, r, buf, n, c->lba + done / lu->bs, 0) < 0)
					break;
			}
			free(buf);
		}
	}
	pthread_rwlock_unlock(lu->wlock);
}

void scsi_cmd_unmap(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	if (c->b1 & 0x01) { /* ANCHOR */
		scsi_invalid_cdb(r);
		return;
	}
	r->out_need = c->alloc_len;
	if (lu->bd->readonly) {
		write_protected(r);
		return;
	}
	uint32_t plen = r->out_len < c->alloc_len ? r->out_len : c->alloc_len;
	if (plen == 0)
		return; /* nothing to do (SBC-3) */
	if (plen < 8) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x1a,
		               0x00); /* parameter list length */
		return;
	}
	const uint8_t *p = r->out;
	uint32_t dlen = fb_get_be16(p + 2);
	if (dlen > plen - 8)
		dlen = (plen - 8) & ~15u;
	uint32_t n = dlen / 16;
	if (n > MAX_UNMAP_DESC) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x26, 0x00);
		return;
	}
	/* Check every descriptor before unmapping anything. */
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d = p + 8 + 16 * i;
		if (!scsi_range_ok(lu, r, fb_get_be64(d), fb_get_be32(d + 8)))
			return;
	}
	pthread_rwlock_rdlock(lu->wlock);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d = p + 8 + 16 * i;
		uint64_t lba = fb_get_be64(d), cnt = fb_get_be32(d + 8);
		if (!cnt)
			continue;
		int rc = lu->bd->ops->trim(lu->bd, cnt * lu->bs, lba * lu->bs, 0);
		if (rc < 0) {
			scsi_io_error(r, rc, 1);
			break;
		}
	}
	pthread_rwlock_unlock(lu->wlock);
}

/* Compare len bytes of the medium at lba with data; returns the offset of
 * the first difference, len if equal, or -1 after setting sense. */
static int64_t compare_medium(struct scsi_lu *lu, struct scsi_req *r, const uint8_t *data,
                              uint64_t len, uint64_t lba, int repeat_block)
{
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		scsi_io_error(r, -ENOMEM, 0);
		return -1;
	}
	int rc = lu->bd->ops->read(lu->bd, buf, len, lba * lu->bs);
	if (rc < 0) {
		free(buf);
		scsi_io_error(r, rc, 0);
		return -1;
	}
	r->bytes_read += len;
	uint64_t i;
	for (i = 0; i < len; i++) {
		uint8_t want = repeat_block ? data[i % lu->bs] : data[i];
		if (buf[i] != want)
			break;
	}
	free(buf);
	return (int64_t)i;
}

static void miscompare(struct scsi_req *r, uint64_t off)
{
	scsi_set_sense(r, SCSI_SENSE_MISCOMPARE, 0x1d, 0x00);
	sense_info(r, (uint32_t)off);
}

void scsi_cmd_verify(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	int bytchk = (c->b1 >> 1) & 3;
	if (!scsi_protect_ok(r, c))
		return;
	if (bytchk == 2) {
		scsi_invalid_cdb(r);
		return;
	}
	if (!scsi_range_ok(lu, r, c->lba, c->nblocks))
		return;
	uint64_t len = (uint64_t)c->nblocks * lu->bs;
	if (len > SCSI_MAX_XFER_BYTES) {
		scsi_invalid_cdb(r);
		return;
	}
	if (bytchk == 0)
		return; /* the medium is always readable: nothing to verify */
	uint64_t need = bytchk == 3 ? lu->bs : len;
	r->out_need = (uint32_t)need;
	if (r->out_len < need) {
		scsi_invalid_cdb(r);
		return;
	}
	int64_t at = compare_medium(lu, r, r->out, len, c->lba, bytchk == 3);
	if (at >= 0 && (uint64_t)at < len)
		miscompare(r, (uint64_t)at);
}

void scsi_cmd_compare_and_write(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	if (!scsi_protect_ok(r, c) || !scsi_range_ok(lu, r, c->lba, c->nblocks))
		return;
	uint64_t len = (uint64_t)c->nblocks * lu->bs;
	r->out_need = (uint32_t)(2 * len);
	if (c->nblocks == 0) {
		/* Nothing to compare; data sent with it means the initiator
		 * meant more blocks than the one-byte field holds. */
		if (r->out_len)
			scsi_invalid_cdb(r);
		return;
	}
	if (lu->bd->readonly) {
		write_protected(r);
		return;
	}
	if (r->out_len != 2 * len) {
		scsi_invalid_cdb(r);
		return;
	}
	pthread_rwlock_wrlock(lu->wlock);
	int64_t at = compare_medium(lu, r, r->out, len, c->lba, 0);
	if (at >= 0 && (uint64_t)at < len)
		miscompare(r, (uint64_t)at);
	else if (at >= 0)
		write_blocks(lu, r, r->out + len, len, c->lba, c->fua ? FB_BD_FUA : 0);
	pthread_rwlock_unlock(lu->wlock);
}

void scsi_cmd_sync_cache(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	if (!scsi_range_ok(lu, r, c->lba, c->nblocks))
		return;
	int rc = lu->bd->ops->flush(lu->bd);
	if (rc < 0)
		scsi_io_error(r, rc, 1);
}

int scsi_lu_nowait_ok(const struct scsi_lu *lu, const uint8_t *cdb)
{
	switch (cdb[0]) {
	case SCSI_READ6:
	case SCSI_READ10:
	case SCSI_READ12:
	case SCSI_READ16:
		return lu->bd->ops->read_nowait != NULL;
	case SCSI_WRITE6:
	case SCSI_WRITE10:
	case SCSI_WRITE12:
	case SCSI_WRITE16:
		return lu->bd->ops->write_nowait != NULL && !lu->bd->readonly;
	default:
		return 0;
	}
}

void scsi_cmd_nop(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	/* TEST UNIT READY; START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL on
	 * a fixed, always-ready disk: nothing to start, lock or eject. */
}

void scsi_lu_exec(struct scsi_lu *lu, struct scsi_req *r)
{
	struct scsi_cdb c;
	r->status = SCSI_STATUS_GOOD;
	r->sense_len = 0;
	r->in = NULL;
	r->in_len = 0;
	r->out_need = 0;
	r->would_block = 0;
	if (r->nowait && !scsi_lu_nowait_ok(lu, r->cdb)) {
		r->would_block = 1;
		return;
	}
	if (scsi_cdb_decode(r->cdb, 16, &c) < 0) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0x00);
		return;
	}
	int opcode_known;
	const struct scsi_op_desc *op = scsi_op_find(c.opcode, c.sa, &opcode_known);
	if (!op) {
		/* Decoded but not served (MODE SELECT, ...), or unknown. An
		 * unsupported service action of PERSISTENT RESERVE IN/OUT is
		 * a field of a command we have (SPC-4 6.15, 6.16). */
		if (opcode_known && (c.opcode == SCSI_PR_IN || c.opcode == SCSI_PR_OUT))
			scsi_invalid_cdb(r);
		else
			scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0x00);
		return;
	}
	/* NACA (ACA) is not supported: a CDB asking for it is invalid. */
	if (c.control & 0x04) {
		scsi_invalid_cdb(r);
		return;
	}
	/* Unit attentions and reservations. Nothing to look at is the
	 * common case and costs one atomic load; otherwise the check takes
	 * the unit's lock, which an event loop leaves to an I/O thread. */
	if (lu->pr && scsi_pr_active(lu->pr)) {
		if (r->nowait) {
			r->would_block = 1;
			return;
		}
		if (scsi_pr_check(lu->pr, lu->port, op->prclass, op->no_ua, r))
			return;
	}
	op->run(lu, r, &c);
}
