"""The suite's output: markdown tables, a PNG chart (gnuplot), the raw JSON.

Tables: contender x workload (median, min-max over the repetitions) with iperf3's
retransmits and the router's drops by reason under every throughput, the best Linux
offloads-off variant per workload (picked here, named in the cell), the same as ratios
to that best Linux, to the minimal forwarder (the limit row) and to the old design, the
UDP sweep details with the generator's own ceiling, the firmware internals (ISR duration
in TSC cycles, interrupts, kicks and frames per RX-task wake-up, drops) and where the
host's cores went per forwarded frame (hostprof.py).
"""

import datetime
import json
import math
import os
import shutil
import subprocess
import tempfile

from . import counters, hostprof

REF = "linux"   # results without variants: the Linux guest with MTU-sized frames, GRO on
BEST = "linux-best"  # ratios: to the best Linux offloads-off variant of each workload
LIMIT = "minfwd"     # limit row of documents without roles (before the zero-copy forwarder)
OLD = "isr"     # and to the design the seed replaced

# (workload, path into its result, label, unit, scale, lower_is_better)
ROWS = (
    ("tcp1", "bps", "TCP LAN→WAN, 1 stream", "Mbit/s", 1e-6, False),
    ("tcp4", "bps", "TCP LAN→WAN, 4 streams", "Mbit/s", 1e-6, False),
    ("tcp1_rev", "bps", "TCP WAN→LAN, 1 stream", "Mbit/s", 1e-6, False),
    ("bidir", "bps", "TCP both ways, 1+1 streams (sum)", "Mbit/s", 1e-6, False),
    ("udp1400", "peak.fwd_pps", "UDP 1400 B, peak forwarded", "kframes/s", 1e-3, False),
    ("udp1400", "flood.fwd_pps", "UDP 1400 B, flooded (-b 0)", "kframes/s", 1e-3, False),
    ("udp64", "peak.fwd_pps", "UDP 64 B, peak forwarded", "kframes/s", 1e-3, False),
    ("udp64", "flood.fwd_pps", "UDP 64 B, flooded (-b 0)", "kframes/s", 1e-3, False),
    ("tcp1", "rtt_avg_ms", "ping RTT under 1-stream TCP load (avg)", "ms", 1.0, True),
    ("tcp1", "rtt_max_ms", "ping RTT under 1-stream TCP load (max)", "ms", 1.0, True),
)
# Firmware phases whose counters the internals table shows: (workload, phase, label).
PHASES = (
    ("tcp1", None, "TCP 1 stream"),
    ("tcp4", None, "TCP 4 streams"),
    ("tcp1_rev", None, "TCP WAN→LAN"),
    ("bidir", None, "TCP both ways"),
    ("udp1400", "peak", "UDP 1400 B peak"),
    ("udp1400", "flood", "UDP 1400 B flood"),
    ("udp64", "peak", "UDP 64 B peak"),
    ("udp64", "flood", "UDP 64 B flood"),
)


# ---- access and formatting -------------------------------------------------------------

def _get(entry, path):
    cur = entry
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _fmt(v):
    """Three significant digits, no exponent for the ranges we print."""
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if v == math.inf:
        return "∞"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def cell(s, scale):
    if not s:
        return "failed"
    med = _fmt(s["median"] * scale)
    if s.get("n", 1) > 1:
        return f"{med} ({_fmt(s['min'] * scale)}–{_fmt(s['max'] * scale)})"
    return med


def ratio(v, ref):
    if v is None or not ref:
        return "—"
    return "×" + _fmt(v / ref)


def count_failures(entry):
    """Runs that produced no figure (errors), counted for the exit status."""
    if entry.get("error"):
        return 1
    n = 0
    for key in ("runs",):
        n += sum(1 for r in entry.get(key, []) if r.get("error"))
    for phase in ("peak", "flood"):
        if isinstance(entry.get(phase), dict):
            ph = entry[phase]
            n += sum(1 for r in ph.get("runs", []) if r.get("error"))
            if ph.get("error"):
                n += 1
    return n


def one_line(wid, e):
    if e.get("error"):
        return f"FAILED: {e['error'][:200]}"
    if wid.startswith("udp"):
        pk, fl = _get(e, "peak.fwd_pps"), _get(e, "flood.fwd_pps")
        offered = (e.get("peak_offered_pps") or 0) * 1e-3
        return (f"peak {cell(pk, 1e-3)} kframes/s at {_fmt(offered)} k offered "
                f"(drops {drops_cell(e, 'peak.fwd_pps')}); "
                f"flood {cell(fl, 1e-3)} kframes/s (drops {drops_cell(e, 'flood.fwd_pps')})")
    s = f"{cell(e.get('bps'), 1e-6)} Mbit/s; retransmits {retransmit_cell(e)}; " \
        f"drops {drops_cell(e)}"
    if e.get("rtt_avg_ms"):
        s += f"; ping under load avg {cell(e['rtt_avg_ms'], 1)} ms"
    return s


def _phase_metrics(entry, phase):
    src = entry.get(phase) if phase else entry
    if not isinstance(src, dict):
        return []
    return [r.get("metrics") for r in src.get("runs", []) if r.get("metrics")]


# ---- markdown -------------------------------------------------------------------------------

def _rows_present(doc):
    wl = set(doc["meta"]["workloads"])
    return [r for r in ROWS if r[0] in wl]


def _contenders(doc):
    return doc["contenders"]


def _value(doc, cid, wid, path):
    e = doc["results"].get(cid, {}).get(wid)
    if not e or e.get("error"):
        return None
    s = _get(e, path)
    return s.get("median") if isinstance(s, dict) else None


