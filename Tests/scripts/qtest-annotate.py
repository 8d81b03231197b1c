#!/usr/bin/env python3
"""Developer tool: run a Tests/qtest script against QEMU and `emu qtest` and write '#! dev=ID emu=...' annotations on
the commands whose answers differ, choosing ID from the register the command touches, else --default ID. Commands it
cannot attribute are printed and left alone. Review every annotation it writes: it records what Emu answers, right or
wrong.   qtest-annotate.py SCRIPT [--default ID] [--dry]
"""
import os, sys, importlib.util

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("qd", os.path.join(HERE, "qtest-diff.py"))
BAR0, BAR1 = 0xfebc0000, 0xc000

HOLD = {0x18, 0x1c, 0x28, 0x2c, 0x30, 0x170, 0x178, 0x410, 0x2160, 0x2168, 0x2828, 0x2c00, 0x3820, 0x3830, 0x5000}
EXTRA = {0x458, 0x2410, 0x2418, 0x2420, 0x2428, 0x2430, 0x3410, 0x3418, 0x3420, 0x3428, 0x3430, 0x5800, 0x5810,
         0x5838, 0x5840, 0x5880, 0x5a00, 0x5f00, 0x9000, 0x9800, 0x10000}


def rule(cmd):
    w = cmd.split(" ")
    try:
        addr = int(w[1], 0) if len(w) > 1 else None
    except ValueError:
        return None
    if w[0] in ("inb", "inw", "inl", "outb", "outw", "outl") and addr is not None and BAR1 <= addr < BAR1 + 0x40:
        return "io-bar-ioaddr-iodata"
    if w[0][:4] in ("read", "writ") and addr is not None and BAR0 <= addr < BAR0 + 0x20000:
        off = (addr - BAR0) & ~3
        if off in HOLD: return "registers-hold-values"
        if off in EXTRA: return "extra-mac-registers-live"
        if 0x4000 <= off <= 0x40fc: return "statistics-clear-on-read"
        if off in (0x2800, 0x3800): return "ring-base-low-bits"
        if 0x5404 <= off < 0x5480 and off % 8 == 4: return "rah-reserved-bits"
        if off == 0x1000: return "pba-txa-computed"
        if off == 0x38: return "vet-reserved-bits"
        if off == 0x5b50: return "not-an-82540em-register"
    return None


def main():
    import subprocess
    args = sys.argv[1:]
    default = None
    dry = "--dry" in args
    if dry: args.remove("--dry")
    if "--default" in args:
        i = args.index("--default"); default = args[i + 1]; del args[i:i + 2]
    path = args[0]
    qd = importlib.util.module_from_spec(spec)
    sys.argv = [sys.argv[0]]
    src = open(os.path.join(HERE, "qtest-diff.py")).read().replace("\nmain()\n", "\n")
    exec(compile(src, "qtest-diff.py", "exec"), qd.__dict__)
    lines = open(path).read().split("\n")
    q, e = qd.Target(qd.ORACLE), qd.Target(["dotnet", os.path.join(qd.ROOT, "Host/bin/Debug/net10.0/emu.dll"), "qtest"])
    unknown = 0
    try:
        for n, cmd, ann in qd.steps(path):
            a, b = q.send(cmd), e.send(cmd)
            if a == b:
                if ann is not None:
                    print(f"{path}:{n}: stale annotation dropped: {cmd}")
                    lines[n - 1] = cmd
                continue
            if ann is not None:
                old_dev = ann.strip().split(" ", 1)[0][4:]
                if ann.split(" emu=", 1)[1].strip() != b:
                    print(f"{path}:{n}: Emu's answer changed under {old_dev}: {cmd}\n   now: {b}")
                    lines[n - 1] = f"{cmd} #! dev={old_dev} emu={b}"
                continue
            dev = rule(cmd) or default
            if dev is None:
                unknown += 1
                print(f"{path}:{n}: {cmd}\n   QEMU: {a}\n   Emu:  {b}")
                continue
            lines[n - 1] = f"{cmd} #! dev={dev} emu={b}"
    finally:
        q.close(); e.close()
    if not dry:
        open(path, "w").write("\n".join(lines))
    print(f"{path}: {unknown} unattributed")


main()
