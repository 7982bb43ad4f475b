/*
 * Router stack: frames with offload metadata (net_process_received_packet_hdr): GSO
 * frames forwarded whole with their metadata, partial checksums, the drops that guard
 * them, and local delivery of NEEDS_CSUM / DATA_VALID frames.
 */
#include <stdlib.h>
#include <string.h>
#include "st.h"

/* Largest IPv4 datagram: 20 + 20 header bytes and 65495 bytes of TCP payload. */
#define GSO_TOT   65535u
#define GSO_FRAME (14u + GSO_TOT)
#define MSS       1448u

static uint8_t rxbuf[ST_BIG_MAX + 16];
static uint8_t orig[ST_BIG_MAX + 16];
static uint8_t big_lan[ST_BIG_MAX], big_wan[ST_BIG_MAX];

static void setup(uint16_t wan_mtu, bool lan_meta, bool wan_meta)
{
    st_setup_meta(wan_mtu, lan_meta, wan_meta);
    st_lan.big = big_lan;
    st_wan.big = big_wan;
    st_lan.big_len = st_wan.big_len = 0;
}

/* Folded sum of the TCP/UDP pseudo-header (RFC 793 3.1), not complemented. */
static uint16_t pseudo_sum(const uint8_t *ip, size_t l4len)
{
    uint8_t ph[12];

    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = ip[9];
    st_put16(ph + 10, (uint16_t)l4len);
    return (uint16_t)~st_ref_csum(ph, sizeof(ph));
}

