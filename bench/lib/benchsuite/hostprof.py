"""Where the host's cores go during a run, and what the device saw (issue 14, item 4).

HostCpu samples /proc (what `pidstat -t` reads) while a workload runs: CPU time of every
thread, classified as QEMU's vCPU thread ("CPU 0/TCG"), QEMU's main loop (the thread named
after the binary: with tap backends and no iothread it moves every frame between the taps
and the virtqueues: the I/O thread), QEMU's other threads, the iperf3 client and server,
the host kernel's own threads (ksoftirqd, kworker) and everything else; plus the machine
totals from /proc/stat (user, system, softirq, idle). The hardware has no counters for
perf here (`perf stat` reports cycles and instructions as unsupported in this VM), so
the figures are times, not instructions.

QemuTrace counts QEMU trace events from a `-trace events=FILE -D LOG` log: kicks
(virtio_queue_notify: a guest notify write), interrupts (virtio_notify: the device raised
one after suppression), MSI messages the device wrote (memory_region_ops_write by cpu -1 to
'apic-msi') and the guest's own MMIO/PIO accesses by region (each one leaves translated
code for a device model under QEMU's global lock: under TCG the counterpart of a VM exit).
The console ('serial') is left out: it carries the counter reads, not the data path.
"""

import os
import re
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
CATEGORIES = ("qemu_vcpu", "qemu_io", "qemu_other", "iperf3_client", "iperf3_server",
              "host_kthreads", "other")
TRACE_EVENTS = ("virtio_queue_notify", "virtio_notify", "memory_region_ops_read",
                "memory_region_ops_write")


def read_proc_stat(path="/proc/stat"):
    """Machine-wide CPU time, seconds summed over cores, from the `cpu ` line."""
    with open(path, encoding="ascii") as f:
        for line in f:
            if line.startswith("cpu "):
                vals = [int(x) for x in line.split()[1:]]
                return {k: (vals[i] if i < len(vals) else 0) / CLK_TCK
                        for i, k in enumerate(STAT_FIELDS)}
    return {}


def parse_task_stat(text):
    """(comm, utime s, stime s) from a /proc/PID/task/TID/stat line."""
    lp, rp = text.index("("), text.rindex(")")
    comm = text[lp + 1:rp]
    rest = text[rp + 2:].split()
    # rest[0] is field 3 (state): utime and stime are fields 14 and 15.
    return comm, int(rest[11]) / CLK_TCK, int(rest[12]) / CLK_TCK


def classify(comm, tgid, cmdline, qemu_pid):
    """Category of one thread (see CATEGORIES)."""
    if qemu_pid and tgid == qemu_pid:
        if re.match(r"CPU \d+/", comm):
            return "qemu_vcpu"
        if comm.startswith("qemu-system"):
            return "qemu_io"
        return "qemu_other"
    if comm == "iperf3":
        args = cmdline.split("\0")
        if "-s" in args:
            return "iperf3_server"
        if "-c" in args:
            return "iperf3_client"
        return "other"
    if comm.startswith(("ksoftirqd/", "kworker/", "kthreadd", "rcu_")):
        return "host_kthreads"
    return "other"


def snapshot(qemu_pid, proc="/proc"):
    """{tid: (category, utime, stime)} of every thread on the machine now."""
    out = {}
    for pid in os.listdir(proc):
        if not pid.isdigit():
            continue
        try:
            with open(f"{proc}/{pid}/cmdline", "rb") as f:
                cmd = f.read().decode(errors="replace")
            tids = os.listdir(f"{proc}/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"{proc}/{pid}/task/{tid}/stat", encoding="utf-8",
                          errors="replace") as f:
                    comm, ut, st = parse_task_stat(f.read())
            except (OSError, ValueError, IndexError):
                continue
            out[int(tid)] = (classify(comm, int(pid), cmd, qemu_pid), ut, st)
    return out


def accumulate(samples):
    """{category: [user s, system s]} over a list of snapshots.

    A thread seen in the first snapshot counts from there; one born later counts its
    whole life (it began inside the window: the iperf3 ends); one that died counts up to
    its last sample.
    """
    first, last = {}, {}
    for i, snap in enumerate(samples):
        for tid, v in snap.items():
            if tid not in first:
                first[tid] = v if i == 0 else (v[0], 0.0, 0.0)
            last[tid] = v
    acc = {c: [0.0, 0.0] for c in CATEGORIES}
    for tid, (cat, ut, st) in last.items():
        f = first[tid]
        if f[0] != cat:  # a reused thread id: count the new one from zero
            f = (cat, 0.0, 0.0)
        acc[cat][0] += max(0.0, ut - f[1])
        acc[cat][1] += max(0.0, st - f[2])
    return acc


