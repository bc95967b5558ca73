#!/bin/sh
# The virtio devices with the tiny guest's own driver (tiny.virtio=1): it writes,
# flushes and reads back a sector on each disk, reads past the end and reads the
# rng; the disk images are checked on the host afterwards. As root, a network
# namespace with a tap device: the guest's frame is seen on the host side and a
# frame from the host reaches the guest. Then the device options' errors.
# Usage: virtio.sh MICROVM TINY_ELF TINY_BZIMAGE
set -eu
microvm=$1 tiny_elf=$2 tiny_bz=$3
here=$(dirname "$0")
. "$here/tap.sh"

skip_all_unless_kvm "the guest cannot run"

# sector_fnv FILE N: FNV-1a (32-bit) of 512-byte sector N, as the guest prints it.
sector_fnv() {
    python3 -c '
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(512 * int(sys.argv[2]))
    data = f.read(512)
h = 0x811c9dc5
for b in data:
    h = ((h ^ b) * 0x01000193) & 0xffffffff
print("0x%08x" % h)' "$1" "$2"
}

# The sector the guest writes (tiny.c test_pattern), to a file.
python3 -c '
import sys
marker = b"tiny virtio-blk sector 1"
data = bytes(marker[i] if i < len(marker) else (i * 13 + 7) & 0xff for i in range(512))
open(sys.argv[1], "wb").write(data)' "$tap_tmp/pattern"

head -c 1048576 /dev/urandom >"$tap_tmp/rw.img"
head -c 1048576 /dev/urandom >"$tap_tmp/ro.img"
cp "$tap_tmp/rw.img" "$tap_tmp/rw.orig"
cp "$tap_tmp/ro.img" "$tap_tmp/ro.orig"
ro_fnv=$(sector_fnv "$tap_tmp/ro.img" 1)
pattern_fnv=$(sector_fnv "$tap_tmp/pattern" 0)

for fmt in elf bzimage; do
    [ $fmt = elf ] && image=$tiny_elf || image=$tiny_bz
    cp "$tap_tmp/rw.orig" "$tap_tmp/rw.img"
    run "$microvm" --kernel "$image" --no-pvm --mem 64 --cmdline "console=ttyS0 tiny.virtio=1" \
        --drive "path=$tap_tmp/rw.img" --drive "path=$tap_tmp/ro.img,ro,id=ro-disk" --rng
    check "$fmt: exits 0" sh -c "[ $rc -eq 0 ]"
    check "$fmt: announced on the command line" has_line "cmdline: console=ttyS0 tiny.virtio=1 virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.device=4K@0xd0002000:7"
    check "$fmt: three devices" has_line "virtio: devices=3"
    check "$fmt: rw disk: capacity, id" has_line "virtio-blk: base=0xd0000000 irq=5 capacity=2048 ro=0 id=drive0"
    check "$fmt: rw disk: write" sh -c "grep -A4 'irq=5 capacity' '$tap_tmp/out' | grep -qx 'virtio-blk: write sector=1 status=0'"
    check "$fmt: rw disk: flush" sh -c "grep -A4 'irq=5 capacity' '$tap_tmp/out' | grep -qx 'virtio-blk: flush status=0'"
    check "$fmt: rw disk: read back what was written" has_line "virtio-blk: read sector=1 status=0 fnv1a=$pattern_fnv written=yes"
    check "$fmt: rw disk: read past the end fails" sh -c "grep -A4 'irq=5 capacity' '$tap_tmp/out' | grep -qx 'virtio-blk: read-past-end status=1'"
    check "$fmt: ro disk: capacity, read-only, id" has_line "virtio-blk: base=0xd0001000 irq=6 capacity=2048 ro=1 id=ro-disk"
    check "$fmt: ro disk: write fails with IOERR" has_line "virtio-blk: write sector=1 status=1"
    check "$fmt: ro disk: read gives the image's sector" has_line "virtio-blk: read sector=1 status=0 fnv1a=$ro_fnv written=no"
    check "$fmt: ro disk: read past the end fails" sh -c "grep -A4 'irq=6 capacity' '$tap_tmp/out' | grep -qx 'virtio-blk: read-past-end status=1'"
    check "$fmt: rng gave 32 random bytes" has_line "virtio-rng: base=0xd0002000 irq=7 bytes=32 nonzero=yes"
    check "$fmt: guest finished" has_line "tiny: done"
    # On the host: sector 1 of the rw image is the pattern, every other byte unchanged.
    check "$fmt: rw image: sector 1 written" sh -c "dd if='$tap_tmp/rw.img' bs=512 skip=1 count=1 2>/dev/null | cmp -s - '$tap_tmp/pattern'"
    check "$fmt: rw image: the rest untouched" sh -c "cmp -s -n 512 '$tap_tmp/rw.img' '$tap_tmp/rw.orig' &&
        cmp -s -i 1024 '$tap_tmp/rw.img' '$tap_tmp/rw.orig'"
    check "$fmt: ro image unchanged" cmp -s "$tap_tmp/ro.img" "$tap_tmp/ro.orig"
    [ $rc -eq 0 ] && has_line "tiny: done" || diag_output