/* Is the TCP checksum of this frame's datagram complete and right? */
static bool tcp_csum_ok(const uint8_t *f)
{
    const uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 0xfu) * 4u, l4len = st_get16(ip + 2) - ihl;
    uint8_t ph[12];
    uint64_t sum = 0;
    size_t i;

    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = ip[9];
    st_put16(ph + 10, (uint16_t)l4len);
    for (i = 0; i < 12; i += 2)
        sum += st_get16(ph + i);
    for (i = 0; i < l4len; i++)
        sum += (i & 1) ? ip[ihl + i] : (uint64_t)ip[ihl + i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

/*
 * A TCP segment from `src` to `dst` with `plen` payload bytes (pseudo-random, so a moved
 * byte shows), DF set unless `frag` says otherwise. `partial`: the checksum field holds
 * the pseudo-header sum, as a sender with checksum offload leaves it; else complete.
 */
static size_t tcp_frame(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src,
                        uint32_t dst, uint16_t frag, size_t plen, bool partial)
{
    size_t len = st_ip(f, dst_mac, src_mac, src, dst, 6, 64, frag, 20, 20 + plen);
    uint8_t *tcp = f + 34;
    uint32_t x = 0x12345678u;
    size_t i;

    memset(tcp, 0, 20);
    st_put16(tcp, 40000);
    st_put16(tcp + 2, 5201);
    st_put32(tcp + 4, 1000);
    tcp[12] = 5u << 4;
    tcp[13] = 0x18; /* PSH ACK */
    st_put16(tcp + 14, 65535);
    for (i = 0; i < plen; i++) {
        x = x * 1103515245u + 12345u;
        tcp[20 + i] = (uint8_t)(x >> 16);
    }
    st_put16(tcp + 16, pseudo_sum(f + 14, 20 + plen));
    if (!partial) {
        /* complete: the partial sum in the field folded with the segment's sum */
        st_put16(tcp + 16, st_ref_csum(tcp, 20 + plen));
    }
    return len;
}

static struct net_pkt_meta gso_meta(uint16_t gso_size)
{
    struct net_pkt_meta m;

    memset(&m, 0, sizeof(m));
    m.flags = NET_META_F_NEEDS_CSUM;
    m.gso_type = NET_META_GSO_TCPV4;
    m.gso_size = gso_size;
    m.hdr_len = 54;
    m.csum_start = 34;
    m.csum_offset = 16;
    return m;
}

static struct net_pkt_meta csum_meta(uint16_t start, uint16_t offset)
{
    struct net_pkt_meta m;

    memset(&m, 0, sizeof(m));
    m.flags = NET_META_F_NEEDS_CSUM;
    m.csum_start = start;
    m.csum_offset = offset;
    return m;
}

static bool meta_eq(const struct net_pkt_meta *a, const struct net_pkt_meta *b)
{
    return a->flags == b->flags && a->gso_type == b->gso_type && a->hdr_len == b->hdr_len &&
           a->gso_size == b->gso_size && a->csum_start == b->csum_start &&
           a->csum_offset == b->csum_offset;
}

static void rx_meta(struct st_nic *nic, const struct net_pkt_meta *m, size_t len)
{
    net_process_received_packet_hdr(nic->nif, m, rxbuf, len);
    net_rx_batch_end(nic->nif);
}

/* Forwarded exactly as the router must: MACs, TTL - 1, header checksum, nothing else. */
static void check_forwarded(const uint8_t *out, const uint8_t *in, size_t len,
                            const uint8_t *dst_mac, const uint8_t *src_mac)
{
    ST_CHECK(memcmp(out, dst_mac, 6) == 0);
    ST_CHECK(memcmp(out + 6, src_mac, 6) == 0);
    ST_EQ(out[14 + 8], in[14 + 8] - 1);
    ST_EQ(st_ref_csum(out + 14, 20), 0);
    ST_CHECK(memcmp(out + 12, in + 12, 10) == 0);                 /* type .. flags/offset */
    ST_CHECK(memcmp(out + 14 + 9, in + 14 + 9, 1) == 0);          /* protocol */
    ST_CHECK(memcmp(out + 14 + 12, in + 14 + 12, len - 26) == 0); /* addresses, L4 */
}

static void gso_forward_dir(struct st_nic *from, struct st_nic *to, uint32_t src, uint32_t dst,
                            const uint8_t *peer_mac, const uint8_t *from_mac, const uint8_t *to_mac)
{
    struct net_pkt_meta m = gso_meta(MSS);
    size_t len = tcp_frame(rxbuf, from_mac, peer_mac, src, dst, 0x4000, GSO_TOT - 40, true);
    uint64_t tx0 = st_ctr(to->nif, "tx_frames"), txb0 = st_ctr(to->nif, "tx_bytes");

    ST_EQ(len, GSO_FRAME);
    memcpy(orig, rxbuf, len);
    rx_meta(from, &m, len);
    ST_EQ(to->nframes, 1);
    ST_EQ(from->nframes, 0);
    ST_EQ(to->frames[0].len, GSO_FRAME);
    ST_EQ(to->big_len, GSO_FRAME);
    ST_CHECK(to->frames[0].has_meta);
    ST_CHECK(meta_eq(&to->frames[0].meta, &m));
    ST_EQ(to->frames[0].flags, NET_TX_MORE | NET_TX_RXBUF);
    ST_EQ(to->flushes, 1);
    check_forwarded(to->big, orig, len, to == &st_wan ? st_h2_mac : st_h1_mac, to_mac);
    /* The partial TCP checksum is the device's to complete: left as received. */
    ST_EQ(st_get16(to->big + 34 + 16), st_get16(orig + 34 + 16));
    ST_EQ(st_ctr(from->nif, "fwd_gso"), 1);
    ST_EQ(st_ctr(from->nif, "fwd_frames"), 1);
    ST_EQ(st_ctr(to->nif, "tx_frames") - tx0, 1); /* gratuitous ARPs before */
    ST_EQ(st_ctr(to->nif, "tx_bytes") - txb0, GSO_FRAME);
    ST_EQ(st_gctr("csum_sw"), 0);
    ST_EQ(st_gctr("rx_drops"), 0);
    st_check_accounting();
}

static void test_gso_forward_lan_to_wan(void)
{
    setup(0, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    gso_forward_dir(&st_lan, &st_wan, ST_H1_IP, ST_H2_IP, st_h1_mac, st_lan_mac, st_wan_mac);
}

static void test_gso_forward_wan_to_lan(void)
{
    setup(0, true, true);
    st_learn(&st_lan, ST_H1_IP, st_h1_mac);
    st_clear();
    gso_forward_dir(&st_wan, &st_lan, ST_H2_IP, ST_H1_IP, st_h2_mac, st_wan_mac, st_lan_mac);
}

/* A GSO frame whose segments fit a smaller egress MTU goes whole: no fragments, no ICMP. */
static void test_gso_small_mtu_fits(void)
{
    struct net_pkt_meta m = gso_meta(1200);
    size_t len;

    setup(1280, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0, 20000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_wan.frames[0].len, len);
    ST_EQ(st_lan.nframes, 0);
    ST_EQ(st_gctr("frag_tx"), 0);
    ST_EQ(st_gctr("fwd_gso"), 1);
    st_check_accounting();
}

static void test_gso_no_output_meta(void)
{
    struct net_pkt_meta m = gso_meta(MSS);
    size_t len;

    uint64_t tx0;

    setup(0, true, false);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    tx0 = st_gctr("tx_frames");
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 0);
    ST_EQ(st_lan.nframes, 0); /* no ICMP: the sender did nothing wrong */
    ST_EQ(st_ctr(st_wan.nif, "drop_gso_unsupported"), 1);
    ST_EQ(st_gctr("rx_drops"), 1);
    ST_EQ(st_gctr("fwd_frames"), 0);
    ST_EQ(st_gctr("tx_frames"), tx0);
    st_check_accounting();
}

static void test_gso_egress_unsupp(void)
{
    struct net_pkt_meta m = gso_meta(MSS);
    size_t len;

    uint64_t tx0, txb0;

    setup(0, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    tx0 = st_gctr("tx_frames");
    txb0 = st_gctr("tx_bytes");
    st_wan.fail_next = 1;
    st_wan.fail_err = NET_E_UNSUPP;
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 0);
    ST_EQ(st_ctr(st_wan.nif, "drop_gso_unsupported"), 1);
    ST_EQ(st_gctr("fwd_frames"), 0);
    ST_EQ(st_gctr("fwd_gso"), 0);
    ST_EQ(st_gctr("tx_frames"), tx0);
    ST_EQ(st_gctr("tx_bytes"), txb0);
    ST_EQ(st_wan.flushes, 0);
    /* Another error from the same output is a plain tx error. */
    st_wan.fail_next = 1;
    st_wan.fail_err = NET_E_BUSY;
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_ctr(st_wan.nif, "drop_tx_busy"), 1);
    ST_EQ(st_gctr("rx_drops"), 2);
    st_check_accounting();
}

