#!/usr/bin/env python3
"""vnet-rtos benchmark suite: every contender, every workload, one run, one machine.

    sudo ./bench/run.sh [--quick] [...]        (installs packages, builds, then this)
    sudo python3 bench/suite.py --fw-image ELF --isr-image ELF [--quick] [...]

Contenders (bench/lib/benchsuite/contenders.py): the firmware (NAPI-style RX), the
minimal forwarder (the limit row: no stack), the same firmware with offloads on (GSO
frames), the benchmark-only old design (RX in the ISR), a Linux guest router in its six
offloads-off variants (GRO on/off x machine q35/pc, and GRO on with a 1,024-entry RX ring
on each machine: the report compares against the best per workload) and with offloads on, and the no-VM veth ceiling. Workloads (workloads.py):
iperf3 TCP LAN->WAN 1 and 4 streams (ping RTT measured under the 1-stream load), TCP
WAN->LAN, UDP 1400 B and 64 B payload sweeps for the peak forwarded frames/s plus a flood.

Interleaved (default): round r boots every contender in turn for every workload and runs
one repetition, so host drift spreads over all contenders alike; the rounds' runs are
pooled into one figure (median, min-max). Every boot is fresh, so the firmware's ISR
extremes (which only a reboot clears) belong to that workload. Every throughput comes with
iperf3's retransmits and the router's drops by reason, and every run with the host's CPU
time by thread (hostprof.py). Writes bench/results/latest.{md,png,json} and dated copies.
A benchmark: it prints figures and asserts nothing about speed; the exit status says
whether every run produced its figures.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(REPO, "scripts", "lib"), os.path.join(HERE, "lib")]

import vnet_harness as h  # noqa: E402
from vnet_harness.util import HarnessError, log  # noqa: E402

from benchsuite import contenders as cmod  # noqa: E402
from benchsuite import report, veth, workloads  # noqa: E402

WORKLOAD_IDS = ("tcp1", "tcp4", "tcp1_rev", "bidir", "udp1400", "udp64")
DEFAULT_WORKLOADS = ("tcp1", "tcp4", "tcp1_rev", "udp1400", "udp64")
QUICK_WORKLOADS = ("tcp1", "tcp4", "udp1400", "udp64")


def params(quick, reps):
    if quick:
        p = dict(reps=1, tcp_s=4, udp_s=3, sweep_s=2, start_pps=10000, max_points=6)
    else:
        p = dict(reps=3, tcp_s=10, udp_s=5, sweep_s=3, start_pps=10000, max_points=7)
    if reps:
        p["reps"] = reps
    # How the UDP sweep ends (report.py describes it): "collapse" since 2026-11-24 09:26;
    # results without the key used "growth" (stop once forwarding grew < 5 %).
    p["sweep_rule"] = "collapse"
    return p


def run_workload(t, wid, p, reps=None, peak_pps=None):
    reps = reps or p["reps"]
    if wid == "tcp1":
        return workloads.tcp(t, p["tcp_s"], streams=1, reps=reps, ping_load=True)
    if wid == "tcp4":
        return workloads.tcp(t, p["tcp_s"], streams=4, reps=reps)
    if wid == "tcp1_rev":
        return workloads.tcp(t, p["tcp_s"], streams=1, reverse=True, reps=reps)
    if wid == "bidir":
        return workloads.tcp(t, p["tcp_s"], streams=1, bidir=True, reps=reps)
    if wid in ("udp1400", "udp64"):
        length = 1400 if wid == "udp1400" else 64
        return workloads.udp(t, length, p["udp_s"], reps=reps, sweep_seconds=p["sweep_s"],
                             start_pps=p["start_pps"], max_points=p["max_points"],
                             peak_pps=peak_pps)
    raise ValueError(wid)


# ---- the machine and the software: stated next to every figure ------------------------

def _cmd(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20,
                              check=False).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def loadavg():
    with open("/proc/loadavg", encoding="ascii") as f:
        return [float(x) for x in f.read().split()[:3]]


def tsc_mhz():
    """Host TSC rate: under TCG the guest's rdtsc reads the host TSC (QEMU's
    cpu_get_host_ticks), so guest cycle counts convert at this rate."""
    m = re.search(r"tsc: (?:Refined TSC clocksource calibration|Detected): ([\d.]+) MHz",
                  _cmd(["dmesg"]))
    if m:
        return float(m.group(1))
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
        m = re.search(r"cpu MHz\s*:\s*([\d.]+)", f.read())
    return float(m.group(1)) if m else None


def sha256(path):
    if not path or not os.path.isfile(path):
        return None
    hs = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            hs.update(b)
    return hs.hexdigest()


def machine_meta():
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
        cpu = re.search(r"model name\s*:\s*(.+)", f.read())
    with open("/proc/meminfo", encoding="ascii") as f:
        mem = int(re.search(r"MemTotal:\s*(\d+)", f.read()).group(1))
    os_name = ""
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            m = re.search(r'PRETTY_NAME="([^"]+)"', f.read())
            os_name = m.group(1) if m else ""
    except OSError:
        pass
    return dict(cpu=cpu.group(1).strip() if cpu else platform.processor(),
                cores=os.cpu_count(), mem_gib=round(mem / 1048576, 1), os=os_name,
                kernel=platform.release(), tsc_mhz=tsc_mhz(),
                qemu=_cmd(["qemu-system-x86_64", "--version"]).splitlines()[0:1],
                iperf3=_cmd(["iperf3", "--version"]).splitlines()[0:1],
                accel="tcg")


def git_meta(source_commit=""):
    """Which sources the images came from: a committed snapshot, or the working tree
    (then with a flag if it had uncommitted changes)."""
    if source_commit:
        return dict(commit=source_commit[:12], dirty=False, snapshot=True)
    head = _cmd(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"])
    dirty = _cmd(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    return dict(commit=head, dirty=bool(dirty), snapshot=False)


# ---- main -------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 repetition, short runs")
    ap.add_argument("--repeat", type=int, default=0, help="repetitions (default 3, quick 1)")
    ap.add_argument("--contenders", default="",
                    help="comma list of: fw,minfwd,zcfwd,zccopy,fw-offl,isr,linux,linux-nogro,linux-pc,"
                    "linux-nogro-pc,linux-q1024,linux-pc-q1024,linux-offl,veth")
    ap.add_argument("--workloads", default="",
                    help=f"comma list of: {','.join(WORKLOAD_IDS)}")
    ap.add_argument("--fw-image", default=os.path.join(REPO, "build-benchsuite-fw", "apps",
                                                        "router", "router.elf"))
    ap.add_argument("--isr-image", default=os.path.join(REPO, "build-benchsuite-isr", "apps",
                                                         "router", "router.elf"))
    ap.add_argument("--minfwd-image", default=None,
                    help="minimal forwarder ELF (default: router-minfwd.elf next to --fw-image)")
    ap.add_argument("--zcfwd-image", default=None,
                    help="zero-copy forwarder ELF, the limit row (default: "
                         "bench/zcfwd/router-zcfwd.elf in --fw-image's build tree)")
    ap.add_argument("--zccopy-image", default=None,
                    help="one-copy forwarder ELF (default: router-zcfwd-copy.elf next to the "
                         "zero-copy one)")
    ap.add_argument("--no-interleave", action="store_true",
                    help="one boot per contender and workload running every repetition "
                    "(the suite before issue 14), instead of rounds")
    ap.add_argument("--trace", action="store_true",
                    help="log QEMU trace events for device-side kicks, interrupts and "
                    "guest MMIO/PIO accesses per frame (hostprof.py; costs a little)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--tag", default="", help="suffix of the dated result files")
    ap.add_argument("--note", default="", help="free text recorded with the results")
    ap.add_argument("--source-commit", default="",
                    help="the firmware was built from this committed revision (run.sh --commit)")
    ap.add_argument("--update-readme", action="store_true",
                    help="rewrite the `## Results` section at the end of README.md "
                    "(full runs only)")
    ap.add_argument("--render", metavar="JSON",
                    help="only re-render tables, chart (and README with --update-readme) "
                    "from a raw result file of an earlier run")
    a = ap.parse_args()
    if a.render:
        with open(a.render, encoding="utf-8") as f:
            doc = json.load(f)
        for pth in report.write_all(doc, a.out, a.tag):
            print("wrote " + os.path.relpath(pth, REPO))
        if a.update_readme and not doc["meta"]["quick"] and not doc["meta"].get("partial"):
            update_readme(report.readme_section(doc))
            print("updated README.md (## Results)")
        return 0
    if os.geteuid() != 0:
        print("suite: run as root (namespaces, taps)", file=sys.stderr)
        return 2

    p = params(a.quick, a.repeat)
    wl = [w for w in a.workloads.split(",") if w] or list(
        QUICK_WORKLOADS if a.quick else DEFAULT_WORKLOADS)
    bad = [w for w in wl if w not in WORKLOAD_IDS]
    if bad:
        print(f"suite: unknown workload(s) {bad}", file=sys.stderr)
        return 2
    only = [c for c in a.contenders.split(",") if c]
    cs = cmod.default_contenders(os.path.abspath(a.fw_image), os.path.abspath(a.isr_image),
                                 only or None,
                                 os.path.abspath(a.minfwd_image) if a.minfwd_image else None,
                                 os.path.abspath(a.zcfwd_image) if a.zcfwd_image else None,
                                 os.path.abspath(a.zccopy_image) if a.zccopy_image else None)
    for c in cs:
        c.trace = a.trace
    for c in cs:
        if c.kind == "fw" and not os.path.isfile(c.image):
            print(f"suite: {c.id}: no firmware image at {c.image}", file=sys.stderr)
            return 2
    veth.check_tools()

    started = datetime.datetime.now(datetime.timezone.utc)
    rounds = 1 if a.no_interleave else p["reps"]
    # A run restricted to some contenders or workloads is partial: its tables would not
    # stand in for the full run that latest.* and the README show.
    partial = bool(only) or bool(a.workloads)
    doc = dict(meta=dict(started=started.isoformat(timespec="seconds"), quick=a.quick,
                         partial=partial,
                         params=p, workloads=wl, note=a.note, machine=machine_meta(),
                         interleaved=not a.no_interleave, rounds=rounds, trace=a.trace,
                         git=git_meta(a.source_commit), load_before=loadavg(),
                         images={c.id: dict(path=os.path.relpath(c.image, REPO),
                                            sha256=sha256(c.image))
                                 for c in cs if c.kind == "fw"}),
               contenders=[c.describe() for c in cs], results={})
    failures = 0
    t_all = time.monotonic()
    parts = {c.id: {wid: [] for wid in wl} for c in cs}
    for r in range(rounds):
        for c in cs:
            for wid in wl:
                print(f"== round {r + 1}/{rounds}: {c.id}: {wid}", flush=True)
                entry = run_one(c, wid, p, doc, 1 if rounds > 1 else p["reps"],
                                _round_peak(parts[c.id][wid]))
                parts[c.id][wid].append(entry)
                print("   " + report.one_line(wid, entry), flush=True)
    for c in cs:
        doc["results"][c.id] = {}
        for wid in wl:
            ents = parts[c.id][wid]
            entry = ents[0] if len(ents) == 1 else workloads.merge_rounds(wid, ents)
            entry["load_before"] = ents[0].get("load_before")
            entry["load_after"] = ents[-1].get("load_after")
            entry["wall_s"] = round(sum(e.get("wall_s", 0) for e in ents), 1)
            if c.kind == "fw" and not entry.get("error"):
                entry["design_check"] = design_check(c.id, entry)
                if entry["design_check"]:
                    log(f"{c.id} {wid}: {entry['design_check']}")
            failures += report.count_failures(entry)
            doc["results"][c.id][wid] = entry
            if rounds > 1:
                print(f"== {c.id}: {wid}: " + report.one_line(wid, entry), flush=True)
    doc["meta"]["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
        timespec="seconds")
    doc["meta"]["wall_s"] = round(time.monotonic() - t_all, 1)
    doc["meta"]["load_after"] = loadavg()

    left = veth.leftovers() + [ns for ns in veth._netns_list()
                               if ns.startswith(f"vnet-{os.getpid()}")]
    if left:
        log(f"left behind after teardown: {left}")
        failures += 1
    doc["meta"]["failures"] = failures

    paths = report.write_all(doc, a.out, a.tag)
    if a.update_readme:
        if a.quick or partial:
            log("--update-readme ignored for --quick and partial runs (the README shows a "
                "full run)")
        else:
            update_readme(report.readme_section(doc))
            print("   updated README.md (## Results)")
    print(f"\n== {failures} failed run(s); wall {doc['meta']['wall_s'] / 60:.1f} min")
    for pth in paths:
        print("   wrote " + os.path.relpath(pth, REPO))
    print()
    with open(paths[0], encoding="utf-8") as f:
        print(f.read())
    return 0 if failures == 0 else 1


def _round_peak(done):
    """UDP: the peak rate the first round's sweep found, for the later rounds."""
    for e in done:
        if e.get("peak_offered_pps"):
            return e["peak_offered_pps"]
    return None


