# Helpers for the tests that boot Linux guests under real KVM (sourced, POSIX
# sh, by a script in tests/kvm; it brings tests/integration/tap.sh along). They
# run where tests/kvm/run-kvm put them: on hardware KVM, or in the nested host.
# A script elsewhere (bench/) sets kvm_dir before sourcing this.
kvm_dir=${kvm_dir:-$(dirname "$0")}
. "$kvm_dir/../integration/tap.sh"

# Every real-KVM test needs the Linux test kernel and the guest user space,
# which scripts/test builds and names in the environment.
require_guest_env() {
    for var in MICROVM_TEST_BZIMAGE MICROVM_TEST_VMLINUX MICROVM_TEST_INITRAMFS; do
        eval "val=\${$var:-}"
        if [ -z "$val" ]; then
            echo "1..0 # SKIP $var is not set: run scripts/test, which builds the guest kernels and user space"
            exit 0
        fi
    done
    skip_all_unless_kvm "Linux guests cannot boot"
    if [ "${MICROVM_REAL_KVM:-}" != hardware ] && [ "${MICROVM_REAL_KVM:-}" != nested ]; then
        echo "Bail out! run this test through tests/kvm/run-kvm, which gives it a real KVM"
        exit 1
    fi
}

# microvm's default command line, for tests that add to it.
base_cmdline="console=ttyS0 reboot=k panic=1 nomodule 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.dumbkbd"
# The same for kernels that load modules: nomodule forbids that.
module_cmdline=$(echo "$base_cmdline" | sed 's/ nomodule / /')

# guest_files DIR SCRIPT [FILE...]: DIR gets /test.sh holding SCRIPT and the
# FILEs in /bin.
guest_files() {
    dir=$1 script=$2
    shift 2
    mkdir -p "$dir/bin"
    printf '#!/bin/sh\n%s\n' "$script" >"$dir/test.sh"
    chmod 755 "$dir/test.sh"
    for f in "$@"; do
        cp "$f" "$dir/bin/"
    done
}

# append_archive OUT DIR: DIR's files as a second archive after the base initramfs;
# the kernel unpacks them in turn, so a later file replaces an earlier one.
append_archive() {
    cp "$MICROVM_TEST_INITRAMFS" "$1"
    # The kernel finds a following archive only at a 4-byte boundary; it skips zeros.
    size=$(stat -c %s "$1")
    head -c $(( (4 - size % 4) % 4 )) /dev/zero >>"$1"
    (cd "$2" && find . -mindepth 1 | cpio --quiet -o -H newc -R 0:0) >>"$1"
    rm -rf "$2"
}

# guest_initramfs OUT SCRIPT [FILE...]: the base initramfs followed by an
# archive of /test.sh (running SCRIPT) and the FILEs in /bin.
guest_initramfs() {
    out=$1
    shift
    rm -rf "$out.d"
    guest_files "$out.d" "$@"
    append_archive "$out" "$out.d"
}

# The Debian cloud kernel modules the tests load, with their dependencies: the
# virtio-mmio transport (it binds the devices the DSDT describes), the disk, ext4
# (built in: nothing to load), and the power button with the input events
# systemd-logind reads.
debian_module_names="virtio_mmio virtio_blk ext4 button evdev"

# debian_module DIR NAME: the module file of NAME in the package's modules DIR,
# after those of its dependencies; nothing for a module the kernel has built in.
debian_module() {
    local file dep
    file=$(find "$1" \( -name "$2.ko" -o -name "$2.ko.xz" -o -name "$(echo "$2" | tr _ -).ko" \
        -o -name "$(echo "$2" | tr _ -).ko.xz" \) | head -n 1)
    if [ -z "$file" ]; then
        grep -q "/$2\.ko\$" "$1/modules.builtin" || { echo "debian_module: $2 is not in $1" >&2; return 1; }
        return 0
    fi
    for dep in $(modinfo -F depends "$file" | tr , ' '); do
        debian_module "$1" "$dep" || return 1
    done
    echo "$file"
}

