/*
 * The VM's lifecycle against /dev/kvm, through the calls the control plane will make.
 * The tiny guest, with two vCPUs, is created from resources, booted, and run by this
 * thread, which becomes the VMM thread under the real seccomp filters. A control
 * thread, made before any filter (as the API thread will be, with its own), pauses it
 * while it polls COM1 (tiny.wait=1), reads every vCPU's registers twice and finds them
 * equal, sees the guest make no progress (it does not even take the byte waiting for
 * it), then resumes it and lets it finish. Usage: test_lifecycle TINY_ELF. Skips,
 * saying so, without /dev/kvm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/resources.h"
#include "microvm/kvm.h"
#include "microvm/sandbox.h"
#include "microvm/vm.h"
#include "microvm/vm_exit.h"

#define TIMEOUT_MS 120000 /* the guest's code is emulated on a PVM host: slow */

static const char *tiny_elf;

/* The control thread's side: the guest's console, and what went wrong. */
struct control {
	struct vm *vm;
	int con_fd, in_fd;
	char out[64 * 1024];
	size_t len;
	const char *failure;
};

/* Reads the guest's console until it holds want (true), or TIMEOUT_MS pass. */
static bool read_until(struct control *c, const char *want)
{
	while (!strstr(c->out, want)) {
		struct pollfd p = { .fd = c->con_fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, TIMEOUT_MS) <= 0 || c->len + 1 >= sizeof(c->out))
			return false;
		n = read(c->con_fd, c->out + c->len, sizeof(c->out) - 1 - c->len);
		if (n <= 0)
			return false;
		c->len += (size_t)n;
		c->out[c->len] = '\0';
	}
	return true;
}

/* Whether the guest wrote anything within ms. */
static bool output_within(struct control *c, int ms)
{
	struct pollfd p = { .fd = c->con_fd, .events = POLLIN };

	return poll(&p, 1, ms) > 0;
}

/* Every vCPU's registers, twice, 100 ms apart: the same, and the BSP's real (long mode, in the guest). */
static const char *registers_stand_still(struct control *c)
{
	const struct boot_info *boot = vm_boot_info(c->vm);

	for (unsigned int i = 0; i < vm_vcpu_count(c->vm); i++) {
		struct kvm_regs r1, r2;
		struct kvm_sregs s1, s2;

		if (vm_vcpu_regs(c->vm, i, &r1, &s1) || (usleep(100 * 1000), vm_vcpu_regs(c->vm, i, &r2, &s2)))
			return "vm_vcpu_regs failed while paused";
		if (memcmp(&r1, &r2, sizeof(r1)) != 0 || memcmp(&s1, &s2, sizeof(s1)) != 0)
			return "a vCPU's registers changed while paused";
		/* The AP halts in its trampoline; the BSP polls COM1. */
		if (i == 0 && (!(s1.efer & (1u << 10)) || r1.rip < boot->kernel.load_start ||
			       r1.rip >= boot->kernel.load_end))
			return "the BSP is not in the guest's 64-bit code";
	}
	return NULL;
}

static const char *control_script(struct control *c)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	const char *why;

	/* The guest polls COM1 for a byte now: both vCPUs started, the BSP busy. */
	if (!read_until(c, "wait: ready\n") || !strstr(c->out, "cpus-started: 2\n"))
		return "no 'wait: ready' after both CPUs started";
	if (vm_vcpu_regs(c->vm, 0, &r, &s) != -EBUSY)
		return "registers read while running";
	if (vm_command(c->vm, VM_COMMAND_PAUSE) || vm_command(c->vm, VM_COMMAND_PAUSE))
		return "pause failed";
	/* Input waits: a running guest would take it and say so at once. */
	if (write(c->in_fd, "Z", 1) != 1)
		return "cannot write the guest's input";
	why = registers_stand_still(c);
	if (why)
		return why;
	if (vm_vcpu_regs(c->vm, 2, &r, &s) != -EINVAL)
		return "a third vCPU's registers";
	if (output_within(c, 300))
		return "the guest wrote while paused";
	if (vm_command(c->vm, VM_COMMAND_RESUME))
		return "resume failed";
	if (!read_until(c, "tiny: done\n") || !strstr(c->out, "wait: got 0x5a\n"))
		return "the guest did not take its byte and finish after the resume";
	return NULL;
}

static void *control_thread(void *arg)
{
	struct control *c = arg;
	c->failure = control_script(c);
	if (c->failure) {
		/* Whatever went wrong, let the guest finish so that vm_run returns. */
		(void)!vm_command(c->vm, VM_COMMAND_RESUME);
		(void)!write(c->in_fd, "Z", 1);
	}
	return NULL;
}

static void pause_reads_stable_registers(void **state)
{
	static struct control c;
	struct vm_resources res;
	struct sandbox sb;
	struct kvm kvm;
	pthread_t thread;
	int in[2], con[2], status;
	struct diag d;

	(void)state;
	if (access("/dev/kvm", R_OK | W_OK) != 0) {
		printf("# SKIP /dev/kvm is absent: no KVM on this machine, the lifecycle cannot run\n");
		skip();
	}
	resources_init(&res);
	assert_int_equal(resources_set_kernel(&res, tiny_elf, &d), 0);
	assert_int_equal(resources_set_vcpus(&res, 2, &d), 0);
	assert_int_equal(resources_set_cmdline(&res, "console=ttyS0 tiny.wait=1", &d), 0);
	assert_int_equal(sandbox_prepare(&sb, SANDBOX_BUILTIN, NULL, &d), 0);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(con, O_CLOEXEC), 0);
	if (vm_create(&c.vm, &(struct vm_params){ .res = &res, .sandbox = &sb, .console_in = in[0],
						  .console_out = con[1] },
		      &d))
		fail_msg("vm_create: %s", d.msg);
	if (kvm_create(&kvm, &d))
		fail_msg("kvm_create: %s", d.msg);
	assert_int_equal(vm_boot(c.vm, &kvm), 0);
	assert_int_equal(vm_vcpu_count(c.vm), 2);
	c.con_fd = con[0];
	c.in_fd = in[1];
	assert_int_equal(pthread_create(&thread, NULL, control_thread, &c), 0);

	status = vm_run(c.vm);
	assert_int_equal(pthread_join(thread, NULL), 0);
	if (c.failure)
		fail_msg("%s; the guest wrote:\n%s", c.failure, c.out);
	assert_int_equal(status, VM_STATUS_OK);
	/* Ended: nothing left to command. */
	assert_int_equal(vm_command(c.vm, VM_COMMAND_RESUME), -ESHUTDOWN);
	vm_destroy(c.vm);
	close(in[0]);
	close(in[1]);
	close(con[0]);
	close(con[1]);
	sandbox_release(&sb);
	resources_free(&res);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pause_reads_stable_registers),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s TINY_ELF\n", argv[0]);
		return 2;
	}
	tiny_elf = argv[1];
	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
