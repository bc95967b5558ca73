#!/bin/sh
# The API and the config file through the jailer, as root, in temporary directories:
# - Firecracker's form, jailer --id vm1 --exec-file microvm -- --api-sock /run/api.sock:
#   the socket is at <jail>/root/run/api.sock, GET / names the jailer's id, a kernel the
#   operator puts into the jail boots through the API; paths given to the API resolve
#   inside the jail only (a host path, a "..", a symlink out: nothing opens), and the
#   VMM creates files in the jail's /run alone.
# - Kata's form, jailer --id ID --exec-file microvm --uid U --gid G --chroot-base-dir D
#   --daemonize -- --config-file F: the files F names enter the jail (the kernel copied,
#   drives bound, a read-only one read-only), F is rewritten with jail paths, and the VM
#   boots at once; its log and metrics land in the jail's /run.
# - A config file the jail cannot honour is refused before anything is created.
# Usage: jailer-api.sh MICROVM JAILER TINY_BZIMAGE B_SANITIZE
set -eu
. "$(dirname "$0")/tap.sh"
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
microvm=$(abs "$1") jailer=$(abs "$2") tiny_bz=$(abs "$3")
sanitize=$4

if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP the jailer needs root"
    exit 0
fi
skip_all_unless_kvm "the jailed VMM cannot boot"
. "$(dirname "$0")/api-client.sh"

jpid=
cleanup() {
    # A jailer left running by a failed test: end it (if that pid is still one of ours).
    if [ -n "$jpid" ] && grep -q jailer "/proc/$jpid/cmdline" 2>/dev/null; then
        kill -KILL "$jpid" 2>/dev/null || true
    fi
    rm -rf "$tap_tmp"
}
trap cleanup EXIT

# A VMM built with sanitizers serves in a jail but cannot end cleanly there: its
# runtime needs /proc at exit, which a jail does not have.
# finished DESCRIPTION COMMAND...: a check of how the VMM ended, skipped then.
finished() {
    desc=$1
    shift
    if [ "$sanitize" != none ]; then
        ok "$desc # SKIP a sanitized VMM cannot finish in a jail (LeakSanitizer needs /proc)"
    else
        check "$desc" "$@"
    fi
}

base=$tap_tmp/base
mkdir -m 755 "$base"
echo "host secret" >"$tap_tmp/secret"
head -c 1048576 /dev/zero >"$tap_tmp/disk.img"
head -c 2097152 /dev/zero >"$tap_tmp/rwdisk.img"
chmod 666 "$tap_tmp/disk.img" "$tap_tmp/rwdisk.img"


# --- Firecracker's form: the API socket in the jail ---------------------------------

root=$base/microvm/vm1/root
"$jailer" --id vm1 --chroot-base-dir "$base" --exec-file "$microvm" -- --api-sock /run/api.sock \
    </dev/null >"$tap_tmp/out" 2>"$tap_tmp/err" &
jpid=$!
sock=$root/run/api.sock
check "the API socket is where the operator expects it: <jail>/root/run/api.sock" wait_for_socket "$sock"
check "the jail's /run is the VM's, mode 0700" [ "$(stat -c '%a %u:%g' "$root/run")" = "700 65534:65534" ]
api GET /
expect "GET /: the instance carries the jailer's --id" 200 '"id":"vm1"'

# The operator brings the kernel in, as with Firecracker's jailer; a writable disk goes
# into /run, the jail's one writable directory.
cp "$tiny_bz" "$root/tiny.bzImage"
cp "$tap_tmp/rwdisk.img" "$root/run/rw.img"
chown 65534:65534 "$root/run/rw.img"
ln -s "$tap_tmp/secret" "$root/run/link.img"

api PUT /logger "{\"log_path\": \"$tap_tmp/host.log\"}"
expect "PUT /logger naming a host path: 400, nothing created outside the jail" 400 "host.log"
check "no log file appeared on the host" [ ! -e "$tap_tmp/host.log" ]
api PUT /logger '{"log_path": "/run/vmm.log", "level": "Info"}'
expect "PUT /logger in the jail's /run" 204
check "the log file is in the jail's /run" [ -f "$root/run/vmm.log" ]
api PUT /boot-source '{"kernel_image_path": "/tiny.bzImage", "boot_args": "console=ttyS0 tiny.virtio=1"}'
expect "PUT /boot-source with the jail's path" 204
for path in "$tap_tmp/secret" "/run/../../../../../../$tap_tmp/secret" /run/link.img; do
    api PUT /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$path\", \"is_root_device\": false, \"is_read_only\": true}"
    api PUT /actions '{"action_type": "InstanceStart"}'
    expect "a drive at $path does not reach the host's file: InstanceStart 400" 400 "No such file or directory"
done
api PUT /drives/data '{"drive_id": "data", "path_on_host": "/run/rw.img", "is_root_device": false, "is_read_only": false}'
expect "PUT /drives with the jail's writable /run/rw.img" 204
api PUT /actions '{"action_type": "InstanceStart"}'
expect "InstanceStart in the jail" 204
set +e
timeout 60 sh -c "while kill -0 $jpid 2>/dev/null; do sleep 0.1; done"
wait "$jpid"
rc=$?
set -e
jpid=
finished "the guest ran, drove its disk, and the jailer exits 0 with the VMM" sh -c "
    [ $rc -eq 0 ] && grep -q 'tiny: done' '$tap_tmp/out' && grep -q 'virtio-blk' '$tap_tmp/out'"