def run_one(c, wid, p, doc, reps, peak_pps):
    """One boot of contender c running workload wid (reps repetitions)."""
    t0 = time.monotonic()
    entry = dict(load_before=loadavg())
    try:
        with c.open() as t:
            entry["boot_s"] = round(t.boot_s, 2)
            if hasattr(t, "s") and "qemu_argv" not in doc["meta"]:
                with open(os.path.join(t.s.dir, "state.json"), encoding="utf-8") as f:
                    doc["meta"]["qemu_argv"] = json.load(f).get("qemu_argv")
            entry.update(run_workload(t, wid, p, reps, peak_pps))
    except (HarnessError, OSError) as e:
        entry["error"] = str(e)
        log(f"{c.id} {wid}: {e}")
    entry["wall_s"] = round(time.monotonic() - t0, 1)
    entry["load_after"] = loadavg()
    return entry


def design_check(cid, entry):
    """Does the image behave like the design it is labelled as? The old design never
    wakes an RX task for frames; the NAPI-style one does for every batch."""
    runs = list(entry.get("runs", []))
    for ph in ("peak", "flood"):
        runs += (entry.get(ph) or {}).get("runs", [])
    frames = sum((r.get("metrics") or {}).get("frames_in") or 0 for r in runs)
    wakeups = sum((r.get("metrics") or {}).get("rx_task_wakeups") or 0 for r in runs)
    if frames < 1000:
        return None
    if cid == "isr" and wakeups > 0:
        return f"not the RX-in-ISR design? {wakeups} RX-task wake-ups for {frames} frames"
    if cid in ("fw", "minfwd") and wakeups == 0:
        return f"not the NAPI-style design? no RX-task wake-up for {frames} frames"
    return None


def update_readme(section):
    """Replace README.md's last section `## Results` (or append it); nothing else."""
    path = os.path.join(REPO, "README.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    marker = "\n## Results\n"
    i = text.find(marker)
    if i >= 0:
        rest = text[i + len(marker):]
        if re.search(r"^## ", rest, re.M):
            raise HarnessError("README.md: '## Results' is not the last section; not touched")
        text = text[:i]
    text = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    # SIGTERM/SIGHUP unwind through every `with`, so namespaces, taps and QEMU go away.
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    # Ctrl-C always unwinds, even when started from a shell that ignores SIGINT for
    # background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("suite: interrupted; torn down", file=sys.stderr)
        sys.exit(130)
