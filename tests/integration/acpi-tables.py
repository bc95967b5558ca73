#!/usr/bin/env python3
"""The ACPI tables the tiny guest dumped (tiny.acpi-dump=1), for acpica-tools.

  acpi-tables.py extract CONSOLE DIR   writes DIR/SIG.dat for every table in the
                                       guest's "acpi-dump: SIG OFFSET HEX" lines
                                       and prints the signatures, one a line
  acpi-tables.py rsdp-source RSDP.dat  prints an iasl data-table source holding
                                       the RSDP's fields with zero checksums:
                                       iasl computes both, so its output equals
                                       the VMM's bytes only if theirs are right
                                       (iasl -d cannot load an RSDP file)
"""
import struct
import sys


def extract(console, out):
    tables = {}
    with open(console, encoding="ascii", errors="replace") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or parts[0] != "acpi-dump:":
                continue
            sig, offset, data = parts[1], int(parts[2], 16), bytes.fromhex(parts[3])
            table = tables.setdefault(sig, bytearray())
            if offset != len(table):
                sys.exit(f"{sig}: bytes at 0x{offset:x} after 0x{len(table):x}")
            table += data
    if not tables:
        sys.exit(f"{console}: no acpi-dump lines")
    for sig, table in tables.items():
        with open(f"{out}/{sig}.dat", "wb") as f:
            f.write(table)
        print(sig)


def rsdp_source(path):
    with open(path, "rb") as f:
        rsdp = f.read()
    if len(rsdp) != 36:
        sys.exit(f"{path}: {len(rsdp)} bytes, not 36")
    signature, _, oem, revision, rsdt, length, xsdt = struct.unpack_from("<8sB6sBIIQ", rsdp)
    print(f'[0008] Signature : "{signature.decode("ascii")}"')
    print("[0001] Checksum : 00")
    print(f'[0006] Oem ID : "{oem.decode("ascii")}"')
    print(f"[0001] Revision : {revision:02X}")
    print(f"[0004] RSDT Address : {rsdt:08X}")
    print(f"[0004] Length : {length:08X}")
    print(f"[0008] XSDT Address : {xsdt:016X}")
    print("[0001] Extended Checksum : 00")
    print(f"[0003] Reserved : {rsdp[33:36].hex().upper()}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "rsdp-source":
        rsdp_source(sys.argv[2])
    else:
        sys.exit(__doc__)
