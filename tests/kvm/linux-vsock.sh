#!/bin/sh
# Under real KVM, virtio-vsock from guest user space, through the VMM's
# Firecracker-style Unix socket: 10 MiB each way on a host-initiated
# connection (CONNECT PORT on the VMM's socket) and on a guest-initiated one
# (the VMM connects to the socket's path plus _PORT), checksums equal on both
# ends. The guest also reads its virtio-rng through /dev/hwrng.
# Usage: linux-vsock.sh MICROVM XFER
set -eu
microvm=$1 xfer=$2
. "$(dirname "$0")/lib.sh"
require_guest_env

uds=$tap_tmp/v.sock
for f in h2g-host g2h-host h2g-guest g2h-guest; do
    head -c 10485760 /dev/urandom >"$tap_tmp/$f.bin"
done
# Host-initiated: the host sends on one connection and receives on another;
# each retries until the guest listens. Guest-initiated: the host listens.
"$xfer" send "fcvsock:$uds:5002" "$tap_tmp/h2g-host.bin" 2>"$tap_tmp/x1.log" &
p1=$!
"$xfer" recv "fcvsock:$uds:5004" "$tap_tmp/g2h-host.out" 2>"$tap_tmp/x2.log" &
p2=$!
"$xfer" recv "unix-listen:${uds}_5003" "$tap_tmp/g2h-guest.out" 2>"$tap_tmp/x3.log" &
p3=$!
"$xfer" send "unix-listen:${uds}_5005" "$tap_tmp/h2g-guest.bin" 2>"$tap_tmp/x4.log" &
p4=$!

guest_initramfs "$tap_tmp/initrd" '
set -e
sum() { sha256sum "$1" | cut -d" " -f1; }
echo "rng_current=$(cat /sys/class/misc/hw_random/rng_current)"
echo "rng_bytes=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)"
dd if=/dev/urandom of=/tmp/a.bin bs=1M count=10 2>/dev/null
dd if=/dev/urandom of=/tmp/b.bin bs=1M count=10 2>/dev/null
xfer recv vsock-listen:5002 /tmp/h2g-host.bin
echo "h2g_host_sha=$(sum /tmp/h2g-host.bin)"
echo "g2h_host_sha=$(sum /tmp/a.bin)"
xfer send vsock-listen:5004 /tmp/a.bin
echo "g2h_guest_sha=$(sum /tmp/b.bin)"
xfer send vsock:2:5003 /tmp/b.bin
xfer recv vsock:2:5005 /tmp/h2g-guest.bin
echo "h2g_guest_sha=$(sum /tmp/h2g-guest.bin)"' "$xfer"

boot vsock "$microvm" --kernel "$MICROVM_TEST_BZIMAGE" --initrd "$tap_tmp/initrd" --mem 256 \
    --rng --vsock "cid=3,uds=$uds"
kill "$p1" "$p2" "$p3" "$p4" 2>/dev/null || true
wait "$p1" "$p2" "$p3" "$p4" 2>/dev/null || true
sed 's/^/# host xfer: /' "$tap_tmp"/x?.log

sum() { sha256sum <"$1" | cut -d' ' -f1; }
check "host-initiated, host to guest: 10 MiB, checksums equal" \
    [ "$(guest_value vsock h2g_host_sha)" = "$(sum "$tap_tmp/h2g-host.bin")" ]
check "host-initiated, guest to host: 10 MiB, checksums equal" \
    [ "$(guest_value vsock g2h_host_sha)" = "$(sum "$tap_tmp/g2h-host.out")" ]
check "guest-initiated, guest to host: 10 MiB, checksums equal" \
    [ "$(guest_value vsock g2h_guest_sha)" = "$(sum "$tap_tmp/g2h-guest.out")" ]
check "guest-initiated, host to guest: 10 MiB, checksums equal" \
    [ "$(guest_value vsock h2g_guest_sha)" = "$(sum "$tap_tmp/h2g-guest.bin")" ]
check "virtio-rng: the guest's hwrng is the virtio device" \
    sh -c "guest_rng=\$(sed -n 's/^rng_current=//p' '$tap_tmp/vsock.out'); case \$guest_rng in virtio_rng*) true ;; *) false ;; esac"
check "virtio-rng: the guest read 64 bytes from /dev/hwrng" [ "$(guest_value vsock rng_bytes)" = 64 ]
check_ran vsock
check "no guest errors logged" sh -c "! grep -q 'guest error' '$tap_tmp/vsock.err'"
grep -q '^microvm-guest: test exit status 0$' "$tap_tmp/vsock.out" && [ "$rc" -eq 0 ] || show vsock

tap_done
