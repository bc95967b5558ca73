#!/bin/sh
# Snapshot and restore with the tiny guest: it boots, reports, and polls COM1 for a
# byte (tiny.wait=1); it is paused and snapshotted through the API, its VMM killed,
# and a fresh VMM restores it, through PUT /snapshot/load and through --snapshot: the
# guest goes on from where it was (the byte it gets, then the rest of its report and
# its reset). Two VMMs restore one snapshot at once. Firecracker's rules (create only
# when paused, load only on a fresh VMM) and refused files: corrupted, truncated, of
# another version, with the wrong memory file, asking for CPU features the host lacks
# (edited in with scripts of the test), whose ACPI tables describe devices elsewhere;
# each refused with one line, nothing started. The power button pressed before a
# snapshot is pressed still after the restore. A config file's snapshot-load restores
# as PUT /snapshot/load does, for hosts without the API. A guest with a balloon and
# rate-limited devices keeps them: GET /balloon and GET /vm/config answer as before.
# Usage: snapshot.sh MICROVM TINY_ELF
set -eu
microvm=$1 tiny_elf=$2
here=$(dirname "$0")
. "$here/tap.sh"

skip_all_unless_kvm "the snapshot tests cannot run"
. "$here/api-client.sh"

wait_for_line() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
    grep -q "$2" "$1" 2>/dev/null
}
# wait_exit PID: its exit status, or 124 after 20 s (then it is killed).
wait_exit() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
    if kill -0 "$1" 2>/dev/null; then
        kill -9 "$1"
        wait "$1" 2>/dev/null || true
        return 124
    fi
    set +e
    wait "$1"
    st=$?
    set -e
    return $st
}
# start NAME ARGS...: a VMM in the background, stdin from the fifo NAME.in (held open
# on fd 3 for the first, 4 for the second), output in NAME.out and NAME.err.
start() {
    name=$1
    shift
    rm -f "$tap_tmp/$name.in"
    mkfifo "$tap_tmp/$name.in"
    "$microvm" "$@" <"$tap_tmp/$name.in" >"$tap_tmp/$name.out" 2>"$tap_tmp/$name.err" &
    pid=$!
}
diag_files() {
    for f in "$@"; do sed "s|^|# $(basename "$f"): |" "$f" | tail -n 20; done
}

snap=$tap_tmp/vm.snap mem=$tap_tmp/vm.mem
head -c 1048576 /dev/zero >"$tap_tmp/disk.img"

# ---- the original: boot, report, wait for a byte ----
sock=$tap_tmp/a.sock
start a --api-sock "$sock" --kernel "$tiny_elf" --mem 64 --no-pvm \
    --cmdline "console=ttyS0 tiny.wait=1 tiny.virtio=1 tiny.snapshot=1" \
    --drive "path=$tap_tmp/disk.img,id=disk0" --rng --vsock "cid=3,uds=$tap_tmp/a.vsock"
a=$pid
exec 3>"$tap_tmp/a.in"
check "the guest boots, drives its devices and waits for a byte" wait_for_line "$tap_tmp/a.out" "^wait: ready"
check "... its virtio-blk wrote and read back a sector" grep -q "^virtio-blk: read sector=1 status=0 .* written=yes" "$tap_tmp/a.out"
api PUT /snapshot/create "{\"snapshot_path\": \"$snap\", \"mem_file_path\": \"$mem\"}"
expect "PUT /snapshot/create while running: 400" 400 "pause it first"
api PATCH /vm '{"state": "Paused"}'
expect "PATCH /vm Paused" 204
api PUT /snapshot/create "{\"snapshot_path\": \"$snap\", \"mem_file_path\": \"$mem\", \"snapshot_type\": \"Diff\"}"
expect "PUT /snapshot/create, Diff: 400" 400 "only Full"
api PUT /snapshot/create "{\"snapshot_path\": \"$tap_tmp/nodir/vm.snap\", \"mem_file_path\": \"$mem\"}"
expect "PUT /snapshot/create into a missing directory: 400, naming it" 400 "$tap_tmp/nodir/vm.snap"
api PUT /snapshot/create "{\"snapshot_path\": \"$snap\", \"mem_file_path\": \"$mem\", \"snapshot_type\": \"Full\"}"
expect "PUT /snapshot/create" 204
check "the memory file is the guest's RAM, sparse" python3 -c '
import os, sys
st = os.stat(sys.argv[1])
assert st.st_size == 64 << 20, st.st_size
assert st.st_blocks * 512 < 16 << 20, st.st_blocks
' "$mem"
check "the VMM still runs after the snapshot (paused)" kill -0 $a
kill -9 $a
wait $a 2>/dev/null || true
exec 3>&-
check "the original VMM is gone, before its guest got a byte" sh -c "! grep -q '^wait: got' '$tap_tmp/a.out'"
rm -f "$tap_tmp/a.vsock"

