#!/usr/bin/env python3
"""The host's side of a tap device for the virtio-net test.

Usage: tap-peer.py IFACE OUT SECONDS

Every 50 ms sends a broadcast frame of EtherType 0x88b6 carrying
"microvm host frame" out of IFACE (so the VMM reading the tap gets it), and
writes each frame of EtherType 0x88b5 that arrives on IFACE (what the guest
sent) to OUT as one line of hex. Stops after SECONDS, or on SIGTERM.
"""
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
HOST_TYPE = b"\x88\xb6"
GUEST_TYPE = b"\x88\xb5"


def main():
    iface, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((iface, 0))
    frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x02" + HOST_TYPE
    frame += b"microvm host frame".ljust(46, b"\0")
    end = time.monotonic() + seconds
    with open(out, "w", encoding="ascii") as f:
        while time.monotonic() < end:
            sock.send(frame)
            ready, _, _ = select.select([sock], [], [], 0.05)
            while ready:
                data, addr = sock.recvfrom(65536)
                # Incoming frames only: PACKET_OUTGOING (4) are our own sends.
                if addr[2] != socket.PACKET_OUTGOING and data[12:14] == GUEST_TYPE:
                    f.write(data.hex() + "\n")
                    f.flush()
                ready, _, _ = select.select([sock], [], [], 0)


if __name__ == "__main__":
    main()
