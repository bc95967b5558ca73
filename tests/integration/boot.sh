#!/bin/sh
# Boots the tiny test guest in both formats with 1 and 4 vCPUs and checks what
# it reports; then the exit paths: reset, triple fault, emulation failure,
# SIGTERM, the terminal mode, and the seccomp filters of a running VM.
# Usage: boot.sh MICROVM TINY_ELF TINY_BZIMAGE FILTER_FILE
set -eu
microvm=$1 tiny_elf=$2 tiny_bz=$3 filters=$4
here=$(dirname "$0")
. "$here/tap.sh"

skip_all_unless_kvm "the boot tests cannot run"

head -c 10000 /dev/urandom >"$tap_tmp/initrd"
initrd_fnv=$(python3 -c '
import sys
h = 0x811c9dc5
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x01000193) & 0xffffffff
print("0x%08x" % h)' "$tap_tmp/initrd")

for fmt in elf bzimage; do
    [ $fmt = elf ] && image=$tiny_elf || image=$tiny_bz
    for cpus in 1 4; do
        what="$fmt, $cpus vCPU(s)"
        run "$microvm" --kernel "$image" --initrd "$tap_tmp/initrd" --vcpus $cpus --mem 256 \
            --no-pvm --cmdline "console=ttyS0 tiny.test=$fmt$cpus"
        check "$what: exits 0 after the guest's i8042 reset" sh -c "[ $rc -eq 0 ]"
        check "$what: guest ran in the right format" has_line "tiny: hello format=$fmt"
        check "$what: long mode" has_line "long-mode: yes"
        check "$what: GDT with 64-bit code at 0x10" sh -c "grep -q '^gdt: base=0x500 limit=0x[0-9a-f]* cs=0x10 l=1$' '$tap_tmp/out'"
        check "$what: RSI is the zero page" has_line "zero-page: rsi=0x7000 boot_flag=0xaa55 header=HdrS loader=0xff"
        check "$what: zero page consistent" has_line "zero-page: ok"
        check "$what: e820 map around the EBDA" sh -c "grep -q '^e820: entries=3$' '$tap_tmp/out' &&
            grep -q '^e820: addr=0x0 size=0x9fc00 type=1$' '$tap_tmp/out' &&
            grep -q '^e820: addr=0x9fc00 size=0x60400 type=2$' '$tap_tmp/out' &&
            grep -q '^e820: addr=0x100000 size=0xff00000 type=1$' '$tap_tmp/out'"
        check "$what: command line as given" has_line "cmdline: console=ttyS0 tiny.test=$fmt$cpus"
        check "$what: initrd bytes intact" sh -c "grep -q '^initrd: addr=0x[0-9a-f]*000 size=0x2710 fnv1a=$initrd_fnv ' '$tap_tmp/out'"
        check "$what: MP table lists $cpus CPU(s)" has_line "cpus: $cpus"
        check "$what: $cpus CPU(s) started by INIT/SIPI" has_line "cpus-started: $cpus"
        check "$what: guest finished" has_line "tiny: done"
        check "$what: boot timer logged" grep -q "boot-timer: guest first instruction after" "$tap_tmp/err"
        [ "$rc" -eq 0 ] || diag_output
    done
done

# On a PVM host the VMM adds the kernel switches it needs, and says so.
run "$microvm" --kernel "$tiny_elf" --cmdline "console=ttyS0"
if [ -d /sys/module/kvm_pvm ]; then
    check "PVM host: switches appended and logged" sh -c "[ $rc -eq 0 ] &&
        grep -q '^cmdline: console=ttyS0 noxsave clearcpuid=' '$tap_tmp/out' &&
        grep -q 'PVM host detected: added to the kernel command line' '$tap_tmp/err'"
else
    check "hardware KVM: command line untouched" sh -c "[ $rc -eq 0 ] && grep -qx 'cmdline: console=ttyS0' '$tap_tmp/out'"
fi

python3 "$here/mkguest.py" "$tap_tmp/ud2.elf" ud2
python3 "$here/mkguest.py" "$tap_tmp/xrstor.elf" xrstor
python3 "$here/mkguest.py" "$tap_tmp/spin.elf" spin
python3 "$here/mkguest.py" "$tap_tmp/chatter.elf" chatter

run "$microvm" --kernel "$tap_tmp/ud2.elf"
check "triple fault: exit 1 with one line naming it and the RIP" sh -c "[ $rc -eq 1 ] &&
    [ \$(grep -c error: '$tap_tmp/err') -eq 1 ] && grep -q 'vcpu 0: guest triple fault.*RIP 0x100000' '$tap_tmp/err'"
