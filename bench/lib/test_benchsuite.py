"""Self-test of the suite's arithmetic (no root, no VM): counter deltas, per-frame
figures, the histogram p99, the sweep's knee, the honesty columns (retransmits, drops by
reason, the best Linux variant picked per workload, the limit row), the host profile's
accounting, ab.sh's summary, and that a report renders.

    python3 -m unittest discover -s bench/lib -p 'test_*.py'
"""

import math
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "..", "scripts", "lib"), HERE]

from benchsuite import counters, hostprof, report, workloads  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "perf"))
import ab_summary  # noqa: E402
import abrow  # noqa: E402


def fw_kv(rx, irqs, kicks, wakeups, total, mn, mx, drops=0, hist=None, irqoff=None):
    kv = {}
    for nic, share in (("lan", 0.75), ("wan", 0.25)):
        kv.update({f"{nic}.rx_packets": str(int(rx * share)),
                   f"{nic}.interrupts": str(int(irqs * share)),
                   f"{nic}.rx_kicks": str(int(kicks * share)), f"{nic}.tx_kicks": "0",
                   f"{nic}.rx_task_wakeups": str(int(wakeups * share)),
                   f"{nic}.rx_queue_drops": str(int(drops * share)),
                   f"{nic}.isr_cycles_total": str(int(total * share)),
                   f"{nic}.isr_cycles_min": str(mn), f"{nic}.isr_cycles_max": str(mx),
                   f"{nic}.isr_cycles_avg": "1", f"{nic}.mtu": "1500"})
    for k, v in (hist or {}).items():
        kv[f"lan.isr_hist_{k}"] = str(v)
    for nic, (isr, task) in (irqoff or {}).items():
        kv[f"{nic}.irqoff_isr_cycles_max"] = str(isr)
        kv[f"{nic}.irqoff_task_cycles_max"] = str(task)
    kv["heap.used_bytes"] = "5"
    return kv


