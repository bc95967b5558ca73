#!/bin/sh
# Boots the project's Linux test kernel (built from Debian's linux-source-6.1
# by scripts/build-linux) as FORMAT (bzImage or vmlinux) with a tiny
# initramfs, until "Run /init as init process": on a PVM host guest user mode
# cannot run, so that is as far as Linux gets (../shared/docs/HOST-KVM.md).
# The kernel's own e820 and command-line lines must match what the VMM gave.
# Usage: linux.sh MICROVM FORMAT
set -eu
microvm=$1 format=$2
here=$(dirname "$0")
. "$here/tap.sh"

[ "$format" = bzImage ] && kernel=${MICROVM_TEST_BZIMAGE:-} || kernel=${MICROVM_TEST_VMLINUX:-}
if [ -z "$kernel" ]; then
    echo "1..0 # SKIP MICROVM_TEST_BZIMAGE/VMLINUX not set: run scripts/test, which builds the Linux test kernel"
    exit 0
fi
skip_all_unless_kvm "Linux cannot boot"

python3 "$here/tiny-initramfs.py" "$tap_tmp/initramfs.cpio"
cmdline="console=ttyS0 reboot=k panic=1 nomodule 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.dumbkbd microvm.test=$format"
start=$(date +%s)
run "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initramfs.cpio" --mem 128 --cmdline "$cmdline"
took=$(( $(date +%s) - start ))
# The kernel's console ends its lines with CR LF.
tr -d '\r' <"$tap_tmp/out" >"$tap_tmp/out.lf" && mv "$tap_tmp/out.lf" "$tap_tmp/out"
echo "# $format: VMM exit after $took s wall, status $rc"
run_init=$(sed -n 's/^\[ *\([0-9.]*\)\] Run \/init as init process$/\1/p' "$tap_tmp/out" | head -n 1)
echo "# $format: 'Run /init as init process' at ${run_init:-never} s guest time"

check "$format: the kernel reached Run /init" sh -c "[ -n '$run_init' ]"
check "$format: the VMM exited 0 when the guest reset (panic=1, reboot=k)" sh -c "[ $rc -eq 0 ]"
# What the VMM added for a PVM host, as it logged it.
extra=$(sed -n 's/.*added to the kernel command line: \(.*\) (--no-pvm turns this off)$/\1/p' "$tap_tmp/err")
expect="Command line: $cmdline${extra:+ $extra}"
check "$format: the kernel's command line is the VMM's" sh -c "grep -qF '] $expect' '$tap_tmp/out' &&
    [ \"\$(sed -n 's/^\[ *[0-9.]*\] Command line: //p' '$tap_tmp/out' | head -n 1)\" = \"$cmdline${extra:+ $extra}\" ]"
check "$format: e820 RAM below the EBDA" grep -q 'BIOS-e820: \[mem 0x0000000000000000-0x000000000009fbff\] usable' "$tap_tmp/out"
check "$format: e820 EBDA and BIOS area reserved" grep -q 'BIOS-e820: \[mem 0x000000000009fc00-0x00000000000fffff\] reserved' "$tap_tmp/out"
check "$format: e820 RAM from 1 MiB to 128 MiB" grep -q 'BIOS-e820: \[mem 0x0000000000100000-0x0000000007ffffff\] usable' "$tap_tmp/out"
check "$format: the initramfs was unpacked" grep -q 'Freeing initrd memory' "$tap_tmp/out"
check "$format: the CPUs came from the ACPI MADT (the MP table is for acpi=off)" \
    grep -q 'ACPI: Using ACPI (MADT) for SMP configuration information' "$tap_tmp/out"
[ -n "$run_init" ] && [ "$rc" -eq 0 ] || { tail -n 30 "$tap_tmp/out" | sed 's/^/# /'; diag_output; }

tap_done
