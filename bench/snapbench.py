#!/usr/bin/python3
"""bench.py's "snapshot" section: snapshot restore against cold boot, by guest memory
size, and snapshot creation against the disk's write speed (bench/README.md).

For each size (default 128 MiB, 1 GiB, 4 GiB) the tiny test guest (tests/guest, with
tiny.wait=1: it prints "wait: ready", then polls COM1 and answers a byte with "wait:
got") boots through the API and, once it waits, is paused and snapshotted. Every VMM
below gets its byte on stdin before it starts, so the end point is always the guest
running at the same place and answering. Interleaved over the rounds (one untimed):
  api_cold:     PUT /actions InstanceStart sent -> "wait: got";
  api_restore:  PUT /snapshot/load (resume_vm true) sent -> "wait: got"; also its 204
                and the VMM's own figure ("snapshot ... loaded in N us");
  cli_cold:     spawn of microvm --kernel -> "wait: got";
  cli_restore:  spawn of microvm --snapshot --mem-file -> "wait: got".
Creation: PUT /snapshot/create's round trip and the memory file's size on disk, next to
dd of as many bytes with conv=fsync into the same directory.
QEMU, the peer (with --qemu): its microvm machine boots the same guest (tiny-pvh.elf,
its PVH entry), and is migrated to a file through QMP ("exec:cat > FILE", timed
as its snapshot creation), and, interleaved with the rounds above:
  qemu_cold:    spawn of qemu-system-x86_64 -kernel -> "wait: got";
  qemu_restore: spawn of qemu-system-x86_64 -incoming "exec:cat FILE" -> "wait: got"
                (QEMU drops a byte that comes while the migration loads: this one gets
                a byte every 0.5 ms instead, so its figure may be up to that late).
Standard library only; run alone it prints a table and writes JSON (--out).
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

TINY_CMDLINE = "console=ttyS0 tiny.wait=1"
READY = rb"wait: ready"
GOT = rb"wait: got"


def now_ms():
    return time.monotonic_ns() / 1e6


def http(path, method, url, body=None, timeout=120):
    """One request on the API socket; (status, ms from send to the answer's head)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    data = json.dumps(body).encode() if body is not None else b""
    req = (f"{method} {url} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(data)}\r\n\r\n").encode() + data
    s.connect(path)
    t0 = now_ms()
    s.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    elapsed = now_ms() - t0
    s.close()
    return (int(got.split(b" ", 2)[1]) if got else 0), elapsed


class Vmm:
    """A VMM with a byte waiting on its stdin (the guest's cue to answer)."""

    def __init__(self, argv, sock=None, cue=True):
        self.sock = sock
        self.err = None
        if sock and os.path.exists(sock):
            os.unlink(sock)
        rfd, wfd = os.pipe()
        if cue:
            os.write(wfd, b"x")
        self.t0 = now_ms()
        self.proc = subprocess.Popen(argv, stdin=rfd, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        os.close(rfd)
        self.stdin = wfd
        self.out = b""
        if sock:
            self.wait_socket()

    def wait_socket(self, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                s.close()
                return
            except OSError:
                time.sleep(0.0005)
        raise SystemExit(f"bench: snapshot: no API socket at {self.sock}: {self.close()[-300:]}")

    def wait_line(self, pattern, t0, timeout=60, drip=False):
        """ms from t0 (now_ms) to the first stdout line matching pattern. drip: a byte
        on stdin every 0.5 ms meanwhile (QEMU drops one that comes during -incoming)."""
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while time.monotonic() < end:
            if re.search(pattern, self.out):
                raise SystemExit(f"bench: snapshot: {pattern!r} came before the clock started")
            if drip:
                os.write(self.stdin, b"x")
            r, _, _ = select.select([fd], [], [], 0.0005 if drip else 0.5)
            if r:
                chunk = os.read(fd, 65536)
                t = now_ms()
                if not chunk:
                    break
                self.out += chunk
                if re.search(pattern, self.out):
                    return t - t0
        raise SystemExit(f"bench: snapshot: no line {pattern!r}: {self.out[-300:]!r} "
                         f"{self.close()[-300:]}")

    def close(self):
        if self.err is not None:
            return self.err
        self.proc.kill()
        self.proc.wait()
        self.err = self.proc.stderr.read().decode(errors="replace")
        os.close(self.stdin)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.err


def configure(vmm, guest, mib):
    for url, body in (("/boot-source", {"kernel_image_path": guest, "boot_args": TINY_CMDLINE}),
                      ("/machine-config", {"vcpu_count": 1, "mem_size_mib": mib})):
        status, _ = http(vmm.sock, "PUT", url, body)
        if status != 204:
            raise SystemExit(f"bench: snapshot: PUT {url}: {status}")


def make_snapshot(microvm, guest, tmp, mib):
    """Boots, waits, pauses and snapshots (the guest polling COM1, no byte for it yet);
    the creation's round trip and the VMM's own figure."""
    vmm = Vmm([microvm, "--api-sock", f"{tmp}/orig.sock", "--no-pvm"], f"{tmp}/orig.sock", cue=False)
    try:
        configure(vmm, guest, mib)
        http(vmm.sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        vmm.wait_line(READY, now_ms())
        assert http(vmm.sock, "PATCH", "/vm", {"state": "Paused"})[0] == 204
        status, ms = http(vmm.sock, "PUT", "/snapshot/create",
                          {"snapshot_path": f"{tmp}/vm.snap", "mem_file_path": f"{tmp}/vm.mem"})
        if status != 204:
            raise SystemExit(f"bench: snapshot: PUT /snapshot/create: {status}")
    finally:
        err = vmm.close()
    inner = re.search(r"snapshot created in (\d+) us", err)
    return ms, int(inner.group(1)) / 1000 if inner else None


QEMU_MACHINE = "microvm,x-option-roms=off,isa-serial=on,rtc=off,pit=off,pic=off"
QEMU_CPU = "host,-arch-capabilities"   # -cpu host dies on MSR 0x10a on a PVM host


def qemu_argv(qemu, guest, mib, extra=()):
    """bench.py's QEMU microvm command line, with the tiny guest's PVH image."""
    pvh = os.path.join(os.path.dirname(guest), "tiny-pvh.elf")
    return [qemu, "-M", QEMU_MACHINE, "-enable-kvm", "-cpu", QEMU_CPU, "-m", "%dM" % mib,
            "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-kernel", pvh, "-append", TINY_CMDLINE, *extra]


def qmp(sock, command, args=None):
    """One QMP command on an open, negotiated socket; its return value."""
    msg = {"execute": command, **({"arguments": args} if args else {})}
    sock.sendall(json.dumps(msg).encode() + b"\n")
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit(f"bench: snapshot: QMP {command}: connection closed")
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        answer = json.loads(line)
        if "error" in answer:
            raise SystemExit(f"bench: snapshot: QMP {command}: {answer['error']}")
        if "return" in answer:
            return answer["return"]


def qemu_snapshot(qemu, guest, tmp, mib):
    """QEMU's snapshot: the guest waiting, migrated to a file (QEMU stops it at the end);
    ms of the migration."""
    path = f"{tmp}/qmp.sock"
    vmm = Vmm(qemu_argv(qemu, guest, mib, ["-qmp", f"unix:{path},server=on,wait=off"]),
              cue=False)
    try:
        vmm.wait_line(READY, vmm.t0)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.recv(65536)                   # the greeting
        qmp(s, "qmp_capabilities")
        # Not stopped first: a stopped source's state travels, and the restored VM would wait.
        t0 = now_ms()
        qmp(s, "migrate", {"uri": f"exec:cat > {tmp}/qemu.mig"})
        while True:
            status = qmp(s, "query-migrate").get("status")
            if status == "completed":
                break
            if status in ("failed", "cancelled"):
                raise SystemExit(f"bench: snapshot: QEMU's migration {status}")
            time.sleep(0.001)
        ms = now_ms() - t0
        s.close()
        return ms
    finally:
        vmm.close()


def dd_fsync_ms(tmp, mib):
    """dd of mib MiB from /dev/zero into a file beside the snapshot, with conv=fsync."""
    path = f"{tmp}/dd.img"
    t0 = now_ms()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={mib}", "conv=fsync"],
                   check=True, capture_output=True)
    ms = now_ms() - t0
    os.unlink(path)
    return ms


def api_cold(microvm, guest, tmp, mib):
    vmm = Vmm([microvm, "--api-sock", f"{tmp}/cold.sock", "--no-pvm"], f"{tmp}/cold.sock")
    try:
        configure(vmm, guest, mib)
        t0 = now_ms()
        status, _ = http(vmm.sock, "PUT", "/actions", {"action_type": "InstanceStart"})
        assert status == 204, status
        return vmm.wait_line(GOT, t0)
    finally:
        vmm.close()


def api_restore(microvm, tmp):
    """(request sent to the guest's answer, to the 204, the VMM's own figure)."""
    vmm = Vmm([microvm, "--api-sock", f"{tmp}/restore.sock"], f"{tmp}/restore.sock")
    try:
        t0 = now_ms()
        status, answer_ms = http(vmm.sock, "PUT", "/snapshot/load",
                                 {"snapshot_path": f"{tmp}/vm.snap",
                                  "mem_backend": {"backend_type": "File",
                                                  "backend_path": f"{tmp}/vm.mem"},
                                  "resume_vm": True})
        if status != 204:
            raise SystemExit(f"bench: snapshot: PUT /snapshot/load: {status}: {vmm.close()[-300:]}")
        running = vmm.wait_line(GOT, t0)
    finally:
        err = vmm.close()
    inner = re.search(r"loaded in (\d+) us", err)
    return running, answer_ms, int(inner.group(1)) / 1000 if inner else None


def cli_run(argv, drip=False):
    vmm = Vmm(argv, cue=not drip)
    try:
        return vmm.wait_line(GOT, vmm.t0, drip=drip)
    finally:
        vmm.close()


def one_size(microvm, guest, tmp, mib, runs, log, stats, qemu=None, dd=True):
    create_ms, create_vmm_ms = make_snapshot(microvm, guest, tmp, mib)
    st = os.stat(f"{tmp}/vm.mem")
    qemu_create_ms = qemu_snapshot(qemu, guest, tmp, mib) if qemu else None
    dd_ms = dd_fsync_ms(tmp, mib) if dd else None
    kinds = {
        "api_cold": lambda: api_cold(microvm, guest, tmp, mib),
        "api_restore": lambda: api_restore(microvm, tmp),
        "cli_cold": lambda: cli_run([microvm, "--kernel", guest, "--mem", str(mib), "--no-pvm",
                                     "--cmdline", TINY_CMDLINE]),
        "cli_restore": lambda: cli_run([microvm, "--snapshot", f"{tmp}/vm.snap",
                                        "--mem-file", f"{tmp}/vm.mem"]),
    }
    if qemu:
        kinds["qemu_cold"] = lambda: cli_run(qemu_argv(qemu, guest, mib))
        kinds["qemu_restore"] = lambda: cli_run(qemu_argv(qemu, guest, mib,
                                                          ["-incoming", f"exec:cat {tmp}/qemu.mig"]),
                                                 drip=True)
    samples = {k: [] for k in kinds}
    samples["api_restore_204"], samples["api_restore_vmm"] = [], []
    for i in range(runs + 1):           # the first round is untimed: page cache
        for k, fn in kinds.items():
            r = fn()
            if not i:
                continue
            if k == "api_restore":
                samples[k].append(r[0])
                samples["api_restore_204"].append(r[1])
                samples["api_restore_vmm"].append(r[2])
            else:
                samples[k].append(r)
    log("snapshot: %d MiB: restore %.2f ms, cold %.2f ms (medians)" % (
        mib, statistics.median(samples["api_restore"]), statistics.median(samples["api_cold"])))
    return {
        **{k: {"stats": stats([x for x in v if x is not None]),
               "samples": [round(x, 3) for x in v if x is not None]}
           for k, v in samples.items()},
        "create_ms": create_ms, "create_vmm_ms": create_vmm_ms, "dd_fsync_ms": dd_ms,
        "qemu_create_ms": qemu_create_ms,
        "qemu_migration_file_bytes": os.stat(f"{tmp}/qemu.mig").st_size if qemu else None,
        "vmstate_bytes": os.stat(f"{tmp}/vm.snap").st_size,
        "memory_file_bytes": st.st_size, "memory_file_on_disk_bytes": st.st_blocks * 512,
    }


def snapshot(microvm, guest, sizes, runs, base, log, stats, qemu=None, dd=True):
    """Every size, in its own directory under base; {mib: results}. stats is bench.py's
    (median, p95 and the rest of a list of numbers), as the other sections use it.
    dd False: no disk comparison (where base is memory, as in run-kvm's nested host)."""
    out = {}
    for mib in sizes:
        with tempfile.TemporaryDirectory(dir=base) as tmp:
            out[mib] = one_size(microvm, guest, tmp, mib, runs, log, stats, qemu, dd)
    return out


def print_table(results):
    print(f"{'memory':>8} {'restore':>10} {'cold':>10} {'204':>8} {'VMM':>8} {'CLI rest.':>10} "
          f"{'CLI cold':>10} {'create':>9} {'dd fsync':>9} {'QEMU rest.':>10} {'QEMU cold':>10}")
    for mib, r in results.items():
        def m(k):
            return r[k]["stats"]["median"] if k in r and r[k]["stats"] else float("nan")
        print(f"{mib:>5} MiB {m('api_restore'):>7.2f} ms {m('api_cold'):>7.2f} ms "
              f"{m('api_restore_204'):>5.2f} ms {m('api_restore_vmm'):>5.2f} ms "
              f"{m('cli_restore'):>7.2f} ms {m('cli_cold'):>7.2f} ms {r['create_ms']:>6.1f} ms "
              f"{r['dd_fsync_ms']:>6.0f} ms {m('qemu_restore'):>7.2f} ms {m('qemu_cold'):>7.2f} ms")
    print("(medians; every figure ends at the guest's answer to a byte, but 204 (the load's "
          "answer) and VMM (its own log figure))")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--microvm", required=True)
    p.add_argument("--guest", required=True, help="tests/guest's tiny.elf")
    p.add_argument("--sizes", default="128,1024,4096", help="guest memory sizes in MiB")
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--qemu", help="qemu-system-x86_64, the peer (none without)")
    p.add_argument("--out")
    args = p.parse_args()
    from bench import log, stats
    results = snapshot(args.microvm, args.guest, [int(x) for x in args.sizes.split(",")],
                       args.runs, None, log, stats, args.qemu)
    print_table(results)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"snapshot": results, "runs": args.runs, "argv": sys.argv}, f, indent=1)


if __name__ == "__main__":
    main()