class Counters(unittest.TestCase):
    def test_firmware_deltas_and_ratios(self):
        b = counters.fw_snapshot(fw_kv(1000, 100, 40, 20, 100000, 500, 9000))
        a = counters.fw_snapshot(fw_kv(5000, 300, 80, 60, 700000, 400, 12000, drops=8))
        self.assertNotIn("heap.used_bytes", a)
        m = counters.fw_metrics(counters.fw_delta(b, a))
        self.assertEqual(m["frames_in"], 4000)
        self.assertEqual(m["interrupts"], 200)
        self.assertAlmostEqual(m["irq_per_frame"], 0.05)
        self.assertAlmostEqual(m["kicks_per_frame"], 40 / 4000)
        self.assertAlmostEqual(m["frames_per_wakeup"], 100)
        self.assertAlmostEqual(m["isr_cycles_mean"], 3000)
        self.assertEqual(m["isr_cycles_min"], 400)   # lifetime values, not deltas
        self.assertEqual(m["isr_cycles_max"], 12000)
        self.assertEqual(m["rx_queue_drops"], 8)
        self.assertIsNone(m["isr_cycles_p99"])       # no histogram keys
        self.assertIsNone(m["isr_hist"])

    def test_irqoff_maxima(self):
        irqoff = {"lan": (700, 90), "wan": (1200, 40)}
        b = counters.fw_snapshot(fw_kv(0, 0, 0, 0, 0, 0, 0, irqoff=irqoff))
        a = counters.fw_snapshot(fw_kv(10, 1, 0, 0, 0, 0, 0, irqoff=irqoff))
        m = counters.fw_metrics(counters.fw_delta(b, a))
        self.assertEqual(m["irqoff_isr_cycles_max"], 1200)   # max over NICs, not a delta
        self.assertEqual(m["irqoff_task_cycles_max"], 90)
        old = counters.fw_metrics(counters.fw_delta(counters.fw_snapshot(fw_kv(
            0, 0, 0, 0, 0, 0, 0)), counters.fw_snapshot(fw_kv(10, 1, 0, 0, 0, 0, 0))))
        self.assertIsNone(old["irqoff_isr_cycles_max"])      # not exported: unknown
        agg = counters.fw_aggregate([m, dict(m, irqoff_isr_cycles_max=5000), old])
        self.assertEqual(agg["irqoff_isr_cycles_max"], 5000)
        self.assertEqual(agg["irqoff_task_cycles_max"], 90)

    def test_old_design_has_no_wakeups(self):
        b = counters.fw_snapshot(fw_kv(0, 0, 0, 0, 0, 0, 0))
        a = counters.fw_snapshot(fw_kv(4000, 400, 10, 0, 4000000, 900, 90000))
        m = counters.fw_metrics(counters.fw_delta(b, a))
        self.assertIsNone(m["frames_per_wakeup"])

    def test_histogram_p99_from_deltas(self):
        b = counters.fw_snapshot(fw_kv(0, 0, 0, 0, 0, 0, 0,
                                       hist={"le_1024": 1000, "le_4096": 0, "inf": 0}))
        a = counters.fw_snapshot(fw_kv(10, 1, 0, 0, 0, 0, 0,
                                       hist={"le_1024": 1980, "le_4096": 15, "inf": 5}))
        m = counters.fw_metrics(counters.fw_delta(b, a))
        # 980 + 15 + 5 = 1000 in the run: 99 % is reached in the 4096 bucket.
        self.assertEqual(m["isr_cycles_p99"], 4096)
        agg = counters.fw_aggregate([m, m])
        self.assertEqual(agg["isr_cycles_p99"], 4096)
        self.assertTrue(agg["isr_hist"])

    def test_driver_log2_histogram(self):
        # The driver's shape: isr_hist_<i> counts [2^i, 2^(i+1)); the last one is open.
        h0 = {str(i): 0 for i in range(32)}
        h1 = dict(h0)
        h1["10"], h1["12"], h1["31"] = 985, 10, 5
        b = counters.fw_snapshot(fw_kv(0, 0, 0, 0, 0, 0, 0, hist=h0))
        a = counters.fw_snapshot(fw_kv(10, 1, 0, 0, 0, 0, 0, hist=h1))
        m = counters.fw_metrics(counters.fw_delta(b, a))
        self.assertEqual(m["isr_cycles_p99"], 2 ** 13)
        h1["31"] = 50
        a = counters.fw_snapshot(fw_kv(10, 1, 0, 0, 0, 0, 0, hist=h1))
        m = counters.fw_metrics(counters.fw_delta(b, a))
        self.assertEqual(m["isr_cycles_p99"], "inf")
        self.assertEqual(counters.hist_bound("7"), 256)

    def test_histogram_open_top_bucket(self):
        self.assertEqual(counters.hist_quantile({1024: 10, math.inf: 90}), math.inf)
        self.assertEqual(counters.hist_bound("ge_65536"), math.inf)
        self.assertEqual(counters.hist_bound("log2_12"), 4096)
        self.assertIsNone(counters.hist_bound("bogus"))

    def test_linux_interrupts(self):
        irq0 = " 25:  100  PCI-MSIX-0000:00:01.0  1-edge  virtio0-input.0\n" \
               " 24:    9  PCI-MSIX-0000:00:01.0  0-edge  virtio0-config\n"
        irq1 = " 25:  300  PCI-MSIX-0000:00:01.0  1-edge  virtio0-input.0\n" \
               " 24:   50  PCI-MSIX-0000:00:01.0  0-edge  virtio0-config\n"
        b = counters.linux_snapshot({"eth0.rx_packets": "10", "eth1.rx_packets": "0"}, irq0)
        a = counters.linux_snapshot({"eth0.rx_packets": "2010", "eth1.rx_packets": "0"}, irq1)
        m = counters.linux_metrics(counters.linux_delta(b, a))
        self.assertEqual(m["interrupts"], 200)   # config vector not counted
        self.assertAlmostEqual(m["irq_per_frame"], 0.1)


