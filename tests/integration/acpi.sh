#!/bin/sh
# The ACPI tables and power registers with the tiny guest, on this host's KVM: the
# tables as the guest finds them (checksums, the FADT's registers, the MADT's CPUs,
# the DSDT's devices), with 64 vCPUs and every device too, disassembled by acpica's
# iasl from the bytes the guest read; power-off and reset through the FADT's
# registers, hostile writes to them; the graceful stop: SIGPWR presses the power
# button, a guest that reacts powers off, one that does not is stopped after
# --shutdown-timeout.
# Usage: acpi.sh MICROVM TINY_ELF TINY_BZIMAGE
set -eu
microvm=$1 tiny_elf=$2 tiny_bz=$3
here=$(dirname "$0")
. "$here/tap.sh"

skip_all_unless_kvm "the ACPI tests cannot run"

logged() { grep -qF -- "$1" "$tap_tmp/err"; }
# The i8042's reset is tiny's fallback when the VMM did not end the VM.
no_i8042_reset() { ! grep -q 'through the i8042' "$tap_tmp/err"; }

# ms since the epoch, for how long a stop took.
now_ms() { date +%s%3N; }

# start_bg ARGS...: the VMM in the background ($pid), its console in $tap_tmp/out.
start_bg() {
    # Emptied here, not by the background shell's redirection: wait_line must not
    # find the previous run's lines.
    : >"$tap_tmp/out"
    : >"$tap_tmp/err"
    "$microvm" "$@" >"$tap_tmp/out" 2>"$tap_tmp/err" </dev/null &
    pid=$!
}
# wait_line LINE: until the guest printed LINE (at most 20 s).
wait_line() {
    n=0
    until has_line "$1" || [ $n -ge 200 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    has_line "$1"
}
finish() {
    set +e
    wait "$pid"
    rc=$?
    set -e
}

# The tables as the guest finds them, in both formats.
for fmt in elf bzimage; do
    [ $fmt = elf ] && image=$tiny_elf || image=$tiny_bz
    run "$microvm" --kernel "$image" --no-pvm --vcpus 2 --cmdline "console=ttyS0"
    check "$fmt: RSDP found by the scan of the BIOS area, extended checksum right" \
        grep -qx 'acpi: rsdp=0xe0000 revision=2 xsdt=0x[0-9a-f]* extended-checksum=ok' "$tap_tmp/out"
    for sig in XSDT FACP APIC DSDT; do
        check "$fmt: $sig present, checksum right" grep -q "^acpi: table=$sig addr=0xe[0-9a-f]* length=[0-9]* checksum=ok\$" "$tap_tmp/out"
    done
    check "$fmt: FADT: hardware-reduced, sleep and reset registers on ports 0x600-0x602" \
        has_line "acpi: fadt hw-reduced=1 sleep-control=0x600 sleep-status=0x601 reset=0x602 reset-value=0x1"
    check "$fmt: MADT: 2 CPUs, the IOAPIC after them" has_line "acpi: madt cpus=2 ioapic-id=2 ioapic=0xfec00000 lapic=0xfee00000"
    check "$fmt: DSDT: no virtio device, the GED on IRQ 3, \\_S5" has_line "acpi: dsdt virtio=0 ged-irq=3 s5=yes"
    check "$fmt: the MP table is still there" has_line "cpus: 2"
    [ "$rc" -eq 0 ] || diag_output
done

# 64 vCPUs and the most devices there are lines for: 16 drives, rng, vsock, and net
# where a tap can be made (as root, in a network namespace of our own).
head -c 65536 /dev/zero >"$tap_tmp/disk.img"
set -- --rng --vsock "cid=3,uds=$tap_tmp/v.sock"
for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    set -- "$@" --drive "path=$tap_tmp/disk.img,ro,id=d$i"
done
devices=18 netns=""
ns=microvm-acpi-$$
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && ip netns add "$ns" 2>/dev/null; then
    trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$tap_tmp"' EXIT
    if ip netns exec "$ns" ip tuntap add dev mvtap0 mode tap; then
        set -- "$@" --net tap=mvtap0
        devices=19 netns="ip netns exec $ns"
    fi
fi
[ $devices -eq 19 ] || echo "# no tap device (needs root and ip(8)): $devices devices, not 19"
run $netns "$microvm" --kernel "$tiny_elf" --no-pvm --vcpus 64 --mem 256 \
    --cmdline "console=ttyS0 tiny.acpi-dump=1" "$@"
check "64 vCPUs, $devices devices: boots" sh -c "[ $rc -eq 0 ] && grep -qx 'tiny: done' '$tap_tmp/out'"
check "64 vCPUs, $devices devices: MADT lists 64 CPUs, IOAPIC 64" \
    has_line "acpi: madt cpus=64 ioapic-id=64 ioapic=0xfec00000 lapic=0xfee00000"
check "64 vCPUs, $devices devices: DSDT lists every device" has_line "acpi: dsdt virtio=$devices ged-irq=3 s5=yes"
check "64 vCPUs, $devices devices: every checksum right" sh -c "[ \$(grep -c '^acpi: table=.*checksum=ok\$' '$tap_tmp/out') -eq 4 ]"
check "64 vCPUs, $devices devices: the MP table lists 64 CPUs too" has_line "cpus: 64"
[ "$rc" -eq 0 ] || diag_output

# acpica's tools read the bytes the guest read: each table disassembles without
# an error or warning (a wrong checksum is one) and the result compiles again
# without any; iasl cannot load an RSDP, so it builds one from its fields and
# must arrive at the same bytes (its own checksums).
if command -v iasl >/dev/null; then
    mkdir "$tap_tmp/iasl"
    cp "$tap_tmp/out" "$tap_tmp/iasl/console"
    sigs=$(python3 "$here/acpi-tables.py" extract "$tap_tmp/iasl/console" "$tap_tmp/iasl")
    check "iasl: the guest dumped RSDP, XSDT, FACP, APIC, DSDT" [ "$(echo $sigs)" = "RSDP XSDT FACP APIC DSDT" ]
    for sig in XSDT FACP APIC DSDT; do
        set +e
        (cd "$tap_tmp/iasl" && iasl -d $sig.dat >$sig.d.log 2>&1 && iasl -p $sig.re $sig.dsl >$sig.c.log 2>&1)
        ok=$?
        set -e
        check "iasl -d $sig: no error or warning; the disassembly compiles with none" sh -c "[ $ok -eq 0 ] &&
            ! grep -qiE 'error|warning' '$tap_tmp/iasl/$sig.d.log' &&
            grep -q ' 0 Errors, 0 Warnings, 0 Remarks' '$tap_tmp/iasl/$sig.c.log'"
        [ $ok -eq 0 ] || sed 's/^/# iasl: /' "$tap_tmp/iasl/$sig".*.log
    done
    check "iasl -d DSDT: 64 vCPUs' tables name $devices LNRO0005 devices" \
        sh -c "[ \$(grep -c 'Name (_HID, \"LNRO0005\")' '$tap_tmp/iasl/DSDT.dsl') -eq $devices ]"
    python3 "$here/acpi-tables.py" rsdp-source "$tap_tmp/iasl/RSDP.dat" >"$tap_tmp/iasl/rsdp.asl"
    set +e
    (cd "$tap_tmp/iasl" && iasl rsdp.asl >rsdp.log 2>&1)
    set -e
    check "iasl: the RSDP compiled from its fields is the VMM's, byte for byte" sh -c "
        grep -q ' 0 Errors, 0 Warnings, 0 Remarks' '$tap_tmp/iasl/rsdp.log' && cmp -s '$tap_tmp/iasl/rsdp.aml' '$tap_tmp/iasl/RSDP.dat'"
else
    echo "# iasl (acpica-tools) is missing: run scripts/setup; the tables are not disassembled"
    not_ok "iasl is installed"
fi

# Power-off and reset through the FADT's registers.
run "$microvm" --kernel "$tiny_elf" --no-pvm --cmdline "console=ttyS0 tiny.end=poweroff"
check "S5 through the sleep control register: exit 0, logged as a power-off" sh -c "[ $rc -eq 0 ] &&
    grep -qx 'acpi: powering off' '$tap_tmp/out' && grep -q 'guest powered off (ACPI S5)' '$tap_tmp/err'"
check "... and not as a reset" no_i8042_reset
run "$microvm" --kernel "$tiny_bz" --no-pvm --vcpus 2 --cmdline "console=ttyS0 tiny.end=acpi-reset"
check "the reset register: exit 0, logged as an ACPI reset" sh -c "[ $rc -eq 0 ] &&
    grep -q 'guest requested a reset through the ACPI reset register' '$tap_tmp/err' && ! grep -q 'powered off' '$tap_tmp/err'"
check "... not as the i8042's" no_i8042_reset
run "$microvm" --kernel "$tiny_elf" --no-pvm --cmdline "console=ttyS0 tiny.pm-junk=1 tiny.end=poweroff"
check "every other value and width written to the registers: nothing happens, the guest goes on" sh -c "
    [ $rc -eq 0 ] && grep -qx 'acpi: pm-junk written' '$tap_tmp/out' && grep -qx 'acpi: powering off' '$tap_tmp/out' &&
    [ \$(grep -c 'guest powered off' '$tap_tmp/err') -eq 1 ] && ! grep -q 'reset' '$tap_tmp/err'"
[ "$rc" -eq 0 ] || diag_output

# The graceful stop: SIGPWR presses the button, the guest sees the GED's interrupt
# and powers off.
start_bg --kernel "$tiny_elf" --no-pvm --vcpus 2 --shutdown-timeout 60 --cmdline "console=ttyS0 tiny.end=power-button"
wait_line "acpi: waiting for the power button" || true
t0=$(now_ms)
kill -PWR $pid
finish
took=$(( $(now_ms) - t0 ))
echo "# power button to exit: $took ms"
check "SIGPWR: the guest sees the power button and powers off; exit 0" sh -c "[ $rc -eq 0 ] &&
    grep -qx 'acpi: power button pressed' '$tap_tmp/out' && grep -qx 'acpi: powering off' '$tap_tmp/out'"
check "SIGPWR: logged as asked, then as a power-off, well before the timeout" sh -c "
    grep -q 'received Power failure: asking the guest to power off' '$tap_tmp/err' &&
    grep -q 'pressing the ACPI power button: the guest has 60 s to power off' '$tap_tmp/err' &&
    grep -q 'guest powered off (ACPI S5)' '$tap_tmp/err' && ! grep -q 'did not power off' '$tap_tmp/err' && [ $took -lt 30000 ]"
[ "$rc" -eq 0 ] || diag_output

# A guest that ignores the button is stopped after the timeout, as SIGTERM stops it;
# a second SIGPWR presses again without moving the deadline.
start_bg --kernel "$tiny_elf" --no-pvm --shutdown-timeout 2 --cmdline "console=ttyS0 tiny.end=halt"
wait_line "acpi: halting" || true
t0=$(now_ms)
kill -PWR $pid
sleep 1
kill -PWR $pid 2>/dev/null || true
finish
took=$(( $(now_ms) - t0 ))
echo "# SIGPWR to a guest that ignores it, --shutdown-timeout 2: stopped after $took ms"
check "a guest that does not react: stopped with status 0 after --shutdown-timeout 2 (${took} ms)" sh -c "
    [ $rc -eq 0 ] && [ $took -ge 1900 ] && [ $took -lt 10000 ] &&
    grep -q 'the guest did not power off within 2 s: stopping the VM' '$tap_tmp/err'"
check "a second SIGPWR presses the button again" logged "pressing the ACPI power button again"
[ "$rc" -eq 0 ] || diag_output

# SIGTERM while the guest has time to power off still stops the VM at once.
start_bg --kernel "$tiny_elf" --no-pvm --shutdown-timeout 60 --cmdline "console=ttyS0 tiny.end=halt"
wait_line "acpi: halting" || true
kill -PWR $pid
sleep 0.5
t0=$(now_ms)
kill -TERM $pid 2>/dev/null || echo "# the VMM had ended before SIGTERM"
finish
took=$(( $(now_ms) - t0 ))
check "SIGTERM during a graceful stop: stops at once with status 0 (${took} ms)" sh -c "[ $rc -eq 0 ] &&
    [ $took -lt 5000 ] && grep -q 'received Terminated: stopping the VM' '$tap_tmp/err'"
[ "$rc" -eq 0 ] && grep -q "received Terminated" "$tap_tmp/err" || diag_output

tap_done
