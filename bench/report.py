#!/usr/bin/python3
"""Turns bench.py's JSON into the results table (terminal text and Markdown) and a
PNG chart. Usage: report.py RESULTS.json [MORE.json...] [--markdown OUT.md]
[--png OUT.png] [--out JOINED.json]
"""
import argparse
import json
import textwrap

TARGET_LAUNCH_RATIO = 5.0     # launch to first instruction at least 5x faster than QEMU
TARGET_OVERHEAD_MIB = 2.0     # VMM overhead under 2 MiB
TARGET_LOADER_RATIO = 1.5     # loader within 1.5x of cat
TARGET_API_READY_MS = 3.0     # process start to API socket ready
TARGET_RESTORE_MS = 5.0       # snapshot load request to guest running, 128 MiB
TARGET_KVM_BOOT_RATIO = 3.0   # Linux to /init under a real KVM at least 3x QEMU
TARGET_KVM_IO_RATIO = 1.0     # virtio-blk and virtio-net throughput at least QEMU's
# Firecracker's published figure for the same (its docs), not measured here.
FIRECRACKER_API_READY = "Firecracker publishes 12 ms wall, 8 ms CPU"
CELL_WIDTH = 44               # terminal table: wrap longer cells


def ms(s):
    return "%.1f ms (p95 %.1f)" % (s["median"], s["p95"]) if s else "n/a"


def verdict(ok):
    return "PASS" if ok else "FAIL"


def latency_rows(r):
    lat = r["latency"]
    n = lat["microvm"]["first_byte_ms"]["stats"]["n"]
    ours, qemu = lat["microvm"], lat["qemu"]
    jailed = lat["microvm_jailed"]
    ratio = qemu["first_byte_ms"]["stats"]["median"] / ours["first_byte_ms"]["stats"]["median"]
    exit_ratio = qemu["exit_ms"]["stats"]["median"] / ours["exit_ms"]["stats"]["median"]
    jail_cost = jailed["main_ms"]["stats"]["median"] - ours["main_ms"]["stats"]["median"]
    jailed_extra = (jailed["first_byte_ms"]["stats"]["median"]
                    - ours["first_byte_ms"]["stats"]["median"])
    return [
        ("Launch to guest's first instruction (spawn to first serial byte, %d runs)" % n,
         ms(ours["first_byte_ms"]["stats"]), ms(qemu["first_byte_ms"]["stats"]),
         "%.1fx faster" % ratio,
         ">= %gx: %s" % (TARGET_LAUNCH_RATIO, verdict(ratio >= TARGET_LAUNCH_RATIO))),
        ("Launch to first instruction, boot-timer (VMM main() to port 0x3f0 write)",
         ms(ours["boot_timer_ms"]["stats"]), "n/a (no boot-timer device)", "", ""),
        ("Launch to VMM exit (guest resets at once)",
         ms(ours["exit_ms"]["stats"]), ms(qemu["exit_ms"]["stats"]),
         "%.1fx faster" % exit_ratio, ""),
        ("Jailer start to VMM main() (spawn to first byte minus boot-timer)",
         "%s; unjailed %s" % (ms(jailed["main_ms"]["stats"]), ms(ours["main_ms"]["stats"])),
         "", "jailer +%.1f ms" % jail_cost, ""),
        ("Jailed launch to first instruction (spawn to first serial byte)",
         ms(jailed["first_byte_ms"]["stats"]), "", "+%.1f ms vs unjailed" % jailed_extra, ""),
    ]


