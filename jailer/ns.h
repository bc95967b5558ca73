/* Namespaces: the network namespace to join, and the jail's new mount, IPC, UTS, network and pid ones. */
#ifndef JAILER_NS_H
#define JAILER_NS_H

#include <stdbool.h>

#include "microvm/compiler.h"
#include "microvm/diag.h"

/* Checks that fd (an opened --netns PATH) is a network namespace. */
MUST_CHECK int ns_check_net(int fd, const char *path, struct diag *d);
MUST_CHECK int ns_join_net(int fd, const char *path, struct diag *d);
/*
 * New mount, IPC and UTS namespaces (and with new_net a network namespace, which holds
 * only a loopback device that is down) for the calling process, whose working directory
 * becomes dir_fd first: unshare carries the working directory over to the new
 * namespace's copy of its mount, while fds keep pointing into the old one, where
 * mount(2) refuses to work.
 */
MUST_CHECK int ns_unshare_jail(int dir_fd, bool new_net, struct diag *d);
/* A new pid namespace for the caller's next child, which becomes its pid 1; the caller stays. */
MUST_CHECK int ns_unshare_pid_for_children(struct diag *d);

#endif
