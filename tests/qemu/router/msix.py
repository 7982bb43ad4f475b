#!/usr/bin/python3
"""Router firmware on the aarch64 virt board: virtio-net-pci on MSI-X through GICv2m.

    /usr/bin/python3 tests/qemu/router/msix.py --image build/fw-a64/apps/router/router.elf \
        --board qemu-aarch64-virt --transport pci --gic 2

Proves: with -M virt,gic-version=2 (a GICv2m MSI frame) both NICs come up on MSI-X
(lan.msix/wan.msix = 1, ifconfig names an MSI INTID from the frame's range for each,
stats says MSI-X); pings and a transfer in each direction cross the router with the
SHA-256 intact; the MSI INTIDs took interrupts (the `queues` per-INTID counts) while the
NICs' INTx lines (SPI 3-6, INTID 35-38) took none; a QMP link change (set_link lan
off/on) is counted in lan.config_interrupts and arrives on an MSI INTID other than the
RX ones, none on INTx. Refuses to run (fails) on any other board, transport or GIC; with
--vectors 0 (no MSI-X capability, so INTx) the MSI-X checks fail.
"""

import re
import sys
import time

import rtlib
from rtlib import harness

MSI_IDS = range(80, 144)  # QEMU virt: the GICv2m frame's 64 SPIs from SPI 48 (bsp.h)
INTX_IDS = range(35, 39)  # PCIe INTA..INTD, SPI 3-6


def intid_counts(s):
    out = s.command("queues")
    return {int(m.group(1)): int(m.group(2))
            for m in re.finditer(r"^intid (\d+) count=(\d+)", out, re.M)}


def wait_stats(s, ready, timeout=10.0):
    """`stats -k` once ready(stats) holds, or the last reading after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        st = rtlib.stats(s)
        if ready(st) or time.monotonic() > end:
            return st
        time.sleep(0.2)


def body(c, args):
    c.require(args.board == "qemu-aarch64-virt" and args.transport == "pci" and
              args.gic == "2", "configuration: --board qemu-aarch64-virt --transport pci --gic 2",
              f"{args.board} {args.transport} gic {args.gic}")
    with rtlib.session(args) as s:
        rtlib.quiet_namespaces(s)
        c.note(f"session {s.run_id}, console {s.console_log}")
        st = rtlib.stats(s)
        c.check(st.get("lan.msix") == 1 and st.get("wan.msix") == 1,
                "lan.msix=1 and wan.msix=1: both NICs on MSI-X",
                f"lan {st.get('lan.msix')} wan {st.get('wan.msix')}")
        out = s.command("ifconfig")
        ids = [int(x) for x in re.findall(r"msix rx gic intid (\d+)", out)]
        c.check(len(ids) == 2 and all(i in MSI_IDS for i in ids),
                "ifconfig: each NIC's RX interrupt is an MSI INTID (80-143)", out)
        human = s.command("stats")
        c.check(human.count("MSI-X") == 2, "stats: both NICs say MSI-X", human)
        before = intid_counts(s)

        r = harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=5)
        c.check(r["received"] == 5, "LAN host pings the WAN host across the router", str(r))
        r = harness.traffic.ping(s.wan.ns, s.lan.host_ip, count=5)
        c.check(r["received"] == 5, "WAN host pings the LAN host across the router", str(r))
        nbytes = args.mib * 1024 * 1024
        for frm, to in (("lan", "wan"), ("wan", "lan")):
            x = s.xfer(nbytes, frm=frm, timeout=120)
            c.check(x["ok"], f"{args.mib} MiB {frm.upper()}->{to.upper()}: same length and "
                    "SHA-256 at both ends", f"sent {x['bytes_sent']} received "
                    f"{x['bytes_received']}")

        after = intid_counts(s)
        moved = {i: after.get(i, 0) - before.get(i, 0) for i in ids}
        c.check(len(ids) == 2 and all(v > 0 for v in moved.values()),
                "the RX MSI INTIDs took interrupts during the traffic", str(moved))
        intx = {i: after.get(i, 0) for i in INTX_IDS if after.get(i, 0)}
        c.check(not intx, "no interrupt on the PCIe INTx lines (INTID 35-38)", str(intx))
        msi_total = sum(v for i, v in after.items() if i in MSI_IDS)
        c.note(f"MSI interrupts since boot: {msi_total}; per INTID {after}")

        st0, c0 = rtlib.stats(s), intid_counts(s)
        s.set_link("lan", False)
        down = wait_stats(s, lambda st: st.get("lan.link_up") == 0)
        s.set_link("lan", True)
        st1 = wait_stats(s, lambda st: st.get("lan.link_up") == 1)
        c1 = intid_counts(s)
        cfg = rtlib.delta(st0, st1, "lan.config_interrupts")
        c.check(down.get("lan.link_up") == 0 and st1.get("lan.link_up") == 1 and cfg >= 2,
                "QMP set_link lan off/on: link down then up, config interrupts counted",
                f"link_up {down.get('lan.link_up')} then {st1.get('lan.link_up')}, "
                f"config_interrupts +{cfg}")
        # The config entry is neither RX entry; TX entries may fire too (the router
        # re-announces itself on link up), so their sum bounds the config count from above.
        other = {i: c1.get(i, 0) - c0.get(i, 0) for i in c1
                 if i in MSI_IDS and i not in ids and c1.get(i, 0) > c0.get(i, 0)}
        intx = {i: c1.get(i, 0) - c0.get(i, 0) for i in INTX_IDS
                if c1.get(i, 0) > c0.get(i, 0)}
        c.check(cfg >= 2 and sum(other.values()) >= cfg and not intx,
                "the link changes arrived on an MSI INTID other than the RX ones, none on INTx",
                f"config_interrupts +{cfg}, other MSI INTIDs {other}, INTx {intx}")
        c.note(f"link changes: config_interrupts +{cfg}; MSI INTIDs moved {other}")
        st = rtlib.quiet_stats(s)
        d, a = rtlib.accounting(st)
        c.check(d == a, "every delivered frame is forwarded, consumed or a counted drop",
                f"delivered {d} accounted {a}")
        c.check(st.get("lan.broken") == 0 and st.get("wan.broken") == 0, "no broken queue")


def extra(ap):
    ap.add_argument("--mib", type=int, default=16, help="transfer size each way (MiB)")


if __name__ == "__main__":
    a = rtlib.parse_args(__doc__, extra)
    sys.exit(rtlib.run_test("qemu.router.msix", lambda c: body(c, a), budget=a.budget or 200))
