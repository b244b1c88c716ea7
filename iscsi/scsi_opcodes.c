/*
 * scsi_opcodes.c - the table of every command the unit serves, and
 * REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) built from it. The
 * dispatcher in scsi_lu.c runs a command only through this table, so the
 * list Linux and libiscsi read (Linux decides WRITE SAME and others from
 * it) is the list that is dispatched.
 *
 * CDB USAGE DATA marks the bits the unit evaluates: DPO and FUA where
 * MODE SENSE reports DPOFUA, the fields of each CDB, and the NACA bit of
 * the control byte (refused when set). Protection fields (RDPROTECT, ...)
 * are left out: any value but zero is refused as an invalid field.
 *
 * Not served, on purpose: EXTENDED COPY and RECEIVE COPY RESULTS. A copy
 * names its source and destination by identification descriptors, and
 * here every machine is its own target with its own LU: a copy between
 * two LUs would let one machine's initiator read or write another's disk,
 * the isolation this target exists to keep. Within one LU it would be
 * safe but buys nothing: the copy-on-write engine has no cheaper path than
 * reading and writing the blocks, which the initiator can do itself, and
 * the segment-descriptor parser would be a large new surface for hostile
 * clients. They answer INVALID COMMAND OPERATION CODE, as with tgt.
 */
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "iscsi/scsi_cmds.h"
#include "iscsi/scsi_info.h"

#define CTL  0x04 /* control byte: NACA is evaluated (and refused) */
#define L4   0xff, 0xff, 0xff, 0xff
#define L8   L4, L4
#define NOSA 0, 0

/* Shorthands: opcode, service action, prclass, no_ua, length, usage. */
#define OP(o, pc, len, run, ...)                                                                   \
	{                                                                                          \
		o, NOSA, pc, 0, len, {o, __VA_ARGS__}, run                                         \
	}
#define SA(o, s, pc, len, run, ...)                                                                \
	{                                                                                          \
		o, s, 1, pc, 0, len, {o, __VA_ARGS__}, run                                         \
	}
#define NOUA(o, len, run, ...)                                                                     \
	{                                                                                          \
		o, NOSA, SCSI_PRC_ALWAYS, 1, len, {o, __VA_ARGS__}, run                            \
	}

enum { ALW = SCSI_PRC_ALWAYS, PRA = SCSI_PRC_PR, RD = SCSI_PRC_READ, WR = SCSI_PRC_WRITE };

