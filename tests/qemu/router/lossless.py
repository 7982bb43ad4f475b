#!/usr/bin/env python3
"""Router firmware: lossless forwarding under TCP, and overload counted at one place.

    sudo python3 tests/qemu/router/lossless.py [--image ...] [--seconds 5]

Proves (docs/tx-handshake.md, "Backpressure in the router"):
1. A TCP transfer LAN->WAN through the router: no frame is dropped inside the router.
   The stack drops nothing (no tx_busy, no tx_error), the drivers drop nothing
   (rx_queue_drops 0 on both sides): a full TX ring makes the forwarding task wait for the
   TX space event instead. Between full batches the LAN RX task hands the CPU to the WAN
   RX task (round robin, so the flow's ACKs are not held back). Afterwards every queue is
   empty again: both software rings (rx_queue_count 0) and no TX space event left armed
   (tx_space_arms = tx_space_events per side, i.e. no sender is waiting). The forwarded
   frames went out zero-copy from their receive slots (virtio_net_forward: tx_zc_packets,
   at most 1 % copied), and the lent slots come back: once a few pings have crossed (each
   send reclaims the ring), each side has at most 2 slots out (rx_lent).
2. A UDP flood of 64-byte datagrams beyond the forwarding rate: inside the router the
   overload is dropped only where the design says (the LAN driver's rx_queue_drops, before
   any stack work; the stack drops nothing), the rest is held back in the device until the
   host's LAN tap drops it; and the figures add up: datagrams sent = received + LAN tap
   drops + lan.rx_queue_drops + WAN-side host drops (UDP receive-buffer errors in the WAN
   namespace), within 0.1 % of the datagrams sent.
"""

import subprocess
import sys
import time

import rtlib
from rtlib import harness


def udp_rcvbuf_errors(side):
    """UDP datagrams the host dropped at a full socket buffer in that namespace."""
    cp = subprocess.run(["ip", "netns", "exec", side.ns, "cat", "/proc/net/snmp"],
                        capture_output=True, text=True, check=False, timeout=10)
    lines = [ln.split() for ln in cp.stdout.splitlines() if ln.startswith("Udp:")]
    if len(lines) < 2 or "RcvbufErrors" not in lines[0]:
        return 0
    return int(lines[1][lines[0].index("RcvbufErrors")])


def queues_empty(c, s, settle=5.0):
    """Every queue back to empty (bounded wait for the last frames to drain)."""
    end = time.monotonic() + settle
    while True:
        st = rtlib.stats(s)
        empty = all(st.get(f"{side}.rx_queue_count") == 0 and
                    st.get(f"{side}.tx_space_arms") == st.get(f"{side}.tx_space_events")
                    for side in ("lan", "wan"))
        if empty or time.monotonic() > end:
            break
        time.sleep(0.5)
    for side in ("lan", "wan"):
        c.check(st.get(f"{side}.rx_queue_count") == 0, f"{side}: software ring empty",
                str(st.get(f"{side}.rx_queue_count")))
        c.check(st.get(f"{side}.tx_space_arms") == st.get(f"{side}.tx_space_events"),
                f"{side}: no TX space event left armed (no sender waiting)",
                f"arms {st.get(side + '.tx_space_arms')} events "
                f"{st.get(side + '.tx_space_events')}")
    return st


