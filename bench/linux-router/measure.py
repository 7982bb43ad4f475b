#!/usr/bin/env python3
"""Contender 3 figures: the Linux guest routing iperf3 TCP LAN->WAN under QEMU TCG.

    sudo python3 bench/linux-router/measure.py [--time 10] [--streams 1] [--repeat 1]
                                               [--json FILE]

One boot per configuration (device offloads off with guest GRO on, offloads off
with GRO off, offloads on), one iperf3 run of --time seconds each (repeated
--repeat times; the median is reported). A benchmark: it prints figures and
asserts nothing about speed. Every figure is a TCG figure and includes QEMU's
contention with both iperf3 ends for the machine's cores.
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "scripts", "lib"))
import vnet_harness as h  # noqa: E402

def loadavg():
    """1-minute load average: other work on the 2 cores skews every figure."""
    with open("/proc/loadavg", encoding="ascii") as f:
        return float(f.read().split()[0])


CONFIGS = (
    ("offloads off, GRO on", False, True),
    ("offloads off, GRO off", False, False),
    ("offloads on, GRO on", True, True),
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time", type=int, default=10)
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    results = []
    for name, offloads, gro in CONFIGS:
        load_before = loadavg()
        qcfg = h.QemuConfig(None, nic=h.NicConfig(offloads=offloads))
        with h.Session(h.guests.linux(gro=gro), qcfg) as s:
            p = s.ping(count=3)
            if p["received"] == 0:
                raise h.HarnessError(f"{name}: no ping across the router")
            runs = []
            for _ in range(a.repeat):
                r = s.iperf3(seconds=a.time, streams=a.streams)
                runs.append(r["bits_per_second"])
                print(f"  {name}: {h.fmt_rate(r['bits_per_second'])} "
                      f"(retransmits {r['retransmits']})", flush=True)
            st = s.stats()
        results.append(dict(config=name, offloads=offloads, gro=gro, streams=a.streams,
                            seconds=a.time, runs_bps=runs,
                            median_bps=statistics.median(runs),
                            guest_forwarded=st.get("ip.forw_datagrams"),
                            guest_rx_frames=st.get("eth0.rx_packets"),
                            load_before=load_before))
    print(f"\nLinux router, iperf3 TCP LAN->WAN, {a.streams} stream(s), {a.time} s, "
          f"QEMU TCG, 1 vCPU:")
    print(f"  {'configuration':24} {'median':>14}  {'frames in (eth0)':>16}  "
          f"{'datagrams forwarded':>19}  {'load before':>11}")
    for r in results:
        print(f"  {r['config']:24} {h.fmt_rate(r['median_bps']):>14}  "
              f"{r['guest_rx_frames']:>16}  {r['guest_forwarded']:>19}  "
              f"{r['load_before']:>11.2f}")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except h.HarnessError as e:
        print(f"measure: {e}", file=sys.stderr)
        sys.exit(1)
