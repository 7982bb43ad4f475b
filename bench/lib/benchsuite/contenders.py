"""The contenders: who routes between the LAN and WAN namespaces.

All VM contenders boot through vnet_harness.Session with one QemuConfig (TCG, 1 vCPU,
256 MiB, two virtio-net-pci NICs on taps, same NIC properties, machine q35); they differ
only in the guest image and, for the variants that say so, in the NIC offload properties,
the guest's GRO switch or the machine type (pc). The Linux router is measured in each of
its offloads-off variants (GRO on/off x q35/pc, and GRO on with a 1,024-entry RX ring)
and the report compares against the best
of them per workload (report.py), so the comparison is with the best Linux can do in this
VM, not with a chosen configuration. The veth ceiling has no VM.
"""

import contextlib
import os
import tempfile
import time

import vnet_harness as h
from vnet_harness.util import HarnessError

from . import counters, hostprof, veth

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


class Contender:
    def __init__(self, cid, label, kind, short, offloads=False, gro=True, image=None,
                 append="", machine="q35", role="", rx_queue_size=None):
        self.id = cid
        self.label = label      # for the table
        self.short = short      # for the chart's legend
        self.kind = kind        # fw | linux | veth
        self.offloads = offloads
        self.gro = gro
        self.image = image
        self.append = append    # firmware: kernel command line (e.g. "offloads=on")
        self.machine = machine  # QEMU machine type
        self.rx_queue_size = rx_queue_size  # virtio-net-pci rx_queue_size; None: QEMU's 256
        # "limit": the minimal forwarder, the firmware's ceiling row; "" otherwise.
        self.role = role
        self.trace = False      # log QEMU trace events (hostprof.QemuTrace) for this run

    def describe(self):
        return dict(id=self.id, label=self.label, kind=self.kind, offloads=self.offloads,
                    gro=self.gro, image=self.image, append=self.append,
                    machine=self.machine, role=self.role, rx_queue_size=self.rx_queue_size)

    @contextlib.contextmanager
    def open(self):
        """Bring the contender up; yields a target. Teardown on every exit path."""
        if self.kind == "veth":
            with veth.VethRouter(offloads=self.offloads) as v:
                yield VethTarget(self, v)
            return
        if self.kind == "fw":
            guest = h.guests.firmware(self.image, append=self.append)
        else:
            guest = h.guests.linux(gro=self.gro)
        with contextlib.ExitStack() as stack:
            extra, trace = [], None
            if self.trace:
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="vnet-trace-"))
                log = os.path.join(tmp, "trace.log")
                extra = hostprof.trace_args(os.path.join(tmp, "events"), log)
                trace = hostprof.QemuTrace(log)
            qcfg = h.QemuConfig(None, machine=self.machine,
                                nic=h.NicConfig(offloads=self.offloads,
                                                rx_queue_size=self.rx_queue_size),
                                extra_args=extra)
            t0 = time.monotonic()
            s = stack.enter_context(h.Session(guest, qcfg))
            t = VmTarget(self, s, time.monotonic() - t0, trace)
            # Resolve ARP both ways and prove the path before any measurement.
            p = s.ping("lan", count=3, interval=0.2)
            if p["received"] == 0:
                p = s.ping("lan", count=3, interval=0.5)
                if p["received"] == 0:
                    raise HarnessError(f"{self.id}: no ping across the router")
            s.ping("wan", count=1)
            yield t


# The Linux router's offloads-off variants: (id suffix, GRO, machine, RX queue size). The
# report's reference is the best of them per workload. The 1,024-entry RX ring (the most
# QEMU's virtio-net-pci offers with a tap) gave Linux 454 vs 353 Mbit/s for TCP 1 stream
# on `pc` in one interleaved run (2026-12-06, TCG; docs/performance.md), so it is a
# candidate too, with GRO on (GRO off was slower in every run so far).
LINUX_VARIANTS = (("", True, "q35", None), ("-nogro", False, "q35", None),
                  ("-pc", True, "pc", None), ("-nogro-pc", False, "pc", None),
                  ("-q1024", True, "q35", 1024), ("-pc-q1024", True, "pc", 1024))