const struct scsi_op_desc scsi_ops[] = {
    OP(SCSI_TEST_UNIT_READY, PRA, 6, scsi_cmd_nop, 0, 0, 0, 0, CTL),
    NOUA(SCSI_REQUEST_SENSE, 6, scsi_request_sense, 0x01, 0, 0, 0xff, CTL),
    OP(SCSI_READ6, RD, 6, scsi_cmd_read, 0x1f, 0xff, 0xff, 0xff, CTL),
    OP(SCSI_WRITE6, WR, 6, scsi_cmd_write, 0x1f, 0xff, 0xff, 0xff, CTL),
    NOUA(SCSI_INQUIRY, 6, scsi_inquiry, 0x01, 0xff, 0xff, 0xff, CTL),
    OP(SCSI_RESERVE6, PRA, 6, scsi_cmd_reserve, 0, 0, 0, 0, CTL),
    OP(SCSI_RELEASE6, ALW, 6, scsi_cmd_release, 0, 0, 0, 0, CTL),
    OP(SCSI_MODE_SENSE6, RD, 6, scsi_mode_sense, 0x08, 0xff, 0xff, 0xff, CTL),
    OP(SCSI_START_STOP, WR, 6, scsi_cmd_nop, 0, 0, 0, 0, CTL),
    OP(SCSI_PREVENT_ALLOW, PRA, 6, scsi_cmd_nop, 0, 0, 0, 0, CTL),
    OP(SCSI_READ_CAPACITY10, PRA, 10, scsi_read_capacity10, 0, L4, 0, 0, 0x01, CTL),
    OP(SCSI_READ10, RD, 10, scsi_cmd_read, 0x18, L4, 0, 0xff, 0xff, CTL),
    OP(SCSI_WRITE10, WR, 10, scsi_cmd_write, 0x18, L4, 0, 0xff, 0xff, CTL),
    OP(SCSI_WRITE_VERIFY10, WR, 10, scsi_cmd_write, 0x10, L4, 0, 0xff, 0xff, CTL),
    OP(SCSI_VERIFY10, RD, 10, scsi_cmd_verify, 0x16, L4, 0, 0xff, 0xff, CTL),
    OP(SCSI_PREFETCH10, RD, 10, scsi_cmd_prefetch, 0x02, L4, 0, 0xff, 0xff, CTL),
    OP(SCSI_SYNC_CACHE10, WR, 10, scsi_cmd_sync_cache, 0, L4, 0, 0xff, 0xff, CTL),
    OP(SCSI_READ_DEFECT10, RD, 10, scsi_read_defect_data, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, CTL),
    OP(SCSI_WRITE_SAME10, WR, 10, scsi_cmd_write_same, 0x08, L4, 0, 0xff, 0xff, CTL),
    OP(SCSI_UNMAP, WR, 10, scsi_cmd_unmap, 0, 0, 0, 0, 0, 0, 0xff, 0xff, CTL),
    OP(SCSI_RESERVE10, PRA, 10, scsi_cmd_reserve, 0, 0, 0, 0, 0, 0, 0xff, 0xff, CTL),
    OP(SCSI_RELEASE10, ALW, 10, scsi_cmd_release, 0, 0, 0, 0, 0, 0, 0xff, 0xff, CTL),
    OP(SCSI_MODE_SENSE10, RD, 10, scsi_mode_sense, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, CTL),
    SA(SCSI_PR_IN, 0x00, PRA, 10, scsi_cmd_pr_in, 0x00, 0, 0, 0, 0, 0, 0xff, 0xff, CTL),
    SA(SCSI_PR_IN, 0x01, PRA, 10, scsi_cmd_pr_in, 0x01, 0, 0, 0, 0, 0, 0xff, 0xff, CTL),
    SA(SCSI_PR_IN, 0x02, PRA, 10, scsi_cmd_pr_in, 0x02, 0, 0, 0, 0, 0, 0xff, 0xff, CTL),
    SA(SCSI_PR_IN, 0x03, PRA, 10, scsi_cmd_pr_in, 0x03, 0, 0, 0, 0, 0, 0xff, 0xff, CTL),
    SA(SCSI_PR_OUT, 0x00, PRA, 10, scsi_cmd_pr_out, 0x00, 0xff, 0, 0, L4, CTL),
    SA(SCSI_PR_OUT, 0x01, PRA, 10, scsi_cmd_pr_out, 0x01, 0xff, 0, 0, L4, CTL),
    SA(SCSI_PR_OUT, 0x02, PRA, 10, scsi_cmd_pr_out, 0x02, 0xff, 0, 0, L4, CTL),
    SA(SCSI_PR_OUT, 0x03, PRA, 10, scsi_cmd_pr_out, 0x03, 0xff, 0, 0, L4, CTL),
    SA(SCSI_PR_OUT, 0x04, PRA, 10, scsi_cmd_pr_out, 0x04, 0xff, 0, 0, L4, CTL),
    SA(SCSI_PR_OUT, 0x05, PRA, 10, scsi_cmd_pr_out, 0x05, 0xff, 0, 0, L4, CTL),
    SA(SCSI_PR_OUT, 0x06, PRA, 10, scsi_cmd_pr_out, 0x06, 0xff, 0, 0, L4, CTL),
    OP(SCSI_READ16, RD, 16, scsi_cmd_read, 0x18, L8, L4, 0, CTL),
    OP(SCSI_COMPARE_AND_WRITE, WR, 16, scsi_cmd_compare_and_write, 0x18, L8, 0, 0, 0, 0xff, 0, CTL),
    OP(SCSI_WRITE16, WR, 16, scsi_cmd_write, 0x18, L8, L4, 0, CTL),
    OP(SCSI_ORWRITE16, WR, 16, scsi_cmd_orwrite, 0x18, L8, L4, 0, CTL),
    OP(SCSI_WRITE_VERIFY16, WR, 16, scsi_cmd_write, 0x10, L8, L4, 0, CTL),
    OP(SCSI_VERIFY16, RD, 16, scsi_cmd_verify, 0x16, L8, L4, 0, CTL),
    OP(SCSI_PREFETCH16, RD, 16, scsi_cmd_prefetch, 0x02, L8, L4, 0, CTL),
    OP(SCSI_SYNC_CACHE16, WR, 16, scsi_cmd_sync_cache, 0, L8, L4, 0, CTL),
    OP(SCSI_WRITE_SAME16, WR, 16, scsi_cmd_write_same, 0x09, L8, L4, 0, CTL),
    SA(SCSI_SERVICE_ACTION_IN16, SCSI_SAI_READ_CAPACITY16, PRA, 16, scsi_read_capacity16,
       SCSI_SAI_READ_CAPACITY16, 0, 0, 0, 0, 0, 0, 0, 0, L4, 0, CTL),
    SA(SCSI_SERVICE_ACTION_IN16, SCSI_SAI_GET_LBA_STATUS, RD, 16, scsi_get_lba_status,
       SCSI_SAI_GET_LBA_STATUS, L8, L4, 0, CTL),
    {SCSI_REPORT_LUNS,
     NOSA,
     SCSI_PRC_ALWAYS,
     1,
     12,
     {SCSI_REPORT_LUNS, 0, 0xff, 0, 0, 0, L4, 0, CTL},
     scsi_report_luns},
    SA(SCSI_MAINTENANCE_IN, SCSI_MI_REPORT_OPCODES, ALW, 12, scsi_report_opcodes,
       SCSI_MI_REPORT_OPCODES, 0x87, 0xff, 0xff, 0xff, L4, 0, CTL),
    OP(SCSI_READ12, RD, 12, scsi_cmd_read, 0x18, L4, L4, 0, CTL),
    OP(SCSI_WRITE12, WR, 12, scsi_cmd_write, 0x18, L4, L4, 0, CTL),
    OP(SCSI_WRITE_VERIFY12, WR, 12, scsi_cmd_write, 0x10, L4, L4, 0, CTL),
    OP(SCSI_VERIFY12, RD, 12, scsi_cmd_verify, 0x16, L4, L4, 0, CTL),
    OP(SCSI_READ_DEFECT12, RD, 12, scsi_read_defect_data, 0x1f, 0, 0, 0, 0, L4, 0, CTL),
};

