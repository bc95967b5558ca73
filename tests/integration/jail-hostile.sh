#!/bin/sh
# A hostile VMM, in the spirit of Firecracker's jailer tests: the jailer runs jail_probe
# in place of the VMM, as a VMM a guest has taken over would behave, with no seccomp
# filter of its own, so only the jail holds it. Next to it run another VM (a jailed
# probe) and a host process, both of the same uid, and host services on an abstract Unix
# socket and on 127.0.0.1. After the jail is entered the probe tries to signal and
# ptrace those processes, reach those services, open host files, climb out of its
# root, mount, create devices, raise its limits, write outside its root and change ids:
# one test point per attempt, each must be refused, and afterwards nothing outside may
# have changed.
# Usage: jail-hostile.sh JAILER PROBE
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
jailer=$(abs "$1") probe=$(abs "$2")

if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP the jailer needs root"
    exit 0
fi

# One uid for every process here, as jailed VMMs share 65534 by default (a uid of our
# own, so that an attempt that worked could not touch anyone else's process).
uid=4343
base=$tap_tmp/base
pids=
cleanup() {
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$tap_tmp"
}
trap cleanup EXIT

lname=microvm-hostile-$$
python3 "$here/host-listeners.py" "$lname" "$tap_tmp/listeners" 300 &
pids="$pids $!"
setpriv --reuid $uid --regid $uid --clear-groups sleep 300 &
host_victim=$!
pids="$pids $host_victim"
"$jailer" --id victim --uid $uid --gid $uid --chroot-base-dir "$base" --exec-file "$probe" -- -- --sleep 300 \
    </dev/null >/dev/null 2>"$tap_tmp/verr" &
pids="$pids $!"
n=0
until [ -s "$tap_tmp/listeners" ] && [ -s "$base/jail_probe/victim/jail_probe.pid" ] || [ $n -gt 100 ]; do
    n=$((n + 1))
    sleep 0.1
done
vm_victim=$(cat "$base/jail_probe/victim/jail_probe.pid" 2>/dev/null || echo 0)
pids="$pids $vm_victim"
lport=$(awk '$1 == "port" { print $2 }' "$tap_tmp/listeners")
echo "host secret" >"$tap_tmp/secret"
chmod 644 "$tap_tmp/secret"
before=$(find "$tap_tmp" -path "$base/jail_probe/victim" -prune -o -printf '%p %m %s\n' | sort)

run "$jailer" --id attacker --uid $uid --gid $uid --chroot-base-dir "$base" --resource-limit fsize=1048576 \
    --exec-file "$probe" -- -- --victim "$vm_victim" --victim "$host_victim" --abstract "$lname" \
    --tcp "$lport" --hostile
check "the hostile VMM ran in its jail (the other VM's host pid is $vm_victim)" sh -c "
    [ $rc -eq 0 ] && [ $vm_victim -gt 0 ] && grep -qx ready '$tap_tmp/out'"
[ "$rc" -eq 0 ] || diag_output
cp "$tap_tmp/out" "$tap_tmp/attacker"
attacks "$tap_tmp/attacker"
# 6 per victim, 2 services, 26 of --hostile: an attempt that crashed the probe is missing.
check "it made every attempt (40)" [ "$(grep -c '^attack ' "$tap_tmp/attacker")" -eq 40 ]

check "the other VM and the host process live on, neither stopped" sh -c "
    for pid in $vm_victim $host_victim; do
        kill -0 \$pid && [ \"\$(awk '{ print \$3 }' /proc/\$pid/stat)\" = S ] || exit 1
    done"
check "the host services saw no connection" sh -c "! grep -q connected '$tap_tmp/listeners'"
check "nothing outside its jail changed" sh -c "
    [ \"\$(find '$tap_tmp' -path '$base/jail_probe/victim' -prune -o -path '$base/jail_probe/attacker' -prune \
        -o -path '$tap_tmp/out' -prune -o -path '$tap_tmp/err' -prune -o -path '$tap_tmp/attacker' -prune \
        -o -printf '%p %m %s\n' | sort)\" = \"\$(echo '$before' | grep -v -e '/out ' -e '/err ')\" ]"

# Sharing the host's own network namespace (--netns), only Landlock keeps the abstract
# socket out of reach, and signals too.
landlock_abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))')
run "$jailer" --id attacker2 --uid $uid --gid $uid --chroot-base-dir "$base" --netns "/proc/$$/ns/net" \
    --exec-file "$probe" -- -- --abstract "$lname" --victim "$host_victim"
if [ "$landlock_abi" -ge 6 ]; then
    attacks "$tap_tmp/out" "--netns of the host: "
    check "--netns of the host: the abstract socket saw no connection" sh -c "! grep -q connected '$tap_tmp/listeners'"
else
    ok "--netns of the host # SKIP Landlock ABI $landlock_abi cannot scope abstract sockets (README: without Landlock)"
fi

# A directory of the host as stdin would be a way out of any root: the jailer refuses it.
set +e
"$jailer" --id attacker3 --uid $uid --gid $uid --chroot-base-dir "$base" --exec-file "$probe" -- -- --hostile \
    <"$tap_tmp" >"$tap_tmp/out" 2>"$tap_tmp/err"
rc=$?
set -e
check "a host directory as the VMM's stdin: refused before anything is made" sh -c "
    [ $rc -eq 1 ] && grep -q 'fd 0 is a directory' '$tap_tmp/err' && [ ! -e '$base/jail_probe/attacker3' ]"

tap_done
