#!/bin/sh
# Under real KVM: the project's Linux test kernel runs its busybox user space,
# which prints nproc and the boot loader id the kernel recorded, then resets the
# VM with reboot -f (through the i8042): as a bzImage (64-bit boot protocol) with
# 1, 2 and 4 vCPUs; as a vmlinux through its PVH entry (the default for a kernel
# with a PVH note) with 1 and 4; as a vmlinux with --entry64 with 2.
# User space runs, nproc equals --vcpus, the entry is the one asked for (the
# zero page's type_of_loader 0xff is ours; Linux's PVH entry builds its own
# boot_params with 0xb0), the VMM exits 0, and it took no PVM path (it logs one
# line whenever it does). Through PVH, the kernel finds the ACPI tables.
# Usage: linux-user.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env

guest_initramfs "$tap_tmp/initrd" 'echo "nproc=$(nproc)"; echo "online=$(cat /sys/devices/system/cpu/online)"
echo "loader=$(od -An -tx1 -j 528 -N 1 /sys/kernel/boot_params/data | tr -d " ")"'

# boot_user NAME VCPUS LOADER KERNEL [OPTION...]: one boot and its checks.
boot_user() {
    t=$1 n=$2 loader=$3 kernel=$4
    shift 4
    boot "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus "$n" --mem 256 "$@"
    check_ran "$t"
    check "$t: nproc in the guest is $n" [ "$(guest_value "$t" nproc)" = "$n" ]
    check "$t: the kernel was entered as asked (type_of_loader 0x$loader)" [ "$(guest_value "$t" loader)" = "$loader" ]
    check "$t: reboot -f ended the VM: the VMM logged the guest's reset" \
        grep -q 'guest requested a CPU reset through the i8042' "$tap_tmp/$t.err"
    [ "$rc" -eq 0 ] && [ "$(guest_value "$t" nproc)" = "$n" ] && [ "$(guest_value "$t" loader)" = "$loader" ] ||
        show "$t"
}

check "--check: the vmlinux boots through its PVH entry" sh -c "
    '$microvm' --check --kernel '$MICROVM_TEST_VMLINUX' | grep -q '^boot: PVH entry at 0x'"
check "--check --entry64: the vmlinux boots through its 64-bit entry" sh -c "
    '$microvm' --check --entry64 --kernel '$MICROVM_TEST_VMLINUX' | grep -q '^boot: 64-bit entry at 0x'"

for n in 1 2 4; do
    boot_user "bzImage-$n" "$n" ff "$MICROVM_TEST_BZIMAGE"
done
# Six boots in all: each one more is one more chance for TCG to fail the nested host.
for n in 1 4; do
    boot_user "vmlinux-pvh-$n" "$n" b0 "$MICROVM_TEST_VMLINUX"
    # Entered through PVH, Linux takes the RSDP from the start info's rsdp_paddr.
    check_acpi_log "vmlinux-pvh-$n" "$n"
done
boot_user "vmlinux-entry64-2" 2 ff "$MICROVM_TEST_VMLINUX" --entry64

tap_done
