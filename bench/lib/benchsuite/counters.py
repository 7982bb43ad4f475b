"""Guest counters read over the console, and what a run did to them (deltas).

Firmware: `stats -k` (docs/driver.md lists every driver counter; keys are prefixed by
the NIC, `lan.` and `wan.`). Linux: `stats` (bench/linux-router/stats.sh: eth0/eth1 sysfs
counters, /proc/net/snmp, softnet and qdisc drops, /proc/stat CPU time) plus
/proc/interrupts, so the Linux router gets an interrupts-per-frame figure too.

Drops by reason (issue 14, "bench honesty"): every run records what the router dropped
and where, next to its throughput. Firmware: the driver's and the stack's drop counters
(FW_DROPS, `stack.<nic>.drop.<reason>`, `stack.drop.<reason>`) and the minimal
forwarder's `fastpath_drop`. Linux: the interfaces' drop and error counters, IP discards
(/proc/net/snmp), the softnet backlog and the qdiscs (LINUX_DROPS).

Monotonic counters are compared as after-minus-before. The ISR extremes
(`isr_cycles_min/max`) are not resettable from the console: they cover the guest's life
so far, which is why the suite boots a fresh guest per workload. A histogram of ISR
durations, when the driver exports one (`isr_hist_*` keys), gives a p99 from deltas.
"""

import math
import re

NICS = ("lan", "wan")
# Counters that only grow (between two reads of one boot).
FW_MONOTONIC = ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "interrupts",
                "spurious_interrupts", "rx_kicks", "tx_kicks", "rx_task_wakeups",
                "rx_task_batches", "rx_queue_drops", "isr_cycles_total", "tx_ring_full",
                "isr_budget_exhausted", "task_serviced", "recheck_hits", "rx_bad_len",
                "rx_task_cycles", "rx_fn_cycles", "rx_bad_hdr", "tx_errors", "tx_gso_refused",
                "tx_wait_timeouts", "tx_waits", "bad_used", "fastpath_fwd", "fastpath_slow",
                "fastpath_drop")
# Driver / fast-path counters that count frames lost, and the reason they are shown under.
# tx_ring_full is not one: with virtio_net_send_wait a full ring makes the sender wait.
FW_DROPS = (("rx_queue_drops", "sw_ring_full"), ("rx_bad_len", "rx_bad_len"),
            ("rx_bad_hdr", "rx_bad_hdr"), ("bad_used", "bad_used"),
            ("tx_errors", "tx_error_driver"), ("tx_gso_refused", "tx_gso_refused"),
            ("fastpath_drop", "fastpath_tx_fail"))
STACK_DROP_RE = re.compile(r"^stack\.(?:(lan|wan)\.)?drop\.(\w+)$")
HIST_RE = re.compile(r"^(lan|wan)\.isr_hist_(.+)$")
IRQ_LINE_RE = re.compile(r"^\s*\w+:\s+([\d\s]+?)\s+\S.*\b(virtio\d+)-(input|output|config)"
                         r"[.\w-]*\s*$")


def _int(v):
    if isinstance(v, int):
        return v
    try:
        return int(str(v), 0)
    except (TypeError, ValueError):
        return None


# ---- firmware ------------------------------------------------------------------------

LOG2_MAX_INDEX = 63  # a bare number up to this is a log2 bucket index


def hist_bound(label):
    """Upper bound (cycles) of a histogram bucket named by its key suffix.

    The driver exports log2 buckets as `isr_hist_<i>`: bucket i counts durations in
    [2^i, 2^(i+1)) (include/vnet/virtio_net.h), so its bound is 2^(i+1). Other shapes are
    accepted too: `le_4096`, `2048_4095` (range: last number), `lt4096`, `log2_12`; an
    open top bucket (`inf`, `over`, `ge_65536`, `gt...`, `max`) has no bound.
    """
    low = label.lower()
    if re.fullmatch(r"\d+", low) and int(low) <= LOG2_MAX_INDEX:
        return 2 ** (int(low) + 1)
    tokens = re.split(r"[_.]", low)
    if any(t in ("inf", "over", "max") or re.fullmatch(r"(ge|gt)\d*", t) for t in tokens):
        return math.inf
    nums = re.findall(r"\d+", label)
    if not nums:
        return None
    if low.startswith("log2") or low.startswith("pow2") or low.startswith("p2_"):
        return 2 ** int(nums[-1])
    return int(nums[-1])


