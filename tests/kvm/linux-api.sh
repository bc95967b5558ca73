#!/bin/sh
# Under real KVM, Firecracker's getting-started flow with curl on the API socket
# boots a Linux guest from an ext4 root drive (is_root_device), with the bodies
# Firecracker's guide sends; then, on the running guest:
# - requests that need the VM not started (PUT /boot-source, /machine-config,
#   /drives, a second InstanceStart) get 400 and change nothing;
# - PATCH /vm Paused stops the guest's clock-visible progress: its ticker, which
#   prints the guest's uptime several times a second, prints nothing while
#   paused; Resumed lets it go on;
# - SendCtrlAltDel ends the guest cleanly: its init (as systemd's
#   ctrl-alt-del.target would) stops its work, writes a last file, remounts the
#   root read-only and reboots, which with reboot=k is the i8042 reset that ends
#   the VMM with status 0; the file is on the disk and fsck finds it clean.
# Metrics and the log go where PUT /metrics and PUT /logger said.
# Usage: linux-api.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env
kernel=$MICROVM_TEST_BZIMAGE
. "$(dirname "$0")/../integration/api-client.sh"

sock=$tap_tmp/firecracker.socket
ticks() { grep -c '^tick ' "$tap_tmp/api.raw" || true; }

# The guest's pid 1: Ctrl+Alt+Del is SIGINT to it (kernel.ctrl-alt-del 0), which it
# takes as an orderly shutdown. /test.sh is the ticker.
cat >"$tap_tmp/cad-init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "microvm-guest: user space up: Linux $(uname -r), $(nproc) CPUs"
echo 0 >/proc/sys/kernel/ctrl-alt-del
on_ctrl_alt_del() {
    echo "microvm-guest: ctrl-alt-del: shutting down"
    kill "$ticker"
    echo "shut down cleanly after $(grep -c . /tmp/ticks) ticks" >/last-words
    sync
    mount -o remount,ro /
    echo "microvm-guest: test exit status 0"
    reboot -f
}
trap on_ctrl_alt_del INT
/test.sh &
ticker=$!
while :; do wait; done
EOF
chmod 755 "$tap_tmp/cad-init"
guest_rootfs "$tap_tmp/rootfs.ext4" 64 '
while :; do
    echo "tick $(cut -d" " -f1 /proc/uptime) i8042 irqs: $(awk "/i8042/ { print \$2 + \$3 }" /proc/interrupts)" | tee -a /tmp/ticks
    sleep 0.2
done' "$tap_tmp/cad-init"

boot_bg api "$microvm" --api-sock "$sock"
check "the API socket is up" wait_for_socket "$sock"

# Firecracker's getting-started guide, with this guest's kernel, root and init.
api PUT /logger "{\"log_path\": \"$tap_tmp/firecracker.log\", \"level\": \"Debug\", \"show_level\": true, \"show_log_origin\": true}"
expect "PUT /logger" 204
api PUT /metrics "{\"metrics_path\": \"$tap_tmp/metrics.json\"}"
expect "PUT /metrics" 204
api PUT /boot-source "{\"kernel_image_path\": \"$kernel\", \"boot_args\": \"$base_cmdline rootfstype=ext4 init=/bin/cad-init\"}"
expect "PUT /boot-source" 204
api PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$tap_tmp/rootfs.ext4\", \"is_root_device\": true, \"is_read_only\": false}"
expect "PUT /drives/rootfs" 204
api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256}'
expect "PUT /machine-config" 204
api PUT /actions '{"action_type": "InstanceStart"}'
expect "PUT /actions InstanceStart" 204