def api_rows(r):
    ready = r["api"]["socket_ready"]
    ours, qmp = ready["microvm"], ready["qemu"]
    n = ours["ready_ms"]["stats"]["n"]
    o, q = ours["ready_ms"]["stats"]["median"], qmp["ready_ms"]["stats"]["median"]
    rows = [
        ("Process start to API socket ready (spawn to the first answer: GET / for "
         "microvm, QMP's greeting for QEMU -S; %d runs)" % n,
         ms(ours["ready_ms"]["stats"]), ms(qmp["ready_ms"]["stats"]),
         "%.1fx faster; %s" % (q / o, FIRECRACKER_API_READY),
         "< %g ms: %s" % (TARGET_API_READY_MS, verdict(o < TARGET_API_READY_MS))),
        ("Process start to the VM started through the API (microvm: PUT /boot-source, "
         "PUT /machine-config, InstanceStart's 204; QEMU -S: qmp_capabilities, cont)",
         ms(ours["started_ms"]["stats"]), ms(qmp["started_ms"]["stats"]),
         "%.1fx faster" % (qmp["started_ms"]["stats"]["median"]
                           / ours["started_ms"]["stats"]["median"]),
         "< %g ms: %s" % (TARGET_API_READY_MS,
                          verdict(ours["started_ms"]["stats"]["median"] < TARGET_API_READY_MS)))
        if "started_ms" in ours else None,
        ("CPU time from process start to API socket ready (every thread)",
         ms(ours["cpu_ms"]["stats"]), ms(qmp["cpu_ms"]["stats"]),
         "%.1fx less" % (qmp["cpu_ms"]["stats"]["median"] / ours["cpu_ms"]["stats"]["median"]),
         ""),
    ]
    rows = [row for row in rows if row]
    mem = r["api"]["memory_128"]
    m = mem["overhead_rss_mib"]["median"]
    without = r.get("memory", {}).get("microvm_128")
    rows.append(("VMM overhead with the API thread, 128 MiB guest started through the API",
                 "%.2f MiB (private %.2f)" % (m, mem["overhead_private_mib"]["median"]),
                 "", "without the API: %.2f MiB" % without["overhead_rss_mib"]["median"]
                 if without else "",
                 "< %g MiB: %s" % (TARGET_OVERHEAD_MIB, verdict(m < TARGET_OVERHEAD_MIB))))
    every = r["api"].get("memory_every_device_128")
    if every:
        e = every["overhead_rss_mib"]["median"]
        rows.append(("VMM overhead with the API thread and every device (virtio-blk, -net on a "
                     "tap, -rng, -vsock, -balloon with statistics), 128 MiB guest",
                     "%.2f MiB (private %.2f)" % (e, every["overhead_private_mib"]["median"]),
                     "", "+%.2f MiB for the devices" % (e - m),
                     "< %g MiB: %s" % (TARGET_OVERHEAD_MIB, verdict(e < TARGET_OVERHEAD_MIB))))
    return rows


def linux_rows(r):
    rows = []
    for name, img in r["linux"]["images"].items():
        m = img["microvm"]
        if m.get("wall_s_stats"):
            w = m["wall_s_stats"]
            ours = ("%.1f s (1 run)" % w["median"] if w["n"] == 1 else
                    "%.1f s median of %d (%.1f-%.1f)" % (w["median"], w["n"], w["min"], w["max"]))
            if m.get("guest_s_stats"):
                ours += "; guest clock %.1f s" % m["guest_s_stats"]["median"]
        else:
            ours = m.get("error", "not run")
        q = img["qemu"]
        if "wall_s" in q:
            peer = "%.1f s" % q["wall_s"]
            ratio = ("%.1fx" % (q["wall_s"] / m["wall_s_stats"]["median"])
                     if m.get("wall_s_stats") else "")
        else:
            peer = "QEMU: cannot run this image on this host: " + q["error"]
            ratio = ""
        rows.append(('Linux %s + %d-byte initramfs: spawn to "Run /init"'
                     % (name, r["linux"]["initramfs_bytes"]), ours, peer, ratio, ""))
    return rows


def memory_rows(r):
    rows = []
    for mem in (128, 1024):
        ours = r["memory"]["microvm_%d" % mem]
        qemu = r["memory"]["qemu_%d" % mem]
        o = ours["overhead_rss_mib"]["median"]
        q = qemu["overhead_rss_mib"]["median"]
        rows.append(("VMM overhead, %s guest (RSS minus touched guest RAM; private part)"
                     % ("128 MiB" if mem == 128 else "1 GiB"),
                     "%.2f MiB (private %.2f)" % (o, ours["overhead_private_mib"]["median"]),
                     "%.2f MiB (private %.2f)" % (q, qemu["overhead_private_mib"]["median"]),
                     "%.0fx smaller" % (q / o),
                     "< %g MiB: %s" % (TARGET_OVERHEAD_MIB, verdict(o < TARGET_OVERHEAD_MIB))))
    return rows


