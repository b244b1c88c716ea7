/*
 * scsi_cmds.h - the commands a logical unit serves, as the dispatcher
 * (scsi_lu.c) and REPORT SUPPORTED OPERATION CODES (scsi_opcodes.c) both
 * see them: one table, scsi_ops[], is the single truth of what is
 * supported, so what RSOC reports cannot drift from what is dispatched.
 * Also the helpers the command files share.
 */
#ifndef FB_SCSI_CMDS_H
#define FB_SCSI_CMDS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/scsi_cdb.h"
#include "iscsi/scsi_lu.h"

typedef void scsi_cmd_fn(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);

/* How a reservation held by another I_T nexus affects a command (SPC-4
 * 5.13.1 table 63, SBC-3 4.17; SPC-2 5.5.1 for RESERVE/RELEASE). */
enum scsi_prclass {
	SCSI_PRC_ALWAYS, /* INQUIRY, REPORT LUNS, ...: never a conflict */
	SCSI_PRC_PR,     /* allowed under a persistent reservation, not under RESERVE(6) */
	SCSI_PRC_READ,   /* conflicts under the exclusive-access types */
	SCSI_PRC_WRITE,  /* conflicts under every type for a nexus without access */
};

struct scsi_op_desc {
	uint8_t opcode;
	uint8_t sa;        /* service action, when has_sa */
	uint8_t has_sa;    /* the opcode has service actions (SERVACTV) */
	uint8_t prclass;   /* enum scsi_prclass */
	uint8_t no_ua;     /* a pending unit attention is not reported to it */
	uint8_t len;       /* CDB length */
	uint8_t usage[16]; /* CDB USAGE DATA: the bits the unit evaluates */
	scsi_cmd_fn *run;
};

extern const struct scsi_op_desc scsi_ops[];
extern const size_t scsi_nops;

/* The table row for opcode/sa, or NULL. *opcode_known says whether some
 * row has the opcode (the service action alone was not found). */
const struct scsi_op_desc *scsi_op_find(uint8_t opcode, uint8_t sa, int *opcode_known);

/* scsi_opcodes.c */
scsi_cmd_fn scsi_report_opcodes;

/* scsi_lu.c */
scsi_cmd_fn scsi_cmd_nop, scsi_cmd_read, scsi_cmd_write, scsi_cmd_write_same, scsi_cmd_unmap,
    scsi_cmd_verify, scsi_cmd_compare_and_write, scsi_cmd_sync_cache;
int scsi_range_ok(struct scsi_lu *lu, struct scsi_req *r, uint64_t lba, uint64_t n);
int scsi_protect_ok(struct scsi_req *r, const struct scsi_cdb *c);
void scsi_io_error(struct scsi_req *r, int err, int writing);
void scsi_invalid_cdb(struct scsi_req *r);

/* scsi_orwrite.c */
scsi_cmd_fn scsi_cmd_orwrite, scsi_cmd_prefetch;

/* scsi_pr.c */
scsi_cmd_fn scsi_cmd_pr_in, scsi_cmd_pr_out, scsi_cmd_reserve, scsi_cmd_release;

#endif
