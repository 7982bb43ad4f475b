#!/usr/bin/python3
"""Smoke test of the QEMU/namespace harness, with the Linux router as the guest.

    /usr/bin/python3 tests/qemu/linux/smoke.py        (about 60 s under TCG; budget 150 s)

Boots the Linux router between two namespaces and checks: the console answers and
the guest bound LAN/WAN by MAC; ping both ways; QMP link down stops traffic and
link up restores it; a short iperf3 TCP run moves data; a checked transfer arrives
intact; the guest's forwarding counter grew. Then that the session left nothing
behind (namespaces, taps, QEMU, logger), and that a boot which never becomes ready
is torn down as well. Exit status 0 pass, 1 fail, 2 not run (needs root).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from qemutest import harness, run_test  # noqa: E402


def gone(c, s, what):
    left = s.leftovers()
    c.check(not left, f"{what}: nothing left behind", str(left))
    ns = harness.session.topo.netns_list()
    c.check(s.lan.ns not in ns and s.wan.ns not in ns, f"{what}: namespaces deleted")
    c.check(not harness.session.topo.link_exists(s.lan.tap) and
            not harness.session.topo.link_exists(s.wan.tap), f"{what}: taps deleted")
    c.check(not harness.session.same_process(s.qemu_pid, s.qemu_start),
            f"{what}: QEMU (pid {s.qemu_pid}) stopped")


def body(c):
    qcfg = harness.QemuConfig(None, nic=harness.NicConfig(offloads=False))
    s = harness.Session(harness.guests.linux(gro=True), qcfg)
    with s:
        c.note(f"session {s.run_id}: {s.lan.ns} / {s.wan.ns}, console {s.console_log}")
        c.check(s.command("cat /proc/sys/net/ipv4/ip_forward").strip() == "1",
                "guest forwards IPv4")
        mac0 = s.command("cat /sys/class/net/eth0/address").strip()
        mac1 = s.command("cat /sys/class/net/eth1/address").strip()
        c.check(mac0 == s.lan.guest_mac and mac1 == s.wan.guest_mac,
                "guest named the NICs by MAC (eth0 LAN, eth1 WAN)", f"{mac0} {mac1}")

        r = s.ping("lan", count=5)
        c.require(r["received"] >= 4, "ping LAN->WAN", str(r))
        c.note(f"ping LAN->WAN rtt avg {r['rtt_avg_ms']} ms")
        r = s.ping("wan", count=3)
        c.check(r["received"] >= 2, "ping WAN->LAN", str(r))

        s.set_link("lan", False)
        r = s.ping("lan", count=3, wait=0.5)
        c.check(r["received"] == 0, "QMP set_link lan off stops traffic", str(r))
        s.set_link("lan", True)
        r = harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=3)
        c.check(r["received"] >= 1, "QMP set_link lan on restores traffic", str(r))

        before = s.stats().get("ip.forw_datagrams", -1)
        r = s.iperf3(seconds=3)
        c.note(f"iperf3 TCP LAN->WAN 3 s: {harness.fmt_rate(r['bits_per_second'])} (TCG)")
        c.check(r["bits_per_second"] > 0 and r["bytes"] > 0, "iperf3 TCP moved data")
        x = s.xfer(4 * 1024 * 1024)
        c.check(x["ok"], "4 MiB transfer LAN->WAN arrived intact (sha256)", str(x))
        after = s.stats().get("ip.forw_datagrams", -1)
        c.check(isinstance(before, int) and isinstance(after, int) and after > before,
                "guest's forwarded-datagram counter grew", f"{before} -> {after}")
    gone(c, s, "normal exit")

    # A guest that never prints its readiness line: up() must fail and clean up.
    g = harness.guests.linux(gro=True, boot_timeout=10)
    g.ready = "this line is never printed"
    s2 = harness.Session(g, harness.QemuConfig(None))
    failed = False
    try:
        with s2:
            pass
    except harness.HarnessError:
        failed = True
    c.check(failed, "boot without readiness line fails within its timeout")
    gone(c, s2, "failed boot")


if __name__ == "__main__":
    sys.exit(run_test("qemu-linux-smoke", body, budget=150))
