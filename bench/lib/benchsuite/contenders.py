"""The contenders: who routes between the LAN and WAN namespaces.

All VM contenders boot through vnet_harness.Session with one QemuConfig (q35, TCG,
1 vCPU, 256 MiB, two virtio-net-pci NICs on taps, same NIC properties); they differ only
in the guest image and, for one Linux and one firmware variant, in the NIC offload
properties, which is the point of those variants. The veth ceiling has no VM.
"""

import contextlib
import os
import time

import vnet_harness as h
from vnet_harness.util import HarnessError

from . import counters, veth

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


class Contender:
    def __init__(self, cid, label, kind, short, offloads=False, gro=True, image=None,
                 append=""):
        self.id = cid
        self.label = label      # for the table
        self.short = short      # for the chart's legend
        self.kind = kind        # fw | linux | veth
        self.offloads = offloads
        self.gro = gro
        self.image = image
        self.append = append    # firmware: kernel command line (e.g. "offloads=on")

    def describe(self):
        return dict(id=self.id, label=self.label, kind=self.kind, offloads=self.offloads,
                    gro=self.gro, image=self.image, append=self.append)

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
        qcfg = h.QemuConfig(None, nic=h.NicConfig(offloads=self.offloads))
        t0 = time.monotonic()
        with h.Session(guest, qcfg) as s:
            t = VmTarget(self, s, time.monotonic() - t0)
            # Resolve ARP both ways and prove the path before any measurement.
            p = s.ping("lan", count=3, interval=0.2)
            if p["received"] == 0:
                p = s.ping("lan", count=3, interval=0.5)
                if p["received"] == 0:
                    raise HarnessError(f"{self.id}: no ping across the router")
            s.ping("wan", count=1)
            yield t


def default_contenders(fw_image, isr_image, only=None):
    cs = [
        Contender("fw", "vnet-rtos firmware (NAPI-style RX)", "fw", "firmware (NAPI)",
                  image=fw_image),
        # The same image with offloads on at both ends: the NICs' QEMU offload
        # properties and the firmware's own switch (docs/router.md), so TCP crosses the
        # router as GSO frames of up to 64 KiB.
        Contender("fw-offl", "vnet-rtos firmware, offloads on (GSO frames)", "fw",
                  "firmware (offloads on)", offloads=True, image=fw_image,
                  append="offloads=on"),
        Contender("isr", "old design: RX in ISR (benchmark-only build)", "fw",
                  "old design (RX in ISR)", image=isr_image),
        Contender("linux", "Linux guest, offloads off, GRO on", "linux",
                  "Linux (offl. off, GRO on)", offloads=False, gro=True),
        Contender("linux-nogro", "Linux guest, offloads off, GRO off", "linux",
                  "Linux (offl. off, GRO off)", offloads=False, gro=False),
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
    def __init__(self, contender, session, boot_s):
        self.c = contender
        self.s = session
        self.name = contender.id
        self.boot_s = boot_s
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
        self.lan_ns, self.wan_ns = v.lan_ns, v.wan_ns
        self.lan_ip, self.wan_ip = v.lan_ip, v.wan_ip

    def alive(self):
        return True

    def counters(self):
        return None

    def metrics(self, before, after):
        return None
