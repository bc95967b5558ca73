#!/bin/sh
# The PVH entry, with the tiny guest built with a PVH note (tiny-pvh.elf): entered
# by default in the 32-bit protected mode the PVH ABI describes, with 1 and 4 vCPUs,
# it reports the state it got and the hvm_start_info at EBX (memory map, command
# line, the initrd as the first module); --entry64 enters the same image at its
# 64-bit entry with a zero page instead; --check says which entry a boot uses.
# Usage: pvh.sh MICROVM TINY_PVH TINY_ELF
set -eu
microvm=$1 tiny_pvh=$2 tiny_elf=$3
. "$(dirname "$0")/tap.sh"

# --check first: it needs no KVM.
run "$microvm" --check --kernel "$tiny_pvh"
check "--check: a kernel with a PVH note boots through the PVH entry" sh -c "[ $rc -eq 0 ] &&
    grep -qx 'boot: PVH entry at 0x[0-9a-f]*, 32-bit protected mode, EBX = start info at 0x6000' '$tap_tmp/out' &&
    grep -qx 'start info: at 0x6000, memory map at 0x6100 (3 entries), 0 modules' '$tap_tmp/out' &&
    ! grep -q '^zero page:' '$tap_tmp/out'"
run "$microvm" --check --entry64 --kernel "$tiny_pvh"
check "--check --entry64: the same kernel through the 64-bit entry, and it says so" sh -c "[ $rc -eq 0 ] &&
    grep -qx 'boot: 64-bit entry at 0x100200, long mode, RSI = zero page at 0x7000 (--entry64: the PVH entry is not used)' '$tap_tmp/out' &&
    grep -qx 'zero page: at 0x7000' '$tap_tmp/out' && ! grep -q '^start info:' '$tap_tmp/out'"
run "$microvm" --check --kernel "$tiny_elf"
check "--check: a kernel without a PVH note boots through the 64-bit entry" sh -c "[ $rc -eq 0 ] &&
    grep -qx 'boot: 64-bit entry at 0x100200, long mode, RSI = zero page at 0x7000' '$tap_tmp/out'"

skip_all_unless_kvm "the PVH boots cannot run"

printf 'tiny pvh initrd' >"$tap_tmp/initrd"
initrd_fnv=$(python3 -c '
import sys
h = 0x811c9dc5
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x01000193) & 0xffffffff
print("0x%08x" % h)' "$tap_tmp/initrd")

for cpus in 1 4; do
    what="PVH entry, $cpus vCPU(s)"
    run "$microvm" --kernel "$tiny_pvh" --initrd "$tap_tmp/initrd" --vcpus $cpus --mem 256 \
        --no-pvm --cmdline "console=ttyS0 tiny.test=pvh$cpus"
    check "$what: exits 0 after the guest's i8042 reset" sh -c "[ $rc -eq 0 ]"
    check "$what: entered at the PVH entry" has_line "tiny: hello format=pvh entry=pvh"
    check "$what: EBX is the start info, CR0 only PE (and ET), CR4, EFER and EFLAGS clear" \
        has_line "pvh: ebx=0x6000 cr0=0x11 cr4=0x0 efer=0x0 eflags=0x2"
    check "$what: flat 32-bit code" has_line "pvh: cs=0x28 code32 base=0x0 limit=0xffffffff"
    for seg in ds es ss; do
        check "$what: flat 32-bit data in $seg" has_line "pvh: $seg=0x18 data32 base=0x0 limit=0xffffffff"
    done
    check "$what: a 32-bit TSS of base 0 and limit 0x67" has_line "pvh: tr=0x30 tss32 base=0x0 limit=0x67"
    check "$what: the state is what the PVH ABI asks" has_line "pvh: abi ok"
    check "$what: start info: magic, version 1, the initrd module, command line, memory map" \
        has_line "start-info: addr=0x6000 magic=0x336ec578 version=1 flags=0x0 modules=1 modlist=0x6200 cmdline=0x20000 rsdp=0xe0000 memmap=0x6100 entries=3"
    check "$what: start info accepted" has_line "start-info: ok"
    check "$what: the start info's RSDP is the ACPI tables' (the one the BIOS-area scan finds)" sh -c "
        grep -qx 'start-info: rsdp signature=RSD PTR  checksum=ok' '$tap_tmp/out' &&
        grep -qx 'acpi: rsdp=0xe0000 revision=2 xsdt=0x[0-9a-f]* extended-checksum=ok' '$tap_tmp/out'"
    check "$what: memory map around the EBDA" sh -c "grep -qx 'e820: entries=3' '$tap_tmp/out' &&
        grep -qx 'e820: addr=0x0 size=0x9fc00 type=1' '$tap_tmp/out' &&
        grep -qx 'e820: addr=0x9fc00 size=0x60400 type=2' '$tap_tmp/out' &&
        grep -qx 'e820: addr=0x100000 size=0xff00000 type=1' '$tap_tmp/out'"
    check "$what: command line as given" has_line "cmdline: console=ttyS0 tiny.test=pvh$cpus"
    check "$what: the initrd, as module 0, intact" sh -c "grep -q '^initrd: addr=0x[0-9a-f]*000 size=0xf fnv1a=$initrd_fnv ' '$tap_tmp/out'"
    check "$what: $cpus CPU(s) started by INIT/SIPI" has_line "cpus-started: $cpus"
    check "$what: guest finished" has_line "tiny: done"
    check "$what: boot timer logged" grep -q "boot-timer: guest first instruction after" "$tap_tmp/err"
    [ "$rc" -eq 0 ] && has_line "pvh: abi ok" || diag_output
done

run "$microvm" --kernel "$tiny_pvh" --entry64 --no-pvm --cmdline "console=ttyS0 tiny.test=entry64"
check "--entry64: the PVH image entered in long mode with the zero page" sh -c "[ $rc -eq 0 ] &&
    grep -qx 'tiny: hello format=pvh' '$tap_tmp/out' && grep -qx 'long-mode: yes' '$tap_tmp/out' &&
    grep -qx 'zero-page: ok' '$tap_tmp/out' && grep -qx 'cmdline: console=ttyS0 tiny.test=entry64' '$tap_tmp/out'"

run "$microvm" --kernel "$tiny_pvh" --no-pvm
check "no initrd: the start info lists no module" sh -c "[ $rc -eq 0 ] &&
    grep -q '^start-info: addr=0x6000 magic=0x336ec578 version=1 flags=0x0 modules=0 modlist=0x0 ' '$tap_tmp/out' &&
    grep -qx 'initrd: none' '$tap_tmp/out'"

tap_done
