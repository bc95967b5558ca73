#!/bin/sh
# Under real KVM: the project's Linux test kernel, as bzImage and as vmlinux,
# with 1, 2 and 4 vCPUs, runs its busybox user space, which prints nproc and
# then resets the VM with reboot -f (through the i8042): user space runs,
# nproc equals --vcpus, the VMM exits 0, and it took no PVM path (it logs one
# line whenever it does).
# Usage: linux-user.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env

guest_initramfs "$tap_tmp/initrd" 'echo "nproc=$(nproc)"; echo "online=$(cat /sys/devices/system/cpu/online)"'

for format in bzImage vmlinux; do
    [ "$format" = bzImage ] && kernel=$MICROVM_TEST_BZIMAGE || kernel=$MICROVM_TEST_VMLINUX
    for n in 1 2 4; do
        t=$format-$n
        boot "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus "$n" --mem 256
        check_ran "$t"
        check "$t: nproc in the guest is $n" [ "$(guest_value "$t" nproc)" = "$n" ]
        check "$t: reboot -f ended the VM: the VMM logged the guest's reset" \
            grep -q 'guest requested a CPU reset through the i8042' "$tap_tmp/$t.err"
        [ "$rc" -eq 0 ] && [ "$(guest_value "$t" nproc)" = "$n" ] || show "$t"
    done
done

tap_done
