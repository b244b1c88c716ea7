/* logsafe.c - see logsafe.h. */
#include "logsafe.h"

#include <string.h>

const char *fb_log_escape_n(const char *in, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	if (!outlen)
		return out;
	if (!in)
		in = "(null)", len = 6;
	size_t o = 0, i;
	for (i = 0; i < len && in[i]; i++) {
		unsigned char ch = (unsigned char)in[i];
		int plain = ch >= 0x20 && ch < 0x7f && ch != '\\';
		size_t need = plain ? 1 : 4;
		/* Keep room for "..." and the NUL whenever more may follow. */
		if (o + need + 4 > outlen || i >= FB_LOG_ESCAPE_MAX)
			break;
		if (plain) {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	if (i < len && in[i]) {
		/* Cut short: say so, if there is room at all. */
		for (int k = 0; k < 3 && o + 1 < outlen; k++)
			out[o++] = '.';
	}
	out[o < outlen ? o : outlen - 1] = 0;
	return out;
}

const char *fb_log_escape(const char *in, char *out, size_t outlen)
{
	return fb_log_escape_n(in, (size_t)-1, out, outlen);
}
