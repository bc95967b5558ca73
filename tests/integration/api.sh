#!/bin/sh
# Firecracker's API on a Unix socket, with curl and the bodies Firecracker's
# getting-started guide sends, driving the tiny guest: every endpoint's success
# and failure, the before/after-start rules, pause and resume, a new medium for a
# drive, metrics, hostile clients (oversized, slow, many), the API thread's filter;
# and a config-file boot that equals the command line's.
# Usage: api.sh MICROVM TINY_ELF
set -eu
microvm=$1 tiny_elf=$2
here=$(dirname "$0")
. "$here/tap.sh"

skip_all_unless_kvm "the API tests cannot run"
. "$here/api-client.sh"

sock=$tap_tmp/api.sock
wait_for_line() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    grep -q "$2" "$1" 2>/dev/null
}

# ---- start: the VMM waits for its configuration ----
mkfifo "$tap_tmp/in"
head -c 1048576 /dev/zero >"$tap_tmp/disk.img"
head -c 2097152 /dev/zero >"$tap_tmp/disk2.img"
"$microvm" --api-sock "$sock" --id test-vm-1 <"$tap_tmp/in" >"$tap_tmp/out" 2>"$tap_tmp/err" &
vmm=$!
exec 3>"$tap_tmp/in"
check "the API socket is up" wait_for_socket "$sock"

api GET /
expect "GET / before start: Not started, with the id" 200 '"state":"Not started"'
check "GET / names the instance" grep -qF '"id":"test-vm-1"' "$tap_tmp/body"
api GET /version
expect "GET /version" 200 '"firecracker_version"'
api GET /machine-config
expect "GET /machine-config: the defaults" 200 '"vcpu_count":1,"mem_size_mib":128'

# The getting-started flow's bodies (logger and metrics first, as the go SDK sends them).
api PUT /logger "{\"log_path\": \"$tap_tmp/vmm.log\", \"level\": \"Info\", \"show_level\": true, \"show_log_origin\": true}"
expect "PUT /logger" 204
api PUT /metrics '{}'
expect "PUT /metrics without a path: 400" 400 "missing field 'metrics_path'"
api PUT /metrics "{\"metrics_path\": \"$tap_tmp/metrics.json\"}"
expect "PUT /metrics" 204
api PUT /metrics "{\"metrics_path\": \"$tap_tmp/metrics2.json\"}"
expect "PUT /metrics twice: 400" 400 "set up already"
api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 256, "smt": false}'
expect "PUT /machine-config" 204
api PATCH /machine-config '{"mem_size_mib": 128}'
expect "PATCH /machine-config" 204
api GET /machine-config
expect "GET /machine-config after PUT and PATCH" 200 '"vcpu_count":2,"mem_size_mib":128'
api PUT /boot-source "{\"kernel_image_path\": \"$tap_tmp/nonexistent\", \"boot_args\": \"console=ttyS0 tiny.wait=1\"}"
expect "PUT /boot-source" 204
api PUT /actions '{"action_type": "InstanceStart"}'
expect "InstanceStart with a missing kernel: 400, and the VMM goes on" 400 "nonexistent"
# A reason cut inside a UTF-8 character still comes back as JSON, in ASCII.
long=$(python3 -c 'print("/" + "\u00e9" * 600)')
for kernel in "$long" "/x$long"; do
    api PUT /boot-source "{\"kernel_image_path\": \"$kernel\"}"
    api PUT /actions '{"action_type": "InstanceStart"}'
    check "a reason with a long UTF-8 path: 400 with a JSON fault_message" python3 -c '
import json, sys
fault = json.load(open(sys.argv[2]))["fault_message"]
assert sys.argv[1] == "400" and fault.startswith("PUT /actions: ") and "out of memory" not in fault, fault
' "$code" "$tap_tmp/body"
done
api PUT /boot-source "{\"kernel_image_path\": \"$tiny_elf\", \"boot_args\": \"console=ttyS0 tiny.wait=1\"}"
expect "PUT /boot-source again" 204
api PUT /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$tap_tmp/disk.img\", \"is_root_device\": false, \"is_read_only\": false}"
expect "PUT /drives/rootfs" 204
api PUT /vsock "{\"guest_cid\": 3, \"uds_path\": \"$tap_tmp/v.sock\"}"
expect "PUT /vsock" 204
api PUT /entropy '{}'
expect "PUT /entropy" 204
api GET /vm/config
expect "GET /vm/config holds the configuration" 200 "\"path_on_host\":\"$tap_tmp/disk.img\""
check "GET /vm/config: vsock and entropy" sh -c "grep -qF '\"guest_cid\":3' '$tap_tmp/body' && grep -qF '\"entropy\":{}' '$tap_tmp/body'"

