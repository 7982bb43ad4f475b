#!/usr/bin/env python3
"""One result row of bench/perf/ab.sh: throughput, retransmits and the router's drops.

usage: abrow.py TSV NAME ROUND KIND RATE RETRANSMITS BEFORE AFTER
KIND is fw or linux; BEFORE/AFTER are the guest's `stats -k` before and after the
iperf3 run (the Linux guest's stats.sh has the same shape). Appends one tab-separated
line (name, round, kind, rate, retransmits, drops, reasons) to TSV for ab_summary.py and
prints it for people. Every figure is a QEMU TCG figure.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from benchsuite import counters  # noqa: E402


def load(path):
    kv = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^\s*([\w.]+)=(\d+)\s*$", line)
                if m:
                    kv[m.group(1)] = m.group(2)
    except OSError:
        pass
    return kv


def drops(kind, before, after):
    """{reason: frames} of the run, or None without both snapshots."""
    if not before or not after:
        return None
    if kind == "fw":
        d = counters.fw_delta(counters.fw_snapshot(before), counters.fw_snapshot(after))
        return counters.fw_drops(d)
    d = counters.linux_delta(counters.linux_snapshot(before, ""),
                             counters.linux_snapshot(after, ""))
    return counters.linux_drops(d)


def main():
    if len(sys.argv) != 9:
        print(__doc__, file=sys.stderr)
        return 2
    tsv, name, rnd, kind, rate, rtx, bpath, apath = sys.argv[1:]
    dr = drops(kind, load(bpath), load(apath))
    total = "" if dr is None else str(counters.drops_total(dr))
    reasons = counters.drops_text(dr)
    with open(tsv, "a", encoding="utf-8") as f:
        f.write("\t".join([name, rnd, kind, rate, rtx, total, reasons]) + "\n")
    print(f"  {name} r{rnd}: {rate or 'n/a'} (rate), retransmits {rtx or 'n/a'}, "
          f"router drops {total or 'n/a'} ({reasons})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