class Drops(unittest.TestCase):
    def test_firmware_drops_by_reason(self):
        b = fw_kv(0, 0, 0, 0, 0, 0, 0)
        a = fw_kv(1000, 10, 0, 0, 0, 0, 0, drops=8)
        b.update({"stack.lan.drop.tx_busy": "5", "stack.wan.drop.tx_busy": "1",
                  "stack.drop.no_route": "0", "lan.fastpath_drop": "0"})
        a.update({"stack.lan.drop.tx_busy": "9", "stack.wan.drop.tx_busy": "4",
                  "stack.drop.no_route": "2", "lan.fastpath_drop": "3",
                  "stack.lan.drop.ttl_exceeded": "0"})
        m = counters.fw_metrics(counters.fw_delta(counters.fw_snapshot(b),
                                                  counters.fw_snapshot(a)))
        # 8 ring drops split 6 + 2 over the NICs by fw_kv; tx_busy 4 + 3; zero reasons left out.
        self.assertEqual(m["drops"], {"sw_ring_full": 8, "tx_busy": 7, "no_route": 2,
                                      "fastpath_tx_fail": 3})
        self.assertEqual(counters.drops_total(m["drops"]), 20)
        self.assertEqual(counters.drops_text(m["drops"]),
                         "sw_ring_full 8, tx_busy 7, fastpath_tx_fail 3, no_route 2")
        self.assertEqual(counters.drops_text({}), "0")
        self.assertEqual(counters.drops_text(None), "n/a")
        agg = counters.fw_aggregate([m, m])
        self.assertEqual(agg["drops"]["tx_busy"], 14)

    def test_linux_drops_and_cpu(self):
        def kv(rxd, qd, disc, soft, idle, busy):
            return {"eth0.rx_packets": "0", "eth1.rx_dropped": str(rxd),
                    "qdisc.eth1.dropped": str(qd), "ip.out_discards": str(disc),
                    "softnet.dropped": str(soft), "cpu.user": "0", "cpu.system": str(busy),
                    "cpu.idle": str(idle), "cpu.softirq": "0"}
        b = counters.linux_snapshot(kv(1, 2, 0, 0, 100, 50), "")
        a = counters.linux_snapshot(kv(4, 12, 1, 5, 130, 120), "")
        m = counters.linux_metrics(counters.linux_delta(b, a))
        self.assertEqual(m["drops"], {"rx_dropped": 3, "qdisc": 10, "ip_out_discards": 1,
                                      "softnet_backlog": 5})
        self.assertEqual((m["guest_busy_ticks"], m["guest_total_ticks"]), (70, 100))
        agg = counters.linux_aggregate([m])
        self.assertAlmostEqual(agg["guest_busy_pct"], 70.0)
        self.assertEqual(agg["drops"]["qdisc"], 10)

    def test_honesty_summaries(self):
        runs = [dict(retransmits=10, metrics=dict(drops={"tx_busy": 4})),
                dict(retransmits=0, metrics=dict(drops={})),
                dict(retransmits=3, metrics=None)]
        h = workloads.honesty(runs)
        self.assertEqual((h["retransmits"]["median"], h["retransmits"]["max"]), (3, 10))
        self.assertEqual(h["drops"]["n"], 2)     # the run without counters is unknown
        self.assertEqual(h["drops"]["median"], 2)
        self.assertEqual(h["drop_reasons"], {"tx_busy": 4})

    def test_merge_rounds(self):
        def ent(bps, rtx):
            runs = [dict(rep=0, error=None, bps=bps, retransmits=rtx, metrics=None)]
            return dict(runs=runs, bps=workloads.summary([bps]), boot_s=2.0)
        m = workloads.merge_rounds("tcp4", [ent(100, 1), dict(error="no boot"), ent(300, 5)])
        self.assertEqual(m["bps"]["median"], 200)
        self.assertEqual(m["bps"]["n"], 2)
        self.assertEqual(m["retransmits"]["max"], 5)
        self.assertEqual([r.get("round") for r in m["runs"]], [0, 2, None])
        self.assertEqual(report.count_failures(m), 1)   # the lost round is counted
        self.assertEqual(m["round_errors"], ["no boot"])


