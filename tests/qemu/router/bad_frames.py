#!/usr/bin/python3
"""Router firmware: malformed and special frames from the LAN side (raw AF_PACKET).

    /usr/bin/python3 tests/qemu/router/bad_frames.py [--image build-fw/apps/router/router-mtu.elf]

Uses the test image router-mtu.elf (WAN MTU 1280, LAN 1500). For each case it sends N
frames from the LAN namespace straight onto the tap, then reads `stats -k` and checks
that exactly the expected stack drop reason rose by exactly N and no other reason moved,
and where RFC 1812 asks for an ICMP error, that the LAN host received exactly N of the
right type/code quoting our datagram (time exceeded for TTL 1; destination unreachable
/ fragmentation needed carrying the WAN MTU for DF + oversize). Non-DF oversize datagrams
are fragmented to the WAN MTU and reassembled by the WAN host. Good traffic keeps being
forwarded after all of it.

Runts shorter than an Ethernet header (the stack's `runt` reason) cannot be sent this
way: Linux's AF_PACKET refuses frames below 14 bytes (EINVAL). The shortest frames here
are a bare Ethernet header and a truncated IP header, which QEMU (7.2, virtio-net on a
tap) delivers unpadded; tests/stack covers `runt` itself.
"""

import select
import socket
import struct
import sys
import time

import rtlib
from rtlib import harness

N = 3
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806