def linux_variants(doc):
    """Ids of the Linux offloads-off contenders of this run: the candidates for best."""
    return [c["id"] for c in _contenders(doc)
            if c["kind"] == "linux" and not c.get("offloads")]


def linux_best(doc, wid, path, lower=False):
    """(contender id, median) of the best Linux offloads-off variant for one figure:
    the highest median (lowest where lower is better); (None, None) when none has it."""
    vals = [(c, v) for c in linux_variants(doc) for v in [_value(doc, c, wid, path)]
            if v is not None]
    if not vals:
        return None, None
    pick = min if lower else max
    return pick(vals, key=lambda cv: cv[1])


def _ref_value(doc, ref, wid, path, lower=False):
    if ref == BEST:
        return linux_best(doc, wid, path, lower)[1]
    return _value(doc, ref, wid, path)


def _label(doc, cid):
    for c in _contenders(doc):
        if c["id"] == cid:
            return c["label"]
    return cid


def _honesty(entry, path):
    """The dict holding retransmits/drops for a row's figure: the entry (TCP) or its
    phase (UDP peak/flood)."""
    if not entry or entry.get("error"):
        return None
    head = path.split(".")[0]
    if head in ("peak", "flood"):
        return entry.get(head) if isinstance(entry.get(head), dict) else None
    return entry


def _count(v):
    """A count (or a median of counts, which may end in .5)."""
    if v is None:
        return "—"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _sum_cell(s):
    if not s:
        return "n/a"
    med = _count(s["median"])
    if s.get("n", 1) > 1 and s["min"] != s["max"]:
        return f"{med} ({_count(s['min'])}–{_count(s['max'])})"
    return med


def retransmit_cell(entry):
    h = _honesty(entry, "bps")
    return _sum_cell(h.get("retransmits")) if h else "failed"


def drops_cell(entry, path="bps"):
    """Router drops per run (median, range) and the reasons summed over the runs."""
    h = _honesty(entry, path)
    if not h:
        return "failed"
    if not h.get("drops"):
        return "n/a"
    reasons = h.get("drop_reasons")
    txt = _sum_cell(h["drops"])
    if reasons and counters.drops_total(reasons):
        txt += ": " + counters.drops_text(reasons)
    return txt


def header_lines(doc):
    m = doc["meta"]
    mc = m["machine"]
    date = m["started"].replace("T", " ").replace("+00:00", " UTC")
    qemu = (mc.get("qemu") or ["?"])[0]
    lines = [
        f"Run of {date} ({'quick smoke run' if m['quick'] else 'full run'}, "
        f"{m['params']['reps']} repetition(s) per figure: median, min–max in brackets), "
        f"firmware from commit `{m['git']['commit']}`"
        f"{' (working tree with local changes)' if m['git']['dirty'] else ''}.",
        "",
        f"- Machine: {mc['cpu']}, {mc['cores']} cores, {mc['mem_gib']} GiB, {mc['os']}, "
        f"Linux {mc['kernel']}.",
        f"- {qemu}, accelerator **TCG** (no hardware virtualisation here: every VM figure is "
        "a TCG figure). Every VM contender: machine q35 unless it says pc, 1 vCPU, 256 MiB, "
        "two virtio-net-pci NICs on tap backends (vhost off) in network namespaces; NIC "
        "offloads off unless stated.",
        f"- {_order_text(m)}",
        f"- {(mc.get('iperf3') or ['iperf3'])[0]}; load average before "
        f"{m['load_before'][0]:.2f}, after {m.get('load_after', [0])[0]:.2f} "
        f"(2 cores: QEMU takes ~1.2 of them, the iperf3 ends share the rest).",
        f"- Wall time {m.get('wall_s', 0) / 60:.1f} min; {m.get('failures', 0)} failed run(s).",
    ]
    if m.get("note"):
        lines.append(f"- Note: {m['note']}")
    return lines


def _order_text(m):
    if m.get("interleaved") and m.get("rounds", 1) > 1:
        return (f"Interleaved: {m['rounds']} rounds, each booting every contender in turn for "
                "every workload and running one repetition; a figure pools its rounds.")
    return ("One boot per contender and workload, its repetitions back to back "
            "(not interleaved).")


def main_table(doc):
    """Contenders as columns, plus the best Linux offloads-off variant (when the run has
    more than one) named in its cell. Under every throughput row: iperf3 retransmits per
    run (TCP) and the router's drops per run with their reasons."""
    cs = _contenders(doc)
    best = len(linux_variants(doc)) > 1
    head = [c["label"] for c in cs] + (["best Linux, offloads off (variant)"] if best else [])
    out = ["| workload | unit | " + " | ".join(head) + " |",
           "|---|---|" + "---|" * len(head)]
    for wid, path, label, unit, scale, lower in _rows_present(doc):
        cells = []
        for c in cs:
            e = doc["results"].get(c["id"], {}).get(wid)
            cells.append("failed" if not e or e.get("error") else cell(_get(e, path), scale))
        if best:
            bid, _ = linux_best(doc, wid, path, lower)
            be = doc["results"].get(bid, {}).get(wid) if bid else None
            cells.append(f"{cell(_get(be, path), scale)} ({bid})" if bid else "—")
        out.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
        if unit not in ("Mbit/s", "kframes/s"):
            continue
        ents = [doc["results"].get(c["id"], {}).get(wid) for c in cs]
        if best:
            bid, _ = linux_best(doc, wid, path, lower)
            ents.append(doc["results"].get(bid, {}).get(wid) if bid else None)
        if unit == "Mbit/s":
            out.append("| ↳ iperf3 retransmits per run | segments | " +
                       " | ".join(retransmit_cell(e) for e in ents) + " |")
        out.append("| ↳ router drops per run: reasons summed | frames | " +
                   " | ".join(drops_cell(e, path) for e in ents) + " |")
    if "tcp1" in doc["meta"]["workloads"]:
        cells = []
        for c in cs:
            e = doc["results"].get(c["id"], {}).get("tcp1") or {}
            pi = e.get("ping_idle") or {}
            cells.append(_fmt(pi.get("rtt_avg_ms")))
        if best:
            cells.append("—")
        out.append("| ping RTT idle (avg of 20) | ms | " + " | ".join(cells) + " |")
    return out


