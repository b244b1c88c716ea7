/*
 * harness.h - a tiny unit-test harness. Each check records the file and
 * line it was written on, so a failure points at the check itself. A test
 * program prints one "ok"/"not ok" line per check group and exits non-zero
 * when any check failed.
 */
#ifndef FB_HARNESS_H
#define FB_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int harness_failed;
static int harness_checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		harness_checks++;                                                                  \
		if (!(cond)) {                                                                     \
			harness_failed++;                                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		harness_checks++;                                                                  \
		if (!a_ || !b_ || strcmp(a_, b_)) {                                                \
			harness_failed++;                                                          \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__,           \
			        a_ ? a_ : "(null)", b_ ? b_ : "(null)");                           \
		}                                                                                  \
	} while (0)

#define CHECK_INT(a, b)                                                                            \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		harness_checks++;                                                                  \
		if (a_ != b_) {                                                                    \
			harness_failed++;                                                          \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
			        #a, a_, b_);                                                       \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		int before_ = harness_failed;                                                      \
		fn();                                                                              \
		printf("%s %s\n", harness_failed == before_ ? "ok" : "not ok", #fn);               \
	} while (0)

#define HARNESS_EXIT()                                                                             \
	(printf("%d checks, %d failed\n", harness_checks, harness_failed), harness_failed ? 1 : 0)

#endif
