/*
 * fuzz_web_json.c - fleetboot-web's request bodies: UTF-8 and JSON parsing
 * (web_parse_body) and the machine field validation of POST/PATCH
 * (web_machine_apply), on arbitrary bytes. The first byte picks POST or
 * PATCH semantics.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[300];
	if (size < 1)
		return 0;
	int create = data[0] & 1;
	json_t *j = web_parse_body((const char *)data + 1, size - 1, why, sizeof(why));
	if (!j)
		return 0;
	struct fb_machine m;
	memset(&m, 0, sizeof(m));
	if (!create) {
		snprintf(m.mac, sizeof(m.mac), "52-54-00-12-34-56");
		m.mode = FB_MODE_PERSISTENT;
		m.protocol = FB_PROTOCOL_NBD;
	}
	int rotate;
	if (web_machine_apply(j, &m, create, &rotate, why, sizeof(why)) == 0) {
		/* Whatever passed must be a valid machine by the DB's own rules. */
		char why2[300];
		if (fb_machine_validate(&m, why2, sizeof(why2)) != 0)
			__builtin_trap();
	}
	json_decref(j);
	return 0;
}