run "$microvm" --kernel "$tap_tmp/xrstor.elf"
check "emulation failure: exit 1 naming RIP and the instruction bytes" sh -c "[ $rc -eq 1 ] &&
    grep -q 'vcpu 0: .*RIP 0x100000.*48 0f ae 2f' '$tap_tmp/err'"

# A VM that runs until stopped: every thread filtered, SIGTERM ends it with 0.
"$microvm" --kernel "$tap_tmp/spin.elf" --vcpus 2 >"$tap_tmp/out" 2>"$tap_tmp/err" </dev/null &
pid=$!
sleep 1
threads=$(ls /proc/$pid/task | wc -l)
filtered=$(grep -l '^Seccomp:[[:space:]]*2$' /proc/$pid/task/*/status | wc -l)
check "running VM: all $threads threads in seccomp filter mode (Seccomp: 2)" sh -c "[ $threads -ge 3 ] && [ $filtered -eq $threads ]"
check "running VM: no_new_privs set" grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$pid/status
# smaps: the 128 MiB mapping of guest RAM carries VmFlags "dd" (MADV_DONTDUMP).
check "running VM: guest RAM is kept out of core dumps" sh -c "awk '
    /^Size:/ { ram = (\$2 == 131072) }
    /^VmFlags:/ && ram { for (i = 2; i <= NF; i++) if (\$i == \"dd\") found = 1 }
    END { exit !found }' /proc/$pid/smaps"
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
check "SIGTERM stops the VM cleanly with status 0" sh -c "[ $rc -eq 0 ] && ! kill -0 $pid 2>/dev/null"

# SIGTERM while the guest prints without pause: the vCPU that meets the stop in the
# middle of a line writes it only if stdout takes it at once (poll, in its filter).
stops=0 codes=""
for i in 1 2 3; do
    "$microvm" --kernel "$tap_tmp/chatter.elf" >"$tap_tmp/out" 2>"$tap_tmp/err" </dev/null &
    pid=$!
    sleep 0.5
    kill -TERM $pid
    set +e
    wait $pid
    rc=$?
    set -e
    [ $rc -eq 0 ] && stops=$((stops + 1))
    codes="$codes $rc"
done
check "SIGTERM while the guest prints: 3 of 3 stops with status 0 (statuses:$codes)" sh -c "[ $stops -eq 3 ]"
[ $rc -eq 0 ] || diag_output

# The VMM's kick signal sent to the process (anyone of its uid may): it lands on whichever
# thread the kernel picks, here each in turn (kill(2) on a thread id prefers that thread,
# one at a time so that no other thread takes it first), the vsock device's I/O thread
# included; every thread returns from its handler.
"$microvm" --kernel "$tap_tmp/spin.elf" --vcpus 2 --vsock "cid=3,uds=$tap_tmp/vsock" \
    >"$tap_tmp/out" 2>"$tap_tmp/err" </dev/null &
pid=$!
n=0
until [ "$(grep -l '^Seccomp:[[:space:]]*2$' /proc/$pid/task/*/status 2>/dev/null | wc -l)" -ge 4 ] || [ $n -gt 100 ]; do
    n=$((n + 1))
    sleep 0.1
done
python3 -c 'import os, signal, sys, time
for tid in sys.argv[1:]:
    try:
        os.kill(int(tid), signal.SIGRTMIN)
    except ProcessLookupError:
        break
    time.sleep(0.1)' $(ls /proc/$pid/task)
sleep 0.5
check "a process-directed kick signal on each of its 4 threads (I/O thread included) ends nothing" kill -0 $pid
kill -TERM $pid 2>/dev/null || true
set +e
wait $pid
rc=$?
set -e
check "... and SIGTERM then stops it with status 0" sh -c "[ $rc -eq 0 ]"
[ $rc -eq 0 ] || diag_output

# The test hook (SANDBOX_TEST_VIOLATION_ENV): the named thread makes a forbidden openat.
for thread in vmm vcpu; do
    run env MICROVM_TEST_SECCOMP_VIOLATION=$thread "$microvm" --kernel "$tap_tmp/spin.elf"
    check "forbidden openat in the $thread thread: killed with 148 and a named log line" sh -c "[ $rc -eq 148 ] &&
        grep -q 'seccomp: thread $thread made forbidden syscall openat ([0-9]*, args 0x' '$tap_tmp/err'"
