/* evloop.c - see evloop.h. */
#include "evloop.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"

struct fd_slot {
	fb_io_fn fn;
	void *arg;
	uint64_t gen; /* bumped on del, so a stale event in a batch is ignored */
};

struct fb_loop {
	int epfd;
	int stop;
	uint64_t now;
	struct fd_slot *fds;
	size_t nfds;
	struct fb_timer **heap;
	size_t nheap, capheap;
	int sigfd;
	sigset_t sigmask;
	fb_signal_fn sigfn[65];
	void *sigarg[65];
	unsigned spin_us; /* busy-poll this long after activity (0: never) */
};

struct fb_loop *fb_loop_new(void)
{
	struct fb_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sigfd = -1;
	sigemptyset(&l->sigmask);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	l->now = fb_mono_ms();
	return l;
}

void fb_loop_free(struct fb_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

int fb_loop_add_fd(struct fb_loop *l, int fd, uint32_t events, fb_io_fn fn, void *arg)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct fd_slot *s = realloc(l->fds, n * sizeof(*s));
		if (!s)
			return -1;
		memset(s + l->nfds, 0, (n - l->nfds) * sizeof(*s));
		l->fds = s;
		l->nfds = n;
	}
	struct epoll_event ev = {.events = events};
	ev.data.u64 = (uint64_t)(uint32_t)fd | (l->fds[fd].gen << 32);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	l->fds[fd].fn = fn;
	l->fds[fd].arg = arg;
	return 0;
}

int fb_loop_mod_fd(struct fb_loop *l, int fd, uint32_t events)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].fn) {
		errno = EBADF;
		return -1;
	}
	struct epoll_event ev = {.events = events};
	ev.data.u64 = (uint64_t)(uint32_t)fd | (l->fds[fd].gen << 32);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

int fb_loop_del_fd(struct fb_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].fn) {
		errno = EBADF;
		return -1;
	}
	l->fds[fd].fn = NULL;
	l->fds[fd].arg = NULL;
	l->fds[fd].gen = (l->fds[fd].gen + 1) & 0xffffffffu;
	return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void fb_timer_init(struct fb_timer *t, fb_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
}

static void heap_set(struct fb_loop *l, size_t i, struct fb_timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void heap_up(struct fb_loop *l, size_t i)
{
	struct fb_timer *t = l->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->when <= t->when)
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, t);
}

static void heap_down(struct fb_loop *l, size_t i)
{
	struct fb_timer *t = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (t->when <= l->heap[c]->when)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void fb_timer_disarm(struct fb_loop *l, struct fb_timer *t)
{
	if (!t->idx)
		return;
	size_t i = t->idx - 1;
	t->idx = 0;
	l->nheap--;
	if (i == l->nheap)
		return;
	struct fb_timer *m = l->heap[l->nheap];
	heap_set(l, i, m);
	heap_down(l, i);
	heap_up(l, m->idx - 1);
}

int fb_timer_arm(struct fb_loop *l, struct fb_timer *t, uint64_t ms)
{
	fb_timer_disarm(l, t);
	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? l->capheap * 2 : 64;
		struct fb_timer **h = realloc(l->heap, n * sizeof(*h));
		if (!h)
			return -1;
		l->heap = h;
		l->capheap = n;
	}
	t->when = fb_mono_ms() + ms;
	l->heap[l->nheap] = t;
	heap_up(l, l->nheap++);
	return 0;
}

size_t fb_loop_timer_count(struct fb_loop *l)
{
	return l->nheap;
}

static void on_signalfd(struct fb_loop *l, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		int s = (int)si.ssi_signo;
		if (s > 0 && s < 65 && l->sigfn[s])
			l->sigfn[s](l, s, l->sigarg[s]);
	}
}

int fb_loop_add_signal(struct fb_loop *l, int signo, fb_signal_fn fn, void *arg)
{
	if (signo <= 0 || signo >= 65) {
		errno = EINVAL;
		return -1;
	}
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return -1;
	int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (l->sigfd < 0) {
		l->sigfd = fd;
		if (fb_loop_add_fd(l, fd, EPOLLIN, on_signalfd, NULL) < 0)
			return -1;
	}
	l->sigfn[signo] = fn;
	l->sigarg[signo] = arg;
	return 0;
}

void fb_loop_set_spin(struct fb_loop *l, unsigned usec)
{
	l->spin_us = usec;
}

void fb_loop_stop(struct fb_loop *l)
{
	l->stop = 1;
}

uint64_t fb_loop_now(struct fb_loop *l)
{
	return l->now;
}

int fb_loop_run(struct fb_loop *l)
{
	struct epoll_event evs[64];
	int busy = 0;
	l->stop = 0;
	while (!l->stop) {
		l->now = fb_mono_ms();
		/* Fire due timers; a callback may arm or disarm others. */
		while (l->nheap && l->heap[0]->when <= l->now) {
			struct fb_timer *t = l->heap[0];
			fb_timer_disarm(l, t);
			t->fn(l, t->arg);
			if (l->stop)
				return 0;
		}
		int timeout = -1;
		if (l->nheap) {
			uint64_t d = l->heap[0]->when - l->now;
			timeout = d > 60000 ? 60000 : (int)d;
		}
		int n = 0;
		if (l->spin_us && busy) {
			/* Busy-poll briefly after activity: a lockstep peer's
			 * answer usually comes within microseconds, and waking
			 * from a sleep costs more than that. */
			uint64_t until = fb_mono_us() + l->spin_us;
			unsigned k = 0;
			while ((n = epoll_wait(l->epfd, evs, 64, 0)) == 0 && fb_mono_us() < until)
				if (++k % 8 == 0)
					sched_yield(); /* a peer on this CPU runs first */
		}
		if (n == 0)
			n = epoll_wait(l->epfd, evs, 64, timeout);
		busy = n > 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		l->now = fb_mono_ms();
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint64_t gen = evs[i].data.u64 >> 32;
			if ((size_t)fd >= l->nfds || !l->fds[fd].fn || l->fds[fd].gen != gen)
				continue;
			l->fds[fd].fn(l, fd, evs[i].events, l->fds[fd].arg);
		}
	}
	return 0;
}
