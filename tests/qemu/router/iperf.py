#!/usr/bin/python3
"""Router firmware: 5 s of iperf3 TCP LAN->WAN, with the drop accounting checked.

    /usr/bin/python3 tests/qemu/router/iperf.py [--image ...] [--seconds 5]

Proves: sustained TCP forwarding moves data (non-zero throughput, printed as a TCG
figure, not asserted against a speed); every frame the drivers delivered during the run
is accounted for by the stack (forwarded + consumed + dropped with a reason, exactly);
the only drops are the kinds a TCP flow through a congested router may cause and that
are counted as such (tx_busy: the egress ring was full); no queue broke; the guest's busy
share from the idle task's cycles (os.idle_cycles) is plausible: well above idle, never
more idle than elapsed time.
"""

import sys

import rtlib
from rtlib import harness

# Drop reasons a TCP flow may legitimately cause: a full TX ring under a burst.
ALLOWED = {"tx_busy"}


def body(c, args):
    with rtlib.session(args) as s:
        rtlib.quiet_namespaces(s)
        c.require(harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=3)["received"] >= 1,
                  "path LAN->WAN works")
        before = rtlib.quiet_stats(s)
        r = s.iperf3(seconds=args.seconds)
        after = rtlib.quiet_stats(s)
        bps = r["bits_per_second"]
        c.note(f"iperf3 TCP LAN->WAN {args.seconds} s: {harness.fmt_rate(bps)} (TCG), "
               f"retransmits {r.get('retransmits')}")
        c.check(bps > 0 and r["bytes"] > 0, "iperf3 moved data", str(bps))
        d, a = rtlib.accounting(after)
        c.check(d == a, "delivered frames = forwarded + consumed + counted drops",
                f"delivered {d} accounted {a}")
        drops = rtlib.drop_deltas(before, after)
        c.note(f"stack drop reasons during the run: {drops or 'none'}")
        unexpected = {k: v for k, v in drops.items() if k not in ALLOWED}
        c.check(not unexpected, "no stack drops other than counted tx_busy", str(unexpected))
        total = rtlib.delta(before, after, "stack.rx_drops")
        c.check(total == sum(drops.values()), "stack.rx_drops equals the sum of the reasons",
                f"{total} vs {sum(drops.values())}")
        fwd = rtlib.delta(before, after, "stack.lan.fwd_frames")
        c.check(fwd > 1000, "stack.lan.fwd_frames counted the data segments", str(fwd))
        for side in ("lan", "wan"):
            c.note(f"{side}: rx_queue_drops +{rtlib.delta(before, after, side + '.rx_queue_drops')}"
                   f", tx_ring_full +{rtlib.delta(before, after, side + '.tx_ring_full')}, "
                   f"interrupts +{rtlib.delta(before, after, side + '.interrupts')}, "
                   f"rx_yields +{rtlib.delta(before, after, side + '.rx_yields')}, "
                   f"isr avg {after.get(side + '.isr_cycles_avg')} cycles")
        c.check(after.get("lan.broken") == 0 and after.get("wan.broken") == 0, "no broken queue")
        # The guest's busy share of the run from the idle task's cycles (os.idle_cycles):
        # forwarding hundreds of Mbit/s under TCG keeps it well above idle; idle time can
        # never exceed the time elapsed.
        busy = rtlib.idle_busy_pct(before, after)
        c.note(f"guest busy {busy if busy is None else round(busy)} % of the run (idle task's "
               "cycles, TCG)")
        c.check(busy is not None and 10 <= busy <= 100.5,
                "os.idle_cycles: busy share of the run between 10 and 100 %", str(busy))


if __name__ == "__main__":
    a = rtlib.parse_args(__doc__, lambda ap: ap.add_argument("--seconds", type=int, default=5))
    sys.exit(rtlib.run_test("qemu.router.iperf", lambda c: body(c, a), budget=a.budget or 150))
