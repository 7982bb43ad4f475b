"""Self-test of the suite's arithmetic (no root, no VM): counter deltas, per-frame
figures, the histogram p99, the sweep's knee, and that a report renders.

    python3 -m unittest discover -s bench/lib -p 'test_*.py'
"""

import math
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "..", "scripts", "lib"), HERE]

from benchsuite import counters, report, workloads  # noqa: E402


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


if __name__ == "__main__":
    unittest.main()
