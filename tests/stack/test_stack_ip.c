/*
 * IPv4 forwarding and ICMP: every validation rule, the exact ICMP errors produced, the
 * RFC 1812 "never send an error about..." rules, rate limiting, fragmentation, routing.
 */
#include <string.h>
#include "st.h"

static uint8_t f[2048], orig[2048];

/* LAN host -> WAN host, neighbour already resolved. */
static size_t fwd_frame(uint8_t ttl, size_t plen)
{
    return st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, ttl, 0, 20, plen);
}

static void test_forward_basic(void)
{
    size_t len;
    const uint8_t *o;

    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    len = fwd_frame(64, 100);
    memcpy(orig, f, len);
    net_process_received_packet(st_lan.nif, f, len);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_wan.flushes, 0); /* deferred until the batch ends */
    /* A forwarded frame's last use: the output may keep the receive buffer. */
    ST_EQ(st_wan.frames[0].flags, NET_TX_MORE | NET_TX_RXBUF);
    net_rx_batch_end(st_lan.nif);
    ST_EQ(st_wan.flushes, 1);
    ST_EQ(st_lan.flushes, 0);
    o = st_wan.frames[0].data;
    ST_EQ(st_wan.frames[0].len, len);
    ST_CHECK(memcmp(o, st_h2_mac, 6) == 0);
    ST_CHECK(memcmp(o + 6, st_wan_mac, 6) == 0);
    ST_EQ(o[14 + 8], 63);
    ST_EQ(st_ref_csum(o + 14, 20), 0);
    /* Everything but MACs, TTL and checksum unchanged. */
    ST_CHECK(memcmp(o + 12, orig + 12, 10) == 0);
    ST_CHECK(memcmp(o + 14 + 12, orig + 14 + 12, len - 26) == 0);
    ST_EQ(st_ctr(st_lan.nif, "fwd_frames"), 1);
    /* + the 60-byte gratuitous ARP sent when st_setup brought the interface up */
    ST_EQ(st_ctr(st_wan.nif, "tx_frames"), 1 + 1);
    ST_EQ(st_ctr(st_wan.nif, "tx_bytes"), len + 60);
    ST_EQ(st_ctr(st_wan.nif, "arp_req_tx"), 1);
    /* A second batch with nothing sent flushes nothing. */
    net_rx_batch_end(st_lan.nif);
    ST_EQ(st_wan.flushes, 1);
    st_check_accounting();
}

static void test_ethernet_padding_trimmed(void)
{
    size_t len;

    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    len = fwd_frame(64, 4); /* 42 bytes: padded to 60 on the wire */
    memset(f + len, 0xee, 60 - len);
    st_rx(&st_lan, f, 60);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_wan.frames[0].len, len);
    st_check_accounting();
}

struct bad_case {
    const char *counter;
    void (*mutate)(uint8_t *fr, size_t *len);
};

