"""The workloads: iperf3 TCP, UDP offered-rate sweeps, ping RTT under load.

Every function takes a target (a contender that is up: namespaces, addresses and a
counter reader, see contenders.py) and returns plain dicts that go into the raw JSON
as they are. Every traffic run is bounded by the harness (iperf3 -t inside `timeout`).
Nothing here judges a figure: a benchmark prints, it does not assert speed.
"""

import statistics
import threading
import time

from vnet_harness import traffic
from vnet_harness.util import HarnessError, log

from . import counters, hostprof

# Header bytes around a UDP payload on the wire (Ethernet 14 + IPv4 20 + UDP 8), FCS
# not counted: what a virtio-net frame carries.
UDP_OVERHEAD = 42


def summary(values):
    """median with min and max over the repetitions that produced a figure."""
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return dict(median=statistics.median(vals), min=min(vals), max=max(vals), n=len(vals))


class Measured:
    """Runs one traffic function between two counter reads of the target, with the
    host's CPU time sampled meanwhile (hostprof.HostCpu) and, when the contender logs
    QEMU trace events, the device-side counts of the same stretch."""

    def __init__(self, target, host_cpu=True):
        self.target = target
        self.host_cpu = host_cpu

    def __call__(self, fn, *a, **kw):
        before = self.target.counters()
        # After the counter read: its console output is not the data path's.
        self.target.trace_mark()
        hc = hostprof.HostCpu(self.target.qemu_pid).start() if self.host_cpu else None
        t0 = time.monotonic()
        err = None
        try:
            out = fn(*a, **kw)
        except HarnessError as e:
            out = None
            err = str(e)
        wall = time.monotonic() - t0
        prof = dict(host_cpu=hc.stop() if hc else None, device=self.target.trace_mark())
        after = self.target.counters() if self.target.alive() else None
        metrics = self.target.metrics(before, after) if before and after else None
        return out, err, metrics, wall, prof


def run_drops(run):
    """Frames the router dropped in one run (None: its counters were not read)."""
    m = run.get("metrics") or {}
    d = m.get("drops")
    return None if d is None else counters.drops_total(d)


def honesty(runs):
    """Retransmits and drops next to a throughput: per-run summaries, the reasons summed
    over the runs (issue 14)."""
    return dict(retransmits=summary([r.get("retransmits") for r in runs]),
                drops=summary([run_drops(r) for r in runs]),
                drop_reasons=counters.merge_drops([(r.get("metrics") or {}).get("drops")
                                                   for r in runs]))


def _tcp_once(t, seconds, streams, reverse, bidir):
    extra = ["--bidir"] if bidir else None
    r = traffic.iperf3(t.lan_ns, t.wan_ns, t.wan_ip, seconds=seconds, streams=streams,
                       reverse=reverse, omit=1, extra=extra)
    end = r["json"].get("end", {})
    bps = r["bits_per_second"]
    if bidir:
        back = end.get("sum_received_bidir_reverse", {})
        bps += back.get("bits_per_second", 0.0)
    return dict(bps=bps, retransmits=r.get("retransmits"),
                sent_bps=r.get("sent_bits_per_second"))


def _ping_during(t, delay, seconds, interval, box):
    """Thread body: ping LAN->WAN host for `seconds` after `delay` (load warm-up)."""
    try:
        time.sleep(delay)
        count = max(5, int(seconds / interval))
        box["ping"] = traffic.ping(t.lan_ns, t.wan_ip, count=count, interval=interval,
                                   wait=1.0)
    except HarnessError as e:
        box["error"] = str(e)


def tcp(t, seconds, streams=1, reverse=False, bidir=False, reps=3, ping_load=False):
    """iperf3 TCP runs; with ping_load a ping (10/s) runs during each, after 1.5 s."""
    runs = []
    idle = None
    if ping_load:
        try:
            idle = traffic.ping(t.lan_ns, t.wan_ip, count=20, interval=0.05, wait=1.0)
        except HarnessError as e:
            idle = dict(error=str(e))
    measure = Measured(t)
    for i in range(reps):
        box = {}
        th = None
        if ping_load:
            th = threading.Thread(target=_ping_during,
                                  args=(t, 1.5, max(1.0, seconds - 1.0), 0.1, box),
                                  daemon=True)
            th.start()
        out, err, metrics, wall, prof = measure(_tcp_once, t, seconds, streams, reverse, bidir)
        if th is not None:
            th.join(timeout=seconds + 30)
        run = dict(rep=i, error=err, metrics=metrics, wall_s=round(wall, 2), **prof)
        if out:
            run.update(out)
        if ping_load:
            run["ping"] = box.get("ping")
            if box.get("error"):
                run["ping_error"] = box["error"]
        runs.append(run)
        if err:
            log(f"  {t.name}: tcp run {i}: {err}")
    res = tcp_summary(runs, ping_load)
    if ping_load:
        res["ping_idle"] = idle
    return res