def body(c, args):
    with rtlib.session(args) as s:
        rtlib.quiet_namespaces(s)
        c.require(harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=3)["received"] >= 1,
                  "path LAN->WAN works")

        # 1. TCP
        before = rtlib.quiet_stats(s)
        r = s.iperf3(seconds=args.seconds)
        after = rtlib.quiet_stats(s)
        c.note(f"TCP LAN->WAN {args.seconds} s: {harness.fmt_rate(r['bits_per_second'])} (TCG),"
               f" retransmits {r.get('retransmits')}")
        drops = rtlib.drop_deltas(before, after)
        c.check(not drops, "TCP: the stack dropped nothing (no tx_busy, no tx_error)",
                str(drops))
        for side in ("lan", "wan"):
            d = rtlib.delta(before, after, side + ".rx_queue_drops")
            c.check(d == 0, f"TCP: {side}.rx_queue_drops 0", str(d))
            c.note(f"{side}: tx ring full {rtlib.delta(before, after, side + '.tx_ring_full')}"
                   f" times, waits {rtlib.delta(before, after, side + '.tx_waits')}, space "
                   f"events {rtlib.delta(before, after, side + '.tx_space_events')}, wait "
                   f"timeouts {rtlib.delta(before, after, side + '.tx_wait_timeouts')}")
        ho = rtlib.delta(before, after, "lan.rx_handoffs")
        if args.one_task:
            # router-onetask.elf: no RX task per NIC, so no hand-off; the one task sleeps
            # between bursts and is woken through rx_wake_fn (counted as rx_task_wakeups).
            wk = [rtlib.delta(before, after, sd + ".rx_task_wakeups") for sd in ("lan", "wan")]
            c.check(ho == 0 and min(wk) > 0, "TCP: one task served both NICs, woken by both "
                    "NICs' interrupts (rx_wake_fn)", f"rx_handoffs +{ho}, wake-ups lan/wan {wk}")
        else:
            c.check(ho > 0, "TCP: the LAN RX task handed the CPU to the WAN RX task (the ACKs) "
                    "between full batches (ROUTER_RX_HANDOFF)", f"lan.rx_handoffs +{ho}")
        c.note(f"lan: rx_yields +{rtlib.delta(before, after, 'lan.rx_yields')}, "
               f"rx_handoffs +{ho}")
        d, a = rtlib.accounting(after)
        c.check(d == a, "delivered frames = forwarded + consumed + counted drops",
                f"delivered {d} accounted {a}")
        for side in ("lan", "wan"):
            zc = rtlib.delta(before, after, side + ".tx_zc_packets")
            cp = rtlib.delta(before, after, side + ".tx_zc_copies")
            tx = rtlib.delta(before, after, side + ".tx_packets")
            c.check(zc > 0 and cp * 100 <= tx, f"TCP: {side} sent forwarded frames from their "
                    "receive slots (tx_zc_packets; at most 1 % copied)",
                    f"tx_packets +{tx} tx_zc_packets +{zc} tx_zc_copies +{cp}")
        queues_empty(c, s)
        harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=3)
        st = rtlib.stats(s)
        for side in ("lan", "wan"):
            c.check(st.get(f"{side}.rx_lent", 99) <= 2, f"{side}: lent receive slots came back "
                    "(rx_lent <= 2 after pings)", str(st.get(f"{side}.rx_lent")))

        # 2. UDP overload
        before = rtlib.quiet_stats(s)
        tap0 = rtlib.tap_tx_dropped(s.lan)
        rcvbuf0 = udp_rcvbuf_errors(s.wan)
        u = s.iperf3(seconds=args.seconds, udp=True, bitrate=args.udp_rate, length=18)
        time.sleep(1.0)
        after = queues_empty(c, s)
        tap = rtlib.tap_tx_dropped(s.lan) - tap0
        rcvbuf = udp_rcvbuf_errors(s.wan) - rcvbuf0
        sent, lost = u.get("packets", 0), u.get("lost_packets", 0)
        rxq = rtlib.delta(before, after, "lan.rx_queue_drops")
        drops = rtlib.drop_deltas(before, after)
        c.note(f"UDP 64 B at {args.udp_rate}: sent {sent}, lost {lost} ({u.get('lost_pct', 0):.1f}"
               f" %); LAN tap drops {tap}, lan.rx_queue_drops {rxq}, stack drops "
               f"{drops or 'none'}, WAN rcvbuf errors {rcvbuf} (TCG)")
        c.check(sent > 0, "UDP flood sent datagrams", str(sent))
        c.check(not drops, "UDP: the stack dropped nothing (overload stopped before it)",
                str(drops))
        c.check(rtlib.delta(before, after, "wan.rx_queue_drops") == 0,
                "UDP: wan.rx_queue_drops 0 (the WAN side is not overloaded)")
        counted = tap + rxq + rcvbuf + sum(drops.values())
        c.check(abs(lost - counted) <= max(1, sent // 1000),
                "UDP: lost = LAN tap drops + lan.rx_queue_drops + WAN rcvbuf errors "
                "(within 0.1 % of sent)", f"lost {lost} counted {counted}")
        d, a = rtlib.accounting(after)
        c.check(d == a, "delivered frames = forwarded + consumed + counted drops",
                f"delivered {d} accounted {a}")
        c.check(after.get("lan.broken") == 0 and after.get("wan.broken") == 0, "no broken queue")


if __name__ == "__main__":
    def opts(ap):
        ap.add_argument("--seconds", type=int, default=5)
        ap.add_argument("--udp-rate", default="60M")
        ap.add_argument("--one-task", action="store_true",
                        help="the image serves both NICs from one task (router-onetask.elf)")
    a = rtlib.parse_args(__doc__, opts)
    sys.exit(rtlib.run_test("qemu.router.lossless", lambda c: body(c, a),
                            budget=a.budget or 200))