static void m_short(uint8_t *fr, size_t *len)
{
    (void)fr;
    *len = 14 + 19;
}
static void m_version(uint8_t *fr, size_t *len)
{
    (void)len;
    fr[14] = 0x65;
    st_ip_fix_csum(fr);
}
static void m_ihl_small(uint8_t *fr, size_t *len)
{
    (void)len;
    fr[14] = 0x44; /* checksum over 16 bytes would not even be defined */
}
static void m_ihl_over_total(uint8_t *fr, size_t *len)
{
    (void)len;
    st_put16(fr + 16, 20);
    fr[14] = 0x46;
}
static void m_total_over_frame(uint8_t *fr, size_t *len)
{
    st_put16(fr + 16, (uint16_t)(*len - 14 + 1));
    st_ip_fix_csum(fr);
}
static void m_csum(uint8_t *fr, size_t *len)
{
    (void)len;
    fr[14 + 10] ^= 0x01;
}
static void src_set(uint8_t *fr, uint32_t a)
{
    st_put32(fr + 14 + 12, a);
    st_ip_fix_csum(fr);
}
static void m_src_mcast(uint8_t *fr, size_t *len)
{
    (void)len;
    src_set(fr, NET_IP4(224, 0, 0, 5));
}
static void m_src_bcast(uint8_t *fr, size_t *len)
{
    (void)len;
    src_set(fr, 0xffffffffu);
}
static void m_src_subnet_bcast(uint8_t *fr, size_t *len)
{
    (void)len;
    src_set(fr, NET_IP4(198, 18, 0, 255));
}
static void m_src_zero(uint8_t *fr, size_t *len)
{
    (void)len;
    src_set(fr, 0);
}
static void m_src_loopback(uint8_t *fr, size_t *len)
{
    (void)len;
    src_set(fr, NET_IP4(127, 0, 0, 1));
}
static void m_src_ours(uint8_t *fr, size_t *len)
{
    (void)len;
    src_set(fr, ST_WAN_IP);
}
static void dst_set(uint8_t *fr, uint32_t a)
{
    st_put32(fr + 14 + 16, a);
    st_ip_fix_csum(fr);
}
static void m_dst_loopback(uint8_t *fr, size_t *len)
{
    (void)len;
    dst_set(fr, NET_IP4(127, 0, 0, 1));
}
static void m_dst_mcast(uint8_t *fr, size_t *len)
{
    (void)len;
    dst_set(fr, NET_IP4(239, 1, 2, 3));
}
static void m_dst_bcast(uint8_t *fr, size_t *len)
{
    (void)len;
    dst_set(fr, 0xffffffffu);
}
static void m_dst_directed_bcast(uint8_t *fr, size_t *len)
{
    (void)len;
    dst_set(fr, NET_IP4(198, 19, 0, 255));
}
static void m_l2_bcast(uint8_t *fr, size_t *len)
{
    (void)len;
    memset(fr, 0xff, 6);
}

static void test_ip_validation(void)
{
    static const struct bad_case cases[] = {
        {"drop_ip_bad_len", m_short},
        {"drop_ip_bad_version", m_version},
        {"drop_ip_bad_ihl", m_ihl_small},
        {"drop_ip_bad_ihl", m_ihl_over_total},
        {"drop_ip_bad_len", m_total_over_frame},
        {"drop_ip_bad_csum", m_csum},
        {"drop_ip_bad_src", m_src_mcast},
        {"drop_ip_bad_src", m_src_bcast},
        {"drop_ip_bad_src", m_src_subnet_bcast},
        {"drop_ip_bad_src", m_src_zero},
        {"drop_ip_bad_src", m_src_loopback},
        {"drop_ip_bad_src", m_src_ours},
        {"drop_ip_bad_dst", m_dst_loopback},
        {"drop_ip_mcast", m_dst_mcast},
        {"drop_ip_bcast", m_dst_bcast},
        {"drop_ip_bcast", m_dst_directed_bcast},
        {"drop_l2_bcast_fwd", m_l2_bcast},
    };
    size_t i;

    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t before = st_ctr(st_lan.nif, cases[i].counter);
        uint64_t drops = st_gctr("rx_drops");
        size_t len = fwd_frame(64, 40);
        cases[i].mutate(f, &len);
        st_clear();
        st_rx(&st_lan, f, len);
        if (st_ctr(st_lan.nif, cases[i].counter) != before + 1) {
            fprintf(stderr, "case %zu: %s not incremented\n", i, cases[i].counter);
            st_failures++;
        }
        ST_EQ(st_gctr("rx_drops"), drops + 1);
        /* Invalid datagrams get no ICMP error and are never forwarded. */
        ST_EQ(st_wan.nframes + st_lan.nframes, 0);
    }
    st_check_accounting();
}

