#!/bin/sh
# Under real KVM, the project's Linux test kernel and microvm's ACPI tables:
# - 4 vCPUs, two drives and the rng: the kernel's log shows the tables, 4 CPUs
#   from the MADT, the IOAPIC and no ACPI error; every device is an LNRO0005
#   platform device bound to virtio-mmio (the kernel has no virtio_mmio.device=
#   support: tests/linux/config.fragment), the guest reads the drives' bytes and
#   its hwrng is virtio's; poweroff -f enters S5 and the VMM exits 0, logged as a
#   power-off;
# - acpi=off with 2 vCPUs: the kernel reads the MP table instead and runs both;
# - a guest that ignores the power button (no user space listens to it here):
#   SIGPWR presses it, and --shutdown-timeout 3 later the VMM stops the VM with
#   status 0, as SIGTERM does.
# Usage: linux-acpi.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env
kernel=$MICROVM_TEST_BZIMAGE

head -c 1048576 /dev/urandom >"$tap_tmp/a.img"
head -c 2097152 /dev/urandom >"$tap_tmp/b.img"
want_a=$(sha256sum <"$tap_tmp/a.img" | cut -d' ' -f1)
want_b=$(sha256sum <"$tap_tmp/b.img" | cut -d' ' -f1)
guest_initramfs "$tap_tmp/initrd" 'echo "nproc=$(nproc)"
echo "acpi_virtio=$(ls /sys/bus/platform/drivers/virtio-mmio | grep -c "^LNRO0005:")"
for d in vda vdb; do echo "$d=$(sha256sum /dev/$d | cut -d" " -f1)"; done
echo "hwrng=$(cat /sys/class/misc/hw_random/rng_current)"'

t=acpi-4
boot "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus 4 --mem 256 \
    --cmdline "$base_cmdline guest.end=poweroff" \
    --drive "path=$tap_tmp/a.img,ro" --drive "path=$tap_tmp/b.img,ro" --rng
check_ran "$t"
check "$t: nproc in the guest is 4" [ "$(guest_value "$t" nproc)" = 4 ]
check_acpi_log "$t" 4
check "$t: the three devices bound through ACPI (LNRO0005)" [ "$(guest_value "$t" acpi_virtio)" = 3 ]
check "$t: the guest reads both drives' bytes" \
    sh -c "[ '$(guest_value "$t" vda)' = '$want_a' ] && [ '$(guest_value "$t" vdb)' = '$want_b' ]"
check "$t: the guest's hwrng is virtio-rng" sh -c "case '$(guest_value "$t" hwrng)' in virtio_rng*) true ;; *) false ;; esac"
check "$t: the kernel found COM1 and the i8042 in the DSDT" sh -c "
    grep -q 'ttyS0 at I/O 0x3f8 (irq = [0-9]*, base_baud = 115200) is a 16550A' '$tap_tmp/$t.out' &&
    grep -q 'i8042: PNP: PS/2 Controller \[PNP0303:PS2K\] at 0x60,0x64 irq' '$tap_tmp/$t.out'"
check "$t: poweroff -f ended the VM as an ACPI power-off, not a reset" sh -c "
    grep -q 'guest powered off (ACPI S5)' '$tap_tmp/$t.err' && ! grep -q 'reset' '$tap_tmp/$t.err'"
[ "$rc" -eq 0 ] && [ "$(guest_value "$t" nproc)" = 4 ] || show "$t"

# Without ACPI, the MP table describes the CPUs.
t=acpi-off-2
boot "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus 2 --mem 256 \
    --cmdline "$base_cmdline acpi=off"
check_ran "$t"
check "$t: the kernel read the MP table and runs 2 CPUs" sh -c "
    grep -q 'found SMP MP-table at' '$tap_tmp/$t.out' && [ '$(guest_value "$t" nproc)' = 2 ] &&
    ! grep -q 'ACPI: Using ACPI (MADT)' '$tap_tmp/$t.out'"
[ "$rc" -eq 0 ] || show "$t"

# A guest that does not react to the power button.
t=ignores-button
guest_initramfs "$tap_tmp/initrd-stay" 'echo waiting'
boot_bg "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd-stay" --mem 256 \
    --shutdown-timeout 3 --cmdline "$base_cmdline guest.end=stay"
if press_power_button "$t" '^microvm-guest: test exit status 0' 120; then
    check "$t: stopped with status 0 after --shutdown-timeout 3 (${took} ms)" sh -c "
        [ $rc -eq 0 ] && [ $took -ge 2900 ] && [ $took -lt 15000 ] &&
        grep -q 'pressing the ACPI power button: the guest has 3 s to power off' '$tap_tmp/$t.err' &&
        grep -q 'the guest did not power off within 3 s: stopping the VM' '$tap_tmp/$t.err' &&
        ! grep -q 'powered off (ACPI' '$tap_tmp/$t.err'"
    [ "$rc" -eq 0 ] || show "$t"
fi

tap_done
