/* Scope-bound cleanup of file descriptors and heap buffers (bubblewrap's habit). */
#ifndef MICROVM_CLEANUP_H
#define MICROVM_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_fdp(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}

#define cleanup_fd __attribute__((cleanup(cleanup_fdp)))
#define cleanup_free __attribute__((cleanup(cleanup_freep)))

/* Hands ownership of a descriptor out of a cleanup_fd scope. */
static inline int steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* Hands ownership of a heap pointer out of a cleanup_free scope. */
static inline void *steal_pointer(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}

#endif