static void test_gso_segment_too_big(void)
{
    struct net_pkt_meta m = gso_meta(1461); /* 20 + 20 + 1461 = 1501 > 1500 */
    size_t len;

    setup(0, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    /* DF: dropped, and the sender learns the MTU (RFC 1191). */
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    memcpy(orig, rxbuf, len);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 0);
    ST_EQ(st_ctr(st_lan.nif, "drop_gso_too_big"), 1);
    ST_EQ(st_lan.nframes, 1);
    ST_CHECK(
        st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 3, 4, orig, len));
    ST_EQ(st_get16(st_lan.frames[0].data + 34 + 6), 1500);
    /* Without DF: dropped silently (this router neither segments nor fragments). */
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 0);
    ST_EQ(st_lan.nframes, 0);
    ST_EQ(st_ctr(st_lan.nif, "drop_gso_too_big"), 2);
    ST_EQ(st_gctr("drop_frag_needed"), 0);
    ST_EQ(st_gctr("frag_tx"), 0);
    /* Against a 1280-byte egress MTU a 1448-byte MSS does not fit either. */
    setup(1280, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    m = gso_meta(MSS);
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 0);
    ST_EQ(st_ctr(st_lan.nif, "drop_gso_too_big"), 1);
    ST_EQ(st_get16(st_lan.frames[0].data + 34 + 6), 1280);
    st_check_accounting();
}

/* The first GSO frame to an unresolved next hop cannot wait in the pool: dropped, but the
   resolution starts, and the next frame goes. */
static void test_gso_arp_miss(void)
{
    struct net_pkt_meta m = gso_meta(MSS);
    size_t len;

    setup(0, true, true);
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_ctr(st_wan.nif, "drop_gso_arp_miss"), 1);
    ST_EQ(st_wan.nframes, 1); /* the ARP request */
    ST_EQ(st_get16(st_wan.frames[0].data + 12), 0x0806);
    ST_EQ(st_gctr("arp_pool_used"), 0);
    /* Still unresolved: dropped again, no second request yet. */
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_ctr(st_wan.nif, "drop_gso_arp_miss"), 2);
    ST_EQ(st_wan.nframes, 1);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 1);
    ST_CHECK(st_wan.frames[0].has_meta);
    ST_EQ(st_gctr("fwd_gso"), 1);
    st_check_accounting();
}

/* A non-GSO NEEDS_CSUM frame keeps its metadata; without output_meta, or when it must
   wait for ARP, its checksum is completed in software. */
