#include "microvm/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/platform.h"
#include "arch/x86/pvm.h"
#include "arch/x86/vcpu_state.h"
#include "config/devspec.h"
#include "microvm/console.h"
#include "microvm/kvm.h"
#include "microvm/legacy.h"
#include "microvm/log.h"
#include "microvm/mailbox.h"
#include "microvm/registry.h"
#include "microvm/vcpu.h"
#include "microvm/vm_exit.h"
#include "vm_priv.h"

/* Logs "what: strerror(-ret)" and returns ret. */
static int vm_fail(const char *what, int ret)
{
	log_error("%s: %s", what, strerror(-ret));
	return ret;
}

/* ---- vm_create: the boot source, devices and platform, into guest memory (no KVM) ---- */

/* The kernel command line: the user's, then the virtio devices' and a PVM host's. */
static int vm_cmdline(struct vm *vm, struct cmdline_buf *cl, struct diag *d)
{
	const struct vm_resources *res = vm->params.res;
	int ret = cmdline_append(cl, resources_cmdline(res), d);
	char root[32];

	/* Disk images, the tap and the vsock socket: opened now, before any sandbox. */
	if (!ret)
		ret = registry_open(&vm->devices, res, d);
	if (ret)
		return ret;
	vm->devices_open = true;
	ret = registry_cmdline(&vm->devices, cl, d);
	if (!ret && resources_root_param(res, root, sizeof(root)))
		ret = cmdline_append(cl, root, d);
	if (ret || res->machine.pvm == PVM_OFF || !pvm_host_detected())
		return ret;
	ret = cmdline_append(cl, pvm_cmdline_switches(), d);
	if (!ret)
		log_at(vm->params.dry_run ? LOG_DEBUG : LOG_INFO, __FILE__, __LINE__,
		       "PVM host detected: added to the kernel command line: %s (--no-pvm turns this off)",
		       pvm_cmdline_switches());
	return ret;
}

static int vm_load(struct vm *vm, const struct image *kernel, const struct image *initrd,
		   struct diag *d)
{
	const struct vm_resources *res = vm->params.res;
	struct cmdline_buf cmdline = { .len = 0 };
	struct platform_config platform = { .vcpus = res->machine.vcpus };
	int ret = vm_cmdline(vm, &cmdline, d);

	if (ret)
		return ret;
	ret = gmem_create(&vm->mem, res->machine.mem_mib * LAYOUT_MIB);
	if (ret)
		return diag_fail_errno(d, ret, "--mem %llu: cannot map guest memory: %s",
				       (unsigned long long)res->machine.mem_mib, strerror(-ret));
	ret = boot_load(&vm->mem, kernel, initrd, cmdline.text,
			&(struct kernel_load_opts){ .entry64 = res->boot.entry64 }, &vm->boot, d);
	if (ret)
		return ret;
	/* The tables describe the devices the command line announced, slot for slot. */
	registry_describe(&vm->devices, &platform);
	return platform_write(&vm->mem, &platform, d);
}

/* Opens the kernel and the initrd for vm_load, and closes them again. */
static int vm_load_boot_source(struct vm *vm, struct diag *d)
{
	const struct boot_source *src = &vm->params.res->boot;
	struct image kernel, initrd;
	int ret = image_open(&kernel, src->kernel_path, d);

	if (ret)
		return ret;
	if (src->initrd_path)
		ret = image_open(&initrd, src->initrd_path, d);
	if (!ret) {
		ret = vm_load(vm, &kernel, src->initrd_path ? &initrd : NULL, d);
		if (src->initrd_path)
			image_close(&initrd);
	}
	image_close(&kernel);
	return ret;
}

int vm_create(struct vm **out, const struct vm_params *p, struct diag *d)
{
	struct vm *vm;
	int ret;

	if (!p->res->boot.kernel_path && !p->restore)
		return diag_fail(d, "no kernel to boot");
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	vm->params = *p;
	vm->kvm.kvm_fd = vm->kvm.vm_fd = vm->exit.efd = vm->commands.efd = -1;
	vcpu_gate_init(&vm->env.gate);
	vm->restore = p->restore;
	vm->start_paused = p->restore && p->restore->paused;
	ret = vm->restore ? vm_restore_create(vm, d) : vm_load_boot_source(vm, d);
	if (ret) {
		vm_destroy(vm);
		return ret;
	}
	*out = vm;
	return 0;
}

