#!/bin/sh
# Under real KVM, rate limiters on a guest's disk and network: with a bandwidth
# limit of 256 KiB/s on the drive (--drive bw=) and on the interface's transmit
# side (--net tx_bw=), the guest reads 2 MiB from the disk and sends 2 MiB over
# TCP, each at 256 KiB/s within 10% (the network counted in the frames the
# interface sent, as the limiter counts; each bucket starts full, so the first
# bucket's bytes go at once); the metrics count the throttled requests;
# PATCH /drives and PATCH /network-interfaces remove the limits while the guest
# runs, and the same transfers then go at full speed (more than twice the limit).
# As root (the tap).
# Usage: linux-ratelimit.sh MICROVM XFER
set -eu
microvm=$1 xfer=$2
. "$(dirname "$0")/lib.sh"
require_guest_env
. "$(dirname "$0")/../integration/api-client.sh"
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root for the tap device"
    exit 0
fi

# Well below what the nested guest sends unlimited (several MB/s): a run at 512 KiB/s
# once met a guest that sent only about that fast, so the limiter never held a
# frame back and tested nothing.
rate=262144        # bytes a second
# One second of it, refilled every second: a stall of the nested host (TCG) shorter
# than that loses no tokens. (The network once measured 81-96% of the limit with
# either bucket: the guest could not send that fast while wait_for's polls took the
# nested host's one CPU; see wait_for in lib.sh.)
bucket=262144 refill_ms=1000
xfer_size=2097152  # each transfer: some 7 s at the limit, so that starting the
                   # sender and the TCP handshake weigh little (the network measured 94-95%
                   # of the limit with 1.5 MiB)
tap=mvrl$$
host=169.254.11.1 guest=169.254.11.2
sock=$tap_tmp/api.sock
ip tuntap add dev "$tap" mode tap
trap 'ip link del "$tap" 2>/dev/null || true; rm -rf "$tap_tmp"' EXIT
ip addr add "$host/24" dev "$tap"
ip link set "$tap" up

head -c 8388608 /dev/urandom >"$tap_tmp/disk.img"
printf '{"metrics": {"metrics_path": "%s"}}\n' "$tap_tmp/metrics.json" >"$tap_tmp/config.json"
"$xfer" recv tcp-listen:5000 "$tap_tmp/net1.bin" 2>"$tap_tmp/recv1.log" &
recv1=$!
"$xfer" recv tcp-listen:5001 "$tap_tmp/net2.bin" 2>"$tap_tmp/recv2.log" &
recv2=$!

# Each transfer timed by the guest's uptime (10 ms steps); between the two rounds
# the guest waits for the host's go, which comes once the limits are off.
guest_initramfs "$tap_tmp/initrd" "
set -e
ip addr add $guest/24 dev eth0
ip link set eth0 up
now() { cut -d' ' -f1 /proc/uptime; }
dd if=/dev/urandom of=/tmp/g.bin bs=64k count=32 2>/dev/null
# No readahead: the disk moves what dd asks for, no more.
blockdev --setra 0 /dev/vda || true
a=\$(now); dd if=/dev/vda of=/dev/null bs=64k count=32 2>/dev/null; b=\$(now)
echo \"disk1=\$a \$b\"
tx=/sys/class/net/eth0/statistics/tx_bytes
t=\$(cat \$tx); a=\$(now); xfer send tcp:$host:5000 /tmp/g.bin; b=\$(now)
echo \"net1=\$a \$b \$((\$(cat \$tx) - t))\"
echo limited-done
xfer recv tcp-listen:5002 /tmp/go
a=\$(now); dd if=/dev/vda of=/dev/null bs=64k count=32 skip=64 2>/dev/null; b=\$(now)
echo \"disk2=\$a \$b\"
t=\$(cat \$tx); a=\$(now); xfer send tcp:$host:5001 /tmp/g.bin; b=\$(now)
echo \"net2=\$a \$b \$((\$(cat \$tx) - t))\"" "$xfer"

