/*
 * Snapshots of a running VM and VMs made from them. A snapshot is taken on the VMM
 * thread with the vCPUs parked and the I/O thread held, so nothing changes guest
 * memory or device state while it is read; its vmstate (snapshot/state.h) and its
 * memory file are written to files created for it. A restore maps the memory file
 * MAP_PRIVATE (its cost does not grow with guest RAM; untouched pages are never read)
 * and puts every state back before any vCPU runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "arch/x86/vcpu_state.h"
#include "microvm/log.h"
#include "microvm/vm.h"
#include "vm_priv.h"

/* ---- restore ---- */

/* The machine the firmware tables describe: what vm_load wrote them from. */
static const struct platform_config *vm_platform(const struct vm *vm, struct platform_config *cfg)
{
	*cfg = (struct platform_config){ .vcpus = vm->params.res->machine.vcpus };
	registry_describe(&vm->devices, cfg);
	return cfg;
}

int vm_restore_create(struct vm *vm, struct diag *d)
{
	const struct snapshot *s = vm->restore->snap;
	const struct vm_resources *res = vm->params.res;
	struct platform_config platform;
	struct stat st;
	int ret;

	if (s->machine.nr_vcpus != res->machine.vcpus ||
	    s->machine.ram_size != res->machine.mem_mib * LAYOUT_MIB)
		return diag_fail(d, "the machine (%u vCPUs, %" PRIu64 " bytes of memory) differs from its configuration",
				 s->machine.nr_vcpus, s->machine.ram_size);
	/* Memory first: a memory file that does not fit leaves no device socket behind. */
	ret = gmem_create_from_file(&vm->mem, vm->restore->mem_fd, s->machine.ram_size);
	if (ret)
		return diag_fail_errno(d, ret, "memory file %s: cannot map %" PRIu64 " bytes of it (a regular file that large?): %s",
				       vm->restore->mem_path, s->machine.ram_size, strerror(-ret));
	/* A later snapshot must not truncate the file this memory is mapped from. */
	if (fstat(vm->restore->mem_fd, &st) == 0) {
		vm->mem_dev = st.st_dev;
		vm->mem_ino = st.st_ino;
	}
	ret = registry_open(&vm->devices, res, d);
	if (ret)
		return ret;
	vm->devices_open = true;
	if (vm->devices.nr != s->machine.nr_devices)
		return diag_fail(d, "%u devices saved, but its configuration makes %u", s->machine.nr_devices,
				 vm->devices.nr);
	return snapstate_check_platform(&s->acpi, vm_platform(vm, &platform), d);
}

int vm_restore_state(struct vm *vm)
{
	const struct snapshot *s = vm->restore->snap;
	const char *what = "";
	struct diag d;
	int ret;

	ret = vm_state_restore(vm->kvm.vm_fd, &s->vm, &what);
	if (ret) {
		log_error("snapshot: cannot restore the interrupt controllers, PIT or clock: %s: %s", what,
			  strerror(-ret));
		return ret;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		int fd = vm->vcpus[i].fd;

		ret = vcpu_state_set_tsc_khz(fd, s->machine.tsc_khz);
		if (ret) {
			log_error("snapshot: its TSC ran at %u kHz, which this host cannot give vCPU %u: %s",
				  s->machine.tsc_khz, i, strerror(-ret));
			return ret;
		}
		ret = vcpu_state_restore(fd, &s->vcpus[i], &s->msrs[i], &s->cpuid[i], &what);
		if (ret) {
			log_error("snapshot: cannot restore vCPU %u: %s: %s", i, what, strerror(-ret));
			return ret;
		}
	}
	serial8250_restore(&vm->legacy.serial, &s->legacy.serial);
	i8042_restore(&vm->legacy.i8042, &s->legacy.i8042);
	ret = registry_restore(&vm->devices, s, &d);
	if (ret) {
		log_error("snapshot: %s", d.msg);
		return ret;
	}
	/* The guest is still asked to power off; this VMM's own timeout is its deadline. */
	if (s->acpi.button_pressed) {
		ret = vm_shutdown_deadline(vm);
		if (ret)
			log_error("snapshot: cannot arm the shutdown deadline: %s", strerror(-ret));
		else
			log_info("snapshot: the guest's power button was pressed before it: it has %u s to power off",
				 vm->params.res->machine.shutdown_timeout_s);
	}
	return ret;
}

int vm_snapshot_check_host(const struct snapshot *s, const struct kvm *kvm, struct diag *d)
{
	return snapstate_check_cpu(&s->cpuid[0], kvm->supported, d);
}

/* ---- snapshot ---- */