def loader_rows(r):
    rows = []
    for name, v in r["loader"].items():
        rows.append(("Loader, %s (%.1f MB file, %.1f MB into guest RAM): fresh guest memory"
                     % (name, v["size"] / 1e6, v["loaded"] / 1e6),
                     "%.0f MB/s (%.2f ms)" % (v["cold"]["mb_s"], v["cold"]["median_ms"]),
                     "cat: %.0f MB/s (%.2f ms)" % (v["cat"]["mb_s"], v["cat"]["median_ms"]),
                     "%.2fx cat's time" % v["cold_vs_cat"],
                     "<= %gx: %s" % (TARGET_LOADER_RATIO,
                                     verdict(v["cold_vs_cat"] <= TARGET_LOADER_RATIO))))
        rows.append(("Loader, %s: guest memory already touched" % name,
                     "%.0f MB/s (%.2f ms)" % (v["warm"]["mb_s"], v["warm"]["median_ms"]),
                     "", "%.2fx cat's time" % v["warm_vs_cat"], ""))
    return rows


def mem(x):
    """A density measurement's host memory, summed over its VMMs."""
    return "%.0f MiB RSS, %.0f MiB PSS (MemAvailable -%.0f MiB)" % (
        x["sum_rss_mib"], x["sum_pss_mib"], x["mem_available_drop_mib"])


def density_rows(r):
    d = r["density"]
    ours, qemu = d["microvm"], d["qemu"]
    n = ours["vms"]
    rows = [
        ("Density: %d VMs (128 MiB) started at once, until all reported" % n,
         "%.0f ms" % ours["all_reported_ms"], "%.0f ms" % qemu["all_reported_ms"],
         "%.1fx faster" % (qemu["all_reported_ms"] / ours["all_reported_ms"]), ""),
        ("Density: %d VMs, host memory" % n, mem(ours), mem(qemu),
         "%.0fx less PSS" % (qemu["sum_pss_mib"] / ours["sum_pss_mib"]), ""),
    ]
    jailed = d.get("microvm_jailed")
    if jailed:
        rows += [
            ("Density: %d jailed VMs (jailer -- microvm) started at once, until all reported"
             % jailed["vms"], "%.0f ms" % jailed["all_reported_ms"],
             "%.0f ms (unjailed QEMU)" % qemu["all_reported_ms"],
             "%.1fx faster; unjailed microvm %.0f ms" % (
                 qemu["all_reported_ms"] / jailed["all_reported_ms"], ours["all_reported_ms"]),
             ""),
            ("Density: %d jailed VMs, host memory (VMMs; the jailers, waiting as monitors)"
             % jailed["vms"],
             "%s; jailers %.0f MiB PSS (%.2f MiB each)" % (
                 mem(jailed), jailed["jailers_sum_pss_mib"],
                 jailed["jailers_sum_pss_mib"] / jailed["vms"]),
             mem(qemu),
             "%.0fx less PSS, jailers included" % (
                 qemu["sum_pss_mib"] / (jailed["sum_pss_mib"] + jailed["jailers_sum_pss_mib"])),
             ""),
        ]
    return rows


