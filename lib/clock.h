/*
 * clock.h - the two clocks fleetboot reads: the wall clock for what is
 * stored or shown (leases, events, sessions), and the monotonic clock for
 * timeouts and rates, which must not jump when the wall clock is set.
 */
#ifndef FB_CLOCK_H
#define FB_CLOCK_H

#include <stdint.h>

/* Wall clock: seconds since the epoch. */
int64_t fb_now(void);
/* Monotonic clock in milliseconds and in microseconds. */
uint64_t fb_mono_ms(void);
uint64_t fb_mono_us(void);

#endif
