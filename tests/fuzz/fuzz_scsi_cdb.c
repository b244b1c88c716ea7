/*
 * fuzz_scsi_cdb.c - the CDB decoder and the SCSI block unit behind it:
 * input = 16-byte CDB, a flags byte (0x80 read-only, 0x40 the second I_T
 * nexus, 0x20 a LU reset first), a 3-byte expected transfer length, then
 * data-out, run against a 64 KiB RAM disk. Every command must come back with a
 * status, and data-in must stay within what was allocated.
 */
// clang-format off
// clang-format on
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "log.h"
#include "quiet_log.h"
#include "ram_bdev.h"
#include "proto/scsi_cdb.h"
#include "iscsi/scsi_lu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Quiet logging for the fuzzer (lib/log.c is not linked). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fb_blockdev bd = {.ops = &ram_ops, .size = RAM_SIZE, .block_size = 512};
	/* Two I_T nexuses on one unit, so reservations taken through one
	 * are checked against the other's commands. */
	static struct scsi_lu lus[2];
	static int init;
	if (!init) {
		for (int i = 0; i < 2; i++) {
			scsi_lu_init(&lus[i], &bd, "iqn.2026-11.org.fleetboot:52-54-00-00-00-01");
			scsi_lu_attach(&lus[i], i ? "iqn.fuzz:b" : "iqn.fuzz:a", 0x400001370000ull,
			               NULL);
		}
		init = 1;
	}
	if (size < 20)
		return 0;
	uint8_t cdb[16];
	memcpy(cdb, data, 16);
	struct scsi_cdb c;
	scsi_cdb_decode(cdb, 16, &c);
	(void)scsi_cdb_data_out_len(&c, 512);
	bd.readonly = data[16] & 0x80;
	struct scsi_lu *lu = &lus[(data[16] >> 6) & 1];
	if (data[16] & 0x20)
		scsi_lu_reset(lu);
	struct scsi_req r;
	memset(&r, 0, sizeof(r));
	r.cdb = cdb;
	r.edtl = fb_get_be24(data + 17);
	r.out = data + 20;
	r.out_len = (uint32_t)(size - 20);
	scsi_lu_exec(lu, &r);
	if (r.status == 0 && r.in) {
		/* Touch every byte the transport would send. */
		uint32_t n = r.in_len < r.edtl ? r.in_len : r.edtl;
		volatile uint8_t sum = 0;
		for (uint32_t i = 0; i < n; i++)
			sum ^= r.in[i];
		(void)sum;
	}
	if (r.status == 2 && r.sense_len != 18)
		abort();
	free(r.in);
	return 0;
}
