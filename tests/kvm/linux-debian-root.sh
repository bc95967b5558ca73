#!/bin/sh
# Under real KVM, a Debian distribution as it is: Debian 12's unmodified cloud
# kernels (6.1 and 6.12) with an initramfs holding the package's own virtio_mmio,
# virtio_blk and power-button modules (debian-init), 2 vCPUs, and the Debian root
# filesystem scripts/build-debian-rootfs made with debootstrap, read-write on
# virtio-blk. systemd reaches multi-user.target with no failed unit and runs
# debian-guest, which reports and then:
# - with 6.1, runs Debian's own poweroff: systemd stops everything, the kernel
#   enters S5, the VMM exits 0, logged as a power-off;
# - with 6.12, waits: SIGPWR to the VMM presses the ACPI power button,
#   systemd-logind (which says it watches the button) powers the guest off the
#   same way, and the VMM exits 0 well within --shutdown-timeout.
# One boot per kernel, to keep the suite short; after each, fsck finds the image
# clean. One copy of the cached image serves both (the nested host sees the
# cache read-only).
# Usage: linux-debian-root.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env
for var in MICROVM_TEST_DEBIAN_KERNELS MICROVM_TEST_DEBIAN_ROOTFS; do
    eval "val=\${$var:-}"
    if [ -z "$val" ]; then
        echo "1..0 # SKIP $var is not set: run scripts/test, which fetches Debian's kernels and builds the root filesystem"
        exit 0
    fi
done

start=$(date +%s%N)
cp --sparse=always "$MICROVM_TEST_DEBIAN_ROOTFS" "$tap_tmp/root.img"
echo "# the root image copied in $(( ($(date +%s%N) - start) / 1000000 )) ms"

# report_value NAME KEY: KEY's value in the report debian-guest left in the image
# (check_debian reads it out); the console's copy can have kernel lines cut into it.
report_value() {
    sed -n "s/^$2=//p" "$tap_tmp/$1.report" | tail -n 1
}

# check_debian NAME RELEASE: the guest reached multi-user.target on Debian's
# RELEASE with the disk as its root, and said so in its report.
check_debian() {
    rm -f "$tap_tmp/$1.report"
    debugfs -R "dump /var/log/microvm-debian.report $tap_tmp/$1.report" "$tap_tmp/root.img" >/dev/null 2>&1 || true
    check "$1: the guest left its report in the image" [ -s "$tap_tmp/$1.report" ]
    touch "$tap_tmp/$1.report"
    check "$1: systemd reached multi-user.target" grep -q '^microvm-debian: multi-user.target active after' "$tap_tmp/$1.report"
    echo "# $1: $(sed -n 's/^microvm-debian: multi-user.target active after \(.*\)/multi-user.target after \1 of guest uptime/p' "$tap_tmp/$1.report")"
    check "$1: the guest runs Debian's $2" [ "$(report_value "$1" uname)" = "$2" ]
    check "$1: nproc in the guest is 2" [ "$(report_value "$1" nproc)" = 2 ]
    check "$1: the root is /dev/vda, ext4, read-write" sh -c "guest_root='$(report_value "$1" root)'; case \$guest_root in '/dev/vda ext4 rw,'*) true ;; *) false ;; esac"
    check "$1: the disk was bound through ACPI (LNRO0005)" [ "$(report_value "$1" acpi_virtio)" = 1 ]
    check "$1: no failed systemd unit" [ "$(report_value "$1" failed_units)" = "" ]
    check "$1: systemd-logind runs and the DSDT's power button is an input device" sh -c "
        [ '$(report_value "$1" logind)' = active ] && grep -q 'input=Power Button at PNP0C0C/button/input0\$' '$tap_tmp/$1.report'"
    check_acpi_log "$1" 2
    [ "$(report_value "$1" nproc)" = 2 ] || sed "s/^/# $1 report: /" "$tap_tmp/$1.report"
}

# guest_journal NAME UNIT: what UNIT logged in the guest's last boot, from the
# persistent systemd journal in the image (systemd-logind logs only there).
guest_journal() {
    rm -rf "$tap_tmp/journal"
    debugfs -R "rdump /var/log/journal $tap_tmp" "$tap_tmp/root.img" >/dev/null 2>&1
    journalctl --directory="$tap_tmp/journal" --boot --unit="$2" --output=short --no-pager \
        >"$tap_tmp/$1.journal" 2>&1 || true
    sed "s/^/# $1 journal: /" "$tap_tmp/$1.journal"
}