# ---- failures, each naming the request, the field and the value ----
api PUT /machine-config '{"vcpu_count": 0, "mem_size_mib": 128}'
expect "PUT /machine-config vcpu_count 0: 400 naming it" 400 'PUT /machine-config: vcpu_count 0: expected a number from 1 to 64'
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128, "cpu_count": 2}'
expect "unknown field: 400 naming it" 400 "unknown field 'cpu_count'"
api PUT /machine-config '{"vcpu_count": "1", "mem_size_mib": 128}'
expect "wrong type: 400" 400 'vcpu_count \"1\": expected an integer'
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 1e400}'
expect "huge number: 400" 400 "invalid JSON"
api PUT /machine-config '{"vcpu_count": 1,'
expect "truncated JSON: 400" 400 "invalid JSON"
api PUT /boot-source '{"kernel_image_path": "/k", "kernel_image_path": "/j"}'
expect "duplicate key: 400" 400 "duplicate"
api PUT /drives/rootfs "{\"drive_id\": \"other\", \"path_on_host\": \"$tap_tmp/disk.img\", \"is_root_device\": false}"
expect "PUT /drives: id differs from the path's: 400" 400 "differs from the id in the path"
api PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "/x", "is_root_device": false, "rate_limiter": {"bandwidth": {"size": 1, "refill_time": 1}}}'
expect "PUT /drives with a rate limiter: 400 (not supported yet)" 400 "rate_limiter"
api PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "bad/name"}'
expect "PUT /network-interfaces with a bad tap name: 400" 400 'host_dev_name \"bad/name\"'
api PUT /vsock '{"guest_cid": 2, "uds_path": "/v.sock"}'
expect "PUT /vsock with CID 2: 400" 400 "guest_cid 2"
api PUT /entropy '{"rate_limiter": {}}'
expect "PUT /entropy with a rate limiter: 400" 400 "rate_limiter"
api PUT /logger '{"level": "Loud"}'
expect "PUT /logger with a bad level: 400" 400 'level \"Loud\"'
api PATCH /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$tap_tmp/disk2.img\"}"
expect "PATCH /drives before start: 400" 400 "only after InstanceStart"
api PATCH /vm '{"state": "Paused"}'
expect "PATCH /vm before start: 400" 400 "not started"
api PUT /actions '{"action_type": "SendCtrlAltDel"}'
expect "SendCtrlAltDel before start: 400" 400 "not started"
api PUT /actions '{"action_type": "Reboot"}'
expect "an unknown action: 400" 400 'action_type \"Reboot\"'
api PUT /nope '{}'
expect "an unknown path: 400" 400 "no such resource"
api DELETE /vm
expect "an unknown method: 400" 400 "/vm"
api GET /drives/rootfs
expect "GET where only PUT and PATCH are: 400" 400 "not allowed"
code=$(head -c 60000 /dev/zero | tr '\0' ' ' | curl -s --unix-socket "$sock" -X PUT http://localhost/vsock \
    -H 'Content-Type: application/json' --data-binary @- -o "$tap_tmp/body" -w '%{http_code}') || code=000
expect "a body over 51200 bytes: 413" 413 "51200"
api PUT /actions '{"action_type": "FlushMetrics"}'
expect "FlushMetrics before start" 204