static void test_echo_reply(void)
{
    size_t len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 64, 8, 0, 56);
    const uint8_t *r, *ip, *icmp;

    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_lan.flushes, 1);
    r = st_lan.frames[0].data;
    ip = r + 14;
    icmp = ip + 20;
    ST_EQ(st_lan.frames[0].len, len);
    ST_CHECK(memcmp(r, st_h1_mac, 6) == 0);
    ST_CHECK(memcmp(r + 6, st_lan_mac, 6) == 0);
    ST_EQ(st_get32(ip + 12), ST_LAN_IP);
    ST_EQ(st_get32(ip + 16), ST_H1_IP);
    ST_EQ(ip[8], NET_IP_DEFAULT_TTL);
    /* A reply the stack built is no received frame to keep. */
    ST_EQ(st_lan.frames[0].flags & NET_TX_RXBUF, 0);
    ST_EQ(st_ref_csum(ip, 20), 0);
    ST_EQ(icmp[0], 0);
    ST_EQ(icmp[1], 0);
    ST_EQ(st_ref_csum(icmp, len - 34), 0);
    /* identifier, sequence and data echoed */
    ST_CHECK(memcmp(icmp + 4, orig + 34 + 4, len - 38) == 0);
    ST_EQ(st_ctr(st_lan.nif, "icmp_echo_rx"), 1);

    /* The WAN address answers from the LAN too, with the WAN address as source. */
    st_clear();
    len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_WAN_IP, 64, 8, 0, 0);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_get32(st_lan.frames[0].data + 26), ST_WAN_IP);
    ST_EQ(st_ref_csum(st_lan.frames[0].data + 34, 8), 0);

    /* With IP options: the reply carries none, and is still valid. */
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 1, 64, 0, 28, 16);
    f[42] = 8;
    f[43] = 0;
    st_put16(f + 44, 0);
    st_put16(f + 44, st_ref_csum(f + 42, 16));
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_lan.frames[0].len, len - 8);
    ST_EQ(st_lan.frames[0].data[14], 0x45);
    ST_EQ(st_ref_csum(st_lan.frames[0].data + 14, 20), 0);
    ST_EQ(st_ref_csum(st_lan.frames[0].data + 34, 16), 0);
    ST_EQ(st_lan.frames[0].data[34], 0);
    st_check_accounting();
}

static void test_icmp_local_drops(void)
{
    size_t len;

    /* bad ICMP checksum */
    len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 64, 8, 0, 8);
    f[40] ^= 0xff;
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_icmp_bad"), 1);
    /* truncated ICMP */
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 1, 64, 0, 20, 4);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_icmp_bad"), 2);
    /* echo reply to us: nothing to do */
    len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 64, 0, 0, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_icmp_unhandled"), 1);
    /* fragment to us */
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 1, 64, 0x2000, 20, 16);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_ip_frag_local"), 1);
    /* TCP: dropped silently */
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 6, 64, 0, 20, 20);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_ip_proto_unsupported"), 1);
    ST_EQ(st_lan.nframes, 0);
    st_check_accounting();
}

static void test_udp_to_router_port_unreachable(void)
{
    size_t len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 17, 64, 0, 20, 30);

    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_ip_proto_unsupported"), 1);
    ST_EQ(st_lan.nframes, 1);
    ST_CHECK(
        st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 3, 3, orig, len));
    /* unknown protocol: protocol unreachable */
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 99, 64, 0, 20, 30);
    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    ST_CHECK(
        st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 3, 2, orig, len));
    st_check_accounting();
}

static void test_ttl_exceeded(void)
{
    size_t len;
    unsigned ttl;

    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    for (ttl = 0; ttl <= 1; ttl++) {
        st_clear();
        len = fwd_frame((uint8_t)ttl, 200);
        memcpy(orig, f, len);
        st_rx(&st_lan, f, len);
        ST_EQ(st_wan.nframes, 0);
        ST_EQ(st_lan.nframes, 1);
        ST_CHECK(st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 11, 0,
                                     orig, len));
    }
    ST_EQ(st_ctr(st_lan.nif, "drop_ttl_exceeded"), 2);
    ST_EQ(st_ctr(st_lan.nif, "icmp_err_tx"), 2);
    /* TTL 2 is forwarded with TTL 1 */
    st_clear();
    len = fwd_frame(2, 10);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_wan.frames[0].data[22], 1);
    st_check_accounting();
}

