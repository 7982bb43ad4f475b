#!/usr/bin/env python3
"""One summary line from the router's `stats -k` output (stdin): per-frame costs.

usage: summarise.py NAME ROUND RATE   (RATE as iperf3 printed it, may be empty)
Per forwarded frame (LAN rx_packets): interrupts, RX kicks, TX kicks (WAN), task
wake-ups; mean ISR cycles (TSC) and the upper bound of the p99 bucket of the log2 ISR
histogram; drops into the software ring; cpu%now is OSCPUUsage, the last 1/10 s (after the
run: idle). The busy share of the run itself is profile.py's busy%. All QEMU TCG figures.
"""
import re
import sys


def main():
    name, rnd, rate = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
    kv = {}
    for line in sys.stdin:
        m = re.match(r"^\s*([\w.]+)=(\d+)\s*$", line)
        if m:
            kv[m.group(1)] = int(m.group(2))
    rx = kv.get("lan.rx_packets", 0)
    irq = kv.get("lan.interrupts", 0)
    hist = [kv.get(f"lan.isr_hist_{i}", 0) for i in range(32)]
    total = sum(hist)
    p99 = "n/a"
    if total:
        acc = 0
        for i, n in enumerate(hist):
            acc += n
            if acc * 100 >= total * 99:
                p99 = str(2 ** (i + 1))
                break
    per = (lambda v: f"{v / rx:.3f}") if rx else (lambda v: "n/a")
    isr_avg = kv.get("lan.isr_cycles_total", 0) // irq if irq else 0
    print(f"{name:10s} r{rnd} {rate or 'n/a':>16s} lan_rx={rx} drops={kv.get('lan.rx_queue_drops', 0)} "
          f"irq/f={per(irq)} rxkick/f={per(kv.get('lan.rx_kicks', 0))} "
          f"txkick/f={per(kv.get('wan.tx_kicks', 0))} wake/f={per(kv.get('lan.rx_task_wakeups', 0))} "
          f"isr_avg={isr_avg} isr_max={kv.get('lan.isr_cycles_max', 0)} isr_p99<{p99} "
          f"yields={kv.get('lan.rx_yields', 0)} cpu%now={kv.get('os.cpu_usage_pct', 'n/a')}")


if __name__ == "__main__":
    main()
