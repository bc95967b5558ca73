#!/bin/sh
# What each switch of microvm's default command line saves, under real KVM
# (tests/kvm/run-kvm: hardware KVM, or nested in QEMU's TCG on a PVM host): the
# project's Linux test kernel (bzImage, 1 vCPU, 128 MiB, the busybox initramfs)
# boots with the default command line, then with each switch left out, and with
# switches the default does not have, RUNS times each (default 3). With
# initcall_debug (its lines go only to the kernel's buffer, not the slow serial
# console), the guest reports every initcall's duration and when it ran /init.
# Prints a Markdown table: per variant the median guest time to "Run /init",
# its difference to the default's, and the initcalls whose median duration grew
# the most against the default's.
#
# Usage: bench/cmdline-switches.sh [RUNS]
# (builds nothing: run scripts/test or build/ first; the artefacts come from the
# same cached scripts as the tests')
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-3}

if [ -z "${MICROVM_REAL_KVM:-}" ]; then
    microvm=${MICROVM:-$repo/build/src/microvm}
    [ -x "$microvm" ] || { echo "cmdline-switches: no $microvm: build first (meson setup build && ninja -C build)" >&2; exit 1; }
    MICROVM_TEST_BZIMAGE=$("$repo/scripts/build-linux" | sed -n 's/^bzImage=//p')
    MICROVM_TEST_VMLINUX=$("$repo/scripts/build-linux" | sed -n 's/^vmlinux=//p')
    MICROVM_TEST_INITRAMFS=$("$repo/scripts/build-initramfs" | sed -n 's/^initramfs=//p')
    export MICROVM_TEST_BZIMAGE MICROVM_TEST_VMLINUX MICROVM_TEST_INITRAMFS
    exec "$repo/tests/kvm/run-kvm" -- sh "$0" "$runs" "$microvm"
fi
microvm=$2
kvm_dir=$repo/tests/kvm
. "$kvm_dir/lib.sh"
require_guest_env

# The VMM's default, as src/config/resources.h spells it: the string pieces of
# RESOURCES_DEFAULT_CMDLINE's continued lines.
default=$(awk '/^#define RESOURCES_DEFAULT_CMDLINE/ { on = 1; next }
    on { line = $0; sub(/^[ \t]*"/, "", line); sub(/"[ \t]*\\?$/, "", line); printf "%s", line; if ($0 !~ /\\$/) exit }' \
    "$repo/src/config/resources.h")
case $default in
    "console=ttyS0 "*) ;;
    *) echo "cmdline-switches: cannot read the default command line from resources.h: '$default'" >&2; exit 1 ;;
esac

guest_initramfs "$tap_tmp/initrd" '
dmesg | sed -n "s/.*initcall \([^+ ]*\)[^ ]* returned [-0-9]* after \([0-9]*\) usecs.*/initcall \1 \2/p"
dmesg | sed -n "s/^\[ *\([0-9.]*\)\] Run \/init as init process.*/run_init \1/p"'

# variant NAME CMDLINE: RUNS boots; $tap_tmp/NAME.data collects "initcall F US"
# and "run_init S" lines, one set per boot.
variant() {
    : >"$tap_tmp/$1.data"
    i=0
    while [ "$i" -lt "$runs" ]; do
        boot "$1-$i" "$microvm" --kernel "$MICROVM_TEST_BZIMAGE" --initrd "$tap_tmp/initrd" --mem 128 \
            --cmdline "$2 initcall_debug log_buf_len=1M" >/dev/null
        if [ "$rc" -ne 0 ] || ! grep -q '^run_init ' "$tap_tmp/$1-$i.out"; then
            echo "cmdline-switches: $1: the boot failed (status $rc):" >&2
            tail -n 20 "$tap_tmp/$1-$i.out" "$tap_tmp/$1-$i.err" >&2
            exit 1
        fi
        grep -E '^(initcall|run_init) ' "$tap_tmp/$1-$i.out" >>"$tap_tmp/$1.data"
        i=$((i + 1))
    done
    echo "$1" >>"$tap_tmp/variants"
}

without() { echo " $default " | sed "s/ $1 / /; s/^ //; s/ \$//"; }

: >"$tap_tmp/variants"
variant default "$default"
for sw in $default; do
    case $sw in
        console=*) continue ;; # the console is how the guest reports
    esac
    variant "without-$sw" "$(without "$sw")"
done
variant "bare" "console=ttyS0 reboot=k panic=1"
variant "with-pci=off" "$default pci=off"
variant "with-i8042.nopnp" "$default i8042.nopnp"

# medians NAME: "KEY MEDIAN" per initcall and for run_init (in us), over the runs.
medians() {
    awk '{ k = ($1 == "run_init") ? "run_init" : $2; v = ($1 == "run_init") ? $2 * 1000000 : $3; print k, v }' \
        "$tap_tmp/$1.data" | sort -k1,1 -k2,2n |
        awk '{ v[$1, ++n[$1]] = $2 } END { for (k in n) print k, v[k, int((n[k] + 1) / 2)] }' | sort
}
medians default >"$tap_tmp/default.med"

echo "Guest time to Run /init and the initcalls that grew against the default, median of $runs boots"
echo "(${MICROVM_REAL_KVM} KVM; default: \`$default\`):"
echo
echo "| Variant | Run /init | vs default | Initcalls that took longer (median, vs default) |"
echo "|---|---|---|---|"
while read -r v; do
    medians "$v" >"$tap_tmp/$v.med"
    join "$tap_tmp/default.med" "$tap_tmp/$v.med" >"$tap_tmp/$v.join"
    init_us=$(awk '$1 == "run_init" { print $3 }' "$tap_tmp/$v.join")
    base_us=$(awk '$1 == "run_init" { print $2 }' "$tap_tmp/$v.join")
    grew=$(awk '$1 != "run_init" && $3 - $2 >= 1000 { printf "%d %s\n", $3 - $2, $1 }' "$tap_tmp/$v.join" |
        sort -rn | head -n 3 | awk '{ printf "%s%s +%.1f ms", sep, $2, $1 / 1000; sep = ", " }')
    printf '| %s | %.0f ms | %+.0f ms | %s |\n' "$v" "$((init_us / 1000))" "$(((init_us - base_us) / 1000))" "${grew:-none by 1 ms or more}"
done <"$tap_tmp/variants"
