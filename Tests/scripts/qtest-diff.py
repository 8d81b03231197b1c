#!/usr/bin/env python3
"""Developer tool: run a Tests/qtest script against the QEMU 11 oracle and `emu qtest`, print every differing
command (with line number, both transcripts and any annotation). Annotated deviations are checked as the test does.
  qtest-diff.py SCRIPT... [--emu CMD]     (default --emu: dotnet Host/bin/Debug/net10.0/emu.dll qtest)
"""
import os, subprocess, sys, shlex

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORACLE = ["bash", os.path.join(HERE, "qemu11.sh"), "-accel", "qtest", "-machine", "pc,pit=off", "-qtest", "stdio",
          "-qtest-log", "none", "-display", "none", "-nodefaults", "-device", "e1000,addr=03.0,mac=52:54:00:12:34:56"]


class Target:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n"); self.p.stdin.flush()
        lines = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("target exited after " + cmd)
            line = line.rstrip("\n"); lines.append(line)
            if not line.startswith("IRQ "):
                return " | ".join(lines)

    def close(self):
        self.p.kill(); self.p.wait()


def steps(path):
    for n, line in enumerate(open(path).read().split("\n"), 1):
        t = line.strip()
        if not t or t.startswith("#"):
            continue
        ann = None
        if " #!" in line:
            line, ann = line.split(" #!", 1)
        elif " #" in line:
            line = line.split(" #", 1)[0]
        yield n, line.rstrip(), ann


def main():
    args = sys.argv[1:]
    emu = ["dotnet", os.path.join(ROOT, "Host/bin/Debug/net10.0/emu.dll"), "qtest"]
    if "--emu" in args:
        i = args.index("--emu"); emu = shlex.split(args[i + 1]); del args[i:i + 2]
    bad = 0
    for script in args:
        q, e = Target(ORACLE), Target(emu)
        try:
            for n, cmd, ann in steps(script):
                a, b = q.send(cmd), e.send(cmd)
                if ann is not None:
                    want = ann.split(" emu=", 1)[1].strip()
                    if b != want or a == b:
                        bad += 1
                        print(f"{script}:{n}: {cmd}\n   ANNOTATED {ann.strip()}\n   QEMU: {a}\n   Emu:  {b}")
                elif a != b:
                    bad += 1
                    print(f"{script}:{n}: {cmd}\n   QEMU: {a}\n   Emu:  {b}")
        finally:
            q.close(); e.close()
    sys.exit(1 if bad else 0)


main()