static void test_no_route(void)
{
    size_t len =
        st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, NET_IP4(198, 19, 7, 7), 17, 64, 0, 20, 10);

    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_no_route"), 1);
    ST_EQ(st_lan.nframes, 1);
    ST_CHECK(
        st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 3, 0, orig, len));
    st_check_accounting();
}

static void test_icmp_error_suppression(void)
{
    size_t len;

    /* ICMP error about an ICMP error: none */
    len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 1, 3, 1, 28);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_ttl_exceeded"), 1);
    ST_EQ(st_lan.nframes, 0);
    /* unknown ICMP type is treated as an error: none */
    len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 1, 200, 0, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 0);
    /* about an echo request (a query): yes */
    len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 1, 8, 0, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    /* non-first fragment: none; first fragment: yes */
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 1, 0x0010, 20, 16);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 0);
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 1, 0x2000, 20, 16);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    /* no route for a datagram to a multicast/broadcast address: dropped, no error */
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, NET_IP4(239, 0, 0, 1), 17, 64, 0, 20, 16);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 0);
    /* link-layer broadcast with TTL 1: dropped as l2_bcast_fwd, no error */
    len = st_ip(f, st_bcast, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 1, 0, 20, 16);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 0);
    /* UDP to the router sent as a link-layer broadcast: no port unreachable */
    len = st_ip(f, st_bcast, st_h1_mac, ST_H1_IP, ST_LAN_IP, 17, 64, 0, 20, 16);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 0);
    ST_EQ(st_ctr(st_lan.nif, "drop_ip_proto_unsupported"), 1);
    st_check_accounting();
}

static void test_icmp_rate_limit(void)
{
    unsigned i, sent;
    size_t len;

    for (i = 0; i < NET_ICMP_BURST + 5; i++) {
        len = fwd_frame(1, 8);
        st_rx(&st_lan, f, len);
    }
    ST_EQ(st_lan.nframes, NET_ICMP_BURST);
    ST_EQ(st_ctr(st_lan.nif, "icmp_ratelimited"), 5);
    ST_EQ(st_ctr(st_lan.nif, "drop_ttl_exceeded"), NET_ICMP_BURST + 5);
    /* 50 ms at 100/s refills 5 tokens */
    st_clear();
    st_tick(50);
    for (i = 0; i < 10; i++) {
        len = fwd_frame(1, 8);
        st_rx(&st_lan, f, len);
    }
    sent = st_lan.nframes;
    ST_EQ(sent, (NET_ICMP_RATE_PER_S * 50u) / 1000u);
    /* A long pause refills only up to the burst. */
    st_clear();
    st_tick(60000);
    ST_EQ(st_gctr("icmp_tokens"), NET_ICMP_BURST);
    /* Echo replies are not rate-limited. */
    for (i = 0; i < 2 * NET_ICMP_BURST; i++) {
        len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 64, 8, 0, 8);
        st_rx(&st_lan, f, len);
    }
    ST_EQ(st_lan.nframes, 2 * NET_ICMP_BURST);
    st_check_accounting();
}

static void test_frag_needed(void)
{
    size_t len;
    const uint8_t *icmp;

    st_setup_wan_mtu(576);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 64, 0x4000, 20, 557);
    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 0);
    ST_EQ(st_lan.nframes, 1);
    ST_CHECK(
        st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 3, 4, orig, len));
    icmp = st_lan.frames[0].data + 34;
    ST_EQ(st_get16(icmp + 4), 0);   /* unused */
    ST_EQ(st_get16(icmp + 6), 576); /* next-hop MTU, RFC 1191 */
    ST_EQ(st_ctr(st_lan.nif, "drop_frag_needed"), 1);
    /* Exactly the MTU passes. */
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 64, 0x4000, 20, 556);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_ctr(st_wan.nif, "frag_tx"), 0);
    st_check_accounting();
}

/* Check the fragments captured on the WAN from index `first` against the original
   datagram `o` (as received); returns how many there were. */