static void test_needs_csum_forward(void)
{
    struct net_pkt_meta m = csum_meta(34, 16);
    size_t len;

    setup(0, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 1000, true);
    memcpy(orig, rxbuf, len);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 1);
    ST_CHECK(st_wan.frames[0].has_meta);
    ST_CHECK(meta_eq(&st_wan.frames[0].meta, &m));
    check_forwarded(st_wan.frames[0].data, orig, len, st_h2_mac, st_wan_mac);
    ST_EQ(st_gctr("fwd_gso"), 0);
    ST_EQ(st_gctr("fwd_frames"), 1);
    ST_EQ(st_gctr("csum_sw"), 0);
    /* DATA_VALID is a receive-side fact: not passed on. */
    st_clear();
    m.flags |= NET_META_F_DATA_VALID;
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 1000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_wan.frames[0].meta.flags, NET_META_F_NEEDS_CSUM);

    /* No output_meta on the egress: completed in software, sent plain. */
    setup(0, true, false);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    m = csum_meta(34, 16);
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 1000, true);
    ST_CHECK(!tcp_csum_ok(rxbuf));
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 1);
    ST_CHECK(!st_wan.frames[0].has_meta);
    ST_CHECK(tcp_csum_ok(st_wan.frames[0].data));
    ST_EQ(st_ctr(st_lan.nif, "csum_sw"), 1);

    /* Unresolved next hop: queued with the checksum completed, released plain. */
    setup(0, true, true);
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 1000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_gctr("arp_pool_used"), 1);
    memset(rxbuf, 0, len); /* the queued copy must not depend on the receive buffer */
    st_clear();
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    ST_EQ(st_wan.nframes, 1);
    ST_CHECK(!st_wan.frames[0].has_meta);
    ST_CHECK(tcp_csum_ok(st_wan.frames[0].data));
    ST_EQ(st_gctr("fwd_frames"), 1);
    st_check_accounting();
}

/* Fragmenting a NEEDS_CSUM datagram: its checksum is completed before it is cut. */
static void test_needs_csum_fragmented(void)
{
    struct net_pkt_meta m = csum_meta(34, 16);
    static uint8_t re[2048];
    size_t len, pos = 0;
    unsigned i;

    setup(1280, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0, 1400, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 2);
    /* Reassemble the TCP segment and check its checksum. */
    memcpy(re, st_wan.frames[0].data, 34);
    for (i = 0; i < st_wan.nframes; i++) {
        const uint8_t *f = st_wan.frames[i].data;
        size_t n = st_get16(f + 16) - 20;
        ST_CHECK(!st_wan.frames[i].has_meta);
        ST_EQ((st_get16(f + 20) & 0x1fffu) * 8u, pos);
        memcpy(re + 34 + pos, f + 34, n);
        pos += n;
    }
    st_put16(re + 16, (uint16_t)(20 + pos));
    ST_EQ(pos, 1420);
    ST_CHECK(tcp_csum_ok(re));
    ST_EQ(st_gctr("csum_sw"), 1);
    ST_EQ(st_gctr("frag_tx"), 2);
    st_check_accounting();
}

static void test_needs_csum_echo_local(void)
{
    struct net_pkt_meta m = csum_meta(34, 2);
    size_t len;

    setup(0, true, true);
    /* ICMP has no pseudo-header: a partial checksum is 0. */
    len = st_icmp(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 64, 8, 0, 56);
    st_put16(rxbuf + 34 + 2, 0);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_lan.frames[0].data[34], 0); /* echo reply */
    ST_EQ(st_ref_csum(st_lan.frames[0].data + 34, len - 34), 0);
    ST_EQ(st_ref_csum(st_lan.frames[0].data + 14, 20), 0);
    ST_CHECK(!st_lan.frames[0].has_meta);
    ST_EQ(st_ctr(st_lan.nif, "icmp_echo_rx"), 1);
    ST_EQ(st_ctr(st_lan.nif, "csum_sw"), 1);
    ST_EQ(st_gctr("drop_icmp_bad"), 0);

    /* The WAN address from the LAN side, with DATA_VALID: answered too. */
    st_clear();
    memset(&m, 0, sizeof(m));
    m.flags = NET_META_F_DATA_VALID;
    len = st_icmp(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_WAN_IP, 64, 8, 0, 100);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_ref_csum(st_lan.frames[0].data + 34, len - 34), 0);
    ST_EQ(st_ctr(st_lan.nif, "icmp_echo_rx"), 2);

    /* Partial checksum pointing at the wrong place: completes into garbage, fails. */
    st_clear();
    m = csum_meta(34, 6);
    len = st_icmp(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 64, 8, 0, 56);
    st_put16(rxbuf + 34 + 2, 0x1234);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_lan.nframes, 0);
    ST_EQ(st_gctr("drop_icmp_bad"), 1);
    st_check_accounting();
}

