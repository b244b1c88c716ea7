/*
 * iscsi_pdu.h - iSCSI (RFC 7143) PDU header and text codec, no I/O.
 *
 * Every PDU starts with a 48-byte Basic Header Segment (BHS). Its layout is
 * shared enough between opcodes that one decoded form serves all of them:
 * the opcode-specific words at byte offsets 20..44 are kept as plain
 * numbers (w20 .. w44), and the bhs_*() accessors below name them per
 * opcode (bhs_ttt, bhs_cmdsn, bhs_datasn, ...). Text and login
 * data segments are NUL-separated key=value pairs (RFC 7143 section 6).
 *
 * Nothing here keeps state: every function may be called from any thread.
 */
#ifndef FB_ISCSI_PDU_H
#define FB_ISCSI_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ISCSI_BHS_LEN 48

/* Initiator opcodes. */
#define ISCSI_OP_NOP_OUT   0x00
#define ISCSI_OP_SCSI_CMD  0x01
#define ISCSI_OP_TMF_REQ   0x02
#define ISCSI_OP_LOGIN_REQ 0x03
#define ISCSI_OP_TEXT_REQ  0x04
#define ISCSI_OP_DATA_OUT  0x05
#define ISCSI_OP_LOGOUT    0x06
#define ISCSI_OP_SNACK     0x10
/* Target opcodes. */
#define ISCSI_OP_NOP_IN     0x20
#define ISCSI_OP_SCSI_RSP   0x21
#define ISCSI_OP_TMF_RSP    0x22
#define ISCSI_OP_LOGIN_RSP  0x23
#define ISCSI_OP_TEXT_RSP   0x24
#define ISCSI_OP_DATA_IN    0x25
#define ISCSI_OP_LOGOUT_RSP 0x26
#define ISCSI_OP_R2T        0x31
#define ISCSI_OP_ASYNC      0x32
#define ISCSI_OP_REJECT     0x3f

/* Byte 1 flags. */
#define ISCSI_FLAG_F   0x80 /* final */
#define ISCSI_FLAG_C   0x40 /* text/login: continue */
#define ISCSI_FLAG_T   0x80 /* login: transit */
#define ISCSI_CMD_R    0x40 /* SCSI command reads */
#define ISCSI_CMD_W    0x20 /* SCSI command writes */
#define ISCSI_CMD_ATTR 0x07
#define ISCSI_DATA_A   0x40 /* Data-In: acknowledge */
#define ISCSI_DATA_S   0x01 /* Data-In: status included */
#define ISCSI_RES_O    0x04 /* residual overflow (Data-In / response) */
#define ISCSI_RES_U    0x02 /* residual underflow */

#define ISCSI_RSVD_TAG 0xffffffffu

/* Reject reasons (RFC 7143 11.17.1). */
#define ISCSI_REJECT_DIGEST            0x02
#define ISCSI_REJECT_SNACK             0x03
#define ISCSI_REJECT_PROTOCOL          0x04
#define ISCSI_REJECT_CMD_NOT_SUPPORTED 0x05
#define ISCSI_REJECT_IMM_REJECT        0x06
#define ISCSI_REJECT_TASK_IN_PROGRESS  0x07
#define ISCSI_REJECT_INVALID_DATA_ACK  0x08
#define ISCSI_REJECT_INVALID_PDU_FIELD 0x09
#define ISCSI_REJECT_OUT_OF_RESOURCES  0x0a
#define ISCSI_REJECT_WAITING_LOGOUT    0x0c

/* A decoded Basic Header Segment. */
struct iscsi_bhs {
	uint8_t opcode;                             /* without the immediate bit */
	uint8_t immediate;                          /* 1 when the I bit (0x40 of byte 0) is set */
	uint8_t flags;                              /* byte 1 */
	uint8_t b2, b3;                             /* bytes 2 and 3 (opcode specific) */
	uint8_t ahs_words;                          /* TotalAHSLength in 4-byte words */
	uint32_t dlen;                              /* DataSegmentLength (24 bits) */
	uint64_t lun;                               /* bytes 8..15 (LUN, or ISID+TSIH at login) */
	uint32_t itt;                               /* Initiator Task Tag, bytes 16..19 */
	uint32_t w20, w24, w28, w32, w36, w40, w44; /* words at those offsets (bhs_*) */
	uint8_t cdb[16];                            /* bytes 32..47: a SCSI command's CDB */
};

/* Decode 48 bytes; returns 0, or -1 if fewer than 48 are given. */
int iscsi_bhs_parse(const uint8_t *p, size_t len, struct iscsi_bhs *h);
/* Encode h into out[48] (cdb is not used: the words w32..w44 are). */
void iscsi_bhs_build(const struct iscsi_bhs *h, uint8_t out[ISCSI_BHS_LEN]);
/* Bytes of AHS plus data segment (each padded to 4) that follow a BHS. */
uint64_t iscsi_pdu_body_len(const struct iscsi_bhs *h);
static inline size_t iscsi_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/*
 * Named fields of the opcode-specific words (RFC 7143 section 11). Each
 * word means different things in different PDUs; the accessor names the
 * field, and the comment the PDUs that have it. bhs_NAME(h) reads the
 * field, bhs_set_NAME(h, v) writes it.
 */
#define ISCSI_BHS_FIELD(name, word)                                                                \
	static inline uint32_t bhs_##name(const struct iscsi_bhs *h)                               \
	{                                                                                          \
		return h->word;                                                                    \
	}                                                                                          \
	static inline void bhs_set_##name(struct iscsi_bhs *h, uint32_t v)                         \
	{                                                                                          \
		h->word = v;                                                                       \
	}