done

# A file size limit below the sector the guest writes (the jailer's --resource-limit
# fsize): that one write fails as an I/O error, logged, and the VM goes on. Its output
# goes through pipes, which the limit does not cover.
cp "$tap_tmp/rw.orig" "$tap_tmp/rw.img"
run python3 -c 'import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], capture_output=True,
                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512)))
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
sys.exit(p.returncode if p.returncode >= 0 else 128 - p.returncode)' \
    "$microvm" --kernel "$tiny_elf" --no-pvm --mem 64 --cmdline "console=ttyS0 tiny.virtio=1" \
    --drive "path=$tap_tmp/rw.img"
check "fsize limit below the write: exits 0, the guest finished" sh -c "[ $rc -eq 0 ] && grep -qx 'tiny: done' '$tap_tmp/out'"
check "fsize limit below the write: the write failed with IOERR, the flush and reads went on" sh -c "
    grep -qx 'virtio-blk: write sector=1 status=1' '$tap_tmp/out' && grep -qx 'virtio-blk: flush status=0' '$tap_tmp/out' &&
    grep -q '^virtio-blk: read sector=1 status=0 fnv1a=0x[0-9a-f]* written=no\$' '$tap_tmp/out'"
check "fsize limit below the write: logged, the image unchanged" sh -c "
    grep -q 'virtio-blk at 0xd0000000: write: File too large' '$tap_tmp/err' && cmp -s '$tap_tmp/rw.img' '$tap_tmp/rw.orig'"
[ $rc -eq 0 ] || diag_output

# The most devices there are interrupt lines for: 16 drives, net is left out, rng.
set --
for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    set -- "$@" --drive "path=$tap_tmp/ro.img,ro,id=d$i"
done
run "$microvm" --kernel "$tiny_elf" --no-pvm --mem 64 --cmdline "console=ttyS0" "$@" --rng
check "17 devices boot, the last at IRQ 21" sh -c "[ $rc -eq 0 ] && grep -q 'virtio_mmio.device=4K@0xd0010000:21\$' '$tap_tmp/out'"

# Errors: one line, the right status.
run "$microvm" --kernel "$tiny_elf" --drive "path=$tap_tmp/missing.img"
check "missing disk image: exit 1, one line" sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$tap_tmp/err') -eq 1 ] && grep -q 'missing.img: cannot open' '$tap_tmp/err'"
run "$microvm" --kernel "$tiny_elf" --drive "path=$tap_tmp"
check "directory as disk image" sh -c "[ $rc -eq 1 ] && grep -q 'cannot open: Is a directory' '$tap_tmp/err'"
run "$microvm" --kernel "$tiny_elf" --drive "path=/dev/null,ro"
check "device node as read-only disk image" sh -c "[ $rc -eq 1 ] && grep -q 'not a regular file' '$tap_tmp/err'"
for bad in "ro" "path=" "path=a,rw" "path=a,ro,ro" "path=a,id=way-too-long-a-serial-number" "path=a,id=x/y" "path=a,,ro"; do
    run "$microvm" --kernel "$tiny_elf" --drive "$bad"
    check "--drive '$bad': usage error" sh -c "[ $rc -eq 2 ] && head -n 1 '$tap_tmp/err' | grep -q -- '--drive'"
