# Helpers for the tests that boot Linux guests under real KVM (sourced, POSIX
# sh, by a script in tests/kvm; it brings tests/integration/tap.sh along). They
# run where tests/kvm/run-kvm put them: on hardware KVM, or in the nested host.
. "$(dirname "$0")/../integration/tap.sh"

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

# guest_initramfs OUT SCRIPT [FILE...]: the base initramfs followed by an
# archive of /test.sh (running SCRIPT) and the FILEs in /bin.
guest_initramfs() {
    out=$1
    shift
    rm -rf "$out.d"
    guest_files "$out.d" "$@"
    cp "$MICROVM_TEST_INITRAMFS" "$out"
    # The kernel finds a following archive only at a 4-byte boundary; it skips zeros.
    size=$(stat -c %s "$out")
    head -c $(( (4 - size % 4) % 4 )) /dev/zero >>"$out"
    (cd "$out.d" && find . -mindepth 1 | cpio --quiet -o -H newc -R 0:0) >>"$out"
    rm -rf "$out.d"
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

# boot_bg NAME COMMAND...: as boot, in the background; vmm_pid is its pid.
# finish_bg NAME waits for it and sets rc.
boot_bg() {
    name=$1
    shift
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

# wait_for FILE PATTERN SECONDS: waits until FILE has a line matching PATTERN.
wait_for() {
    i=0
    while [ "$i" -lt "$(($3 * 10))" ]; do
        tr -d '\r' <"$1" 2>/dev/null | grep -q "$2" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# guest_value NAME KEY: the value the guest printed as "KEY=VALUE" (last one).
guest_value() {
    sed -n "s/^$2=//p" "$tap_tmp/$1.out" | tail -n 1
}

# show NAME: the end of a boot's console and log, as TAP comments.
show() {
    tail -n 25 "$tap_tmp/$1.out" | sed "s/^/# $1 console: /"
    tail -n 15 "$tap_tmp/$1.err" | sed "s/^/# $1 log: /"
}