static unsigned check_fragments(const uint8_t *o, size_t olen, unsigned first, size_t hl1,
                                size_t hln, uint16_t mtu)
{
    static uint8_t rebuilt[65536];
    size_t ohl = (o[14] & 0xfu) * 4u, opay = olen - 14 - ohl, got = 0;
    uint16_t ofrag = st_get16(o + 14 + 6);
    unsigned i, n = 0;

    memset(rebuilt, 0, sizeof(rebuilt));
    for (i = first; i < st_wan.nframes; i++) {
        const uint8_t *fr = st_wan.frames[i].data, *ip = fr + 14;
        size_t hl = (ip[0] & 0xfu) * 4u, tot = st_get16(ip + 2);
        uint16_t fw = st_get16(ip + 6);
        size_t off = (size_t)(fw & 0x1fff) * 8u - (size_t)(ofrag & 0x1fff) * 8u;
        bool last = i + 1 == st_wan.nframes;

        ST_EQ(st_wan.frames[i].len, 14 + tot);
        ST_CHECK(tot <= mtu);
        ST_CHECK(memcmp(fr, st_h2_mac, 6) == 0);
        ST_CHECK(memcmp(fr + 6, st_wan_mac, 6) == 0);
        ST_EQ(st_ref_csum(ip, hl), 0);
        ST_EQ(hl, i == first ? hl1 : hln);
        ST_EQ(ip[8], o[14 + 8] - 1);
        ST_CHECK(memcmp(ip + 12, o + 14 + 12, 8) == 0);
        ST_EQ(st_get16(ip + 4), st_get16(o + 14 + 4));
        ST_EQ(fw & 0x2000, last ? (ofrag & 0x2000) : 0x2000);
        if (!last)
            ST_EQ((tot - hl) % 8, 0);
        ST_EQ(off, got);
        memcpy(rebuilt + off, ip + hl, tot - hl);
        got += tot - hl;
        n++;
    }
    ST_EQ(got, opay);
    ST_CHECK(memcmp(rebuilt, o + 14 + ohl, opay) == 0);
    return n;
}

static void test_fragmentation(void)
{
    size_t len;
    unsigned n;
    uint8_t *ip = f + 14;

    st_setup_wan_mtu(576);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    /* 28-byte header: router alert (copied, 4 bytes) + record route (not copied). */
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 64, 0, 28, 1400);
    memcpy(ip + 20, "\x94\x04\x00\x00\x07\x04\x04\x00", 8);
    st_ip_fix_csum(f);
    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    /* 1400 bytes: 544 in the first (576-28 rounded down to 8), 552 next, 304 last. */
    n = check_fragments(orig, len, 0, 28, 24, 576);
    ST_EQ(n, 3);
    /* Fragments are written over the buffer after each output: none may be kept. */
    for (unsigned i = 0; i < st_wan.nframes; i++)
        ST_EQ(st_wan.frames[i].flags & NET_TX_RXBUF, 0);
    ST_EQ(st_wan.frames[1].data[14 + 20], 0x94); /* copied option kept */
    ST_EQ(st_ctr(st_wan.nif, "frag_tx"), 3);
    ST_EQ(st_ctr(st_wan.nif, "tx_frames"), 1 + 3); /* gratuitous ARP + fragments */
    ST_EQ(st_ctr(st_lan.nif, "fwd_frames"), 1);
    ST_EQ(st_wan.flushes, 1);

    /* A datagram that is itself a middle fragment (offset 800, MF): every piece keeps
       MF and the offsets continue from 800. */
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 64, 0x2000 | 100, 20, 1000);
    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    n = check_fragments(orig, len, 0, 20, 20, 576);
    ST_EQ(n, 2);

    /* The driver refuses the second fragment: the datagram counts as dropped, the first
       fragment as sent. */
    st_clear();
    st_wan.fail_after = 1;
    st_wan.fail_next = 1;
    st_wan.fail_err = NET_E_BUSY;
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, 64, 0, 20, 1400);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_ctr(st_wan.nif, "drop_tx_busy"), 1);
    ST_EQ(st_ctr(st_lan.nif, "fwd_frames"), 2);
    st_check_accounting();
}