# debian_modules DIR KERNEL: DIR/modules holds the Debian KERNEL package's own
# $debian_module_names and their dependencies, decompressed (busybox's insmod
# reads no .xz), and DIR/modules/order their load order. The package's modules
# directory (scripts/fetch-debian-kernel) is next to its vmlinuz.
debian_modules() {
    moddir=$(dirname "$2")/modules/$(ls "$(dirname "$2")/modules")
    mkdir -p "$1/modules"
    : >"$1/modules/files"
    for name in $debian_module_names; do
        debian_module "$moddir" "$name" >>"$1/modules/files" || return 1
    done
    awk '!seen[$0]++' "$1/modules/files" | while read -r file; do
        base=$(basename "${file%.xz}")
        case $file in
            *.xz) xz -dc "$file" >"$1/modules/$base" ;;
            *) cp "$file" "$1/modules/$base" ;;
        esac
        echo "$base" >>"$1/modules/order"
    done
    rm "$1/modules/files"
}

# debian_initramfs OUT KERNEL SCRIPT: as guest_initramfs, with the Debian KERNEL
# package's modules (debian_modules) loaded before SCRIPT runs.
debian_initramfs() {
    out=$1 kernel=$2
    rm -rf "$out.d"
    guest_files "$out.d" "for m in \$(cat /modules/order); do insmod /modules/\$m || echo \"insmod \$m failed\"; done
$3"
    debian_modules "$out.d" "$kernel"
    append_archive "$out" "$out.d"
}

# debian_root_initramfs OUT KERNEL: the base initramfs with debian-init as /init:
# it loads the Debian KERNEL package's modules (debian_modules), mounts /dev/vda
# and hands over to its /sbin/init.
debian_root_initramfs() {
    out=$1 kernel=$2
    rm -rf "$out.d"
    mkdir -p "$out.d"
    cp "$kvm_dir/debian-init" "$out.d/init"
    chmod 755 "$out.d/init"
    debian_modules "$out.d" "$kernel"
    append_archive "$out" "$out.d"
}

# guest_rootfs OUT MIB SCRIPT [FILE...]: an ext4 image of MIB MiB holding the
# base user space, /test.sh (running SCRIPT) and the FILEs in /bin. Boot it
# with root=/dev/vdX rw init=/init.
guest_rootfs() {
    out=$1 mib=$2
    shift 2
    rm -rf "$out.d"
    mkdir -p "$out.d"
    gzip -dc "$MICROVM_TEST_INITRAMFS" | (cd "$out.d" && cpio --quiet -idm)
    guest_files "$out.d" "$@"
    truncate -s "${mib}M" "$out"
    mkfs.ext4 -q -F -L guestroot -d "$out.d" "$out"
    rm -rf "$out.d"
}

