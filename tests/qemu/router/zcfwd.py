#!/usr/bin/python3
"""Bench-only zero-copy forwarder (bench/zcfwd): it forwards, and counts what it does not.

    /usr/bin/python3 tests/qemu/router/zcfwd.py --image build-fw/bench/zcfwd/router-zcfwd.elf

The benchmarks' limit row is only a limit if it really forwards, so CI boots it. Proves:
the image comes up with both NICs and answers ARP; a frame to a next hop it does not
know yet is dropped while it asks for the MAC, and counted (unresolved, with an ARP
request each); then hosts on each side reach each other across it with no loss, replies
arriving with TTL 63 (decremented once, the checksum accepted by Linux); IPv4 to its own
address is not answered but counted (stack.lan.drop.local, one per request); a 3 s iperf3 TCP run LAN->WAN moves data with no drop other than multicast
noise, no failed transmit and no device-written value rejected; every frame received is
accounted for: rx_packets = fastpath_fwd + fastpath_slow + fastpath_drop + drops by
reason, on each NIC.
"""

import sys

import rtlib
from rtlib import harness

SIDES = ("lan", "wan")
# Drop reasons idle links cause by themselves (IPv6 neighbour discovery, mDNS...).
NOISE = {"eth_multicast"}


def drops(st, side):
    pre = f"stack.{side}.drop."
    return {k[len(pre):]: v for k, v in st.items() if k.startswith(pre)}


def unaccounted(st, side):
    handled = sum(st.get(f"{side}.{k}", 0) for k in ("fastpath_fwd", "fastpath_slow",
                                                       "fastpath_drop"))
    return st.get(f"{side}.rx_packets", 0) - handled - sum(drops(st, side).values())


def quiet(s):
    return rtlib.quiet_stats(s, settled=lambda st: all(unaccounted(st, side) == 0
                                                       for side in SIDES))


def body(c, args):
    with rtlib.session(args) as s:
        rtlib.quiet_namespaces(s)
        c.note(f"session {s.run_id}, console {s.console_log}")
        # The first frame towards a host it has not heard from is dropped while it asks
        # for the host's MAC (no queue for unresolved next hops): counted, not silent.
        before = rtlib.stats(s)
        harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=2)
        harness.traffic.ping(s.wan.ns, s.lan.host_ip, count=2)
        after = quiet(s)
        asked = sum(rtlib.delta(before, after, f"{side}.arp_requests") for side in SIDES)
        unres = sum(rtlib.delta(before, after, f"stack.{side}.drop.unresolved")
                    for side in SIDES)
        c.check(unres <= asked, "every frame dropped for an unknown next hop sent an ARP "
                "request", f"unresolved {unres}, arp_requests {asked}")
        ttl = rtlib.ping_ttls(s.lan.ns, s.wan.host_ip, 5)
        c.check(len(ttl) == 5 and all(t == 63 for t in ttl),
                "LAN host pings the WAN host across it, replies with TTL 63", str(ttl))
        ttl = rtlib.ping_ttls(s.wan.ns, s.lan.host_ip, 5)
        c.check(len(ttl) == 5 and all(t == 63 for t in ttl),
                "WAN host pings the LAN host across it, replies with TTL 63", str(ttl))

        before = quiet(s)
        r = harness.traffic.ping(s.lan.ns, s.lan.router_ip, count=3)
        after = quiet(s)
        c.check(r["received"] == 0, "no echo reply from its own address (it has no stack)",
                str(r))
        local = rtlib.delta(before, after, "stack.lan.drop.local")
        c.check(local == 3, "stack.lan.drop.local counted the 3 requests", str(local))

        before = after
        r = s.iperf3(seconds=3)
        after = quiet(s)
        c.note(f"iperf3 TCP LAN->WAN 3 s: {harness.fmt_rate(r['bits_per_second'])} (TCG), "
               f"retransmits {r.get('retransmits')}")
        c.check(r["bytes"] > 0, "iperf3 moved data", str(r["bytes"]))
        fwd = rtlib.delta(before, after, "lan.fastpath_fwd")
        c.check(fwd > 1000, "lan.fastpath_fwd counted the data segments", str(fwd))
        wtx = rtlib.delta(before, after, "wan.tx_packets")
        c.check(wtx >= fwd, "wan.tx_packets completed every forwarded frame",
                f"tx {wtx} fwd {fwd}")
        busy = rtlib.idle_busy_pct(before, after)
        c.note(f"guest busy {busy if busy is None else round(busy)} % of the run (TCG)")
        c.check(busy is not None and 0 < busy <= 100.5,
                "os.idle_cycles exported, busy share within (0, 100] %", str(busy))
        for side in SIDES:
            c.check(unaccounted(after, side) == 0,
                    f"{side}: rx_packets = forwarded + handled + counted drops",
                    str({k: v for k, v in after.items() if k.startswith(side + ".")}))
            d = {k: after_v - drops(before, side).get(k, 0)
                 for k, after_v in drops(after, side).items()}
            bad = {k: v for k, v in d.items() if v and k not in NOISE}
            c.check(not bad, f"{side}: no drops during the run but multicast noise", str(d))
            for k in ("fastpath_drop", "bad_used", "rx_broken", "tx_broken"):
                c.check(after.get(f"{side}.{k}") == 0, f"{side}.{k} is 0",
                        str(after.get(f"{side}.{k}")))
        if "lan.copy_pool_free" in after:
            # The one-copy build (ZC_RX_COPY): only pool buffers go on TX rings, so every
            # one is either back in a pool or still on a TX ring.
            held = {k: after.get(f"{side}.{k}") for side in SIDES
                    for k in ("copy_pool_free", "tx_ring_free", "tx_ring_size", "rx_ring_size")}
            pool = sum(after[f"{side}.copy_pool_free"] for side in SIDES)
            on_tx = sum(after[f"{side}.tx_ring_size"] - after[f"{side}.tx_ring_free"]
                        for side in SIDES)
            total = sum(after[f"{side}.rx_ring_size"] for side in SIDES)
            c.check(pool + on_tx == total, "one-copy build: every copy buffer is in a pool "
                    "or on a TX ring", str(held))


if __name__ == "__main__":
    a = rtlib.parse_args(__doc__)
    name = "qemu.router.zcfwd_copy" if (a.image or "").endswith("-copy.elf") else "qemu.router.zcfwd"
    sys.exit(rtlib.run_test(name, lambda c: body(c, a), budget=a.budget or 150))