boot_bg rl "$microvm" --kernel "$MICROVM_TEST_BZIMAGE" --initrd "$tap_tmp/initrd" --mem 256 \
    --api-sock "$sock" --config-file "$tap_tmp/config.json" \
    --drive "path=$tap_tmp/disk.img,ro,id=data,bw=$bucket:$refill_ms" \
    --net "tap=$tap,id=eth0,tx_bw=$bucket:$refill_ms" --rng
# A guest that never gets its go (a failed step above) does not hold the test for ever.
(sleep 600; kill "$vmm_pid" 2>/dev/null) &
watchdog=$!

# rate_of NAME [BURST]: bytes a second of the guest's transfer NAME ("START END
# [BYTES]", in seconds): the disk's 3 MiB, or the bytes of the frames the interface
# sent (what the transmit limiter counts: TCP/IP and Ethernet headers on top of the
# 3 MiB); less BURST bytes, those a full bucket lets through at once.
rate_of() {
    guest_value rl "$1" | awk -v size="$xfer_size" -v burst="${2:-0}" '{ d = $2 - $1; if (d <= 0) d = 0.01
        n = NF > 2 ? $3 : size; printf "%d", (n - burst) / d }'
}
# within PERCENT VALUE: VALUE is within PERCENT % of the limit.
within() {
    awk -v v="$2" -v r="$rate" -v p="$1" 'BEGIN { exit !(v >= r * (1 - p / 100) && v <= r * (1 + p / 100)) }'
}

if wait_for "$tap_tmp/rl.raw" '^limited-done' 300; then
    # The console so far, as finish_bg will write it: guest_value reads that.
    tr -d '\r' <"$tap_tmp/rl.raw" >"$tap_tmp/rl.out"
    disk1=$(rate_of disk1 "$bucket") net1=$(rate_of net1 "$bucket")
    echo "# limited: disk $disk1 B/s, network $net1 B/s (limit $rate B/s)"
    check "disk: the limited read ran at the limit, within 10%" within 10 "$disk1"
    check "network: the limited send ran at the limit, within 10%" within 10 "$net1"
    api PUT /actions '{"action_type": "FlushMetrics"}'
    expect "FlushMetrics" 204
    check "metrics: the drive and the interface were throttled" python3 -c '
import json, sys
last = json.loads(open(sys.argv[1]).read().splitlines()[-1])
kinds = {d["kind"]: d["rate_limiter_throttled"] for d in last["devices"]}
assert kinds["virtio-blk"] > 0 and kinds["virtio-net"] > 0, kinds
' "$tap_tmp/metrics.json"
    api PATCH /drives/data '{"drive_id": "data", "rate_limiter": {"bandwidth": {"size": 0, "refill_time": 0}}}'
    expect "PATCH /drives: the limit off" 204
    api PATCH /network-interfaces/eth0 '{"iface_id": "eth0", "tx_rate_limiter": {"bandwidth": {"size": 0, "refill_time": 0}}}'
    expect "PATCH /network-interfaces: the limit off" 204
    echo go >"$tap_tmp/go"
    "$xfer" send "tcp:$guest:5002" "$tap_tmp/go" 2>"$tap_tmp/go.log" || true
else
    not_ok "the guest finished its limited transfers"
fi
finish_bg rl
kill "$watchdog" 2>/dev/null || true
kill "$recv1" "$recv2" 2>/dev/null || true
wait "$recv1" "$recv2" 2>/dev/null || true
disk2=$(rate_of disk2) net2=$(rate_of net2)
echo "# unlimited: disk $disk2 B/s, network $net2 B/s"
check "disk: without the limit, more than twice as fast" [ "$disk2" -gt $((2 * rate)) ]
check "network: without the limit, more than twice as fast" [ "$net2" -gt $((2 * rate)) ]
check "the host received both transfers whole" sh -c "[ \$(stat -c %s '$tap_tmp/net1.bin') -eq $xfer_size ] && [ \$(stat -c %s '$tap_tmp/net2.bin') -eq $xfer_size ]"
check_ran rl
[ "$tap_failed" -eq 0 ] || show rl

tap_done