# ---- restore through the API, resume_vm true ----
sock=$tap_tmp/b.sock
start b --api-sock "$sock"
b=$pid
exec 3>"$tap_tmp/b.in"
wait_for_socket "$sock"
api PUT /snapshot/create "{\"snapshot_path\": \"$tap_tmp/x\", \"mem_file_path\": \"$tap_tmp/y\"}"
expect "PUT /snapshot/create before start: 400" 400 "not started"
api PUT /snapshot/load "{\"snapshot_path\": \"$snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$mem\"}, \"resume_vm\": true}"
expect "PUT /snapshot/load" 204
api GET /
expect "GET / after the load: Running" 200 '"state":"Running"'
api PUT /snapshot/load "{\"snapshot_path\": \"$snap\", \"mem_file_path\": \"$mem\"}"
expect "PUT /snapshot/load after start: 400" 400 "only before InstanceStart"
check "the restored VM listens on the snapshot's vsock socket" wait_for_socket "$tap_tmp/a.vsock"
printf A >&3
check "the restored guest goes on: it gets the byte" wait_for_line "$tap_tmp/b.out" "^wait: got 0x41"
check "the restored guest finishes its report" wait_for_line "$tap_tmp/b.out" "^tiny: done"
check "... and reads its sector again through the restored queue" grep -q "^virtio-blk: again base=0xd0000000 status=0 written=yes" "$tap_tmp/b.out"
check "the restored guest never started over" sh -c "! grep -q '^tiny: hello' '$tap_tmp/b.out'"
set +e; wait_exit $b; rc=$?; set -e
check "the restored VMM exits 0 on the guest's reset" [ $rc -eq 0 ] || diag_files "$tap_tmp/b.out" "$tap_tmp/b.err"
exec 3>&-
rm -f "$tap_tmp/a.vsock"

# ---- twice at once from one snapshot (--snapshot), then resume_vm false ----
start c --snapshot "$snap" --mem-file "$mem"
c=$pid
exec 3>"$tap_tmp/c.in"
sock=$tap_tmp/d.sock
start d --api-sock "$sock"
d=$pid
exec 4>"$tap_tmp/d.in"
wait_for_socket "$sock"
api PUT /snapshot/load "{\"snapshot_path\": \"$snap\", \"mem_file_path\": \"$mem\", \"vsock_override\": {\"uds_path\": \"$tap_tmp/d.vsock\"}}"
expect "a second VMM loads the same snapshot at once, resume_vm false, its own vsock socket" 204
check "... with its socket at the override" wait_for_socket "$tap_tmp/d.vsock"
api GET /
expect "GET /: Paused" 200 '"state":"Paused"'
api PUT /snapshot/create "{\"snapshot_path\": \"$tap_tmp/d2.snap\", \"mem_file_path\": \"$mem\"}"
expect "a restored VM will not truncate the memory file it is mapped from: 400" 400 "the memory file this VM was restored from"
api PUT /snapshot/create "{\"snapshot_path\": \"$mem\", \"mem_file_path\": \"$tap_tmp/d2.mem\"}"
expect "... not as its vmstate either" 400 "snapshot_path $mem: the memory file this VM was restored from"
api PUT /snapshot/create "{\"snapshot_path\": \"$tap_tmp/d2.snap\", \"mem_file_path\": \"$tap_tmp/d2.mem\"}"
expect "a restored VM is snapshotted again" 204
printf B >&3
check "--snapshot: the first goes on" wait_for_line "$tap_tmp/c.out" "^wait: got 0x42"
check "--snapshot: its restored queue serves the read" wait_for_line "$tap_tmp/c.out" "^virtio-blk: again base=0xd0000000 status=0 written=yes"
set +e; wait_exit $c; rc=$?; set -e
check "--snapshot: exits 0 at the guest's reset" [ $rc -eq 0 ] || diag_files "$tap_tmp/c.out" "$tap_tmp/c.err"
printf C >&4
sleep 0.5
check "the paused one waits" sh -c "! grep -q '^wait: got' '$tap_tmp/d.out'"
api PATCH /vm '{"state": "Resumed"}'
expect "PATCH /vm Resumed" 204
check "then goes on, with its own byte" wait_for_line "$tap_tmp/d.out" "^wait: got 0x43"
set +e; wait_exit $d; rc=$?; set -e
check "and exits 0" [ $rc -eq 0 ] || diag_files "$tap_tmp/d.out" "$tap_tmp/d.err"
exec 3>&- 4>&-
rm -f "$tap_tmp/d.vsock"
start h --snapshot "$tap_tmp/d2.snap" --mem-file "$tap_tmp/d2.mem"
h=$pid
exec 3>"$tap_tmp/h.in"
printf F >&3
check "the snapshot of the restored VM restores too, at its wait" wait_for_line "$tap_tmp/h.out" "^wait: got 0x46"
set +e; wait_exit $h; rc=$?; set -e
check "... and resets, status 0" [ $rc -eq 0 ] || diag_files "$tap_tmp/h.out" "$tap_tmp/h.err"
exec 3>&-
# The first of them made the snapshot's own socket, which outlives its VMM.
check "--snapshot made the snapshot's vsock socket" [ -S "$tap_tmp/a.vsock" ]
rm -f "$tap_tmp/a.vsock"

