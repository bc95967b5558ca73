"""kvmbench.py's I/O part: virtio-blk and virtio-net throughput from guest user space,
microvm against QEMU's virtio-mmio devices (its microvm machine), in the same host and
the same run (bench/README.md).

Each VMM boots the test kernel (bzImage, 1 vCPU, 256 MiB, microvm's default command
line) with the busybox initramfs, one disk (a 256 MiB raw image in the host's /tmp,
the same file for every VMM), one NIC on a tap of the host and an entropy device. The
guest's /test.sh runs bench/guest/iobench.c, --io-runs samples in all, spread over
--io-boots boots of each VMM (booting is slow under TCG, so one boot measures several
times), the VMMs interleaved boot by boot. Each sample:
  seq-read, seq-write:   1 MiB O_DIRECT requests on /dev/vda for --io-blk-ms;
  rand-read, rand-write: 4 KiB O_DIRECT requests at fixed-seed random offsets, queue
                         depth 1, for --io-blk-ms (writes end with a flush, timed);
  tcp-send:              --io-net-mib MiB from the guest to the host's xfer (guest to
                         host), from the connection to the host's close;
  tcp-recv:              as many from the host's xfer to the guest (host to guest),
                         from the guest's accept to the host's half-close.
Both VMMs serve the disk through the host's page cache (microvm's pread/pwrite;
QEMU's cache=writeback, aio=threads, its default) and the NIC through the same tap.
QEMU's devices offer what they offer by default; both VMMs' virtio-net offer checksum
and TCP segmentation offloads both ways and merged receive buffers. The peer "QEMU,
microvm's features" (--no-io-qemu-matched leaves it out) turns off what QEMU offers
beyond microvm (the event index on every device, legacy GSO and UDP fragmentation
offloads), which shows how much of the difference they make. The guest prints the features its drivers
accepted; the JSON keeps them by name.
"""
import argparse
import os
import re
import subprocess
import time

import bench

HOST_IP, GUEST_IP = "169.254.12.1", "169.254.12.2"
# One MAC for every guest: the host's neighbour entry for the guest's address stays
# right from one VMM's boot to the next.
GUEST_MAC = "52:54:00:12:34:56"
SEND_PORT, RECV_PORT = 5000, 5001
MEM_MIB = 256
BLK_MODES = ("seq-read", "seq-write", "rand-read", "rand-write")
MEASURES = BLK_MODES + ("tcp-send", "tcp-recv")
RESULT_RE = re.compile(rb"^iobench: (\S+) bytes=(\d+) ops=(\d+) ns=(\d+)$")
LISTENING = b"iobench: listening"
EXIT_RE = re.compile(rb"^microvm-guest: test exit status (\d+)$")
FEATURES_RE = re.compile(rb"^iobench: virtio 0x([0-9a-f]+) ([01]+)$")
VIRTIO_IDS = {1: "net", 2: "blk", 4: "rng"}
# Feature bit names (the virtio 1.2 spec), those of the transport and of each device.
VIRTIO_COMMON_BITS = {24: "NOTIFY_ON_EMPTY", 27: "ANY_LAYOUT", 28: "INDIRECT_DESC",
                      29: "EVENT_IDX", 32: "VERSION_1", 33: "ACCESS_PLATFORM"}
VIRTIO_BITS = {
    "net": {0: "CSUM", 1: "GUEST_CSUM", 2: "CTRL_GUEST_OFFLOADS", 3: "MTU", 5: "MAC",
            6: "GSO (legacy)", 7: "GUEST_TSO4", 8: "GUEST_TSO6", 9: "GUEST_ECN", 10: "GUEST_UFO", 11: "HOST_TSO4",
            12: "HOST_TSO6", 13: "HOST_ECN", 14: "HOST_UFO", 15: "MRG_RXBUF", 16: "STATUS",
            17: "CTRL_VQ", 18: "CTRL_RX", 19: "CTRL_VLAN", 20: "CTRL_RX_EXTRA",
            21: "GUEST_ANNOUNCE", 22: "MQ", 23: "CTRL_MAC_ADDR"},
    "blk": {1: "SIZE_MAX", 2: "SEG_MAX", 4: "GEOMETRY", 5: "RO", 6: "BLK_SIZE", 9: "FLUSH",
            10: "TOPOLOGY", 11: "CONFIG_WCE", 12: "MQ", 13: "DISCARD", 14: "WRITE_ZEROES"},
}
# What QEMU's virtio-net offers and microvm's does not: off in the "microvm's features"
# peer (with the event index, which all of QEMU's devices offer).
QEMU_NET_OFFLOADS = ("gso", "guest_ufo", "host_ufo")