def default_contenders(fw_image, isr_image, only=None, minfwd_image=None, zcfwd_image=None,
                       zccopy_image=None):
    if minfwd_image is None:
        minfwd_image = os.path.join(os.path.dirname(fw_image), "router-minfwd.elf")
    if zcfwd_image is None:  # the same build tree: apps/router/ -> bench/zcfwd/
        zcfwd_image = os.path.join(os.path.dirname(fw_image), "..", "..", "bench", "zcfwd",
                                   "router-zcfwd.elf")
    if zccopy_image is None:  # built beside the limit row (bench/zcfwd/CMakeLists.txt)
        zccopy_image = os.path.join(os.path.dirname(zcfwd_image), "router-zcfwd-copy.elf")
    cs = [
        Contender("fw", "vnet-rtos firmware (NAPI-style RX)", "fw", "firmware (NAPI)",
                  image=fw_image),
        # The same driver and board, IPv4 between the two subnets handed from the
        # receive callback to the other NIC's TX ring without the stack (ROUTER_MINFWD,
        # apps/router/router_main.c): what the stack costs. The driver's one copy (the
        # ISR's, into the software ring) is left; the slot is forwarded without another.
        Contender("minfwd", "minimal forwarder: the driver, no stack (one copy)", "fw",
                  "minimal forwarder (driver, no stack)", image=minfwd_image),
        # The limit row's forwarder with the seed's one copy per received frame and
        # nothing else (ZC_RX_COPY, bench/zcfwd/zcfwd.c): what that copy alone costs.
        Contender("zccopy", "one-copy forwarder (no driver, no stack, the seed's copy)",
                  "fw", "one-copy forwarder", image=zccopy_image),
        # The limit row: no driver, no stack, no copy (bench/zcfwd/zcfwd.c): the received
        # buffer goes to the other NIC's TX ring as it is. The least a guest can do.
        Contender("zcfwd", "zero-copy forwarder (limit: no driver, no stack, no copy)",
                  "fw", "zero-copy forwarder (limit)", image=zcfwd_image, role="limit"),
        # The same image with offloads on at both ends: the NICs' QEMU offload
        # properties and the firmware's own switch (docs/router.md), so TCP crosses the
        # router as GSO frames of up to 64 KiB.
        Contender("fw-offl", "vnet-rtos firmware, offloads on (GSO frames)", "fw",
                  "firmware (offloads on)", offloads=True, image=fw_image,
                  append="offloads=on"),
        Contender("isr", "old design: RX in ISR (benchmark-only build)", "fw",
                  "old design (RX in ISR)", image=isr_image),
    ]
    for suffix, gro, machine, rxq in LINUX_VARIANTS:
        g = "on" if gro else "off"
        q = f", RX queue {rxq}" if rxq else ""
        cs.append(Contender(f"linux{suffix}",
                            f"Linux guest, offloads off, GRO {g}, {machine}{q}", "linux",
                            f"Linux (GRO {g}, {machine}{q})", offloads=False, gro=gro,
                            machine=machine, rx_queue_size=rxq))
    cs += [
        Contender("linux-offl", "Linux guest, offloads on (GSO frames)", "linux",
                  "Linux (offloads on)", offloads=True, gro=True),
        Contender("veth", "host ceiling: veth, no VM (offloads off)", "veth",
                  "host veth, no VM", offloads=False),
    ]
    if only:
        want = set(only)
        unknown = want - {c.id for c in cs}
        if unknown:
            raise HarnessError(f"unknown contender(s): {', '.join(sorted(unknown))}")
        cs = [c for c in cs if c.id in want]
    return cs


class VmTarget:
    def __init__(self, contender, session, boot_s, trace=None):
        self.c = contender
        self.s = session
        self.name = contender.id
        self.boot_s = boot_s
        self.trace = trace
        self.qemu_pid = session.qemu_pid
        self.lan_ns, self.wan_ns = session.lan.ns, session.wan.ns
        self.lan_ip, self.wan_ip = session.lan.host_ip, session.wan.host_ip

    def alive(self):
        return self.s.alive()

    def counters(self):
        """Counter snapshot, or None when the console does not answer (a wedged guest
        must not end the workload; its figures simply lack the internals)."""
        try:
            if self.c.kind == "fw":
                return counters.fw_snapshot(self.s.stats(timeout=15))
            kv = self.s.stats(timeout=15)
            irq = self.s.command("cat /proc/interrupts", timeout=15)
            return counters.linux_snapshot(kv, irq)
        except HarnessError:
            return None

    def trace_mark(self):
        """QEMU trace counts since the previous mark (None without tracing)."""
        return self.trace.mark() if self.trace else None

    def metrics(self, before, after):
        if self.c.kind == "fw":
            return counters.fw_metrics(counters.fw_delta(before, after))
        return counters.linux_metrics(counters.linux_delta(before, after))


class VethTarget:
    def __init__(self, contender, v):
        self.c = contender
        self.v = v
        self.name = contender.id
        self.boot_s = 0.0
        self.trace = None
        self.qemu_pid = None
        self.lan_ns, self.wan_ns = v.lan_ns, v.wan_ns
        self.lan_ip, self.wan_ip = v.lan_ip, v.wan_ip

    def alive(self):
        return True

    def counters(self):
        return None

    def trace_mark(self):
        return None

    def metrics(self, before, after):
        return None