const struct boot_info *vm_boot_info(const struct vm *vm)
{
	return &vm->boot;
}

/* ---- vm_boot: KVM, the buses and their devices, the vCPUs ---- */

static void vm_serial_tx(void *ctx, uint8_t byte)
{
	struct vm *vm = ctx;

	console_put(&vm->console, byte);
}

static void vm_serial_irq(void *ctx, bool level)
{
	struct vm *vm = ctx;

	kvm_irq_line(&vm->kvm, SERIAL_COM1_IRQ, level);
}

static void vm_serial_rx_room(void *ctx)
{
	struct vm *vm = ctx;

	evloop_input_room(&vm->loop);
}

/* A virtio device's interrupt: an edge on its GSI, as an irqfd gives. */
static void vm_virtio_irq(void *ctx, unsigned int gsi)
{
	struct vm *vm = ctx;

	kvm_irq_pulse(&vm->kvm, gsi);
}

/* A queue notification KVM signals on efd without an exit (registry_bind_notify). */
static int vm_notify_eventfd(void *ctx, uint64_t addr, uint32_t queue, int efd)
{
	struct vm *vm = ctx;

	return kvm_ioeventfd(&vm->kvm, addr, queue, efd);
}

static void vm_kbd_irq(void *ctx)
{
	struct vm *vm = ctx;

	kvm_irq_pulse(&vm->kvm, I8042_KBD_IRQ);
}

static void vm_guest_reset(void *ctx)
{
	struct vm *vm = ctx;

	log_info("guest requested a CPU reset through the i8042");
	vm_exit_request(&vm->exit, VM_STATUS_OK);
}

static void vm_guest_acpi(void *ctx, enum acpi_pm_request req)
{
	struct vm *vm = ctx;

	if (req == ACPI_PM_POWER_OFF)
		log_info("guest powered off (ACPI S5)");
	else
		log_info("guest requested a reset through the ACPI reset register");
	vm_exit_request(&vm->exit, VM_STATUS_OK);
}

static int vm_setup_devices(struct vm *vm)
{
	const struct serial_sink com1 = {
		.tx = vm_serial_tx, .set_irq = vm_serial_irq, .rx_room = vm_serial_rx_room, .ctx = vm,
	};
	const struct legacy_power power = {
		.i8042_reset = vm_guest_reset, .kbd_irq = vm_kbd_irq, .acpi = vm_guest_acpi, .ctx = vm,
	};
	int ret;

	bus_init(&vm->pio, "port");
	bus_init(&vm->mmio, "MMIO");
	ret = legacy_init(&vm->legacy, &vm->pio, &com1, &power);
	if (!ret)
		ret = registry_attach(&vm->devices, &vm->mmio, &vm->mem, vm_virtio_irq, vm);
	if (!ret)
		ret = registry_bind_notify(&vm->devices, vm_notify_eventfd, vm);
	if (ret)
		return ret;
	bus_seal(&vm->pio);
	bus_seal(&vm->mmio);
	return 0;
}

static int vm_create_vcpus(struct vm *vm)
{
	unsigned int count = vm->params.res->machine.vcpus;
	int ret = 0;

	vm->cpuid = calloc(count, sizeof(*vm->cpuid));
	if (!vm->cpuid)
		return vm_fail("cannot create the vCPUs", -ENOMEM);
	for (unsigned int i = 0; !ret && i < count; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct kvm_cpuid2 *cpuid;

		ret = vcpu_create(v, vm->kvm.vm_fd, vm->kvm.run_size, i, &vm->env);
		if (ret) {
			log_error("cannot create vCPU %u: %s", i, strerror(-ret));
			break;
		}
		vm->nr_vcpus++;
		/* A restored vCPU gets all of its state back from the snapshot instead. */
		if (vm->restore) {
			vm->cpuid[i] = vm->restore->snap->cpuid[i];
			continue;
		}
		/* What KVM supports, fixed up for this vCPU: given to it, and kept for a snapshot. */
		cpuid = cpuid_for_vcpu(vm->kvm.supported, i, count);
		if (!cpuid) {
			ret = -EINVAL;
		} else {
			vcpu_state_cpuid(cpuid, &vm->cpuid[i]);
			ret = cpu_setup_vcpu(v->fd, cpuid, i);
			free(cpuid);
		}
		if (!ret && i == 0)
			ret = vm->boot.entry == BOOT_ENTRY_PVH
				      ? cpu_setup_pvh_regs(v->fd, vm->boot.kernel.pvh_entry)
				      : cpu_setup_boot_regs(v->fd, vm->boot.kernel.entry);
		if (ret)
			log_error("cannot set up vCPU %u: %s", i, strerror(-ret));
	}
	return ret;
}

