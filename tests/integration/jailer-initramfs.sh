#!/bin/sh
# The jailer on a host whose root is its initramfs, where pivot_root cannot work: run by
# tests/kvm/run-kvm --initramfs-root inside the nested KVM host, as its root. The jail is
# entered by moving it onto / and chroot; the VMM's mount namespace must then hold
# nothing of the host but the initramfs under the jail. The probe stand-in reports from
# inside, the real VMM boots the tiny guest (real KVM there), and rootless is refused.
# Usage: jailer-initramfs.sh JAILER PROBE MICROVM TINY_ELF B_SANITIZE
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
jailer=$1 probe=$2 microvm=$3 tiny_elf=$4 sanitize=$5

if [ "$(awk '$5 == "/" { print $9; exit }' /proc/self/mountinfo)" != rootfs ]; then
    echo "1..0 # SKIP this host's root is not an initramfs (run through tests/kvm/run-kvm --initramfs-root)"
    exit 0
fi

base=$tap_tmp/base
echo "host secret" >"$tap_tmp/secret"
head -c 4096 /dev/zero >"$tap_tmp/disk.img"
chmod 666 "$tap_tmp/disk.img"
host_mounts=$(wc -l </proc/self/mountinfo)

mkfifo "$tap_tmp/fifo"
"$jailer" --id p1 --chroot-base-dir "$base" --exec-file "$probe" -- --drive "path=$tap_tmp/disk.img,ro" \
    -- --exit 3 "$tap_tmp/secret" <"$tap_tmp/fifo" >"$tap_tmp/pout" 2>"$tap_tmp/perr" &
jpid=$!
exec 3>"$tap_tmp/fifo"
n=0
until grep -qx ready "$tap_tmp/pout" 2>/dev/null || [ $n -gt 300 ] || ! kill -0 $jpid 2>/dev/null; do
    n=$((n + 1))
    sleep 0.1
done
vpid=$(cat "$base/jail_probe/p1/jail_probe.pid" 2>/dev/null || echo 0)
said() { grep -qxF "$1" "$tap_tmp/pout"; }
check "pivot_root cannot leave an initramfs, yet the VMM runs in its jail" sh -c "
    [ $vpid -gt 0 ] && grep -qx ready '$tap_tmp/pout' &&
    [ \"\$(stat -L -c %d:%i /proc/$vpid/root)\" = \"\$(stat -c %d:%i '$base/jail_probe/p1/root')\" ]"
[ "$vpid" -gt 0 ] || sed 's/^/# /' "$tap_tmp/perr"
python3 "$here/mounts-of.py" "$vpid" >"$tap_tmp/mounts" 2>&1 || true
sed 's/^/# the VMM'"'"'s namespace: /' "$tap_tmp/mounts"
check "its mount namespace holds 4 mounts, the initramfs under the jail, the jail, its disk, its /run: none of the host's $host_mounts" sh -c "
    [ \"\$(grep ^visible '$tap_tmp/mounts' | sort | tr '\n' ' ')\" = 'visible rootfs / visible rootfs /disk.img visible rootfs /run ' ] &&
    grep -qx 'count 4' '$tap_tmp/mounts'"
check "inside, the host's files are out of reach and the root is read-only" sh -c "
    grep -qxF 'open $tap_tmp/secret No such file or directory' '$tap_tmp/pout' &&
    grep -qx 'create / Read-only file system' '$tap_tmp/pout'"
check "the read-only drive is bound read-only" said "openrw /disk.img Read-only file system"
check "no capabilities, no_new_privs, pid 1 of its own pid namespace" sh -c "
    [ \"\$(grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/$vpid/status | awk '{ print \$2 }' | sort -u)\" = 0000000000000000 ] &&
    grep -Eq '^NoNewPrivs:[[:space:]]+1$' /proc/$vpid/status && grep -qx 'pid 1' '$tap_tmp/pout'"
# landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): ABI 6 scopes sockets.
landlock_abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))')
if [ "$landlock_abi" -ge 6 ]; then
    check "Landlock scoping in force: no warning about it" sh -c "! grep -q Landlock '$tap_tmp/perr'"
else
    check "without Landlock scoping here (ABI $landlock_abi), the jailer says so once" \
        [ "$(grep -c 'not scoped to the jail' "$tap_tmp/perr")" -eq 1 ]
fi
exec 3>&-
set +e
wait $jpid
rc=$?
set -e
check "the VMM's exit status comes back through the jailer (3)" [ "$rc" -eq 3 ]

# The hostile stand-in (tests/integration/jail-hostile.sh), here where the jail is a chroot.
setpriv --reuid 65534 --regid 65534 --clear-groups sleep 120 &
victim=$!
run "$jailer" --id hostile --chroot-base-dir "$base" --resource-limit fsize=1048576 --exec-file "$probe" -- \
    -- --victim "$victim" --hostile
check "a hostile VMM made its 32 attempts" sh -c "[ $rc -eq 0 ] && [ \$(grep -c '^attack ' '$tap_tmp/out') -eq 32 ]"
attacks "$tap_tmp/out" "hostile VMM: "
check "the host process of its uid lives on" kill -0 "$victim"
kill "$victim"

if [ "$sanitize" != none ]; then
    ok "boot the tiny guest in a jail on the initramfs # SKIP the sanitizer runtime needs /proc, which a jail lacks"
else
    run timeout 120 "$jailer" --id boot1 --chroot-base-dir "$base" --cleanup --exec-file "$microvm" -- \
        --kernel "$tiny_elf"
    check "the real VMM boots the tiny guest in a jail on the initramfs" sh -c "
        [ $rc -eq 0 ] && grep -q 'tiny: done' '$tap_tmp/out' && [ ! -e '$base/microvm/boot1' ]"
    [ "$rc" -eq 0 ] || diag_output
fi

# Rootless, the host's mounts are locked to the namespace's root: they cannot be detached.
chmod 755 "$tap_tmp"
mkdir "$tap_tmp/ubase"
chown 4242:4242 "$tap_tmp/ubase"
run setpriv --reuid 4242 --regid 4242 --clear-groups "$jailer" --id u1 --chroot-base-dir "$tap_tmp/ubase" \
    --userns --exec-file "$probe" --
if grep -q 'new user namespace\|user namespace:' "$tap_tmp/err" && ! grep -q 'cannot be detached' "$tap_tmp/err"; then
    ok "--userns on an initramfs # SKIP no user namespaces here: $(head -n 1 "$tap_tmp/err")"
else
    check "--userns on an initramfs: refused with one line, the jail removed" sh -c "
        [ $rc -eq 1 ] && grep -q 'cannot be detached from the jail.s namespace' '$tap_tmp/err' &&
        [ ! -e '$tap_tmp/ubase/jail_probe/u1' ]"
    [ "$rc" -eq 1 ] || diag_output
fi

tap_done
