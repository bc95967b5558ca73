#include "microvm/vm_exit.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "microvm/log.h"

int vm_exit_init(struct vm_exit *e)
{
	atomic_init(&e->requested, false);
	atomic_init(&e->status, VM_STATUS_ERROR);
	e->efd = eventfd(0, EFD_CLOEXEC);
	return e->efd < 0 ? -errno : 0;
}

void vm_exit_destroy(struct vm_exit *e)
{
	if (e->efd >= 0)
		close(e->efd);
	e->efd = -1;
}

void vm_exit_request(struct vm_exit *e, int status)
{
	uint64_t one = 1;

	if (atomic_exchange(&e->requested, true))
		return;
	atomic_store(&e->status, status);
	/* An eventfd write of 1 cannot block or fail short of a counter overflow. */
	if (write(e->efd, &one, sizeof(one)) < 0)
		log_debug("exit event: %s", strerror(errno));
}

bool vm_exit_requested(struct vm_exit *e)
{
	return atomic_load(&e->requested);
}

int vm_exit_status(struct vm_exit *e)
{
	return atomic_load(&e->status);
}

void vcpu_gate_init(struct vcpu_gate *g)
{
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->changed, NULL);
	g->open = false;
	g->running = g->parked = 0;
}

void vcpu_gate_destroy(struct vcpu_gate *g)
{
	pthread_cond_destroy(&g->changed);
	pthread_mutex_destroy(&g->lock);
}

/* Sets the gate's state and tells every waiter (vCPUs at the gate, the VMM counting them). */
static void vcpu_gate_set(struct vcpu_gate *g, bool open)
{
	pthread_mutex_lock(&g->lock);
	g->open = open;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
}

void vcpu_gate_open(struct vcpu_gate *g)
{
	vcpu_gate_set(g, true);
}

void vcpu_gate_close(struct vcpu_gate *g)
{
	vcpu_gate_set(g, false);
}

void vcpu_gate_add(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->running++;
	pthread_mutex_unlock(&g->lock);
}

void vcpu_gate_remove(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->running--;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
}

void vcpu_gate_pass(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	if (!g->open) {
		g->parked++;
		pthread_cond_broadcast(&g->changed);
		while (!g->open)
			pthread_cond_wait(&g->changed, &g->lock);
		g->parked--;
	}
	pthread_mutex_unlock(&g->lock);
}

void vcpu_gate_wait_parked(struct vcpu_gate *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->open && g->parked < g->running)
		pthread_cond_wait(&g->changed, &g->lock);
	pthread_mutex_unlock(&g->lock);
}
