#!/usr/bin/python3
"""bench.py's "kvm" section: Linux under a real KVM, microvm against QEMU's microvm
machine in the same host and the same run (bench/README.md).

Runs where /dev/kvm is a real KVM: bench.py starts it through tests/kvm/run-kvm,
which on a PVM host is a nested host (kvm_amd on QEMU's emulated SVM: TCG, so only
the ratios between the two VMMs mean anything, not the times themselves).

Boot: the test kernel with a 9 KiB initramfs whose /init (bench/guest/init.c)
prints "bench-init: user space" and powers off. For each way in, timed from the
VMM's spawn to that line (the guest's first line in user space) and to the VMM's
exit after the power-off:
  microvm bzImage, microvm vmlinux (its 64-bit entry, --entry64), microvm PVH
  (vmlinux at its PVH entry, microvm's default for it); QEMU bzImage and QEMU PVH
  (-kernel vmlinux), both direct kernel boots.
Both VMMs get the same command line, memory (128 MiB) and one vCPU; the variants
are interleaved over the rounds, after one untimed round.
--part snapshot: snapbench.py's measurements, restore against cold boot and QEMU's
migration, under this KVM, for --snapshot-sizes.
--part io: kvmio.py's virtio-blk and virtio-net throughput from guest user space,
against QEMU's virtio-mmio devices (needs --guest-initramfs, --iobench, --xfer).
--part density: --density Linux guests (bzImage, the /init built with BENCH_IDLE,
which stays up after its line) started at once, microvm each in its own jail or
QEMU (--density-vmm): the time until every /init reported, and the host memory they
hold (density.py; needs --jailer, --idle-initramfs).
Prints the JSON on stdout, progress on stderr. bench.py runs it in pieces of a few
rounds, each in a fresh nested host, and joins them (merge_boot).
"""
import argparse
import json
import os
import platform
import sys
import tempfile

import bench
import density
import kvmio
import snapbench

INIT_LINE = b"bench-init: user space"
MEM_MIB = 128


def microvm_argv(a, initramfs):
    # Both VMMs get microvm's default command line.
    return [a.microvm, "--mem", str(MEM_MIB), "--initrd", initramfs,
            "--cmdline", bench.MICROVM_DEFAULT_CMDLINE]


def qemu_argv(a, initramfs):
    return [a.qemu, "-M", bench.QEMU_MACHINE, "-accel", "kvm", "-cpu", "host",
            "-m", "%dM" % MEM_MIB, "-smp", "1", "-nodefaults", "-no-user-config",
            "-display", "none", "-serial", "stdio", "-no-reboot", "-initrd", initramfs,
            "-append", bench.MICROVM_DEFAULT_CMDLINE]


def variants(a):
    """(name, argv) of every way in: microvm's three, then QEMU's two."""
    ours = microvm_argv(a, a.initramfs)
    qemu = qemu_argv(a, a.initramfs)
    return [
        ("microvm bzImage", ours + ["--kernel", a.bzimage]),
        ("microvm vmlinux", ours + ["--kernel", a.vmlinux, "--entry64"]),
        ("microvm PVH", ours + ["--kernel", a.vmlinux]),
        ("QEMU bzImage", qemu + ["-kernel", a.bzimage]),
        ("QEMU PVH", qemu + ["-kernel", a.vmlinux]),
    ]


def boot_once(argv, timeout):
    """Spawn to the init's line and to the VMM's exit (ms), and the guest kernel's own
    clock at "Run /init" (s, its printk time), or an error string."""
    r = bench.Run(argv)
    if not r.wait_for(INIT_LINE, timeout):
        r.stop()
        return "no %r within %d s: %s" % (INIT_LINE.decode(), timeout,
                                          bench.last_line(r.err or r.out))
    rc = r.finish(timeout)
    if rc != 0:
        return "exited %d after the power-off: %s" % (rc, bench.last_line(r.err))
    m = bench.PRINTK_TIME_RE.search(r.out)
    return r.match_ms, r.exit_ms, float(m.group(1)) if m else None


def boot(a):
    out = {"cmdline": bench.MICROVM_DEFAULT_CMDLINE, "mem_mib": MEM_MIB,
           "initramfs_bytes": os.path.getsize(a.initramfs), "variants": {}}
    ways = variants(a)
    for name, argv in ways:
        out["variants"][name] = {"argv": argv, "init_ms": [], "exit_ms": [], "kernel_s": []}
    for round_no in range(a.runs + 1):
        for name, argv in ways:
            v = out["variants"][name]
            if "error" in v:
                continue
            got = boot_once(argv, a.timeout)
            if isinstance(got, str):
                v["error"] = got
                bench.log("kvm: %s: %s" % (name, got))
                continue
            if round_no:
                v["init_ms"].append(round(got[0], 2))
                v["exit_ms"].append(round(got[1], 2))
                if got[2] is not None:
                    v["kernel_s"].append(got[2])
            bench.log("kvm: %s round %d: /init after %.0f ms, exit after %.0f ms (kernel's "
                      "clock at Run /init: %s s)" % (name, round_no, got[0], got[1], got[2]))
    return out