def snapshot_rows(r):
    by_size = r["snapshot"]["by_size"]
    rows = []
    base = None
    for mib in r["snapshot"]["sizes_mib"]:
        x = by_size[str(mib)] if str(mib) in by_size else by_size[mib]
        restore, cold = x["api_restore"]["stats"], x["api_cold"]["stats"]
        if base is None:
            base = (mib, restore["median"])
            target = "< %g ms at %d MiB: %s" % (TARGET_RESTORE_MS, mib,
                                               verdict(restore["median"] < TARGET_RESTORE_MS))
        else:
            target = "%+.1f ms vs %d MiB" % (restore["median"] - base[1], base[0])
        rows.append((
            "Snapshot restore, %d MiB guest: PUT /snapshot/load sent to the guest running "
            "(its answer to a byte on COM1), %d runs" % (mib, restore["n"]),
            ms(restore), "",
            "cold boot to the same point %s: %.0fx faster; the load's 204 after %.1f ms, "
            "VMM's own figure %.1f ms" % (ms(cold), cold["median"] / restore["median"],
                                          x["api_restore_204"]["stats"]["median"],
                                          x["api_restore_vmm"]["stats"]["median"]),
            target))
        cli, cli_cold = x["cli_restore"]["stats"], x["cli_cold"]["stats"]
        qemu = x.get("qemu_restore", {}).get("stats")
        qemu_cold = x.get("qemu_cold", {}).get("stats")
        rows.append((
            "Process start to guest running, %d MiB, from a snapshot: microvm --snapshot; "
            "QEMU -incoming \"exec:cat FILE\" (cold: --kernel, -kernel)" % mib,
            "%s; cold %s" % (ms(cli), ms(cli_cold)),
            "%s; cold %s" % (ms(qemu), ms(qemu_cold)) if qemu else "n/a (no --qemu)",
            "%.0fx faster than QEMU's restore" % (qemu["median"] / cli["median"]) if qemu else "",
            ""))
        mib_s = mib / (x["create_ms"] / 1000)
        dd_s = mib / (x["dd_fsync_ms"] / 1000)
        rows.append((
            "Snapshot creation, %d MiB guest (PUT /snapshot/create, no fsync; memory file "
            "%d KiB on disk, vmstate %d KiB)" % (mib, x["memory_file_on_disk_bytes"] >> 10,
                                                 x["vmstate_bytes"] >> 10),
            "%.0f ms (%.0f MiB/s of guest memory)" % (x["create_ms"], mib_s),
            "migrate to a file: %.0f ms (%d KiB)" % (x["qemu_create_ms"],
                                                     x["qemu_migration_file_bytes"] >> 10)
            if x.get("qemu_create_ms") else "n/a (no --qemu)",
            "%.1fx the disk's write speed (dd conv=fsync of %d MiB: %.0f ms, %.0f MiB/s)" % (
                mib_s / dd_s, mib, x["dd_fsync_ms"], dd_s), ""))
    return rows


def kernel_clock(variant, key):
    """The guest kernel's own clock at Run /init, beside the time to /init."""
    k = variant.get("kernel_s_stats")
    return "; kernel's clock %.2f s" % k["median"] if k and key == "init_ms" else ""


def kvm_rows(r):
    k = r["kvm"]
    if "error" in k:
        return [("Under a real KVM (tests/kvm/run-kvm)", k["error"], "", "", "")]
    where = ("nested: kvm_amd on QEMU's TCG, so times are emulated; only the ratio counts"
             if k["kvm"] == "nested" else "hardware KVM")
    rows = []
    if "boot" in k:
        rows += kvm_boot_rows(k, where)
    rows += kvm_snapshot_rows(k)
    if "io" in k:
        rows += kvm_io_rows(k, where if not rows else k["kvm"])
    if "density" in k:
        rows += kvm_density_rows(k, where if not rows else k["kvm"])
    return rows


def kvm_density_rows(k, where):
    d = k["density"]
    if "error" in d:
        return [("Real KVM (%s): Linux density" % k["kvm"], d["error"], "", "", "")]
    ours, qemu = d["microvm_jailed"], d["qemu"]
    n = d["vms"]
    whole = ours["sum_pss_mib"] + ours["jailers_sum_pss_mib"]
    return [
        ("Real KVM (%s): %d Linux VMs (%s, %d MiB, idle /init) started at once, until all "
         "reported; microvm each in its own jail" % (where, n, d["kernel"], d["mem_mib"]),
         "%.1f s" % (ours["all_reported_ms"] / 1000), "%.1f s (unjailed)" % (
             qemu["all_reported_ms"] / 1000),
         "%.2fx faster" % (qemu["all_reported_ms"] / ours["all_reported_ms"]), ""),
        ("Real KVM (%s): %d Linux VMs, host memory (VMMs; jailers; the jails' files)"
         % (k["kvm"], n),
         "%s; jailers %.1f MiB PSS; jail files %.0f MiB" % (
             mem(ours), ours["jailers_sum_pss_mib"], ours["jail_files_mib"]),
         mem(qemu),
         "%.2fx less PSS, jailers included; VMM overhead %.2f vs %.1f MiB RSS a VM" % (
             qemu["sum_pss_mib"] / whole, ours["sum_overhead_rss_mib"] / n,
             qemu["sum_overhead_rss_mib"] / n), ""),
    ]