class HostProfile(unittest.TestCase):
    def test_task_stat_and_classify(self):
        line = "123 (CPU 0/TCG) R 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0"
        comm, ut, st = hostprof.parse_task_stat(line)
        self.assertEqual(comm, "CPU 0/TCG")
        self.assertAlmostEqual(ut, 250 / hostprof.CLK_TCK)
        self.assertAlmostEqual(st, 50 / hostprof.CLK_TCK)
        self.assertEqual(hostprof.classify("CPU 0/TCG", 9, "", 9), "qemu_vcpu")
        self.assertEqual(hostprof.classify("qemu-system-x86", 9, "", 9), "qemu_io")
        self.assertEqual(hostprof.classify("worker", 9, "", 9), "qemu_other")
        self.assertEqual(hostprof.classify("iperf3", 5, "iperf3\x00-s\x00-1\x00", 9),
                         "iperf3_server")
        self.assertEqual(hostprof.classify("iperf3", 6, "iperf3\x00-c\x00198.19.0.2\x00", 9),
                         "iperf3_client")
        self.assertEqual(hostprof.classify("ksoftirqd/1", 7, "", 9), "host_kthreads")

    def test_accumulate_and_per_frame(self):
        s0 = {1: ("qemu_vcpu", 10.0, 1.0)}
        s1 = {1: ("qemu_vcpu", 14.0, 2.0), 2: ("iperf3_client", 1.0, 2.0)}
        s2 = {1: ("qemu_vcpu", 16.0, 2.0)}          # the client exited: last sample counts
        acc = hostprof.accumulate([s0, s1, s2])
        self.assertEqual(acc["qemu_vcpu"], [6.0, 1.0])
        self.assertEqual(acc["iperf3_client"], [1.0, 2.0])   # born in the window: whole life
        prof = dict(wall_s=10.0, cores=2, threads={c: dict(user_s=u, sys_s=s)
                                                   for c, (u, s) in acc.items()},
                    machine=dict(softirq=1.0, irq=0.0, idle=2.0, iowait=0.0))
        pf = hostprof.per_frame(prof, 1000000)
        self.assertAlmostEqual(pf["qemu_vcpu"]["us_per_frame"], 7.0)
        self.assertAlmostEqual(pf["qemu_vcpu"]["share_pct"], 35.0)
        self.assertAlmostEqual(pf["idle"]["share_pct"], 10.0)
        self.assertIsNone(hostprof.per_frame(prof, 0))

    def test_trace_counts(self):
        text = ("virtio_queue_notify vdev 0x1 n 1 vq 0x2\n"
                "123@1.5:virtio_notify vdev 0x1 vq 0x2\n"
                "memory_region_ops_write cpu -1 mr 0x3 addr 0xfee00000 value 0x0 size 4 "
                "name 'apic-msi'\n"
                "memory_region_ops_write cpu 0 mr 0x3 addr 0xfee000b0 value 0x0 size 4 "
                "name 'apic-msi'\n"
                "memory_region_ops_read cpu 0 mr 0x4 addr 0x3fd value 0x60 size 1 "
                "name 'serial'\n")
        c = hostprof.count_trace(text)
        self.assertEqual((c["kicks"], c["interrupts"], c["msi_writes"], c["guest_io"]),
                         (1, 1, 1, 1))
        self.assertEqual(c["guest_io_by_region"], {"apic-msi": 1})
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t.log")
            with open(p, "w", encoding="ascii") as f:
                f.write(text + "virtio_queue_notify vdev")   # a half-written last line
            t = hostprof.QemuTrace(p)
            self.assertEqual(t.mark()["kicks"], 1)
            with open(p, "a", encoding="ascii") as f:
                f.write(" 0x1 n 0 vq 0x5\n")
            self.assertEqual(t.mark()["kicks"], 1)          # counted once, when whole


class Contenders(unittest.TestCase):
    def test_linux_rx_queue_variants_are_best_candidates(self):
        from benchsuite import contenders
        cs = {c.id: c for c in contenders.default_contenders("/x/apps/router/router.elf",
                                                             "/y/router.elf")}
        self.assertEqual(cs["linux-pc-q1024"].rx_queue_size, 1024)
        self.assertEqual(cs["linux-pc-q1024"].machine, "pc")
        self.assertIsNone(cs["linux-pc"].rx_queue_size)
        self.assertIsNone(cs["fw"].rx_queue_size)       # the firmware keeps QEMU's 256
        doc = dict(meta={}, contenders=[c.describe() for c in cs.values()], results={})
        lx = report.linux_variants(doc)
        self.assertIn("linux-q1024", lx)
        self.assertIn("linux-pc-q1024", lx)
        self.assertNotIn("linux-offl", lx)

    def test_one_copy_row_beside_the_limit_row(self):
        from benchsuite import contenders
        cs = {c.id: c for c in contenders.default_contenders("/x/apps/router/router.elf",
                                                             "/y/router.elf")}
        self.assertEqual(os.path.normpath(cs["zccopy"].image),
                         "/x/bench/zcfwd/router-zcfwd-copy.elf")
        self.assertEqual(cs["zcfwd"].role, "limit")
        self.assertNotEqual(cs["zccopy"].role, "limit")  # ratios divide by zcfwd only


