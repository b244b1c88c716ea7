/*
 * fuzz_iscsi_pdu.c - the iSCSI PDU codec: BHS decode/encode round trip,
 * the AHS walk, text key=value splitting and the value parsers, on
 * arbitrary bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/iscsi_pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_bhs h, g;
	if (iscsi_bhs_parse(data, size, &h) == 0) {
		uint8_t raw[ISCSI_BHS_LEN];
		iscsi_bhs_build(&h, raw);
		iscsi_bhs_parse(raw, sizeof(raw), &g);
		/* Everything but the reserved upper bits survives a round trip. */
		if (g.itt != h.itt || g.dlen != h.dlen || g.lun != h.lun || g.w44 != h.w44)
			abort();
		(void)iscsi_pdu_body_len(&h);
		(void)iscsi_lun_number(h.lun);
		const uint8_t *p = data + ISCSI_BHS_LEN;
		size_t left = size - ISCSI_BHS_LEN, alen = (size_t)h.ahs_words * 4;
		if (alen > left)
			alen = left;
		for (;;) {
			uint8_t type;
			const uint8_t *body;
			size_t blen;
			int n = iscsi_ahs_next(p, alen, &type, &body, &blen);
			if (n <= 0)
				break;
			if (body + blen > p + alen)
				abort();
			p += n;
			alen -= (size_t)n;
		}
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct iscsi_kv kv[64];
	int n = iscsi_text_parse(text, size, kv, 64);
	for (int i = 0; i < n; i++) {
		uint64_t num;
		int b;
		uint8_t bin[1024];
		iscsi_val_number(kv[i].value, &num);
		iscsi_val_bool(kv[i].value, &b);
		iscsi_val_binary(kv[i].value, bin, sizeof(bin));
		iscsi_val_list_has(kv[i].value, "None");
		struct fb_buf out = {0};
		iscsi_text_add(&out, kv[i].key, kv[i].value);
		fb_buf_free(&out);
	}
	free(text);
	return 0;
}
