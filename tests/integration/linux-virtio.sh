#!/bin/sh
# Boots the project's Linux test kernel (MICROVM_TEST_BZIMAGE) with an ext4 image
# on virtio-blk as root=/dev/vda ro, plus virtio-rng, virtio-vsock and, as root,
# virtio-net on a tap device in a network namespace of its own: one boot. The
# kernel must probe the disk with the image's size, mount it, get to running its
# /sbin/init (a script whose interpreter does not exist, so the kernel panics
# before user mode, which a PVM host cannot run, and panic=1 resets), and
# register eth0 (Linux 6.1's virtio_net sets DRIVER_OK only after
# register_netdevice(), and the VMM logs that at -v). A host program's vsock
# connection to a guest port nobody listens on must be refused by the guest's
# driver. The image must be unchanged.
# Usage: linux-virtio.sh MICROVM
set -eu
microvm=$1
here=$(dirname "$0")
. "$here/tap.sh"

kernel=${MICROVM_TEST_BZIMAGE:-}
if [ -z "$kernel" ]; then
    echo "1..0 # SKIP MICROVM_TEST_BZIMAGE not set: run scripts/test, which builds the Linux test kernel"
    exit 0
fi
skip_all_unless_kvm "Linux cannot boot"
if ! command -v mkfs.ext4 >/dev/null; then
    echo "1..0 # SKIP mkfs.ext4 (e2fsprogs) is missing: scripts/setup installs it"
    exit 0
fi

mkdir -p "$tap_tmp/root/sbin" "$tap_tmp/root/etc"
printf '#!/bin/sh\n' >"$tap_tmp/root/sbin/init"
chmod 755 "$tap_tmp/root/sbin/init"
echo "microvm virtio-blk root" >"$tap_tmp/root/etc/motd"
truncate -s 16M "$tap_tmp/root.img"
mkfs.ext4 -q -F -L mvroot -d "$tap_tmp/root" "$tap_tmp/root.img"
cp "$tap_tmp/root.img" "$tap_tmp/root.orig"
sectors=$(( $(stat -c %s "$tap_tmp/root.img") / 512 ))

# As root, the network device: a tap in a namespace of our own.
netns="" net_args=""
if [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null; then
    netns=microvm-linux-$$
    trap 'ip netns del "$netns" 2>/dev/null || true; rm -rf "$tap_tmp"' EXIT
    if ip netns add "$netns" && ip netns exec "$netns" ip tuntap add dev mvtap0 mode tap &&
        ip netns exec "$netns" ip link set mvtap0 up; then
        net_args="--net tap=mvtap0"
    else
        ip netns del "$netns" 2>/dev/null || true
        netns=""
    fi
fi

cmdline="console=ttyS0 reboot=k panic=1 nomodule 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.dumbkbd root=/dev/vda ro rootfstype=ext4"
# A host program asks for guest port 1234 as soon as the VMM listens; nothing in
# the guest listens there, so its vsock driver answers the VMM's REQUEST with RST.
python3 "$here/vsock-peer.py" "$tap_tmp/vsock" 1234 "$tap_tmp/vsock-peer" 780 &
peer=$!
start=$(date +%s)
# shellcheck disable=SC2086 # net_args is empty or two words
run ${netns:+ip netns exec "$netns"} timeout 800 "$microvm" -v --kernel "$kernel" --mem 128 \
    --cmdline "$cmdline" --drive "path=$tap_tmp/root.img,ro,id=rootfs" $net_args --rng \
    --vsock "cid=3,uds=$tap_tmp/vsock"
echo "# VMM exit after $(( $(date +%s) - start )) s wall, status $rc"
kill "$peer" 2>/dev/null || true
wait "$peer" 2>/dev/null || true
grep -E 'virtio|vda|EXT4|Run /sbin/init|Kernel panic' "$tap_tmp/out" | head -n 20 | sed 's/^/# guest: /'
grep 'driver ready' "$tap_tmp/err" | sed 's/^/# vmm: /'

check "the VMM exited 0 when the kernel panicked and reset (panic=1, reboot=k)" sh -c "[ $rc -eq 0 ]"
check "virtio-blk: the disk probed with the image's size ($sectors sectors)" \
    grep -q "virtio_blk virtio0: \[vda\] $sectors 512-byte logical blocks" "$tap_tmp/out"
check "ext4 mounted from vda" grep -q "EXT4-fs (vda): mounted filesystem" "$tap_tmp/out"
check "the root is vda, read-only" grep -q "VFS: Mounted root (ext4 filesystem) readonly on device [0-9]*:0" "$tap_tmp/out"
check "the kernel ran /sbin/init from the disk" grep -q "Run /sbin/init as init process" "$tap_tmp/out"
check "no virtio probe failed" sh -c "! grep -q 'probe of virtio[0-9]* failed' '$tap_tmp/out'"
check "virtio-blk: the driver set DRIVER_OK" grep -q "virtio-blk at 0xd0000000 (IRQ 5): driver ready" "$tap_tmp/err"
if [ -n "$netns" ]; then
    check "virtio-net: probed, a MAC chosen" grep -q "virtio_net virtio1: Assigned random MAC address" "$tap_tmp/out"
    check "virtio-net: eth0 registered (DRIVER_OK follows register_netdevice)" \
        grep -q "virtio-net at 0xd0001000 (IRQ 6): driver ready" "$tap_tmp/err"
    rng=0xd0002000 vsock=0xd0003000
else
    echo "# no virtio-net device: needs root, ip(8) and a tap device in a new network namespace"
    rng=0xd0001000 vsock=0xd0002000
fi
check "virtio-rng: the driver set DRIVER_OK" grep -q "virtio-rng at $rng (IRQ [0-9]*): driver ready" "$tap_tmp/err"
check "virtio-vsock: the driver set DRIVER_OK" grep -q "virtio-vsock at $vsock (IRQ [0-9]*): driver ready" "$tap_tmp/err"
check "virtio-vsock: the guest refused the host's connection to port 1234 (RST)" \
    grep -q "virtio-vsock: the guest reset connection 1234:[0-9]*" "$tap_tmp/err"
check "virtio-vsock: the host program was hung up on" grep -qx "eof" "$tap_tmp/vsock-peer"
check "no guest errors logged" sh -c "! grep -q 'guest error' '$tap_tmp/err'"
check "the read-only image is unchanged" cmp -s "$tap_tmp/root.img" "$tap_tmp/root.orig"
[ "$rc" -eq 0 ] && grep -q "EXT4-fs (vda): mounted" "$tap_tmp/out" || { tail -n 40 "$tap_tmp/out" | sed 's/^/# /'; diag_output; }

tap_done