# ---- two vCPUs: the secondary's state (started by the guest, halted) comes back too ----
sock=$tap_tmp/f.sock
start f --api-sock "$sock" --kernel "$tiny_elf" --vcpus 2 --no-pvm --cmdline "console=ttyS0 tiny.wait=1"
f=$pid
exec 3>"$tap_tmp/f.in"
check "2 vCPUs: the guest starts its secondary and waits" wait_for_line "$tap_tmp/f.out" "^wait: ready"
api PATCH /vm '{"state": "Paused"}'
api PUT /snapshot/create "{\"snapshot_path\": \"$tap_tmp/smp.snap\", \"mem_file_path\": \"$tap_tmp/smp.mem\"}"
expect "2 vCPUs: snapshot created" 204
kill -9 $f
wait $f 2>/dev/null || true
exec 3>&-
start g --snapshot "$tap_tmp/smp.snap" --mem-file "$tap_tmp/smp.mem"
g=$pid
exec 3>"$tap_tmp/g.in"
printf E >&3
check "2 vCPUs: the restored guest goes on" wait_for_line "$tap_tmp/g.out" "^wait: got 0x45"
set +e; wait_exit $g; rc=$?; set -e
check "2 vCPUs: and resets, status 0" [ $rc -eq 0 ] || diag_files "$tap_tmp/g.out" "$tap_tmp/g.err"
exec 3>&-

# ---- the power button: pressed before the snapshot, the restored guest is still asked ----
# A guest that ignores the button (tiny.end=halt): the restored VMM stops it after its
# own --shutdown-timeout, as the original would have after its own.
sock=$tap_tmp/p.sock
start p --api-sock "$sock" --kernel "$tiny_elf" --no-pvm --shutdown-timeout 60 \
    --cmdline "console=ttyS0 tiny.wait=1 tiny.end=halt"
p=$pid
exec 3>"$tap_tmp/p.in"
check "power button: the guest waits" wait_for_line "$tap_tmp/p.out" "^wait: ready"
kill -PWR $p
check "power button: SIGPWR presses it" wait_for_line "$tap_tmp/p.err" "pressing the ACPI power button: the guest has 60 s"
api PATCH /vm '{"state": "Paused"}'
api PUT /snapshot/create "{\"snapshot_path\": \"$tap_tmp/pwr.snap\", \"mem_file_path\": \"$tap_tmp/pwr.mem\"}"
expect "power button: snapshot created" 204
kill -9 $p
wait $p 2>/dev/null || true
exec 3>&-
start q --snapshot "$tap_tmp/pwr.snap" --mem-file "$tap_tmp/pwr.mem" --shutdown-timeout 1
q=$pid
exec 3>"$tap_tmp/q.in"
printf G >&3
check "power button: the restored guest goes on, and halts" wait_for_line "$tap_tmp/q.out" "^acpi: halting"
set +e; wait_exit $q; rc=$?; set -e
check "power button: the restored VMM stops it after its own --shutdown-timeout 1, status 0" \
    [ $rc -eq 0 ] || diag_files "$tap_tmp/q.out" "$tap_tmp/q.err"
