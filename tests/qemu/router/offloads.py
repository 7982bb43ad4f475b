#!/usr/bin/python3
"""Router firmware with offloads on: TCP GSO frames forwarded whole, both ways.

    /usr/bin/python3 tests/qemu/router/offloads.py [--image ...] [--mib 64] [--seconds 5]

Boots router.elf with the kernel command line word `offloads=on` between NICs with
QEMU's offloads on (csum, guest_tso4/6, host_tso4/6, ...). Proves: the drivers negotiated
receive and transmit TSO; 64 MiB each way over TCP arrive with equal SHA-256 although
the data crossed the router as GSO frames of up to 64 KiB carried with their virtio-net
header (stack fwd_gso > 0 on both ingress sides, driver tx_gso_packets > 0 on both
egress sides); a short iperf3 TCP run moves data; every delivered frame is accounted
for; no drop reason other than tx_busy, no GSO frame refused by an egress, no malformed
header, no broken queue.
"""

import sys
import time

import rtlib
from rtlib import harness

ALLOWED = {"tx_busy"}
F_CSUM, F_GUEST_CSUM, F_GUEST_TSO4, F_HOST_TSO4 = 1 << 0, 1 << 1, 1 << 7, 1 << 11


def body(c, args):
    nic = harness.NicConfig(offloads=True, vectors=args.vectors)
    qcfg = harness.QemuConfig(None, machine=args.machine, nic=nic, board=args.board,
                              mmio_modern=args.mmio_modern, transport=args.transport)
    guest = harness.guests.firmware(args.image, append="offloads=on")
    with harness.Session(guest, qcfg) as s:
        rtlib.quiet_namespaces(s)
        with open(s.console_log, errors="replace") as f:
            c.check("router: offloads on" in f.read(), "the firmware read offloads=on")
        st0 = rtlib.stats(s)
        for side in ("lan", "wan"):
            feat = st0.get(side + ".features", 0)
            want = F_CSUM | F_GUEST_CSUM | F_GUEST_TSO4 | F_HOST_TSO4
            c.check(feat & want == want, f"{side}: CSUM, GUEST_CSUM, GUEST_TSO4 and HOST_TSO4 "
                    "negotiated", hex(feat))
        c.require(harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=3)["received"] >= 1,
                  "path LAN->WAN works before the transfers")
        c.require(harness.traffic.ping(s.wan.ns, s.lan.host_ip, count=3)["received"] >= 1,
                  "path WAN->LAN works before the transfers")
        # Drops are counted from here: before, the namespaces' IPv6 chatter (multicast)
        # may have reached the router.
        base = rtlib.quiet_stats(s)
        nbytes = args.mib * 1024 * 1024
        for frm, to in (("lan", "wan"), ("wan", "lan")):
            before = rtlib.quiet_stats(s)
            t0 = time.monotonic()
            r = s.xfer(nbytes, frm=frm, timeout=150)
            dt = time.monotonic() - t0
            after = rtlib.quiet_stats(s)
            c.check(r["ok"], f"{args.mib} MiB {frm.upper()}->{to.upper()}: same length and "
                    "SHA-256 at both ends", f"sent {r['bytes_sent']} {r['sha_sent'][:16]} "
                    f"received {r['bytes_received']} {r['sha_received'][:16]}")
            gso = rtlib.delta(before, after, f"stack.{frm}.fwd_gso")
            fwd = rtlib.delta(before, after, f"stack.{frm}.fwd_frames")
            c.check(gso > 0, f"{frm}->{to}: GSO frames forwarded whole (stack.{frm}.fwd_gso)",
                    str(gso))
            c.check(rtlib.delta(before, after, f"{to}.tx_gso_packets") > 0,
                    f"{frm}->{to}: the {to} driver sent GSO frames", "")
            c.note(f"{frm}->{to}: {nbytes * 8 / dt / 1e6:.0f} Mbit/s including setup (TCG); "
                   f"{fwd} frames forwarded from {frm}, {gso} of them GSO "
                   f"({nbytes / max(fwd, 1):.0f} bytes/frame)")
        before = rtlib.quiet_stats(s)
        r = s.iperf3(seconds=args.seconds)
        after = rtlib.quiet_stats(s)
        bps = r["bits_per_second"]
        c.note(f"iperf3 TCP LAN->WAN {args.seconds} s: {harness.fmt_rate(bps)} (TCG), "
               f"retransmits {r.get('retransmits')}, GSO frames forwarded "
               f"{rtlib.delta(before, after, 'stack.fwd_gso')} of "
               f"{rtlib.delta(before, after, 'stack.fwd_frames')}")
        c.check(bps > 0 and r["bytes"] > 0, "iperf3 moved data", str(bps))
        c.check(rtlib.delta(before, after, "stack.lan.fwd_gso") > 0,
                "iperf3: GSO frames forwarded", "")

        st = rtlib.quiet_stats(s)
        d, a = rtlib.accounting(st)
        c.check(d == a, "every delivered frame is forwarded, consumed or a counted drop",
                f"delivered {d} accounted {a}")
        drops = rtlib.drop_deltas(base, st)
        c.note(f"stack drop reasons during the transfers and iperf3: {drops or 'none'}")
        unexpected = {k: v for k, v in drops.items() if k not in ALLOWED}
        c.check(not unexpected, "no stack drops other than counted tx_busy", str(unexpected))
        for side in ("lan", "wan"):
            for key in ("broken", "bad_used", "rx_bad_hdr", "rx_bad_len", "tx_gso_refused",
                        "tx_errors"):
                c.check(st.get(f"{side}.{key}") == 0, f"{side}.{key} == 0",
                        str(st.get(f"{side}.{key}")))
            c.note(f"{side}: rx_gso_packets {st.get(side + '.rx_gso_packets')}, tx_gso_packets "
                   f"{st.get(side + '.tx_gso_packets')}, rx_queue_drops "
                   f"{st.get(side + '.rx_queue_drops')}, tx_ring_full "
                   f"{st.get(side + '.tx_ring_full')}, tx_csum_sw {st.get(side + '.tx_csum_sw')}")
        c.note(f"stack.csum_sw {st.get('stack.csum_sw')}, heap used {st.get('heap.used_bytes')} "
               f"of {st.get('heap.total_bytes')} bytes")


if __name__ == "__main__":
    def extra(ap):
        ap.add_argument("--mib", type=int, default=64)
        ap.add_argument("--seconds", type=int, default=5)

    a = rtlib.parse_args(__doc__, extra)
    sys.exit(rtlib.run_test("qemu.router.offloads", lambda c: body(c, a),
                            budget=a.budget or 300))