# summary NAME: the boot in a few lines (the README shows them): the kernel, the
# root, systemd's milestones, the power-off, and the VMM's own log.
summary() {
    grep -E '^\[ *[0-9.]+\] Linux version|EXT4-fs \(vda\): mounted|Welcome to|Reached target.*Multi-User|^microvm-debian: multi-user|Power-Off|systemd-shutdown\[1\]: Powering off|reboot: Power down' \
        "$tap_tmp/$1.out" | cut -c 1-110 | sed "s/^/# $1 console: /"
    sed "s/^/# $1 log: /" "$tap_tmp/$1.err"
}

# fsck_clean NAME: the image is clean without a journal replay.
fsck_clean() {
    set +e
    e2fsck -f -n "$tap_tmp/root.img" >"$tap_tmp/$1.fsck" 2>&1
    fsck_rc=$?
    set -e
    check "$1: the guest left the image clean (fsck -n)" [ "$fsck_rc" -eq 0 ]
    [ "$fsck_rc" -eq 0 ] || sed 's/^/# fsck: /' "$tap_tmp/$1.fsck"
}

# Every kernel but the last ends with Debian's own poweroff; the last (6.12) with
# the power button, whose press systemd-logind turns into that same poweroff.
last=${MICROVM_TEST_DEBIAN_KERNELS##* }
for kernel in $MICROVM_TEST_DEBIAN_KERNELS; do
    release=$(ls "$(dirname "$kernel")/modules")
    debian_root_initramfs "$tap_tmp/initrd" "$kernel"
    if [ "$kernel" != "$last" ]; then
        t=$release-poweroff
        boot "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus 2 --mem 512 \
            --cmdline "$module_cmdline" --drive "path=$tap_tmp/root.img"
        check_debian "$t" "$release"
        check "$t: Debian's poweroff ended the VM: exit 0, logged as an ACPI power-off" sh -c "
            [ $rc -eq 0 ] && grep -q 'guest powered off (ACPI S5)' '$tap_tmp/$t.err' && ! grep -q 'reset' '$tap_tmp/$t.err'"
        check "$t: systemd powered off (systemd-shutdown)" grep -q 'systemd-shutdown\[1\]: Powering off' "$tap_tmp/$t.out"
        [ "$rc" -eq 0 ] || show "$t"
        summary "$t"
        fsck_clean "$t"
        continue
    fi
    t=$release-power-button
    boot_bg "$t" "$microvm" --kernel "$kernel" --initrd "$tap_tmp/initrd" --vcpus 2 --mem 512 \
        --shutdown-timeout 120 --cmdline "$module_cmdline guest.end=stay" --drive "path=$tap_tmp/root.img"
    if press_power_button "$t" 'microvm-debian: waiting for the power button' 240; then
        check_debian "$t" "$release"
        check "$t: SIGPWR pressed the power button" sh -c "
            grep -q 'received Power failure: asking the guest to power off' '$tap_tmp/$t.err' &&
            grep -q 'pressing the ACPI power button: the guest has 120 s to power off' '$tap_tmp/$t.err'"
        guest_journal "$t" systemd-logind
        check "$t: systemd-logind watched the power button, saw it pressed and powered off" sh -c "
            grep -q 'systemd-logind\[[0-9]*\]: Watching system buttons on /dev/input/event[0-9]* (Power Button)' '$tap_tmp/$t.journal' &&
            grep -q 'systemd-logind\[[0-9]*\]: Power key pressed' '$tap_tmp/$t.journal' &&
            grep -q 'systemd-logind\[[0-9]*\]: Powering off' '$tap_tmp/$t.journal'"
        check "$t: systemd powered off (systemd-shutdown)" grep -q 'systemd-shutdown\[1\]: Powering off' "$tap_tmp/$t.out"
        check "$t: the VMM exited 0, logged as an ACPI power-off within the timeout" sh -c "[ $rc -eq 0 ] &&
            grep -q 'guest powered off (ACPI S5)' '$tap_tmp/$t.err' && ! grep -q 'did not power off' '$tap_tmp/$t.err'"
        [ "$rc" -eq 0 ] || show "$t"
        summary "$t"
        fsck_clean "$t"
    fi
done

tap_done
