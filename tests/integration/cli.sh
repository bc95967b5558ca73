#!/bin/sh
# The command lines of microvm and jailer: help, usage errors, --check on
# real images, and bad inputs that must fail with one clear line.
# Usage: cli.sh MICROVM JAILER TINY_ELF TINY_BZIMAGE
set -eu
microvm=$1 jailer=$2 tiny_elf=$3 tiny_bz=$4
. "$(dirname "$0")/tap.sh"

# one_line_error STATUS PATTERN: the exit status, and one error line matching.
one_line_error() {
    [ "$rc" -eq "$1" ] && [ "$(wc -l <"$tap_tmp/err")" -eq 1 ] && grep -q "$2" "$tap_tmp/err"
}

# usage_error PATTERN: exit 2, an error line matching, then the --help hint.
usage_error() {
    [ "$rc" -eq 2 ] && [ "$(wc -l <"$tap_tmp/err")" -eq 2 ] && head -n 1 "$tap_tmp/err" | grep -q "$1" &&
        tail -n 1 "$tap_tmp/err" | grep -q -- "--help"
}

for prog in "$microvm" "$jailer"; do
    name=$(basename "$prog")
    run "$prog" --help
    check "$name --help exits 0 with usage" sh -c "[ $rc -eq 0 ] && grep -q '^Usage: $name' '$tap_tmp/out'"
    run "$prog" --no-such-option
    check "$name: unknown option exits 2 with error and hint" sh -c \
        "[ $rc -eq 2 ] && [ \$(wc -l <'$tap_tmp/err') -eq 2 ] && grep -q \"unknown option '--no-such-option'\" '$tap_tmp/err' && grep -q -- \"--help\" '$tap_tmp/err'"
    run "$prog" -x
    check "$name: an unknown short option is named" usage_error "unknown option '-x'"
done

run "$microvm" -vx
check "microvm: the unknown letter in a cluster is named" usage_error "unknown option '-x'"

run "$microvm" --kernel "$tiny_elf" --check
check "--check on the tiny ELF" sh -c "[ $rc -eq 0 ] && grep -q 'ELF vmlinux' '$tap_tmp/out' && grep -q 'entry 0x100200' '$tap_tmp/out'"
printf 'initrd-bytes' >"$tap_tmp/initrd"
run "$microvm" --kernel "$tiny_bz" --initrd "$tap_tmp/initrd" --cmdline "a b" --mem 64 --check
check "--check on the tiny bzImage with an initrd" sh -c "[ $rc -eq 0 ] && grep -q 'boot protocol 2.15' '$tap_tmp/out' && grep -q 'initrd: \[0x3fff000, 0x3fff00c), 12 bytes' '$tap_tmp/out'"

# Bad inputs: each a clear single line and a non-zero exit.
run "$microvm" --kernel "$tap_tmp/missing" --check
check "missing kernel file" one_line_error 1 "missing: cannot open"
run "$microvm" --kernel "$tap_tmp" --check
check "directory as kernel" one_line_error 1 "is a directory"
run "$microvm" --kernel /dev/zero --check
check "/dev/zero as kernel" one_line_error 1 "not a regular file"
: >"$tap_tmp/empty"
run "$microvm" --kernel "$tap_tmp/empty" --check
check "0-byte kernel" one_line_error 1 "file size 0"
head -c 4096 /dev/urandom | tr -d '\177' >"$tap_tmp/junk"
run "$microvm" --kernel "$tap_tmp/junk" --check
check "junk kernel" one_line_error 1 "(F2)"
run "$microvm" --kernel "$tiny_elf" --mem 0 --check
check "--mem 0" usage_error "mem '0'"
run "$microvm" --kernel "$tiny_elf" --mem 1048576 --check
check "absurd --mem" sh -c "[ $rc -ne 0 ] && grep -q 'mem' '$tap_tmp/err'"
run "$microvm" --kernel "$tiny_elf" --mem 99999999999999999999999 --check
check "overflowing --mem" usage_error "mem '9"
run "$microvm" --kernel "$tiny_elf" --vcpus 0 --check
check "--vcpus 0" usage_error "vcpus '0'"
run "$microvm" --kernel "$tiny_elf" --vcpus 10000 --check
check "--vcpus 10000" usage_error "vcpus '10000'"
run "$microvm" --kernel "$tiny_elf" --mem 1 --check
check "--mem 1" usage_error "mem '1'"
head -c 2097152 /dev/zero >"$tap_tmp/big-initrd"
run "$microvm" --kernel "$tiny_bz" --mem 2 --initrd "$tap_tmp/big-initrd" --check
check "no room for the initrd" one_line_error 1 "(B11)"
run "$microvm" --kernel "$tiny_bz" --cmdline "$(head -c 3000 /dev/zero | tr '\0' a)" --check
check "overlong command line" one_line_error 1 "(B10)"

# A config file's snapshot-load: checked as PUT /snapshot/load's body, before any file opens.
load='"snapshot_path": "vm.snap", "mem_file_path": "vm.mem"'
printf '{"snapshot-load": {%s}}' "$load" >"$tap_tmp/load-paused.json"
run "$microvm" --config-file "$tap_tmp/load-paused.json"
check "snapshot-load, resume_vm false, no API: refused, nothing could resume it" \
    usage_error "snapshot-load: resume_vm false leaves the VM paused, which only the API resumes"
printf '{"snapshot-load": {%s, "resume_vm": true, "clock_realtime": true}}' "$load" >"$tap_tmp/load-bad.json"
run "$microvm" --config-file "$tap_tmp/load-bad.json"
check "snapshot-load with a feature microvm lacks: refused by name" usage_error "snapshot-load: clock_realtime true: not supported"
printf '{"snapshot-load": {%s, "resume_vm": true}}' "$load" >"$tap_tmp/load.json"
run "$microvm" --config-file "$tap_tmp/load.json" --snapshot "$tap_tmp/x.snap" --mem-file "$tap_tmp/x.mem"
check "snapshot-load and --snapshot: refused" usage_error "snapshot and the config file's snapshot-load exclude each other"
run "$microvm" --config-file "$tap_tmp/load.json" --kernel "$tiny_elf"
check "snapshot-load and --kernel: refused" usage_error "the config file's snapshot-load restores the VM it describes"

tap_done