def guest_script(reps, blk_ms, net_bytes):
    return """set -e
# What each device and its driver agreed on (device id, feature bits from bit 0).
for d in /sys/bus/virtio/devices/*; do
    echo "iobench: virtio $(cat $d/device) $(cat $d/features)"
done
ip addr add {guest}/24 dev eth0
ip link set eth0 up
i=0
while [ $i -lt {reps} ]; do
    for m in {modes}; do iobench blk /dev/vda $m {ms}; done
    iobench tcp-send {host} {send} {bytes}
    iobench tcp-recv {recv}
    i=$((i + 1))
done""".format(guest=GUEST_IP, host=HOST_IP, reps=reps, modes=" ".join(BLK_MODES), ms=blk_ms,
               send=SEND_PORT, recv=RECV_PORT, bytes=net_bytes)


def build_initramfs(out, base, script, files):
    """tests/kvm/lib.sh's guest_initramfs: the base busybox initramfs, then /test.sh
    (script) and files in /bin."""
    kvm_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "kvm")
    env = dict(os.environ, MICROVM_TEST_INITRAMFS=base, kvm_dir=kvm_dir)
    subprocess.run(["sh", "-c", '. "$kvm_dir/lib.sh" && guest_initramfs "$@"', "sh", out, script,
                    *files], env=env, check=True)


def fill_disk(path, mib):
    """mib MiB of data (one random MiB over and over), not holes: a read is of pages."""
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)


def variants(a, initrd, disk, tap, cmdline):
    """(name, argv) of each VMM measured."""
    ours = [a.microvm, "--kernel", a.bzimage, "--initrd", initrd, "--mem", str(MEM_MIB),
            "--cmdline", cmdline, "--drive", "path=" + disk,
            "--net", "tap=%s,mac=%s" % (tap, GUEST_MAC), "--rng"]

    def qemu(matched):
        # matched: virtio 1.x (QEMU's virtio-mmio is legacy unless told), no event index,
        # the network offloads microvm's virtio-net offers and no others.
        every = ",event_idx=off" if matched else ""
        net = "".join(",%s=off" % f for f in QEMU_NET_OFFLOADS) if matched else ""
        return [a.qemu, "-M", bench.QEMU_MACHINE, "-accel", "kvm", "-cpu", "host",
                "-m", "%dM" % MEM_MIB, "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-serial", "stdio", "-no-reboot",
                "-kernel", a.bzimage, "-initrd", initrd, "-append", cmdline,
                *(["-global", "virtio-mmio.force-legacy=false"] if matched else []),
                "-drive", "file=%s,format=raw,if=none,id=disk,cache=writeback,aio=threads" % disk,
                "-device", "virtio-blk-device,drive=disk" + every,
                "-netdev", "tap,id=net,ifname=%s,script=no,downscript=no" % tap,
                "-device", "virtio-net-device,netdev=net,mac=%s%s%s" % (GUEST_MAC, every, net),
                "-device", "virtio-rng-device" + every]
    out = [("microvm", ours), ("QEMU", qemu(False))]
    if a.io_qemu_matched:
        out.append(("QEMU, microvm's features", qemu(True)))
    return out


