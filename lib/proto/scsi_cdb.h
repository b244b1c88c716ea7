/*
 * scsi_cdb.h - decode the SCSI command descriptor blocks a block target
 * serves (SPC-4, SBC-3), no I/O. The decoder only pulls fields out; the
 * target decides what each command means and which fields are invalid.
 */
#ifndef FB_SCSI_CDB_H
#define FB_SCSI_CDB_H

#include <stddef.h>
#include <stdint.h>

enum scsi_op {
	SCSI_TEST_UNIT_READY = 0x00,
	SCSI_REQUEST_SENSE = 0x03,
	SCSI_READ6 = 0x08,
	SCSI_WRITE6 = 0x0a,
	SCSI_INQUIRY = 0x12,
	SCSI_MODE_SELECT6 = 0x15,
	SCSI_RESERVE6 = 0x16,
	SCSI_RELEASE6 = 0x17,
	SCSI_MODE_SENSE6 = 0x1a,
	SCSI_START_STOP = 0x1b,
	SCSI_PREVENT_ALLOW = 0x1e,
	SCSI_READ_CAPACITY10 = 0x25,
	SCSI_READ10 = 0x28,
	SCSI_WRITE10 = 0x2a,
	SCSI_WRITE_VERIFY10 = 0x2e,
	SCSI_VERIFY10 = 0x2f,
	SCSI_PREFETCH10 = 0x34,
	SCSI_SYNC_CACHE10 = 0x35,
	SCSI_READ_DEFECT10 = 0x37,
	SCSI_WRITE_SAME10 = 0x41,
	SCSI_UNMAP = 0x42,
	SCSI_MODE_SELECT10 = 0x55,
	SCSI_RESERVE10 = 0x56,
	SCSI_RELEASE10 = 0x57,
	SCSI_MODE_SENSE10 = 0x5a,
	SCSI_PR_IN = 0x5e,
	SCSI_PR_OUT = 0x5f,
	SCSI_READ16 = 0x88,
	SCSI_COMPARE_AND_WRITE = 0x89,
	SCSI_WRITE16 = 0x8a,
	SCSI_ORWRITE16 = 0x8b,
	SCSI_WRITE_VERIFY16 = 0x8e,
	SCSI_VERIFY16 = 0x8f,
	SCSI_PREFETCH16 = 0x90,
	SCSI_SYNC_CACHE16 = 0x91,
	SCSI_WRITE_SAME16 = 0x93,
	SCSI_SERVICE_ACTION_IN16 = 0x9e,
	SCSI_REPORT_LUNS = 0xa0,
	SCSI_MAINTENANCE_IN = 0xa3,
	SCSI_READ12 = 0xa8,
	SCSI_WRITE12 = 0xaa,
	SCSI_WRITE_VERIFY12 = 0xae,
	SCSI_VERIFY12 = 0xaf,
	SCSI_READ_DEFECT12 = 0xb7,
};

#define SCSI_SAI_READ_CAPACITY16 0x10
#define SCSI_SAI_GET_LBA_STATUS  0x12
#define SCSI_MI_REPORT_OPCODES   0x0c

/* What a command does with its data, for the transport. */
enum scsi_dir { SCSI_DIR_NONE, SCSI_DIR_IN, SCSI_DIR_OUT };

struct scsi_cdb {
	uint8_t opcode;     /* byte 0 */
	uint8_t sa;         /* service action (0x5e, 0x5f, 0x9e, 0xa3), else 0 */
	uint8_t cdb_len;    /* 6, 10, 12 or 16 by the opcode's group */
	uint8_t b1;         /* byte 1 (flags: FUA, DPO, UNMAP, BYTCHK, ...) */
	uint8_t control;    /* the control byte (last byte) */
	int known;          /* the opcode is one this decoder knows */
	int is_rw;          /* READ/WRITE/VERIFY/WRITE SAME/COMPARE/ORWRITE/PRE-FETCH:
	                     * lba+nblocks valid */
	enum scsi_dir dir;  /* data direction */
	uint64_t lba;       /* logical block address */
	uint32_t nblocks;   /* transfer length in blocks */
	uint32_t alloc_len; /* allocation or parameter list length (PR OUT, RESERVE(10)) */
	int fua, dpo;       /* force unit access, disable page out */
};

/* Decode cdb (len bytes, at least the opcode group's length). Returns 0,
 * or -1 if len is too short for the opcode's group. Unknown opcodes decode
 * with known = 0. */
int scsi_cdb_decode(const uint8_t *cdb, size_t len, struct scsi_cdb *c);

/* Bytes of data-out the command carries for the given block size (what
 * the transport must collect before running it), from the CDB alone. */
uint64_t scsi_cdb_data_out_len(const struct scsi_cdb *c, uint32_t block_size);

#endif