done
# The I/O thread runs once a device needs it (vsock).
run env MICROVM_TEST_SECCOMP_VIOLATION=io "$microvm" --kernel "$tap_tmp/spin.elf" --vsock "cid=3,uds=$tap_tmp/v.sock"
check "forbidden openat in the io thread: killed with 148 and a named log line" sh -c "[ $rc -eq 148 ] &&
    grep -q 'seccomp: thread io made forbidden syscall openat' '$tap_tmp/err'"

# Filters from a file made by seccomp-compile --binary, instead of the built-in ones.
run "$microvm" --kernel "$tiny_elf" --vcpus 2 --seccomp-policy "$filters"
check "--seccomp-policy FILE: boots under the file's filters" sh -c "[ $rc -eq 0 ] && grep -q 'tiny: done' '$tap_tmp/out'"
run "$microvm" --seccomp-policy "$filters" --print-seccomp
check "--seccomp-policy FILE --print-seccomp names the file's filters" sh -c "[ $rc -eq 0 ] &&
    grep -q '^thread vmm: [0-9]* BPF instructions from ' '$tap_tmp/out' && grep -q '^thread vcpu: ' '$tap_tmp/out'"
run env MICROVM_TEST_SECCOMP_VIOLATION=vcpu "$microvm" --kernel "$tap_tmp/spin.elf" --seccomp-policy "$filters"
check "--seccomp-policy FILE: a forbidden syscall still kills with 148" sh -c "[ $rc -eq 148 ] &&
    grep -q 'thread vcpu made forbidden syscall openat' '$tap_tmp/err'"
head -c 100 "$filters" >"$tap_tmp/short.bin"
run "$microvm" --kernel "$tiny_elf" --seccomp-policy "$tap_tmp/short.bin"
check "--seccomp-policy with a truncated file: one clear error before anything runs" sh -c "[ $rc -eq 1 ] &&
    [ \$(wc -l <'$tap_tmp/err') -eq 1 ] && grep -q 'short.bin: filter 0 field nr_insns' '$tap_tmp/err' && [ ! -s '$tap_tmp/out' ]"
run "$microvm" --kernel "$tiny_elf" --seccomp-policy "$tiny_elf"
check "--seccomp-policy with a file that is not a filter file: one clear error" sh -c "[ $rc -eq 1 ] &&
    grep -q 'field magic at offset 0: not a seccomp-compile --binary file' '$tap_tmp/err'"

# Without filters a sanitizer build can check for leaks at exit: there must be none.
run env ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 "$microvm" --kernel "$tiny_elf" --vcpus 2 --no-seccomp
check "--no-seccomp: boots, warns, and (under ASan) exits without leaks" sh -c "[ $rc -eq 0 ] &&
    grep -q 'tiny: done' '$tap_tmp/out' && grep -q 'warning: --no-seccomp' '$tap_tmp/err'"

run "$microvm" --print-seccomp
check "--print-seccomp lists each thread's allowlist" sh -c "[ $rc -eq 0 ] &&
    grep -q '^thread vmm: [0-9]* syscalls' '$tap_tmp/out' && grep -q '^thread vcpu: [0-9]* syscalls' '$tap_tmp/out' &&
    grep -q 'ioctl arg1 == KVM_RUN' '$tap_tmp/out'"

# The terminal: raw while the VM runs, restored on every exit path.
set +e
python3 "$here/pty-run.py" "$microvm" --kernel "$tiny_bz" >"$tap_tmp/pty" 2>&1
rc=$?
set -e
check "terminal restored after a normal exit" sh -c "[ $rc -eq 0 ] && grep -q 'tiny: done' '$tap_tmp/pty'"
set +e
python3 "$here/pty-run.py" "$microvm" --kernel "$tap_tmp/ud2.elf" >"$tap_tmp/pty" 2>&1
rc=$?
set -e
check "terminal restored after an error exit" sh -c "[ $rc -eq 1 ]"
set +e
python3 "$here/pty-run.py" --term-after 1 "$microvm" --kernel "$tap_tmp/spin.elf" >"$tap_tmp/pty" 2>&1
rc=$?
set -e
check "terminal restored after SIGTERM" sh -c "[ $rc -eq 0 ]"

left=$(ps -eo comm=,args= | grep -c "^microvm .*$tap_tmp" || true)
check "no microvm process left behind" sh -c "[ $left -eq 0 ]"

tap_done