class Host:
    """The host's ends of the TCP transfers: xfer processes on the tap's address."""

    def __init__(self, xfer, send_file):
        self.xfer = xfer
        self.send_file = send_file
        self.procs = []
        self.errors = []

    def spawn(self, *args):
        self.procs.append(subprocess.Popen([self.xfer, *args], stdin=subprocess.DEVNULL,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))

    def receiver(self):
        """One guest-to-host transfer's receiver (it takes one connection)."""
        self.spawn("recv", "tcp-listen:%d" % SEND_PORT, "/dev/null")

    def sender(self):
        self.spawn("send", "tcp:%s:%d" % (GUEST_IP, RECV_PORT), self.send_file)

    def reap(self):
        """Ends what still runs; keeps the failures of those that ended."""
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            elif p.returncode != 0:
                self.errors.append(p.stderr.read().decode(errors="replace").strip())
            p.stderr.close()
        self.procs = []

    def failures(self):
        """The failures kept since the last call, as text."""
        out, self.errors = "; ".join(self.errors), []
        return out


def feature_names(kind, bits):
    """The names of the bits set in sysfs's string of a virtio device's features
    (bit 0 first)."""
    names = {**VIRTIO_BITS.get(kind, {}), **VIRTIO_COMMON_BITS}
    return [names.get(i, "bit%d" % i) for i, c in enumerate(bits) if c == "1"]


def one_boot(argv, host, timeout):
    """Boots, answers the guest's cues, and waits for the VMM's exit after the guest's
    power-off: ({measure: [(bytes, ops, ns)], "features": {device: [name]}}, None), or
    with what came and an error."""
    got = {m: [] for m in MEASURES}
    got["features"] = {}
    host.receiver()
    r = bench.Run(argv)
    deadline = time.monotonic() + timeout
    seen = 0
    status = None
    while status is None and time.monotonic() < deadline:
        if not r.pump(deadline - time.monotonic()):
            break
        lines = r.out.replace(b"\r", b"").split(b"\n")
        for line in lines[seen:-1]:
            m = RESULT_RE.match(line)
            if m:
                got[m.group(1).decode()].append(tuple(int(x) for x in m.group(2, 3, 4)))
                if m.group(1) == b"tcp-send":
                    host.reap()
                    host.receiver()
            elif line == LISTENING:
                host.sender()
            elif FEATURES_RE.match(line):
                f = FEATURES_RE.match(line)
                kind = VIRTIO_IDS.get(int(f.group(1), 16), f.group(1).decode())
                got["features"][kind] = feature_names(kind, f.group(2).decode())
            else:
                e = EXIT_RE.match(line)
                if e:
                    status = int(e.group(1))
        seen = max(seen, len(lines) - 1)
    error = None
    if status is None:
        r.stop()
        error = "no end of the guest's test within %d s: %s" % (timeout, bench.last_line(r.out))
    else:
        rc = r.finish(60)
        if status != 0:
            error = "the guest's test exited %d: %s" % (status, bench.last_line(r.out))
        elif rc != 0:
            error = "the VMM exited %d after the power-off: %s" % (rc, bench.last_line(r.err))
    host.reap()
    host_errors = host.failures()
    if host_errors and not error:
        error = "host xfer: " + host_errors
    return got, error


def summarise(samples, stats):
    """MB/s (and IOPS for the disk) per sample and their statistics."""
    out = {}
    for name, rows in samples.items():
        mb_s = [round(b / 1e6 / (ns / 1e9), 2) for b, _, ns in rows]
        out[name] = {"mb_s": mb_s, "mb_s_stats": stats(mb_s)}
        if name in BLK_MODES:
            iops = [round(ops / (ns / 1e9), 1) for _, ops, ns in rows]
            out[name].update(iops=iops, iops_stats=stats(iops))
    return out


def ratios(vmms):
    """microvm's median over each peer's, per measure: above 1, microvm moves more."""
    ours = vmms["microvm"]
    out = {}
    for name, v in vmms.items():
        if name == "microvm":
            continue
        out[name] = {}
        for m in MEASURES:
            o, q = ours.get(m, {}).get("mb_s_stats"), v.get(m, {}).get("mb_s_stats")
            out[name][m] = round(o["median"] / q["median"], 3) if o and q else None
    return out