def fw_snapshot(kv):
    """The subset of `stats -k` the suite uses, as integers."""
    snap = {}
    for k, v in kv.items():
        n = _int(v)
        if n is None:
            continue
        nic, _, name = k.partition(".")
        if nic in NICS and (name in FW_MONOTONIC or name.startswith(("isr_", "irqoff_"))):
            snap[k] = n
        elif STACK_DROP_RE.match(k):
            snap[k] = n
        elif k in ("os.cpu_usage_pct", "os.ctx_switches", "os.uptime_ms"):
            snap[k] = n
    return snap


def fw_delta(before, after):
    d = {}
    for k, v in after.items():
        nic, _, name = k.partition(".")
        if name in FW_MONOTONIC or HIST_RE.match(k) or STACK_DROP_RE.match(k) or k in (
                "os.ctx_switches", "os.uptime_ms"):
            d[k] = v - before.get(k, 0)
        else:
            d[k] = v  # levels and lifetime extremes: the value at the end
    return d


def _hist_buckets(delta):
    """{upper bound: count} over both NICs, or None without histogram keys."""
    merged = None
    found = [(m.group(2), v) for k, v in delta.items() for m in [HIST_RE.match(k)] if m]
    # The driver's last log2 bucket is open upwards: the highest index exported.
    idx = [int(lab) for lab, _ in found if re.fullmatch(r"\d+", lab)
           and int(lab) <= LOG2_MAX_INDEX]
    top = max(idx) if idx else None
    for lab, v in found:
        b = math.inf if top is not None and lab == str(top) else hist_bound(lab)
        if b is None:
            continue
        merged = merged or {}
        merged[b] = merged.get(b, 0) + v
    return merged


def hist_quantile(buckets, q=0.99):
    """Upper bound of the bucket holding quantile q (math.inf: the open top bucket)."""
    if not buckets:
        return None
    total = sum(buckets.values())
    if total <= 0:
        return None
    acc = 0
    for b in sorted(buckets):
        acc += buckets[b]
        if acc >= q * total:
            return b
    return math.inf


def fw_drops(delta):
    """{reason: frames} of a firmware run, non-zero reasons only, both NICs together.

    The stack's per-interface reasons and its global ones are summed under the reason's
    name (a frame is counted once, on the interface where it was dropped)."""
    out = {}
    for key, reason in FW_DROPS:
        v = sum(delta.get(f"{n}.{key}", 0) for n in NICS)
        if v:
            out[reason] = out.get(reason, 0) + v
    for k, v in delta.items():
        m = STACK_DROP_RE.match(k)
        if m and v:
            out[m.group(2)] = out.get(m.group(2), 0) + v
    return out


def drops_total(drops):
    return sum(drops.values()) if drops else 0


def drops_text(drops):
    """"0", or the reasons by count: "tx_busy 12, sw_ring_full 3"."""
    if drops is None:
        return "n/a"
    if not drops_total(drops):
        return "0"
    return ", ".join(f"{k} {v:,}" for k, v in sorted(drops.items(), key=lambda kv: (-kv[1], kv[0]))
                     if v)


def merge_drops(items):
    """Sum of several {reason: frames}; None when none of them is known."""
    items = [d for d in items if d is not None]
    if not items:
        return None
    out = {}
    for d in items:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def fw_metrics(delta):
    """Per-frame figures of a firmware run from counter deltas (both NICs together)."""
    s = {name: sum(delta.get(f"{n}.{name}", 0) for n in NICS) for name in FW_MONOTONIC}
    rx = s["rx_packets"]
    irqs = s["interrupts"]
    m = dict(frames_in=rx, frames_out=s["tx_packets"], interrupts=irqs,
             rx_kicks=s["rx_kicks"], tx_kicks=s["tx_kicks"],
             rx_task_wakeups=s["rx_task_wakeups"], rx_queue_drops=s["rx_queue_drops"],
             tx_ring_full=s["tx_ring_full"], isr_budget_exhausted=s["isr_budget_exhausted"])
    m["irq_per_frame"] = irqs / rx if rx else None
    m["kicks_per_frame"] = (s["rx_kicks"] + s["tx_kicks"]) / rx if rx else None
    m["frames_per_wakeup"] = rx / s["rx_task_wakeups"] if s["rx_task_wakeups"] else None
    m["drops"] = fw_drops(delta)
    m["tx_waits"] = s["tx_waits"]
    m["forwarded"] = s["tx_packets"]
    m["fastpath_fwd"] = s["fastpath_fwd"]
    m["elapsed_ms"] = delta.get("os.uptime_ms")
    m["isr_cycles_total"] = s["isr_cycles_total"]
    m["rx_task_cycles"] = s["rx_task_cycles"]
    m["task_counters"] = any(f"{n}.rx_task_cycles" in delta for n in NICS)
    m["isr_cycles_mean"] = s["isr_cycles_total"] / irqs if irqs else None
    mins = [delta[f"{n}.isr_cycles_min"] for n in NICS
            if delta.get(f"{n}.interrupts", 0) and f"{n}.isr_cycles_min" in delta]
    maxs = [delta[f"{n}.isr_cycles_max"] for n in NICS if f"{n}.isr_cycles_max" in delta]
    m["isr_cycles_min"] = min(mins) if mins else None
    m["isr_cycles_max"] = max(maxs) if maxs else None
    hist = _hist_buckets(delta)
    m["isr_hist"] = None if hist is None else [[_bound_json(b), n] for b, n in
                                               sorted(hist.items())]
    m["isr_cycles_p99"] = _bound_json(hist_quantile(hist))
    # Longest interrupts-off section per path (issue 15): the ISR's and the RX task's,
    # maxima since the guest booted (cleared only by a driver halt), over both NICs; None
    # when the driver does not export them (results from before they existed).
    for key in IRQOFF_KEYS:
        vals = [delta[f"{n}.{key}"] for n in NICS if f"{n}.{key}" in delta]
        m[key] = max(vals) if vals else None
    return m


