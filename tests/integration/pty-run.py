#!/usr/bin/env python3
"""Runs a command with a pseudo-terminal as its stdin, stdout and stderr, and
reports whether the terminal's mode after the command is the mode before it.

  pty-run.py [--term-after SECONDS] CMD...   (SIGTERM after SECONDS when given)
Exit status: the command's, or 3 when the terminal was left changed.
"""
import os
import pty
import signal
import sys
import termios
import time

def main():
    args = sys.argv[1:]
    term_after = None
    if args[0] == "--term-after":
        term_after = float(args[1])
        args = args[2:]
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.execvp(args[0], args)
    if term_after is not None:
        time.sleep(term_after)
        os.kill(pid, signal.SIGTERM)
    output = b""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        try:
            import select
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                output += os.read(master, 65536)
        except OSError:
            pass
        if done:
            break
    after = termios.tcgetattr(slave)
    sys.stdout.write(output.decode(errors="replace"))
    if before != after:
        print("pty-run: terminal mode changed by the command")
        sys.exit(3)
    sys.exit(os.waitstatus_to_exitcode(status))

main()
