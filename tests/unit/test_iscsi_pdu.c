/* test_iscsi_pdu.c - the iSCSI PDU/text codec and the SCSI CDB decoder. */
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "harness.h"
#include "proto/iscsi_pdu.h"
#include "proto/scsi_cdb.h"

static void test_bhs_roundtrip(void)
{
	struct iscsi_bhs h = {0}, g;
	uint8_t raw[ISCSI_BHS_LEN];
	h.opcode = ISCSI_OP_SCSI_CMD;
	h.immediate = 1;
	h.flags = ISCSI_FLAG_F | ISCSI_CMD_W;
	h.ahs_words = 2;
	h.dlen = 0x012345;
	h.lun = 0x0001000000000000ULL;
	h.itt = 0xdeadbeef;
	h.w20 = 4096;
	h.w24 = 7;
	h.w28 = 9;
	h.w32 = 0x2a000000;
	iscsi_bhs_build(&h, raw);
	CHECK_INT(raw[0], 0x41);
	CHECK_INT(raw[5], 0x01);
	CHECK_INT(raw[7], 0x45);
	CHECK_INT(raw[32], 0x2a);
	CHECK_INT(iscsi_bhs_parse(raw, sizeof(raw), &g), 0);
	CHECK_INT(g.opcode, ISCSI_OP_SCSI_CMD);
	CHECK_INT(g.immediate, 1);
	CHECK_INT(g.dlen, 0x012345);
	CHECK_INT(g.itt, 0xdeadbeef);
	CHECK_INT(g.w20, 4096);
	CHECK_INT(g.cdb[0], 0x2a);
	CHECK(g.lun == h.lun);
	CHECK_INT(iscsi_pdu_body_len(&g), 8 + 0x012348);
	CHECK_INT(iscsi_bhs_parse(raw, 47, &g), -1);
}

static void test_login_fields(void)
{
	struct iscsi_bhs h = {0};
	h.lun = 0x400001370000ULL << 16 | 0x0005;
	CHECK(iscsi_login_isid(&h) == 0x400001370000ULL);
	CHECK_INT(iscsi_login_tsih(&h), 5);
	CHECK_INT(iscsi_lun_number(0), 0);
	CHECK_INT(iscsi_lun_number(0x0003000000000000ULL), 3);
	CHECK_INT(iscsi_lun_number(0x4105000000000000ULL), 0x105);
	CHECK_INT(iscsi_lun_number(0x0000000000000001ULL), 0xffff);
	CHECK_INT(iscsi_lun_number(0xc000000000000000ULL), 0xffff);
}

static void test_pad(void)
{
	CHECK_INT(iscsi_pad4(0), 0);
	CHECK_INT(iscsi_pad4(1), 4);
	CHECK_INT(iscsi_pad4(4), 4);
	CHECK_INT(iscsi_pad4(5), 8);
}

static void test_ahs(void)
{
	uint8_t a[12] = {0, 5, 1, 0, 1, 2, 3, 4, 0, 0, 0, 0};
	uint8_t type;
	const uint8_t *body;
	size_t blen;
	CHECK_INT(iscsi_ahs_next(a, 12, &type, &body, &blen), 8);
	CHECK_INT(type, 1);
	CHECK_INT(blen, 5);
	CHECK_INT(iscsi_ahs_next(a, 7, &type, &body, &blen), -1);
	CHECK_INT(iscsi_ahs_next(a, 0, &type, &body, &blen), 0);
	CHECK_INT(iscsi_ahs_next(a, 3, &type, &body, &blen), -1);
}

