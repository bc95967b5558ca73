"""Density and memory figures shared by bench.py (the tiny guest, on any KVM) and
kvmbench.py (Linux under a real KVM): many VMMs started at once, the time until
every guest reports, and what they hold in host memory (bench/README.md).
Standard library only.
"""
import os
import re
import select
import signal
import time

import bench


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    raise SystemExit("bench: no MemAvailable in /proc/meminfo")


def smaps(pid, mem_mib):
    """Total RSS/PSS/private and the guest RAM mapping's RSS, in KiB."""
    total = {"rss": 0, "pss": 0, "private": 0}
    guest = None
    size = rss = 0
    anon = False
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            fields = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                anon = len(fields) == 5   # no path: an anonymous mapping
                continue
            key = fields[0]
            if key == "Size:":
                size = int(fields[1])
            elif key == "Rss:":
                rss = int(fields[1])
                total["rss"] += rss
                # Guest RAM: the anonymous mapping of exactly the guest's size.
                if anon and size == mem_mib * 1024:
                    guest = rss if guest is None else max(guest, rss)
            elif key == "Pss:":
                total["pss"] += int(fields[1])
            elif key in ("Private_Clean:", "Private_Dirty:"):
                total["private"] += int(fields[1])
    if guest is None:
        raise SystemExit("bench: pid %d: no %d MiB anonymous mapping" % (pid, mem_mib))
    return {**total, "guest_rss": guest, "overhead_rss": total["rss"] - guest,
            "overhead_private": total["private"] - guest}


def rollup_kib(pid):
    """A process's whole Rss and Pss (smaps_rollup), in KiB."""
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            fields = line.split()
            if fields[0] in ("Rss:", "Pss:"):
                out[fields[0][:-1].lower()] = int(fields[1])
    return out


def jailed_vmm(pid):
    """The VMM under a jailer: the jailer stays as its monitor, the VMM its one child."""
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        children = f.read().split()
    if len(children) != 1:
        raise SystemExit("bench: jailer %d has children %s, not one VMM" % (pid, children))
    return int(children[0])


def tree_kib(path):
    """Space the files under path take (a jail's copies of the VMM, kernel, initrd)."""
    kib = 0
    for root, _, files in os.walk(path):
        for name in files:
            kib += os.lstat(os.path.join(root, name)).st_blocks // 2
    return kib


def measure(cmds, ready, mem_mib, timeout, label, jail_base=None):
    """Starts every command at once (jailers when jail_base is the jails' directory),
    waits until each guest printed ready, then sums their memory and stops them."""
    n = len(cmds)
    before = mem_available_kib()
    t0 = bench.now_ms()
    runs = [bench.Run(c) for c in cmds]
    spawned = bench.now_ms() - t0
    pending = {r.proc.stdout.fileno(): r for r in runs}
    deadline = time.monotonic() + timeout
    try:
        while pending and time.monotonic() < deadline:
            got, _, _ = select.select(list(pending), [], [], deadline - time.monotonic())
            for fd in got:
                r = pending[fd]
                data = os.read(fd, 65536)
                if not data:
                    raise SystemExit("bench: density: a %s VM ended before reporting: %s" %
                                     (label, bench.last_line(r.err)))
                r.out += data
                if ready in r.out:
                    del pending[fd]
        all_ready = bench.now_ms() - t0
        if pending:
            raise SystemExit("bench: density: %d of %d %s VMs did not report in %d s" %
                             (len(pending), n, label, timeout))
        time.sleep(0.5)
        after = mem_available_kib()
        jailed = jail_base is not None
        per = [smaps(jailed_vmm(r.proc.pid) if jailed else r.proc.pid, mem_mib) for r in runs]
        jailers = [rollup_kib(r.proc.pid) for r in runs] if jailed else []
        jail_files = tree_kib(jail_base) if jailed else 0
    finally:               # a failed measurement must not leave VMs running
        for r in runs:
            r.proc.send_signal(signal.SIGTERM)
        for r in runs:
            r.stop()
    out = {
        "vms": n,
        "spawn_ms": round(spawned, 1),
        "all_reported_ms": round(all_ready, 1),
        "sum_rss_mib": sum(p["rss"] for p in per) / 1024,
        "sum_pss_mib": sum(p["pss"] for p in per) / 1024,
        "sum_guest_rss_mib": sum(p["guest_rss"] for p in per) / 1024,
        "sum_overhead_rss_mib": sum(p["overhead_rss"] for p in per) / 1024,
        "mem_available_drop_mib": (before - after) / 1024,
    }
    if jailed:
        # The jailers wait as the VMMs' monitors: their memory is the jail's price, and
        # so are the files each jail holds (on a memory-backed /tmp, memory too).
        out["jailers_sum_pss_mib"] = sum(j["pss"] for j in jailers) / 1024
        out["jailers_sum_rss_mib"] = sum(j["rss"] for j in jailers) / 1024
        out["jail_files_mib"] = jail_files / 1024
    return out
