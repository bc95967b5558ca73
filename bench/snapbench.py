#!/usr/bin/env python3
"""Snapshot restore against cold boot, by guest memory size (bench/README.md).

For each size (default 128 MiB, 1 GiB, 4 GiB) the tiny test guest (tests/guest, with
tiny.wait=1: it reports, then polls COM1) is booted through the API and, once it
waits, paused and snapshotted. Then, interleaved over --runs rounds, in fresh VMMs:
  cold:    PUT /actions InstanceStart sent -> the guest's "wait: ready" line;
  restore: PUT /snapshot/load (resume_vm true) sent -> its 204, the guest running
           where it was; also the VMM's own figure ("snapshot ... loaded in N us").
Snapshot creation is timed too (PUT /snapshot/create's round trip), with the memory
file's size on disk. Prints a table and writes JSON (--out).
"""
import argparse
import json
import os
import re
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def http(path, method, url, body=None, timeout=60):
    """One request on the API socket; returns (status, elapsed ms)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    data = json.dumps(body).encode() if body is not None else b""
    req = (f"{method} {url} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(data)}\r\n\r\n").encode() + data
    t0 = time.perf_counter()
    s.connect(path)
    s.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    elapsed = (time.perf_counter() - t0) * 1000
    s.close()
    status = int(got.split(b" ", 2)[1]) if got else 0
    return status, elapsed


def wait_socket(path, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                s.close()
                return
            except OSError:
                pass
        time.sleep(0.0005)
    raise RuntimeError(f"no API socket at {path}")


def wait_line(proc, pattern, t0, timeout=60):
    """ms from t0 (perf_counter) to the first stdout line matching pattern."""
    buf = b""
    end = time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            if re.search(pattern, buf):
                return (time.perf_counter() - t0) * 1000
    raise RuntimeError(f"no line {pattern!r}: {buf[-300:]!r}")


class Vmm:
    def __init__(self, microvm, sock, args=()):
        self.sock = sock
        self.proc = subprocess.Popen([microvm, "--api-sock", sock, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_socket(sock)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return err


def configure(vmm, guest, mib):
    for url, body in (("/boot-source", {"kernel_image_path": guest,
                                        "boot_args": "console=ttyS0 tiny.wait=1"}),
                      ("/machine-config", {"vcpu_count": 1, "mem_size_mib": mib})):
        status, _ = http(vmm.sock, "PUT", url, body)
        assert status == 204, (url, status)


def cold(args, tmp, mib):
    vmm = Vmm(args.microvm, f"{tmp}/cold.sock", ["--no-pvm"])
    try:
        configure(vmm, args.guest, mib)
        t0 = time.perf_counter()
        status, _ = http(vmm.sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        assert status == 204, status
        return wait_line(vmm.proc, rb"wait: ready", t0)
    finally:
        vmm.close()


def make_snapshot(args, tmp, mib):
    vmm = Vmm(args.microvm, f"{tmp}/orig.sock", ["--no-pvm"])
    try:
        configure(vmm, args.guest, mib)
        t0 = time.perf_counter()
        http(vmm.sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        wait_line(vmm.proc, rb"wait: ready", t0)
        assert http(vmm.sock, "PATCH", "/vm", {"state": "Paused"})[0] == 204
        status, ms = http(vmm.sock, "PUT", "/snapshot/create",
                          {"snapshot_path": f"{tmp}/vm.snap", "mem_file_path": f"{tmp}/vm.mem"})
        assert status == 204, status
        return ms
    finally:
        vmm.close()


def restore(args, tmp):
    vmm = Vmm(args.microvm, f"{tmp}/restore.sock")
    try:
        status, ms = http(vmm.sock, "PUT", "/snapshot/load",
                          {"snapshot_path": f"{tmp}/vm.snap",
                           "mem_backend": {"backend_type": "File", "backend_path": f"{tmp}/vm.mem"},
                           "resume_vm": True})
        assert status == 204, status
        # The guest runs where it was: it takes a byte and says so.
        vmm.proc.stdin.write(b"x")
        vmm.proc.stdin.flush()
        wait_line(vmm.proc, rb"wait: got", time.perf_counter())
    finally:
        err = vmm.close()
    inner = re.search(r"loaded in (\d+) us", err)
    return ms, int(inner.group(1)) / 1000 if inner else None


def summary(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    return {"median": statistics.median(v), "p95": v[min(len(v) - 1, int(0.95 * len(v)))],
            "min": v[0], "runs": len(v)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--microvm", required=True)
    p.add_argument("--guest", required=True, help="tests/guest's tiny.elf")
    p.add_argument("--sizes", default="128,1024,4096", help="guest memory sizes in MiB")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--out")
    args = p.parse_args()
    results = {}
    for mib in [int(x) for x in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            create_ms = make_snapshot(args, tmp, mib)
            on_disk = os.stat(f"{tmp}/vm.mem").st_blocks * 512
            colds, loads, inner = [], [], []
            for _ in range(args.runs):
                colds.append(cold(args, tmp, mib))
                ms, vmm_ms = restore(args, tmp)
                loads.append(ms)
                inner.append(vmm_ms)
            results[mib] = {"cold_boot_ms": summary(colds), "restore_request_ms": summary(loads),
                            "restore_vmm_ms": summary(inner), "create_ms": create_ms,
                            "vmstate_bytes": os.stat(f"{tmp}/vm.snap").st_size,
                            "memory_file_on_disk_bytes": on_disk}
    print(f"{'memory':>8} {'cold boot':>12} {'load (API)':>12} {'load (VMM)':>12} {'create':>9} {'mem file on disk':>17}")
    for mib, r in results.items():
        print(f"{mib:>5} MiB {r['cold_boot_ms']['median']:>9.2f} ms {r['restore_request_ms']['median']:>9.2f} ms "
              f"{(r['restore_vmm_ms'] or {}).get('median', float('nan')):>9.2f} ms {r['create_ms']:>6.1f} ms "
              f"{r['memory_file_on_disk_bytes'] >> 10:>13} KiB")
    print("(medians; cold boot: InstanceStart sent to the guest's first wait line; load: "
          "PUT /snapshot/load sent to its 204, and the VMM's own figure)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"results": results, "runs": args.runs, "argv": sys.argv}, f, indent=1)


main()