/* What every vCPU thread shares; the gate in it is vm_create's. */
static void vm_vcpu_env(struct vm *vm)
{
	vm->env.mem = &vm->mem;
	vm->env.pio = &vm->pio;
	vm->env.mmio = &vm->mmio;
	vm->env.pvm_finish = vm->params.res->machine.pvm != PVM_OFF;
	vm->env.exit = &vm->exit;
	vm->env.sandbox = vm->params.sandbox;
	atomic_init(&vm->env.pvm_seen, false);
}

static void vm_serve_commands(void *ctx)
{
	struct vm *vm = ctx;

	mailbox_serve(&vm->commands);
}

static void vm_power_signal(void *ctx);

/* The loop (SIGPWR presses the power button), vm_command's mailbox and what the owner watches too. */
static int vm_loop_init(struct vm *vm)
{
	int ret = evloop_init(&vm->loop, &vm->exit);

	vm->loop_ready = true;
	evloop_on_power_signal(&vm->loop, vm_power_signal, vm);
	if (!ret)
		ret = vm_exit_init(&vm->exit);
	if (!ret)
		ret = mailbox_init(&vm->commands);
	vm->commands_ready = true;
	if (!ret)
		ret = evloop_watch(&vm->loop, &(struct evloop_watch){ vm->commands.efd, vm_serve_commands, vm });
	for (unsigned int i = 0; !ret && i < vm->params.nr_watches; i++)
		ret = evloop_watch(&vm->loop, &vm->params.watches[i]);
	return ret;
}

int vm_boot(struct vm *vm, struct kvm *kvm)
{
	const struct vm_resources *res = vm->params.res;
	int ret;

	/* Taken over before anything can fail: vm_destroy closes it. */
	vm->kvm = *kvm;
	*kvm = (struct kvm){ .kvm_fd = -1, .vm_fd = -1 };
	if (res->machine.vcpus == 0 || res->machine.vcpus > VM_MAX_VCPUS)
		return vm_fail("vCPU count out of range", -EINVAL);
	ret = vm_loop_init(vm);
	if (ret)
		return vm_fail("eventfd", ret);
	vm_vcpu_env(vm);
	ret = kvm_setup(&vm->kvm, res->machine.vcpus, &vm->mem);
	if (ret)
		return ret;
	ret = vm_setup_devices(vm);
	if (ret)
		return vm_fail("cannot set up devices", ret);
	ret = vm_create_vcpus(vm);
	if (!ret && vm->restore)
		ret = vm_restore_state(vm);
	vm->restore = NULL;
	return ret;
}

/* ---- vm_run: the threads, the filters, the event loop; pause and resume ---- */

static void vm_kick_handler(int signo)
{
	(void)signo;
}

/* The I/O thread cannot serve the devices: the VM cannot go on. */
static void vm_io_failed(void *ctx)
{
	struct vm *vm = ctx;

	vm_exit_request(&vm->exit, VM_STATUS_ERROR);
}

static size_t vm_input_room(void *ctx)
{
	struct vm *vm = ctx;

	return serial8250_rx_room(&vm->legacy.serial);
}

static void vm_input_push(void *ctx, const uint8_t *buf, size_t len)
{
	struct vm *vm = ctx;

	(void)serial8250_rx_push(&vm->legacy.serial, buf, len);
}

/* A start that failed (its reason logged) ends the VM; returns ret. */
static int vm_start_failed(struct vm *vm, int ret)
{
	vm_exit_request(&vm->exit, VM_STATUS_ERROR);
	return ret;
}

