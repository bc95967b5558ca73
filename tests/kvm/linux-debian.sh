#!/bin/sh
# Under real KVM: Debian 12's unmodified cloud kernels (6.1 and 6.12, from
# scripts/fetch-debian-kernel), with 1 and 2 vCPUs, run the busybox user space:
# uname -r names the package's kernel, the VMM exits 0 when the guest resets.
# These kernels find secondary CPUs only in ACPI's MADT (they have no MP-table
# parser), so with 2 vCPUs they run on one until the VMM writes ACPI tables.
# Usage: linux-debian.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env
if [ -z "${MICROVM_TEST_DEBIAN_KERNELS:-}" ]; then
    echo "1..0 # SKIP MICROVM_TEST_DEBIAN_KERNELS is not set: run scripts/test, which fetches Debian's kernels"
    exit 0
fi

guest_initramfs "$tap_tmp/initrd" 'echo "uname=$(uname -r)"; echo "nproc=$(nproc)"'
for kernel in $MICROVM_TEST_DEBIAN_KERNELS; do
    # The package's modules directory is named as its kernel calls itself.
    release=$(ls "$(dirname "$kernel")/modules")
    for n in 1 2; do
        t=$release-$n
        boot "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus "$n" --mem 512
        check_ran "$t"
        check "$t: the guest runs Debian's $release" [ "$(guest_value "$t" uname)" = "$release" ]
        echo "# $t: nproc in the guest: $(guest_value "$t" nproc)"
        [ "$rc" -eq 0 ] && [ "$(guest_value "$t" uname)" = "$release" ] || show "$t"
    done
done

tap_done
