#!/usr/bin/env python3
"""Check the tiny guest images against the rules our strict loader enforces.

    check-images.py tiny.elf tiny.bzImage tiny-pvh.elf

A build-time self-test of tiny.ld and mkbzimage.c; the IDs are those of
docs/LOADER-CHECKLIST.md. Exits 1 with one line per broken rule.
"""
import struct
import sys

LOAD_ADDR = 0x100000
errors = []


def check(ok, rule, msg):
    if not ok:
        errors.append(f"{rule}: {msg}")


def check_pvh_note(data, off, filesz, loads):
    """N1-N3: one Xen PHYS32_ENTRY note, its 4-byte entry in the loaded file bytes."""
    check(off + filesz <= len(data), "N1", "PT_NOTE beyond the file")
    namesz, descsz, n_type = struct.unpack_from("<III", data, off)
    check(namesz == 4 and data[off + 12:off + 16] == b"Xen\0" and n_type == 18, "N3",
          f"note namesz {namesz} type {n_type}: not Xen's PHYS32_ENTRY")
    check(descsz >= 4 and 16 + descsz <= filesz, "N2", f"note descsz {descsz}")
    entry = struct.unpack_from("<I", data, off + 16)[0]
    check(any(p <= entry < p + f for p, f in loads), "N3", f"PVH entry {entry:#x} not loaded")
    return entry


def check_elf(path, want_pvh=False):
    data = open(path, "rb").read()
    check(len(data) >= 64 and data[:4] == b"\x7fELF", "E0", "no ELF header")
    check(data[4] == 2 and data[5] == 1 and data[6] == 1, "E1", "not ELF64 LSB v1")
    (e_type, e_machine, e_version, e_entry, e_phoff, _shoff, _flags, e_ehsize,
     e_phentsize, e_phnum) = struct.unpack_from("<HHIQQQIHHH", data, 16)
    check(e_version == 1, "E1", f"e_version {e_version}")
    check(e_type == 2 and e_machine == 62, "E2", f"e_type {e_type} e_machine {e_machine}")
    check(e_ehsize == 64 and e_phentsize == 56, "E3", "header sizes")
    check(1 <= e_phnum <= 64, "E4", f"e_phnum {e_phnum}")
    check(e_phoff >= 64 and e_phoff + e_phnum * 56 <= len(data), "E5", "program headers")
    loads, entry_ok, notes, files = [], False, [], []
    for i in range(e_phnum):
        p_type, _fl, off, _va, paddr, filesz, memsz, align = struct.unpack_from(
            "<IIQQQQQQ", data, e_phoff + i * 56)
        if p_type == 4:
            notes.append((off, filesz))
        if p_type != 1:
            continue
        files.append((paddr, filesz))
        check(filesz <= memsz, "S1", f"PT_LOAD {i} filesz > memsz")
        check(off + filesz <= len(data), "S2", f"PT_LOAD {i} beyond the file")
        check(paddr >= LOAD_ADDR, "S4", f"PT_LOAD {i} p_paddr {paddr:#x} below 1 MiB")
        check(align in (0, 1) or align & (align - 1) == 0, "S6", f"PT_LOAD {i} p_align")
        entry_ok |= paddr <= e_entry < paddr + filesz
        loads.append((paddr, paddr + memsz))
    loads.sort()
    for (_, end), (start, _) in zip(loads, loads[1:]):
        check(end <= start, "S5", "PT_LOAD ranges overlap")
    check(any(e > s for s, e in loads), "S8", "no PT_LOAD with p_memsz > 0")
    check(entry_ok and e_entry == LOAD_ADDR + 0x200, "S9", f"e_entry {e_entry:#x}")
    check(len(notes) == (1 if want_pvh else 0), "N",
          f"{path}: {len(notes)} PT_NOTE, expected {1 if want_pvh else 0}")
    if want_pvh and len(notes) == 1:
        check_pvh_note(data, notes[0][0], notes[0][1], files)
    return max(e for _, e in loads) - LOAD_ADDR if loads else 0


def check_bzimage(path, elf_span):
    d = open(path, "rb").read()
    u8 = lambda o: d[o]
    u16 = lambda o: struct.unpack_from("<H", d, o)[0]
    u32 = lambda o: struct.unpack_from("<I", d, o)[0]
    check(len(d) >= 0x400, "B1", "file too short")
    hdr_end = 0x202 + u8(0x201)
    check(u8(0x200) == 0xEB and hdr_end >= 0x264 and len(d) >= hdr_end, "B1",
          f"jump {u8(0x200):#x} end {hdr_end:#x}")
    check(u16(0x1FE) == 0xAA55 and d[0x202:0x206] == b"HdrS", "B2", "magic")
    check(u16(0x206) == 0x020F, "B3", f"version {u16(0x206):#x}")
    check(u8(0x211) & 1 and u16(0x236) & 1, "B3", "LOADED_HIGH / XLF_KERNEL_64")
    setup_sects = u8(0x1F1) or 4
    setup_size = (setup_sects + 1) * 512
    syssize = u32(0x1F4) * 16
    check(setup_sects == 4 and setup_size <= len(d), "B4", f"setup_sects {setup_sects}")
    check(syssize > 0x200 and setup_size + syssize == len(d), "B5",
          f"syssize*16 {syssize:#x}, file {len(d):#x}")
    check(u32(0x248) == 0 and u32(0x24C) == 0, "B6", "payload_offset/length")
    check(u32(0x214) == LOAD_ADDR and u32(0x258) == LOAD_ADDR, "B7",
          "code32_start / pref_address")
    check(u8(0x234) == 0 and u32(0x230) == 0x200000 and u8(0x235) == 21, "B8",
          "relocatable / kernel_alignment / min_alignment")
    # Both images share one layout, so tiny.elf's span (with bss) is a bound.
    check(u32(0x260) >= syssize and u32(0x260) >= elf_span, "B9",
          f"init_size {u32(0x260):#x} below {max(syssize, elf_span):#x}")
    check(u32(0x238) == 2047 and u32(0x22C) == 0x7FFFFFFF, "B10", "cmdline_size / initrd_addr_max")
    # The 64-bit entry (load + 0x200) starts with the boot-timer mark:
    # mov $123, %al (b0 7b).
    check(d[setup_size + 0x200:setup_size + 0x202] == b"\xb0\x7b", "entry",
          "no boot-timer mark at load + 0x200")


if len(sys.argv) != 4:
    sys.exit("usage: check-images.py tiny.elf tiny.bzImage tiny-pvh.elf")
check_bzimage(sys.argv[2], check_elf(sys.argv[1]))
check_elf(sys.argv[3], want_pvh=True)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
