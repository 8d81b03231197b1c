#!/usr/bin/env python3
"""Run one qtest script against the QEMU oracle and print every command with its answer.

Usage: oracle-run.py SCRIPT [--qemu CMD] [--timeout SECONDS]

Script format (Tests/qtest/*.qtest):
  - a line whose first non-blank character is '#' is a comment and is not sent;
  - a blank (or all-blank) line is skipped and never sent (QEMU 11 would not answer it);
  - on a command line, everything from ' #' onward is removed, then trailing spaces are trimmed;
  - every other line is sent to QEMU as it is, one qtest command per line.

Output: for every command sent, the command on its own line, then, indented by four spaces, the
asynchronous 'IRQ raise N' / 'IRQ lower N' lines QEMU wrote before the reply, then the reply line
('OK ...', 'FAIL ...' or 'ERR ...').

QEMU does not exit at the end of its input, so the runner kills it when the script is done. A reply
that takes longer than the timeout (10 s by default) or QEMU exiting early is an error (exit status 2).
stderr of QEMU (the qtest log) is discarded.
"""

import argparse
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QEMU = (
    "bash " + os.path.join(HERE, "qemu11.sh") + " -accel qtest -machine pc,pit=off -qtest stdio "
    "-display none -nodefaults -device e1000,addr=03.0,mac=52:54:00:12:34:56"
)
REPLY_PREFIXES = ("OK", "FAIL", "ERR")


def parse_script(path):
    """Return the list of (line number, command) pairs to send."""
    commands = []
    with open(path, "r", encoding="utf-8", newline="\n") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.rstrip("\n")
            stripped = line.strip(" \t")
            if not stripped or stripped.startswith("#"):
                continue
            cut = line.find(" #")
            if cut >= 0:
                line = line[:cut]
            line = line.rstrip(" ")
            if not line.strip(" \t"):
                continue
            commands.append((number, line))
    return commands


def is_reply(line):
    word = line.split(" ", 1)[0]
    return word in REPLY_PREFIXES


class OracleError(RuntimeError):
    """A command got no reply; 'lines' holds what QEMU wrote meanwhile (e.g. a glib 'Bail out!')."""

    def __init__(self, message, lines):
        super().__init__(message)
        self.lines = lines


class Oracle:
    """A QEMU process in qtest mode, fed one command at a time."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        self.lines.put(None)

    def send(self, command, timeout):
        """Send one command; return (async lines, reply line). Raises OracleError on failure."""
        extra = []
        try:
            self.proc.stdin.write(command.encode("utf-8") + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise OracleError("QEMU closed its input (it has exited)", extra)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OracleError(f"no reply within {timeout:g} s", extra)
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                raise OracleError(f"no reply within {timeout:g} s", extra)
            if line is None:
                try:
                    rc = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    rc = None
                raise OracleError(f"QEMU exited before replying (exit status {rc})", extra)
            if is_reply(line):
                return extra, line
            extra.append(line)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except Exception:
                pass


def main():
    parser = argparse.ArgumentParser(description="Run a qtest script against the QEMU oracle.")
    parser.add_argument("script", help="path of a .qtest script")
    parser.add_argument("--qemu", default=DEFAULT_QEMU,
                        help="oracle command line (split with shell rules); default: %(default)s")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for each reply (default 10)")
    args = parser.parse_args()

    try:
        commands = parse_script(args.script)
    except OSError as e:
        print(f"oracle-run: cannot read {args.script}: {e}", file=sys.stderr)
        return 2

    oracle = Oracle(shlex.split(args.qemu))
    out = sys.stdout
    status = 0
    try:
        for number, command in commands:
            out.write(command + "\n")
            try:
                extra, reply = oracle.send(command, args.timeout)
            except OracleError as e:
                for line in e.lines:
                    out.write("    " + line + "\n")
                out.flush()
                print(f"oracle-run: {args.script}:{number}: '{command}': {e}", file=sys.stderr)
                status = 2
                break
            for line in extra:
                out.write("    " + line + "\n")
            out.write("    " + reply + "\n")
    finally:
        out.flush()
        oracle.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
