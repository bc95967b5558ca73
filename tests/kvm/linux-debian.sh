#!/bin/sh
# Under real KVM: Debian 12's unmodified cloud kernels (6.1 and 6.12, from
# scripts/fetch-debian-kernel), with 1 and 2 vCPUs, run the busybox user space
# with the package's own virtio_mmio, virtio_blk and power-button modules
# (tests/kvm/lib.sh: debian_initramfs). These kernels have no MP-table parser
# and find virtio-mmio devices only through ACPI (no virtio_mmio.device=), so:
# nproc equals --vcpus (the MADT), both drives appear as LNRO0005 platform
# devices bound to virtio-mmio and the guest reads their bytes, and the kernel's
# log shows the tables, the CPUs, the IOAPIC and no ACPI error. The guest ends
# with poweroff -f: the kernel enters S5 through the FADT's sleep registers and
# the VMM exits 0, logged as a power-off, not as a reset.
# Usage: linux-debian.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env
if [ -z "${MICROVM_TEST_DEBIAN_KERNELS:-}" ]; then
    echo "1..0 # SKIP MICROVM_TEST_DEBIAN_KERNELS is not set: run scripts/test, which fetches Debian's kernels"
    exit 0
fi

head -c 1048576 /dev/urandom >"$tap_tmp/a.img"
head -c 2097152 /dev/urandom >"$tap_tmp/b.img"
want_a=$(sha256sum <"$tap_tmp/a.img" | cut -d' ' -f1)
want_b=$(sha256sum <"$tap_tmp/b.img" | cut -d' ' -f1)
script='echo "uname=$(uname -r)"
echo "nproc=$(nproc)"
echo "acpi_virtio=$(ls /sys/bus/platform/drivers/virtio-mmio | grep -c "^LNRO0005:")"
for i in /sys/class/input/input*; do echo "input=$(cat $i/name) at $(cat $i/phys)"; done
for d in vda vdb; do echo "$d=$(sha256sum /dev/$d | cut -d" " -f1)"; done'
for kernel in $MICROVM_TEST_DEBIAN_KERNELS; do
    # The package's modules directory is named as its kernel calls itself.
    release=$(ls "$(dirname "$kernel")/modules")
    debian_initramfs "$tap_tmp/initrd" "$kernel" "$script"
    for n in 1 2; do
        t=$release-$n
        failed_before=$tap_failed
        boot "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus "$n" --mem 512 \
            --cmdline "$module_cmdline guest.end=poweroff" \
            --drive "path=$tap_tmp/a.img,ro" --drive "path=$tap_tmp/b.img,ro"
        check_ran "$t"
        check "$t: the guest runs Debian's $release" [ "$(guest_value "$t" uname)" = "$release" ]
        check "$t: nproc in the guest is $n" [ "$(guest_value "$t" nproc)" = "$n" ]
        check_acpi_log "$t" "$n"
        check "$t: both drives bound through ACPI (LNRO0005)" [ "$(guest_value "$t" acpi_virtio)" = 2 ]
        check "$t: the guest reads both drives' bytes" \
            sh -c "[ '$(guest_value "$t" vda)' = '$want_a' ] && [ '$(guest_value "$t" vdb)' = '$want_b' ]"
        check "$t: the DSDT's power button (PNP0C0C) is an input device" \
            grep -q '^input=Power Button at PNP0C0C/button/input0$' "$tap_tmp/$t.out"
        check "$t: poweroff -f ended the VM as an ACPI power-off, not a reset" sh -c "
            grep -q 'guest powered off (ACPI S5)' '$tap_tmp/$t.err' && ! grep -q 'reset' '$tap_tmp/$t.err'"
        [ "$tap_failed" -eq "$failed_before" ] || show "$t"
    done
done

tap_done