def io(a, base, cmdline, log, stats):
    """The I/O measurements in the directory base (the host's own /tmp), the guests
    booted with cmdline; the "io" JSON."""
    reps = -(-a.io_runs // a.io_boots)
    net_bytes = a.io_net_mib << 20
    cmdline += " guest.end=poweroff"
    initrd, disk = os.path.join(base, "io-initrd"), os.path.join(base, "io-disk.img")
    send_file = os.path.join(base, "io-to-guest.bin")
    build_initramfs(initrd, a.guest_initramfs, guest_script(reps, a.io_blk_ms, net_bytes),
                    [a.iobench])
    fill_disk(disk, a.io_disk_mib)
    with open(send_file, "wb") as f:
        f.write(os.urandom(net_bytes))
    tap = "mvio%d" % os.getpid()
    subprocess.run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", HOST_IP + "/24", "dev", tap], check=True)
        subprocess.run(["ip", "link", "set", tap, "up"], check=True)
        ways = variants(a, initrd, disk, tap, cmdline)
        host = Host(a.xfer, send_file)
        raw = {name: {"argv": argv, "samples": {m: [] for m in MEASURES}, "features": {}}
               for name, argv in ways}
        for boot_no in range(a.io_boots):
            for name, argv in ways:
                v = raw[name]
                if "error" in v:
                    continue
                t0 = time.monotonic()
                got, error = one_boot(argv, host, a.io_timeout)
                v["features"] = got.pop("features")
                for m in MEASURES:
                    v["samples"][m] += got[m]
                medians = summarise(got, stats)
                log("kvm io: %s boot %d: %.0f s: %s" % (
                    name, boot_no + 1, time.monotonic() - t0, error or ", ".join(
                        "%s %.1f MB/s" % (m, medians[m]["mb_s_stats"]["median"])
                        for m in MEASURES if got[m])))
                if error:
                    v["error"] = error
    finally:
        subprocess.run(["ip", "link", "del", tap], check=False)
    vmms = {}
    for name, v in raw.items():
        vmms[name] = {"argv": v["argv"], "virtio_features": v["features"],
                      **summarise(v["samples"], stats)}
        if "error" in v:
            vmms[name]["error"] = v["error"]
    return {
        "method": {"mem_mib": MEM_MIB, "cmdline": cmdline, "kernel": a.bzimage,
                   "disk_mib": a.io_disk_mib, "blk_ms": a.io_blk_ms, "net_bytes": net_bytes,
                   "boots": a.io_boots, "samples_per_boot": reps, "queue_depth": 1,
                   "seq_request_bytes": 1 << 20, "rand_request_bytes": 4096,
                   "guest_script": guest_script(reps, a.io_blk_ms, net_bytes)},
        "vmms": vmms,
        "ratios": ratios(vmms),
    }


def add_arguments(p):
    """kvmbench.py's options for this part."""
    p.add_argument("--guest-initramfs",
                   help="the busybox initramfs of the kvm tests (scripts/build-initramfs): "
                        "the I/O measurements")
    p.add_argument("--iobench", help="bench/guest/iobench.c, built static (the guest's tool)")
    p.add_argument("--xfer", help="tests/kvm/xfer.c, built static (the host's TCP ends)")
    p.add_argument("--io-runs", type=int, default=10, help="samples of each I/O measurement")
    p.add_argument("--io-boots", type=int, default=5,
                   help="boots of each VMM the samples are spread over")
    p.add_argument("--io-blk-ms", type=int, default=1000, help="ms of each disk measurement")
    p.add_argument("--io-net-mib", type=int, default=16, help="MiB of each TCP transfer")
    p.add_argument("--io-disk-mib", type=int, default=256, help="MiB of the disk image")
    p.add_argument("--io-timeout", type=int, default=600, help="seconds for one boot")
    p.add_argument("--io-qemu-matched", action=argparse.BooleanOptionalAction, default=True,
                   help="also QEMU with its devices' extra features off (microvm's features)")