/* Metadata with nothing in it is the plain path. */
static void test_empty_meta_plain(void)
{
    struct net_pkt_meta m;
    size_t len;

    setup(0, true, true);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_clear();
    memset(&m, 0, sizeof(m));
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 1000, false);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_wan.nframes, 1);
    ST_CHECK(!st_wan.frames[0].has_meta);
    ST_CHECK(tcp_csum_ok(st_wan.frames[0].data));
    /* NULL meta through the _hdr entry: the same. */
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 1000, false);
    rx_meta(&st_lan, NULL, len);
    ST_EQ(st_wan.nframes, 2);
    ST_CHECK(!st_wan.frames[1].has_meta);
    /* A plain frame over the MTU stays too long even through the _hdr entry. */
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 1461, false);
    m = csum_meta(34, 16);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_gctr("drop_too_long"), 1);
    st_check_accounting();
}

struct bad_case {
    const char *what;
    size_t plen;     /* TCP payload; (size_t)-1: IP header + 10 bytes only */
    uint8_t proto;   /* 0: TCP */
    uint16_t frag;   /* flags/offset word */
    uint8_t tcp_off; /* 0: 5 */
    struct net_pkt_meta m;
    const char *reason;
};

static void test_meta_malformed(void)
{
    static const struct bad_case cases[] = {
        {"gso, shorter than its headers",
         (size_t)-1,
         0,
         0x4000,
         0,
         {1, NET_META_GSO_TCPV4, 54, MSS, 34, 16},
         "drop_meta_bad"},
        {"gso TCPv6 on an IPv4 frame",
         3000,
         0,
         0x4000,
         0,
         {1, NET_META_GSO_TCPV6, 74, MSS, 34, 16},
         "drop_meta_bad"},
        {"gso type unknown (UDP)", 3000, 0, 0x4000, 0, {1, 3, 42, MSS, 34, 16}, "drop_meta_bad"},
        {"gso ECN bit alone",
         3000,
         0,
         0x4000,
         0,
         {1, NET_META_GSO_ECN, 54, MSS, 34, 16},
         "drop_meta_bad"},
        {"gso size 0", 3000, 0, 0x4000, 0, {1, NET_META_GSO_TCPV4, 54, 0, 34, 16}, "drop_meta_bad"},
        {"gso without NEEDS_CSUM",
         3000,
         0,
         0x4000,
         0,
         {0, NET_META_GSO_TCPV4, 54, MSS, 0, 0},
         "drop_meta_bad"},
        {"gso on UDP",
         3000,
         17,
         0x4000,
         0,
         {1, NET_META_GSO_TCPV4, 42, MSS, 34, 6},
         "drop_meta_bad"},
        {"gso on a fragment",
         3000,
         0,
         0x2000,
         0,
         {1, NET_META_GSO_TCPV4, 54, MSS, 34, 16},
         "drop_meta_bad"},
        {"gso TCP data offset 4",
         3000,
         0,
         0x4000,
         4,
         {1, NET_META_GSO_TCPV4, 54, MSS, 34, 16},
         "drop_meta_bad"},
        {"gso TCP header beyond the datagram",
         20,
         0,
         0x4000,
         15,
         {1, NET_META_GSO_TCPV4, 54, MSS, 34, 16},
         "drop_meta_bad"},
        {"gso checksum not at TCP's",
         3000,
         0,
         0x4000,
         0,
         {1, NET_META_GSO_TCPV4, 54, MSS, 34, 6},
         "drop_meta_bad"},
        {"csum_start inside the IP header",
         1000,
         0,
         0x4000,
         0,
         {1, 0, 0, 0, 20, 16},
         "drop_meta_bad"},
        {"csum field beyond the datagram",
         1000,
         0,
         0x4000,
         0,
         {1, 0, 0, 0, 34, 1019},
         "drop_meta_bad"},
        {"unknown flag", 1000, 0, 0x4000, 0, {0x4, 0, 0, 0, 0, 0}, "drop_meta_bad"},
        {"gso frame over the GSO maximum",
         70000,
         0,
         0x4000,
         0,
         {1, NET_META_GSO_TCPV4, 54, MSS, 34, 16},
         "drop_too_long"},
    };
    unsigned i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct bad_case *c = &cases[i];
        size_t len;

        setup(0, true, true);
        st_learn(&st_wan, ST_H2_IP, st_h2_mac);
        st_clear();
        if (c->plen == (size_t)-1) {
            len = st_ip(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 6, 64, c->frag, 20, 10);
        } else if (c->plen > GSO_TOT) {
            /* longer than any datagram: an Ethernet frame past NET_GSO_FRAME_MAX */
            len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, c->frag, GSO_TOT - 40,
                            true);
            len = NET_GSO_FRAME_MAX + 1;
        } else {
            len =
                tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, c->frag, c->plen, true);
            if (c->proto != 0) {
                rxbuf[14 + 9] = c->proto;
                st_ip_fix_csum(rxbuf);
            }
            if (c->tcp_off != 0)
                rxbuf[34 + 12] = (uint8_t)(c->tcp_off << 4);
        }
        rx_meta(&st_lan, &c->m, len);
        if (st_wan.nframes != 0 || st_lan.nframes != 0 || st_gctr(c->reason) != 1 ||
            st_gctr("rx_drops") != 1) {
            fprintf(stderr, "[%s] case '%s': not dropped as %s\n", st_current, c->what, c->reason);
            st_failures++;
        }
        st_check_accounting();
    }

    /* ARP carrying offload metadata. */
    {
        struct net_pkt_meta m = gso_meta(MSS);
        size_t len;

        setup(0, true, true);
        st_clear();
        len = st_arp(rxbuf, st_bcast, st_h1_mac, 1, ST_H1_IP, st_zero, ST_LAN_IP);
        rx_meta(&st_lan, &m, len);
        ST_EQ(st_lan.nframes, 0);
        ST_EQ(st_gctr("drop_meta_bad"), 1);
        st_check_accounting();
    }
}

