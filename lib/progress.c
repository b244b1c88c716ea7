/* progress.c - see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fb_progress_stderr(void *label, uint64_t done, uint64_t total)
{
	static int last = -1;
	static const void *last_label;
	int pct = total ? (int)(done * 100 / total) : 100;
	if (label != last_label) {
		last = -1;
		last_label = label;
	}
	if (isatty(STDERR_FILENO)) {
		if (pct == last)
			return 0;
		char bar[41];
		int fill = pct * 40 / 100;
		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(40 - fill));
		bar[40] = 0;
		fprintf(stderr, "\r%s [%s] %3d%%", (const char *)label, bar, pct);
		if (done >= total)
			fputc('\n', stderr);
	} else {
		if (pct / 10 == last / 10 && done < total)
			return 0;
		fprintf(stderr, "%s: %d%%\n", (const char *)label, pct);
	}
	last = pct;
	return 0;
}