def merge_boot(parts):
    """One boot result from several runs of this script (bench.py runs it in short
    pieces: see CHUNK_RUNS there): samples joined, then median and p95."""
    out = {k: v for k, v in parts[0].items() if k != "variants"}
    out["variants"] = {}
    for part in parts:
        for name, v in part["variants"].items():
            m = out["variants"].setdefault(name, {"argv": v["argv"], "init_ms": [],
                                                   "exit_ms": [], "kernel_s": []})
            if "error" in v:
                m.setdefault("error", v["error"])
            for key in ("init_ms", "exit_ms", "kernel_s"):
                m[key] += v[key]
    for v in out["variants"].values():
        for key in ("init_ms", "exit_ms", "kernel_s"):
            v[key + "_stats"] = bench.stats(v[key])
    return out


def snapshot(a):
    """snapbench's figures here; no dd against the disk: the nested host's /tmp is memory."""
    sizes = [int(x) for x in a.snapshot_sizes.split(",")]
    with tempfile.TemporaryDirectory() as base:
        return {"sizes_mib": sizes, "by_size": snapbench.snapshot(
            a.microvm, a.tiny_guest, sizes, a.runs, base, bench.log, bench.stats, a.qemu,
            dd=False)}


def density_part(a):
    """Linux guests started at once, microvm jailed or QEMU (density.measure)."""
    out = {"vms": a.density, "mem_mib": MEM_MIB, "kernel": os.path.basename(a.bzimage)}
    if a.density_vmm == "microvm":
        with tempfile.TemporaryDirectory() as jails:
            os.chmod(jails, 0o755)
            cmds = [[a.jailer, "--id", "kvm-density-%d" % i, "--chroot-base-dir", jails, "--",
                     *microvm_argv(a, a.idle_initramfs), "--kernel", a.bzimage]
                    for i in range(a.density)]
            got = density.measure(cmds, INIT_LINE, MEM_MIB, a.density_timeout, "microvm",
                                  jail_base=jails)
        out["microvm_jailed"] = got
    else:
        cmds = [qemu_argv(a, a.idle_initramfs) + ["-kernel", a.bzimage]
                for _ in range(a.density)]
        got = out["qemu"] = density.measure(cmds, INIT_LINE, MEM_MIB, a.density_timeout, "QEMU")
    bench.log("kvm: density: %d %s reported in %.0f ms"
              % (a.density, a.density_vmm, got["all_reported_ms"]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--microvm", required=True)
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--bzimage", required=True)
    p.add_argument("--vmlinux", required=True)
    p.add_argument("--initramfs", required=True, help="its /init: bench/guest/init.c")
    p.add_argument("--part", choices=["boot", "snapshot", "io", "density"], default="boot")
    p.add_argument("--jailer", help="the jailer (--part density)")
    p.add_argument("--idle-initramfs", help="bench-init-idle.cpio (--part density)")
    p.add_argument("--density", type=int, default=8, help="Linux guests at once")
    p.add_argument("--density-vmm", choices=["microvm", "qemu"], default="microvm",
                   help="whose guests (--part density): each VMM in its own nested host")
    p.add_argument("--density-timeout", type=int, default=600,
                   help="seconds until every guest of one VMM must have reported")
    p.add_argument("--tiny-guest", help="tests/guest's tiny.elf (--part snapshot)")
    p.add_argument("--snapshot-sizes", default="128,1024,4096")
    p.add_argument("--runs", type=int, default=10, help="timed rounds, after an untimed one")
    p.add_argument("--timeout", type=int, default=120, help="seconds for one boot")
    kvmio.add_arguments(p)
    a = p.parse_args()
    if a.part == "io" and not (a.guest_initramfs and a.iobench and a.xfer):
        sys.exit("kvmbench: --part io needs --guest-initramfs, --iobench and --xfer")
    if a.part == "density" and not (a.jailer and a.idle_initramfs):
        sys.exit("kvmbench: --part density needs --jailer and --idle-initramfs")
    where = os.environ.get("MICROVM_REAL_KVM")
    if where not in ("hardware", "nested"):
        sys.exit("kvmbench: MICROVM_REAL_KVM is %r: run this through tests/kvm/run-kvm, "
                 "which gives it a real KVM" % where)
    result = {"kvm": where, "host_kernel": platform.release(), "runs": a.runs}
    if a.part == "boot":
        result["boot"] = boot(a)
    elif a.part == "snapshot":
        result["snapshot"] = snapshot(a)
    elif a.part == "density":
        result["density"] = density_part(a)
    else:
        with tempfile.TemporaryDirectory() as base:
            result["io"] = kvmio.io(a, base, bench.MICROVM_DEFAULT_CMDLINE, bench.log,
                                    bench.stats)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
