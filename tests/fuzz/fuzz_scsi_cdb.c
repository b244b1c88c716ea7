/*
 * fuzz_scsi_cdb.c - the CDB decoder and the SCSI block unit behind it:
 * input = 16-byte CDB, 4-byte expected transfer length, then data-out,
 * run against a 64 KiB RAM disk. Every command must come back with a
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
	static struct scsi_lu lu;
	static int init;
	if (!init) {
		scsi_lu_init(&lu, &bd, "iqn.2026-11.org.fleetboot:52-54-00-00-00-01");
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
	struct scsi_req r;
	memset(&r, 0, sizeof(r));
	r.cdb = cdb;
	r.edtl = fb_get_be24(data + 17);
	r.out = data + 20;
	r.out_len = (uint32_t)(size - 20);
	scsi_lu_exec(&lu, &r);
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