def recv_icmp(sock, want_type, want_code, ident, timeout=1.5):
    """ICMP messages of (type, code) quoting an IPv4 header with our identification.
    Returns a list of the ICMP headers (8 bytes each)."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return got
        pkt = sock.recv(4096)
        ihl = (pkt[0] & 15) * 4
        icmp = pkt[ihl:]
        if len(icmp) < 8 + 20 or icmp[0] != want_type or icmp[1] != want_code:
            continue
        quoted = icmp[8:]
        if struct.unpack("!H", quoted[4:6])[0] == ident:
            got.append(icmp[:8])


def body(c, args):
    with rtlib.session(args) as s:
        rtlib.quiet_namespaces(s)
        c.require(harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=3)["received"] >= 1,
                  "path LAN->WAN works (ARP resolved on both sides)")
        out = s.command("ifconfig")
        wan_mtu = int(out.split("wan:")[1].split("mtu")[1].split()[0])
        c.note(f"router WAN MTU {wan_mtu}")
        c.require(wan_mtu < 1500, "the test image has a WAN MTU below the LAN's 1500",
                  str(wan_mtu))

        router_mac = s.lan.guest_mac
        host_mac = rtlib.ns_mac(s.lan.ns, s.lan.tap)
        src, dst = s.lan.host_ip, s.wan.host_ip
        with rtlib.InNamespace(s.lan.ns):
            tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            tx.bind((s.lan.tap, 0))
            icmp_rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        with rtlib.InNamespace(s.wan.ns):
            udp_rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp_rx.bind((dst, 9999))
            udp_rx.setblocking(False)

        def ip_frame(ident, payload=b"x" * 32, **kw):
            u = rtlib.udp(src, dst, 40000, 9999, payload)
            return rtlib.eth(router_mac, host_mac, ETH_P_IP,
                             rtlib.ipv4_header(src, dst, len(u), ident=ident, **kw) + u)

        arp_garbage = rtlib.eth(router_mac, host_mac, ETH_P_ARP, struct.pack(
            "!HHBBH6s4s6s4s", 1, ETH_P_IP, 7, 4, 1, rtlib.mac_bytes(host_mac),
            rtlib.ip4(src), b"\0" * 6, rtlib.ip4(s.lan.router_ip)))
        cases = [
            # name, frame, expected drop reason
            ("Ethernet header only (14 bytes)",
             rtlib.eth(router_mac, host_mac, ETH_P_IP, b""), "ip_bad_len"),
            ("truncated IP header (10 of 20 bytes)",
             ip_frame(0x0ff)[:14 + 10], "ip_bad_len"),
            ("IP version 6 in an IPv4 frame", ip_frame(0x100, version=6), "ip_bad_version"),
            ("IHL 4 (16-byte header)", ip_frame(0x101, ihl=4), "ip_bad_ihl"),
            ("total length beyond the frame", ip_frame(0x102, total=1000), "ip_bad_len"),
            ("total length below the header", ip_frame(0x103, total=12), "ip_bad_ihl"),
            ("bad header checksum", ip_frame(0x104, good_csum=False), "ip_bad_csum"),
            ("source 127.0.0.1", rtlib.eth(router_mac, host_mac, ETH_P_IP, rtlib.ipv4_header(
                "127.0.0.1", dst, 8) + b"\0" * 8), "ip_bad_src"),
            ("unknown EtherType 0x88b5", rtlib.eth(router_mac, host_mac, 0x88b5, b"\0" * 46),
             "bad_ethertype"),
            ("ARP with hardware length 7", arp_garbage, "arp_bad"),
        ]
        for name, frame, reason in cases:
            before = rtlib.stats(s)
            for _ in range(N):
                tx.send(frame)
                time.sleep(0.02)
            time.sleep(0.3)
            after = rtlib.stats(s)
            d = rtlib.drop_deltas(before, after)
            c.check(d == {reason: N}, f"{name}: counted as {reason} x{N}, nothing else", str(d))

        # TTL 1 toward the WAN host: time exceeded (RFC 792 type 11 code 0), dropped.
        before = rtlib.stats(s)
        for i in range(N):
            tx.send(ip_frame(0x200, ttl=1))
            time.sleep(0.05)
        got = recv_icmp(icmp_rx, 11, 0, 0x200)
        after = rtlib.stats(s)
        c.check(rtlib.drop_deltas(before, after) == {"ttl_exceeded": N},
                f"TTL 1: counted as ttl_exceeded x{N}", str(rtlib.drop_deltas(before, after)))
        c.check(len(got) == N, f"TTL 1: {N} ICMP time-exceeded quoting our datagram",
                f"got {len(got)}")

        # DF + larger than the WAN MTU: frag needed (type 3 code 4) with the next-hop MTU.
        big = b"y" * (1400 - 28)
        before = rtlib.stats(s)
        for i in range(N):
            tx.send(ip_frame(0x300, payload=big, df=True))
            time.sleep(0.05)
        got = recv_icmp(icmp_rx, 3, 4, 0x300)
        after = rtlib.stats(s)
        c.check(rtlib.drop_deltas(before, after) == {"frag_needed": N},
                f"DF 1400 bytes toward MTU {wan_mtu}: counted as frag_needed x{N}",
                str(rtlib.drop_deltas(before, after)))
        mtus = [struct.unpack("!H", h[6:8])[0] for h in got]
        c.check(len(got) == N and all(m == wan_mtu for m in mtus),
                f"DF oversize: {N} ICMP frag-needed carrying next-hop MTU {wan_mtu}", str(mtus))

        # Without DF: fragmented to the WAN MTU, reassembled by the WAN host.
        before = rtlib.stats(s)
        for i in range(N):
            tx.send(ip_frame(0x400 + i, payload=big))
            time.sleep(0.05)
        time.sleep(0.5)
        after = rtlib.stats(s)
        frags = rtlib.delta(before, after, "stack.wan.frag_tx")
        c.check(frags == 2 * N, f"non-DF 1400 bytes: {2 * N} fragments sent on the WAN",
                str(frags))
        c.check(not rtlib.drop_deltas(before, after), "non-DF oversize: no drop",
                str(rtlib.drop_deltas(before, after)))
        datagrams = []
        while True:
            try:
                datagrams.append(udp_rx.recv(4096))
            except BlockingIOError:
                break
        c.check(len(datagrams) == N and all(d == big for d in datagrams),
                f"WAN host reassembled {N} intact datagrams", f"{len(datagrams)}")

        for sock in (tx, icmp_rx, udp_rx):
            sock.close()
        r = harness.traffic.ping(s.lan.ns, s.wan.host_ip, count=5, interval=0.2)
        c.check(r["received"] == 5, "good traffic still forwarded afterwards", str(r))
        x = s.xfer(1024 * 1024, frm="lan", timeout=60)
        c.check(x["ok"], "1 MiB TCP LAN->WAN afterwards (PMTU: WAN MTU below LAN's)")
        rtlib.check_stacks(c, s)


if __name__ == "__main__":
    a = rtlib.parse_args(__doc__)
    if a.image == rtlib.DEFAULT_IMAGE:
        a.image = a.image.replace("router.elf", "router-mtu.elf")
    sys.exit(rtlib.run_test("qemu.router.bad_frames", lambda c: body(c, a),
                            budget=a.budget or 180))
