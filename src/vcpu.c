#include "microvm/vcpu.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/pvm.h"
#include "microvm/log.h"
#include "microvm/sandbox.h"

/* Unclaimed accesses logged per vCPU (at debug level) before going quiet. */
#define VCPU_UNCLAIMED_LOG_MAX 16

int vcpu_create(struct vcpu *v, int vm_fd, size_t run_size, unsigned int index,
		struct vcpu_env *env)
{
	void *run;

	memset(v, 0, sizeof(*v));
	v->fd = -1;
	v->index = index;
	v->env = env;
	v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0)
		return -errno;
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED) {
		int ret = -errno;

		close(v->fd);
		v->fd = -1;
		return ret;
	}
	v->run = run;
	v->run_size = run_size;
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static void vcpu_log_unclaimed(struct vcpu *v, const char *bus, uint64_t addr, uint32_t len,
			       bool write)
{
	if (v->unclaimed_logged >= VCPU_UNCLAIMED_LOG_MAX)
		return;
	v->unclaimed_logged++;
	log_debug("vcpu %u: unclaimed %s %s at 0x%" PRIx64 " (%u bytes)%s", v->index, bus,
		  write ? "write" : "read", addr, len,
		  v->unclaimed_logged == VCPU_UNCLAIMED_LOG_MAX ? "; not logging further ones" : "");
}

static int vcpu_handle_io(struct vcpu *v)
{
	const struct kvm_run *run = v->run;
	uint32_t size = run->io.size, count = run->io.count;
	uint64_t offset = run->io.data_offset;
	uint8_t *data;

	/* KVM fills these, but the data buffer must lie inside the mapping before it is touched. */
	if ((size != 1 && size != 2 && size != 4) || count == 0 || offset > v->run_size ||
	    (uint64_t)size * count > v->run_size - offset) {
		log_error("vcpu %u: malformed port I/O exit (port 0x%x size %u count %u offset %" PRIu64 ")",
			  v->index, run->io.port, size, count, offset);
		return -EINVAL;
	}
	data = (uint8_t *)v->run + offset;
	for (uint32_t i = 0; i < count; i++, data += size) {
		bool claimed = run->io.direction == KVM_EXIT_IO_OUT
				       ? bus_write(v->env->pio, run->io.port, data, size)
				       : bus_read(v->env->pio, run->io.port, data, size);

		if (!claimed)
			vcpu_log_unclaimed(v, "port", run->io.port, size,
					   run->io.direction == KVM_EXIT_IO_OUT);
	}
	return 0;
}

static int vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint32_t len = run->mmio.len;
	bool claimed;

	if (len == 0 || len > sizeof(run->mmio.data)) {
		log_error("vcpu %u: malformed MMIO exit (address 0x%llx length %u)", v->index,
			  (unsigned long long)run->mmio.phys_addr, len);
		return -EINVAL;
	}
	claimed = run->mmio.is_write ? bus_write(v->env->mmio, run->mmio.phys_addr, run->mmio.data, len)
				     : bus_read(v->env->mmio, run->mmio.phys_addr, run->mmio.data, len);
	if (!claimed)
		vcpu_log_unclaimed(v, "MMIO", run->mmio.phys_addr, len, run->mmio.is_write);
	return 0;
}

static int vcpu_handle_emulation_failure(struct vcpu *v)
{
	struct pvm_site site;
	enum insn_kind kind = INSN_INT3; /* set by pvm_finish before any failure but -ENOTSUP */
	char bytes[3 * INSN_MAX_LEN + 16];
	uint64_t rip;
	int ret = pvm_site_read(v->fd, v->env->mem, &site);

	if (ret) {
		log_error("vcpu %u: KVM internal error: emulation failure (suberror %u); registers unreadable: %s",
			  v->index, KVM_INTERNAL_ERROR_EMULATION, strerror(-ret));
		return ret;
	}
	rip = site.regs.rip;
	if (v->env->pvm_finish) {
		ret = pvm_finish(v->fd, &site, &kind);
		if (ret == 0) {
			if (!atomic_exchange(&v->env->pvm_seen, true))
				log_info("vcpu %u: KVM's emulator cannot run %s at RIP 0x%" PRIx64 " (a PVM host): finishing such instructions in the VMM",
					 v->index, insn_name(kind), rip);
			v->finished[kind]++;
			return 0;
		}
		if (ret != -ENOTSUP) {
			log_error("vcpu %u: cannot finish %s at RIP 0x%" PRIx64 " for the guest: %s",
				  v->index, insn_name(kind), rip, strerror(-ret));
			return ret;
		}
	}
	pvm_format_bytes(&site, bytes, sizeof(bytes));
	log_error("vcpu %u: KVM internal error: emulation failure (suberror %u) at RIP 0x%" PRIx64 " (CPL %u), instruction bytes: %s",
		  v->index, KVM_INTERNAL_ERROR_EMULATION, rip, site.sregs.cs.selector & 3u, bytes);
	return -ENOTSUP;
}

static int vcpu_handle_internal_error(struct vcpu *v)
{
	const struct kvm_run *run = v->run;
	struct kvm_regs regs = { 0 };

	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
		return vcpu_handle_emulation_failure(v);
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		memset(&regs, 0, sizeof(regs));
	log_error("vcpu %u: KVM internal error: suberror %u at RIP 0x%llx (%u data words, first 0x%llx)",
		  v->index, run->internal.suberror, (unsigned long long)regs.rip, run->internal.ndata,
		  run->internal.ndata ? (unsigned long long)run->internal.data[0] : 0ULL);
	return -EIO;
}

