#!/bin/sh
# Under real KVM, snapshot and restore of a Linux guest that counts, with 1 and then 2
# vCPUs. The guest's /test.sh counts: each number goes to its own sector of a data
# disk (written with fsync), then to the console; every tenth it pings the host over
# virtio-net. Through Firecracker's API the VM is paused, snapshotted and its VMM
# killed; then two VMMs restore that one snapshot at once, each with its own copy of
# the disks (the drives' relative paths resolve where each runs):
# - B in a jail (jailer --netns, the files put in the jail), through PUT /snapshot/load
#   with network_overrides (its own tap) and vsock_override (its own socket);
# - C unjailed, through --snapshot/--mem-file, with the API for the end.
# Each must go on counting from the next number (no restart), ping the host, keep
# every write: in the end sector k of its disk holds k for every k it counted, the
# last being the one its init reports when SendCtrlAltDel stops it.
# Usage: linux-snapshot.sh MICROVM JAILER B_SANITIZE
set -eu
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
microvm=$(abs "$1") jailer=$(abs "$2") sanitize=$3
. "$(dirname "$0")/lib.sh"
require_guest_env
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root for the taps and the jailer"
    exit 0
fi
. "$(dirname "$0")/../integration/api-client.sh"
kernel=$MICROVM_TEST_BZIMAGE
host=169.254.30.1 guest=169.254.30.2
tapa=mvsa$$ netns=mvsnap$$
ip tuntap add dev "$tapa" mode tap
ip addr add "$host/24" dev "$tapa"
ip link set "$tapa" up
ip netns add "$netns"
ip -n "$netns" tuntap add dev tapb mode tap user 65534 group 65534
# The host side keeps its MAC: the restored guest's ARP cache names it.
ip -n "$netns" link set tapb address "$(cat "/sys/class/net/$tapa/address")"
ip -n "$netns" addr add "$host/24" dev tapb
ip -n "$netns" link set tapb up
trap 'ip link del "$tapa" 2>/dev/null || true; ip netns del "$netns" 2>/dev/null || true; rm -rf "$tap_tmp"' EXIT

# The guest's pid 1: Ctrl+Alt+Del (SIGINT, kernel.ctrl-alt-del 0) stops the counter,
# reports its last number, and resets the VM.
cat >"$tap_tmp/count-init" <<'EOF2'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "microvm-guest: user space up: Linux $(uname -r), $(nproc) CPUs"
echo 0 >/proc/sys/kernel/ctrl-alt-del
stop() {
    kill "$counter"
    wait "$counter"
    echo "last=$(cat /tmp/last)"
    echo "microvm-guest: test exit status 0"
    sync
    reboot -f
}
trap stop INT
/test.sh &
counter=$!
while :; do wait; done
EOF2
chmod 755 "$tap_tmp/count-init"
counter="
ip addr add $guest/24 dev eth0
ip link set eth0 up
i=0
while :; do
    i=\$((i + 1))
    printf '%-511s\n' \$i | dd of=/dev/vdb bs=512 seek=\$i count=1 conv=fsync 2>/dev/null
    echo \$i >/tmp/last
    echo \"count \$i\"
    if [ \$((i % 10)) -eq 0 ]; then
        ping -c 1 -W 2 $host >/dev/null 2>&1 && echo \"ping \$i ok\"
    fi
    sleep 0.1
done"