if wait_for "$tap_tmp/api.raw" '^tick ' 240; then
    ok "the guest booted from its root drive and its ticker runs"
    api GET /
    expect "GET /: Running" 200 '"state":"Running"'

    # The wrong state: 400, and the running guest is untouched.
    api PUT /boot-source "{\"kernel_image_path\": \"$kernel\"}"
    expect "PUT /boot-source after start: 400" 400 "only before InstanceStart"
    api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
    expect "PUT /machine-config after start: 400" 400 "only before InstanceStart"
    api PUT /drives/other "{\"drive_id\": \"other\", \"path_on_host\": \"$tap_tmp/rootfs.ext4\", \"is_root_device\": false}"
    expect "PUT /drives after start: 400" 400 "only before InstanceStart"
    api PUT /actions '{"action_type": "InstanceStart"}'
    expect "InstanceStart again: 400" 400 "only before InstanceStart"
    api GET /vm/config
    expect "GET /vm/config: the configuration as it booted" 200 '"vcpu_count":2,"mem_size_mib":256'

    # Pause: no tick while paused, ticks again once resumed.
    api PATCH /vm '{"state": "Paused"}'
    expect "PATCH /vm Paused" 204
    sleep 1
    before=$(ticks)
    sleep 4
    after=$(ticks)
    echo "# paused: $before ticks, 4 s later $after"
    check "paused: the guest's ticker stands still" [ "$before" -eq "$after" ]
    api GET /
    expect "GET /: Paused" 200 '"state":"Paused"'
    api PATCH /vm '{"state": "Resumed"}'
    expect "PATCH /vm Resumed" 204
    i=0
    while [ "$(ticks)" -le "$after" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    check "resumed: the guest's ticker goes on" [ "$(ticks)" -gt "$after" ]
    api PUT /actions '{"action_type": "FlushMetrics"}'
    expect "FlushMetrics" 204

    # Ctrl+Alt+Del: the guest shuts itself down and the VMM exits 0.
    api PUT /actions '{"action_type": "SendCtrlAltDel"}'
    expect "SendCtrlAltDel" 204
    set +e
    timeout 120 sh -c "while kill -0 $vmm_pid 2>/dev/null; do sleep 0.2; done"
    set -e
    kill -KILL "$vmm_pid" 2>/dev/null || true
    finish_bg api
    check "the guest's init took Ctrl+Alt+Del as a shutdown" \
        grep -q '^microvm-guest: ctrl-alt-del: shutting down' "$tap_tmp/api.out"
    check_ran api
    check "the guest's reboot=k reset ended the VMM, as the logger's file says" \
        grep -q 'guest requested a CPU reset through the i8042' "$tap_tmp/firecracker.log"
    check "no PVM path taken on real KVM (the logger's file)" sh -c "! grep -q PVM '$tap_tmp/firecracker.log'"
    words=$(debugfs -R "cat /last-words" "$tap_tmp/rootfs.ext4" 2>/dev/null || true)
    echo "# the guest's last words on its disk: $words"
    check "the file the guest wrote while shutting down is on the disk" \
        sh -c "case '$words' in 'shut down cleanly after '*) true ;; *) false ;; esac"
    check "the guest left its root clean: fsck needs no journal replay" \
        sh -c 'e2fsck -f -n "$1" >&2' e2fsck "$tap_tmp/rootfs.ext4"
    check "metrics: JSON lines with the API's requests and both vCPUs' exits" python3 -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()]
last = objs[-1]
assert last["api_server"]["requests"] >= 15, last["api_server"]
assert last["api_server"]["errors"] >= 4, last["api_server"]
assert last["latencies_us"]["instance_start"] > 0, last["latencies_us"]
assert sum(last["vcpu"].values()) > 0, last["vcpu"]
assert [d["kind"] for d in last["devices"]] == ["virtio-blk"], last["devices"]
' "$tap_tmp/metrics.json"
    [ "$rc" -eq 0 ] || { show api; tail -n 15 "$tap_tmp/firecracker.log" | sed 's/^/# log: /' >&2; }
else
    not_ok "the guest booted from its root drive and its ticker runs"
    kill -KILL "$vmm_pid" 2>/dev/null || true
    finish_bg api
    show api
    tail -n 15 "$tap_tmp/firecracker.log" 2>/dev/null | sed 's/^/# log: /'
fi

tap_done