static void test_text_parse(void)
{
	struct iscsi_kv kv[8];
	char s1[] = "InitiatorName=iqn.x\0SessionType=Normal\0AuthMethod=CHAP,None\0";
	CHECK_INT(iscsi_text_parse(s1, sizeof(s1) - 1, kv, 8), 3);
	CHECK_STR(kv[0].key, "InitiatorName");
	CHECK_STR(kv[0].value, "iqn.x");
	CHECK_STR(kv[2].value, "CHAP,None");
	/* No final NUL: tolerated (the buffer has one spare byte). */
	char s2[] = "A=1\0B=2";
	CHECK_INT(iscsi_text_parse(s2, sizeof(s2) - 1, kv, 8), 2);
	CHECK_STR(kv[1].value, "2");
	/* Empty value is allowed; empty pairs skipped. */
	char s3[] = "A=\0\0\0";
	CHECK_INT(iscsi_text_parse(s3, sizeof(s3) - 1, kv, 8), 1);
	CHECK_STR(kv[0].value, "");
	/* Bad: no '=', empty key, bad key chars, too many pairs. */
	char b1[] = "novalue\0";
	CHECK_INT(iscsi_text_parse(b1, sizeof(b1) - 1, kv, 8), -1);
	char b2[] = "=x\0";
	CHECK_INT(iscsi_text_parse(b2, sizeof(b2) - 1, kv, 8), -1);
	char b3[] = "a b=x\0";
	CHECK_INT(iscsi_text_parse(b3, sizeof(b3) - 1, kv, 8), -1);
	char b4[] = "A=1\0B=2\0C=3\0";
	CHECK_INT(iscsi_text_parse(b4, sizeof(b4) - 1, kv, 2), -1);
	/* Over-long key (64 chars). */
	char b5[80];
	memset(b5, 'k', 64);
	b5[64] = '=';
	b5[65] = 'v';
	b5[66] = 0;
	CHECK_INT(iscsi_text_parse(b5, 67, kv, 8), -1);
	/* Over-long value. */
	size_t vl = ISCSI_VALUE_MAX + 1;
	char *b6 = malloc(vl + 4);
	b6[0] = 'K';
	b6[1] = '=';
	memset(b6 + 2, 'v', vl);
	b6[2 + vl] = 0;
	CHECK_INT(iscsi_text_parse(b6, vl + 3, kv, 8), -1);
	free(b6);
}

static void test_text_build(void)
{
	struct fb_buf b = {0};
	iscsi_text_add(&b, "HeaderDigest", "None");
	iscsi_text_addf(&b, "MaxRecvDataSegmentLength", "%u", 262144u);
	const char want[] = "HeaderDigest=None\0MaxRecvDataSegmentLength=262144\0";
	CHECK_INT(b.len, sizeof(want) - 1);
	CHECK(!memcmp(b.data, want, sizeof(want) - 1));
	fb_buf_free(&b);
}