check "... saying the button was pressed before the snapshot, then why it stopped" sh -c "
    grep -q 'power button was pressed before it: it has 1 s to power off' '$tap_tmp/q.err' &&
    grep -q 'the guest did not power off within 1 s' '$tap_tmp/q.err'"
exec 3>&-

# ---- the config file's snapshot-load, for hosts without the API ----
printf '{"snapshot-load": {"snapshot_path": "%s", "mem_backend": {"backend_type": "File", "backend_path": "%s"}, "resume_vm": true, "vsock_override": {"uds_path": "%s"}}, "logger": {"log_path": "%s", "level": "Info"}}' \
    "$snap" "$mem" "$tap_tmp/k.vsock" "$tap_tmp/k.log" >"$tap_tmp/load.json"
start k --config-file "$tap_tmp/load.json"
k=$pid
exec 3>"$tap_tmp/k.in"
check "config file snapshot-load: its vsock socket at the override" wait_for_socket "$tap_tmp/k.vsock"
printf H >&3
check "config file snapshot-load: the restored guest goes on" wait_for_line "$tap_tmp/k.out" "^wait: got 0x48"
check "... its restored queue serves the read" wait_for_line "$tap_tmp/k.out" "^virtio-blk: again base=0xd0000000 status=0 written=yes"
set +e; wait_exit $k; rc=$?; set -e
check "... it exits 0 at the reset, having logged to the config file's logger" sh -c "
    [ $rc -eq 0 ] && grep -q 'snapshot $snap loaded in' '$tap_tmp/k.log'" || diag_files "$tap_tmp/k.out" "$tap_tmp/k.err"
exec 3>&-
printf '{"snapshot-load": {"snapshot_path": "%s", "mem_file_path": "%s", "vsock_override": {"uds_path": "%s"}}}' \
    "$snap" "$mem" "$tap_tmp/l.vsock" >"$tap_tmp/load-paused.json"
sock=$tap_tmp/l.sock
start l --config-file "$tap_tmp/load-paused.json" --api-sock "$sock"
l=$pid
exec 3>"$tap_tmp/l.in"
wait_for_socket "$sock"
api GET /
expect "config file snapshot-load, resume_vm false, with the API: Paused" 200 '"state":"Paused"'
api PATCH /vm '{"state": "Resumed"}'
expect "... PATCH /vm Resumed" 204
printf I >&3
check "... then the guest goes on" wait_for_line "$tap_tmp/l.out" "^wait: got 0x49"
set +e; wait_exit $l; rc=$?; set -e
check "... and exits 0" [ $rc -eq 0 ] || diag_files "$tap_tmp/l.out" "$tap_tmp/l.err"
exec 3>&-
rm -f "$tap_tmp/a.vsock"