class AbSummary(unittest.TestCase):
    def test_best_linux_and_limit(self):
        rows = [dict(name=n, round=str(r), kind=k, rate=v, rtx=x, drops=d, reasons=z)
                for n, k, vals in (("fw", "fw", (700e6, 720e6, 650e6)),
                                   ("minfwd", "fw", (800e6, 790e6, 810e6)),
                                   ("lx-a", "linux", (400e6, 420e6, 380e6)),
                                   ("lx-b", "linux", (450e6, 300e6, 460e6)))
                for r, v in enumerate(vals) for x, d, z in [(5, 1, "tx_busy 1")]]
        out, best, limit = ab_summary.summarise(rows)
        self.assertEqual(best, "lx-b")            # highest median (450) beats 400
        self.assertEqual(limit, "minfwd")
        self.assertEqual(out["fw"]["rate"], 700e6)
        self.assertEqual(out["fw"]["reasons"], ["tx_busy 1"])
        self.assertIsNone(out["fw"]["taps"])      # rows from before the tap column

    def test_tap_drops_column(self):
        tsv = os.path.join(tempfile.mkdtemp(), "rows.tsv")
        with open(tsv, "w", encoding="utf-8") as f:
            for r, taps in enumerate(("0", "44", "3")):
                f.write("\t".join(["fw", str(r), "fw", "7e8", "0", "0", "0", taps, "9"]) + "\n")
            f.write("\t".join(["old", "1", "fw", "7e8", "0", "0", "0"]) + "\n")
        out, _best, _limit = ab_summary.summarise(ab_summary.read(tsv))
        self.assertEqual(out["fw"]["taps"], 3)    # median of 0, 44, 3
        self.assertEqual(out["fw"]["taps_all"], [0, 44, 3])
        self.assertIsNone(out["old"]["taps"])

    def test_tap_total(self):
        self.assertEqual(abrow.tap_total("lan=5,wan=7"), 12)
        self.assertIsNone(abrow.tap_total("lan=5,wan="))   # a side unread: unknown, not 5
        self.assertIsNone(abrow.tap_total(""))


class Sweep(unittest.TestCase):
    def test_knee_is_lowest_rate_near_best(self):
        pts = [dict(offered_pps=10e3, fwd_pps=10e3), dict(offered_pps=20e3, fwd_pps=19e3),
               dict(offered_pps=40e3, fwd_pps=30e3), dict(offered_pps=80e3, fwd_pps=29.5e3),
               dict(offered_pps=160e3, fwd_pps=20e3), dict(offered_pps=5e3, error="x")]
        self.assertEqual(workloads._knee(pts)["offered_pps"], 40e3)
        self.assertIsNone(workloads._knee([dict(offered_pps=1, error="x")]))

    def fake_sweep(self, curve, sender_cap=1e9):
        calls = []

        def once(_t, _length, _seconds, pps):
            calls.append(pps)
            return dict(offered_pps=pps, sent_pps=min(pps, sender_cap), fwd_pps=curve(pps))
        orig = workloads._udp_once
        workloads._udp_once = once
        try:
            pts, knee = workloads.udp_sweep(None, 64, 1, 10e3, 7)
        finally:
            workloads._udp_once = orig
        return pts, knee, calls

    def test_sweep_passes_a_plateau(self):
        # Plateau at 40-80 k, then more forwarded at 160 k (a batching receiver).
        def curve(pps):
            return {10e3: 10e3, 20e3: 20e3, 40e3: 30e3, 80e3: 30e3}.get(pps, min(pps, 60e3))
        pts, knee, calls = self.fake_sweep(curve)
        self.assertIn(160e3, calls)
        self.assertGreaterEqual(knee["fwd_pps"], 0.97 * 60e3)

    def test_sweep_stops_on_collapse_and_generator_limit(self):
        _, _, calls = self.fake_sweep(lambda pps: pps if pps <= 40e3 else 10e3)
        self.assertNotIn(160e3, calls)        # 80 k collapsed: no further doubling
        _, _, calls = self.fake_sweep(lambda pps: pps, sender_cap=50e3)
        self.assertNotIn(160e3, calls)        # 80 k offered, 50 k sent: generator limit

    def test_summary(self):
        s = workloads.summary([3, None, 1, 2])
        self.assertEqual((s["median"], s["min"], s["max"], s["n"]), (2, 1, 3, 3))
        self.assertIsNone(workloads.summary([None]))