static void test_routing_lpm(void)
{
    struct net_route_info ri;
    uint32_t dst;
    size_t len;

    st_learn(&st_wan, ST_GW_IP, st_gw_mac);
    st_learn(&st_lan, NET_IP4(198, 18, 0, 2), st_h2_mac);
    ST_EQ(net_route_add(0, 0, ST_GW_IP, st_wan.nif), NET_OK);
    ST_EQ(net_route_add(NET_IP4(198, 20, 0, 0), 16, NET_IP4(198, 18, 0, 2), st_lan.nif), NET_OK);
    ST_EQ(net_route_add(NET_IP4(198, 20, 5, 0), 24, ST_GW_IP, st_wan.nif), NET_OK);
    ST_EQ(net_route_add(NET_IP4(198, 20, 5, 0), 24, ST_GW_IP, st_wan.nif), NET_E_EXIST);
    ST_EQ(net_route_add(NET_IP4(198, 20, 5, 1), 24, ST_GW_IP, st_wan.nif), NET_E_INVAL);
    ST_EQ(net_route_add(NET_IP4(198, 21, 0, 0), 16, NET_IP4(198, 18, 0, 9), st_wan.nif),
          NET_E_INVAL); /* gateway not on the WAN subnet */
    ST_EQ(net_route_add(NET_IP4(198, 21, 0, 0), 33, 0, st_wan.nif), NET_E_INVAL);

    /* Lookup order: longest prefix first. */
    ST_EQ(net_route_get(0, &ri), NET_OK);
    ST_EQ(ri.prefix_len, 24);
    ST_EQ(net_route_get(4, &ri), NET_OK);
    ST_EQ(ri.prefix_len, 0);
    ST_EQ(ri.gateway, ST_GW_IP);
    ST_CHECK(strcmp(ri.ifname, "wan") == 0);
    ST_EQ(net_route_get(5, &ri), NET_E_NOENT);

    /* 198.20.5.9 -> /24 via the WAN gateway; 198.20.6.9 -> /16 via the LAN router;
       203.0.113.1 (documentation address, never sent anywhere) -> default. */
    dst = NET_IP4(198, 20, 5, 9);
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, dst, 17, 64, 0, 20, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    ST_CHECK(memcmp(st_wan.frames[0].data, st_gw_mac, 6) == 0);
    dst = NET_IP4(198, 20, 6, 9);
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, dst, 17, 64, 0, 20, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1); /* hairpin back out of the LAN to the other router */
    ST_CHECK(memcmp(st_lan.frames[0].data, st_h2_mac, 6) == 0);
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, NET_IP4(198, 51, 100, 1), 17, 64, 0, 20, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);

    /* Deleting the /24 sends 198.20.5.9 to the /16 (the per-ingress cache must not keep
       the old decision). */
    dst = NET_IP4(198, 20, 5, 9);
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, dst, 17, 64, 0, 20, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(net_route_del(NET_IP4(198, 20, 5, 0), 24), NET_OK);
    ST_EQ(net_route_del(NET_IP4(198, 20, 5, 0), 24), NET_E_NOENT);
    ST_EQ(net_route_del(NET_IP4(198, 19, 0, 0), 24), NET_E_PERM); /* connected */
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, dst, 17, 64, 0, 20, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 0);
    ST_EQ(st_lan.nframes, 1);

    /* Interface down: its routes are skipped; the default route goes too. */
    ST_EQ(net_if_down(st_wan.nif), NET_OK);
    st_clear();
    len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, NET_IP4(198, 51, 100, 1), 17, 64, 0, 20, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_no_route"), 1);
    st_check_accounting();
}

