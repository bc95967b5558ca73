#!/usr/bin/python3
"""Runs microvm's benchmarks side by side with QEMU's microvm machine and writes
one JSON file. bench/run.sh builds what this needs and calls it, then report.py.
Methods: bench/README.md. Standard library only.
"""
import argparse
import datetime
import json
import os
import platform
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import apibench
import density
import kvmbench
import snapbench

QEMU_MACHINE = "microvm,x-option-roms=off,isa-serial=on,rtc=off,pit=off,pic=off"
# -cpu host dies on MSR 0x10a (IA32_ARCH_CAPABILITIES) on this PVM host.
QEMU_CPU = "host,-arch-capabilities"
# The benchmark guest ends QEMU through isa-debug-exit (QEMU's microvm has no i8042).
QEMU_EXIT_DEVICE = "isa-debug-exit,iobase=0xf4,iosize=0x04"
BOOT_TIMER_RE = re.compile(rb"boot-timer: guest first instruction after (\d+) us")
PVM_ADDED_RE = re.compile(rb"added to the kernel command line: (.*?) \(--no-pvm")
GUEST_READY = b"bench-guest: idle"
RUN_INIT = b"Run /init as init process"
KVM_INTERNAL_ERROR = b"KVM internal error"
# QEMU's register dump marks the byte at RIP: "Code=... <cc> 90 90 ...".
QEMU_CODE_RE = re.compile(rb"Code=[^<\n]*<([0-9a-f]{2})>((?: [0-9a-f]{2}){0,3})")
PRINTK_TIME_RE = re.compile(rb"\[\s*(\d+\.\d+)\][^\n]*Run /init as init process")
# microvm's own default command line (microvm --help); QEMU gets it too, plus
# whatever microvm adds on a PVM host, so both guests see the same one.
MICROVM_DEFAULT_CMDLINE = ("console=ttyS0 reboot=k panic=1 nomodule 8250.nr_uarts=1 "
                           "i8042.noaux i8042.nomux i8042.dumbkbd")
# Rounds of Linux boots per nested host in the kvm section (see Bench.kvm), and how
# many failed pieces are run again.
KVM_CHUNK_RUNS = 3
KVM_SPARE_PIECES = 3


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def now_ms():
    return time.monotonic_ns() / 1e6


