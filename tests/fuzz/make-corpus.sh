#!/bin/bash
# Writes the seed corpus of every fuzz target to OUTDIR/TARGET/:
#   - the unit tests' synthetic images (tests/unit/images.c), shrunk;
#   - the tiny test guest (tests/guest) as tiny.elf, tiny.bzImage and tiny-pvh.elf;
#   - the Linux test kernel (scripts/build-linux) as vmlinux and bzImage,
#     trimmed to headers, notes and the first KiB of each segment, if it is
#     built (this script never starts that long build);
#   - any KERNEL given, trimmed the same way;
#   - boot frames of each kernel, command lines and jailer argument vectors;
#   - the project's seccomp policies and their compiled filter file;
#   - mount tables (/proc/self/mountinfo) for the jailer;
#   - virtqueues and virtio driver scripts (seeds_virtio.c).
#
# Usage: tests/fuzz/make-corpus.sh [--small] OUTDIR [KERNEL...]
#   --small  leave out the Linux test kernel: how tests/fuzz/corpus, the
#            committed seeds of the smoke test, is made.
# Builds what it needs in build-fuzz-seeds/ (override with FUZZ_SEEDS_BUILD).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
small=false
if [[ ${1-} == --small ]]; then
    small=true
    shift
fi
if [[ $# -lt 1 ]]; then
    echo "usage: $0 [--small] OUTDIR [KERNEL...]" >&2
    exit 2
fi
out=$1
shift

build=${FUZZ_SEEDS_BUILD:-$repo/build-fuzz-seeds}
if [[ ! -f $build/build.ninja ]]; then
    meson setup "$build" "$repo" >/dev/null
fi
ninja -C "$build" tests/fuzz/fuzz-seeds tests/guest/tiny.elf tests/guest/tiny.bzImage \
    tests/guest/tiny-pvh.elf policy/seccomp_filters.bin >/dev/null

kernels=("$build/tests/guest/tiny.elf" "$build/tests/guest/tiny.bzImage" "$build/tests/guest/tiny-pvh.elf")
if ! $small; then
    linux=$("$repo/scripts/build-linux" --print-dir)
    if [[ -f $linux/vmlinux && -f $linux/bzImage ]]; then
        kernels+=("$linux/vmlinux" "$linux/bzImage")
    else
        echo "make-corpus: the Linux test kernel is not built yet (scripts/build-linux): seeding without it" >&2
    fi
fi

# Each target's directory is replaced whole, so no stale seed from an older
# run stays; nothing else in OUTDIR is touched.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$build/tests/fuzz/fuzz-seeds" "$tmp" "${kernels[@]}" "$@"
# The policy parser, the filter-file parser and mountinfo start from the real thing.
cp "$repo"/policy/*.policy "$tmp/policy/"
cp /proc/self/mountinfo "$tmp/mountinfo/host"
mkdir -p "$tmp/filter_file"
cp "$build/policy/seccomp_filters.bin" "$tmp/filter_file/builtin.bin"
mkdir -p "$out"
for dir in "$tmp"/*/; do
    target=$(basename "$dir")
    rm -rf "${out:?}/$target"
    mv "$dir" "$out/$target"
done
echo "make-corpus: $(find "$out" -type f | wc -l) seeds in $out" >&2