/* The files a snapshot writes: created, or truncated, never through a symbolic link. */
static int vm_snapshot_open(const struct vm *vm, const char *path, const char *what, struct diag *d)
{
	struct stat st;
	int fd;

	/*
	 * Before the open, whose O_TRUNC would take the pages of the file this VM's memory
	 * is mapped from (the guest then faults on them).
	 */
	if (vm->mem_ino && stat(path, &st) == 0 && st.st_dev == vm->mem_dev && st.st_ino == vm->mem_ino)
		return diag_fail(d, "%s %s: the memory file this VM was restored from", what, path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return diag_fail_errno(d, -errno, "%s %s: %s", what, path, strerror(errno));
	return fd;
}

/* Everything but memory, into s: the vCPUs parked and the I/O thread held. */
static int vm_snapshot_state(struct vm *vm, struct snapshot *s, struct diag *d)
{
	struct platform_config platform;
	const char *what = "";
	int ret = 0;

	/* Found at the first snapshot, not at every boot: a probe per MSR KVM lists. */
	if (!vm->msr_listed) {
		ret = vcpu_state_msr_list(vm->kvm.kvm_fd, vm->vcpus[0].fd, &vm->msr_list);
		if (ret)
			return diag_fail_errno(d, ret, "cannot list the vCPUs' MSRs (KVM_GET_MSR_INDEX_LIST): %s",
					       strerror(-ret));
		vm->msr_listed = true;
	}
	s->machine = (struct snap_machine){
		.nr_vcpus = vm->nr_vcpus,
		.nr_devices = vm->devices.nr,
		.ram_size = vm->mem.ram_size,
		.tsc_khz = vcpu_state_tsc_khz(vm->vcpus[0].fd),
	};
	for (unsigned int i = 0; !ret && i < vm->nr_vcpus; i++) {
		s->cpuid[i] = vm->cpuid[i];
		ret = vcpu_state_save(vm->vcpus[i].fd, &vm->msr_list, &s->vcpus[i], &s->msrs[i], &what);
		if (ret)
			return diag_fail_errno(d, ret, "cannot read vCPU %u: %s: %s", i, what, strerror(-ret));
	}
	ret = vm_state_save(vm->kvm.vm_fd, &s->vm, &what);
	if (ret)
		return diag_fail_errno(d, ret, "cannot read the VM's interrupt controllers, PIT or clock: %s: %s",
				       what, strerror(-ret));
	serial8250_save(&vm->legacy.serial, &s->legacy.serial);
	i8042_save(&vm->legacy.i8042, &s->legacy.i8042);
	registry_save(&vm->devices, s);
	snapstate_describe(&s->acpi, vm_platform(vm, &platform), vm->shutdown_asked);
	return 0;
}

static int vm_snapshot_memory(struct vm *vm, const char *path, struct diag *d)
{
	uint64_t written;
	int fd, ret;

	fd = vm_snapshot_open(vm, path, "mem_file_path", d);
	if (fd < 0)
		return fd;
	ret = gmem_save(&vm->mem, fd, &written);
	close(fd);
	if (ret)
		return diag_fail_errno(d, ret, "mem_file_path %s: %s", path, strerror(-ret));
	log_info("snapshot: %" PRIu64 " MiB of memory, %" PRIu64 " KiB of it data, written to %s",
		 vm->mem.ram_size >> 20, written >> 10, path);
	return 0;
}

static int vm_snapshot_write(const struct vm *vm, const char *path, const struct snapshot *s,
			     struct diag *d)
{
	struct snapfmt_writer w;
	const uint8_t *buf;
	size_t len, done = 0;
	int fd, ret;

	snapfmt_writer_init(&w);
	ret = snapstate_encode(s, &w);
	if (!ret)
		ret = snapfmt_finish(&w, &buf, &len);
	if (ret) {
		snapfmt_writer_free(&w);
		return diag_fail_errno(d, ret, "cannot encode the vmstate: %s", strerror(-ret));
	}
	fd = vm_snapshot_open(vm, path, "snapshot_path", d);
	while (fd >= 0 && done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = diag_fail_errno(d, n < 0 ? -errno : -EIO, "snapshot_path %s: %s", path,
					      strerror(n < 0 ? errno : EIO));
			break;
		}
		done += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	snapfmt_writer_free(&w);
	return fd < 0 ? fd : ret;
}

int vm_snapshot(struct vm *vm, const struct vm_snapshot_params *p, struct diag *d)
{
	struct snapshot *s;
	int ret;

	if (!atomic_load(&vm->paused))
		return diag_fail(d, "the VM is not paused (PATCH /vm {\"state\": \"Paused\"} first)");
	s = calloc(1, sizeof(*s));
	if (!s)
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	s->config = strdup(p->config);
	if (!s->config) {
		free(s);
		return diag_fail_errno(d, -ENOMEM, "out of memory");
	}
	/* From here to the release nothing writes guest memory or device state. */
	registry_hold(&vm->devices);
	ret = vm_snapshot_state(vm, s, d);
	if (!ret)
		ret = vm_snapshot_memory(vm, p->mem_path, d);
	registry_release(&vm->devices);
	if (!ret)
		ret = vm_snapshot_write(vm, p->vmstate_path, s, d);
	if (!ret)
		log_info("snapshot: vmstate written to %s (%u vCPUs, %u devices)", p->vmstate_path,
			 s->machine.nr_vcpus, s->machine.nr_devices);
	snapstate_free(s);
	free(s);
	return ret;
}
