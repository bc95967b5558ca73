#include "microvm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "microvm/boottimer.h"
#include "microvm/bus.h"
#include "microvm/cleanup.h"
#include "microvm/console.h"
#include "microvm/i8042.h"
#include "microvm/legacy.h"
#include "microvm/log.h"
#include "microvm/registry.h"
#include "microvm/sandbox.h"
#include "microvm/serial8250.h"
#include "microvm/vcpu.h"

#define KVM_DEVICE "/dev/kvm"
#define KVM_EXPECTED_API 12

struct vm {
	const struct vm_params *params;
	struct gmem *mem;
	int kvm_fd, vm_fd;
	size_t run_size;
	struct bus pio, mmio;
	struct serial8250 serial;
	bool serial_ready;
	struct i8042 i8042;
	bool i8042_ready;
	struct boottimer boottimer;
	struct console console;
	int rx_room_efd;
	struct vm_exit exit;
	struct vcpu_env env;
	struct vcpu vcpus[VM_MAX_VCPUS];
	unsigned int nr_vcpus;
};

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

/* Logs "what: strerror(errno)" and returns -errno, with errno read before logging can change it. */
static int vm_fail_errno(const char *what)
{
	int err = errno;

	log_error("%s: %s", what, strerror(err));
	return -err;
}

/* Logs "what: strerror(-ret)" and returns ret. */
static int vm_fail(const char *what, int ret)
{
	log_error("%s: %s", what, strerror(-ret));
	return ret;
}

static int vm_check_kvm(struct vm *vm)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
		{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
	};
	int api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	int max_vcpus;

	if (api != KVM_EXPECTED_API) {
		log_error("%s: KVM API version %d, expected %d", KVM_DEVICE, api, KVM_EXPECTED_API);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			log_error("%s: missing %s", KVM_DEVICE, caps[i].name);
			return -ENOTSUP;
		}
	}
	max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max_vcpus <= 0)
		max_vcpus = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max_vcpus > 0 && vm->params->vcpus > (unsigned int)max_vcpus) {
		log_error("%u vCPUs requested, KVM supports at most %d", vm->params->vcpus, max_vcpus);
		return -EINVAL;
	}
	return 0;
}