static uint64_t vcpu_rip(const struct vcpu *v)
{
	struct kvm_regs regs;

	return ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ? 0 : regs.rip;
}

/*
 * Out of KVM_RUN for a kick (or any signal): clear the kick, then wait at the gate
 * while the VM is paused. KVM finished the access the last exit asked for on the way
 * out (immediate_exit still runs that completion), so the state is whole. The clear
 * comes first: a kick after it still makes the next KVM_RUN return at once.
 */
static void vcpu_kicked(struct vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	vcpu_gate_pass(&v->env->gate);
}

/* Services exits until the VM is to end; returns the VM's exit status, or -1 when another thread ended it. */
static void vcpu_count_exit(struct vcpu *v, const struct kvm_run *run)
{
	enum vcpu_exit_kind kind;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		kind = run->io.direction == KVM_EXIT_IO_IN ? VCPU_EXIT_IO_IN : VCPU_EXIT_IO_OUT;
		break;
	case KVM_EXIT_MMIO:
		kind = run->mmio.is_write ? VCPU_EXIT_MMIO_WRITE : VCPU_EXIT_MMIO_READ;
		break;
	case KVM_EXIT_HLT:
		kind = VCPU_EXIT_HLT;
		break;
	case KVM_EXIT_INTR:
		kind = VCPU_EXIT_SIGNAL;
		break;
	default:
		kind = VCPU_EXIT_OTHER;
		break;
	}
	atomic_fetch_add_explicit(&v->exits[kind], 1, memory_order_relaxed);
}

static int vcpu_run_loop(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	while (!vm_exit_requested(v->env->exit)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu_kicked(v);
				continue;
			}
			log_error("vcpu %u: KVM_RUN failed: %s", v->index, strerror(errno));
			return VM_STATUS_ERROR;
		}
		vcpu_count_exit(v, run);
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (vcpu_handle_io(v))
				return VM_STATUS_ERROR;
			break;
		case KVM_EXIT_MMIO:
			if (vcpu_handle_mmio(v))
				return VM_STATUS_ERROR;
			break;
		case KVM_EXIT_HLT:
			/* The in-kernel LAPIC handles HLT. */
			break;
		case KVM_EXIT_INTR:
			vcpu_kicked(v);
			break;
		case KVM_EXIT_SHUTDOWN:
			log_error("vcpu %u: guest triple fault (KVM_EXIT_SHUTDOWN) at RIP 0x%" PRIx64,
				  v->index, vcpu_rip(v));
			return VM_STATUS_ERROR;
		case KVM_EXIT_SYSTEM_EVENT:
			switch (run->system_event.type) {
			case KVM_SYSTEM_EVENT_SHUTDOWN:
				log_info("vcpu %u: guest powered off", v->index);
				return VM_STATUS_OK;
			case KVM_SYSTEM_EVENT_RESET:
				log_info("vcpu %u: guest reset", v->index);
				return VM_STATUS_OK;
			default:
				log_error("vcpu %u: guest system event %u (crash or unsupported)",
					  v->index, run->system_event.type);
				return VM_STATUS_ERROR;
			}
		case KVM_EXIT_INTERNAL_ERROR:
			if (vcpu_handle_internal_error(v))
				return VM_STATUS_ERROR;
			break;
		case KVM_EXIT_FAIL_ENTRY:
			log_error("vcpu %u: KVM entry failure, hardware reason 0x%llx on CPU %u",
				  v->index,
				  (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
				  run->fail_entry.cpu);
			return VM_STATUS_ERROR;
		default:
			log_error("vcpu %u: unexpected KVM exit reason %u at RIP 0x%" PRIx64, v->index,
				  run->exit_reason, vcpu_rip(v));
			return VM_STATUS_ERROR;
		}
	}
	return -1;
}

static void *vcpu_thread_main(void *arg)
{
	struct vcpu *v = arg;
	struct diag d;
	int status;

	/* The filter goes first: from here on the thread only services exits. */
	if (sandbox_enter(v->env->sandbox, "vcpu", &d)) {
		log_error("vcpu %u: %s", v->index, d.msg);
		vm_exit_request(v->env->exit, VM_STATUS_ERROR);
	} else {
		vcpu_gate_pass(&v->env->gate);
		status = vcpu_run_loop(v);
		if (status >= 0)
			vm_exit_request(v->env->exit, status);
	}
	vcpu_gate_remove(&v->env->gate);
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	int ret;

	vcpu_gate_add(&v->env->gate);
	ret = pthread_create(&v->thread, NULL, vcpu_thread_main, v);
	if (ret) {
		vcpu_gate_remove(&v->env->gate);
		return -ret;
	}
	v->started = true;
	return 0;
}

void vcpu_join(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
}

int vcpu_get_regs(const struct vcpu *v, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	if (ioctl(v->fd, KVM_GET_REGS, regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, sregs) < 0)
		return -errno;
	return 0;
}

void vcpu_kick(struct vcpu *v, int signo)
{
	if (!v->started)
		return;
	/* Covers the window before KVM_RUN: KVM checks the flag on entry and returns EINTR. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(v->thread, signo);
}