def limit_id(doc):
    """The limit row: the contender whose role is "limit" (the zero-copy forwarder since
    issue 14), else the minimal forwarder of documents written before roles."""
    cs = _contenders(doc)
    for c in cs:
        if c.get("role") == "limit":
            return c["id"]
    return LIMIT if LIMIT in {c["id"] for c in cs} else None


def ratio_table(doc):
    cs = _contenders(doc)
    ids = {c["id"] for c in cs}
    lim = limit_id(doc)
    lx = linux_variants(doc)
    refs = ([BEST] if len(lx) > 1 else [REF] if REF in ids else []) + \
        [r for r in (lim, OLD) if r in ids]
    if not refs:
        return []
    names = {BEST: "the best Linux offloads-off variant of that workload",
             REF: "Linux (offloads off, GRO on)", OLD: "old design"}
    if lim:
        names[lim] = f"{_short({'id': lim})} (limit)"
    out = ["| workload | " + " | ".join(c["label"] for c in cs) + " |",
           "|---|" + "---|" * len(cs)]
    for wid, path, label, _unit, _scale, lower in _rows_present(doc):
        refv = {r: _ref_value(doc, r, wid, path, lower) for r in refs}
        cells = []
        for c in cs:
            v = _value(doc, c["id"], wid, path)
            cells.append(" / ".join(ratio(v, refv[r]) for r in refs))
        out.append(f"| {label}{' (lower is better)' if lower else ''} | " +
                   " | ".join(cells) + " |")
    return ([f"Each cell: median ÷ median of " + " / ".join(names[r] for r in refs) + "."] +
            [""] + out)


def _best(doc, cids, wid, path):
    """Largest median among contenders (None when none has the figure)."""
    vals = [v for v in (_value(doc, c, wid, path) for c in cids) if v is not None]
    return max(vals) if vals else None


def _udp_peak(doc, cid, wid="udp64"):
    """Highest forwarding rate a contender sustained in repeated runs: the median of its
    peak repetitions or of its flood repetitions, whichever is larger (a batching
    receiver forwards more when flooded; a livelocking one less)."""
    vals = [v for v in (_value(doc, cid, wid, "peak.fwd_pps"),
                        _value(doc, cid, wid, "flood.fwd_pps")) if v is not None]
    return max(vals) if vals else None


def _p99(doc, cid, wid="tcp1"):
    e = doc["results"].get(cid, {}).get(wid) or {}
    a = counters.fw_aggregate(_phase_metrics(e, None))
    v = a.get("isr_cycles_p99") if a else None
    return None if v in (None, "inf") or v == math.inf else v


def targets_table(doc):
    """Issue 6's targets as ratios of this run's medians (TCG)."""
    ids = {c["id"] for c in _contenders(doc)}
    if "fw" not in ids:
        return []
    lx = linux_variants(doc)
    rows = []

    def row(name, num, den, goal, how):
        r = num / den if num is not None and den else None
        verdict = "—" if r is None else ("met" if r >= goal else "not met")
        rows.append(f"| {name} | {'—' if r is None else f'{r:.2f}×'} | ≥ {goal:g}× | "
                    f"{verdict} | {how} |")

    for wid, label in (("tcp1", "TCP LAN→WAN 1 stream"), ("tcp4", "TCP LAN→WAN 4 streams")):
        if lx:
            row(f"1. {label} vs best Linux offloads-off", _value(doc, "fw", wid, "bps"),
                _best(doc, lx, wid, "bps"), 2.5,
                "firmware ÷ the best Linux offloads-off variant (GRO on/off, q35/pc)")
    if lx and "udp64" in doc["meta"]["workloads"]:
        peaks = [p for p in (_udp_peak(doc, c) for c in lx) if p is not None]
        row("2. UDP 64 B forwarded at peak vs Linux", _udp_peak(doc, "fw"),
            max(peaks) if peaks else None, 2.0,
            "each side's best of peak-rate and flood medians; Linux: better config")
        fw_pk = _value(doc, "fw", "udp64", "peak.fwd_pps")
        row("3. UDP 64 B flooded vs own peak (no livelock)",
            _value(doc, "fw", "udp64", "flood.fwd_pps"), fw_pk, 0.97,
            "flood (`-b 0`, offered ≥ 2× the peak) ÷ peak repetitions")
    if "isr" in ids:
        row("4a. NAPI vs old in-ISR design, TCP 1 stream", _value(doc, "fw", "tcp1", "bps"),
            _value(doc, "isr", "tcp1", "bps"), 2.0, "firmware ÷ in-ISR build")
        row("4b. ISR p99 duration, in-ISR ÷ NAPI (TCP 1 stream)", _p99(doc, "isr"),
            _p99(doc, "fw"), 5.0, "log2-bucket upper bounds: exact to a factor of 2")
    if "fw-offl" in ids and "linux-offl" in ids:
        for wid, label in (("tcp1", "1 stream"), ("tcp4", "4 streams")):
            row(f"5. offloads on, TCP {label}: firmware vs Linux offloads on",
                _value(doc, "fw-offl", wid, "bps"), _value(doc, "linux-offl", wid, "bps"),
                1.0, "GSO frames forwarded whole, header carried")
    if not rows:
        return []
    return (["Issue 6's targets, each a ratio of medians from this run (QEMU TCG).", "",
             "| target | ratio | goal | verdict | how |", "|---|---|---|---|---|"] + rows)