static int vm_create_kvm_vm(struct vm *vm)
{
	uint64_t identity_map = LAYOUT_KVM_IDENTITY_MAP_ADDR;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int mmap_size;

	do
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0)
		return vm_fail_errno("KVM_CREATE_VM");
	/* Both must precede vCPU creation; they only matter on Intel without unrestricted guests. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)LAYOUT_KVM_TSS_ADDR) < 0)
		return vm_fail_errno("KVM_SET_TSS_ADDR");
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &identity_map) < 0)
		return vm_fail_errno("KVM_SET_IDENTITY_MAP_ADDR");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return vm_fail_errno("KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return vm_fail_errno("KVM_CREATE_PIT2");
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		log_error("KVM_GET_VCPU_MMAP_SIZE: %d", mmap_size);
		return -EINVAL;
	}
	vm->run_size = (size_t)mmap_size;
	return 0;
}

static int vm_setup_memory(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->mem->nr_regions; i++) {
		const struct gmem_region *r = &vm->mem->regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->host,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			int err = errno;

			log_error("KVM_SET_USER_MEMORY_REGION slot %u (%llu MiB at 0x%llx): %s", i,
				  (unsigned long long)(r->size >> 20), (unsigned long long)r->gpa,
				  strerror(err));
			return -err;
		}
	}
	return 0;
}

static void vm_serial_tx(void *ctx, uint8_t byte)
{
	struct vm *vm = ctx;

	console_write(&vm->console, &byte, 1);
}

static void vm_serial_irq(void *ctx, bool level)
{
	struct vm *vm = ctx;
	struct kvm_irq_level irq = { .irq = SERIAL_COM1_IRQ, .level = level };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_debug("KVM_IRQ_LINE %u: %s", SERIAL_COM1_IRQ, strerror(errno));
}

static void vm_serial_rx_room(void *ctx)
{
	struct vm *vm = ctx;
	uint64_t one = 1;

	if (write(vm->rx_room_efd, &one, sizeof(one)) < 0)
		log_debug("rx event: %s", strerror(errno));
}

/* A virtio device's interrupt: an edge on its GSI, as an irqfd gives. */
static void vm_virtio_irq(void *ctx, unsigned int gsi)
{
	struct vm *vm = ctx;
	struct kvm_irq_level irq = { .irq = gsi, .level = 1 };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_debug("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
	irq.level = 0;
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_debug("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

/* The I/O thread cannot serve the devices: the VM cannot go on. */
static void vm_io_failed(void *ctx)
{
	struct vm *vm = ctx;

	vm_exit_request(&vm->exit, VM_STATUS_ERROR);
}

static void vm_guest_reset(void *ctx)
{
	struct vm *vm = ctx;

	log_info("guest requested a CPU reset through the i8042");
	vm_exit_request(&vm->exit, VM_STATUS_OK);
}

static int vm_setup_devices(struct vm *vm)
{
	const struct serial_sink sink = {
		.tx = vm_serial_tx, .set_irq = vm_serial_irq, .rx_room = vm_serial_rx_room, .ctx = vm,
	};
	int ret;

	bus_init(&vm->pio, "port");
	bus_init(&vm->mmio, "MMIO");
	ret = serial8250_init(&vm->serial, &sink);
	if (ret)
		return ret;
	vm->serial_ready = true;
	ret = i8042_init(&vm->i8042, vm_guest_reset, vm);
	if (ret)
		return ret;
	vm->i8042_ready = true;
	boottimer_init(&vm->boottimer);

	/* The port map, in address order. */
	ret = bus_register(&vm->pio, "i8042-data", I8042_DATA_PORT, 1, &i8042_data_ops, &vm->i8042);
	if (!ret)
		ret = bus_register(&vm->pio, "speaker", LEGACY_SPEAKER_PORT, 1, &legacy_inert_ops, NULL);
	if (!ret)
		ret = bus_register(&vm->pio, "i8042-cmd", I8042_CMD_PORT, 1, &i8042_cmd_ops, &vm->i8042);
	if (!ret)
		ret = bus_register(&vm->pio, "post", LEGACY_POST_PORT, 1, &legacy_inert_ops, NULL);
	if (!ret)
		ret = bus_register(&vm->pio, "boot-timer", BOOTTIMER_PORT, 1, &boottimer_bus_ops,
				   &vm->boottimer);
	if (!ret)
		ret = bus_register(&vm->pio, "com1", SERIAL_COM1_BASE, SERIAL_NR_REGS,
				   &serial8250_bus_ops, &vm->serial);
	if (!ret)
		ret = registry_attach(vm->params->devices, &vm->mmio, vm->mem, vm_virtio_irq, vm);
	if (ret)
		return ret;
	bus_seal(&vm->pio);
	bus_seal(&vm->mmio);
	return 0;
}

static int vm_get_supported_cpuid(struct vm *vm, struct kvm_cpuid2 *t)
{
	t->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, t) < 0)
		return vm_fail_errno("KVM_GET_SUPPORTED_CPUID");
	return 0;
}

static int vm_create_vcpus(struct vm *vm, const struct boot_info *boot)
{
	struct kvm_cpuid2 *supported = cpuid_alloc();
	int ret;

	if (!supported)
		return -ENOMEM;
	ret = vm_get_supported_cpuid(vm, supported);
	for (unsigned int i = 0; !ret && i < vm->params->vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		ret = vcpu_create(v, vm->vm_fd, vm->run_size, i, &vm->env);
		if (ret) {
			log_error("cannot create vCPU %u: %s", i, strerror(-ret));
			break;
		}
		vm->nr_vcpus++;
		ret = cpu_setup_vcpu(v->fd, supported, i, vm->params->vcpus);
		if (!ret && i == 0)
			ret = cpu_setup_boot_regs(v->fd, boot->kernel.entry);
		if (ret)
			log_error("cannot set up vCPU %u: %s", i, strerror(-ret));
	}
	free(supported);
	return ret;
}

static void vm_handle_signal(struct vm *vm, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	log_info("received %s: stopping the VM", strsignal((int)si.ssi_signo));
	vm_exit_request(&vm->exit, VM_STATUS_OK);
}

static void vm_drain_eventfd(int efd)
{
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0)
		log_debug("eventfd read: %s", strerror(errno));
}

/* Moves as much console input into the UART as its FIFO takes. */
static void vm_pump_input(struct vm *vm)
{
	uint8_t buf[SERIAL_FIFO_SIZE];
	size_t room = serial8250_rx_room(&vm->serial);
	ssize_t n;

	if (room == 0 || vm->console.in_eof)
		return;
	n = console_read(&vm->console, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n > 0)
		(void)serial8250_rx_push(&vm->serial, buf, (size_t)n);
}

enum { VM_EV_SIGNAL, VM_EV_EXIT, VM_EV_RX_ROOM, VM_EV_STDIN };