def stats(values):
    """Median, p95 (nearest rank), min, max and n of a list of numbers."""
    v = sorted(values)
    if not v:
        return None
    p95 = v[max(0, -(-95 * len(v) // 100) - 1)]
    return {"median": statistics.median(v), "p95": p95, "min": v[0], "max": v[-1], "n": len(v)}


class Run:
    """One VMM process: spawn time, first stdout (serial) byte, a wanted line, exit."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.t0 = now_ms()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = b""
        self.err = b""
        self.first_byte_ms = None
        self.match_ms = None
        self.exit_ms = None
        self.open = {self.proc.stdout.fileno(): "out", self.proc.stderr.fileno(): "err"}

    def pump(self, timeout):
        """Reads what is ready (waiting up to timeout s); False once both pipes are closed."""
        if not self.open:
            return False
        ready, _, _ = select.select(list(self.open), [], [], timeout)
        t = now_ms()
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                del self.open[fd]
            elif self.open[fd] == "out":
                if self.first_byte_ms is None:
                    self.first_byte_ms = t - self.t0
                self.out += data
            else:
                self.err += data
        return True

    def wait_for(self, pattern, timeout, stop_on_err=None):
        """Until pattern appears on the serial output; False on timeout, EOF, or when
        stop_on_err appears on stderr."""
        deadline = time.monotonic() + timeout
        while pattern not in self.out:
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(left) or (stop_on_err and stop_on_err in self.err):
                return False
        self.match_ms = now_ms() - self.t0
        return True

    def finish(self, timeout):
        """Reads to EOF and reaps; kills the process if it is not done in timeout s."""
        deadline = time.monotonic() + timeout
        while self.open and time.monotonic() < deadline:
            self.pump(deadline - time.monotonic())
        try:
            self.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.kill()
        if self.exit_ms is None:
            self.exit_ms = now_ms() - self.t0
        self.drain()
        return self.proc.returncode

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; reaps."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()
        self.drain()

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def drain(self):
        while self.pump(0):
            pass
        self.proc.stdout.close()
        self.proc.stderr.close()

    def boot_timer_ms(self):
        m = BOOT_TIMER_RE.search(self.err)
        return int(m.group(1)) / 1000 if m else None


class Bench:
    def __init__(self, args):
        self.a = args
        self.jail_base = None
        self.jail_seq = 0
        self.results = {}

    # --- commands ----------------------------------------------------------------

    def microvm(self, kernel, mem=128, extra=()):
        return [self.a.microvm, "--kernel", kernel, "--mem", str(mem), *extra]

    def jailed(self, kernel, base=None):
        self.jail_seq += 1
        return [self.a.jailer, "--id", "bench-%d-%d" % (os.getpid(), self.jail_seq),
                "--chroot-base-dir", base or self.jail_base, "--", self.a.microvm,
                "--kernel", kernel]

    def qemu(self, kernel, mem=128, extra=()):
        return [self.a.qemu, "-M", QEMU_MACHINE, "-enable-kvm", "-cpu", QEMU_CPU,
                "-m", "%dM" % mem, "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-serial", "stdio", "-no-reboot",
                "-device", QEMU_EXIT_DEVICE, "-kernel", kernel, *extra]

    def qemu_control(self, qmp_path):
        """QEMU held before its first instruction (-S), with QMP on a Unix socket."""
        return [self.a.qemu, "-M", QEMU_MACHINE, "-enable-kvm", "-cpu", QEMU_CPU,
                "-m", "128M", "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-S", "-qmp", "unix:%s,server=on,wait=off" % qmp_path]

    # --- the host ----------------------------------------------------------------

    @staticmethod
    def foreign_linux_boots():
        """Pids of VMMs (microvm, QEMU) booting a Linux kernel that are not ours."""
        pids = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            name = os.path.basename(argv[0])
            if (name == b"microvm" or name.startswith(b"qemu-system")) and \
                    any(b"bzImage" in a or b"vmlinux" in a for a in argv[1:]):
                pids.append(int(pid))
        return pids

    @staticmethod
    def loadavg():
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]

    def quiet(self, section):
        """Waits (up to --max-wait s) until no Linux boot runs; records the host's state."""
        start = time.monotonic()
        busy = self.foreign_linux_boots()
        if busy:
            log("%s: waiting for other Linux boots to end (pids %s)" % (section, busy))
        while busy and time.monotonic() - start < self.a.max_wait:
            time.sleep(5)
            busy = self.foreign_linux_boots()
        state = {"loadavg": self.loadavg(), "waited_s": round(time.monotonic() - start, 1),
                 "linux_boots_running": len(busy)}
        if busy:
            log("%s: other Linux boots still run after %d s; measuring anyway" %
                (section, self.a.max_wait))
        self.results.setdefault("host_state", {})[section] = state
        log("%s (load %s)" % (section, " ".join("%.2f" % x for x in state["loadavg"])))

    def machine(self):
        model = "unknown"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
        pvm = os.path.isdir("/sys/module/kvm_pvm")
        qemu_version = subprocess.run([self.a.qemu, "--version"], capture_output=True,
                                      text=True, check=True).stdout.splitlines()[0]
        return {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": os.cpu_count(),
            "cpu": model,
            "mem_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(),
            "os": self.os_name(),
            "kvm": "PVM (kvm_pvm: no VT-x; guest CPL0 code is emulated)" if pvm
                   else "hardware (VT-x/AMD-V)",
            "qemu": qemu_version,
            "microvm_commit": self.a.commit,
            "loadavg_start": self.loadavg(),
        }

    @staticmethod
    def os_name():
        try:
            with open("/etc/os-release") as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        return line.split("=", 1)[1].strip().strip('"')
        except OSError:
            pass
        return "unknown"

    # --- launch latency ----------------------------------------------------------

    def one_launch(self, cmd):
        r = Run(cmd)
        rc = r.finish(30)
        if r.first_byte_ms is None or b"bench-guest: entry=" not in r.out:
            raise SystemExit("bench: %s: no report from the guest (exit %s): %s" %
                             (" ".join(cmd), rc, r.err.decode(errors="replace")[-500:]))
        return r

    def latency(self):
        self.quiet("latency")
        guest = self.a.guest
        kinds = {
            "microvm": lambda: self.microvm(guest),
            "microvm_jailed": lambda: self.jailed(guest),
            "qemu": lambda: self.qemu(guest),
        }
        samples = {k: {"first_byte_ms": [], "exit_ms": [], "boot_timer_ms": [],
                       "main_ms": []} for k in kinds}
        for k, cmd in kinds.items():    # one untimed run each: page cache, jailer paths
            self.one_launch(cmd())
        for i in range(self.a.runs):
            for k, cmd in kinds.items():
                r = self.one_launch(cmd())
                s = samples[k]
                s["first_byte_ms"].append(r.first_byte_ms)
                s["exit_ms"].append(r.exit_ms)
                bt = r.boot_timer_ms()
                if bt is not None:
                    s["boot_timer_ms"].append(bt)
                    # The VMM's main() ran about boot-timer ms before the first serial byte.
                    s["main_ms"].append(r.first_byte_ms - bt)
        self.results["latency"] = {
            k: {m: {"stats": stats(v), "samples": [round(x, 3) for x in v]}
                for m, v in s.items() if v}
            for k, s in samples.items()}
        self.results["latency"]["guest"] = os.path.basename(guest)

    # --- the API: socket ready, memory with the API thread (apibench.py) ----------

    def api(self):
        self.quiet("api")
        self.results["api"] = {
            "socket_ready": apibench.socket_ready(self, Run, stats, now_ms),
            "memory_128": apibench.memory_with_api(self, Run, stats, now_ms),
            "memory_every_device_128": apibench.memory_every_device(self, Run, stats, now_ms),
        }

    # --- snapshot restore and creation, by guest size (snapbench.py) -------------

    def snapshot(self):
        self.quiet("snapshot")
        sizes = [int(x) for x in self.a.snapshot_sizes.split(",")]
        self.results["snapshot"] = {
            "sizes_mib": sizes,
            "by_size": snapbench.snapshot(self.a.microvm, self.a.tiny_guest, sizes,
                                          max(10, self.a.runs), self.jail_base, log,
                                          stats, self.a.qemu),
        }

    # --- Linux to Run /init ------------------------------------------------------

    def linux(self):
        out = {"initramfs_bytes": os.path.getsize(self.a.initramfs), "images": {}}
        pvm_added = ""
        for name, path in (("bzImage", self.a.bzimage), ("vmlinux", self.a.vmlinux)):
            self.quiet("linux-" + name)
            img = {"microvm": {"wall_s": [], "guest_s": []}}
            for i in range(self.a.linux_runs):
                r = Run(self.microvm(path, extra=("--initrd", self.a.initramfs)))
                ok = r.wait_for(RUN_INIT, self.a.linux_timeout)
                r.stop()
                if not ok:
                    img["microvm"]["error"] = "no `Run /init` within %d s: %s" % (
                        self.a.linux_timeout, last_line(r.err or r.out))
                    break
                img["microvm"]["wall_s"].append(round(r.match_ms / 1000, 2))
                m = PRINTK_TIME_RE.search(r.out)
                if m:
                    img["microvm"]["guest_s"].append(float(m.group(1)))
                m = PVM_ADDED_RE.search(r.err)
                pvm_added = m.group(1).decode() if m else ""
                log("linux %s: microvm run %d: %.1f s" % (name, i + 1, r.match_ms / 1000))
            for key in ("wall_s", "guest_s"):
                img["microvm"][key + "_stats"] = stats(img["microvm"][key])
            img["qemu"] = self.qemu_linux(path, pvm_added)
            out["images"][name] = img
        self.results["linux"] = out

    def qemu_linux(self, path, pvm_added):
        """One QEMU attempt with a short timeout; the reason when it cannot reach /init."""
        cmdline = (MICROVM_DEFAULT_CMDLINE + " " + pvm_added).strip()
        r = Run(self.qemu(path, extra=("-initrd", self.a.initramfs, "-append", cmdline)))
        ok = r.wait_for(RUN_INIT, self.a.qemu_linux_timeout, stop_on_err=KVM_INTERNAL_ERROR)
        t = (now_ms() - r.t0) / 1000
        if ok:
            r.stop()
            log("linux: QEMU reached /init in %.1f s" % (r.match_ms / 1000))
            return {"wall_s": round(r.match_ms / 1000, 2), "cmdline": cmdline}
        # After a KVM internal error QEMU stops the guest but keeps running.
        time.sleep(0.5)   # the rest of its register dump
        exited = r.proc.poll() is not None
        if exited:
            r.finish(5)
        else:
            r.stop()
        m = QEMU_CODE_RE.search(r.err)
        if KVM_INTERNAL_ERROR in r.err:
            why = "KVM emulation failure after %.0f s" % t
            if m:
                insn = (m.group(1) + m.group(2)).decode()
                why += " at the instruction bytes %s%s" % (
                    insn, " (int3)" if insn.startswith("cc") else "")
        elif exited:
            why = "exited %d after %.0f s: %s" % (r.proc.returncode, t, last_line(r.err))
        else:
            why = "no `Run /init` within %d s" % self.a.qemu_linux_timeout
        why += "; last serial line: %s" % (last_line(r.out) or "(none)")
        log("linux: QEMU: " + why)
        return {"error": why, "cmdline": cmdline, "stderr_tail": r.err.decode(
            errors="replace")[-2000:]}

    # --- memory ------------------------------------------------------------------

    def memory(self):
        self.quiet("memory")
        out = {}
        for mem in (128, 1024):
            for vmm in ("microvm", "qemu"):
                samples = []
                for _ in range(self.a.mem_runs):
                    r = Run((self.microvm if vmm == "microvm" else self.qemu)(
                        self.a.guest_idle, mem))
                    if not r.wait_for(GUEST_READY, 30):
                        raise SystemExit("bench: %s --mem %d: the idle guest never reported: %s"
                                         % (vmm, mem, last_line(r.err)))
                    time.sleep(0.2)   # let the VMM settle after the guest's last exit
                    samples.append(density.smaps(r.proc.pid, mem))
                    r.stop()
                out["%s_%d" % (vmm, mem)] = {
                    "samples_kib": samples,
                    "overhead_rss_mib": stats([s["overhead_rss"] / 1024 for s in samples]),
                    "overhead_private_mib": stats([s["overhead_private"] / 1024 for s in samples]),
                    "guest_rss_kib": stats([s["guest_rss"] for s in samples]),
                }
        self.results["memory"] = out

    # --- loader ------------------------------------------------------------------

    def loader(self):
        self.quiet("loader")
        res = subprocess.run([self.a.loadbench, str(self.a.loader_iterations), "128",
                              self.a.bzimage, self.a.vmlinux],
                             capture_output=True, text=True, check=True).stdout
        out = {}
        cur = None
        for line in res.splitlines():
            w = line.split()
            if w[0] == "file":
                kv = dict(x.split("=") for x in w[2:])
                cur = {"file": w[1], "size": int(kv["size"]), "loaded": int(kv["loaded"]),
                       "ns": {"cold": [], "warm": [], "cat": []}}
                out[os.path.basename(w[1])] = cur
            else:
                cur["ns"][w[1]].append(int(w[2]))
        for v in out.values():
            ns = v.pop("ns")
            for kind, samples in ns.items():
                med = statistics.median(samples)
                v[kind] = {"median_ms": med / 1e6, "p95_ms": stats(samples)["p95"] / 1e6,
                           "mb_s": v["size"] / 1e6 / (med / 1e9), "n": len(samples)}
            v["cold_vs_cat"] = v["cold"]["median_ms"] / v["cat"]["median_ms"]
            v["warm_vs_cat"] = v["warm"]["median_ms"] / v["cat"]["median_ms"]
        self.results["loader"] = out

    # --- density -----------------------------------------------------------------

    def density(self):
        out = {}
        for vmm in ("microvm", "microvm_jailed", "qemu"):
            self.quiet("density-" + vmm)
            jails = None
            if vmm == "microvm_jailed":
                # Their own directory: the jails' files are counted.
                jails = os.path.join(self.jail_base, "density")
                os.mkdir(jails, 0o755)
                cmds = [self.jailed(self.a.guest_idle, jails) for _ in range(self.a.density)]
            else:
                make = self.microvm if vmm == "microvm" else self.qemu
                cmds = [make(self.a.guest_idle, 128) for _ in range(self.a.density)]
            out[vmm] = density.measure(cmds, GUEST_READY, 128, 120, vmm, jail_base=jails)
            log("density %s: %d VMs reported in %.0f ms" % (vmm, out[vmm]["vms"],
                                                            out[vmm]["all_reported_ms"]))
        self.results["density"] = out

    # --- under a real KVM --------------------------------------------------------

    def run_kvm(self, label, kvmbench_args):
        """One piece of the kvm section in a fresh nested host: its JSON, or None."""
        here = os.path.dirname(os.path.abspath(__file__))
        cmd = [self.a.run_kvm, "--mem", str(self.a.kvm_mem), "--timeout", str(self.a.kvm_timeout),
               "--", sys.executable, os.path.join(here, "kvmbench.py"),
               "--microvm", self.a.microvm, "--qemu", self.a.qemu, "--bzimage", self.a.bzimage,
               "--vmlinux", self.a.vmlinux, "--initramfs", self.a.kvm_initramfs,
               "--tiny-guest", self.a.tiny_guest, *kvmbench_args]
        log("kvm: %s: %s" % (label, " ".join(cmd)))
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        if p.returncode != 0:
            self.results["kvm"].setdefault("failed_pieces", []).append(
                "%s: run-kvm exited %d" % (label, p.returncode))
            log("kvm: %s: run-kvm exited %d" % (label, p.returncode))
            return None
        return json.loads(p.stdout.decode().strip().splitlines()[-1])

    def kvm(self):
        """kvmbench.py where run-kvm finds a real KVM (nested on a PVM host), in pieces of
        KVM_CHUNK_RUNS rounds: a nested host under TCG now and then freezes, and a piece
        that fails (after run-kvm's one retry) costs only its own rounds."""
        self.quiet("kvm")
        self.results["kvm"] = {}
        parts = self.a.kvm_parts.split(",")
        boots = []
        left = self.a.kvm_runs if "boot" in parts else 0
        # A failed piece is run again, up to KVM_SPARE_PIECES times in all.
        spare = KVM_SPARE_PIECES
        while left > 0 and spare >= 0:
            n = min(KVM_CHUNK_RUNS, left)
            got = self.run_kvm("boot, %d rounds" % n, ["--part", "boot", "--runs", str(n)])
            if got:
                boots.append(got)
                where = got
                left -= n
            else:
                spare -= 1
        snaps = {}
        for mib in self.a.snapshot_sizes.split(",") if "snapshot" in parts else []:
            got = self.run_kvm("snapshot %s MiB" % mib, [
                "--part", "snapshot", "--snapshot-sizes", mib, "--runs", str(self.a.kvm_runs)])
            if got:
                snaps.update(got["snapshot"]["by_size"])
                where = got
        io = None
        if "io" in parts and self.a.kvm_guest_initramfs:
            # One piece of about 6 minutes: run again once if its nested host fails.
            for _ in range(2):
                io = self.run_kvm("io", [
                    "--part", "io", "--guest-initramfs", self.a.kvm_guest_initramfs,
                    "--iobench", self.a.iobench, "--xfer", self.a.xfer,
                    "--io-runs", str(self.a.kvm_runs)])
                if io:
                    where = io
                    self.results["kvm"]["io"] = io["io"]
                    break
        dens = {}
        # A piece for each VMM's guests, each run again once if it fails: a nested host
        # froze in 8 of 9 tries with 20 Linux guests of both VMMs in one (--kvm-density).
        for vmm in ("microvm", "qemu") if "density" in parts else ():
            for _ in range(2):
                got = self.run_kvm("density %d %s" % (self.a.kvm_density, vmm), [
                    "--part", "density", "--density", str(self.a.kvm_density),
                    "--density-vmm", vmm, "--jailer", self.a.jailer,
                    "--idle-initramfs", self.a.kvm_idle_initramfs])
                if got:
                    where = got
                    dens.update(got["density"])
                    break
        missing = [k for k in ("microvm_jailed", "qemu") if k not in dens]
        if "density" in parts:
            self.results["kvm"]["density"] = dens if not missing else {
                "error": "no %s figures: each try's nested host failed" % " or ".join(missing)}
        if not boots and not snaps and not io and not dens:
            self.results["kvm"]["error"] = "; ".join(self.results["kvm"]["failed_pieces"])
            return
        self.results["kvm"].update({"kvm": where["kvm"], "host_kernel": where["host_kernel"]})
        if "boot" in parts:
            self.results["kvm"]["boot"] = (kvmbench.merge_boot([b["boot"] for b in boots])
                                           if boots else {"error": "every piece failed"})
        if "snapshot" in parts:
            self.results["kvm"]["snapshot"] = (
                {"sizes_mib": [int(m) for m in snaps], "by_size": snaps} if snaps
                else {"error": "every piece failed"})
        if "io" in parts and self.a.kvm_guest_initramfs and not io:
            self.results["kvm"]["io"] = {"error": "every piece failed"}

    # --- all ---------------------------------------------------------------------

    def run(self):
        self.results["machine"] = self.machine()
        self.results["command"] = self.a.command
        self.results["params"] = {"runs": self.a.runs, "linux_runs": self.a.linux_runs,
                                  "density": self.a.density, "mem_runs": self.a.mem_runs,
                                  "loader_iterations": self.a.loader_iterations,
                                  "kvm_runs": self.a.kvm_runs, "kvm_density": self.a.kvm_density}
        sections = [s for s in ("latency", "api", "snapshot", "memory", "loader", "density",
                                "linux", "kvm")
                    if s not in self.a.skip]
        with tempfile.TemporaryDirectory(prefix="microvm-bench-") as base:
            os.chmod(base, 0o755)
            self.jail_base = base
            for s in sections:
                getattr(self, s)()
        self.results["machine"]["loadavg_end"] = self.loadavg()
        return self.results


def last_line(data):
    lines = [x for x in data.decode(errors="replace").splitlines() if x.strip()]
    return lines[-1].strip() if lines else ""


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--microvm", required=True)
    p.add_argument("--jailer", required=True)
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--loadbench", required=True)
    p.add_argument("--guest", required=True, help="the benchmark guest (resets)")
    p.add_argument("--guest-idle", required=True, help="the benchmark guest (halts)")
    p.add_argument("--tiny-guest", required=True, help="tests/guest's tiny.elf (snapshot section)")
    p.add_argument("--snapshot-sizes", default="128,1024,4096",
                   help="guest memory sizes (MiB) of the snapshot section")
    p.add_argument("--bzimage", required=True)
    p.add_argument("--vmlinux", required=True)
    p.add_argument("--initramfs", required=True)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--linux-runs", type=int, default=1)
    p.add_argument("--linux-timeout", type=int, default=600)
    p.add_argument("--qemu-linux-timeout", type=int, default=120)
    p.add_argument("--mem-runs", type=int, default=5)
    p.add_argument("--loader-iterations", type=int, default=50)
    p.add_argument("--density", type=int, default=100)
    p.add_argument("--max-wait", type=int, default=1800,
                   help="longest wait for other Linux boots to end before a section")
    p.add_argument("--run-kvm", required=True, help="tests/kvm/run-kvm (the kvm section)")
    p.add_argument("--kvm-initramfs", required=True,
                   help="an initramfs whose /init is bench/guest/init.c (the kvm section)")
    p.add_argument("--kvm-guest-initramfs",
                   help="the kvm tests' busybox initramfs (scripts/build-initramfs): the kvm "
                        "section's I/O measurements (kvmio.py), none without")
    p.add_argument("--iobench", help="bench/guest/iobench.c, static (kvmio.py's guest tool)")
    p.add_argument("--xfer", help="tests/kvm/xfer.c, static (kvmio.py's TCP ends on the host)")
    p.add_argument("--kvm-runs", type=int, default=10)
    p.add_argument("--kvm-idle-initramfs", required=True,
                   help="an initramfs whose /init is bench/guest/init.c built with BENCH_IDLE "
                        "(the kvm section's density)")
    p.add_argument("--kvm-density", type=int, default=8,
                   help="Linux guests of each VMM started at once in the kvm section")
    p.add_argument("--kvm-parts", default="boot,snapshot,io,density",
                   help="what the kvm section measures: boot, snapshot, io, density")
    p.add_argument("--kvm-mem", type=int, default=8192,
                   help="MiB of the nested host (the snapshot part runs 4 GiB guests)")
    p.add_argument("--kvm-timeout", type=int, default=1200,
                   help="seconds for each piece of the kvm section (one nested host)")
    p.add_argument("--skip", action="append", default=[],
                   choices=["latency", "api", "snapshot", "memory", "loader", "density", "linux",
                            "kvm"])
    p.add_argument("--commit", default="unknown")
    p.add_argument("--command", default="bench/run.sh")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    if a.kvm_guest_initramfs and not (a.iobench and a.xfer):
        p.error("--kvm-guest-initramfs needs --iobench and --xfer")
    if a.runs < 20:
        log("note: fewer than 20 runs (--runs %d): medians and p95 are rough" % a.runs)
    results = Bench(a).run()
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