done
run "$microvm" --kernel "$tiny_elf" --drive path=a,id=x --drive path=b,id=x
check "--drive ids must differ" sh -c "[ $rc -eq 2 ] && grep -q \"id 'x' used twice\" '$tap_tmp/err'"
for bad in "tap=" "tap=a/b" "tap=0123456789abcdef" "tap=t,mac=01:00:00:00:00:01" "tap=t,mac=02:00:00:00:00" "mac=02:00:00:00:00:01" "tap=t,tap=u"; do
    run "$microvm" --kernel "$tiny_elf" --net "$bad"
    check "--net '$bad': usage error" sh -c "[ $rc -eq 2 ] && head -n 1 '$tap_tmp/err' | grep -q -- '--net'"
done
for bad in "cid=2,uds=/tmp/v" "cid=4294967295,uds=/tmp/v" "cid=3" "uds=/tmp/v" "cid=x,uds=/tmp/v" "cid=3,uds=$(printf '%0100d' 0)"; do
    run "$microvm" --kernel "$tiny_elf" --vsock "$bad"
    check "--vsock '$bad': usage error" sh -c "[ $rc -eq 2 ] && head -n 1 '$tap_tmp/err' | grep -q -- '--vsock'"
done

# The network: a namespace of our own, a tap in it, a peer on the tap.
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
    echo "# skipping the virtio-net test: needs root and ip(8)"
    tap_done
    exit $?
fi
ns=microvm-virtio-$$
cleanup_ns() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tap_tmp"; }
trap cleanup_ns EXIT
if ! { ip netns add "$ns" && ip netns exec "$ns" ip tuntap add dev mvtap0 mode tap &&
       ip netns exec "$ns" ip link set mvtap0 up; }; then
    echo "# skipping the virtio-net test: cannot make a network namespace with a tap device"
    tap_done
    exit $?
fi
ip netns exec "$ns" python3 "$here/tap-peer.py" mvtap0 "$tap_tmp/peer" 60 &
peer=$!
sleep 0.5
run ip netns exec "$ns" "$microvm" --kernel "$tiny_elf" --no-pvm --mem 64 \
    --cmdline "console=ttyS0 tiny.virtio=1 tiny.net-rx=1" --net tap=mvtap0,mac=02:aa:bb:cc:dd:ee
kill "$peer" 2>/dev/null || true
wait "$peer" 2>/dev/null || true
check "net: exits 0" sh -c "[ $rc -eq 0 ]"
check "net: the guest sent its frame" has_line "virtio-net: base=0xd0000000 irq=5 mac=02:aa:bb:cc:dd:ee tx=done"
# ff..ff, the guest's MAC, EtherType 88b5, "microvm tiny guest frame", zero padding to 60 bytes.
frame=ffffffffffff02aabbccddee88b5$(printf 'microvm tiny guest frame' | od -An -tx1 | tr -d ' \n')$(printf '%044d' 0)
check "net: the host saw exactly that frame on the tap" sh -c "[ \"\$(sort -u '$tap_tmp/peer')\" = '$frame' ]"
check "net: the host's frame reached the guest" has_line "virtio-net: rx len=60 num_buffers=1 payload=microvm host frame"
check "net: the tap counted the guest's frame" sh -c "ip netns exec '$ns' ip -s link show mvtap0 | awk '/RX:/ { getline; print \$2 }' | grep -qx 1"
[ $rc -eq 0 ] && has_line "tiny: done" || diag_output

tap_done