# ---- refused snapshots: one line, nothing started ----
# edit MODE OUT: a copy of the snapshot, broken as MODE says.
edit() {
    python3 - "$1" "$snap" "$2" <<'PY'
import struct, sys, zlib
mode, src, out = sys.argv[1:4]
b = bytearray(open(src, "rb").read())
def reseal():
    b[-8:-4] = struct.pack("<I", zlib.crc32(bytes(b[:-8])))
def sections():
    off = 24
    while off < len(b) - 8:
        tag, index, length = struct.unpack_from("<IIQ", b, off)
        yield off, tag, index, length
        off += 16 + ((length + 7) & ~7)
if mode == "corrupt":
    b[len(b) // 2] ^= 0x40
elif mode == "truncate":
    del b[len(b) - 100:]
elif mode == "version":
    b[8:12] = struct.pack("<I", 7)
    reseal()
elif mode == "cpu":
    # vCPU 0's CPUID: leaf 7 EBX all ones, a feature set no host has whole.
    for off, tag, index, length in sections():
        if tag == 3 and index == 0:
            count = struct.unpack_from("<I", b, off + 16)[0]
            for i in range(count):
                e = off + 24 + 40 * i
                if struct.unpack_from("<I", b, e)[0] == 7 and struct.unpack_from("<I", b, e + 4)[0] == 0:
                    b[e + 16:e + 20] = b"\xff\xff\xff\xff"
    reseal()
elif mode == "platform":
    # the ACPI section's slot 0 on IRQ 6, a line the restored VMM gives device 1.
    for off, tag, index, length in sections():
        if tag == 9 and index == 0:
            b[off + 32:off + 36] = struct.pack("<I", 6)
    reseal()
elif mode == "config":
    # the VM's description names a snapshot to load: rebuilt, each section padded to 8.
    out_secs = []
    for off, tag, index, length in sections():
        data = bytes(b[off + 16:off + 16 + length])
        if tag == 2:
            data = data[:-1] + b', "snapshot-load": {"snapshot_path": "x", "mem_file_path": "y"}}'
        out_secs.append(struct.pack("<IIQ", tag, index, len(data)) + data + bytes(-len(data) % 8))
    body = b"".join(out_secs)
    b = bytearray(b[:12] + struct.pack("<IQ", len(out_secs), len(body)) + body + bytes(8))
    reseal()
elif mode == "queue":
    # device 0's first queue: its used ring beyond guest RAM, re-checked as at QUEUE_READY.
    for off, tag, index, length in sections():
        if tag == 8 and index == 0:
            q = off + 16 + 48
            if b[q + 32] == 1:
                b[q + 16:q + 24] = struct.pack("<Q", 1 << 40)
    reseal()
open(out, "wb").write(bytes(b))
PY
}
sock=$tap_tmp/e.sock
start e --api-sock "$sock"
e=$pid
exec 3>"$tap_tmp/e.in"
wait_for_socket "$sock"
load_bad() {
    api PUT /snapshot/load "{\"snapshot_path\": \"$1\", \"mem_file_path\": \"${2:-$mem}\"}"
}
edit corrupt "$tap_tmp/bad"
load_bad "$tap_tmp/bad"
expect "a corrupted snapshot: 400, the checksum" 400 "checksum"
edit truncate "$tap_tmp/bad"
load_bad "$tap_tmp/bad"
expect "a truncated snapshot: 400" 400 "truncated"
edit version "$tap_tmp/bad"
load_bad "$tap_tmp/bad"
expect "a snapshot of another format version: 400" 400 "format version 7: this microvm reads version 3 only"
edit cpu "$tap_tmp/bad"
load_bad "$tap_tmp/bad"
expect "a snapshot needing CPU features this host lacks: 400, naming them" 400 "the snapshot needs CPU features this host lacks: CPUID leaf 0x7.0 ebx bits"
head -c 4096 /dev/zero >"$tap_tmp/short.mem"
load_bad "$snap" "$tap_tmp/short.mem"
expect "a memory file shorter than the guest's RAM: 400, naming it" 400 "memory file $tap_tmp/short.mem: cannot map 67108864 bytes of it"
load_bad "$tap_tmp/missing.snap"
expect "a missing snapshot: 400, naming it" 400 "$tap_tmp/missing.snap"
api GET /
expect "nothing started: the VMM is still Not started" 200 '"state":"Not started"'
check "no vsock socket was made for the refused ones" [ ! -e "$tap_tmp/a.vsock" ]
edit config "$tap_tmp/bad"
load_bad "$tap_tmp/bad"
expect "a snapshot whose VM description names another snapshot to load: 400" 400 "its configuration has a snapshot-load section"
edit queue "$tap_tmp/bad"
load_bad "$tap_tmp/bad"
expect "a snapshot whose queue leaves guest memory: 400" 400 "cannot build the VM"
check "... the log names the device and why" grep -q "device 0 (virtio-blk at 0xd0000000): used ring outside guest RAM" "$tap_tmp/e.err"
# That one failed after its devices were opened: its vsock socket is left, as a VMM's always is.
rm -f "$tap_tmp/a.vsock"
edit platform "$tap_tmp/bad2"
load_bad "$tap_tmp/bad2"
expect "a snapshot whose ACPI tables put a device where this VMM does not: 400, naming both" 400 \
    "the snapshot's ACPI tables put device 0 at 0xd0000000 IRQ 6, its configuration at 0xd0000000 IRQ 5"
rm -f "$tap_tmp/a.vsock"
api PUT /snapshot/load "{\"snapshot_path\": \"$snap\", \"mem_file_path\": \"$mem\", \"resume_vm\": true}"
expect "after every refusal, the same VMM loads the good snapshot" 204
printf D >&3
check "... and its guest goes on" wait_for_line "$tap_tmp/e.out" "^wait: got 0x44"
set +e; wait_exit $e; rc=$?; set -e
check "... to its reset" [ $rc -eq 0 ] || diag_files "$tap_tmp/e.out" "$tap_tmp/e.err"
exec 3>&-
rm -f "$tap_tmp/a.vsock"
run "$microvm" --snapshot "$tap_tmp/bad" --mem-file "$mem"
check "--snapshot, the queue beyond memory: exit 1" [ $rc -eq 1 ]
edit corrupt "$tap_tmp/bad"
run "$microvm" --snapshot "$tap_tmp/bad" --mem-file "$mem"
check "--snapshot with a corrupted file: exit 1, one line" sh -c "[ $rc -eq 1 ] && [ \$(grep -c . '$tap_tmp/err') -eq 1 ] && grep -q checksum '$tap_tmp/err'" || diag_output
# ---- a balloon and rate limiters survive a restore ----
# The limits are wide enough that the tiny guest's few requests pass; the snapshot's
# description rebuilds them, and the balloon takes its saved state (its target as the
# PATCH before the snapshot left it).
sock=$tap_tmp/f.sock
start f --api-sock "$sock" --kernel "$tiny_elf" --mem 64 --no-pvm \
    --cmdline "console=ttyS0 tiny.wait=1 tiny.virtio=1 tiny.snapshot=1" \
    --drive "path=$tap_tmp/disk.img,id=disk0,bw=1048576:100:4096,ops=100:1000" \
    --rng=bw=65536:1000 --balloon amount_mib=4,deflate_on_oom,stats_polling_interval_s=1
f=$pid
exec 3>"$tap_tmp/f.in"
check "a guest with a balloon and limited devices boots and waits" wait_for_line "$tap_tmp/f.out" "^wait: ready"
api PATCH /balloon '{"amount_mib": 8}'
expect "PATCH /balloon 8 MiB" 204
api GET /balloon
cp "$tap_tmp/body" "$tap_tmp/balloon.before"
api GET /vm/config
cp "$tap_tmp/body" "$tap_tmp/config.before"
api PATCH /vm '{"state": "Paused"}'
expect "... paused" 204
api PUT /snapshot/create "{\"snapshot_path\": \"$tap_tmp/f.snap\", \"mem_file_path\": \"$tap_tmp/f.mem\"}"
expect "... snapshotted" 204
kill -9 $f
wait $f 2>/dev/null || true
exec 3>&-
sock=$tap_tmp/g.sock
start g --api-sock "$sock"
g=$pid
exec 3>"$tap_tmp/g.in"
wait_for_socket "$sock"
api PUT /snapshot/load "{\"snapshot_path\": \"$tap_tmp/f.snap\", \"mem_file_path\": \"$tap_tmp/f.mem\", \"resume_vm\": true}"
expect "the balloon's snapshot loads" 204
api GET /balloon
check "GET /balloon after the restore answers as before it" cmp -s "$tap_tmp/body" "$tap_tmp/balloon.before"
expect "... the target PATCH set, deflate_on_oom and the statistics interval" 200 \
    '"amount_mib":8,"deflate_on_oom":true,"stats_polling_interval_s":1'
api GET /balloon/statistics
expect "GET /balloon/statistics: the restored device's target" 200 '"target_pages":2048'
api GET /vm/config
# A restored VM was not booted from a kernel: its description has no boot-source.
check "GET /vm/config after the restore answers as before it, but for the boot source" python3 -c '
import json, sys
before, after = (json.load(open(f)) for f in sys.argv[1:3])
before.pop("boot-source")
assert before == after, (before, after)
' "$tap_tmp/config.before" "$tap_tmp/body"
expect "... the drive's rate limiter" 200 \
    '"rate_limiter":{"bandwidth":{"size":1048576,"one_time_burst":4096,"refill_time":100},"ops":{"size":100,"one_time_burst":0,"refill_time":1000}}'
expect "... the entropy device's" 200 '"entropy":{"rate_limiter":{"bandwidth":{"size":65536,"one_time_burst":0,"refill_time":1000}}}'
printf F >&3
check "the restored guest goes on" wait_for_line "$tap_tmp/g.out" "^wait: got 0x46"
check "... and reads its sector through the restored, limited queue" \
    wait_for_line "$tap_tmp/g.out" "^virtio-blk: again base=0xd0000000 status=0 written=yes"
set +e; wait_exit $g; rc=$?; set -e
check "... to its reset" [ $rc -eq 0 ] || diag_files "$tap_tmp/g.out" "$tap_tmp/g.err"
exec 3>&-

tap_done