# counts [FILE]: the numbers of the "count N" lines (of standard input without FILE).
counts() { grep '^count ' "$@" | tr -d '\r' | sed 's/^count //'; }
last_count() { counts "$1" | tail -n 1; }
# The pause may fall inside a line, whose first bytes are then A's and the rest the
# restored VM's: A's whole lines are those ending in a newline.
complete_lines() { if [ -n "$(tail -c 1 "$1")" ]; then sed '$d' "$1"; else cat "$1"; fi; }
# continues A_OUT OUT: A's output followed by the restored VM's is one count, 1, 2, ...
# with no number missing or repeated (a restart, a lost or a doubled line all break it).
continues() {
    cat "$1" "$2" | counts | awk '$0 != NR { print "# count " $0 " where " NR " was due"; bad = 1; exit } END { exit bad }'
}
# wait_count FILE N SECONDS: until the guest printed count N or beyond.
wait_count() {
    i=0
    while [ $i -lt $(($3 * 10)) ]; do
        [ "$(last_count "$1")" -ge "$2" ] 2>/dev/null && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
# every_write DISK LAST: sector k holds k for k = 1..LAST.
every_write() {
    python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
last = int(sys.argv[2])
bad = [k for k in range(1, last + 1) if d[512 * k:512 * k + 512].split()[:1] != [str(k).encode()]]
assert last > 0 and not bad, bad[:10]
' "$1" "$2"
}
# stop_vm SOCKET PID: SendCtrlAltDel, then the VMM's exit status (124: it did not end).
stop_vm() {
    sock=$1
    api PUT /actions '{"action_type": "SendCtrlAltDel"}'
    i=0
    while kill -0 "$2" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$2" 2>/dev/null; then
        kill -KILL "$2"
        wait "$2" 2>/dev/null || true
        return 124
    fi
    set +e
    wait "$2"
    st=$?
    set -e
    return $st
}

for vcpus in 1 2; do
    what="$vcpus vCPU(s)"
    a=$tap_tmp/a$vcpus c=$tap_tmp/c$vcpus base=$tap_tmp/jails$vcpus
    # The disks live in run/: in a jail only /run is writable, and the paths the
    # snapshot keeps are relative to where each VMM runs.
    mkdir -p "$a/run" "$c/run" "$base"
    guest_rootfs "$a/run/rootfs.ext4" 64 "$counter" "$tap_tmp/count-init"
    truncate -s 4M "$a/run/data.img"

    # ---- A: boots through the API from its directory, with relative paths ----
    sock=$a/api.sock
    cd "$a"
    "$microvm" --api-sock "$sock" </dev/null >"$a/out" 2>"$a/err" &
    apid=$!
    cd - >/dev/null
    wait_for_socket "$sock"
    api PUT /boot-source "{\"kernel_image_path\": \"$kernel\", \"boot_args\": \"$base_cmdline rootfstype=ext4 init=/bin/count-init\"}"
    api PUT /drives/rootfs '{"drive_id": "rootfs", "path_on_host": "run/rootfs.ext4", "is_root_device": true, "is_read_only": false}'
    api PUT /drives/data '{"drive_id": "data", "path_on_host": "run/data.img", "is_root_device": false, "is_read_only": false}'
    api PUT /network-interfaces/eth0 "{\"iface_id\": \"eth0\", \"host_dev_name\": \"$tapa\"}"
    api PUT /vsock '{"guest_cid": 3, "uds_path": "v.sock"}'
    api PUT /machine-config "{\"vcpu_count\": $vcpus, \"mem_size_mib\": 256}"
    api PUT /actions '{"action_type": "InstanceStart"}'
    expect "$what: A boots through the API" 204
    if ! wait_count "$a/out" 25 300; then
        not_ok "$what: A's guest counts"
        kill -KILL $apid 2>/dev/null || true
        tail -n 20 "$a/out" "$a/err" | sed 's/^/# /'
        continue
    fi
    ok "$what: A's guest counts and pings ($(grep -c '^ping ' "$a/out") pings)"
    api PATCH /vm '{"state": "Paused"}'
    expect "$what: paused" 204
    sleep 1
    paused_at=$(complete_lines "$a/out" | counts | tail -n 1)
    paused_bytes=$(stat -c %s "$a/out")
    api PUT /snapshot/create '{"snapshot_path": "vm.snap", "mem_file_path": "vm.mem", "snapshot_type": "Full"}'
    expect "$what: snapshot created" 204
    kill -KILL $apid
    wait $apid 2>/dev/null || true
    check "$what: A printed nothing more once paused" [ "$(stat -c %s "$a/out")" -eq "$paused_bytes" ]
    rm -f "$a/v.sock" "$a/api.sock"
    echo "# $what: paused at $paused_at; vmstate $(stat -c %s "$a/vm.snap") bytes, memory file $(du -k "$a/vm.mem" | cut -f1) KiB on disk"

    # ---- B: a jailed VMM restores through the API with overrides ----
    id=snap$vcpus-$$
    root=$base/microvm/$id/root
    "$jailer" --id "$id" --chroot-base-dir "$base" --netns "/run/netns/$netns" --exec-file "$microvm" \
        -- --api-sock /run/api.sock </dev/null >"$tap_tmp/b.raw" 2>"$tap_tmp/b.err" &
    bpid=$!
    sock=$root/run/api.sock
    wait_for_socket "$sock"
    cp "$a/vm.snap" "$a/vm.mem" "$root/"
    cp "$a/run/rootfs.ext4" "$a/run/data.img" "$root/run/"
    chown 65534:65534 "$root/vm.snap" "$root/vm.mem" "$root/run/rootfs.ext4" "$root/run/data.img"
    start=$(date +%s%N)
    api PUT /snapshot/load '{"snapshot_path": "/vm.snap", "mem_backend": {"backend_type": "File", "backend_path": "/vm.mem"},
        "resume_vm": true, "network_overrides": [{"iface_id": "eth0", "host_dev_name": "tapb"}],
        "vsock_override": {"uds_path": "/run/b.vsock"}}'
    expect "$what: B (jailed) loads the snapshot with its own tap and vsock socket" 204
    echo "# $what: B's load took $(( ($(date +%s%N) - start) / 1000000 )) ms, curl included"
    bsock=$sock

    # ---- C: unjailed, --snapshot, its own disks in its own directory ----
    cp "$a/run/rootfs.ext4" "$a/run/data.img" "$c/run/"
    cd "$c"
    "$microvm" --snapshot "$a/vm.snap" --mem-file "$a/vm.mem" --api-sock "$c/api.sock" \
        </dev/null >"$c/raw" 2>"$c/err" &
    cpid=$!
    cd - >/dev/null
    csock=$c/api.sock
    wait_for_socket "$csock"

    check "$what: B listens on its vsock override" wait_for_socket "$root/run/b.vsock"
    check "$what: C listens on the snapshot's (relative) vsock path, in its directory" wait_for_socket "$c/v.sock"
    target=$((paused_at + 40))
    check "$what: B goes on counting" wait_count "$tap_tmp/b.raw" $target 300
    check "$what: C goes on counting, at the same time" wait_count "$c/raw" $target 300
    for vm in b c; do
        [ $vm = b ] && out=$tap_tmp/b.raw || out=$c/raw
        if continues "$a/out" "$out"; then
            ok "$what: $vm took up where A paused ($((paused_at + 1)) next)"
        else
            not_ok "$what: $vm took up where A paused ($((paused_at + 1)) next)"
            echo "# $what: A ended with, $vm began with:"
            tail -c 48 "$a/out" | od -c | sed 's/^/#   /'
            head -c 48 "$out" | od -c | sed 's/^/#   /'
        fi
        check "$what: $vm never started over" sh -c "! grep -q 'user space up' '$out'"
        check "$what: $vm pings the host after the restore" grep -q '^ping [0-9]* ok' "$out"
    done
    set +e
    sock=$bsock; stop_vm "$bsock" $bpid; brc=$?
    sock=$csock; stop_vm "$csock" $cpid; crc=$?
    set -e
    tr -d '\r' <"$tap_tmp/b.raw" >"$tap_tmp/b.out"
    tr -d '\r' <"$c/raw" >"$c/out"
    if [ "$sanitize" != none ]; then
        ok "$what: B's jailed VMM ended # SKIP a sanitized VMM cannot finish in a jail (LeakSanitizer needs /proc)"
    else
        check "$what: B's jailed VMM exits 0 at its guest's reset" [ $brc -eq 0 ]
    fi
    check "$what: C exits 0 at its guest's reset" [ $crc -eq 0 ]
    for vm in b c; do
        [ $vm = b ] && { out=$tap_tmp/b.out; disk=$root/run/data.img; } || { out=$c/out; disk=$c/run/data.img; }
        last=$(sed -n 's/^last=//p' "$out" | tail -n 1)
        echo "# $what: $vm counted to $last"
        check "$what: $vm's disk holds every number it counted, 1 to $last" every_write "$disk" "${last:-0}"
    done
    check "$what: A's disk is as A left it (pause at $paused_at)" every_write "$a/run/data.img" "$paused_at"
    [ $crc -eq 0 ] || { tail -n 20 "$c/out" "$c/err" | sed 's/^/# c: /'; }
    [ $brc -eq 0 ] || { tail -n 20 "$tap_tmp/b.out" "$tap_tmp/b.err" | sed 's/^/# b: /'; }
    # The nested host's /tmp is memory: the next round needs it.
    rm -rf "$a" "$c" "$base"
done

tap_done