static void test_tx_busy(void)
{
    size_t len;

    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_wan.fail_next = 1;
    st_wan.fail_err = NET_E_BUSY;
    len = fwd_frame(64, 10);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_wan.nif, "drop_tx_busy"), 1);
    ST_EQ(st_ctr(st_lan.nif, "fwd_frames"), 0);
    ST_EQ(st_ctr(st_wan.nif, "tx_frames"), 1); /* the gratuitous ARP only */
    ST_EQ(st_wan.flushes, 0);                  /* nothing posted: nothing to kick */
    st_wan.fail_next = 1;
    st_wan.fail_err = -8;
    len = fwd_frame(64, 10);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_wan.nif, "drop_tx_error"), 1);
    /* Router-originated frame refused: counted apart from the drops. */
    st_lan.fail_next = 1;
    st_lan.fail_err = NET_E_BUSY;
    len = st_icmp(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 64, 8, 0, 8);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "tx_own_failed"), 1);
    len = fwd_frame(64, 10);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "fwd_frames"), 1);
    st_check_accounting();
}

static void test_introspection(void)
{
    struct net_if_info ii;
    unsigned n = 0;

    ST_CHECK(net_if_get(0) == st_lan.nif);
    ST_CHECK(net_if_get(1) == st_wan.nif);
    ST_CHECK(net_if_get(2) == NULL);
    ST_CHECK(net_if_find("wan") == st_wan.nif);
    ST_CHECK(net_if_find("wa") == NULL);
    ST_EQ(net_if_get_info(st_wan.nif, &ii), NET_OK);
    ST_EQ(ii.ip, ST_WAN_IP);
    ST_EQ(ii.prefix_len, 24);
    ST_EQ(ii.mtu, 1500);
    ST_CHECK(ii.up);
    ST_CHECK(memcmp(ii.mac, st_wan_mac, 6) == 0);
    ST_CHECK(strcmp(net_drop_reason_name(NET_DROP_ttl_exceeded), "ttl_exceeded") == 0);
    ST_CHECK(strcmp(net_drop_reason_name(NET_DROP_COUNT), "?") == 0);
    for (n = 0; n < NET_DROP_COUNT; n++)
        ST_CHECK(net_drop_reason_name((enum net_drop_reason)n)[0] != '?');
    /* Every drop reason has a counter of its own. */
    for (n = 0; n < NET_DROP_COUNT; n++) {
        char name[64];
        snprintf(name, sizeof(name), "drop_%s", net_drop_reason_name((enum net_drop_reason)n));
        ST_EQ(st_ctr(st_lan.nif, name), 0);
    }
    ST_EQ(st_gctr("routes"), 2);
}

static void test_config_errors(void)
{
    struct net_if_config cfg;
    struct net_if *nif;
    struct net_stack_config sc;

    memset(&sc, 0, sizeof(sc));
    sc.lock = (void (*)(void *))NULL;
    memset(&cfg, 0, sizeof(cfg));
    cfg.name = "lan";
    cfg.output = (net_output_fn)0;
    ST_EQ(net_if_add(&cfg, &nif), NET_E_INVAL);
    ST_EQ(net_if_add(NULL, &nif), NET_E_INVAL);
    ST_EQ(net_stack_init(NULL), NET_E_INVAL);
    ST_EQ(net_if_up(NULL), NET_E_INVAL);
    ST_EQ(net_route_add(0, 0, 0, NULL), NET_E_INVAL);
}

int main(void)
{
    static const struct st_case cases[] = {
        {"forward_basic", test_forward_basic},
        {"ethernet_padding_trimmed", test_ethernet_padding_trimmed},
        {"ip_validation", test_ip_validation},
        {"echo_reply", test_echo_reply},
        {"icmp_local_drops", test_icmp_local_drops},
        {"udp_to_router_port_unreachable", test_udp_to_router_port_unreachable},
        {"ttl_exceeded", test_ttl_exceeded},
        {"no_route", test_no_route},
        {"frag_needed", test_frag_needed},
        {"icmp_error_suppression", test_icmp_error_suppression},
        {"icmp_rate_limit", test_icmp_rate_limit},
        {"fragmentation", test_fragmentation},
        {"routing_lpm", test_routing_lpm},
        {"tx_busy", test_tx_busy},
        {"introspection", test_introspection},
        {"config_errors", test_config_errors},
    };
    return st_run(cases, sizeof(cases) / sizeof(cases[0]));
}