def _bound_json(b):
    return "inf" if b == math.inf else b


IRQOFF_KEYS = ("irqoff_isr_cycles_max", "irqoff_task_cycles_max")


def fw_aggregate(runs):
    """One set of firmware figures from several runs' metrics (counts summed, the
    extremes taken over all, the histogram merged before its p99)."""
    runs = [r for r in runs if r]
    if not runs:
        return None
    keys = ("frames_in", "frames_out", "interrupts", "rx_kicks", "tx_kicks",
            "rx_task_wakeups", "rx_queue_drops", "tx_ring_full", "isr_budget_exhausted",
            "isr_cycles_total", "rx_task_cycles", "tx_waits")
    a = {k: sum(r.get(k) or 0 for r in runs) for k in keys}
    a["drops"] = merge_drops([r.get("drops") for r in runs])
    rx, irqs = a["frames_in"], a["interrupts"]
    # Cycles spent per forwarded frame in each context: the ISR (both designs) and the
    # RX task (NAPI-style design, when the driver exports its profile counters).
    a["isr_cycles_per_frame"] = a["isr_cycles_total"] / rx if rx else None
    has_task = any(r.get("task_counters") for r in runs)
    # No task cycles at all (the old design): no task, not a free one.
    a["task_cycles_per_frame"] = (a["rx_task_cycles"] / rx if rx and has_task
                                  and a["rx_task_cycles"] else None)
    a["irq_per_frame"] = irqs / rx if rx else None
    a["kicks_per_frame"] = (a["rx_kicks"] + a["tx_kicks"]) / rx if rx else None
    a["frames_per_wakeup"] = rx / a["rx_task_wakeups"] if a["rx_task_wakeups"] else None
    a["isr_cycles_mean"] = a["isr_cycles_total"] / irqs if irqs else None
    mins = [r["isr_cycles_min"] for r in runs if r.get("isr_cycles_min") is not None]
    maxs = [r["isr_cycles_max"] for r in runs if r.get("isr_cycles_max") is not None]
    a["isr_cycles_min"] = min(mins) if mins else None
    a["isr_cycles_max"] = max(maxs) if maxs else None
    hist = None
    for r in runs:
        for b, n in r.get("isr_hist") or []:
            b = math.inf if b == "inf" else b
            hist = hist or {}
            hist[b] = hist.get(b, 0) + n
    a["isr_hist"] = hist is not None
    a["isr_cycles_p99"] = _bound_json(hist_quantile(hist))
    for key in IRQOFF_KEYS:
        vals = [r[key] for r in runs if r.get(key) is not None]
        a[key] = max(vals) if vals else None
    return a


def linux_aggregate(runs):
    runs = [r for r in runs if r]
    if not runs:
        return None
    rx = sum(r.get("frames_in") or 0 for r in runs)
    irqs = sum(r.get("interrupts") or 0 for r in runs)
    busy = [r.get("guest_busy_ticks") for r in runs]
    return dict(frames_in=rx, interrupts=irqs, irq_per_frame=irqs / rx if rx else None,
                rx_dropped=sum(r.get("rx_dropped") or 0 for r in runs),
                drops=merge_drops([r.get("drops") for r in runs]),
                guest_busy_pct=_busy_pct(runs) if all(b is not None for b in busy) else None)