class HostCpu:
    """Samples /proc every `interval` seconds in a thread between start() and stop()."""

    def __init__(self, qemu_pid=None, interval=0.5):
        self.qemu_pid = qemu_pid
        self.interval = interval
        self._samples = []
        self._stop = threading.Event()
        self._thread = None
        self._t0 = self._stat0 = None

    def start(self):
        self._t0 = time.monotonic()
        self._stat0 = read_proc_stat()
        self._samples = [snapshot(self.qemu_pid)]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            self._samples.append(snapshot(self.qemu_pid))

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self._samples.append(snapshot(self.qemu_pid))
        stat1 = read_proc_stat()
        wall = time.monotonic() - self._t0
        acc = accumulate(self._samples)
        return dict(wall_s=round(wall, 3), cores=os.cpu_count(),
                    threads={c: dict(user_s=round(u, 3), sys_s=round(s, 3))
                             for c, (u, s) in acc.items()},
                    machine={k: round(stat1.get(k, 0) - self._stat0.get(k, 0), 3)
                             for k in STAT_FIELDS})


def per_frame(prof, frames):
    """µs of CPU per forwarded frame by category, and each category's share of the
    machine's capacity (cores x wall) in %. softirq: /proc/stat's, charged to no thread
    (packet delivery through taps and namespaces); idle likewise."""
    if not prof or not frames:
        return None
    cap = prof["wall_s"] * (prof.get("cores") or 1)
    out = {}
    for c, v in prof["threads"].items():
        t = v["user_s"] + v["sys_s"]
        out[c] = dict(us_per_frame=1e6 * t / frames, share_pct=100.0 * t / cap if cap else None,
                      sys_pct_of_it=100.0 * v["sys_s"] / t if t else None)
    m = prof["machine"]
    for k, keys in (("softirq_irq", ("softirq", "irq")), ("idle", ("idle", "iowait"))):
        t = sum(m.get(x, 0) for x in keys)
        out[k] = dict(us_per_frame=1e6 * t / frames, share_pct=100.0 * t / cap if cap else None,
                      sys_pct_of_it=None)
    return out


# ---- QEMU trace events -------------------------------------------------------------------

LINE_RE = re.compile(r"^(?:\d+@[\d.]+:)?(\w+) (.*)$")


def trace_args(events_file, log_file):
    """QEMU arguments that log TRACE_EVENTS to log_file."""
    with open(events_file, "w", encoding="ascii") as f:
        f.write("\n".join(TRACE_EVENTS) + "\n")
    return ["-trace", f"events={events_file}", "-D", log_file]


def count_trace(text):
    """Counts of one stretch of the trace log: kicks, interrupts, MSI writes and the
    guest's MMIO/PIO accesses by region name (console excluded)."""
    c = dict(kicks=0, interrupts=0, msi_writes=0, guest_io=0)
    regions = {}
    for line in text.splitlines():
        m = LINE_RE.match(line)
        if not m:
            continue
        ev, rest = m.group(1), m.group(2)
        if ev == "virtio_queue_notify":
            c["kicks"] += 1
        elif ev == "virtio_notify":
            c["interrupts"] += 1
        elif ev.startswith("memory_region_ops_"):
            cpu = re.match(r"cpu (-?\d+)", rest)
            name = re.search(r"name '([^']*)'", rest)
            name = name.group(1) if name else "?"
            if cpu and cpu.group(1) == "-1":
                if name == "apic-msi" and ev.endswith("write"):
                    c["msi_writes"] += 1
                continue
            if name == "serial":
                continue
            c["guest_io"] += 1
            regions[name] = regions.get(name, 0) + 1
    c["guest_io_by_region"] = regions
    return c


class QemuTrace:
    """Reads a growing trace log; mark() returns the counts since the previous mark."""

    def __init__(self, log_file):
        self.path = log_file
        self.off = 0

    def mark(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except OSError:
            return None
        # Only whole lines: the rest is read at the next mark.
        end = data.rfind(b"\n") + 1
        self.off += end
        return count_trace(data[:end].decode(errors="replace"))
