#!/usr/bin/env python3
"""Writes a one-segment ELF guest whose 64-bit entry runs a few chosen bytes.

  mkguest.py OUT spin      jmp . forever (a guest that never ends)
  mkguest.py OUT ud2       #UD with no IDT: a triple fault
  mkguest.py OUT xrstor    an instruction this host's emulator lacks
  mkguest.py OUT chatter   "x\n" to COM1 forever (a guest printing when it is stopped)
"""
import struct
import sys

CODE = {
    "spin": bytes([0xeb, 0xfe]),
    "ud2": bytes([0x0f, 0x0b]),
    # xrstor (%rdi) with rdi pointing at the zero page; then spin.
    "xrstor": bytes([0x48, 0x0f, 0xae, 0x2f, 0xeb, 0xfe]),
    # mov $0x3f8, %dx; 1: mov $'x', %al; out %al, %dx; mov $'\n', %al; out %al, %dx; jmp 1b
    "chatter": bytes([0x66, 0xba, 0xf8, 0x03, 0xb0, 0x78, 0xee, 0xb0, 0x0a, 0xee, 0xeb, 0xf8]),
}

def main():
    out, kind = sys.argv[1], sys.argv[2]
    code = CODE[kind].ljust(0x100, b"\xf4")
    load, offset = 0x100000, 0x1000
    ehdr = struct.pack("<16sHHIQQQIHHHHHH",
                       b"\x7fELF\x02\x01\x01" + bytes(9), 2, 62, 1, load, 64, 0, 0,
                       64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, offset, load, load, len(code), len(code), 0x1000)
    image = (ehdr + phdr).ljust(offset, b"\0") + code
    with open(out, "wb") as f:
        f.write(image)

main()