def kvm_boot_rows(k, where):
    if "error" in k["boot"]:
        return [("Real KVM (%s): Linux boot" % k["kvm"], k["boot"]["error"], "", "", "")]
    v = k["boot"]["variants"]
    rows = []
    # Each microvm way in against QEMU's nearest: bzImage with bzImage, the ELF ones with PVH.
    for ours, peer in (("microvm bzImage", "QEMU bzImage"), ("microvm vmlinux", "QEMU PVH"),
                       ("microvm PVH", "QEMU PVH")):
        o, q = v[ours], v[peer]
        for key, what in (("init_ms", '/init\'s first line'), ("exit_ms", "VMM exit after poweroff")):
            os_, qs = o.get(key + "_stats"), q.get(key + "_stats")
            ratio = qs["median"] / os_["median"] if os_ and qs else None
            rows.append((
                "Real KVM (%s): Linux %s, spawn to %s (%d runs)" % (
                    where if not rows else k["kvm"], ours.split(" ", 1)[1], what,
                    os_["n"] if os_ else 0),
                ms(os_) + kernel_clock(o, key) if os_ else o.get("error", "n/a"),
                "%s: %s" % (peer, ms(qs) + kernel_clock(q, key) if qs else q.get("error", "n/a")),
                "%.1fx faster" % ratio if ratio else "",
                ">= %gx: %s" % (TARGET_KVM_BOOT_RATIO, verdict(ratio >= TARGET_KVM_BOOT_RATIO))
                if ratio and key == "init_ms" else ""))
    return rows


def kvm_snapshot_rows(k):
    rows = []
    if "error" in k.get("snapshot", {}):
        rows.append(("Real KVM (%s): snapshot restore" % k["kvm"], k["snapshot"]["error"],
                     "", "", ""))
    elif "snapshot" in k:
        sizes = k["snapshot"]["sizes_mib"]
        by = k["snapshot"]["by_size"]
        cells = []
        for mib in sizes:
            x = by[str(mib)]
            cells.append("%d MiB: %s (cold %s); from process start %s" % (
                mib, ms(x["api_restore"]["stats"]), ms(x["api_cold"]["stats"]),
                ms(x["cli_restore"]["stats"])))
        first, last = by[str(sizes[0])], by[str(sizes[-1])]
        qemu = first.get("qemu_restore", {}).get("stats")
        rows.append((
            "Real KVM (%s): snapshot restore, PUT /snapshot/load to the guest running "
            "(cold: InstanceStart to the same point); from process start: microvm "
            "--snapshot, QEMU -incoming \"exec:cat FILE\"" % k["kvm"],
            "; ".join(cells),
            "; ".join("%d MiB: %s" % (mib, ms(by[str(mib)]["qemu_restore"]["stats"]))
                      for mib in sizes if "qemu_restore" in by[str(mib)]),
            "%.0fx faster than cold boot at %d MiB; from process start %.0fx faster than "
            "QEMU" % (first["api_cold"]["stats"]["median"] / first["api_restore"]["stats"]["median"],
                      sizes[0], qemu["median"] / first["cli_restore"]["stats"]["median"])
            if qemu else "",
            "%d to %d MiB: %+.1f ms" % (sizes[0], sizes[-1], last["api_restore"]["stats"]["median"]
                                        - first["api_restore"]["stats"]["median"])))
    return rows


IO_MEASURES = (
    ("seq-read", "virtio-blk sequential read (1 MiB O_DIRECT requests, queue depth 1)"),
    ("seq-write", "virtio-blk sequential write (1 MiB O_DIRECT requests, queue depth 1, "
                  "then a flush)"),
    ("rand-read", "virtio-blk random read (4 KiB O_DIRECT requests, queue depth 1)"),
    ("rand-write", "virtio-blk random write (4 KiB O_DIRECT requests, queue depth 1, "
                   "then a flush)"),
    ("tcp-send", "virtio-net TCP, guest to host"),
    ("tcp-recv", "virtio-net TCP, host to guest"),
)


def throughput(x):
    """A measure's MB/s (and IOPS) cell: median, p95 and min of the samples."""
    if "mb_s_stats" not in x or not x["mb_s_stats"]:
        return "n/a"
    s = x["mb_s_stats"]
    cell = "%.1f MB/s (p95 %.1f, min %.1f)" % (s["median"], s["p95"], s["min"])
    if x.get("iops_stats"):
        cell += ", %.0f IOPS" % x["iops_stats"]["median"]
    return cell