def _busy_pct(runs):
    busy = sum(r["guest_busy_ticks"] for r in runs)
    total = sum(r.get("guest_total_ticks") or 0 for r in runs)
    return 100.0 * busy / total if total else None


# ---- Linux ------------------------------------------------------------------------------

def linux_irqs(text):
    """Sum of virtio-net queue interrupts (all CPUs) from /proc/interrupts output."""
    total = 0
    per = {}
    for line in text.splitlines():
        m = IRQ_LINE_RE.match(line)
        if not m or m.group(3) == "config":
            continue
        n = sum(int(x) for x in m.group(1).split())
        key = f"{m.group(2)}-{m.group(3)}"
        per[key] = per.get(key, 0) + n
        total += n
    return total, per


# Linux counters that count frames lost: (stats key without the interface, reason).
LINUX_IF_DROPS = (("rx_dropped", "rx_dropped"), ("tx_dropped", "tx_dropped"),
                  ("rx_missed_errors", "rx_missed"), ("rx_fifo_errors", "rx_fifo"),
                  ("rx_over_errors", "rx_over"), ("rx_crc_errors", "rx_crc"),
                  ("rx_length_errors", "rx_length"), ("rx_frame_errors", "rx_frame"),
                  ("tx_fifo_errors", "tx_fifo"), ("tx_aborted_errors", "tx_aborted"),
                  ("tx_carrier_errors", "tx_carrier"))
LINUX_IP_DROPS = (("ip.in_discards", "ip_in_discards"), ("ip.out_discards", "ip_out_discards"),
                  ("ip.out_no_routes", "ip_no_route"), ("ip.in_hdr_errors", "ip_hdr_errors"),
                  ("ip.in_addr_errors", "ip_addr_errors"),
                  ("softnet.dropped", "softnet_backlog"))
LINUX_IFS = ("eth0", "eth1")
CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def linux_snapshot(kv, irq_text):
    snap = {}
    keys = ["eth0.rx_packets", "eth1.rx_packets", "eth0.tx_packets", "eth1.tx_packets",
            "ip.forw_datagrams"]
    keys += [f"{i}.{k}" for i in LINUX_IFS for k, _ in LINUX_IF_DROPS]
    keys += [k for k, _ in LINUX_IP_DROPS]
    keys += [f"qdisc.{i}.dropped" for i in LINUX_IFS]
    keys += [f"cpu.{f}" for f in CPU_FIELDS]
    for k in keys:
        n = _int(kv.get(k))
        if n is not None:
            snap[k] = n
    total, per = linux_irqs(irq_text)
    snap["irq.virtio_total"] = total
    for k, v in per.items():
        snap["irq." + k] = v
    return snap


def linux_delta(before, after):
    return {k: v - before.get(k, 0) for k, v in after.items()}


def linux_drops(delta):
    """{reason: frames} of a Linux router run, non-zero reasons only (both interfaces)."""
    out = {}
    for k, reason in LINUX_IF_DROPS:
        v = sum(delta.get(f"{i}.{k}", 0) for i in LINUX_IFS)
        if v:
            out[reason] = v
    for k, reason in LINUX_IP_DROPS:
        if delta.get(k):
            out[reason] = delta[k]
    v = sum(delta.get(f"qdisc.{i}.dropped", 0) for i in LINUX_IFS)
    if v:
        out["qdisc"] = v
    return out


def linux_metrics(delta):
    rx = delta.get("eth0.rx_packets", 0) + delta.get("eth1.rx_packets", 0)
    irqs = delta.get("irq.virtio_total", 0)
    m = dict(frames_in=rx, interrupts=irqs, irq_per_frame=irqs / rx if rx else None,
             forwarded=delta.get("ip.forw_datagrams"),
             rx_dropped=delta.get("eth0.rx_dropped", 0) + delta.get("eth1.rx_dropped", 0),
             drops=linux_drops(delta))
    # Guest CPU time (USER_HZ ticks of /proc/stat): busy = all but idle and iowait.
    if all(f"cpu.{f}" in delta for f in ("user", "system", "idle")):
        total = sum(delta.get(f"cpu.{f}", 0) for f in CPU_FIELDS)
        m["guest_total_ticks"] = total
        m["guest_busy_ticks"] = total - delta.get("cpu.idle", 0) - delta.get("cpu.iowait", 0)
    return m
