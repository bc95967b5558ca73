#!/bin/sh
# The jailer, for real, as root, in temporary directories.
# - The VMM through the jailer, in the design's form and the --exec-file form.
# - The jailed process's state, seen from outside through /proc/PID and from inside by
#   jail_probe, a stand-in VMM that reports and then waits: ids, capabilities,
#   no_new_privs, namespaces, root, fds, limits, cgroup, argument rewriting, host files
#   and host sockets out of reach; with --new-pid-ns, --cleanup, --daemonize, --netns
#   (a tap in it for --net), --userns.
# - Bad input: one clear message, and nothing created on the host.
# Usage: jailer.sh MICROVM JAILER PROBE TINY_ELF TINY_BZIMAGE B_SANITIZE
set -eu
. "$(dirname "$0")/tap.sh"
# Absolute paths: some tests run from other directories.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
microvm=$(abs "$1") jailer=$(abs "$2") probe=$(abs "$3") tiny_elf=$(abs "$4") tiny_bz=$(abs "$5")
sanitize=$6

if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP the jailer needs root"
    exit 0
fi

cgmount=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
cgparent=jailer-test-$$
netns_file=$tap_tmp/netns
daemons= listeners=
cleanup() {
    # A daemonized probe or monitor may outlive a failed test: end it (if that pid is
    # still one of ours) before removing its jail.
    [ -z "$listeners" ] || kill "$listeners" 2>/dev/null || true
    for pid in $daemons; do
        grep -qE 'jail_probe|jailer|microvm' "/proc/$pid/cmdline" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    done
    [ -n "$cgmount" ] && [ -d "$cgmount/$cgparent" ] &&
        find "$cgmount/$cgparent" -depth -type d -exec rmdir {} + 2>/dev/null || true
    umount "$netns_file" 2>/dev/null || true
    ip netns del "microvm-jailer-$$" 2>/dev/null || true
    rm -rf "$tap_tmp"
}
trap cleanup EXIT

# vmm_check DESCRIPTION PATTERN: the VMM run above exited 0 and printed PATTERN. A
# sanitized VMM runs in a jail but dies at exit, its output unflushed: LeakSanitizer
# needs /proc. The jail it ran in is still checked.
vmm_check() {
    if [ "$sanitize" != none ]; then
        ok "$1 # SKIP a sanitized VMM cannot finish in a jail (LeakSanitizer needs /proc)"
    elif [ "$rc" -eq 0 ] && grep -q -- "$2" "$tap_tmp/out"; then
        ok "$1"
    else
        not_ok "$1"
        diag_output
    fi
}