# boot NAME COMMAND...: runs a VMM command line to its end (at most
# $boot_timeout seconds), keeping the console as $tap_tmp/NAME.out (without
# the kernel's CRs) and the VMM's log as $tap_tmp/NAME.err; sets rc and says
# how long it took.
boot_timeout=300
boot() {
    name=$1
    shift
    start=$(date +%s%N)
    set +e
    timeout -k 5 "$boot_timeout" "$@" >"$tap_tmp/$name.raw" 2>"$tap_tmp/$name.err" </dev/null
    rc=$?
    set -e
    tr -d '\r' <"$tap_tmp/$name.raw" >"$tap_tmp/$name.out"
    echo "# $name: VMM exit status $rc after $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

# check_ran NAME: the guest's user space ran and its test finished, the VMM
# exited 0 and took no PVM path (it logs a line whenever it does).
check_ran() {
    check "$1: guest user space ran" grep -q '^microvm-guest: user space up' "$tap_tmp/$1.out"
    check "$1: the guest's test finished" grep -q '^microvm-guest: test exit status 0$' "$tap_tmp/$1.out"
    check "$1: the VMM exited 0" [ "$rc" -eq 0 ]
    check "$1: no PVM path taken on real KVM" sh -c "! grep -q PVM '$tap_tmp/$1.err'"
}

# check_acpi_log NAME CPUS: the guest kernel's log of that boot shows microvm's
# ACPI tables, the CPUs from the MADT and the IOAPIC after them, an ACPI
# interpreter that loaded the DSDT, and not one "ACPI Error", "ACPI BIOS Error"
# or "ACPI Warning" line.
check_acpi_log() {
    log=$tap_tmp/$1.out
    check "$1: the kernel found microvm's RSDP, XSDT, FADT, MADT and DSDT" sh -c "
        for sig in RSDP XSDT FACP APIC DSDT; do
            grep -q \"ACPI: \$sig 0x00000000000E[0-9A-F]* [0-9A-F]* (v[0-9]* MICRVM\" '$log' || exit 1
        done"
    check "$1: CPUs from the MADT, $2 brought up" sh -c "
        grep -q 'ACPI: Using ACPI (MADT) for SMP configuration information' '$log' &&
        grep -q 'smp: Brought up 1 node, $2 CPU' '$log'"
    check "$1: the IOAPIC from the MADT, its id after the CPUs'" \
        grep -q "IOAPIC\[0\]: apic_id $2, version [0-9]*, address 0xfec00000, GSI 0-23" "$log"
    check "$1: the ACPI interpreter loaded the DSDT: S5 is supported" grep -q 'ACPI: PM: (supports S0 S5)' "$log"
    check "$1: no ACPI error or warning in the kernel's log" sh -c "! grep -E 'ACPI (BIOS )?(Error|Warning)' '$log'"
}

# boot_bg NAME COMMAND...: as boot, in the background; vmm_pid is its pid.
# finish_bg NAME waits for it and sets rc.
boot_bg() {
    name=$1
    shift
    # Emptied here, not by the background shell's redirection: a wait_for
    # must not find what an earlier boot of the same name wrote.
    : >"$tap_tmp/$name.raw"
    "$@" >"$tap_tmp/$name.raw" 2>"$tap_tmp/$name.err" </dev/null &
    vmm_pid=$!
}
finish_bg() {
    set +e
    wait "$vmm_pid"
    rc=$?
    set -e
    tr -d '\r' <"$tap_tmp/$1.raw" >"$tap_tmp/$1.out"
}

# press_power_button NAME PATTERN SECONDS: once the background boot NAME
# (boot_bg) has printed a line matching PATTERN (within SECONDS), sends its VMM
# SIGPWR, which presses the guest's ACPI power button, and waits for the VMM:
# sets rc and took (ms from SIGPWR to its exit). Without that line, kills the
# VMM, fails a test point, shows the boot and returns 1.
press_power_button() {
    if wait_for "$tap_tmp/$1.raw" "$2" "$3"; then
        start=$(date +%s%N)
        kill -PWR "$vmm_pid"
        finish_bg "$1"
        took=$(( ($(date +%s%N) - start) / 1000000 ))
        echo "# $1: SIGPWR to VMM exit: $took ms"
        return 0
    fi
    kill -KILL "$vmm_pid" 2>/dev/null || true
    finish_bg "$1"
    not_ok "$1: the guest printed a line matching '$2' within $3 s"
    show "$1"
    return 1
}

# wait_for FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN.
wait_for() {
    i=0
    # Twice a second: the nested host has one CPU, which the guest shares with
    # these polls' processes (slow to start under TCG); at ten a second they took
    # enough of it to slow a guest's network transfer below its rate limit.
    while [ "$i" -lt "$(($3 * 2))" ]; do
        tr -d '\r' <"$1" 2>/dev/null | grep -q "$2" && return 0
        sleep 0.5
        i=$((i + 1))
    done
    return 1
}

# guest_value NAME KEY: the value the guest printed as "KEY=VALUE" (last one).
guest_value() {
    sed -n "s/^$2=//p" "$tap_tmp/$1.out" | tail -n 1
}

# show NAME: the end of a boot's console and log, on stderr, which meson
# prints for a failed test (CI's log then says why the guest failed).
show() {
    {
        tail -n 40 "$tap_tmp/$1.out" | sed "s/^/# $1 console: /"
        tail -n 15 "$tap_tmp/$1.err" | sed "s/^/# $1 log: /"
    } >&2
}