const size_t scsi_nops = sizeof(scsi_ops) / sizeof(scsi_ops[0]);

const struct scsi_op_desc *scsi_op_find(uint8_t opcode, uint8_t sa, int *opcode_known)
{
	*opcode_known = 0;
	for (size_t i = 0; i < scsi_nops; i++) {
		const struct scsi_op_desc *d = &scsi_ops[i];
		if (d->opcode != opcode)
			continue;
		*opcode_known = 1;
		if (!d->has_sa || d->sa == sa)
			return d;
	}
	return NULL;
}

/* The command timeouts descriptor (SPC-4 6.35.4): no figures to give. */
static size_t put_timeouts(uint8_t *b)
{
	memset(b, 0, 12);
	fb_put_be16(b, 0x0a);
	return 12;
}

/* Reporting options 000b: every command, 8 bytes (20 with RCTD) each. */
static void report_all(struct scsi_req *r, int rctd, uint32_t alloc_len)
{
	size_t each = rctd ? 20 : 8, len = 4 + scsi_nops * each;
	uint8_t *b = calloc(1, len);
	if (!b) {
		scsi_io_error(r, -12 /* ENOMEM */, 0);
		return;
	}
	uint8_t *p = b + 4;
	for (size_t i = 0; i < scsi_nops; i++) {
		const struct scsi_op_desc *d = &scsi_ops[i];
		p[0] = d->opcode;
		fb_put_be16(p + 2, d->has_sa ? d->sa : 0);
		p[5] = (uint8_t)((rctd ? 0x02 : 0) | (d->has_sa ? 0x01 : 0)); /* CTDP, SERVACTV */
		fb_put_be16(p + 6, d->len);
		p += 8;
		if (rctd)
			p += put_timeouts(p);
	}
	fb_put_be32(b, (uint32_t)(len - 4));
	r->in_len = (uint32_t)(len < alloc_len ? len : alloc_len);
	if (r->in_len)
		r->in = b;
	else
		free(b);
}

/* Reporting options 001b/010b: one command, with its CDB usage data. */
static void report_one(struct scsi_req *r, const struct scsi_op_desc *d, int rctd,
                       uint32_t alloc_len)
{
	uint8_t b[4 + 16 + 12];
	size_t len = 4;
	memset(b, 0, sizeof(b));
	if (!d) {
		b[1] = 0x01; /* SUPPORT 001b: not supported */
	} else {
		b[1] = (uint8_t)((rctd ? 0x80 : 0) | 0x03); /* CTDP, SUPPORT 011b */
		fb_put_be16(b + 2, d->len);
		memcpy(b + 4, d->usage, d->len);
		len += d->len;
		if (rctd)
			len += put_timeouts(b + len);
	}
	r->in_len = (uint32_t)(len < alloc_len ? len : alloc_len);
	if (!r->in_len)
		return;
	r->in = malloc(r->in_len);
	if (!r->in) {
		r->in_len = 0;
		scsi_io_error(r, -12 /* ENOMEM */, 0);
		return;
	}
	memcpy(r->in, b, r->in_len);
}

void scsi_report_opcodes(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	int rctd = (r->cdb[2] & 0x80) != 0, opts = r->cdb[2] & 0x07;
	uint8_t want = r->cdb[3];
	uint16_t want_sa = fb_get_be16(r->cdb + 4);
	if (r->cdb[2] & 0x78) {
		scsi_invalid_cdb(r);
		return;
	}
	if (opts == 0) {
		report_all(r, rctd, c->alloc_len);
		return;
	}
	if (opts != 1 && opts != 2 && opts != 3) {
		scsi_invalid_cdb(r);
		return;
	}
	/* 001b names an opcode without service actions, 010b one with; the
	 * other way round is an invalid field (SPC-4 table 250). 011b (SPC-5,
	 * what Linux sends for a service action) takes either. */
	int has_sa = 0, known = 0;
	for (size_t i = 0; i < scsi_nops; i++)
		if (scsi_ops[i].opcode == want) {
			known = 1;
			has_sa = scsi_ops[i].has_sa;
		}
	if (known && opts != 3 && (has_sa != (opts == 2))) {
		scsi_invalid_cdb(r);
		return;
	}
	if (opts == 3 && !has_sa)
		want_sa = 0;
	const struct scsi_op_desc *d = NULL;
	if (known && (opts == 1 || want_sa <= 0xff))
		d = scsi_op_find(want, (uint8_t)want_sa, &known);
	if (d && d->has_sa && d->sa != want_sa)
		d = NULL;
	report_one(r, d, rctd, c->alloc_len);
}