/* TTL 1 and no route still behave as without metadata (ICMP quoting the header). */
static void test_gso_ttl_and_route(void)
{
    struct net_pkt_meta m = gso_meta(MSS);
    size_t len;

    setup(0, true, true);
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 0x4000, 30000, true);
    rxbuf[14 + 8] = 1;
    st_ip_fix_csum(rxbuf);
    memcpy(orig, rxbuf, len);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_ttl_exceeded"), 1);
    ST_EQ(st_lan.nframes, 1);
    ST_CHECK(
        st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 11, 0, orig, len));
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, NET_IP4(198, 51, 100, 1), 0x4000, 30000,
                    true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_no_route"), 1);
    /* TCP to the router itself: dropped silently as without metadata. */
    st_clear();
    len = tcp_frame(rxbuf, st_lan_mac, st_h1_mac, ST_H1_IP, ST_LAN_IP, 0x4000, 30000, true);
    rx_meta(&st_lan, &m, len);
    ST_EQ(st_lan.nframes, 0);
    ST_EQ(st_ctr(st_lan.nif, "drop_ip_proto_unsupported"), 1);
    st_check_accounting();
}

int main(void)
{
    static const struct st_case cases[] = {
        {"gso_forward_lan_to_wan", test_gso_forward_lan_to_wan},
        {"gso_forward_wan_to_lan", test_gso_forward_wan_to_lan},
        {"gso_small_mtu_fits", test_gso_small_mtu_fits},
        {"gso_no_output_meta", test_gso_no_output_meta},
        {"gso_egress_unsupp", test_gso_egress_unsupp},
        {"gso_segment_too_big", test_gso_segment_too_big},
        {"gso_arp_miss", test_gso_arp_miss},
        {"gso_ttl_and_route", test_gso_ttl_and_route},
        {"needs_csum_forward", test_needs_csum_forward},
        {"needs_csum_fragmented", test_needs_csum_fragmented},
        {"needs_csum_echo_local", test_needs_csum_echo_local},
        {"empty_meta_plain", test_empty_meta_plain},
        {"meta_malformed", test_meta_malformed},
    };

    return st_run(cases, sizeof(cases) / sizeof(cases[0]));
}