/* Bytes 20..23. */
ISCSI_BHS_FIELD(edtl, w20)    /* SCSI Command: Expected Data Transfer Length */
ISCSI_BHS_FIELD(ttt, w20)     /* Target Transfer Tag: NOP, Text, Data-Out/In, R2T */
ISCSI_BHS_FIELD(ref_itt, w20) /* Task Management: Referenced Task Tag */
/* Bytes 24..27. */
ISCSI_BHS_FIELD(cmdsn, w24)  /* initiator requests (not Data-Out): CmdSN */
ISCSI_BHS_FIELD(statsn, w24) /* target responses: StatSN */
/* Bytes 28..31. */
ISCSI_BHS_FIELD(exp_statsn, w28) /* initiator PDUs: ExpStatSN */
ISCSI_BHS_FIELD(exp_cmdsn, w28)  /* target PDUs: ExpCmdSN */
/* Bytes 32..35. */
ISCSI_BHS_FIELD(max_cmdsn, w32) /* target PDUs: MaxCmdSN */
ISCSI_BHS_FIELD(ref_cmdsn, w32) /* Task Management: RefCmdSN */
/* Bytes 36..39. */
ISCSI_BHS_FIELD(datasn, w36)     /* Data-Out, Data-In: DataSN */
ISCSI_BHS_FIELD(r2tsn, w36)      /* R2T: R2TSN */
ISCSI_BHS_FIELD(exp_datasn, w36) /* SCSI Response: ExpDataSN */
/* Bytes 40..43. */
ISCSI_BHS_FIELD(buffer_offset, w40) /* Data-Out, Data-In, R2T: Buffer Offset */
/* Bytes 44..47. */
ISCSI_BHS_FIELD(residual, w44)    /* Data-In, SCSI Response: Residual Count */
ISCSI_BHS_FIELD(desired_len, w44) /* R2T: Desired Data Transfer Length */
#undef ISCSI_BHS_FIELD

/* Byte offsets of the sequence numbers in an encoded target PDU, for
 * stamping a header that is already built. */
#define ISCSI_BHS_STATSN_AT    24
#define ISCSI_BHS_EXP_CMDSN_AT 28
#define ISCSI_BHS_MAX_CMDSN_AT 32

/* Login Request: the CID, bytes 20..21. */
static inline uint16_t bhs_login_cid(const struct iscsi_bhs *h)
{
	return (uint16_t)(h->w20 >> 16);
}
/* Login Response: Status-Class and Status-Detail (class << 8 | detail),
 * bytes 36..37. */
static inline uint16_t bhs_login_status(const struct iscsi_bhs *h)
{
	return (uint16_t)(h->w36 >> 16);
}
static inline void bhs_set_login_status(struct iscsi_bhs *h, uint16_t status)
{
	h->w36 = (uint32_t)status << 16;
}

/* Login helpers: bytes 8..13 are the ISID, 14..15 the TSIH. */
static inline uint64_t iscsi_login_isid(const struct iscsi_bhs *h)
{
	return h->lun >> 16;
}
static inline uint16_t iscsi_login_tsih(const struct iscsi_bhs *h)
{
	return (uint16_t)(h->lun & 0xffff);
}
/* The LUN number of a single-level (peripheral or flat) LUN field, or
 * 0xffff when the encoding is not one of those. */
uint32_t iscsi_lun_number(uint64_t lun);

/*
 * One AHS (RFC 7143 11.2.1.2): walk the AHS area. Fills type and a pointer
 * to its body; returns the bytes consumed, 0 at the end, -1 if malformed.
 */
int iscsi_ahs_next(const uint8_t *p, size_t len, uint8_t *type, const uint8_t **body, size_t *blen);

/* Text key=value pairs. Limits from RFC 7143 6.1 and 6.2. */
#define ISCSI_KEY_MAX   63
#define ISCSI_VALUE_MAX 8192

struct iscsi_kv {
	const char *key; /* points into the caller's copy of the segment */
	const char *value;
};

/*
 * Split a text data segment in place (it is modified: '=' and the
 * separators become NULs). seg must have room for len + 1 bytes: seg[len]
 * is set to NUL, so a missing final NUL is tolerated. An empty pair
 * is skipped. Returns the number of pairs (at most max), or -1 when a pair
 * has no '=', an empty or over-long key, a key with invalid characters, an
 * over-long value, or there are more than max pairs.
 */
int iscsi_text_parse(char *seg, size_t len, struct iscsi_kv *kv, size_t max);
/* Append "key=value\0" to b. */
int iscsi_text_add(struct fb_buf *b, const char *key, const char *value);
int iscsi_text_addf(struct fb_buf *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Value parsers: 0 or -1 when the value does not have that form. */
int iscsi_val_number(const char *v, uint64_t *out); /* decimal or 0x hex */
int iscsi_val_bool(const char *v, int *out);        /* Yes / No */
/* Binary value: "0x" + hex digits or "0b" + base64. Returns the byte
 * count (<= max) or -1. */
int iscsi_val_binary(const char *v, uint8_t *out, size_t max);
/* Is item one of the comma-separated entries of list? */
int iscsi_val_list_has(const char *list, const char *item);

/* CRC32C digests (RFC 7143 11.1): computed over the BHS (and AHS) for a
 * header digest; sent least significant byte first. iscsi_crc32c(p, n) is
 * fb_crc32c(0, p, n) (crc32c.h); continue a digest over more bytes with
 * fb_crc32c itself. */
uint32_t iscsi_crc32c(const void *p, size_t n);
void iscsi_put_digest(uint8_t *p, uint32_t crc);
uint32_t iscsi_get_digest(const uint8_t *p);

#endif
