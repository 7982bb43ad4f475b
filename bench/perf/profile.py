#!/usr/bin/env python3
"""Per-frame profile of one run from two `stats -k` snapshots of the router.

usage: profile.py NAME ROUND BEFORE.txt AFTER.txt [RATE_BPS]
Prints one line: forwarded frames/s, and per LAN-received frame the interrupts, kicks,
task wake-ups and the guest cycles spent in each stage (both NICs):
  isr   ISR (copy into the software ring, recycle, kick)
  fn    rx_fn + batch_fn: the stack, its transmits (copy into the TX ring, kicks)
  task  the rest of the RX task: leftover servicing with interrupts off, handshake
and busy% = (ISRs + RX tasks) / elapsed TSC: how much of the vCPU the data path used.
A busy% well below 100 means the guest waited for QEMU, not the other way round.
All figures are QEMU TCG figures. Under TCG the guest TSC follows host time, so cycles
include any time the host took the vCPU thread away (load on the machine inflates them).
"""
import re
import sys

NICS = ("lan", "wan")


def load(path):
    kv = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^\s*([\w.]+)=(\d+)\s*$", line)
            if m:
                kv[m.group(1)] = int(m.group(2))
    return kv


def p99(hist):
    total = sum(hist)
    if not total:
        return "n/a"
    acc = 0
    for i, n in enumerate(hist):
        acc += n
        if acc * 100 >= total * 99:
            return str(2 ** (i + 1))
    return "inf"


def main():
    name, rnd, bpath, apath = sys.argv[1:5]
    rate = sys.argv[5] if len(sys.argv) > 5 else ""
    b, a = load(bpath), load(apath)
    d = {k: a[k] - b.get(k, 0) for k in a}
    frames = d.get("lan.rx_packets", 0)
    fwd = d.get("wan.tx_packets", 0)
    ms = d.get("os.uptime_ms", 0)
    hz = a.get("os.tsc_hz", 0)
    if not frames or not ms or not hz:
        print(f"{name:10s} r{rnd} no frames/elapsed/tsc_hz in the snapshots")
        return

    def s(key):
        return sum(d.get(f"{n}.{key}", 0) for n in NICS)

    isr, task = s("isr_cycles_total"), s("rx_task_cycles")
    # The guest's busy share of the interval: exact from the idle task's cycles when the
    # port exports them (os.idle_cycles), else ISR + RX-task cycles, an upper bound ("<=").
    if "os.idle_cycles" in a:
        busy = 100.0 * (1.0 - d.get("os.idle_cycles", 0) / (hz * ms / 1000.0))
        bound = ""
    else:
        busy = 100.0 * (isr + task) / (hz * ms / 1000.0)
        bound = "<="
    hist = [d.get(f"lan.isr_hist_{i}", 0) for i in range(32)]

    # The LAN RX task outranks every other data-path task, so its cycles are its own
    # (plus the ISRs that interrupt it); the WAN task's include the LAN task's when
    # preempted, so busy% above is an upper bound and the split is LAN-only.
    def irqoff(key):
        # Longest interrupts-off section since boot (a maximum, not a delta), both NICs.
        vals = [a[f"{n}.{key}"] for n in NICS if f"{n}.{key}" in a]
        return max(vals) if vals else "n/a"

    def lan(key):
        return d.get(f"lan.{key}", 0) / frames

    print(f"{name:10s} r{rnd} {rate or 'n/a':>12s} bps  fwd {fwd * 1000 / ms:8.0f} f/s  "
          f"per frame: irq {s('interrupts') / frames:.4f} rxkick {s('rx_kicks') / frames:.4f} "
          f"txkick {s('tx_kicks') / frames:.4f} wake {s('rx_task_wakeups') / frames:.4f} | "
          f"lan cycles: isr {lan('isr_cycles_total'):.0f} fn {lan('rx_fn_cycles'):.0f} "
          f"task-other {lan('rx_task_cycles') - lan('rx_fn_cycles'):.0f} | "
          f"busy{bound}{busy:.0f}% | lan isr p99<{p99(hist)} "
          f"drops {d.get('lan.rx_queue_drops', 0)} yields {d.get('lan.rx_yields', 0)} "
          f"irqoff max isr {irqoff('irqoff_isr_cycles_max')} "
          f"task {irqoff('irqoff_task_cycles_max')} | tsc {hz / 1e9:.2f} GHz")

if __name__ == "__main__":
    main()
