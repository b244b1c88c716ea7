/*
 * evloop.h - one epoll loop per process: file descriptors, timers, signals.
 *
 * Timers are embedded in the caller's own structures (no allocation when
 * arming), kept in a binary heap, so thousands of TFTP transfers can each
 * keep a retransmission timer cheaply. Signals arrive through signalfd and
 * run as ordinary callbacks, never in signal context.
 */
#ifndef FB_EVLOOP_H
#define FB_EVLOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct fb_loop;

typedef void (*fb_io_fn)(struct fb_loop *l, int fd, uint32_t events, void *arg);
typedef void (*fb_timer_fn)(struct fb_loop *l, void *arg);
typedef void (*fb_signal_fn)(struct fb_loop *l, int signo, void *arg);

struct fb_timer {
	uint64_t when;  /* monotonic ms at which it fires */
	size_t idx;     /* heap slot + 1; 0 when not armed */
	fb_timer_fn fn; /* what to call */
	void *arg;      /* its argument */
};

struct fb_loop *fb_loop_new(void);
void fb_loop_free(struct fb_loop *l);

/* Watch fd for events (EPOLLIN, EPOLLOUT, ...). One handler per fd. */
int fb_loop_add_fd(struct fb_loop *l, int fd, uint32_t events, fb_io_fn fn, void *arg);
int fb_loop_mod_fd(struct fb_loop *l, int fd, uint32_t events);
/* Stop watching fd (the caller closes it). Safe from inside a callback. */
int fb_loop_del_fd(struct fb_loop *l, int fd);

void fb_timer_init(struct fb_timer *t, fb_timer_fn fn, void *arg);
/* Arm (or re-arm) to fire once after ms milliseconds. */
int fb_timer_arm(struct fb_loop *l, struct fb_timer *t, uint64_t ms);
void fb_timer_disarm(struct fb_loop *l, struct fb_timer *t);
static inline int fb_timer_armed(const struct fb_timer *t)
{
	return t->idx != 0;
}

/* Deliver signo through the loop (blocks it for normal delivery). */
int fb_loop_add_signal(struct fb_loop *l, int signo, fb_signal_fn fn, void *arg);

/* Run until fb_loop_stop; returns 0, or -1 on an epoll failure. */
int fb_loop_run(struct fb_loop *l);
void fb_loop_stop(struct fb_loop *l);
/* After a round that handled events, poll without sleeping for up to USEC
 * microseconds before blocking (0, the default: always block). */
void fb_loop_set_spin(struct fb_loop *l, unsigned usec);
/* The loop's notion of now (monotonic ms, refreshed every iteration). */
uint64_t fb_loop_now(struct fb_loop *l);
/* Number of armed timers (for tests and status). */
size_t fb_loop_timer_count(struct fb_loop *l);

#endif
