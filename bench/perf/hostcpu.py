#!/usr/bin/env python3
"""Host CPU by thread class during one ab.sh run (issue 14, item 4), from /proc.

usage: hostcpu.py sample QEMU_PID SECONDS OUT.json   (samples for SECONDS, writes OUT)
       hostcpu.py show NAME ROUND OUT.json FRAMES    (prints one line per run)

`sample` is what bench/lib/benchsuite/hostprof.HostCpu does in the suite: every thread's
CPU time every 0.5 s, classed as QEMU's vCPU thread, QEMU's main loop (the I/O thread:
with tap backends it moves every frame between the taps and the virtqueues), iperf3
client/server, host kernel threads, other; softirq and idle from /proc/stat. `show`
prints each class's share of the machine (cores x wall time) and its µs per forwarded
frame (FRAMES: the router's own count, or empty). The vCPU is told apart only when QEMU
names its threads (the harness passes -name debug-threads=on). QEMU TCG figures.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from benchsuite import hostprof  # noqa: E402

SHOWN = (("qemu_vcpu", "vcpu"), ("qemu_io", "io"), ("qemu_other", "qemu-other"),
         ("iperf3_client", "iperf-c"), ("iperf3_server", "iperf-s"),
         ("softirq_irq", "softirq"), ("host_kthreads", "kthreads"), ("other", "other"),
         ("idle", "idle"))


def sample(pid, secs, out):
    prof = hostprof.HostCpu(qemu_pid=pid).start()
    time.sleep(secs)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(prof.stop(), f)


def show(name, rnd, path, frames):
    try:
        with open(path, encoding="utf-8") as f:
            prof = json.load(f)
    except (OSError, ValueError):
        print(f"  {name} r{rnd}: host cpu n/a")
        return
    pf = hostprof.per_frame(prof, frames or 1)
    parts = []
    for key, tag in SHOWN:
        v = pf.get(key)
        if not v:
            continue
        us = f" {v['us_per_frame']:.1f}us" if frames else ""
        parts.append(f"{tag} {v['share_pct']:.0f}%{us}")
    print(f"  {name} r{rnd}: host cpu (share of {prof.get('cores')} cores"
          f"{', us/frame' if frames else ''}): " + ", ".join(parts))


def main():
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "sample":
        sample(int(a[1]), float(a[2]), a[3])
        return 0
    if len(a) == 5 and a[0] == "show":
        frames = int(a[4]) if a[4].isdigit() else None
        show(a[1], a[2], a[3], frames)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