def kvm_io_rows(k, where):
    io = k["io"]
    vmms = io["vmms"]
    ours = vmms["microvm"]
    peers = [name for name in vmms if name != "microvm"]
    rows = []
    for key, what in IO_MEASURES:
        o = ours.get(key, {})
        n = o["mb_s_stats"]["n"] if o.get("mb_s_stats") else 0
        ratio = io["ratios"].get("QEMU", {}).get(key)
        others = ["%.2fx %s" % (io["ratios"][p][key], p) for p in peers[1:]
                  if io["ratios"][p].get(key)]
        rows.append((
            "Real KVM (%s): %s, %d samples over %d boots" % (where if not rows else k["kvm"], what,
                                                             n, io["method"]["boots"]),
            throughput(o) if o.get("mb_s_stats") else ours.get("error", "n/a"),
            "; ".join("%s: %s" % (p, throughput(vmms[p].get(key, {})) if vmms[p].get(key, {})
                                  .get("mb_s_stats") else vmms[p].get("error", "n/a"))
                      for p in peers),
            "; ".join((["%.2fx QEMU" % ratio] if ratio else []) + others),
            ">= %g: %s" % (TARGET_KVM_IO_RATIO, verdict(ratio >= TARGET_KVM_IO_RATIO))
            if ratio else ""))

    def features(v):
        f = v.get("virtio_features", {})
        return "; ".join("%s: %s" % (kind, " ".join(f[kind])) for kind in ("net", "blk")
                         if kind in f)
    rows.append(("Real KVM (%s): the virtio features the guest's drivers accepted" % k["kvm"],
                 features(ours), "; ".join("%s: %s" % (p, features(vmms[p])) for p in peers),
                 "", ""))
    return rows


def all_rows(r):
    rows = []
    for key, fn in (("latency", latency_rows), ("api", api_rows), ("snapshot", snapshot_rows),
                    ("linux", linux_rows), ("kvm", kvm_rows),
                    ("memory", memory_rows), ("loader", loader_rows), ("density", density_rows)):
        if key in r:
            rows += fn(r)
    return rows


HEADER = ("Metric", "microvm", "QEMU microvm (or cat)", "Ratio", "Target")


def header_lines(r):
    m = r["machine"]
    return [
        "microvm benchmarks, %s, microvm %s" % (m["date"], m["microvm_commit"]),
        "Machine: %s, %d cores, %.1f GiB, %s, kernel %s" % (
            m["cpu"], m["nproc"], m["mem_gib"], m["os"], m["kernel"]),
        "KVM: %s; %s" % (m["kvm"], m["qemu"]),
        "Load average (1 min) at start %.2f, at end %.2f; command: %s" % (
            m["loadavg_start"][0], m["loadavg_end"][0], r["command"]),
    ]


