#!/usr/bin/env python3
"""What a process's mount namespace holds, counted by the kernel itself.

Usage: mounts-of.py PID

Prints "visible FSTYPE MOUNTPOINT" for each mount in PID's namespace that a
process there can reach, then "count N": how many mounts the namespace holds
in all, those nobody can reach included (the namespace's first mount, and any
mount left beneath the jail). /proc/PID/mountinfo cannot tell those: it leaves
out what lies outside the reader's root. The count comes from fs.mount-max,
the kernel's limit on mounts per namespace: in a private copy of the namespace
(as many mounts, none of them PID's), one more mount succeeds only while the
limit is above the count. Needs root; puts fs.mount-max back.
"""
import ctypes
import errno
import os
import sys

CLONE_NEWNS = 0x00020000
MNT_DETACH = 2


def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def main():
    pid = int(sys.argv[1])
    libc = ctypes.CDLL(None, use_errno=True)
    proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
    check(libc.setns(os.open("/proc/%d/ns/mnt" % pid, os.O_RDONLY), CLONE_NEWNS), "setns")
    with os.fdopen(os.open("self/mountinfo", os.O_RDONLY, dir_fd=proc)) as f:
        for line in f:
            fields = line.split()
            print("visible", fields[fields.index("-") + 1], fields[4])
    check(libc.unshare(CLONE_NEWNS), "unshare")
    limit = os.open("sys/fs/mount-max", os.O_RDWR, dir_fd=proc)
    saved = os.pread(limit, 32, 0)
    try:
        for n in range(1, 10000):
            os.pwrite(limit, b"%d\n" % n, 0)
            if libc.mount(b"none", b"/dev", b"tmpfs", 0, None) == 0:
                libc.umount2(b"/dev", MNT_DETACH)
                print("count", n - 1)
                return
            if ctypes.get_errno() != errno.ENOSPC:
                check(-1, "mount")
    finally:
        os.pwrite(limit, saved, 0)


if __name__ == "__main__":
    main()