# ---- start, then the running VM ----
api PUT /actions '{"action_type": "InstanceStart"}'
expect "InstanceStart" 204
check "the guest runs and waits for a byte" wait_for_line "$tap_tmp/out" "wait: ready"
api GET /
expect "GET / after start: Running" 200 '"state":"Running"'
api PUT /boot-source "{\"kernel_image_path\": \"$tiny_elf\"}"
expect "PUT /boot-source after start: 400" 400 "only before InstanceStart"
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 128}'
expect "PUT /machine-config after start: 400" 400 "only before InstanceStart"
api PUT /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$tap_tmp/disk.img\", \"is_root_device\": false}"
expect "PUT /drives after start: 400" 400 "only before InstanceStart"
api PUT /actions '{"action_type": "InstanceStart"}'
expect "InstanceStart twice: 400" 400 "only before InstanceStart"
api PATCH /drives/rootfs "{\"drive_id\": \"rootfs\", \"path_on_host\": \"$tap_tmp/disk2.img\"}"
expect "PATCH /drives: a new medium" 204
check "the drive reports its new medium" wait_for_line "$tap_tmp/vmm.log" "new medium $tap_tmp/disk2.img, 4096 sectors"
api GET /vm/config
expect "GET /vm/config shows the new medium" 200 "\"path_on_host\":\"$tap_tmp/disk2.img\""
api PATCH /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "/nonexistent.img"}'
expect "PATCH /drives to a missing file: 400, the old medium kept" 400 "nonexistent.img"
api PATCH /drives/nope '{"drive_id": "nope", "path_on_host": "/x"}'
expect "PATCH /drives of an unknown drive: 400" 400 "no such drive"
api PUT /actions '{"action_type": "SendCtrlAltDel"}'
expect "SendCtrlAltDel while running" 204

# Pause: the byte sent now waits in the VMM; the guest sees it only after resume.
api PATCH /vm '{"state": "Paused"}'
expect "PATCH /vm Paused" 204
api GET /
expect "GET / while paused: Paused" 200 '"state":"Paused"'
printf 'x' >&3
sleep 1
check "paused: the guest makes no progress (the byte is not read)" sh -c "! grep -q 'wait: got' '$tap_tmp/out'"
api PATCH /vm '{"state": "Bogus"}'
expect "PATCH /vm with an unknown state: 400" 400 "Paused"
api PATCH /vm '{"state": "Resumed"}'
expect "PATCH /vm Resumed" 204
check "resumed: the guest reads the byte and goes on" wait_for_line "$tap_tmp/out" "wait: got 0x78"
set +e
wait $vmm
rc=$?
set -e
exec 3>&-
check "the VMM exits 0 when the guest resets" [ "$rc" -eq 0 ]
check "the log went to the logger's file, each line with its level and origin" \
    grep -Eq '^microvm: \[Info\] \[src/[a-z_/]+\.c:[0-9]+\] VM paused' "$tap_tmp/vmm.log"
check "metrics: JSON lines (FlushMetrics before start, and the last at exit)" \
    sh -c "[ \$(wc -l <'$tap_tmp/metrics.json') -ge 2 ]"
check "metrics: every line is one JSON object" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
last = objs[-1]
assert last["api_server"]["requests"] > 40 and last["api_server"]["errors"] > 20, last["api_server"]
assert last["api_server"]["put_machine_config_count"] >= 1
assert last["vcpu"]["exit_io_out"] > 0, last["vcpu"]
assert [d["kind"] for d in last["devices"]] == ["virtio-blk", "virtio-rng", "virtio-vsock"], last["devices"]
assert last["latencies_us"]["api_ready"] > 0 and last["latencies_us"]["instance_start"] > 0
' "$tap_tmp/metrics.json"
[ "$rc" -eq 0 ] || diag_output

# ---- hostile clients: slow, many, oversized headers; the API answers the others ----
# The first VMM's socket stays behind (its filter forbids unlinking): gone, the new one is seen.
rm -f "$sock"
"$microvm" --api-sock "$sock" </dev/null >"$tap_tmp/out2" 2>"$tap_tmp/err2" &
vmm=$!
check "the API socket is up again" wait_for_socket "$sock"
check "hostile clients never block the API" python3 - "$sock" <<'EOF'
import socket, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    return s
def ask(s, text):
    s.sendall(text.encode())
    return s.recv(65536).decode(errors="replace")
# A slow client: half a request, then silence; it is answered 408 and closed.
slow = conn()
slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
# Others are served meanwhile.
for _ in range(5):
    s = conn()
    assert ask(s, "GET / HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 200"), "served"
    s.close()