def _runs_stat(doc, cid, wid, key):
    e = doc["results"].get(cid, {}).get(wid) or {}
    s = e.get(key) if not e.get("error") else None
    return s.get("median") if isinstance(s, dict) else None


def _reason_total(doc, cid, wid, reason):
    e = doc["results"].get(cid, {}).get(wid) or {}
    runs = [r for r in e.get("runs", []) if r.get("metrics")]
    if not runs:
        return None
    return sum((r["metrics"].get("drops") or {}).get(reason, 0) for r in runs)


def honesty_targets(doc):
    """Issue 14's targets that one run can check (QEMU TCG, medians of this run)."""
    ids = {c["id"] for c in _contenders(doc)}
    if "fw" not in ids:
        return []
    rows = []
    lim_id = limit_id(doc)
    for wid, label in (("tcp1", "TCP LAN→WAN 1 stream"), ("tcp4", "TCP LAN→WAN 4 streams"),
                       ("tcp1_rev", "TCP WAN→LAN 1 stream")):
        if wid not in doc["meta"]["workloads"]:
            continue
        bid, bv = linux_best(doc, wid, "bps")
        fw = _value(doc, "fw", wid, "bps")
        if wid == "tcp1" and bid:
            r = fw / bv if fw is not None and bv else None
            rows.append(_trow(f"{label}: firmware ÷ best Linux offloads-off ({bid})", r, 2.5,
                              True))
        if wid == "tcp1" and lim_id:
            lim = _value(doc, lim_id, wid, "bps")
            r = fw / lim if fw is not None and lim else None
            rows.append(_trow(f"{label}: firmware ÷ limit row ({lim_id})", r, 0.95, True))
        if bid:
            frt, lrt = _runs_stat(doc, "fw", wid, "retransmits"), \
                _runs_stat(doc, bid, wid, "retransmits")
            ok = None if frt is None or lrt is None else frt <= lrt
            rows.append(f"| {label}: retransmits per run, firmware vs {bid} | "
                        f"{_count(frt)} vs {_count(lrt)} | ≤ Linux's | "
                        f"{'—' if ok is None else 'met' if ok else 'not met'} |")
        busy = _reason_total(doc, "fw", wid, "tx_busy")
        rows.append(f"| {label}: firmware `tx_busy` drops (all runs) | {_count(busy)} | 0 | "
                    f"{'—' if busy is None else 'met' if busy == 0 else 'not met'} |")
    if not rows:
        return []
    return (["Issue 14's targets checked by this run (ratios of medians, QEMU TCG; the Linux "
             "reference is the best offloads-off variant of the workload, picked by the "
             "report).", "", "| target | this run | goal | verdict |", "|---|---|---|---|"]
            + rows)


def _trow(name, r, goal, higher):
    verdict = "—" if r is None else ("met" if (r >= goal if higher else r <= goal)
                                     else "not met")
    return f"| {name} | {'—' if r is None else f'{r:.2f}×'} | {'≥' if higher else '≤'} " \
           f"{goal:g}× | {verdict} |"


def frames_forwarded(metrics):
    """Frames the router sent on, from its own counters (None: unknown)."""
    if not metrics:
        return None
    if metrics.get("forwarded") is not None:
        return metrics["forwarded"]
    return None


def host_table(doc):
    """Where the host's two cores went per forwarded frame, per contender (TCP runs)."""
    cats = [("qemu_vcpu", "QEMU vCPU"), ("qemu_io", "QEMU main loop (I/O)"),
            ("qemu_other", "QEMU other"), ("iperf3_client", "iperf3 client"),
            ("iperf3_server", "iperf3 server"), ("softirq_irq", "host softirq+irq"),
            ("host_kthreads", "host kthreads"), ("other", "other"), ("idle", "idle")]
    wl = [w for w in ("tcp1", "tcp4", "tcp1_rev", "bidir") if w in doc["meta"]["workloads"]]
    out = []
    for wid in wl:
        for c in _contenders(doc):
            if c["kind"] == "veth":
                continue
            e = doc["results"].get(c["id"], {}).get(wid) or {}
            tot = {}
            frames = 0
            for r in e.get("runs", []):
                pf = hostprof.per_frame(r.get("host_cpu"), frames_forwarded(r.get("metrics")))
                f = frames_forwarded(r.get("metrics"))
                if not pf or not f:
                    continue
                frames += f
                for k, v in pf.items():
                    t = tot.setdefault(k, [0.0, 0.0])
                    t[0] += v["us_per_frame"] * f
                    t[1] += (v["share_pct"] or 0) * f
            if not frames:
                continue
            if not out:
                out = ["| contender | workload | frames forwarded | " +
                       " | ".join(n for _, n in cats) + " |",
                       "|---|---|---|" + "---|" * len(cats)]
            cellv = [f"{_fmt(tot[k][0] / frames)} µs ({tot[k][1] / frames:.0f} %)"
                     if k in tot else "—" for k, _ in cats]
            out.append(f"| {c['label']} | {wid} | {frames:,} | " + " | ".join(cellv) + " |")
    if not out:
        return []
    return out + ["", "Each cell: CPU time per frame the router forwarded (its own counters: "
                  "both NICs' tx_packets for the firmware, ip.forw_datagrams for Linux), and "
                  "in brackets the share of the machine (cores × wall time of the run) that "
                  "category took. Threads sampled from /proc every 0.5 s during the iperf3 "
                  "run (what `pidstat -t` reads; hostprof.py); softirq+irq and idle from "
                  "/proc/stat (packet delivery through the taps and namespaces is charged to "
                  "no thread). The QEMU main loop is the I/O thread: with tap backends it "
                  "moves every frame between the taps and the virtqueues."]


