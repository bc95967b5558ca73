#!/usr/bin/env python3
"""Writes a minimal uncompressed newc initramfs: /dev/console and an /init.

The Linux boot tests only need the kernel to reach "Run /init as init process"
(user mode cannot run on a PVM host); a few hundred bytes unpack in no time,
where the busybox initramfs costs a minute of emulated decompression.
Usage: tiny-initramfs.py OUT [INIT]: with INIT (an executable, such as the Linux
boot benchmark's bench/guest/init.c), /init is that file.
"""
import sys

def entry(name, mode, data=b"", rdev=(0, 0), ino=1):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out

def main():
    init = b"#!/bin/sh\necho microvm-tiny-initramfs\n"
    if len(sys.argv) > 2:
        with open(sys.argv[2], "rb") as f:
            init = f.read()
    archive = b"".join([
        entry("dev", 0o040755, ino=1),
        entry("dev/console", 0o020600, rdev=(5, 1), ino=2),
        entry("init", 0o100755, init, ino=3),
        entry("TRAILER!!!", 0, ino=0),
    ])
    archive += b"\0" * (-len(archive) % 512)
    with open(sys.argv[1], "wb") as f:
        f.write(archive)

main()
