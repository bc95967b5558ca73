#!/bin/sh
# Runs every benchmark and reports (bench/README.md): builds microvm, the jailer,
# the benchmark guest and loadbench in build-bench/ (-Dbench=true), the Linux
# test kernel (scripts/build-linux, cached) and a tiny initramfs, then runs
# bench/bench.py and bench/report.py. Prints the table and writes
# bench/results/latest.{json,md,png}. Extra arguments go to bench.py
# (e.g. --runs 30, --linux-runs 1, --skip linux); needs root for the jailer.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD_DIR:-$repo/build-bench}
results=$repo/bench/results
# Debian's python3, which has python3-matplotlib (a pyenv or venv python may not).
python=/usr/bin/python3

"$repo/scripts/setup"

if [ -f "$build/build.ninja" ]; then
    meson configure "$build" -Dbench=true -Dtests=false
else
    meson setup "$build" -Dbench=true -Dtests=false
fi
ninja -C "$build"

linux=$("$repo/scripts/build-linux")
bzimage=$(printf '%s\n' "$linux" | sed -n 's/^bzImage=//p')
vmlinux=$(printf '%s\n' "$linux" | sed -n 's/^vmlinux=//p')
# The kvm tests' busybox user space (cached): the kvm section's I/O guests.
guest_initramfs=$("$repo/scripts/build-initramfs" | sed -n 's/^initramfs=//p')

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" "$repo/tests/integration/tiny-initramfs.py" "$tmp/initramfs.cpio"

commit=$(git -C "$repo" rev-parse --short HEAD)
if ! git -C "$repo" diff --quiet HEAD; then
    commit="$commit-dirty"
fi

mkdir -p "$results"
"$python" "$repo/bench/bench.py" \
    --microvm "$build/src/microvm" \
    --jailer "$build/jailer/jailer" \
    --loadbench "$build/bench/loadbench" \
    --guest "$build/bench/bench-guest.elf" \
    --guest-idle "$build/bench/bench-guest-idle.elf" \
    --tiny-guest "$build/tests/guest/tiny.elf" \
    --bzimage "$bzimage" --vmlinux "$vmlinux" --initramfs "$tmp/initramfs.cpio" \
    --run-kvm "$repo/tests/kvm/run-kvm" --kvm-initramfs "$build/bench/bench-init.cpio" \
    --kvm-idle-initramfs "$build/bench/bench-init-idle.cpio" \
    --kvm-guest-initramfs "$guest_initramfs" --iobench "$build/bench/iobench" \
    --xfer "$build/bench/xfer" \
    --commit "$commit" --command "bench/run.sh${*:+ $*}" \
    --out "$results/latest.json" "$@"
"$python" "$repo/bench/report.py" "$results/latest.json" \
    --markdown "$results/latest.md" --png "$results/latest.png"