def device_table(doc):
    """QEMU trace counts per forwarded frame (runs with --trace)."""
    out = []
    for c in _contenders(doc):
        for wid, e in doc["results"].get(c["id"], {}).items():
            runs = []
            for ph in (None, "peak", "flood"):
                src = e.get(ph) if ph else e
                if isinstance(src, dict):
                    runs += [r for r in src.get("runs", []) if r.get("device")]
            tot = dict(kicks=0, interrupts=0, msi_writes=0, guest_io=0)
            regions = {}
            frames = 0
            for r in runs:
                f = frames_forwarded(r.get("metrics"))
                if not f:
                    continue
                frames += f
                for k in tot:
                    tot[k] += r["device"].get(k, 0)
                for k, v in (r["device"].get("guest_io_by_region") or {}).items():
                    regions[k] = regions.get(k, 0) + v
            if not frames:
                continue
            if not out:
                out = ["| contender | workload | frames forwarded | kicks/frame | "
                       "interrupts/frame | MSI writes/frame | guest MMIO/PIO accesses/frame "
                       "| top regions |", "|---|---|---|---|---|---|---|---|"]
            top = ", ".join(f"{k} {v / frames:.3f}" for k, v in
                            sorted(regions.items(), key=lambda kv: -kv[1])[:3])
            out.append(f"| {c['label']} | {wid} | {frames:,} | {tot['kicks'] / frames:.4f} | "
                       f"{tot['interrupts'] / frames:.4f} | {tot['msi_writes'] / frames:.4f} | "
                       f"{tot['guest_io'] / frames:.4f} | {top} |")
    return out


def udp_table(doc):
    cs = _contenders(doc)
    out = []
    for wid in ("udp1400", "udp64"):
        if wid not in doc["meta"]["workloads"]:
            continue
        if not out:
            out = ["| contender | UDP payload | sweep points | best forwarded in sweep (k/s) | "
                   "peak: offered (k/s) | peak: sender reached (k/s) | peak: loss | "
                   "flood: sender (k/s) | flood: forwarded (k/s) |",
                   "|---|---|---|---|---|---|---|---|---|"]
        for c in cs:
            e = doc["results"].get(c["id"], {}).get(wid)
            if not e or e.get("error"):
                out.append(f"| {c['label']} | {wid[3:]} B | failed | | | | | | |")
                continue
            out.append(
                f"| {c['label']} | {e['length']} B ({e['frame_bytes']} B frames) | "
                f"{len(e.get('sweep', []))} | {_fmt((e.get('sweep_max_fwd_pps') or 0) * 1e-3)} | "
                f"{_fmt((e.get('peak_offered_pps') or 0) * 1e-3)} | "
                f"{cell(_get(e, 'peak.sent_pps'), 1e-3)} | "
                f"{cell(_get(e, 'peak.loss_pct'), 1)} % | "
                f"{cell(_get(e, 'flood.sent_pps'), 1e-3)} | "
                f"{cell(_get(e, 'flood.fwd_pps'), 1e-3)} |")
    return out


def _us(cycles, mhz):
    if cycles is None or not mhz or isinstance(cycles, str) or cycles == math.inf:
        return None
    return cycles / mhz


def _p99_cell(v):
    """p99 from histogram buckets is the upper bound of the bucket that holds it."""
    if v is None:
        return "—"
    if v == "inf" or v == math.inf:
        return "in open top bucket"
    return "< " + _fmt(v)


def _irqoff_cell(a, key):
    return "n/a" if a.get(key) is None else _fmt(a[key])


