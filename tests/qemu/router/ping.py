#!/usr/bin/python3
"""Router firmware: ping the router and ping across it.

    /usr/bin/python3 tests/qemu/router/ping.py [--image build-fw/apps/router/router.elf]

Proves: the firmware boots to `router: ready` with both NICs; the router answers echo
requests on its LAN and WAN addresses (and on its WAN address from the LAN side, which
it consumes locally instead of forwarding); hosts on each side reach each other across
the router; the router forwards with the TTL decremented by exactly one (Linux sends
with 64, so replies arrive with 63 after one router hop, 64 from the router itself); the
stack's echo counters moved by the number of requests sent. Then link state: QMP
set_link off on the LAN NIC reaches the driver as a config-change interrupt (lan.link_up
0, traffic stops), and set_link on brings it back (link_up 1, the router re-announces
itself, ping works again).
"""

import time

import sys

import rtlib
from rtlib import harness


def body(c, args):
    with rtlib.session(args) as s:
        rtlib.quiet_namespaces(s)
        c.note(f"session {s.run_id}, console {s.console_log}")
        out = s.command("ifconfig")
        c.check(s.lan.guest_mac in out and "198.18.0.1/24" in out.split("wan:")[0],
                "ifconfig: lan is the first NIC (LAN MAC, 198.18.0.1/24)", out)
        c.check("198.19.0.1/24" in out and s.wan.guest_mac in out.split("wan:")[1],
                "ifconfig: wan is the second NIC (WAN MAC, 198.19.0.1/24)", out)
        before = rtlib.stats(s)

        r = harness.traffic.ping(s.lan.ns, s.lan.router_ip, count=5)
        c.check(r["received"] == 5, "LAN host pings the router's LAN address", str(r))
        r = harness.traffic.ping(s.wan.ns, s.wan.router_ip, count=5)
        c.check(r["received"] == 5, "WAN host pings the router's WAN address", str(r))
        r = harness.traffic.ping(s.lan.ns, s.wan.router_ip, count=3)
        c.check(r["received"] == 3, "LAN host pings the router's WAN address", str(r))

        ttl = rtlib.ping_ttls(s.lan.ns, s.lan.router_ip, 2)
        c.check(ttl and all(t == 64 for t in ttl), "router's own echo replies carry TTL 64",
                str(ttl))
        ttl = rtlib.ping_ttls(s.lan.ns, s.wan.host_ip, 5)
        c.check(len(ttl) == 5, "LAN host pings the WAN host across the router", str(ttl))
        c.check(ttl and all(t == 63 for t in ttl),
                "reply from the WAN host arrives with TTL 63 (decremented once)", str(ttl))
        ttl = rtlib.ping_ttls(s.wan.ns, s.lan.host_ip, 5)
        c.check(len(ttl) == 5 and all(t == 63 for t in ttl),
                "WAN host pings the LAN host, TTL 63", str(ttl))

        after = rtlib.stats(s)
        echo_lan = rtlib.delta(before, after, "stack.lan.icmp_echo_rx")
        echo_wan = rtlib.delta(before, after, "stack.wan.icmp_echo_rx")
        c.check(echo_lan == 5 + 3 + 2, "stack.lan.icmp_echo_rx counted the 10 requests",
                str(echo_lan))
        c.check(echo_wan == 5, "stack.wan.icmp_echo_rx counted the 5 requests", str(echo_wan))
        fwd = rtlib.delta(before, after, "stack.fwd_frames")
        c.check(fwd >= 20, "stack forwarded the 10 cross-router echo exchanges", str(fwd))
        c.check(after.get("lan.rx_packets", 0) > 0 and after.get("wan.tx_packets", 0) > 0,
                "driver counters moved (lan.rx_packets, wan.tx_packets)")
        c.check(after.get("lan.broken", 1) == 0 and after.get("wan.broken", 1) == 0,
                "no queue marked broken")

        s.set_link("lan", False)
        time.sleep(0.5)
        down = rtlib.stats(s)
        c.check(down.get("lan.link_up") == 0 and down.get("lan.config_interrupts", 0) >= 1,
                "QMP set_link lan off: config interrupt, lan.link_up=0",
                f"link_up {down.get('lan.link_up')} config_interrupts "
                f"{down.get('lan.config_interrupts')}")
        r = harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=2, wait=0.5)
        c.check(r["received"] == 0, "no traffic while the LAN link is down", str(r))
        s.set_link("lan", True)
        time.sleep(0.5)
        up = rtlib.stats(s)
        c.check(up.get("lan.link_up") == 1 and
                rtlib.delta(after, up, "lan.link_events") == 2,
                "set_link lan on: lan.link_up=1, two link events seen by the router",
                f"link_up {up.get('lan.link_up')} events "
                f"{rtlib.delta(after, up, 'lan.link_events')}")
        r = harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=3)
        c.check(r["received"] == 3, "ping across the router after the link came back", str(r))


if __name__ == "__main__":
    a = rtlib.parse_args(__doc__)
    sys.exit(rtlib.run_test("qemu.router.ping", lambda c: body(c, a), budget=a.budget or 150))