def text_table(r):
    """Aligned columns; cells longer than CELL_WIDTH wrap onto continuation lines."""
    rows = [[textwrap.wrap(c, CELL_WIDTH) or [""] for c in row]
            for row in [HEADER] + all_rows(r)]
    widths = [max(len(line) for row in rows for line in row[i]) for i in range(len(HEADER))]
    out = header_lines(r) + [""]
    for i, row in enumerate(rows):
        for k in range(max(len(cell) for cell in row)):
            out.append("  ".join((cell[k] if k < len(cell) else "").ljust(widths[j])
                                 for j, cell in enumerate(row)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown_table(r):
    out = [line + "  " for line in header_lines(r)] + [""]
    out.append("| " + " | ".join(HEADER) + " |")
    out.append("|" + "---|" * len(HEADER))
    for row in all_rows(r):
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(out) + "\n"


def chart(r, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = r.get("kvm", {})
    kvm = k if "boot" in k or "snapshot" in k else None
    io = k.get("io") if "ratios" in k.get("io", {}) else None
    dens = k.get("density") if "vms" in k.get("density", {}) else None
    rows = 2 + bool(kvm) + bool(io or dens)
    fig, axes = plt.subplots(rows, 2, figsize=(10, 3.25 * rows))
    ours_c, peer_c = "#1f77b4", "#999999"
    # The last row, when there is one of its own: I/O on the left, Linux density right.
    if io:
        io_chart(axes[-1][0], io, k["kvm"])
    elif dens:
        axes[-1][0].axis("off")
    if dens:
        if io:
            axes[-1][0].legend(loc="best", fontsize="small")
        density_chart(axes[-1][1], dens, "%.1f s",
                      "%d Linux VMs at once, real KVM (%s)" % (dens["vms"], k["kvm"]),
                      ours_c, peer_c)
    elif io:
        # The legend in the row's empty panel, clear of the bars.
        axes[-1][1].axis("off")
        axes[-1][1].legend(*axes[-1][0].get_legend_handles_labels(), loc="center left")

    ax = axes[0][0]
    if "latency" in r:
        lat = r["latency"]
        labels = ["microvm", "microvm\njailed", "QEMU\nmicrovm"]
        keys = ["microvm", "microvm_jailed", "qemu"]
        med = [lat[k]["first_byte_ms"]["stats"]["median"] for k in keys]
        p95 = [lat[k]["first_byte_ms"]["stats"]["p95"] for k in keys]
        ax.bar_label(ax.bar(labels, med, color=[ours_c, ours_c, peer_c]), fmt="%.1f")
        ax.scatter(labels, p95, marker="_", s=400, color="black", label="p95")
        ax.set_ylabel("ms")
        ax.legend(loc="upper left")
    ax.set_title("Launch to guest's first instruction (median)")

    ax = axes[0][1]
    if "memory" in r:
        mem = r["memory"]
        x = range(2)
        ours = [mem["microvm_%d" % m]["overhead_rss_mib"]["median"] for m in (128, 1024)]
        peer = [mem["qemu_%d" % m]["overhead_rss_mib"]["median"] for m in (128, 1024)]
        bars = ax.bar([i - 0.2 for i in x], ours, 0.4, color=ours_c, label="microvm")
        ax.bar_label(bars, fmt="%.2f")
        bars = ax.bar([i + 0.2 for i in x], peer, 0.4, color=peer_c, label="QEMU microvm")
        ax.bar_label(bars, fmt="%.1f")
        ax.axhline(TARGET_OVERHEAD_MIB, color="red", linestyle="--", label="target 2 MiB")
        ax.set_xticks(list(x), ["128 MiB guest", "1 GiB guest"])
        ax.set_ylabel("MiB")
        ax.legend(loc="center", fontsize="small")
    ax.set_title("VMM memory overhead (RSS minus guest RAM)")

    ax = axes[1][0]
    if "loader" in r:
        names = list(r["loader"])
        x = range(len(names))
        cold = [r["loader"][n]["cold"]["mb_s"] for n in names]
        warm = [r["loader"][n]["warm"]["mb_s"] for n in names]
        cat = [r["loader"][n]["cat"]["mb_s"] for n in names]
        ax.bar([i - 0.27 for i in x], cold, 0.27, color=ours_c, label="loader, fresh memory")
        ax.bar(list(x), warm, 0.27, color="#aec7e8", label="loader, touched memory")
        ax.bar([i + 0.27 for i in x], cat, 0.27, color=peer_c, label="cat FILE > /dev/null")
        ax.set_xticks(list(x), names)
        ax.set_ylabel("MB of file per second")
        ax.legend(loc="upper left", fontsize="small")
    ax.set_title("Loader throughput")

    if "density" in r:
        density_chart(axes[1][1], r["density"], "%.2f s",
                      "Density: %d VMs started at once" % r["density"]["microvm"]["vms"],
                      ours_c, peer_c)

    if kvm:
        kvm_chart(kvm, axes[2], ours_c, peer_c)

    for ax in axes.flat:
        ax.margins(y=0.12)
    fig.suptitle("microvm vs QEMU microvm, %s, %s, KVM %s" % (
        r["machine"]["date"], r["machine"]["cpu"], r["machine"]["kvm"].split(" ")[0]),
        fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, dpi=64)


def kvm_chart(k, axes, ours_c, peer_c):
    """The real-KVM row: Linux boot by way in, and restore against cold boot by size."""
    ax = axes[0]
    v = k.get("boot", {}).get("variants", {})
    names = [n for n in v if v[n].get("init_ms_stats")]
    init = [v[n]["init_ms_stats"]["median"] / 1000 for n in names]
    done = [v[n]["exit_ms_stats"]["median"] / 1000 for n in names]
    colors = [ours_c if n.startswith("microvm") else peer_c for n in names]
    labels = [n.replace(" ", "\n", 1) for n in names]
    ax.bar(labels, done, color=colors, alpha=0.35, label="to VMM exit after poweroff")
    ax.bar_label(ax.bar(labels, init, color=colors, label="to /init's first line"), fmt="%.2f")
    ax.set_ylabel("s (median)")
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title("Linux boot, real KVM (%s)" % k["kvm"])

    ax = axes[1]
    if "by_size" in k.get("snapshot", {}):
        sizes = k["snapshot"]["sizes_mib"]
        by = k["snapshot"]["by_size"]
        x = range(len(sizes))
        restore = [by[str(m)]["api_restore"]["stats"]["median"] for m in sizes]
        cold = [by[str(m)]["api_cold"]["stats"]["median"] for m in sizes]
        ax.bar_label(ax.bar([i - 0.2 for i in x], restore, 0.4, color=ours_c,
                            label="restore (PUT /snapshot/load)"), fmt="%.0f")
        ax.bar_label(ax.bar([i + 0.2 for i in x], cold, 0.4, color="#aec7e8",
                            label="cold boot (InstanceStart)"), fmt="%.0f")
        ax.set_xticks(list(x), ["%d MiB" % m for m in sizes])
        ax.set_ylabel("ms to the guest running (median)")
        ax.legend(loc="upper left", fontsize="small")
    ax.set_title("Snapshot restore, real KVM (%s)" % k["kvm"])


def density_chart(ax, d, seconds, title, ours_c, peer_c):
    """VMs started at once (the density section's or the kvm section's): time until all
    reported, each VMM's PSS (jailers included) on its bar."""
    names = {"microvm": "microvm", "microvm_jailed": "microvm\njailed", "qemu": "QEMU microvm"}
    kinds = [k for k in names if k in d]
    t = [d[k]["all_reported_ms"] / 1000 for k in kinds]
    pss = [d[k]["sum_pss_mib"] + d[k].get("jailers_sum_pss_mib", 0) for k in kinds]
    bars = ax.bar([names[k] for k in kinds], t,
                  color=[peer_c if k == "qemu" else ours_c for k in kinds])
    ax.bar_label(bars, [(seconds + "\n%.0f MiB PSS") % (t[i], pss[i]) for i in range(len(kinds))])
    ax.set_ylabel("s until all reported")
    ax.set_title(title)


def io_chart(ax, io, where):
    """microvm's throughput over each QEMU's, per measure: a bar past 1 is a win."""
    peers = [p for p in io["ratios"]]
    names = [key for key, _ in IO_MEASURES]
    h = 0.8 / max(1, len(peers))
    for i, p in enumerate(peers):
        vals = [io["ratios"][p].get(key) or 0 for key in names]
        bars = ax.barh([j + i * h for j in range(len(names))], vals, h,
                       color="#1f77b4" if i == 0 else "#aec7e8", label="vs " + p)
        ax.bar_label(bars, fmt="%.2f", fontsize="small")
    ax.axvline(TARGET_KVM_IO_RATIO, color="red", linestyle="--", label="target")
    ax.set_yticks([j + h * (len(peers) - 1) / 2 for j in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlabel("microvm's MB/s over QEMU's (median)")
    ax.set_title("I/O throughput under real KVM (%s)" % where)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("json", nargs="+",
                   help="bench.py's results; from several runs, each section's keys are the "
                        "last file's that has them, and every run's command is listed")
    p.add_argument("--markdown")
    p.add_argument("--png")
    p.add_argument("--out", help="write the joined results here (JSON)")
    a = p.parse_args()
    r = {}
    commands = []
    for path in a.json:
        with open(path) as f:
            part = json.load(f)
        commands.append(part["command"])
        for k, v in part.items():
            if k == "machine" and "machine" in r:
                continue
            # One level down too: a run of the kvm section's io part alone adds to it.
            if (isinstance(v, dict) and isinstance(r.get(k), dict) and "error" not in v
                    and "error" not in r[k]):
                r[k] = {**r[k], **v}
            else:
                r[k] = v
    r["command"] = "; ".join(commands)
    if a.out:
        with open(a.out, "w") as f:
            json.dump(r, f, indent=1)
            f.write("\n")
    print(text_table(r))
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(markdown_table(r))
    if a.png:
        chart(r, a.png)


main()