# Pipelined requests on one connection, answered in order.
s = conn()
s.sendall(b"GET /version HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
assert data.count(b"HTTP/1.1 200") == 2, data
# Header section too large: 431; garbage: 400; both close the connection.
s = conn()
assert ask(s, "GET / HTTP/1.1\r\nX: " + "a" * 9000 + "\r\n\r\n").startswith("HTTP/1.1 431"), "431"
s = conn()
assert ask(s, "\x00\x01\x02 garbage\r\n\r\n").startswith("HTTP/1.1 400"), "400"
# The slow one times out.
resp = slow.recv(65536).decode()
assert resp.startswith("HTTP/1.1 408") and 4 < time.time() - t0 < 9, (resp, time.time() - t0)
# Many at once: 16 are held, the 17th is told 503, and a freed slot serves again.
held = [conn() for _ in range(16)]
time.sleep(0.2)
extra = conn()
assert extra.recv(65536).startswith(b"HTTP/1.1 503"), "503"
held.pop().close()
time.sleep(0.2)
s = conn()
assert ask(s, "GET / HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 200"), "after 503"
EOF
api PUT /network-interfaces/eth0 '{"iface_id": "eth0", "host_dev_name": "mvtap-api", "guest_mac": "06:00:ac:10:00:02"}'
expect "PUT /network-interfaces" 204
api GET /vm/config
expect "GET /vm/config holds the interface" 200 '"host_dev_name":"mvtap-api"'
api PATCH /machine-config '{"vcpu_count": 65}'
expect "PATCH /machine-config vcpu_count 65: 400" 400 "vcpu_count 65"
api GET /machine-config
expect "a refused PATCH changes nothing" 200 '"vcpu_count":1,"mem_size_mib":128'
check "the API thread runs under its own filter from the start (Seccomp: 2)" sh -c "
    for t in /proc/$vmm/task/*; do [ \$(cat \$t/comm) = api ] && exec grep -q '^Seccomp:[[:space:]]*2' \$t/status; done; exit 1"
kill $vmm
wait $vmm || true

# The API thread's filter kills a forbidden syscall (the test hook makes one after installing it).
run env MICROVM_TEST_SECCOMP_VIOLATION=api "$microvm" --api-sock "$sock"
check "the API thread's filter kills with 148" sh -c "[ $rc -eq 148 ] && grep -q 'thread api made forbidden syscall' '$tap_tmp/err'"

# ---- command-line rules ----
run "$microvm" --api-sock "$sock" --no-api
check "--no-api with --api-sock: usage error" sh -c "[ $rc -eq 2 ] && grep -q 'exclude each other' '$tap_tmp/err'"
printf '{"boot-source": {"kernel_image_path": "%s"}, "machine-config": {"vcpu_count": 0, "mem_size_mib": 128}}' \
    "$tiny_elf" >"$tap_tmp/bad.json"
run "$microvm" --config-file "$tap_tmp/bad.json" --no-api
check "a bad config file: one line naming the file, section, field and value" \
    sh -c "[ $rc -eq 2 ] && grep -qF -- '--config-file $tap_tmp/bad.json: machine-config: vcpu_count 0: expected' '$tap_tmp/err'"

# ---- a config-file boot equals the command line's ----
head -c 5000 /dev/urandom >"$tap_tmp/initrd"
cat >"$tap_tmp/vm.json" <<EOF
{
  "boot-source": {"kernel_image_path": "$tiny_elf", "initrd_path": "$tap_tmp/initrd",
                  "boot_args": "console=ttyS0 tiny.virtio=1"},
  "machine-config": {"vcpu_count": 2, "mem_size_mib": 192},
  "drives": [{"drive_id": "disk0", "path_on_host": "$tap_tmp/disk.img", "is_root_device": false,
              "is_read_only": true}],
  "entropy": {}
}
EOF
run "$microvm" --no-api --no-pvm --config-file "$tap_tmp/vm.json"
cp "$tap_tmp/out" "$tap_tmp/out-config"
rc_config=$rc
run "$microvm" --no-pvm --kernel "$tiny_elf" --initrd "$tap_tmp/initrd" --cmdline "console=ttyS0 tiny.virtio=1" \
    --vcpus 2 --mem 192 --drive "path=$tap_tmp/disk.img,ro,id=disk0" --rng
check "config file and command line: both exit 0" sh -c "[ $rc_config -eq 0 ] && [ $rc -eq 0 ]"
check "config file and command line: the guest saw the same machine" cmp -s "$tap_tmp/out-config" "$tap_tmp/out"
check "the guest saw the drive and rng" sh -c "grep -q virtio-blk '$tap_tmp/out' && grep -q virtio-rng '$tap_tmp/out'"
run "$microvm" --config-file "$tap_tmp/vm.json" --api-sock "$sock" --no-pvm
check "config file with --api-sock boots at once" sh -c "[ $rc -eq 0 ] && cmp -s '$tap_tmp/out-config' '$tap_tmp/out'"

tap_done