/* Everything before the loop: the console, the threads, this thread's filter, the gate. */
static int vm_start(struct vm *vm)
{
	const struct evloop_input input = { .room = vm_input_room, .push = vm_input_push, .ctx = vm };
	struct diag d;
	int ret = console_open(&vm->console, vm->params.console_in, vm->params.console_out);

	if (ret)
		return vm_start_failed(vm, vm_fail("cannot set up the terminal", ret));
	ret = evloop_open(&vm->loop, &vm->console, &input);
	if (ret)
		return vm_start_failed(vm, vm_fail("cannot set up the event loop", ret));
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_start(&vm->vcpus[i]);
		if (ret) {
			log_error("cannot start the thread of vCPU %u: %s", i, strerror(-ret));
			return vm_start_failed(vm, ret);
		}
	}
	ret = registry_start(&vm->devices, vm->params.sandbox, vm_io_failed, vm);
	if (ret)
		return vm_start_failed(vm, vm_fail("cannot start the device I/O thread", ret));
	/* Every open and parse is behind us: this thread's filter goes in before any guest code runs. */
	ret = sandbox_enter(vm->params.sandbox, "vmm", &d);
	if (ret) {
		log_error("%s", d.msg);
		return vm_start_failed(vm, ret);
	}
	if (vm->start_paused) {
		/* resume_vm false: the vCPUs park at the closed gate until PATCH /vm Resumed. */
		evloop_hold_input(&vm->loop, true);
		atomic_store(&vm->paused, true);
		log_info("VM restored, paused");
	} else {
		vcpu_gate_open(&vm->env.gate);
	}
	return 0;
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

/* After the loop, or a start that failed: every thread joined, the terminal restored. */
static void vm_stop(struct vm *vm)
{
	mailbox_close(&vm->commands);
	atomic_store(&vm->console.stopping, true);
	atomic_store(&vm->paused, false);
	/* Parked vCPUs leave the gate, and with the others see the exit request. */
	vcpu_gate_open(&vm->env.gate);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i], vm->kick_signal);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	registry_stop(&vm->devices);
	console_close(&vm->console);
	vm_log_pvm_summary(vm);
}

int vm_run(struct vm *vm)
{
	struct sigaction kick = { .sa_handler = vm_kick_handler }, ignore = { .sa_handler = SIG_IGN };
	struct sigaction old_kick, old_pipe;
	sigset_t stop, old_mask;
	int ret;

	/*
	 * Signals, set before any thread exists: the stop signals blocked (the loop reads
	 * them from a signalfd), the kick interrupting KVM_RUN without SA_RESTART, SIGPIPE
	 * ignored so a closed stdout is an error, not death. All restored on the way out.
	 */
	vm->kick_signal = SIGRTMIN;
	evloop_stop_signals(&stop);
	pthread_sigmask(SIG_BLOCK, &stop, &old_mask);
	sigaction(vm->kick_signal, &kick, &old_kick);
	sigaction(SIGPIPE, &ignore, &old_pipe);
	ret = vm_start(vm);
	if (!ret) {
		ret = evloop_run(&vm->loop);
		if (ret) {
			log_error("VMM main loop: %s", strerror(-ret));
			vm_exit_request(&vm->exit, VM_STATUS_ERROR);
		}
	}
	vm_stop(vm);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(vm->kick_signal, &old_kick, NULL);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	return ret ? VM_STATUS_ERROR : vm_exit_status(&vm->exit);
}

/* Every vCPU out of KVM_RUN and parked at the gate, its last access completed. */
static int vm_pause(struct vm *vm)
{
	if (atomic_load(&vm->paused))
		return 0;
	vcpu_gate_close(&vm->env.gate);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i], vm->kick_signal);
	vcpu_gate_wait_parked(&vm->env.gate);
	/* Console input would raise the UART's interrupt: it waits in stdin. */
	evloop_hold_input(&vm->loop, true);
	atomic_store(&vm->paused, true);
	log_info("VM paused");
	return 0;
}

static int vm_resume(struct vm *vm)
{
	if (!atomic_load(&vm->paused))
		return 0;
	atomic_store(&vm->paused, false);
	evloop_hold_input(&vm->loop, false);
	vcpu_gate_open(&vm->env.gate);
	log_info("VM resumed");
	return 0;
}

int vm_shutdown_deadline(struct vm *vm)
{
	int ret;

	if (vm->shutdown_asked)
		return 0;
	ret = evloop_stop_after(&vm->loop, vm->params.res->machine.shutdown_timeout_s);
	if (!ret)
		vm->shutdown_asked = true;
	return ret;
}

/*
 * Presses the power button (an edge on the GED's line, whose _EVT notifies it), and the
 * first time starts the deadline after which the VM is stopped anyway.
 */