base=$tap_tmp/base
kdir=$tap_tmp/k
mkdir "$kdir"
cp "$tiny_bz" "$kdir/tiny.bzImage"
kernel_stat=$(stat -c '%a %u:%g %h %Y' "$kdir/tiny.bzImage")
# A dynamically linked VMM needs its ELF interpreter and libraries in the jail.
interp=$(readelf -l "$microvm" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
printf 'initrd-bytes' >"$kdir/initrd.img"
head -c 4096 /dev/zero >"$tap_tmp/disk.img"
head -c 8192 /dev/zero >"$tap_tmp/rwdisk.img"
# The operator lets the VM's uid write both images: only the jail can keep the ro one so.
chmod 666 "$tap_tmp/disk.img" "$tap_tmp/rwdisk.img"
echo "host secret" >"$tap_tmp/secret"

# --- The real VMM through the jailer ----------------------------------------------

# The design's form, as typed, from the kernel's directory: "microvm" found in PATH.
run sh -c "cd '$kdir' && PATH='$(dirname "$microvm"):$PATH' exec '$jailer' --id vm1 --chroot-base-dir '$base' -- microvm --kernel tiny.bzImage --check"
vmm_check "design form: jailer --id vm1 -- microvm --kernel tiny.bzImage --check" \
    'kernel: /tiny.bzImage: bzImage, boot protocol 2.15'
check "the jail holds the VMM (and its interpreter and libc if dynamic), the kernel, /dev" sh -c "
    cd '$base/microvm/vm1/root' && [ -x microvm ] && [ -f tiny.bzImage ] &&
    { [ -z '$interp' ] || { [ -x '.$interp' ] && [ -f lib/x86_64-linux-gnu/libc.so.6 ]; }; } &&
    [ \"\$(stat -c '%F %t,%T %a %u:%g' dev/kvm)\" = 'character special file a,e8 600 65534:65534' ] &&
    [ \"\$(stat -c '%F %t,%T %a %u:%g' dev/net/tun)\" = 'character special file a,c8 600 65534:65534' ] &&
    [ \"\$(stat -c '%F %t,%T %a %u:%g' dev/urandom)\" = 'character special file 1,9 600 65534:65534' ]"
check "the kernel is a copy owned by the VM, mode 0400; the original is untouched" sh -c "
    [ \"\$(stat -c '%a %u:%g' '$base/microvm/vm1/root/tiny.bzImage')\" = '400 65534:65534' ] &&
    [ \"\$(stat -c '%a %u:%g %h %Y' '$kdir/tiny.bzImage')\" = '$kernel_stat' ] &&
    cmp -s '$kdir/tiny.bzImage' '$base/microvm/vm1/root/tiny.bzImage'"
check "a pid file next to the jail root" sh -c "grep -qx '[0-9][0-9]*' '$base/microvm/vm1/microvm.pid'"

run "$jailer" --id vm1 --chroot-base-dir "$base" -- "$microvm" --kernel "$kdir/tiny.bzImage" --check
check "the same id again: refused, the existing jail kept" sh -c "
    [ $rc -eq 1 ] && grep -q 'vm1: a jail with this id already exists' '$tap_tmp/err' &&
    [ -f '$base/microvm/vm1/root/tiny.bzImage' ]"

run "$jailer" --id vm2 --chroot-base-dir "$base" --exec-file "$microvm" -- --kernel "$kdir/tiny.bzImage" --initrd "$kdir/initrd.img" --check
vmm_check "--exec-file form, with an initrd" 'initrd: .*12 bytes'

# A bare VMM name is looked up next to the jailer first.
mkdir "$tap_tmp/bin"
cp "$jailer" "$microvm" "$tap_tmp/bin/"
cp "$tiny_elf" "$kdir/tiny.elf"
run env PATH=/nonexistent "$tap_tmp/bin/jailer" --id vm3 --chroot-base-dir "$base" -- microvm --kernel "$kdir/tiny.elf" --check
vmm_check "a bare VMM name is found next to the jailer (with an ELF kernel)" 'kernel: /tiny.elf: ELF vmlinux'

# Booting needs the VMM's run loop and a VMM without sanitizers (their runtimes need /proc).
if [ "$sanitize" != none ]; then
    ok "boot the tiny guest in a jail # SKIP the sanitizer runtime needs /proc, which a jail lacks"
elif ! (cd "$kdir" && timeout 60 "$microvm" --kernel tiny.bzImage 2>/dev/null | grep -q 'tiny: done'); then
    ok "boot the tiny guest in a jail # SKIP microvm does not boot the tiny guest outside a jail yet"
else
    run sh -c "cd '$kdir' && PATH='$(dirname "$microvm"):$PATH' exec timeout 60 '$jailer' --id boot1 --chroot-base-dir '$base' -- microvm --kernel tiny.bzImage"
    check "design form boots the tiny guest" sh -c "[ $rc -eq 0 ] && grep -q 'tiny: done' '$tap_tmp/out'"
    [ "$rc" -eq 0 ] || diag_output
    run timeout 60 "$jailer" --id boot2 --chroot-base-dir "$base" --new-pid-ns --cleanup --exec-file "$microvm" -- --kernel "$kdir/tiny.bzImage"
    check "--exec-file form boots the tiny guest (--new-pid-ns --cleanup)" sh -c "
        [ $rc -eq 0 ] && grep -q 'tiny: done' '$tap_tmp/out' && [ ! -e '$base/microvm/boot2' ]"
    [ "$rc" -eq 0 ] || diag_output
    # --net as README shows it: the operator's namespace holds a tap owned by the VM's ids.
    tapns=microvm-jailer-$$
    if command -v ip >/dev/null && ip netns add "$tapns" 2>/dev/null; then
        ip -n "$tapns" tuntap add dev mvtap0 mode tap user 65534 group 65534
        ip -n "$tapns" link set mvtap0 up
        run timeout 60 "$jailer" --id net1 --chroot-base-dir "$base" --netns "/run/netns/$tapns" \
            --exec-file "$microvm" -- --kernel "$kdir/tiny.bzImage" --no-pvm --mem 64 \
            --cmdline "console=ttyS0 tiny.virtio=1" --net tap=mvtap0
        check "--net with --netns naming the tap's namespace: the guest's frame goes out" sh -c "
            [ $rc -eq 0 ] && grep -q 'virtio-net: .* tx=done' '$tap_tmp/out'"
        [ "$rc" -eq 0 ] || diag_output
        run timeout 60 "$jailer" --id net2 --chroot-base-dir "$base" \
            --exec-file "$microvm" -- --kernel "$kdir/tiny.bzImage" --no-pvm --mem 64 \
            --cmdline "console=ttyS0 tiny.virtio=1" --net tap=mvtap0
        check "--net without --netns: the VM's own empty namespace has no such tap" sh -c "
            [ $rc -eq 1 ] && grep -q 'tap=mvtap0: cannot attach to the tap device' '$tap_tmp/err'"
        ip netns del "$tapns"
    else
        ok "--net through --netns # SKIP cannot make a network namespace with ip(8)"
    fi
fi

# --- The jailed process, from outside and from inside -------------------------------

# probe_start ID JAILER-ARGS... -- PROBE-ARGS...: starts the probe in a jail under $base,
# as root or as $as says, with a FIFO as stdin, and waits for "ready" and the pid file.
# Sets jpid (the jailer) and vpid (the VMM, from the pid file).
as=
probe_start() {
    id=$1
    shift
    rm -f "$tap_tmp/fifo" "$tap_tmp/pout" "$tap_tmp/perr"
    mkfifo "$tap_tmp/fifo"
    $as "$jailer" --id "$id" --chroot-base-dir "$base" "$@" <"$tap_tmp/fifo" >"$tap_tmp/pout" 2>"$tap_tmp/perr" &
    jpid=$!
    exec 3>"$tap_tmp/fifo"
    pidfile=$base/jail_probe/$id/jail_probe.pid
    n=0
    until grep -qx ready "$tap_tmp/pout" 2>/dev/null && [ -s "$pidfile" ]; do
        n=$((n + 1))
        if [ $n -gt 300 ] || ! kill -0 $jpid 2>/dev/null; then
            sed 's/^/# /' "$tap_tmp/perr"
            vpid=0
            return 0
        fi
        sleep 0.1
    done
    vpid=$(cat "$pidfile")
}

# probe_finish: closes the probe's stdin and collects the jailer's exit status in rc.
probe_finish() {
    exec 3>&-
    set +e
    wait $jpid
    rc=$?
    set -e
}

status_of() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$vpid/status"; }
ns_differs() { [ "$(readlink "/proc/$vpid/ns/$1")" != "$(readlink "/proc/self/ns/$1")" ]; }
said() { grep -qxF "$1" "$tap_tmp/pout"; }

# Host services on an abstract Unix socket and on 127.0.0.1, which no jail may reach.
lname=microvm-jailer-test-$$
python3 "$(dirname "$0")/host-listeners.py" "$lname" "$tap_tmp/listeners" 300 &
listeners=$!
n=0
while [ ! -s "$tap_tmp/listeners" ] && [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.1; done
lport=$(awk '$1 == "port" { print $2 }' "$tap_tmp/listeners")
# landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION): ABI 6 scopes sockets.
landlock_abi=$(python3 -c 'import ctypes; print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))')

probe_start p1 --exec-file "$probe" -- --kernel "$kdir/tiny.bzImage" --initrd="$kdir/initrd.img" \
    --drive "path=$tap_tmp/disk.img,ro" --drive "path=$tap_tmp/rwdisk.img" -- --exit 7 "$tap_tmp/secret" \
    /proc/self/status --abstract "$lname" --tcp "$lport"
check "the probe runs in the jail" [ "$vpid" -gt 0 ]
check "uid and gid 65534 (real, effective, saved, fs); no supplementary groups" sh -c "
    [ \"\$(awk '/^Uid:/ { print \$2, \$3, \$4, \$5 }' /proc/$vpid/status)\" = '65534 65534 65534 65534' ] &&
    [ \"\$(awk '/^Gid:/ { print \$2, \$3, \$4, \$5 }' /proc/$vpid/status)\" = '65534 65534 65534 65534' ] &&
    [ \"\$(awk '/^Groups:/ { print NF }' /proc/$vpid/status)\" = 1 ]"
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
    check "$cap is empty" [ "$(status_of $cap)" = 0000000000000000 ]
done
check "NoNewPrivs 1" [ "$(status_of NoNewPrivs)" = 1 ]
check "Seccomp 0 in the stand-in: the jailer itself installs no filter" [ "$(status_of Seccomp)" = 0 ]
for ns in mnt ipc uts; do
    check "its $ns namespace is not the host's" ns_differs $ns
done
check "its pid namespace is its own without --new-pid-ns, where it is pid 1" sh -c "
    [ \"\$(readlink /proc/$vpid/ns/pid)\" != \"\$(readlink /proc/self/ns/pid)\" ] && grep -qx 'pid 1' '$tap_tmp/pout'"
check "its net namespace is its own without --netns, with only a loopback device" sh -c "
    [ \"\$(readlink /proc/$vpid/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ] &&
    [ \"\$(awk -F: 'NR > 2 { gsub(/ /, \"\", \$1); print \$1 }' /proc/$vpid/net/dev)\" = lo ]"
check "it cannot reach the host's abstract Unix socket or 127.0.0.1, and the host saw nothing" sh -c "
    grep -qx 'attack connect to the abstract socket @$lname: refused (Connection refused)' '$tap_tmp/pout' &&
    grep -qx 'attack connect to 127.0.0.1:$lport: refused (Network is unreachable)' '$tap_tmp/pout' &&
    ! grep -q connected '$tap_tmp/listeners'"
if [ "$landlock_abi" -ge 6 ]; then
    check "Landlock scoping in force: no warning about it" sh -c "! grep -q Landlock '$tap_tmp/perr'"
else
    check "no Landlock scoping on this kernel (ABI $landlock_abi): the jailer says so" \
        grep -q 'abstract Unix sockets and signals are not scoped to the jail' "$tap_tmp/perr"
fi
check "the jailer stays as its monitor: the pid file names the VMM, the jailer's child" sh -c "
    [ $vpid -ne $jpid ] && [ \"\$(awk '{ print \$4 }' /proc/$vpid/stat)\" = $jpid ]"
check "its root directory is the jail" \
    [ "$(stat -L -c %d:%i "/proc/$vpid/root")" = "$(stat -c %d:%i "$base/jail_probe/p1/root")" ]
check "its open fds are 0, 1 and 2 only (seen from outside)" \
    [ "$(ls "/proc/$vpid/fd" | sort -n | tr '\n' ' ')" = "0 1 2 " ]
check "its open fds are 0, 1 and 2 only (seen from inside)" \
    [ "$(grep '^fd ' "$tap_tmp/pout" | tr '\n' ' ')" = "fd 0 fd 1 fd 2 " ]
check "limits: no-file 2048 by default, fsize untouched" sh -c "
    grep -Eq '^Max open files +2048 +2048 ' /proc/$vpid/limits &&
    grep -Eq '^Max file size +unlimited +unlimited ' /proc/$vpid/limits"
check "its arguments name the files' jail paths" sh -c "
    grep -qx 'arg /tiny.bzImage' '$tap_tmp/pout' && grep -qx 'arg --initrd=/initrd.img' '$tap_tmp/pout' &&
    grep -qx 'arg path=/disk.img,ro' '$tap_tmp/pout'"
check "it can read the kernel, the initrd and the disk image" sh -c "
    grep -qx 'open /tiny.bzImage ok $(stat -c %s "$tiny_bz")' '$tap_tmp/pout' &&
    grep -qx 'open /initrd.img ok 12' '$tap_tmp/pout' && grep -qx 'open /disk.img ok 4096' '$tap_tmp/pout'"
check "the disk image is the operator's file, bound in (same inode), not a copy" \
    [ "$(stat -L -c %d:%i "/proc/$vpid/root/disk.img")" = "$(stat -c %d:%i "$tap_tmp/disk.img")" ]
# mount_opts PATH: the per-mount options of the mount at PATH in the VMM's namespace, bar atime ones.
mount_opts() { awk -v p="$1" '$5 == p { gsub(/,(rel|no)atime/, "", $6); print $6 }' "/proc/$vpid/mountinfo"; }
check "a read-only drive is bound read-only (nosuid, nodev, noexec): the VMM cannot open it for writing" sh -c "
    [ '$(mount_opts /disk.img)' = ro,nosuid,nodev,noexec ] && grep -qx 'openrw /disk.img Read-only file system' '$tap_tmp/pout'"
check "a read-write drive is bound read-write (nosuid, nodev, noexec) and opens for writing" sh -c "
    [ '$(mount_opts /rwdisk.img)' = rw,nosuid,nodev,noexec ] && grep -qx 'openrw /rwdisk.img ok' '$tap_tmp/pout'"
check "a host file next to the jail is out of reach from inside" \
    said "open $tap_tmp/secret No such file or directory"
check "no /proc in the jail" said "open /proc/self/status No such file or directory"
check "it opens /dev/kvm, /dev/net/tun and /dev/urandom" sh -c "
    grep -qx 'open /dev/kvm ok 0' '$tap_tmp/pout' && grep -qx 'open /dev/net/tun ok 0' '$tap_tmp/pout' &&
    grep -qx 'open /dev/urandom ok 0' '$tap_tmp/pout'"
check "the jail root is read-only to it" said "create / Read-only file system"
probe_finish
check "the jailer's exit status is the VMM's (7)" [ "$rc" -eq 7 ]
check "the jail stays after the VMM ends (no --cleanup)" [ -f "$base/jail_probe/p1/root/jail_probe" ]

# Regression: the jailer's own copy of microvm's options lacked --net, so its value
# ended the scan and the kernel named after it stayed outside the jail.
probe_start p8 --exec-file "$probe" -- --net tap=t0 --kernel "$kdir/tiny.bzImage" --seccomp-policy "$kdir/initrd.img"
check "every file after --net is brought in: the kernel and the --seccomp-policy file" sh -c "
    grep -qx 'arg tap=t0' '$tap_tmp/pout' && grep -qx 'arg /tiny.bzImage' '$tap_tmp/pout' &&
    grep -qx 'open /tiny.bzImage ok $(stat -c %s "$tiny_bz")' '$tap_tmp/pout' &&
    grep -qx 'arg /initrd.img' '$tap_tmp/pout' && grep -qx 'open /initrd.img ok 12' '$tap_tmp/pout'"
probe_finish

# The real VMM, jailed and running (a guest that spins until stopped): the same state,
# plus the seccomp filters it installs itself on every thread.
if [ "$sanitize" != none ]; then
    ok "a running jailed VMM # SKIP the sanitizer runtime needs /proc, which a jail lacks"
else
    python3 "$(dirname "$0")/mkguest.py" "$kdir/spin.elf" spin
    "$jailer" --id spin1 --chroot-base-dir "$base" --exec-file "$microvm" -- --kernel "$kdir/spin.elf" --vcpus 2 \
        </dev/null >"$tap_tmp/sout" 2>"$tap_tmp/serr" &
    jpid=$!
    vpid=0
    n=0
    until [ "$(grep -l '^Seccomp:[[:space:]]*2$' /proc/$vpid/task/*/status 2>/dev/null | wc -l)" -ge 3 ] || [ $n -gt 100 ]; do
        n=$((n + 1))
        sleep 0.1
        vpid=$(cat "$base/microvm/spin1/microvm.pid" 2>/dev/null || echo 0)
    done
    daemons="$daemons $jpid $vpid"
    threads=$(ls /proc/$vpid/task | wc -l)
    check "running jailed VMM: all $threads threads have Seccomp 2" sh -c "[ $threads -ge 3 ] &&
        [ \$(grep -l '^Seccomp:[[:space:]]*2\$' /proc/$vpid/task/*/status | wc -l) -eq $threads ]"
    check "running jailed VMM: uid and gid 65534" sh -c "
        [ \"\$(awk '/^Uid:/ { print \$2, \$3, \$4, \$5 }' /proc/$vpid/status)\" = '65534 65534 65534 65534' ] &&
        [ \"\$(awk '/^Gid:/ { print \$2, \$3, \$4, \$5 }' /proc/$vpid/status)\" = '65534 65534 65534 65534' ]"
    for cap in CapPrm CapEff CapBnd CapAmb; do
        check "running jailed VMM: $cap is empty" [ "$(status_of $cap)" = 0000000000000000 ]
    done
    check "running jailed VMM: NoNewPrivs 1" [ "$(status_of NoNewPrivs)" = 1 ]
    # A dumpable process's /proc/PID files belong to its uid, a non-dumpable one's to root.
    check "running jailed VMM: not dumpable (no core, no ptrace by its uid)" \
        [ "$(stat -c %u "/proc/$vpid/environ")" = 0 ]
    for ns in mnt ipc uts; do
        check "running jailed VMM: its $ns namespace is not the host's" ns_differs $ns
    done
    check "running jailed VMM: its root directory is the jail" \
        [ "$(stat -L -c %d:%i "/proc/$vpid/root")" = "$(stat -c %d:%i "$base/microvm/spin1/root")" ]
    # Beyond stdio, only what the VMM opened itself: KVM, its vCPUs, eventfds, signalfd, epoll.
    only_own_fds() {
        for fd in /proc/$vpid/fd/*; do
            [ "${fd##*/}" -le 2 ] && continue
            case $(readlink "$fd") in /dev/kvm | anon_inode:*) ;; *) return 1 ;; esac
        done
    }
    check "running jailed VMM: every fd above 2 is the VMM's own" only_own_fds
    kill -TERM $jpid
    set +e
    wait $jpid
    rc=$?
    set -e
    check "running jailed VMM: SIGTERM to the jailer reaches it, and its status 0 comes back" [ "$rc" -eq 0 ]
fi

probe_start p2 --new-pid-ns --uid 1234 --gid 4321 --resource-limit fsize=1048576 \
    --resource-limit no-file=64 --exec-file "$probe" -- -- --exit 5
check "--new-pid-ns: the VMM is pid 1 inside" said "pid 1"
check "--new-pid-ns: its pid namespace is not the host's" ns_differs pid
check "--new-pid-ns: a monitor waits for it, and the pid file names the VMM" sh -c "
    [ $vpid -ne $jpid ] && [ \"\$(awk '{ print \$4 }' /proc/$vpid/stat)\" = $jpid ]"
check "--uid 1234 --gid 4321" sh -c "grep -qx 'uid 1234 1234' '$tap_tmp/pout' && grep -qx 'gid 4321 4321' '$tap_tmp/pout'"
check "--new-pid-ns: capabilities still empty, NoNewPrivs 1" sh -c "
    [ \"\$(grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/$vpid/status | awk '{ print \$2 }' | sort -u)\" = 0000000000000000 ] &&
    grep -Eq '^NoNewPrivs:[[:space:]]+1$' /proc/$vpid/status"
check "--resource-limit fsize=1048576 no-file=64" sh -c "
    grep -Eq '^Max file size +1048576 +1048576 ' /proc/$vpid/limits &&
    grep -Eq '^Max open files +64 +64 ' /proc/$vpid/limits"
probe_finish
check "--new-pid-ns: the jailer's exit status is the VMM's (5)" [ "$rc" -eq 5 ]

if [ -n "$cgmount" ]; then
    probe_start p3 --cleanup --parent-cgroup "$cgparent" --cgroup cgroup.max.descendants=0 \
        --cgroup cgroup.max.depth=1 --exec-file "$probe" -- -- --exit 3
    check "--cgroup: the VMM is in <parent-cgroup>/<id>" grep -qx "0::/$cgparent/p3" "/proc/$vpid/cgroup"
    check "--cgroup: the values are set" sh -c "
        [ \"\$(cat '$cgmount/$cgparent/p3/cgroup.max.descendants')\" = 0 ] &&
        [ \"\$(cat '$cgmount/$cgparent/p3/cgroup.max.depth')\" = 1 ]"
    probe_finish
    check "--cleanup: exit status 3, jail and cgroup removed" sh -c "
        [ $rc -eq 3 ] && [ ! -e '$base/jail_probe/p3' ] && [ ! -e '$cgmount/$cgparent/p3' ]"
else
    ok "--cgroup # SKIP no cgroup v2 hierarchy mounted"
fi

: >"$netns_file"
unshare --net="$netns_file" true
probe_start p4 --netns "$netns_file" --exec-file "$probe" --
check "--netns: the VMM is in that network namespace" \
    [ "$(readlink "/proc/$vpid/ns/net")" = "net:[$(stat -L -c %i "$netns_file")]" ]
probe_finish
# --netns naming the host's own namespace: the abstract socket is there, and only Landlock
# keeps the VMM from it (TCP in a shared namespace is the operator's choice).
probe_start p4h --netns "/proc/$$/ns/net" --exec-file "$probe" -- -- --abstract "$lname"
if [ "$landlock_abi" -ge 6 ]; then
    check "--netns of the host: Landlock refuses the host's abstract socket" sh -c "
        grep -qx 'attack connect to the abstract socket @$lname: refused (Operation not permitted)' '$tap_tmp/pout' &&
        ! grep -q 'connected abstract' '$tap_tmp/listeners'"
else
    ok "--netns of the host: abstract sockets # SKIP Landlock ABI $landlock_abi cannot scope them (README)"
fi
probe_finish

# --daemonize: the jailer returns at once; its monitor leads a new session, with the VMM
# in it, on /dev/null.
run "$jailer" --id p5 --chroot-base-dir "$base" --daemonize --exec-file "$probe" -- -- --sleep 60
vpid=$(cat "$base/jail_probe/p5/jail_probe.pid" 2>/dev/null || echo 0)
mpid=$(awk '{ print $4 }' "/proc/$vpid/stat" 2>/dev/null || echo 0)
daemons="$daemons $vpid $mpid"
check "--daemonize: exit 0 while the VMM runs" sh -c "[ $rc -eq 0 ] && [ $vpid -gt 0 ] && kill -0 $vpid"
check "--daemonize: a new session, led by the VMM's monitor" sh -c "
    [ \"\$(awk '{ print \$6 }' /proc/$vpid/stat)\" = $mpid ] && [ \"\$(awk '{ print \$6 }' /proc/$mpid/stat)\" = $mpid ]"
check "--daemonize: stdin, stdout and stderr are /dev/null" sh -c "
    for fd in 0 1 2; do [ \"\$(stat -L -c %t:%T /proc/$vpid/fd/\$fd)\" = 1:3 ] || exit 1; done"
kill -KILL "$vpid"

# --daemonize --cleanup: a monitor stays, removes the jail when the VMM dies, and its own
# death takes the VMM down (PR_SET_PDEATHSIG).
run "$jailer" --id p6 --chroot-base-dir "$base" --daemonize --cleanup --new-pid-ns --exec-file "$probe" -- -- --sleep 60
vpid=$(cat "$base/jail_probe/p6/jail_probe.pid" 2>/dev/null || echo 0)
daemons="$daemons $vpid $(awk '{ print $4 }' "/proc/$vpid/stat" 2>/dev/null)"
check "--daemonize --cleanup: exit 0, the VMM runs" sh -c "[ $rc -eq 0 ] && [ $vpid -gt 0 ] && kill -0 $vpid"
kill -TERM "$vpid" 2>/dev/null || true
kill -KILL "$vpid" 2>/dev/null || true
n=0
while [ -e "$base/jail_probe/p6" ] && [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.1; done
check "--daemonize --cleanup: the jail is removed when the VMM dies" [ ! -e "$base/jail_probe/p6" ]

run "$jailer" --id p7 --chroot-base-dir "$base" --daemonize --cleanup --exec-file "$probe" -- -- --sleep 60
vpid=$(cat "$base/jail_probe/p7/jail_probe.pid" 2>/dev/null || echo 0)
mpid=$(awk '{ print $4 }' "/proc/$vpid/stat" 2>/dev/null || echo 0)
daemons="$daemons $vpid $mpid"
kill -KILL "$mpid" 2>/dev/null || true
n=0
while kill -0 "$vpid" 2>/dev/null && [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.1; done
check "--cleanup: killing the monitor kills the VMM" sh -c "[ $mpid -gt 1 ] && ! kill -0 $vpid 2>/dev/null"

# --userns: rootless, as uid 4242; inside, the VM's ids 1000:1000 are mapped onto it.
chmod 755 "$tap_tmp"
mkdir "$tap_tmp/ubase" "$tap_tmp/ubin"
cp "$probe" "$tap_tmp/ubin/jail_probe"
chown 4242:4242 "$tap_tmp/ubase"
as="setpriv --reuid 4242 --regid 4242 --clear-groups"
run $as "$jailer" --id u0 --chroot-base-dir "$tap_tmp/ubase" --exec-file "$tap_tmp/ubin/jail_probe" --
check "without --userns, an unprivileged caller is refused" sh -c "
    [ $rc -eq 1 ] && grep -q 'must run as root (uid 0, not 4242); --userns runs without root' '$tap_tmp/err'"
run $as "$jailer" --id u0 --chroot-base-dir "$tap_tmp/ubase" --userns --netns "$netns_file" --exec-file "$tap_tmp/ubin/jail_probe" --
check "--userns --netns: refused for an unprivileged caller, nothing created" sh -c "
    [ $rc -eq 1 ] && grep -q 'an unprivileged caller cannot join a network namespace' '$tap_tmp/err' &&
    [ -z \"\$(ls -A '$tap_tmp/ubase')\" ]"
root_base=$base
base=$tap_tmp/ubase
probe_start u1 --userns --uid 1000 --gid 1000 --exec-file "$tap_tmp/ubin/jail_probe" -- -- --exit 4
check "--userns: the probe runs in the jail" [ "$vpid" -gt 0 ]
check "--userns: uid and gid 1000 inside" sh -c "
    grep -qx 'uid 1000 1000' '$tap_tmp/pout' && grep -qx 'gid 1000 1000' '$tap_tmp/pout'"
check "--userns: uid and gid 4242 outside" sh -c "
    [ \"\$(awk '/^Uid:/ { print \$2, \$3, \$4, \$5 }' /proc/$vpid/status)\" = '4242 4242 4242 4242' ] &&
    [ \"\$(awk '/^Gid:/ { print \$2, \$3, \$4, \$5 }' /proc/$vpid/status)\" = '4242 4242 4242 4242' ]"
for ns in user mnt ipc uts; do
    check "--userns: its $ns namespace is not the host's" ns_differs $ns
done
check "--userns: capabilities empty (in its own namespace too), NoNewPrivs 1" sh -c "
    [ \"\$(grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):' /proc/$vpid/status | awk '{ print \$2 }' | sort -u)\" = 0000000000000000 ] &&
    grep -Eq '^NoNewPrivs:[[:space:]]+1$' /proc/$vpid/status"
check "--userns: its root directory is the jail" \
    [ "$(stat -L -c %d:%i "/proc/$vpid/root")" = "$(stat -c %d:%i "$base/jail_probe/u1/root")" ]
check "--userns: its open fds are 0, 1 and 2 only" [ "$(ls "/proc/$vpid/fd" | sort -n | tr '\n' ' ')" = "0 1 2 " ]
check "--userns: the host's device nodes are bound in (a user namespace cannot mknod)" sh -c "
    [ \"\$(stat -L -c %F:%t:%T /proc/$vpid/root/dev/kvm)\" = 'character special file:a:e8' ] &&
    grep -qx 'open /dev/urandom ok 0' '$tap_tmp/pout'"
check "--userns: the jail's files belong to the caller" \
    [ "$(stat -c %u:%g "$base/jail_probe/u1/root/jail_probe")" = 4242:4242 ]
check "--userns: the jail root is read-only to it" said "create / Read-only file system"
probe_finish
check "--userns: the jailer's exit status is the VMM's (4)" [ "$rc" -eq 4 ]
probe_start u2 --userns --new-pid-ns --cleanup --exec-file "$tap_tmp/ubin/jail_probe" -- -- --exit 6
check "--userns --new-pid-ns: pid 1 in a new pid namespace" sh -c "
    grep -qx 'pid 1' '$tap_tmp/pout' && [ \"\$(readlink /proc/$vpid/ns/pid)\" != \"\$(readlink /proc/self/ns/pid)\" ]"
check "--userns --new-pid-ns: uid 65534 inside by default, 4242 outside" sh -c "
    grep -qx 'uid 65534 65534' '$tap_tmp/pout' && grep -Eq '^Uid:[[:space:]]+4242[[:space:]]' /proc/$vpid/status"
probe_finish
check "--userns --cleanup: the jail removed" [ ! -e "$base/jail_probe/u2" ]
if [ "$sanitize" = none ]; then
    check "--userns --new-pid-ns: the jailer's exit status is the VMM's (6)" [ "$rc" -eq 6 ]
else
    # Rootless, the monitor cannot rejoin the host's pid namespace after making the VM's,
    # and LeakSanitizer's exit-time fork fails there.
    ok "--userns --new-pid-ns: exit status # SKIP the sanitizer's exit check cannot fork in this monitor"
fi
as=
base=$root_base

# --- Bad input: one clear message, nothing created ---------------------------------

# A base that exists, holding one jail already, and a base that does not exist yet.
bbase=$tap_tmp/bbase
mkdir -p "$bbase/jail_probe/old/root"
nobase=$tap_tmp/nobase
ln -s "$kdir/tiny.bzImage" "$tap_tmp/link.bzImage"
mkdir "$tap_tmp/other" "$tap_tmp/ww" "$tap_tmp/realbase"
cp "$kdir/tiny.bzImage" "$tap_tmp/other/tiny.bzImage"
chmod 777 "$tap_tmp/ww"
ln -s "$tap_tmp/realbase" "$tap_tmp/linkbase"
cp "$probe" "$tap_tmp/noexec"
chmod 644 "$tap_tmp/noexec"
cp "$probe" "$tap_tmp/twice"
ln "$tap_tmp/twice" "$tap_tmp/twice2"
ln -s "$probe" "$tap_tmp/probelink"
# VMMs whose PT_INTERP climbs out of the jail (three '..' from <base>/<exec-name>/<id>/root
# reach <base>; on the host the path names a real interpreter), or names a file only root
# may read: the jailer would copy either, as root.
mkvmm() {
    python3 - "$1" "$2" <<'EOF'
import os, struct, sys
interp = sys.argv[2].encode() + b"\0"
off = 64 + 2 * 56
size = off + len(interp)
eh = b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x400000, 64, 0, 0,
                                                     64, 56, 2, 0, 0, 0)
load = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, size, size, 0x1000)
pt_interp = struct.pack("<IIQQQQQQ", 3, 4, off, 0x400000 + off, 0x400000 + off, len(interp), len(interp), 1)
with open(sys.argv[1], "wb") as f:
    f.write(eh + load + pt_interp + interp)
os.chmod(sys.argv[1], 0o755)
EOF
}
mkdir "$tap_tmp/ld"
cp "$(readlink -f /lib64/ld-linux-x86-64.so.2)" "$tap_tmp/ld/ld.so"
cp "$tap_tmp/ld/ld.so" "$tap_tmp/ld/private.so"
chmod 600 "$tap_tmp/ld/private.so"
mkvmm "$tap_tmp/climbing-vmm" "/../../..$tap_tmp/ld/ld.so"
mkvmm "$tap_tmp/private-vmm" "$tap_tmp/ld/private.so"
mkdir "$tap_tmp/foreign"
chown 4242 "$tap_tmp/foreign"
id65=$(printf '%065d' 0)

snapshot() {
    find "$bbase" "$nobase" "$tap_tmp/ww" "$tap_tmp/realbase" "$tap_tmp/foreign" \
        -printf '%p %m %u %s\n' 2>/dev/null | sort
    [ -z "$cgmount" ] || ls "$cgmount"
}
before=$(snapshot)

# refused DESCRIPTION STATUS PATTERN JAILER-ARGS...: exit STATUS, an error line matching
# PATTERN (plus the --help hint for usage errors), and no change on the host.
refused() {
    desc=$1 want=$2 pattern=$3
    shift 3
    run "$jailer" "$@"
    if [ "$rc" -eq "$want" ] && head -n 1 "$tap_tmp/err" | grep -q -- "$pattern" &&
        [ "$(wc -l <"$tap_tmp/err")" -eq $((want == 2 ? 2 : 1)) ] && [ "$(snapshot)" = "$before" ]; then
        ok "$desc"
    else
        not_ok "$desc"
        diag_output
    fi
}
good="--exec-file $probe -- --kernel $kdir/tiny.bzImage"

refused "id with a slash" 2 "--id 'a/b': must be 1-64 characters of \\[A-Za-z0-9-\\]" --id a/b --chroot-base-dir "$bbase" $good
refused "id '..'" 2 "--id '..'" --id .. --chroot-base-dir "$bbase" $good
refused "id with a space" 2 "--id 'a b'" --id "a b" --chroot-base-dir "$bbase" $good
refused "id of 65 characters" 2 "--id '$id65'" --id "$id65" --chroot-base-dir "$bbase" $good
refused "empty id" 2 "--id '': must be" --id "" --chroot-base-dir "$nobase" $good
refused "uid 0 without --allow-root" 2 "needs --allow-root" --id b1 --uid 0 --chroot-base-dir "$nobase" $good
refused "gid 0 without --allow-root" 2 "needs --allow-root" --id b1 --gid 0 --chroot-base-dir "$nobase" $good
refused "missing exec file" 1 "VMM $tap_tmp/missing: cannot open: No such file or directory" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$tap_tmp/missing" --
refused "exec file is a directory" 1 "VMM $tap_tmp/other: is a directory" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$tap_tmp/other" --
refused "exec file is a device" 1 "VMM /dev/null: not a regular file" \
    --id b1 --chroot-base-dir "$nobase" --exec-file /dev/null --
refused "exec file is a symlink" 1 "VMM $tap_tmp/probelink: is a symbolic link" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$tap_tmp/probelink" --
refused "exec file not executable" 1 "VMM $tap_tmp/noexec: not executable" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$tap_tmp/noexec" --
refused "exec file with two hard links" 1 "VMM $tap_tmp/twice: has 2 hard links" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$tap_tmp/twice" --
refused "VMM whose ELF interpreter path climbs out of the jail" 1 \
    "VMM $tap_tmp/climbing-vmm: its ELF interpreter '/../../..$tap_tmp/ld/ld.so': not a plain absolute path" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$tap_tmp/climbing-vmm" --
refused "VMM whose ELF interpreter only root may read" 1 \
    "VMM $tap_tmp/private-vmm: its ELF interpreter $tap_tmp/ld/private.so: owner uid 0, mode 0600: a system file" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$tap_tmp/private-vmm" --
refused "VMM name not found" 1 "VMM no-such-vmm: not found next to the jailer or in PATH" \
    --id b1 --chroot-base-dir "$nobase" -- no-such-vmm
refused "symlinked kernel path" 1 "--kernel $tap_tmp/link.bzImage: is a symbolic link" \
    --id b1 --chroot-base-dir "$nobase" --exec-file "$probe" -- --kernel "$tap_tmp/link.bzImage"
refused "missing kernel" 1 "--kernel $tap_tmp/missing: cannot open" \
    --id b1 --chroot-base-dir "$bbase" --exec-file "$probe" -- --kernel="$tap_tmp/missing"
refused "disk image is a directory" 1 "--drive path= $tap_tmp/other: is a directory" \
    --id b1 --chroot-base-dir "$bbase" --exec-file "$probe" -- --drive "path=$tap_tmp/other"
refused "abbreviated --kern" 1 "VMM argument '--kern': write --kernel in full" \
    --id b1 --chroot-base-dir "$bbase" --exec-file "$probe" -- --kern "$kdir/tiny.bzImage"
refused "a VMM option microvm does not have" 1 "VMM argument '--future-flag': not an option of microvm" \
    --id b1 --chroot-base-dir "$bbase" --exec-file "$probe" -- --future-flag --kernel "$kdir/tiny.bzImage"
refused "--vsock: a socket the VMM creates has no place in the read-only jail" 1 \
    "VMM argument --vsock 'cid=3,uds=/v.sock': uds= names a socket the VMM creates" \
    --id b1 --chroot-base-dir "$bbase" --exec-file "$probe" -- --vsock cid=3,uds=/v.sock --kernel "$kdir/tiny.bzImage"
refused "two files with one name" 1 "--initrd $tap_tmp/other/tiny.bzImage: the jail already holds" \
    --id b1 --chroot-base-dir "$bbase" --exec-file "$probe" -- --kernel "$kdir/tiny.bzImage" --initrd "$tap_tmp/other/tiny.bzImage"
refused "chroot base is a symlink" 1 "$tap_tmp/linkbase: is a symbolic link" \
    --id b1 --chroot-base-dir "$tap_tmp/linkbase" $good
refused "chroot base is world-writable" 1 "$tap_tmp/ww: writable by group or others (mode 0777)" \
    --id b1 --chroot-base-dir "$tap_tmp/ww" $good
refused "chroot base owned by someone else" 1 "$tap_tmp/foreign: owned by uid 4242" \
    --id b1 --chroot-base-dir "$tap_tmp/foreign" $good
refused "chroot base is a file" 1 "$tap_tmp/secret: not a directory" \
    --id b1 --chroot-base-dir "$tap_tmp/secret" $good
refused "the jail exists" 1 "$bbase/jail_probe/old: a jail with this id already exists" \
    --id old --chroot-base-dir "$bbase" $good
refused "cgroup file name with '..'" 2 "--cgroup '../cgroup.procs=0': '../cgroup.procs' is not a cgroup file name" \
    --id b1 --chroot-base-dir "$nobase" --cgroup ../cgroup.procs=0 $good
refused "cgroup file name with '..' inside" 2 "'memory..max' is not a cgroup file name" \
    --id b1 --chroot-base-dir "$nobase" --cgroup memory..max=1 $good
refused "cgroup file name with '/'" 2 "'a/memory.max' is not a cgroup file name" \
    --id b1 --chroot-base-dir "$nobase" --cgroup a/memory.max=1 $good
refused "parent cgroup with '..'" 2 "--parent-cgroup '../x'" \
    --id b1 --chroot-base-dir "$nobase" --parent-cgroup ../x $good
if [ -n "$cgmount" ] && ! grep -qw memory "$cgmount/cgroup.controllers"; then
    refused "cgroup controller not in the hierarchy" 1 "controller 'memory' is not available" \
        --id b1 --chroot-base-dir "$nobase" --parent-cgroup "$cgparent" --cgroup memory.max=1M $good
fi
refused "resource limit with a bad number" 2 "--resource-limit 'fsize=12k': the value must be a decimal number" \
    --id b1 --chroot-base-dir "$nobase" --resource-limit fsize=12k $good
refused "unknown resource limit" 2 "--resource-limit 'cpu=1': unknown limit" \
    --id b1 --chroot-base-dir "$nobase" --resource-limit cpu=1 $good
refused "--userns as root" 1 "--userns is for unprivileged callers" \
    --id b1 --chroot-base-dir "$nobase" --userns $good
refused "netns that does not exist" 1 "--netns $tap_tmp/missing: No such file" \
    --id b1 --chroot-base-dir "$nobase" --netns "$tap_tmp/missing" $good
refused "netns that is not a namespace" 1 "--netns $tap_tmp/secret: not a namespace file" \
    --id b1 --chroot-base-dir "$nobase" --netns "$tap_tmp/secret" $good
check "the original kernel is untouched by all of the above" \
    [ "$(stat -c '%a %u:%g %h %Y' "$kdir/tiny.bzImage")" = "$kernel_stat" ]

tap_done