def fw_table(doc):
    fw = [c for c in _contenders(doc) if c["kind"] == "fw"]
    if not fw:
        return []
    mhz = doc["meta"]["machine"].get("tsc_mhz")
    wl = set(doc["meta"]["workloads"])
    out = ["| design | workload | frames in | ISR cycles min | mean | p99 | max | "
           "mean µs | ISR cycles/frame | task cycles/frame | interrupts/frame | kicks/frame | "
           "frames/RX-task wake-up | rx_queue_drops | drops by reason | "
           "TX waits (ring full) | longest irq-off, ISR | longest irq-off, task |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    any_hist = False
    for c in fw:
        for wid, phase, label in PHASES:
            if wid not in wl:
                continue
            e = doc["results"].get(c["id"], {}).get(wid) or {}
            a = counters.fw_aggregate(_phase_metrics(e, phase))
            if not a:
                out.append(f"| {c['label']} | {label} | no counters | | | | | | | | | | | | | "
                           "| | |")
                continue
            any_hist = any_hist or a["isr_hist"]
            p99 = _p99_cell(a["isr_cycles_p99"]) if a["isr_hist"] else "n/a"
            out.append(
                f"| {c['label']} | {label} | {a['frames_in']:,} | {_fmt(a['isr_cycles_min'])} | "
                f"{_fmt(a['isr_cycles_mean'])} | {p99} | {_fmt(a['isr_cycles_max'])} | "
                f"{_fmt(_us(a['isr_cycles_mean'], mhz))} | {_fmt(a['isr_cycles_per_frame'])} | "
                f"{_fmt(a['task_cycles_per_frame'])} | {_fmt(a['irq_per_frame'])} | "
                f"{_fmt(a['kicks_per_frame'])} | {_fmt(a['frames_per_wakeup'])} | "
                f"{a['rx_queue_drops']:,} | {counters.drops_text(a.get('drops'))} | "
                f"{a.get('tx_waits', 0):,} | {_irqoff_cell(a, 'irqoff_isr_cycles_max')} | "
                f"{_irqoff_cell(a, 'irqoff_task_cycles_max')} |")
    notes = [
        "",
        "ISR duration: TSC cycles read by the driver around its interrupt handler (under "
        "TCG the guest's TSC is the host's, "
        f"{_fmt(mhz) if mhz else '?'} MHz, hence µs). Counts are summed over the phase's "
        "repetitions and both NICs (frames in = frames received from the devices); min and "
        "max cover the guest's whole life (it was booted for this workload), since the "
        "console cannot clear them. Cycles per frame = all cycles spent in that context during "
        "the phase ÷ frames in (task cycles: the driver's `rx_task_cycles`, wake-up to park, "
        "stack included, and so is any sleep of the router's fairness yield: an upper "
        "bound; — without an RX task or the counter). Kicks = RX-refill plus TX "
        "notifications. The old design has no RX task, so frames per wake-up is — there.",
        "Longest irq-off: the longest section with interrupts masked, in TSC cycles, in the "
        "ISR and in the RX task (the driver's `irqoff_isr_cycles_max`, "
        "`irqoff_task_cycles_max`; both NICs, since boot: the console cannot clear them); "
        "n/a for a build that does not export them.",
    ]
    for c in fw:
        for wid, e in doc["results"].get(c["id"], {}).items():
            if e.get("design_check"):
                notes.append(f"**Warning** ({c['id']}, {wid}): {e['design_check']}.")
    if any_hist:
        notes.append("p99 comes from the driver's ISR-duration histogram (`isr_hist_<i>`: "
                     "interrupts that lasted [2^i, 2^(i+1)) cycles), deltas over the phase: "
                     "the upper bound of the bucket holding the 99th percentile, so it is "
                     "exact only to a factor of two.")
    if not any_hist:
        notes.append("p99 is n/a: the driver exports no ISR-duration histogram "
                     "(`isr_hist_*` keys) in this build; the suite uses one when present.")
    return out + notes


def linux_table(doc):
    lx = [c for c in _contenders(doc) if c["kind"] == "linux"]
    if not lx:
        return []
    wl = set(doc["meta"]["workloads"])
    out = ["| contender | workload | frames in | virtio interrupts/frame | rx_dropped | "
           "drops by reason | guest CPU busy |", "|---|---|---|---|---|---|---|"]
    for c in lx:
        for wid, phase, label in PHASES:
            if wid not in wl:
                continue
            e = doc["results"].get(c["id"], {}).get(wid) or {}
            a = counters.linux_aggregate(_phase_metrics(e, phase))
            if not a:
                continue
            busy = a.get("guest_busy_pct")
            out.append(f"| {c['label']} | {label} | {a['frames_in']:,} | "
                       f"{_fmt(a['irq_per_frame'])} | {a['rx_dropped']:,} | "
                       f"{counters.drops_text(a.get('drops'))} | "
                       f"{'n/a' if busy is None else f'{busy:.0f} %'} |")
    return out


def failure_lines(doc):
    """One line per contender and workload that lost figures, with the first error."""
    out = []
    for c in _contenders(doc):
        for wid, e in doc["results"].get(c["id"], {}).items():
            errs = []
            if e.get("error"):
                errs.append(e["error"])
            for r in e.get("runs", []):
                if r.get("error"):
                    errs.append(r["error"])
            for ph in ("peak", "flood"):
                p = e.get(ph) or {}
                errs += [r["error"] for r in p.get("runs", []) if r.get("error")]
                if p.get("error"):
                    errs.append(p["error"])
            if errs:
                first = errs[0].splitlines()[0][:200]
                out.append(f"- {c['label']}, `{wid}`: {len(errs)} error(s); first: {first}")
    return out


def _sweep_rule_text(doc):
    if doc["meta"]["params"].get("sweep_rule") == "collapse":
        return ("The sweep doubles the offered rate until the sender cannot keep up or "
                "forwarding collapses (below 60 % of the best so far)")
    return ("The sweep (rule of this run's suite version) doubled the offered rate while "
            "forwarding still grew by 5 % or more, so a peak after a plateau can be missed")


def markdown(doc, png_name):
    L = ["# vnet-rtos benchmark results", ""] + header_lines(doc) + [""]
    L += ["## Throughput and latency", ""] + main_table(doc) + [""]
    ht = honesty_targets(doc)
    if ht:
        L += ["## Targets (issue 14)", ""] + ht + [""]
    tt = targets_table(doc)
    if tt:
        L += ["## Targets (issue 6)", ""] + tt + [""]
    rt = ratio_table(doc)
    if rt:
        L += ["## Ratios", ""] + rt + [""]
    L += [f"![chart]({png_name})", ""]
    ut = udp_table(doc)
    if ut:
        L += ["## UDP sweeps", "",
              "Forwarded = datagrams the WAN-side iperf3 server received, per second of its "
              "own measurement. " + _sweep_rule_text(doc) + ", then bisects towards "
              "the knee: the lowest offered rate forwarding within 3 % of the best. The peak "
              "repetitions run at the knee. Flood = `iperf3 -u -b 0`. "
              "One iperf3 sender is the generator: the veth rows are its own ceiling on this "
              "machine (no VM involved).", ""] + ut + [""]
    ft = fw_table(doc)
    if ft:
        L += ["## Inside the firmware (both designs)", ""] + ft + [""]
    hs = host_table(doc)
    if hs:
        L += ["## Where the host's cores went, per forwarded frame", ""] + hs + [""]
    dv = device_table(doc)
    if dv:
        L += ["## What the device saw, per forwarded frame (QEMU trace events)", "",
              "Kicks = `virtio_queue_notify` (guest notify writes), interrupts = "
              "`virtio_notify` (raised after suppression), MSI writes = the device's writes "
              "to the APIC's MSI window, guest MMIO/PIO accesses = `memory_region_ops_*` "
              "by the vCPU (each leaves translated code for a device model under QEMU's "
              "global lock: TCG's counterpart of a VM exit), the console excluded. Only "
              "in runs with `--trace`.", ""] + dv + [""]
    lt = linux_table(doc)
    if lt:
        L += ["## Inside the Linux guest", "",
              "Interrupts counted from the guest's /proc/interrupts (virtio input/output "
              "vectors of both NICs); kicks are not visible from inside Linux.", ""] + lt + [""]
    fl = failure_lines(doc)
    if fl:
        L += ["## Failed runs", ""] + fl + [""]
    L += ["## Method", "",
          "`sudo ./bench/run.sh` (docs/benchmarks.md). One freshly booted guest per contender "
          "and workload; counters read over the serial console before and after every "
          "repetition. Contenders run one after another on the same machine in the same run; "
          "compare them as ratios, not with figures from other machines.", ""]
    if doc["meta"].get("qemu_argv"):
        L += ["QEMU command line of the run (first VM contender; others differ in image and, "
              "for \"offloads on\", the NIC offload properties):", "", "```",
              " ".join(doc["meta"]["qemu_argv"]), "```", ""]
    return "\n".join(L)


def readme_section(doc, rel_dir="bench/results"):
    """The README's `## Results` section: the latest main table, its provenance, links."""
    L = ["## Results", ""] + header_lines(doc) + [""] + main_table(doc) + [""]
    ht = honesty_targets(doc)
    if ht:
        L += ht + [""]
    tt = targets_table(doc)
    if tt:
        L += tt + [""]
    L += [f"Ratios, UDP sweep details, the firmware's ISR-duration and per-frame figures for "
          f"both RX designs, and the chart: [{rel_dir}/latest.md]({rel_dir}/latest.md) "
          f"(raw data: `{rel_dir}/latest.json`). Method: [docs/benchmarks.md]"
          "(docs/benchmarks.md). Reproduce as root with `./bench/run.sh --update-readme` "
          "(about 65 minutes; it rewrites this section; `--quick` for a smoke check).", "", f"![benchmark chart]({rel_dir}/latest.png)", ""]
    return "\n".join(L)


# ---- chart --------------------------------------------------------------------------------

def _dat_block(doc, rows, scale):
    """gnuplot data: one line per workload, then value/low/high per contender."""
    lines = []
    for wid, path, label in rows:
        vals = []
        for c in _contenders(doc):
            e = doc["results"].get(c["id"], {}).get(wid)
            s = _get(e, path) if e and not e.get("error") else None
            if isinstance(s, dict) and s.get("median"):
                vals += [s["median"] * scale, s["min"] * scale, s["max"] * scale]
            else:
                vals += ["NaN"] * 3
        lines.append('"' + label + '" ' + " ".join(str(v) for v in vals))
    return "\n".join(lines) + "\n"


def _isr_block(doc, wl):
    fw = [c for c in _contenders(doc) if c["kind"] == "fw"]
    lines = []
    for wid, phase, _label in PHASES:
        if wid not in wl:
            continue
        label = CHART_PHASE.get((wid, phase), wid)
        vals = []
        for c in fw:
            e = doc["results"].get(c["id"], {}).get(wid) or {}
            a = counters.fw_aggregate(_phase_metrics(e, phase))
            if a and a["isr_cycles_mean"]:
                vals += [a["isr_cycles_mean"], a["isr_cycles_min"] or a["isr_cycles_mean"],
                         a["isr_cycles_max"] or a["isr_cycles_mean"]]
            else:
                vals += ["NaN"] * 3
        lines.append('"' + label + '" ' + " ".join(str(v) for v in vals))
    return fw, "\n".join(lines) + "\n"


def _has_data(block):
    return any(v != "NaN" for line in block.splitlines() for v in line.rsplit('"', 1)[-1].split())


def chart(doc, png_path):
    """Four panels, log scales (the contenders span three orders of magnitude)."""
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot not installed (apt-get install gnuplot-nox)"
    cs = _contenders(doc)
    wl = set(doc["meta"]["workloads"])
    tcp_rows = [(w, p, lab) for w, p, lab in (
        ("tcp1", "bps", "1 stream"), ("tcp4", "bps", "4 streams"),
        ("tcp1_rev", "bps", "WAN->LAN"), ("bidir", "bps", "both ways")) if w in wl]
    udp_rows = [(w, p, lab) for w, p, lab in (
        ("udp1400", "peak.fwd_pps", "1400 B peak"), ("udp1400", "flood.fwd_pps", "1400 B flood"),
        ("udp64", "peak.fwd_pps", "64 B peak"), ("udp64", "flood.fwd_pps", "64 B flood"))
        if w in wl]
    rtt_rows = [("tcp1", "rtt_avg_ms", "avg"), ("tcp1", "rtt_max_ms", "max")] \
        if "tcp1" in wl else []
    tmp = tempfile.mkdtemp(prefix="vnet-bench-chart-")
    try:
        panels = []
        for name, rows, scale, title, ylab in (
                ("tcp", tcp_rows, 1e-6, "iperf3 TCP throughput", "Mbit/s (log)"),
                ("udp", udp_rows, 1e-3, "UDP frames forwarded per second", "kframes/s (log)"),
                ("rtt", rtt_rows, 1.0, "ping RTT under 1-stream TCP load (lower is better)",
                 "ms (log)")):
            if not rows:
                continue
            block = _dat_block(doc, rows, scale)
            if not _has_data(block):
                continue  # gnuplot refuses a panel without a single point
            path = os.path.join(tmp, name + ".dat")
            with open(path, "w", encoding="utf-8") as f:
                f.write(block)
            panels.append((path, title, ylab, cs))
        fw, block = _isr_block(doc, wl)
        if fw and _has_data(block):
            path = os.path.join(tmp, "isr.dat")
            with open(path, "w", encoding="utf-8") as f:
                f.write(block)
            panels.append((path, "firmware ISR duration: mean, bars min-max", "TSC cycles (log)",
                           fw))
        if not panels:
            return "no figures to plot (every run failed)"
        date = doc["meta"]["started"][:16].replace("T", " ")
        qemu = ((doc["meta"]["machine"].get("qemu") or ["QEMU"])[0]).split("(")[0].strip()
        s = [f"set terminal pngcairo size 1400,{520 * ((len(panels) + 1) // 2)} "
             "font 'DejaVu Sans,10'",
             f"set output '{png_path}'",
             "set datafile missing 'NaN'",
             "set style data histograms",
             "set style histogram errorbars gap 2 lw 1",
             "set style fill solid 0.85 border -1",
             "set boxwidth 0.9",
             "set logscale y",
             "set grid ytics",
             "set key below horizontal font ',9' samplen 1.5 width -2",
             "set xtics nomirror",
             f"set multiplot layout {(len(panels) + 1) // 2},2 title "
             f"'vnet-rtos benchmarks, {date} UTC, {qemu}, TCG, 1 vCPU (median, bars min-max)'"]
        for path, title, ylab, who in panels:
            s.append(f"set title '{title}'")
            s.append(f"set ylabel '{ylab}'")
            parts = []
            for i, c in enumerate(who):
                col = 2 + 3 * i
                # Colours follow the contender, not its position in a panel.
                lc = 1 + [x["id"] for x in cs].index(c["id"])
                parts.append(f"'{path}' using {col}:{col + 1}:{col + 2}:xtic(1) "
                             f"title '{_short(c)}' lc {lc}")
            s.append("plot " + ", \\\n     ".join(parts))
        s.append("unset multiplot")
        gpf = os.path.join(tmp, "chart.gp")
        with open(gpf, "w", encoding="utf-8") as f:
            f.write("\n".join(s) + "\n")
        cp = subprocess.run([gp, gpf], capture_output=True, text=True, timeout=60, check=False)
        if cp.returncode != 0 or not os.path.isfile(png_path):
            return "gnuplot failed: " + cp.stderr.strip()[-500:]
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


CHART_PHASE = {("tcp1", None): "TCP 1", ("tcp4", None): "TCP 4", ("tcp1_rev", None): "TCP rev",
               ("bidir", None): "TCP bidir", ("udp1400", "peak"): "1400 peak",
               ("udp1400", "flood"): "1400 flood", ("udp64", "peak"): "64 peak",
               ("udp64", "flood"): "64 flood"}
SHORT = {"fw": "firmware (NAPI)", "isr": "old design (RX in ISR)",
         "minfwd": "minimal forwarder (driver, no stack)", "zcfwd": "zero-copy forwarder",
         "zccopy": "one-copy forwarder",
         "linux": "Linux offl. off GRO on", "linux-nogro": "Linux offl. off GRO off",
         "linux-pc": "Linux GRO on, pc", "linux-nogro-pc": "Linux GRO off, pc",
         "linux-q1024": "Linux GRO on, q35, RXq 1024", "linux-pc-q1024": "Linux GRO on, pc, RXq 1024",
         "linux-offl": "Linux offloads on", "veth": "host veth, no VM",
         "fw-offl": "firmware, offloads on"}


def _short(c):
    return SHORT.get(c["id"], c["id"])


# ---- files ----------------------------------------------------------------------------------

def write_all(doc, out_dir, tag=""):
    """latest.{md,png,json} (latest-quick.* for a quick run, latest-partial.* for one
    restricted to some contenders or workloads) plus a dated copy of each."""
    os.makedirs(out_dir, exist_ok=True)
    base = ("latest-quick" if doc["meta"]["quick"]
            else "latest-partial" if doc["meta"].get("partial") else "latest")
    stamp = datetime.datetime.fromisoformat(doc["meta"]["started"]).strftime("%Y-%m-%d-%H%M")
    dated = stamp + ("-quick" if doc["meta"]["quick"] else "") + (f"-{tag}" if tag else "")
    png = os.path.join(out_dir, base + ".png")
    err = chart(doc, png)
    doc["meta"]["chart_error"] = err
    md = markdown(doc, base + ".png" if not err else "")
    if err:
        md = md.replace("![chart]()", f"(no chart: {err})")
    paths = []
    mdp = os.path.join(out_dir, base + ".md")
    with open(mdp, "w", encoding="utf-8") as f:
        f.write(md)
    paths.append(mdp)
    if not err:
        paths.append(png)
    jp = os.path.join(out_dir, base + ".json")
    with open(jp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, default=str)
    paths.append(jp)
    for p in list(paths):
        ext = os.path.splitext(p)[1]
        dst = os.path.join(out_dir, dated + ext)
        if ext == ".md":
            with open(dst, "w", encoding="utf-8") as f:
                f.write(md.replace(f"]({base}.png)", f"]({dated}.png)"))
        else:
            shutil.copyfile(p, dst)
        paths.append(dst)
    return paths