static int vm_shutdown(struct vm *vm)
{
	bool again = vm->shutdown_asked;
	int ret = vm_shutdown_deadline(vm);

	if (ret)
		return ret;
	if (again)
		log_info("pressing the ACPI power button again");
	else
		log_info("pressing the ACPI power button: the guest has %u s to power off",
			 vm->params.res->machine.shutdown_timeout_s);
	kvm_irq_pulse(&vm->kvm, LAYOUT_ACPI_GED_IRQ);
	return 0;
}

static void vm_power_signal(void *ctx)
{
	int ret = vm_shutdown(ctx);

	if (ret)
		log_warn("cannot ask the guest to power off: %s", strerror(-ret));
}

void vm_request_shutdown(struct vm *vm)
{
	/* -EAGAIN: the guest's keyboard interrupt is off or it has not read the last keys. */
	bool keys = i8042_ctrl_alt_del(&vm->legacy.i8042) == 0;

	log_info("%s the ACPI power button", keys ? "sent Ctrl+Alt+Del to the guest and pressed"
						  : "pressing (the guest takes no keys now)");
	kvm_irq_pulse(&vm->kvm, LAYOUT_ACPI_GED_IRQ);
}

int vm_do(struct vm *vm, enum vm_command cmd)
{
	switch (cmd) {
	case VM_COMMAND_PAUSE:
		return vm_pause(vm);
	case VM_COMMAND_RESUME:
		return vm_resume(vm);
	case VM_COMMAND_SHUTDOWN:
		return vm_shutdown(vm);
	default:
		return -EINVAL;
	}
}

static int vm_command_call(void *ctx, void *arg)
{
	return vm_do(ctx, *(const enum vm_command *)arg);
}

int vm_command(struct vm *vm, enum vm_command cmd)
{
	return vm->commands_ready ? mailbox_call(&vm->commands, vm_command_call, vm, &cmd) : -EAGAIN;
}

int vm_update_device(struct vm *vm, const void *config, const void *next, unsigned int changes,
		     struct diag *d)
{
	return registry_update(&vm->devices, config, next, changes, d);
}

void *vm_device(struct vm *vm, const struct device_spec *spec)
{
	return registry_device(&vm->devices, spec);
}

unsigned int vm_vcpu_count(const struct vm *vm)
{
	return vm->nr_vcpus;
}

void vm_stats(struct vm *vm, struct vm_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		for (size_t k = 0; k < VCPU_EXIT_KINDS; k++)
			out->exits[k] += atomic_load_explicit(&vm->vcpus[i].exits[k], memory_order_relaxed);
	for (unsigned int i = 0; i < vm->devices.nr; i++) {
		const struct registry_slot *sl = &vm->devices.slots[i];
		struct virtio_mmio_stats *st = &vm->devices.slots[i].mmio.stats;

		out->devices[i] = (struct vm_device_stats){
			.kind = sl->spec->name,
			.base = sl->base,
			.notifications = atomic_load_explicit(&st->notifications, memory_order_relaxed),
			.used = atomic_load_explicit(&st->used, memory_order_relaxed),
			.used_bytes = atomic_load_explicit(&st->used_bytes, memory_order_relaxed),
			.interrupts = atomic_load_explicit(&st->interrupts, memory_order_relaxed),
			.guest_errors = atomic_load_explicit(&st->guest_errors, memory_order_relaxed),
			.throttled = atomic_load_explicit(&st->throttled, memory_order_relaxed),
		};
	}
	out->nr_devices = vm->devices.nr;
}

int vm_vcpu_regs(struct vm *vm, unsigned int index, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	if (index >= vm->nr_vcpus)
		return -EINVAL;
	if (!atomic_load(&vm->paused))
		return -EBUSY;
	return vcpu_get_regs(&vm->vcpus[index], regs, sregs);
}

void vm_destroy(struct vm *vm)
{
	if (vm->devices_open)
		registry_close(&vm->devices);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	legacy_destroy(&vm->legacy);
	kvm_close(&vm->kvm);
	if (vm->loop_ready)
		evloop_destroy(&vm->loop);
	if (vm->commands_ready)
		mailbox_destroy(&vm->commands);
	vm_exit_destroy(&vm->exit);
	vcpu_gate_destroy(&vm->env.gate);
	gmem_destroy(&vm->mem);
	free(vm->cpuid);
	free(vm);
}