static int vm_epoll_add(int epfd, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* The main thread's loop: console input and signals until the VM is to end. */
/* The main loop's epoll set, made before the sandbox (it is an fd like any other). */
static int vm_events_open(struct vm *vm, int sfd)
{
	cleanup_fd int epfd = epoll_create1(EPOLL_CLOEXEC);
	int ret;

	if (epfd < 0)
		return -errno;
	ret = vm_epoll_add(epfd, sfd, EPOLLIN, VM_EV_SIGNAL);
	if (!ret)
		ret = vm_epoll_add(epfd, vm->exit.efd, EPOLLIN, VM_EV_EXIT);
	if (!ret)
		ret = vm_epoll_add(epfd, vm->rx_room_efd, EPOLLIN, VM_EV_RX_ROOM);
	if (ret)
		return ret;
	return steal_fd(&epfd);
}

static int vm_main_loop(struct vm *vm, int epfd, int sfd)
{
	bool stdin_pollable = true, stdin_armed = false;
	int ret;

	while (!vm_exit_requested(&vm->exit)) {
		bool want_input = !vm->console.in_eof && serial8250_rx_room(&vm->serial) > 0;
		struct epoll_event events[4];
		int n;

		/*
		 * stdin is watched only while the UART has room; it is removed rather than
		 * masked, since epoll reports a hang-up even for a masked descriptor.
		 */
		if (stdin_pollable && want_input != stdin_armed) {
			if (want_input) {
				ret = vm_epoll_add(epfd, vm->console.in_fd, EPOLLIN, VM_EV_STDIN);
				/* Regular files and /dev/null cannot be polled: they are always readable. */
				if (ret == -EPERM)
					stdin_pollable = false;
				else if (ret)
					return ret;
			} else if (epoll_ctl(epfd, EPOLL_CTL_DEL, vm->console.in_fd, NULL) < 0) {
				return -errno;
			}
			stdin_armed = want_input && stdin_pollable;
		}
		n = epoll_wait(epfd, events, ARRAY_SIZE(events), !stdin_pollable && want_input ? 0 : -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			switch (events[i].data.u64) {
			case VM_EV_SIGNAL:
				vm_handle_signal(vm, sfd);
				break;
			case VM_EV_RX_ROOM:
				vm_drain_eventfd(vm->rx_room_efd);
				break;
			case VM_EV_STDIN:
				vm_pump_input(vm);
				break;
			default:
				break;
			}
		}
		if (!stdin_pollable && want_input)
			vm_pump_input(vm);
	}
	return 0;
}

static void vm_stop_vcpus(struct vm *vm, int kick_signal)
{
	atomic_store(&vm->console.stopping, true);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i], kick_signal);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].started = false;
	}
}

static void vm_log_pvm_summary(const struct vm *vm)
{
	unsigned long total[INSN_NR_KINDS] = { 0 }, all = 0;

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		for (size_t k = 0; k < INSN_NR_KINDS; k++) {
			total[k] += vm->vcpus[i].finished[k];
			all += vm->vcpus[i].finished[k];
		}
	}
	if (all)
		log_info("PVM host: the VMM finished %lu int3, %lu popcnt, %lu clac, %lu stac, %lu fwait",
			 total[INSN_INT3], total[INSN_POPCNT], total[INSN_CLAC], total[INSN_STAC],
			 total[INSN_FWAIT]);
}

static void vm_kick_handler(int signo)
{
	(void)signo;
}

static int vm_sandbox_enter(struct vm *vm)
{
	struct diag d;
	int ret = sandbox_enter(vm->params->sandbox, "vmm", &d);

	if (ret) {
		log_error("%s", d.msg);
		vm_exit_request(&vm->exit, VM_STATUS_ERROR);
	}
	return ret;
}

