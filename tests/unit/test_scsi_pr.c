/*
 * test_scsi_pr.c - the SCSI unit's command table and what it serves
 * beyond reads and writes: REPORT SUPPORTED OPERATION CODES against the
 * dispatcher, persistent reservations between two I_T nexuses of one
 * unit (conflicts, PREEMPT and its unit attention, malformed parameter
 * lists, APTPL on disk), RESERVE/RELEASE(6), PRE-FETCH, ORWRITE and READ
 * DEFECT DATA.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byteorder.h"
#include "harness.h"
#include "log.h"
#include "iscsi/scsi_cmds.h"
#include "iscsi/scsi_lu.h"
#include "proto/scsi_cdb.h"
#include "tests/fuzz/ram_bdev.h"

#define NAME_A "iqn.2026-11.org.fleetboot:52-54-00-00-00-0a"
#define NAME_B "iqn.2026-11.org.fleetboot:52-54-00-00-00-0b"

static struct fb_blockdev bd = {.ops = &ram_ops, .size = RAM_SIZE, .block_size = 512};

/* A session on the unit called name, from initiator ini. */
static void open_lu(struct scsi_lu *lu, const char *name, const char *ini, const char *aptpl)
{
	CHECK_INT(scsi_lu_init(lu, &bd, name), 0);
	CHECK_INT(scsi_lu_attach(lu, ini, 0x400001370000ull, aptpl), 0);
}

/* Run cdb (len bytes) with data-out out/olen; keep data-in in *in. */
static uint8_t run(struct scsi_lu *lu, const uint8_t *cdb, size_t len, const uint8_t *out,
                   uint32_t olen, uint8_t **in, uint32_t *in_len, uint8_t *asc)
{
	uint8_t c[16] = {0};
	memcpy(c, cdb, len);
	struct scsi_req r;
	memset(&r, 0, sizeof(r));
	r.cdb = c;
	r.out = out;
	r.out_len = olen;
	r.edtl = 65536;
	scsi_lu_exec(lu, &r);
	if (asc)
		*asc = r.sense_len ? r.sense[12] : 0;
	if (in) {
		*in = r.in;
		*in_len = r.in_len;
	} else {
		free(r.in);
	}
	return r.status;
}

static uint8_t cmd(struct scsi_lu *lu, const uint8_t *cdb, size_t len, uint8_t *asc)
{
	return run(lu, cdb, len, NULL, 0, NULL, NULL, asc);
}

static uint8_t prout(struct scsi_lu *lu, uint8_t sa, uint8_t type, uint64_t key, uint64_t sakey,
                     uint8_t flags, uint8_t *asc)
{
	uint8_t cdb[10] = {SCSI_PR_OUT, sa, type, 0, 0, 0, 0, 0, 24, 0}, p[24] = {0};
	fb_put_be64(p, key);
	fb_put_be64(p + 8, sakey);
	p[20] = flags;
	return run(lu, cdb, 10, p, 24, NULL, NULL, asc);
}

/* READ KEYS: the number of keys, the generation in *gen. */
static int read_keys(struct scsi_lu *lu, uint32_t *gen, uint64_t *first)
{
	uint8_t cdb[10] = {SCSI_PR_IN, 0, 0, 0, 0, 0, 0, 0x10, 0, 0}, *in = NULL;
	uint32_t n = 0;
	if (run(lu, cdb, 10, NULL, 0, &in, &n, NULL) != SCSI_STATUS_GOOD || n < 8) {
		free(in);
		return -1;
	}
	*gen = fb_get_be32(in);
	int keys = (int)(fb_get_be32(in + 4) / 8);
	if (first && keys)
		*first = fb_get_be64(in + 8);
	free(in);
	return keys;
}

static const uint8_t read10[10] = {SCSI_READ10, 0, 0, 0, 0, 0, 0, 0, 1, 0};
static const uint8_t tur[6] = {SCSI_TEST_UNIT_READY};

static uint8_t write10(struct scsi_lu *lu, uint8_t *asc)
{
	static uint8_t blk[512];
	uint8_t cdb[10] = {SCSI_WRITE10, 0, 0, 0, 0, 0, 0, 0, 1, 0};
	return run(lu, cdb, 10, blk, 512, NULL, NULL, asc);
}

/* Every opcode the dispatcher serves is reported by RSOC with its CDB
 * length and usage data, and every opcode RSOC says it does not support
 * is refused by the dispatcher as an invalid operation code. */
