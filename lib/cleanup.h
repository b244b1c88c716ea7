/*
 * cleanup.h - scoped clean-up through the compiler's cleanup attribute
 * (gcc and clang both have it), for code where a manual free or unlock on
 * every way out of a scope is easy to get wrong.
 *
 *   CLEANUP_FREE char *s = malloc(n);
 *       s is passed to free() when it goes out of scope, however the scope
 *       is left (return, break, goto out of it). Set s = NULL to keep the
 *       memory (ownership handed on).
 *
 *   ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&m);
 *       locks the pthread mutex m now and unlocks it when the enclosing
 *       block ends. Use it only where the lock is held to the end of the
 *       block: a function that must let go of the lock part way (to call
 *       out, to sleep, to write to a socket) keeps explicit lock and unlock
 *       calls, or puts the locked part in a block or function of its own.
 *       The guard is not a counter: the mutex is locked exactly once.
 *
 * Nothing here is thread-safe or unsafe by itself; the lock guard only
 * moves the unlock to the end of the scope.
 */
#ifndef FB_CLEANUP_H
#define FB_CLEANUP_H

#include <pthread.h>
#include <stdlib.h>

/* free() the pointer a CLEANUP_FREE variable holds (NULL is fine). */
static inline void fb_cleanup_free(void *ptr)
{
	free(*(void **)ptr);
}

#define CLEANUP_FREE __attribute__((cleanup(fb_cleanup_free)))

/* Unlock the mutex a lock guard holds. */
static inline void fb_cleanup_unlock(pthread_mutex_t **mp)
{
	pthread_mutex_unlock(*mp);
}

/* Lock m and return it, for the guard's initialiser. */
static inline pthread_mutex_t *fb_lock_for_scope(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	return m;
}

/* Each guard gets a name of its own (the line number), so two guards in
 * nested blocks do not shadow each other (-Wshadow). */
#define FB_CLEANUP_CAT2(a, b) a##b
#define FB_CLEANUP_CAT(a, b)  FB_CLEANUP_CAT2(a, b)

#define ACQUIRE_LOCK_FOR_CURRENT_SCOPE(mutex)                                                      \
	__attribute__((cleanup(fb_cleanup_unlock), unused)) pthread_mutex_t *FB_CLEANUP_CAT(       \
	    fb_scope_lock_, __LINE__) = fb_lock_for_scope(mutex)

#endif
