#!/bin/sh
# Under real KVM, virtio-balloon with Linux's driver: the guest first touches
# nearly all its free memory (so the host backs it), then idles, printing its
# /proc/meminfo every second. PATCH /balloon to 128 MiB: the driver inflates, the
# VMM gives the pages back and its RSS drops by about 128 MiB, the guest's
# MemTotal by exactly 128 MiB; GET /balloon/statistics reports what the guest's
# /proc/meminfo says; PATCH /balloon to 0: the guest gets its memory back. Then,
# in a second VM, free page reporting: memory the guest frees goes back to the
# host (RSS, and the metrics' free_page_report_freed) with no inflate.
# Usage: linux-balloon.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env
. "$(dirname "$0")/../integration/api-client.sh"

sock=$tap_tmp/api.sock
mib=1024  # KiB

guest_initramfs "$tap_tmp/initrd" '
total0=$(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo)
free=$(awk "/^MemFree:/ { print \$2 }" /proc/meminfo)
# A tmpfs of its own: the usual ones stop at half the memory.
mkdir -p /fill
mount -t tmpfs -o size=$((free / 1024))m fill /fill
dd if=/dev/zero of=/fill/zero bs=1M count=$((free / 1024 - 16)) 2>/dev/null
rm /fill/zero
umount /fill
echo "touched total=$total0"
low=0 i=0
while [ $i -lt 300 ]; do
    set -- $(awk "/^MemTotal:/ { t = \$2 } /^MemFree:/ { f = \$2 } /^MemAvailable:/ { a = \$2 } END { print t, f, a }" /proc/meminfo)
    echo "mem total=$1 free=$2 avail=$3"
    [ "$1" -lt $((total0 - 32768)) ] && low=1
    if [ $low = 1 ] && [ "$1" -ge "$total0" ]; then
        echo deflated
        # The host reads the statistics once more before the VM ends.
        sleep 10
        break
    fi
    sleep 1
    i=$((i + 1))
done'

boot_bg balloon "$microvm" --kernel "$MICROVM_TEST_BZIMAGE" --initrd "$tap_tmp/initrd" --mem 256 \
    --api-sock "$sock" --balloon "amount_mib=0,stats_polling_interval_s=1"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$vmm_pid/status"; }
# last KEY: the guest's last "mem" line's KEY (KiB).
last() { grep '^mem total=' "$tap_tmp/balloon.raw" | tail -n 1 | tr -d '\r' | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# bstat KEY: GET /balloon/statistics's KEY.
bstat() {
    api GET /balloon/statistics
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], -1))' "$tap_tmp/body" "$1"
}
# near A B PERCENT: A is within PERCENT % of B.
near() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }'; }

if wait_for "$tap_tmp/balloon.raw" '^touched' 300 && wait_for "$tap_tmp/balloon.raw" '^mem total=' 60; then
    total0=$(last total)
    sleep 2
    rss0=$(rss)
    api PATCH /balloon '{"amount_mib": 128}'
    expect "PATCH /balloon to 128 MiB" 204
    i=0
    while [ "$(bstat actual_mib)" != 128 ] && [ $i -lt 240 ]; do sleep 0.5; i=$((i + 1)); done
    check "the driver inflated the balloon to 128 MiB" [ "$(bstat actual_mib)" = 128 ]
    sleep 2
    rss1=$(rss)
    echo "# VMM RSS: $rss0 KiB before, $rss1 KiB inflated (dropped $((rss0 - rss1)) KiB)"
    # Pages the guest never touched (a few MiB it kept free) were never the host's to give back.
    check "inflated: the VMM's RSS dropped by about 128 MiB (within 25%)" near $((rss0 - rss1)) $((128 * mib)) 25
    wait_for "$tap_tmp/balloon.raw" "^mem total=$((total0 - 128 * mib)) " 30 || true
    check "inflated: the guest's MemTotal is 128 MiB less" [ "$(last total)" = $((total0 - 128 * mib)) ]
    # The statistics are the guest's numbers (bytes) as its last poll saw them.
    sleep 3
    total_b=$(bstat total_memory) free_b=$(bstat free_memory) avail_b=$(bstat available_memory)
    echo "# statistics: total $total_b free $free_b available $avail_b bytes; guest: $(last total) $(last free) $(last avail) KiB"
    check "statistics: total_memory is the guest's MemTotal" [ "$total_b" = $(($(last total) * 1024)) ]
    check "statistics: free_memory is the guest's MemFree (within 10%)" near "$free_b" $(($(last free) * 1024)) 10
    check "statistics: available_memory is the guest's MemAvailable (within 10%)" near "$avail_b" $(($(last avail) * 1024)) 10
    api PATCH /balloon '{"amount_mib": 0}'
    expect "PATCH /balloon back to 0" 204
    i=0
    while [ "$(bstat actual_mib)" != 0 ] && [ $i -lt 240 ]; do sleep 0.5; i=$((i + 1)); done
    check "deflated: the statistics say so" [ "$(bstat actual_mib)" = 0 ]
    check "deflated: the guest has its memory back" wait_for "$tap_tmp/balloon.raw" '^deflated' 60
else
    not_ok "the guest touched its memory and reported it"
fi
finish_bg balloon
check_ran balloon
check "no guest errors logged" sh -c "! grep -q 'guest error' '$tap_tmp/balloon.err'"
[ "$rc" -eq 0 ] || show balloon

# Free page reporting, no inflate: the guest fills 128 MiB of a tmpfs, then frees
# it; its driver reports the free pages, and the VMM gives them back.
guest_initramfs "$tap_tmp/initrd2" '
mkdir -p /fill
mount -t tmpfs -o size=160m fill /fill
dd if=/dev/zero of=/fill/zero bs=1M count=128 2>/dev/null
echo filled
sleep 4
rm /fill/zero
echo freed
sleep 20'
printf '{"metrics": {"metrics_path": "%s"}}\n' "$tap_tmp/metrics.json" >"$tap_tmp/config.json"
boot_bg report "$microvm" --kernel "$MICROVM_TEST_BZIMAGE" --initrd "$tap_tmp/initrd2" --mem 256 \
    --api-sock "$sock" --config-file "$tap_tmp/config.json" --balloon "amount_mib=0,free_page_reporting"
if wait_for "$tap_tmp/report.raw" '^filled' 300; then
    sleep 1
    rss_full=$(rss)
    wait_for "$tap_tmp/report.raw" '^freed' 30 || true
    i=0
    while [ $((rss_full - $(rss))) -lt $((96 * mib)) ] && [ $i -lt 30 ]; do sleep 0.5; i=$((i + 1)); done
    rss_freed=$(rss)
    echo "# free page reporting: VMM RSS $rss_full KiB filled, $rss_freed KiB freed (dropped $((rss_full - rss_freed)) KiB)"
    check "reported: the VMM's RSS dropped by at least 96 of the 128 MiB freed" [ $((rss_full - rss_freed)) -ge $((96 * mib)) ]
    api PUT /actions '{"action_type": "FlushMetrics"}'
    expect "FlushMetrics" 204
    check "metrics: free_page_report_freed counts at least the 96 MiB" python3 -c '
import json, sys
last = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert last["balloon"]["free_page_report_freed"] >= 96 << 20, last["balloon"]
assert last["balloon"]["inflated_pages"] == 0, last["balloon"]
' "$tap_tmp/metrics.json"
else
    not_ok "the guest filled its tmpfs"
fi
finish_bg report
check_ran report
check "reporting: no guest errors logged" sh -c "! grep -q 'guest error' '$tap_tmp/report.err'"
[ "$tap_failed" -eq 0 ] || show report

tap_done