def tcp_summary(runs, ping_load):
    """The figures of a TCP workload from its runs (also after merging rounds)."""
    res = dict(runs=runs, bps=summary([r.get("bps") for r in runs]))
    res.update(honesty(runs))
    if ping_load:
        res["rtt_avg_ms"] = summary([(r.get("ping") or {}).get("rtt_avg_ms") for r in runs])
        res["rtt_max_ms"] = summary([(r.get("ping") or {}).get("rtt_max_ms") for r in runs])
        res["ping_loss_pct"] = summary([(r.get("ping") or {}).get("loss_pct") for r in runs])
    return res


def _udp_once(t, length, seconds, pps):
    """One UDP run at `pps` offered frames/s (None: flood, -b 0)."""
    bitrate = "0" if pps is None else str(int(pps * length * 8))
    r = traffic.iperf3(t.lan_ns, t.wan_ns, t.wan_ip, seconds=seconds, udp=True,
                       bitrate=bitrate, length=length)
    end = r["json"].get("end", {})
    snt = end.get("sum_sent") or end.get("sum") or {}
    rcv = end.get("sum_received")
    sent_pkts = snt.get("packets", 0)
    sent_s = snt.get("seconds") or seconds
    if rcv:
        # Server side: packets = highest sequence seen, lost = gaps in it.
        recv_pkts = rcv.get("packets", 0) - rcv.get("lost_packets", 0)
        recv_bytes = rcv.get("bytes", 0)
        recv_s = rcv.get("seconds") or seconds
    else:
        s = end.get("sum", {})
        recv_pkts = s.get("packets", 0) - s.get("lost_packets", 0)
        recv_bytes = recv_pkts * length
        recv_s = seconds
    # Cross-check against bytes: a datagram is `length` bytes at the receiver.
    if length and recv_bytes and abs(recv_bytes / length - recv_pkts) > 0.01 * recv_pkts + 2:
        recv_pkts = recv_bytes // length
    return dict(offered_pps=pps, sent_pps=sent_pkts / sent_s if sent_s else 0.0,
                fwd_pps=recv_pkts / recv_s if recv_s else 0.0, sent_packets=sent_pkts,
                recv_packets=recv_pkts, loss_pct=100.0 * (1 - recv_pkts / sent_pkts)
                if sent_pkts else None, fwd_bps=recv_pkts * length * 8 / recv_s
                if recv_s else 0.0)


KNEE = 0.97  # a rate within 3 % of the best forwarded rate counts as the peak
COLLAPSE = 0.6  # forwarding below 60 % of the best so far: more load only hurts


def _knee(points):
    """The lowest offered rate whose forwarded rate is within KNEE of the best one.

    Past the knee an overloaded TCG guest forwards as much or less at a higher cost and
    with far more run-to-run spread, so the repetitions run at the knee.
    """
    ok = [p for p in points if "fwd_pps" in p]
    if not ok:
        return None
    top = max(p["fwd_pps"] for p in ok)
    return min((p for p in ok if p["fwd_pps"] >= KNEE * top), key=lambda p: p["offered_pps"])


def udp_sweep(t, length, point_seconds, start_pps, max_points, refine=2):
    """Find the offered rate at which the most frames come out at the WAN end.

    Doubling from start_pps until the generator no longer delivers what is asked, or the
    forwarded rate collapses (below COLLAPSE of the best so far); then `refine`
    bisection steps (geometric) between the knee and the tested rate below it. A rate
    that merely stops growing does not end the sweep: a batching receiver (NAPI-style)
    can forward more at a higher offered rate after a plateau. A lone `-b 0` flood would
    hide the peak: under TCG an overloaded guest usually forwards less, not more.
    """
    points = []

    def probe(pps):
        try:
            p = _udp_once(t, length, point_seconds, pps)
        except HarnessError as e:
            points.append(dict(offered_pps=pps, error=str(e)))
            return None
        points.append(p)
        return p

    pps = float(start_pps)
    best = None
    while len(points) < max_points:
        p = probe(pps)
        if p is None:
            break
        collapsed = best is not None and p["fwd_pps"] < COLLAPSE * best["fwd_pps"]
        if best is None or p["fwd_pps"] > best["fwd_pps"]:
            best = p
        if collapsed or p["sent_pps"] < 0.9 * pps:
            break  # overloaded past recovery, or the generator itself is the limit
        pps *= 2
    for _ in range(refine):
        knee = _knee(points)
        if knee is None:
            break
        below = [p["offered_pps"] for p in points
                 if "fwd_pps" in p and p["offered_pps"] < knee["offered_pps"]]
        if not below:
            break
        lo = max(below)
        mid = (lo * knee["offered_pps"]) ** 0.5
        if mid / lo < 1.06:
            break  # close enough: further steps only measure noise
        probe(mid)
    return points, _knee(points)


