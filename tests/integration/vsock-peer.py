#!/usr/bin/env python3
"""A host program of the vsock device: connects to the VMM's Unix socket as
soon as it exists, asks for a guest port and reports what it gets.

Usage: vsock-peer.py UDS PORT OUT SECONDS

Writes to OUT one line: "ok LINE" with the VMM's answer line, or "eof" if the
VMM hung up without one (the guest refused the port), or "timeout".
"""
import os
import socket
import sys
import time


def main():
    uds, port, out, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    end = time.monotonic() + seconds
    result = "timeout"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while time.monotonic() < end:
        if os.path.exists(uds):
            try:
                sock.connect(uds)
                break
            except OSError:
                pass
        time.sleep(0.1)
    else:
        sock = None
    if sock is not None:
        sock.sendall(b"CONNECT %d\n" % port)
        sock.settimeout(max(end - time.monotonic(), 0.1))
        try:
            data = sock.recv(64)
            result = "ok " + data.decode("ascii", "replace").strip() if data else "eof"
        except socket.timeout:
            pass
    with open(out, "w", encoding="ascii") as f:
        f.write(result + "\n")


if __name__ == "__main__":
    main()