static void test_rsoc_is_the_dispatch_table(void)
{
	struct scsi_lu lu;
	open_lu(&lu, NAME_A, "iqn.test:one", NULL);
	uint8_t all[12] = {
	    SCSI_MAINTENANCE_IN, SCSI_MI_REPORT_OPCODES, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint8_t *in = NULL, asc;
	uint32_t n = 0;
	CHECK_INT(run(&lu, all, 12, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
	CHECK_INT(n, 4 + 8 * scsi_nops);
	CHECK_INT(in ? fb_get_be32(in) : 0, 8 * scsi_nops);
	/* Each descriptor is its table row: opcode, service action, SERVACTV,
	 * CDB length. */
	for (size_t i = 0; in && n == 4 + 8 * scsi_nops && i < scsi_nops; i++) {
		const uint8_t *p = in + 4 + 8 * i;
		CHECK_INT(p[0], scsi_ops[i].opcode);
		CHECK_INT(fb_get_be16(p + 2), scsi_ops[i].has_sa ? scsi_ops[i].sa : 0);
		CHECK_INT(p[5] & 1, scsi_ops[i].has_sa);
		CHECK_INT(fb_get_be16(p + 6), scsi_ops[i].len);
	}
	free(in);
	for (int op = 0; op < 256; op++) {
		int known = 0;
		for (size_t i = 0; i < scsi_nops; i++)
			known |= scsi_ops[i].opcode == op;
		if (known)
			continue;
		uint8_t one[12] = {
		    SCSI_MAINTENANCE_IN, SCSI_MI_REPORT_OPCODES, 1, (uint8_t)op, 0, 0, 0, 0, 0, 64};
		CHECK_INT(run(&lu, one, 12, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
		CHECK_INT(n >= 2 ? in[1] & 7 : -1, 1); /* not supported */
		free(in);
		uint8_t cdb[16] = {(uint8_t)op};
		CHECK_INT(cmd(&lu, cdb, 16, &asc), SCSI_STATUS_CHECK_CONDITION);
		CHECK_INT(asc, 0x20);
	}
	for (size_t i = 0; i < scsi_nops; i++) {
		const struct scsi_op_desc *d = &scsi_ops[i];
		uint8_t one[12] = {SCSI_MAINTENANCE_IN,
		                   SCSI_MI_REPORT_OPCODES,
		                   (uint8_t)(d->has_sa ? 2 : 1),
		                   d->opcode,
		                   0,
		                   d->sa,
		                   0,
		                   0,
		                   0,
		                   64};
		CHECK_INT(run(&lu, one, 12, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
		CHECK_INT(n, 4 + d->len);
		if (n == 4u + d->len) {
			CHECK_INT(in[1] & 7, 3);
			CHECK_INT(fb_get_be16(in + 2), d->len);
			CHECK_INT(in[4], d->opcode);
		}
		free(in);
		/* 011b: the opcode, with its service action if it has any. */
		one[2] = 3;
		CHECK_INT(run(&lu, one, 12, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
		CHECK_INT(n >= 4 ? in[1] & 7 : -1, 3);
		free(in);
		/* The wrong reporting option for the opcode is an invalid field. */
		one[2] = d->has_sa ? 1 : 2;
		CHECK_INT(cmd(&lu, one, 12, &asc), SCSI_STATUS_CHECK_CONDITION);
		CHECK_INT(asc, 0x24);
	}
	scsi_lu_destroy(&lu);
}

/* Exclusive access: the other nexus can neither read nor write, even
 * registered; the holder can; RELEASE opens the unit again. */
static void test_pr_exclusive_access(void)
{
	struct scsi_lu a, b;
	uint8_t asc;
	uint32_t gen;
	open_lu(&a, NAME_A, "iqn.test:a", NULL);
	open_lu(&b, NAME_A, "iqn.test:b", NULL);
	CHECK_INT(prout(&a, 6, 0, 0, 0xaa, 0, &asc), SCSI_STATUS_GOOD); /* REGISTER AND IGNORE */
	CHECK_INT(prout(&b, 0, 0, 0, 0xbb, 0, &asc), SCSI_STATUS_GOOD); /* REGISTER */
	CHECK_INT(read_keys(&a, &gen, NULL), 2);
	/* RESERVE with a key that is not ours: conflict. */
	CHECK_INT(prout(&a, 1, 3, 0xbb, 0, 0, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(prout(&a, 1, 3, 0xaa, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&a, read10, 10, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(write10(&a, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&b, read10, 10, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(write10(&b, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	/* INQUIRY and PR IN pass any reservation. */
	uint8_t inq[6] = {SCSI_INQUIRY, 0, 0, 0, 36, 0};
	CHECK_INT(cmd(&b, inq, 6, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(read_keys(&b, &gen, NULL), 2);
	/* B cannot take it; A's RELEASE with the wrong type is refused. */
	CHECK_INT(prout(&b, 1, 3, 0xbb, 0, 0, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(prout(&a, 2, 1, 0xaa, 0, 0, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x26);
	CHECK_INT(prout(&a, 2, 3, 0xaa, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&b, read10, 10, &asc), SCSI_STATUS_GOOD);
	/* Write exclusive: B reads, B does not write. */
	CHECK_INT(prout(&a, 1, 1, 0xaa, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&b, read10, 10, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(write10(&b, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	/* The holder unregisters: its reservation goes with it. */
	CHECK_INT(prout(&a, 0, 0, 0xaa, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(write10(&b, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(prout(&b, 3, 0, 0xbb, 0, 0, &asc), SCSI_STATUS_GOOD); /* CLEAR */
	CHECK_INT(read_keys(&a, &gen, NULL), 0);
	scsi_lu_destroy(&a);
	scsi_lu_destroy(&b);
}

/* PREEMPT removes the other key, bumps the generation once and leaves the
 * preempted nexus a unit attention (REGISTRATIONS PREEMPTED), reported
 * once. */
static void test_pr_preempt_unit_attention(void)
{
	struct scsi_lu a, b;
	uint8_t asc;
	uint32_t gen0, gen1;
	uint64_t k = 0;
	open_lu(&a, NAME_A, "iqn.test:a", NULL);
	open_lu(&b, NAME_A, "iqn.test:b", NULL);
	CHECK_INT(prout(&a, 6, 0, 0, 0x11, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(prout(&b, 6, 0, 0, 0x22, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(prout(&a, 1, 3, 0x11, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(read_keys(&b, &gen0, NULL), 2);
	/* PREEMPT naming a key nobody holds: conflict. */
	CHECK_INT(prout(&b, 4, 3, 0x22, 0x99, 0, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(prout(&b, 4, 3, 0x22, 0x11, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(read_keys(&b, &gen1, &k), 1);
	CHECK_INT(gen1, gen0 + 1);
	CHECK_INT(k, 0x22);
	CHECK_INT(cmd(&a, tur, 6, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x2a);
	CHECK_INT(cmd(&a, tur, 6, &asc), SCSI_STATUS_GOOD);
	/* B holds now: A (unregistered) may not read. */
	CHECK_INT(cmd(&a, read10, 10, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(prout(&b, 0, 0, 0x22, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&a, read10, 10, &asc), SCSI_STATUS_GOOD);
	scsi_lu_destroy(&a);
	scsi_lu_destroy(&b);
}

/* Malformed CDBs and parameter lists are CHECK CONDITIONs. */
static void test_pr_malformed(void)
{
	struct scsi_lu a;
	uint8_t asc, p[24] = {0};
	open_lu(&a, NAME_A, "iqn.test:a", NULL);
	uint8_t short_list[10] = {SCSI_PR_OUT, 0, 0, 0, 0, 0, 0, 0, 23, 0};
	CHECK_INT(run(&a, short_list, 10, p, 23, NULL, NULL, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x1a);
	uint8_t sent_less[10] = {SCSI_PR_OUT, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	CHECK_INT(run(&a, sent_less, 10, p, 10, NULL, NULL, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x1a);
	uint8_t huge[10] = {SCSI_PR_OUT, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0};
	CHECK_INT(run(&a, huge, 10, p, 24, NULL, NULL, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(prout(&a, 6, 0, 0, 0x11, 0x08 /* SPEC_I_PT */, &asc),
	          SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x26);
	CHECK_INT(prout(&a, 6, 0, 0, 0x11, 0x01 /* APTPL, no file */, &asc),
	          SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x26);
	CHECK_INT(prout(&a, 6, 0, 0, 0x11, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(prout(&a, 1, 2 /* no such type */, 0x11, 0, 0, &asc),
	          SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x24);
	CHECK_INT(prout(&a, 1, 0x13 /* scope 1 */, 0x11, 0, 0, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(prout(&a, 4, 3, 0x11, 0 /* PREEMPT key 0 */, 0, &asc),
	          SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x26);
	CHECK_INT(prout(&a, 7 /* REGISTER AND MOVE */, 0, 0x11, 0, 0, &asc),
	          SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x24);
	for (uint8_t sa = 4; sa < 0x20; sa++) {
		uint8_t in_cdb[10] = {SCSI_PR_IN, sa, 0, 0, 0, 0, 0, 0, 64, 0};
		CHECK_INT(cmd(&a, in_cdb, 10, &asc), SCSI_STATUS_CHECK_CONDITION);
		CHECK_INT(asc, 0x24);
	}
	/* READ FULL STATUS names our port; a short allocation truncates. */
	uint8_t fs[10] = {SCSI_PR_IN, 3, 0, 0, 0, 0, 0, 0x10, 0, 0}, *in = NULL;
	uint32_t n = 0;
	CHECK_INT(run(&a, fs, 10, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
	CHECK(n > 32 && in && memmem(in, n, "iqn.test:a,i,0x400001370000", 27) != NULL);
	free(in);
	fs[8] = 5;
	fs[7] = 0;
	CHECK_INT(run(&a, fs, 10, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
	CHECK_INT(n, 5);
	free(in);
	CHECK_INT(prout(&a, 0, 0, 0x11, 0, 0, &asc), SCSI_STATUS_GOOD);
	scsi_lu_destroy(&a);
}

/* RESERVE(6) shuts out the other nexus until RELEASE, nexus loss or a
 * LU reset; the other's RELEASE changes nothing. */
static void test_reserve6(void)
{
	struct scsi_lu a, b;
	uint8_t asc;
	const uint8_t reserve[6] = {SCSI_RESERVE6}, release[6] = {SCSI_RELEASE6};
	open_lu(&a, NAME_A, "iqn.test:a", NULL);
	open_lu(&b, NAME_A, "iqn.test:b", NULL);
	CHECK_INT(cmd(&a, reserve, 6, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&a, reserve, 6, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&b, reserve, 6, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(cmd(&b, tur, 6, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(cmd(&b, release, 6, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&b, read10, 10, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	CHECK_INT(cmd(&a, read10, 10, &asc), SCSI_STATUS_GOOD);
	scsi_lu_reset(&a);
	CHECK_INT(cmd(&b, reserve, 6, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&a, tur, 6, &asc), SCSI_STATUS_RESERVATION_CONFLICT);
	scsi_lu_destroy(&b); /* nexus loss */
	CHECK_INT(cmd(&a, tur, 6, &asc), SCSI_STATUS_GOOD);
	/* Third-party and extent forms are refused, in both sizes. */
	const uint8_t third10[10] = {SCSI_RESERVE10, 0x10}, extent6[6] = {SCSI_RELEASE6, 0x01};
	asc = 0;
	CHECK_INT(cmd(&a, third10, 10, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x24);
	asc = 0;
	CHECK_INT(cmd(&a, extent6, 6, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x24);
	const uint8_t reserve10[10] = {SCSI_RESERVE10}, release10[10] = {SCSI_RELEASE10};
	CHECK_INT(cmd(&a, reserve10, 10, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(cmd(&a, release10, 10, &asc), SCSI_STATUS_GOOD);
	scsi_lu_destroy(&a);
}

/* Reservations are per unit: another machine's unit never sees them. */
static void test_pr_per_unit(void)
{
	struct scsi_lu a, other;
	uint8_t asc;
	uint32_t gen;
	open_lu(&a, NAME_A, "iqn.test:a", NULL);
	open_lu(&other, NAME_B, "iqn.test:a", NULL);
	CHECK_INT(prout(&a, 6, 0, 0, 0x11, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(prout(&a, 1, 3, 0x11, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(read_keys(&other, &gen, NULL), 0);
	CHECK_INT(cmd(&other, read10, 10, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(prout(&a, 3, 0, 0x11, 0, 0, &asc), SCSI_STATUS_GOOD);
	scsi_lu_destroy(&a);
	scsi_lu_destroy(&other);
}

/* APTPL: the state is written (mode 0600) and comes back when the unit
 * is opened again; APTPL=0 removes the file; a damaged file is ignored. */
static void test_pr_aptpl(void)
{
	char dir[] = "/tmp/test_scsi_pr.XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/m.pr", dir);
	struct scsi_lu a;
	uint8_t asc;
	uint32_t gen;
	uint64_t k = 0;
	struct stat st;
	open_lu(&a, NAME_A, "iqn.test:a", path);
	CHECK_INT(prout(&a, 6, 0, 0, 0x1234, 0x01, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(prout(&a, 1, 5, 0x1234, 0, 0, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	scsi_lu_destroy(&a); /* the last session: the state is freed */
	open_lu(&a, NAME_A, "iqn.test:a", path);
	CHECK_INT(read_keys(&a, &gen, &k), 1);
	CHECK_INT(k, 0x1234);
	uint8_t rr[10] = {SCSI_PR_IN, 1, 0, 0, 0, 0, 0, 0, 64, 0}, *in = NULL;
	uint32_t n = 0;
	CHECK_INT(run(&a, rr, 10, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
	CHECK_INT(n, 24);
	CHECK_INT(n == 24 ? in[21] : 0, 5);
	free(in);
	uint8_t caps[10] = {SCSI_PR_IN, 2, 0, 0, 0, 0, 0, 0, 8, 0};
	CHECK_INT(run(&a, caps, 10, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
	CHECK_INT(n == 8 ? in[3] & 1 : -1, 1); /* PTPL_A */
	free(in);
	/* REGISTER with APTPL=0: nothing kept any more. */
	CHECK_INT(prout(&a, 0, 0, 0x1234, 0x1234, 0, &asc), SCSI_STATUS_GOOD);
	CHECK(access(path, F_OK) != 0);
	CHECK_INT(prout(&a, 3, 0, 0x1234, 0, 0, &asc), SCSI_STATUS_GOOD);
	scsi_lu_destroy(&a);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("fleetboot-pr 1\nreg 0000000000000001 zz\n", f);
		fclose(f);
	}
	open_lu(&a, NAME_A, "iqn.test:a", path);
	CHECK_INT(read_keys(&a, &gen, NULL), 0);
	scsi_lu_destroy(&a);
	unlink(path);
	rmdir(dir);
}

/* PRE-FETCH checks the range; ORWRITE ORs into the medium; READ DEFECT
 * DATA has nothing to report. */
static void test_prefetch_orwrite(void)
{
	struct scsi_lu a;
	uint8_t asc, data[512];
	open_lu(&a, NAME_A, "iqn.test:a", NULL);
	uint8_t pf[10] = {SCSI_PREFETCH10, 0x02, 0, 0, 0, 0, 0, 0, 8, 0};
	CHECK_INT(cmd(&a, pf, 10, &asc), SCSI_STATUS_GOOD);
	fb_put_be32(pf + 2, RAM_SIZE / 512 - 1);
	CHECK_INT(cmd(&a, pf, 10, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x21);
	memset(ram + 512, 0x0f, 512);
	memset(data, 0xf0, sizeof(data));
	uint8_t orw[16] = {SCSI_ORWRITE16, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
	CHECK_INT(run(&a, orw, 16, data, 512, NULL, NULL, &asc), SCSI_STATUS_GOOD);
	CHECK_INT(ram[512], 0xff);
	CHECK_INT(ram[1023], 0xff);
	/* READ DEFECT DATA: an empty list, in the format asked for. */
	uint8_t rdd[10] = {SCSI_READ_DEFECT10, 0, 0x0d, 0, 0, 0, 0, 0, 32, 0}, *in = NULL;
	uint32_t n = 0;
	CHECK_INT(run(&a, rdd, 10, NULL, 0, &in, &n, NULL), SCSI_STATUS_GOOD);
	CHECK_INT(n, 4);
	CHECK_INT(n == 4 ? in[1] * 256 + fb_get_be16(in + 2) : -1, 0x0d * 256);
	free(in);
	orw[1] = 0x20; /* ORPROTECT */
	CHECK_INT(run(&a, orw, 16, data, 512, NULL, NULL, &asc), SCSI_STATUS_CHECK_CONDITION);
	CHECK_INT(asc, 0x24);
	scsi_lu_destroy(&a);
}

int main(void)
{
	log_init("test_scsi_pr", 1, 0);
	RUN(test_rsoc_is_the_dispatch_table);
	RUN(test_pr_exclusive_access);
	RUN(test_pr_preempt_unit_attention);
	RUN(test_pr_malformed);
	RUN(test_reserve6);
	RUN(test_pr_per_unit);
	RUN(test_pr_aptpl);
	RUN(test_prefetch_orwrite);
	return HARNESS_EXIT();
}