class Report(unittest.TestCase):
    def doc(self):
        def tcp(v):
            return dict(bps=dict(median=v, min=v * 0.9, max=v * 1.1, n=3), runs=[
                dict(rep=0, error=None, metrics=None)],
                rtt_avg_ms=dict(median=2.0, min=1.0, max=3.0, n=3))
        cs = [dict(id="fw", label="fw", kind="fw"), dict(id="isr", label="isr", kind="fw"),
              dict(id="linux", label="linux", kind="linux"),
              dict(id="veth", label="veth", kind="veth")]
        res = {"fw": {"tcp1": tcp(300e6)}, "isr": {"tcp1": tcp(150e6)},
               "linux": {"tcp1": tcp(600e6)}, "veth": {"tcp1": dict(error="boom")}}
        meta = dict(started="2026-11-24T09:00:00+00:00", quick=False, workloads=["tcp1"],
                    params=dict(reps=3), git=dict(commit="abc", dirty=False), note="",
                    machine=dict(cpu="cpu", cores=2, mem_gib=1, os="os", kernel="k",
                                 tsc_mhz=2600.0, qemu=["QEMU 7.2"], iperf3=["iperf 3.12"]),
                    load_before=[0.1, 0, 0], load_after=[0.2, 0, 0], wall_s=60, failures=1)
        return dict(meta=meta, contenders=cs, results=res)

    def test_tables_and_ratios(self):
        d = self.doc()
        md = report.markdown(d, "x.png")
        self.assertIn("| TCP LAN→WAN, 1 stream | Mbit/s | 300 (270–330) | 150 (135–165) | "
                      "600 (540–660) | failed |", md)
        self.assertIn("×0.500 / ×2.00", md)   # fw vs Linux / vs old design
        self.assertIn("p99 is n/a", md)
        self.assertIn("| longest irq-off, ISR | longest irq-off, task |", md)
        self.assertEqual(report.count_failures(d["results"]["veth"]["tcp1"]), 1)
        sec = report.readme_section(d)
        self.assertTrue(sec.startswith("## Results"))
        self.assertIn("TCG", sec)

    def honest_doc(self):
        def tcp(v, rtx, drops):
            runs = [dict(rep=i, error=None, bps=v, retransmits=rtx,
                         metrics=dict(drops=drops, forwarded=1000),
                         host_cpu=dict(wall_s=10.0, cores=2,
                                       threads={"qemu_vcpu": dict(user_s=8.0, sys_s=0.0)},
                                       machine=dict(softirq=1.0, idle=0.5)))
                    for i in range(3)]
            return workloads.tcp_summary(runs, False)
        cs = [dict(id="fw", label="fw", kind="fw"),
              dict(id="minfwd", label="minfwd", kind="fw", role="limit"),
              dict(id="linux", label="lx q35", kind="linux", offloads=False),
              dict(id="linux-nogro-pc", label="lx pc nogro", kind="linux", offloads=False),
              dict(id="linux-offl", label="lx offl", kind="linux", offloads=True)]
        res = {"fw": {"tcp1": tcp(600e6, 40, {"tx_busy": 2})},
               "minfwd": {"tcp1": tcp(800e6, 0, {})},
               "linux": {"tcp1": tcp(300e6, 0, {})},
               "linux-nogro-pc": {"tcp1": tcp(400e6, 0, {"qdisc": 3})},
               "linux-offl": {"tcp1": tcp(5000e6, 0, {})}}
        d = self.doc()
        d["meta"]["interleaved"], d["meta"]["rounds"] = True, 3
        return dict(meta=d["meta"], contenders=cs, results=res)

    def test_honesty_columns_and_best_linux(self):
        d = self.honest_doc()
        md = report.markdown(d, "x.png")
        # The best offloads-off variant is picked per workload and named; the offloads-on
        # Linux (5 Gbit/s) is not a candidate.
        self.assertIn("| best Linux, offloads off (variant) |", md)
        self.assertIn("| 400 (400–400) (linux-nogro-pc) |", md)
        self.assertIn("| ↳ iperf3 retransmits per run | segments | 40 | 0 | 0 | 0 | 0 | 0 |",
                      md)
        self.assertIn("| ↳ router drops per run: reasons summed | frames | 2: tx_busy 6 | 0 |"
                      " 0 | 3: qdisc 9 | 0 | 3: qdisc 9 |", md)
        # Ratios to the best Linux, to the limit row and (absent here) not to the old design.
        self.assertIn("×1.50 / ×0.750", md)
        self.assertIn("firmware ÷ best Linux offloads-off (linux-nogro-pc) | 1.50× | ≥ 2.5× | "
                      "not met", md)
        self.assertIn("firmware ÷ limit row (minfwd) | 0.75× | ≥ 0.95× | not met", md)
        self.assertIn("retransmits per run, firmware vs linux-nogro-pc | 40 vs 0 | ≤ Linux's | "
                      "not met", md)
        self.assertIn("firmware `tx_busy` drops (all runs) | 6 | 0 | not met", md)
        self.assertIn("Interleaved: 3 rounds", md)
        # Host share per forwarded frame: 8 s of vCPU over 1000 frames, 40 % of 2 x 10 s.
        self.assertIn("8,000 µs (40 %)", md)
        self.assertEqual(report.linux_best(d, "tcp1", "bps"), ("linux-nogro-pc", 400e6))
        self.assertIn("retransmits 40", report.one_line("tcp1", d["results"]["fw"]["tcp1"]))

    def test_limit_row_is_the_role_not_the_name(self):
        # With the zero-copy forwarder present, it is the limit (role), the copying
        # minimal forwarder an ordinary row.
        d = self.honest_doc()
        d["contenders"][1]["role"] = ""
        d["contenders"].insert(2, dict(id="zcfwd", label="zcfwd", kind="fw", role="limit"))
        d["results"]["zcfwd"] = {"tcp1": d["results"]["minfwd"]["tcp1"]}
        d["results"]["minfwd"] = {"tcp1": d["results"]["linux"]["tcp1"]}
        self.assertEqual(report.limit_id(d), "zcfwd")
        md = report.markdown(d, "x.png")
        self.assertIn("firmware ÷ limit row (zcfwd) | 0.75× | ≥ 0.95× | not met", md)
        self.assertIn("zero-copy forwarder (limit)", md)
        # Documents from before roles: the minimal forwarder by its name.
        for c in d["contenders"]:
            c.pop("role", None)
        d["contenders"] = [c for c in d["contenders"] if c["id"] != "zcfwd"]
        self.assertEqual(report.limit_id(d), "minfwd")

    def test_files_written(self):
        d = self.doc()
        with tempfile.TemporaryDirectory() as out:
            paths = report.write_all(d, out)
            names = sorted(os.path.basename(p) for p in paths)
            self.assertIn("latest.md", names)
            self.assertIn("latest.json", names)
            self.assertIn("2026-11-24-0900.md", names)
            if report.shutil.which("gnuplot"):
                self.assertIn("latest.png", names, d["meta"].get("chart_error"))

    def test_partial_run_keeps_latest(self):
        d = self.doc()
        d["meta"]["partial"] = True
        with tempfile.TemporaryDirectory() as out:
            names = {os.path.basename(p) for p in report.write_all(d, out, "x")}
            self.assertIn("latest-partial.md", names)
            self.assertNotIn("latest.md", names)
            self.assertIn("2026-11-24-0900-x.md", names)


if __name__ == "__main__":
    unittest.main()