def udp(t, length, seconds, reps=3, sweep_seconds=3, start_pps=5000, max_points=8,
        peak_pps=None):
    """Sweep for the peak, then `reps` runs at the peak's offered rate and `reps` floods.
    With peak_pps (a later round of an interleaved run) the sweep is skipped and the
    peak repetitions run at that rate, the one the first round's sweep found."""
    if peak_pps:
        sweep, best = [], dict(offered_pps=peak_pps)
    else:
        sweep, best = udp_sweep(t, length, sweep_seconds, start_pps, max_points)
    res = dict(length=length, frame_bytes=length + UDP_OVERHEAD, sweep=sweep,
               peak_offered_pps=best["offered_pps"] if best else None,
               sweep_max_fwd_pps=max((p["fwd_pps"] for p in sweep if "fwd_pps" in p),
                                     default=None))
    measure = Measured(t)
    for phase, pps in (("peak", best["offered_pps"] if best else None), ("flood", None)):
        if phase == "peak" and best is None:
            res["peak"] = dict(runs=[], error="sweep found no working rate", fwd_pps=None)
            continue
        runs = []
        for i in range(reps):
            out, err, metrics, wall, prof = measure(_udp_once, t, length, seconds, pps)
            run = dict(rep=i, error=err, metrics=metrics, wall_s=round(wall, 2), **prof)
            if out:
                run.update(out)
            if err:
                log(f"  {t.name}: udp {length} {phase} run {i}: {err}")
            runs.append(run)
        res[phase] = udp_phase(runs)
    return res


def udp_phase(runs):
    return dict(runs=runs, fwd_pps=summary([r.get("fwd_pps") for r in runs]),
                sent_pps=summary([r.get("sent_pps") for r in runs]),
                loss_pct=summary([r.get("loss_pct") for r in runs]),
                drops=summary([run_drops(r) for r in runs]),
                drop_reasons=counters.merge_drops([(r.get("metrics") or {}).get("drops")
                                                   for r in runs]))


def merge_rounds(wid, entries):
    """One workload entry from the rounds of an interleaved run (one boot each).

    Runs are pooled (renumbered by round) and the figures recomputed over them; a round
    that failed as a whole (no boot, no ping) becomes one failed run, so it is counted.
    TCP: the idle ping of the first round that had one. UDP: the sweep of the first
    round (later rounds reuse its peak rate)."""
    ok = [e for e in entries if not e.get("error")]
    failed = [e for e in entries if e.get("error")]
    if not ok:
        return dict(entries[0]) if entries else dict(error="no round ran")
    lost = [dict(rep=None, error=e["error"], metrics=None) for e in failed]
    res = {}
    if wid.startswith("udp"):
        first = ok[0]
        res = {k: v for k, v in first.items() if k not in ("peak", "flood")}
        for ph in ("peak", "flood"):
            runs = []
            for r, e in enumerate(entries):
                for run in (e.get(ph) or {}).get("runs", []):
                    runs.append(dict(run, round=r))
            res[ph] = udp_phase(runs + (lost if ph == "peak" else []))
    else:
        runs = []
        for r, e in enumerate(entries):
            for run in e.get("runs", []):
                runs.append(dict(run, round=r))
        ping_load = any("rtt_avg_ms" in e for e in ok)
        res = tcp_summary(runs + lost, ping_load)
        if ping_load:
            res["ping_idle"] = next((e["ping_idle"] for e in ok if e.get("ping_idle")), None)
    res["boot_s"] = [e.get("boot_s") for e in entries]
    res["rounds"] = len(entries)
    res["round_errors"] = [e["error"] for e in failed]
    return res