static void test_values(void)
{
	uint64_t n;
	int v;
	uint8_t bin[32];
	CHECK_INT(iscsi_val_number("8192", &n), 0);
	CHECK_INT(n, 8192);
	CHECK_INT(iscsi_val_number("0x10", &n), 0);
	CHECK_INT(n, 16);
	CHECK_INT(iscsi_val_number("", &n), -1);
	CHECK_INT(iscsi_val_number("12a", &n), -1);
	CHECK_INT(iscsi_val_number("0x", &n), -1);
	CHECK_INT(iscsi_val_number("99999999999999999999999", &n), -1);
	CHECK_INT(iscsi_val_bool("Yes", &v), 0);
	CHECK_INT(v, 1);
	CHECK_INT(iscsi_val_bool("No", &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(iscsi_val_bool("yes", &v), -1);
	CHECK_INT(iscsi_val_binary("0x0aFf", bin, sizeof(bin)), 2);
	CHECK_INT(bin[0], 0x0a);
	CHECK_INT(bin[1], 0xff);
	CHECK_INT(iscsi_val_binary("0xabc", bin, sizeof(bin)), 2);
	CHECK_INT(bin[0], 0x0a);
	CHECK_INT(bin[1], 0xbc);
	CHECK_INT(iscsi_val_binary("0bAQID", bin, sizeof(bin)), 3);
	CHECK_INT(bin[2], 3);
	CHECK_INT(iscsi_val_binary("0bAQI=", bin, sizeof(bin)), 2);
	CHECK_INT(iscsi_val_binary("12", bin, sizeof(bin)), -1);
	CHECK_INT(iscsi_val_binary("0xzz", bin, sizeof(bin)), -1);
	CHECK_INT(iscsi_val_binary("0x0102", bin, 1), -1);
	CHECK(iscsi_val_list_has("CRC32C,None", "None"));
	CHECK(!iscsi_val_list_has("CRC32C,Non", "None"));
	CHECK(iscsi_val_list_has("5", "5"));
	CHECK(!iscsi_val_list_has("7,15", "5"));
}

static void test_cdb(void)
{
	struct scsi_cdb c;
	uint8_t r10[16] = {0x28, 0x08, 0, 0, 0x10, 0, 0, 0, 8, 0};
	CHECK_INT(scsi_cdb_decode(r10, 16, &c), 0);
	CHECK(c.known && c.is_rw);
	CHECK_INT(c.lba, 0x1000);
	CHECK_INT(c.nblocks, 8);
	CHECK_INT(c.fua, 1);
	CHECK_INT(c.dir, SCSI_DIR_IN);
	uint8_t w6[6] = {0x0a, 0x01, 0x02, 0x03, 0, 0};
	CHECK_INT(scsi_cdb_decode(w6, 6, &c), 0);
	CHECK_INT(c.lba, 0x10203);
	CHECK_INT(c.nblocks, 256);
	CHECK_INT(scsi_cdb_data_out_len(&c, 512), 256 * 512);
	uint8_t w16[16] = {0x8a, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0};
	CHECK_INT(scsi_cdb_decode(w16, 16, &c), 0);
	CHECK(c.lba == 0x100000000ULL);
	CHECK_INT(c.nblocks, 2);
	CHECK_INT(scsi_cdb_decode(w16, 10, &c), -1);
	uint8_t ws16[16] = {0x93, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0};
	CHECK_INT(scsi_cdb_decode(ws16, 16, &c), 0);
	CHECK_INT(c.dir, SCSI_DIR_NONE); /* NDOB */
	uint8_t cw[16] = {0x89, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0};
	CHECK_INT(scsi_cdb_decode(cw, 16, &c), 0);
	CHECK_INT(scsi_cdb_data_out_len(&c, 512), 1024);
	uint8_t rc16[16] = {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0};
	CHECK_INT(scsi_cdb_decode(rc16, 16, &c), 0);
	CHECK_INT(c.sa, 0x10);
	CHECK_INT(c.alloc_len, 32);
	uint8_t unk[16] = {0xd5};
	CHECK_INT(scsi_cdb_decode(unk, 16, &c), 0);
	CHECK_INT(c.known, 0);
}

static void test_crc32c(void)
{
	uint8_t d[4];
	CHECK_INT(iscsi_crc32c("123456789", 9), 0xe3069283u);
	CHECK_INT(iscsi_crc32c("", 0), 0);
	CHECK_INT(fb_crc32c(iscsi_crc32c("1234", 4), "56789", 5), 0xe3069283u);
	uint8_t big[1000];
	for (int i = 0; i < 1000; i++)
		big[i] = (uint8_t)(i * 37);
	CHECK_INT(iscsi_crc32c(big, 1000), 0xc96d697au);
	/* Split anywhere: the same CRC (the hardware path works 8 bytes at a time). */
	CHECK_INT(fb_crc32c(iscsi_crc32c(big, 333), big + 333, 667), iscsi_crc32c(big, 1000));
	/* RFC 3720 B.4: 32 bytes of zeros. */
	uint8_t z[32] = {0};
	CHECK_INT(iscsi_crc32c(z, 32), 0x8a9136aau);
	iscsi_put_digest(d, 0x11223344u);
	CHECK_INT(d[0], 0x44);
	CHECK_INT(iscsi_get_digest(d), 0x11223344u);
}

int main(void)
{
	RUN(test_bhs_roundtrip);
	RUN(test_login_fields);
	RUN(test_pad);
	RUN(test_ahs);
	RUN(test_text_parse);
	RUN(test_text_build);
	RUN(test_values);
	RUN(test_cdb);
	RUN(test_crc32c);
	return HARNESS_EXIT();
}
