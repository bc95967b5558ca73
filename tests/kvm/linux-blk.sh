#!/bin/sh
# Under real KVM, virtio-blk from guest user space:
# - an ext4 root mounted read-write from a drive: a file the guest writes and
#   syncs is in the image, byte for byte, after the VMM exits;
# - a read-only drive: the guest's write fails and the image is unchanged;
# - SIGTERM while the guest writes and syncs in a loop stops the VMM within
#   5 s, with status 0, and leaves an ext4 image that fsck finds clean once
#   its journal is replayed (the kernel's own recovery after a power cut).
# Usage: linux-blk.sh MICROVM
set -eu
microvm=$1
. "$(dirname "$0")/lib.sh"
require_guest_env
kernel=$MICROVM_TEST_BZIMAGE

# The read-only drive holds a known pattern.
head -c 1048576 /dev/urandom >"$tap_tmp/ro.img"
cp "$tap_tmp/ro.img" "$tap_tmp/ro.orig"

guest_rootfs "$tap_tmp/root.img" 64 '
set -e
echo "root=$(grep " / " /proc/mounts)"
dd if=/dev/urandom of=/written.bin bs=64k count=64 2>/dev/null
sync
echo "written_sha=$(sha256sum /written.bin | cut -d" " -f1)"
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/tmp/dd.err; then
    echo "ro_write=succeeded"
else
    echo "ro_write=failed: $(cat /tmp/dd.err)"
fi
echo "ro_sha=$(sha256sum /dev/vdb | cut -d" " -f1)"'

cmdline="$base_cmdline root=/dev/vda rw rootfstype=ext4 init=/init"
boot blk "$microvm" --kernel "$kernel" --mem 256 --cmdline "$cmdline" \
    --drive "path=$tap_tmp/root.img" --drive "path=$tap_tmp/ro.img,ro"
check "the guest booted from the ext4 drive, read-write" \
    grep -q '^root=/dev/root / ext4 rw' "$tap_tmp/blk.out"
check_ran blk
want=$(guest_value blk written_sha)
got=$(debugfs -R "cat /written.bin" "$tap_tmp/root.img" 2>/dev/null | sha256sum | cut -d' ' -f1)
echo "# guest wrote $want; the image holds $got"
check "the file the guest wrote and synced is in the image" sh -c "[ -n '$want' ] && [ '$want' = '$got' ]"
ro_write=$(guest_value blk ro_write)
echo "# read-only drive: $ro_write"
check "a write to the read-only drive fails in the guest" sh -c "case '$ro_write' in failed*) true ;; *) false ;; esac"
check "the guest reads the read-only drive's bytes" \
    [ "$(guest_value blk ro_sha)" = "$(sha256sum <"$tap_tmp/ro.orig" | cut -d' ' -f1)" ]
check "the read-only image is unchanged" cmp -s "$tap_tmp/ro.img" "$tap_tmp/ro.orig"
[ "$rc" -eq 0 ] && [ -n "$want" ] || show blk

# SIGTERM during disk I/O.
guest_rootfs "$tap_tmp/busy.img" 64 '
echo io-running
i=0
while :; do
    dd if=/dev/urandom of=/f$((i % 4)) bs=64k count=16 conv=fsync 2>/dev/null
    i=$((i + 1))
done'
boot_bg busy "$microvm" --kernel "$kernel" --mem 256 --cmdline "$cmdline" --drive "path=$tap_tmp/busy.img"
if wait_for "$tap_tmp/busy.raw" '^io-running' 180; then
    sleep 3
    start=$(date +%s%N)
    kill -TERM "$vmm_pid"
    finish_bg busy
    took=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "# SIGTERM during disk I/O: the VMM exited with status $rc after $took ms"
    check "SIGTERM during disk I/O stops the VMM with status 0" [ "$rc" -eq 0 ]
    check "SIGTERM during disk I/O stops the VMM within 5 s" [ "$took" -lt 5000 ]
    check "the VMM logged the stop" grep -q 'received Terminated: stopping the VM' "$tap_tmp/busy.err"
    e2fsck -E journal_only -y "$tap_tmp/busy.img" >"$tap_tmp/fsck1" 2>&1 || true
    set +e
    e2fsck -f -n "$tap_tmp/busy.img" >"$tap_tmp/fsck2" 2>&1
    fsck_rc=$?
    set -e
    sed 's/^/# fsck: /' "$tap_tmp/fsck2"
    check "after journal replay, fsck finds the image clean" [ "$fsck_rc" -eq 0 ]
else
    kill -KILL "$vmm_pid" 2>/dev/null || true
    finish_bg busy
    not_ok "the busy guest started writing"
    show busy
fi

tap_done
