#!/usr/bin/env python3
"""One result row of bench/perf/ab.sh: throughput, retransmits and the router's drops.

usage: abrow.py TSV NAME ROUND KIND RATE RETRANSMITS BEFORE AFTER [TAPDROPS [HOSTCPU]]
KIND is fw or linux; BEFORE/AFTER are the guest's `stats -k` before and after the
iperf3 run (the Linux guest's stats.sh has the same shape). TAPDROPS is "lan=N,wan=M":
the frames each host tap dropped on the way to QEMU during the run (its tx_dropped: the
loss before the guest, which the guest cannot count). HOSTCPU is hostcpu.py's sample of
the run, printed per forwarded frame. Appends one tab-separated line (name, round, kind,
rate, retransmits, drops, reasons, tap drops, frames forwarded) to TSV for ab_summary.py
and prints it for people. Every figure is a QEMU TCG figure.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from benchsuite import counters  # noqa: E402
import hostcpu  # noqa: E402  (bench/perf, this script's directory)


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


def forwarded(kind, before, after):
    """Frames the router sent on during the run, from its own counters, or None."""
    if not before or not after:
        return None
    if kind == "fw":
        d = counters.fw_delta(counters.fw_snapshot(before), counters.fw_snapshot(after))
        return counters.fw_metrics(d).get("forwarded")
    d = counters.linux_delta(counters.linux_snapshot(before, ""),
                             counters.linux_snapshot(after, ""))
    return counters.linux_metrics(d).get("forwarded")


def tap_total(text):
    """Sum of "lan=N,wan=M", or None when a side is unknown or the text is empty."""
    vals = [v.partition("=")[2] for v in text.split(",") if v]
    if not vals or not all(v.isdigit() for v in vals):
        return None
    return sum(int(v) for v in vals)


def main():
    if len(sys.argv) not in (9, 10, 11):
        print(__doc__, file=sys.stderr)
        return 2
    tsv, name, rnd, kind, rate, rtx, bpath, apath = sys.argv[1:9]
    taps = sys.argv[9] if len(sys.argv) > 9 else ""
    before, after = load(bpath), load(apath)
    dr = drops(kind, before, after)
    total = "" if dr is None else str(counters.drops_total(dr))
    reasons = counters.drops_text(dr)
    tt = tap_total(taps)
    fwd = forwarded(kind, before, after)
    with open(tsv, "a", encoding="utf-8") as f:
        f.write("\t".join([name, rnd, kind, rate, rtx, total, reasons,
                           "" if tt is None else str(tt),
                           "" if fwd is None else str(fwd)]) + "\n")
    print(f"  {name} r{rnd}: {rate or 'n/a'} (rate), retransmits {rtx or 'n/a'}, "
          f"router drops {total or 'n/a'} ({reasons}), host tap drops "
          f"{'n/a' if tt is None else tt} ({taps or 'n/a'})")
    if len(sys.argv) > 10:
        hostcpu.show(name, rnd, sys.argv[10], fwd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
