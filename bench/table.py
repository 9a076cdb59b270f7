#!/usr/bin/python3
"""bench/table.py SAMPLES — the table bench/run prints, from its samples.

SAMPLES holds one line each: `t ROW MS` (a sample), `rss BINARY KIB LABEL`,
`note TEXT`, `info TEXT`.  Prints markdown: the machine, each row's median,
min, max and count, the ratios issue 11 asks for with their targets, the peak
RSS of each binary, and the notes (failed samples, failed checks).
"""
import statistics
import sys

ROWS = [
    ("sh", "a shell only (every row below pays it)"),
    ("raw", "two raw sysfs writes (create, remove)"),
    ("floor", "**floor**: the two writes + two execs of a static `int main(){return 0;}`"),
    ("hook", "`vgpu-hook createRuntime` + `poststop`"),
    ("base-hook", "the same, baseline build"),
    ("vgpuctl", "`vgpuctl allocate` + `release`"),
    ("seed", "seed: `uuidgen`; `mdevctl start`; `mdevctl stop`"),
    ("runc", "`runc run` busybox"),
    ("runc-hook", "`runc run` busybox with the hook (createRuntime, poststop)"),
    ("cdi", "`vgpu-cdi generate`, 8 GPUs x 4 types"),
    ("mdevctl-types", "`mdevctl types`, the same GPUs"),
    ("alloc-seq", "64 `vgpuctl allocate` one after another, 10 ms create delay"),
    ("alloc-par", "64 `vgpuctl allocate` at once, 10 ms create delay"),
]
# (numerator, denominator, label, target as text, target test, the target is the guest's)
RATIOS = [
    ("hook", "floor", "hook cycle / floor", "<= 1.5", lambda r: r <= 1.5, True),
    ("seed", "hook", "seed / hook cycle (times faster)", ">= 5", lambda r: r >= 5, True),
    ("base-hook", "hook", "baseline hook / hook (times faster)", "", None, False),
    ("runc-hook", "runc", "runc run with hook / without", "<= 1.15", lambda r: r <= 1.15, False),
    ("cdi", "mdevctl-types", "vgpu-cdi generate / mdevctl types", "<= 1", lambda r: r <= 1, False),
    ("alloc-par", "alloc-seq", "64 at once / 64 one after another", "<= 0.5", lambda r: r <= 0.5, False),
]


def main(path):
    samples, rss, notes, info = {}, {}, [], []
    for line in open(path, encoding="utf-8"):
        kind, _, rest = line.rstrip("\n").partition(" ")
        if kind == "t":
            row, _, ms = rest.partition(" ")
            if ms:
                samples.setdefault(row, []).append(float(ms))
        elif kind == "rss":
            binary, kib, label = (rest.split(" ", 2) + [""])[:3]
            if kib:
                rss.setdefault(binary, []).append((int(kib), label))
        elif kind == "note":
            notes.append(rest)
        elif kind == "info":
            info.append(rest)
    for i in info:
        print(i)
    print()
    print("| row | median ms | min | max | n |")
    print("| --- | ---: | ---: | ---: | ---: |")
    med = {}
    for key, label in ROWS:
        if key not in samples:
            continue
        v = samples[key]
        med[key] = statistics.median(v)
        print(f"| {label} | {med[key]:.1f} | {min(v):.1f} | {max(v):.1f} | {len(v)} |")
    lines = []
    guest = any(i.startswith("guest:") for i in info)
    for num, den, label, target, ok, guest_only in RATIOS:
        if num in med and den in med and med[den] > 0:
            r = med[num] / med[den]
            if ok is None:
                verdict = ""
            elif guest_only and not guest:
                verdict = " in the guest (`--vm`)"
            else:
                verdict = " (met)" if ok(r) else " (not met)"
            lines.append(f"| {label} | {r:.2f} | {target}{verdict} |")
    if lines:
        print()
        print("| ratio of medians | value | issue 11 target |")
        print("| --- | ---: | --- |")
        print("\n".join(lines))
    if rss:
        print()
        print("| binary | peak RSS KiB | its largest command | issue 11 target |")
        print("| --- | ---: | --- | --- |")
        for binary, vals in rss.items():
            kib, label = max(vals)
            target = "" if binary == "true" else "<= 2048" + (" (met)" if kib <= 2048 else " (not met)")
            print(f"| `{binary}` | {kib} | {label} | {target} |")
    for n in notes:
        print(f"\nnote: {n}")
    return 1 if notes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
