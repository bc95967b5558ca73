#!/bin/sh
# Under real KVM, virtio-net from guest user space: a tap on the host with a
# link-local address, the guest's eth0 beside it; the guest pings the host,
# then 10 MiB cross a TCP connection each way, the checksums equal on both
# ends, in frames larger than the link's MTU both ways: the guest and the host
# hand each other TCP segmentation (TSO) through the device. As root (the tap).
# Usage: linux-net.sh MICROVM XFER
set -eu
microvm=$1 xfer=$2
. "$(dirname "$0")/lib.sh"
require_guest_env
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root for the tap device"
    exit 0
fi

tap=mvtap$$
host=169.254.10.1 guest=169.254.10.2
ip tuntap add dev "$tap" mode tap
trap 'ip link del "$tap" 2>/dev/null || true; rm -rf "$tap_tmp"' EXIT
ip addr add "$host/24" dev "$tap"
ip link set "$tap" up

head -c 10485760 /dev/urandom >"$tap_tmp/to-guest.bin"
"$xfer" recv tcp-listen:5000 "$tap_tmp/from-guest.bin" 2>"$tap_tmp/recv.log" &
recv_pid=$!
"$xfer" send "tcp:$guest:5001" "$tap_tmp/to-guest.bin" 2>"$tap_tmp/send.log" &
send_pid=$!

guest_initramfs "$tap_tmp/initrd" "
set -e
ip addr add $guest/24 dev eth0
ip link set eth0 up
ping -c 3 -W 10 $host >/tmp/ping.out && echo ping=ok || { echo ping=failed; cat /tmp/ping.out; }
dd if=/dev/urandom of=/tmp/g.bin bs=1M count=10 2>/dev/null
echo \"sent_sha=\$(sha256sum /tmp/g.bin | cut -d' ' -f1)\"
xfer send tcp:$host:5000 /tmp/g.bin
xfer recv tcp-listen:5001 /tmp/h.bin
echo \"received_sha=\$(sha256sum /tmp/h.bin | cut -d' ' -f1)\"" "$xfer"

# --rng: the guest's first read of /dev/urandom waits until its kernel's CRNG is
# seeded; with no entropy device a 6.1 kernel seeds it from timer jitter alone, and
# under nested emulation on a loaded host that stalled this guest's dd for minutes
# (after its ping, with no output). A virtio-rng seeds it at boot.
boot net "$microvm" --kernel "$MICROVM_TEST_BZIMAGE" --initrd "$tap_tmp/initrd" --mem 256 --net "tap=$tap" --rng
# The tap's receive side is what the VMM wrote (the guest's frames), its transmit side
# what the host handed the VMM: bytes a frame, on average.
stat() { cat "/sys/class/net/$tap/statistics/$1"; }
from_guest=$(( $(stat rx_bytes) / ($(stat rx_packets) + 1) ))
to_guest=$(( $(stat tx_bytes) / ($(stat tx_packets) + 1) ))
echo "# bytes a frame: guest to host $from_guest, host to guest $to_guest (MTU 1500)"
kill "$recv_pid" "$send_pid" 2>/dev/null || true
wait "$recv_pid" "$send_pid" 2>/dev/null || true
sed 's/^/# host xfer: /' "$tap_tmp/recv.log" "$tap_tmp/send.log"

check "the guest pinged the host" grep -q '^ping=ok$' "$tap_tmp/net.out"
check "guest to host: 10 MiB arrived with the guest's checksum" \
    [ "$(guest_value net sent_sha)" = "$(sha256sum <"$tap_tmp/from-guest.bin" | cut -d' ' -f1)" ]
check "host to guest: 10 MiB arrived with the host's checksum" \
    [ "$(guest_value net received_sha)" = "$(sha256sum <"$tap_tmp/to-guest.bin" | cut -d' ' -f1)" ]
check "guest to host: segmentation offloaded (frames above the MTU)" [ "$from_guest" -gt 1514 ]
check "host to guest: segmentation offloaded (frames above the MTU)" [ "$to_guest" -gt 1514 ]
check_ran net
check "no guest errors logged" sh -c "! grep -q 'guest error' '$tap_tmp/net.err'"
grep -q '^microvm-guest: test exit status 0$' "$tap_tmp/net.out" && [ "$rc" -eq 0 ] || show net

tap_done
