#!/usr/bin/env python3
"""Host services a jailed VMM must not reach: a listener on the abstract Unix
socket @NAME and one on 127.0.0.1 (a free TCP port), both in the network
namespace this runs in.

Usage: host-listeners.py NAME OUT SECONDS

Writes "port N" to OUT once both listen, then appends "connected abstract" or
"connected tcp" for every connection it accepts, until SECONDS have passed.
"""
import os
import select
import socket
import sys
import time


def main():
    name, out, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind("\0" + name)
    abstract.listen(8)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(8)
    with open(out + ".tmp", "w") as f:
        f.write("port %d\n" % tcp.getsockname()[1])
    os.rename(out + ".tmp", out)
    end = time.monotonic() + seconds
    kinds = {abstract: "abstract", tcp: "tcp"}
    while time.monotonic() < end:
        ready, _, _ = select.select(list(kinds), [], [], max(0.0, end - time.monotonic()))
        for s in ready:
            conn, _ = s.accept()
            conn.close()
            with open(out, "a") as f:
                f.write("connected %s\n" % kinds[s])


if __name__ == "__main__":
    main()