finished "the VMM logged into the jail's /run" grep -q 'guest requested a CPU reset' "$root/run/vmm.log"
[ "$rc" -eq 0 ] || [ "$sanitize" != none ] || diag_output

# --- Kata's form: a config file, daemonized ------------------------------------------

cp "$tiny_bz" "$tap_tmp/vmlinux.bin"
cat >"$tap_tmp/fcConfig.json" <<EOF
{
  "boot-source": {"kernel_image_path": "$tap_tmp/vmlinux.bin", "boot_args": "console=ttyS0 tiny.virtio=1"},
  "machine-config": {"vcpu_count": 1, "mem_size_mib": 64},
  "drives": [
    {"drive_id": "rootfs", "path_on_host": "$tap_tmp/disk.img", "is_root_device": false, "is_read_only": true},
    {"drive_id": "scratch", "path_on_host": "$tap_tmp/rwdisk.img", "is_root_device": false, "is_read_only": false}
  ],
  "logger": {"log_path": "/run/vmm.log", "level": "Info"},
  "metrics": {"metrics_path": "/run/metrics.json"}
}
EOF
root=$base/microvm/kata1/root
run "$jailer" --id kata1 --exec-file "$microvm" --uid 65534 --gid 65534 --chroot-base-dir "$base" \
    --daemonize -- --config-file "$tap_tmp/fcConfig.json"
check "Kata's form: the jailer returns 0 at once, daemonized" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || diag_output
vpid=$(cat "$base/microvm/kata1/microvm.pid" 2>/dev/null || echo 0)
i=0
while [ "$vpid" -gt 0 ] && kill -0 "$vpid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
check "the config file's files are in the jail: the kernel copied, the drives bound" sh -c "
    cmp -s '$root/vmlinux.bin' '$tiny_bz' && [ -f '$root/disk.img' ] && [ -f '$root/rwdisk.img' ]"
check "the jail holds the config file rewritten with jail paths" sh -c "
    grep -qF '\"kernel_image_path\": \"/vmlinux.bin\"' '$root/fcConfig.json' &&
    grep -qF '\"path_on_host\": \"/disk.img\"' '$root/fcConfig.json' &&
    ! grep -qF '$tap_tmp' '$root/fcConfig.json'"
finished "the VM booted at once and ended: its log in the jail's /run says so" \
    grep -q 'guest requested a CPU reset' "$root/run/vmm.log"
finished "the metrics went to the jail's /run, one JSON object a line, naming both drives" python3 -c '
import json, sys
last = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()][-1]
assert [d["kind"] for d in last["devices"]] == ["virtio-blk", "virtio-blk"], last
assert all(d["used"] > 0 for d in last["devices"]), last
' "$root/run/metrics.json"

# --- What a jail cannot honour: refused before anything is made ----------------------

printf '{"boot-source": {"kernel_image_path": "%s"}, "logger": {"log_path": "%s"}}' \
    "$tap_tmp/vmlinux.bin" "$tap_tmp/out.log" >"$tap_tmp/bad-log.json"
run "$jailer" --id bad1 --chroot-base-dir "$base" --exec-file "$microvm" -- --config-file "$tap_tmp/bad-log.json"
check "a config file's log outside /run: refused, naming the field, no jail made" sh -c "
    [ $rc -eq 1 ] && grep -qF 'logger.log_path $tap_tmp/out.log: the VMM creates it' '$tap_tmp/err' &&
    [ ! -e '$base/microvm/bad1' ]"
printf '{"boot-source": {"kernel_image_path": "%s"}, "drives": [{"drive_id": "a", "path_on_host": "%s/missing.img", "is_root_device": false}]}' \
    "$tap_tmp/vmlinux.bin" "$tap_tmp" >"$tap_tmp/bad-drive.json"
run "$jailer" --id bad2 --chroot-base-dir "$base" --exec-file "$microvm" -- --config-file "$tap_tmp/bad-drive.json"
check "a config file's missing drive: refused, naming it, no jail made" sh -c "
    [ $rc -eq 1 ] && grep -qF 'drives.path_on_host $tap_tmp/missing.img' '$tap_tmp/err' &&
    [ ! -e '$base/microvm/bad2' ]"
printf '{"snapshot-load": {"snapshot_path": "%s/vm.snap", "mem_file_path": "%s/vm.mem", "resume_vm": true}}' \
    "$tap_tmp" "$tap_tmp" >"$tap_tmp/load.json"
run "$jailer" --id bad5 --chroot-base-dir "$base" --exec-file "$microvm" -- --config-file "$tap_tmp/load.json"
check "a config file's snapshot-load: refused, pointing at --snapshot and --mem-file, no jail made" sh -c "
    [ $rc -eq 1 ] && grep -qF 'a jailed VMM restores with --snapshot FILE --mem-file FILE' '$tap_tmp/err' &&
    [ ! -e '$base/microvm/bad5' ]"
run "$jailer" --id bad3 --chroot-base-dir "$base" --exec-file "$microvm" -- --api-sock "$tap_tmp/api.sock"
check "--api-sock outside the jail's /run: refused, no jail made" sh -c "
    [ $rc -eq 1 ] && grep -qF 'a socket the VMM creates must be in the jail' '$tap_tmp/err' &&
    [ ! -e '$base/microvm/bad3' ]"
run "$jailer" --id bad4 --chroot-base-dir "$base" --exec-file "$microvm" -- --api-sock /run/api.sock --id other
check "--id for the VMM: refused, the jailer passes its own" sh -c "
    [ $rc -eq 1 ] && grep -qF 'the jailer passes its own --id' '$tap_tmp/err'"

tap_done
