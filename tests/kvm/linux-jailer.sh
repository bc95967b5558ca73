#!/bin/sh
# Under real KVM, the design's own command line: jailer --id ID -- microvm
# --kernel bzImage --initrd ..., with a disk and a tap (in a network namespace
# the jailer joins with --netns, as an operator sets one up). Guest user space
# runs and writes to the disk and sends over TCP in a loop; meanwhile every
# thread of the jailed VMM has a seccomp filter (Seccomp: 2), no capability in
# any set, and a non-zero uid. SIGTERM to the jailer then stops the VM (status 0).
# Usage: linux-jailer.sh MICROVM JAILER XFER
set -eu
microvm=$(realpath "$1") jailer=$(realpath "$2") xfer=$(realpath "$3")
. "$(dirname "$0")/lib.sh"
require_guest_env
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP the jailer needs root"
    exit 0
fi

id=linux-jailer-$$
netns=mvjail$$
base=$tap_tmp/jails
host=169.254.20.1 guest=169.254.20.2
ip netns add "$netns"
trap 'ip netns del "$netns" 2>/dev/null || true; rm -rf "$tap_tmp"' EXIT
ip -n "$netns" tuntap add dev tap0 mode tap user 65534 group 65534
ip -n "$netns" addr add "$host/24" dev tap0
ip -n "$netns" link set tap0 up
# One long TCP stream from the guest; it ends when the VM does.
ip netns exec "$netns" "$xfer" recv tcp-listen:5000 "$tap_tmp/sink.bin" 2>"$tap_tmp/sink.log" &
sink=$!

mkdir -p "$tap_tmp/vm" "$base"
cp "$MICROVM_TEST_BZIMAGE" "$tap_tmp/vm/bzImage"
truncate -s 16M "$tap_tmp/vm/data.img"
chown 65534:65534 "$tap_tmp/vm/data.img"
guest_initramfs "$tap_tmp/vm/initrd" "
ip addr add $guest/24 dev eth0
ip link set eth0 up
(while :; do dd if=/dev/urandom bs=64k count=16 2>/dev/null; done) | xfer send tcp:$host:5000 /proc/self/fd/0 &
echo io-running
i=0
while :; do
    dd if=/dev/urandom of=/dev/vda bs=64k count=16 seek=\$((i % 16 * 16)) conv=fsync 2>/dev/null
    i=\$((i + 1))
done" "$xfer"
cp "$tap_tmp/vm/data.img" "$tap_tmp/data.orig"

cd "$tap_tmp/vm"
# --rng seeds the guest's CRNG at boot, as in linux-net.sh: its dd from /dev/urandom
# otherwise waited on timer jitter, and the guest sent nothing for minutes.
boot_bg jailed "$jailer" --id "$id" --chroot-base-dir "$base" --netns "/run/netns/$netns" -- \
    "$microvm" --kernel bzImage --initrd initrd --mem 256 --vcpus 2 \
    --drive path=data.img --net tap=tap0 --rng
cd - >/dev/null
pidfile=$base/microvm/$id/microvm.pid
# The checks below run while the guest's disk writes and TCP stream are under way.
streaming() {
    i=0
    while [ "$i" -lt 1200 ]; do
        [ "$(stat -c %s "$tap_tmp/sink.bin" 2>/dev/null || echo 0)" -ge 1048576 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
if wait_for "$tap_tmp/jailed.raw" '^io-running' 240 && streaming && [ -s "$pidfile" ]; then
    vmm=$(cat "$pidfile")
    threads=0 filtered=0 capless=0 unprivileged=0
    for status in /proc/"$vmm"/task/*/status; do
        threads=$((threads + 1))
        grep -q '^Seccomp:[[:space:]]*2$' "$status" && filtered=$((filtered + 1))
        [ "$(grep -c -E '^Cap(Inh|Prm|Eff|Bnd|Amb):[[:space:]]*0+$' "$status")" -eq 5 ] &&
            capless=$((capless + 1))
        awk '/^Uid:/ { exit !($2 != 0 && $3 != 0 && $4 != 0 && $5 != 0) }' "$status" &&
            unprivileged=$((unprivileged + 1))
    done
    echo "# jailed VMM pid $vmm: $threads threads"
    grep -h '^Name:' /proc/"$vmm"/task/*/status | sed 's/^/# thread /'
    check "the VMM runs its vCPU, I/O and main threads (at least 4)" [ "$threads" -ge 4 ]
    check "every thread has a seccomp filter (Seccomp: 2)" [ "$filtered" -eq "$threads" ]
    check "no thread has a capability in any set" [ "$capless" -eq "$threads" ]
    check "every thread runs with non-zero uids" [ "$unprivileged" -eq "$threads" ]
    kill -TERM "$vmm_pid"
    finish_bg jailed
    check "SIGTERM to the jailer stopped the VM with status 0" [ "$rc" -eq 0 ]
    check "the guest's disk writes reached the image" sh -c "! cmp -s '$tap_tmp/vm/data.img' '$tap_tmp/data.orig'"
else
    kill -KILL "$vmm_pid" 2>/dev/null || true
    finish_bg jailed
    not_ok "the jailed guest reached user space and started its I/O"
    sed 's/^/# sink: /' "$tap_tmp/sink.log"
fi
kill "$sink" 2>/dev/null || true
wait "$sink" 2>/dev/null || true
check "guest user space ran" grep -q '^microvm-guest: user space up' "$tap_tmp/jailed.out"
received=$(stat -c %s "$tap_tmp/sink.bin" 2>/dev/null || echo 0)
echo "# the host received $received bytes from the guest over TCP"
check "the guest's TCP stream reached the host (at least 1 MiB)" [ "$received" -ge 1048576 ]
[ "$rc" -eq 0 ] || show jailed

tap_done