/* Everything after KVM setup: devices, vCPUs, threads, the main loop. */
static int vm_boot_and_run(struct vm *vm, const struct boot_info *boot, int kick_signal)
{
	sigset_t stop_signals;
	cleanup_fd int sfd = -1;
	cleanup_fd int epfd = -1;
	int ret;

	ret = vm_setup_devices(vm);
	if (ret)
		return vm_fail("cannot set up devices", ret);
	ret = vm_create_vcpus(vm, boot);
	if (ret)
		return ret;

	/* The stop signals arrive through a signalfd; threads created from here inherit the mask. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	sfd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
	if (sfd < 0)
		return vm_fail_errno("signalfd");
	ret = console_open(&vm->console, STDIN_FILENO, STDOUT_FILENO);
	if (ret)
		return vm_fail("cannot set up the terminal", ret);
	epfd = vm_events_open(vm, sfd);
	if (epfd < 0) {
		console_close(&vm->console);
		return vm_fail("cannot set up the event loop", epfd);
	}

	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret) {
			log_error("cannot start the thread of vCPU %u: %s", i, strerror(-ret));
			vm_exit_request(&vm->exit, VM_STATUS_ERROR);
			break;
		}
	}
	if (!ret) {
		ret = registry_start(vm->params->devices, vm->params->sandbox, vm_io_failed, vm);
		if (ret) {
			log_error("cannot start the device I/O thread: %s", strerror(-ret));
			vm_exit_request(&vm->exit, VM_STATUS_ERROR);
		}
	}
	/* Every open and parse is behind us: this thread's filter goes in before any guest code runs. */
	if (!ret)
		ret = vm_sandbox_enter(vm);
	vcpu_gate_open(&vm->env.gate);
	if (!ret) {
		ret = vm_main_loop(vm, epfd, sfd);
		if (ret) {
			log_error("VMM main loop: %s", strerror(-ret));
			vm_exit_request(&vm->exit, VM_STATUS_ERROR);
		}
	}
	vm_stop_vcpus(vm, kick_signal);
	registry_stop(vm->params->devices);
	console_close(&vm->console);
	vm_log_pvm_summary(vm);
	return ret;
}

static void vm_teardown(struct vm *vm)
{
	vcpu_gate_destroy(&vm->env.gate);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	if (vm->i8042_ready)
		i8042_destroy(&vm->i8042);
	if (vm->serial_ready)
		serial8250_destroy(&vm->serial);
	if (vm->rx_room_efd >= 0)
		close(vm->rx_room_efd);
	if (vm->exit.efd >= 0)
		close(vm->exit.efd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
}

int vm_run(const struct vm_params *p, struct gmem *mem, const struct boot_info *boot)
{
	struct vm *vm;
	struct sigaction kick = { .sa_handler = vm_kick_handler }, ignore = { .sa_handler = SIG_IGN };
	struct sigaction old_kick, old_pipe;
	sigset_t stop_signals, old_mask;
	const int kick_signal = SIGRTMIN;
	int ret;

	if (p->vcpus == 0 || p->vcpus > VM_MAX_VCPUS) {
		log_error("vCPU count %u out of range 1-%d", p->vcpus, VM_MAX_VCPUS);
		return VM_STATUS_ERROR;
	}
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		log_error("out of memory");
		return VM_STATUS_ERROR;
	}
	vm->params = p;
	vm->mem = mem;
	vm->vm_fd = -1;
	vm->kvm_fd = -1;
	vm->rx_room_efd = -1;
	vm->exit.efd = -1;
	atomic_init(&vm->exit.requested, false);
	atomic_init(&vm->exit.status, VM_STATUS_ERROR);
	vm->env = (struct vcpu_env){
		.mem = mem, .pio = &vm->pio, .mmio = &vm->mmio, .pvm = p->pvm, .exit = &vm->exit,
	};
	atomic_init(&vm->env.pvm_seen, false);
	vm->env.sandbox = p->sandbox;
	vcpu_gate_init(&vm->env.gate);

	/*
	 * Signals, set before any thread exists: the stop signals blocked (a signalfd reads
	 * them), the kick interrupting KVM_RUN without SA_RESTART, SIGPIPE ignored so a
	 * closed stdout is an error, not death. All restored on the way out.
	 */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
	sigaction(kick_signal, &kick, &old_kick);
	sigaction(SIGPIPE, &ignore, &old_pipe);

	vm->kvm_fd = open(KVM_DEVICE, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = vm_fail_errno("cannot open " KVM_DEVICE);
	} else if ((vm->rx_room_efd = eventfd(0, EFD_CLOEXEC)) < 0 ||
		   (vm->exit.efd = eventfd(0, EFD_CLOEXEC)) < 0) {
		ret = vm_fail_errno("eventfd");
	} else {
		ret = vm_check_kvm(vm);
		if (!ret)
			ret = vm_create_kvm_vm(vm);
		if (!ret) {
			ret = vm_setup_memory(vm);
			if (ret)
				log_error("cannot register guest memory with KVM");
		}
		if (!ret)
			ret = vm_boot_and_run(vm, boot, kick_signal);
	}

	vm_teardown(vm);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(kick_signal, &old_kick, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (ret == 0)
		ret = atomic_load(&vm->exit.status);
	else
		ret = VM_STATUS_ERROR;
	free(vm);
	return ret;
}
