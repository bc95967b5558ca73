"""bench.py's "api" section: how soon a VMM's control socket answers, and what the
API thread costs in memory (bench/README.md). The peer is QEMU's QMP socket, QEMU's
own control plane, from the same run; Firecracker publishes its own figure (12 ms
wall, 8 ms CPU from process start to its API socket), which report.py quotes.
Standard library only.
"""
import os
import socket
import subprocess
import time

import density

QMP_GREETING = b'{"QMP"'
HTTP_OK = b"HTTP/1.1 200"
# How often the harness tries to connect: often enough for sub-millisecond figures,
# seldom enough to leave the cores to the VMM it measures.
POLL_S = 0.0002


def cpu_ms(pid):
    """CPU time of every thread of pid so far, from schedstat (ns resolution)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e6


def first_answer(path, request, wanted, t0_ms, now_ms, timeout=10):
    """Connects to the Unix socket at path until it accepts, sends request, and reads
    until the answer starts with wanted; the ms from t0_ms, or None on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            s.close()
            time.sleep(POLL_S)
            continue
        try:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            if request:
                s.sendall(request)
            data = b""
            while len(data) < len(wanted):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data.startswith(wanted):
                return now_ms() - t0_ms
            raise SystemExit("bench: api: %s answered %r" % (path, data[:200]))
        finally:
            s.close()
    return None


def http(path, method, url, body):
    """One request on the API socket; the status line."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    data = body.encode()
    s.sendall(("%s %s HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
               "Connection: close\r\n\r\n" % (method, url, len(data))).encode() + data)
    answer = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    s.close()
    # The status line, and the body (a fault message) after it.
    return answer.split(b"\r\n", 1)[0].decode(errors="replace") + " " + \
        answer.split(b"\r\n\r\n", 1)[-1].decode(errors="replace")


def start_through_api(path, guest):
    """microvm's way to a started VM: the boot source, the machine, InstanceStart."""
    for method, url, body in (
            ("PUT", "/boot-source", '{"kernel_image_path": "%s"}' % guest),
            ("PUT", "/machine-config", '{"vcpu_count": 1, "mem_size_mib": 128}'),
            ("PUT", "/actions", '{"action_type": "InstanceStart"}')):
        status = http(path, method, url, body)
        if " 204 " not in status + " ":
            raise SystemExit("bench: api: %s %s: %s" % (method, url, status))


def qmp_cont(path):
    """QEMU's way, for a VM held by -S: capabilities negotiated, then cont returned."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    f = s.makefile("rb")
    try:
        if not f.readline().startswith(QMP_GREETING):
            raise SystemExit("bench: api: no QMP greeting")
        for command in (b"qmp_capabilities", b"cont"):
            s.sendall(b'{"execute": "%s"}\n' % command)
            answer = f.readline()
            while answer.startswith(b'{"timestamp"'):   # an event, such as cont's RESUME
                answer = f.readline()
            if b'"return"' not in answer:
                raise SystemExit("bench: api: QMP %s: %r" % (command.decode(), answer[:200]))
    finally:
        f.close()
        s.close()


def socket_ready(bench, Run, stats, now_ms):
    """Spawn to the first answer on the control socket, the CPU time spent by then, and
    spawn to the VM started through it (microvm: InstanceStart's 204 after the boot
    source and machine; QEMU, held by -S: cont's return)."""
    a = bench.a
    path = os.path.join(bench.jail_base, "api.sock")
    kinds = {
        "microvm": ([a.microvm, "--api-sock", path], b"GET / HTTP/1.1\r\n\r\n", HTTP_OK,
                    lambda: start_through_api(path, a.guest_idle)),
        "qemu": (bench.qemu_control(path), None, QMP_GREETING, lambda: qmp_cont(path)),
    }
    samples = {k: {"ready_ms": [], "cpu_ms": [], "started_ms": []} for k in kinds}
    for i in range(a.runs + 1):           # the first round is untimed: page cache
        for k, (cmd, request, wanted, start) in kinds.items():
            if os.path.exists(path):
                os.unlink(path)
            r = Run(cmd)
            ready = first_answer(path, request, wanted, r.t0, now_ms)
            if ready is None:
                r.stop()
                raise SystemExit("bench: api: %s: no answer on its socket: %s" %
                                 (k, r.err.decode(errors="replace")[-500:]))
            cpu = cpu_ms(r.proc.pid)
            try:
                start()
                started = now_ms() - r.t0
            finally:       # a failed step must not leave the VMM running
                r.stop()
            if i:
                samples[k]["ready_ms"].append(ready)
                samples[k]["cpu_ms"].append(cpu)
                samples[k]["started_ms"].append(started)
    return {k: {m: {"stats": stats(v), "samples": [round(x, 3) for x in v]}
                for m, v in s.items()} for k, s in samples.items()}


def memory_with_api(bench, Run, stats, now_ms, devices=(), leftovers=()):
    """VMM overhead with the API thread: the idle guest configured and started through
    the API (the memory section's method otherwise); devices: more of microvm's options;
    leftovers: files a VMM leaves behind (a vsock socket), removed before the next."""
    a = bench.a
    path = os.path.join(bench.jail_base, "api-mem.sock")
    samples = []
    for _ in range(a.mem_runs):
        for f in (path, *leftovers):
            if os.path.exists(f):
                os.unlink(f)
        r = Run([a.microvm, "--api-sock", path, *devices])
        try:
            if first_answer(path, b"GET / HTTP/1.1\r\n\r\n", HTTP_OK, r.t0, now_ms) is None:
                raise SystemExit("bench: api: the API socket never answered: %s" %
                                 r.err.decode(errors="replace")[-500:])
            start_through_api(path, a.guest_idle)
            if not r.wait_for(b"bench-guest: idle", 30):
                raise SystemExit("bench: api: the idle guest never reported")
            time.sleep(0.2)
            samples.append(density.smaps(r.proc.pid, 128))
        finally:           # a failed step must not leave the VMM running
            r.stop()
    return {"samples_kib": samples, "devices": list(devices),
            "overhead_rss_mib": stats([s["overhead_rss"] / 1024 for s in samples]),
            "overhead_private_mib": stats([s["overhead_private"] / 1024 for s in samples])}


TAP = "mvbench%d" % os.getpid()


def memory_every_device(bench, Run, stats, now_ms):
    """The same with one device of every kind: a 64 MiB disk, a NIC on a tap of its own
    (as root), the entropy device, vsock and the balloon with statistics."""
    disk = os.path.join(bench.jail_base, "mem-disk.img")
    vsock = os.path.join(bench.jail_base, "mem-vsock.sock")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    subprocess.run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"], check=True)
    try:
        return memory_with_api(bench, Run, stats, now_ms, (
            "--drive", "path=%s" % disk, "--net", "tap=%s" % TAP, "--rng",
            "--vsock", "cid=3,uds=%s" % vsock,
            "--balloon", "amount_mib=0,stats_polling_interval_s=1"), (vsock,))
    finally:
        subprocess.run(["ip", "link", "del", TAP], check=False)
        os.unlink(disk)
