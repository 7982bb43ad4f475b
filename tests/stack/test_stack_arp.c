/*
 * Ethernet filtering and ARP: replies, validation, resolution with the pending queue,
 * retries and timeouts, aging with re-confirmation, MAC changes, eviction.
 */
#include <string.h>
#include "st.h"

static uint8_t f[2048], orig[2048];

static size_t to_h2(uint8_t ttl, size_t plen)
{
    return st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, ST_H2_IP, 17, ttl, 0, 20, plen);
}

static int find_arp(uint32_t ip, struct net_arp_info *out)
{
    unsigned i;
    for (i = 0; net_arp_get(i, out) == NET_OK; i++) {
        if (out->ip == ip)
            return 1;
    }
    return 0;
}

static void test_ethernet_filter(void)
{
    size_t len = to_h2(64, 20);

    st_rx(&st_lan, f, 13);
    ST_EQ(st_ctr(st_lan.nif, "drop_runt"), 1);
    st_rx(&st_lan, f, 1515);
    ST_EQ(st_ctr(st_lan.nif, "drop_too_long"), 1);
    memcpy(f, st_h2_mac, 6);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_not_for_us"), 1);
    /* Our address but one octet off (group bit left alone): each of the six positions,
     * both halves of the word-wise compare. */
    for (unsigned i = 0; i < 6; i++) {
        memcpy(f, st_lan_mac, 6);
        f[i] ^= i == 0 ? 0x02u : 0x01u;
        st_rx(&st_lan, f, len);
        ST_EQ(st_ctr(st_lan.nif, "drop_not_for_us"), 2 + i);
    }
    memcpy(f, "\x01\x00\x5e\x00\x00\x01", 6);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_eth_multicast"), 1);
    memcpy(f, st_lan_mac, 6);
    st_put16(f + 12, 0x05dc); /* 802.3 length 1500 */
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_eth_8023"), 1);
    st_put16(f + 12, 0x86dd); /* IPv6 */
    st_rx(&st_lan, f, len);
    st_put16(f + 12, 0x8100); /* VLAN tag */
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_bad_ethertype"), 2);
    ST_EQ(st_ctr(st_lan.nif, "rx_frames"), 13);
    ST_EQ(st_ctr(st_lan.nif, "rx_drops"), 13);
    /* Interface down: everything dropped as if_down. */
    ST_EQ(net_if_down(st_lan.nif), NET_OK);
    len = to_h2(64, 20);
    st_rx(&st_lan, f, len);
    ST_EQ(st_ctr(st_lan.nif, "drop_if_down"), 1);
    ST_EQ(st_lan.nframes + st_wan.nframes, 0);
    st_check_accounting();
}

static void test_gratuitous_arp_on_up(void)
{
    const uint8_t *a;

    ST_EQ(net_if_up(st_wan.nif), NET_OK);
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_wan.frames[0].len, 60);
    ST_EQ(st_wan.frames[0].flags, 0); /* not batched: nobody will flush */
    a = st_wan.frames[0].data + 14;
    ST_CHECK(memcmp(st_wan.frames[0].data, st_bcast, 6) == 0);
    ST_CHECK(memcmp(st_wan.frames[0].data + 6, st_wan_mac, 6) == 0);
    ST_EQ(st_get16(st_wan.frames[0].data + 12), 0x0806);
    ST_EQ(st_get16(a), 1);
    ST_EQ(st_get16(a + 2), 0x0800);
    ST_EQ(a[4], 6);
    ST_EQ(a[5], 4);
    ST_EQ(st_get16(a + 6), 1);
    ST_CHECK(memcmp(a + 8, st_wan_mac, 6) == 0);
    ST_EQ(st_get32(a + 14), ST_WAN_IP);
    ST_CHECK(memcmp(a + 18, st_zero, 6) == 0);
    ST_EQ(st_get32(a + 24), ST_WAN_IP);
}

static void test_arp_reply(void)
{
    struct net_arp_info ai;
    const uint8_t *r, *a;
    size_t len = st_arp(f, st_bcast, st_h1_mac, 1, ST_H1_IP, st_zero, ST_LAN_IP);

    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_lan.flushes, 1);
    r = st_lan.frames[0].data;
    a = r + 14;
    ST_EQ(st_lan.frames[0].len, 60);
    ST_CHECK(memcmp(r, st_h1_mac, 6) == 0);
    ST_CHECK(memcmp(r + 6, st_lan_mac, 6) == 0);
    ST_EQ(st_get16(a + 6), 2);
    ST_CHECK(memcmp(a + 8, st_lan_mac, 6) == 0);
    ST_EQ(st_get32(a + 14), ST_LAN_IP);
    ST_CHECK(memcmp(a + 18, st_h1_mac, 6) == 0);
    ST_EQ(st_get32(a + 24), ST_H1_IP);
    /* The requester was learned (RFC 826: the target learns the sender). */
    ST_CHECK(find_arp(ST_H1_IP, &ai));
    ST_EQ(ai.state, NET_ARP_REACHABLE);
    ST_CHECK(memcmp(ai.mac, st_h1_mac, 6) == 0);
    ST_CHECK(strcmp(ai.ifname, "lan") == 0);
    ST_EQ(st_ctr(st_lan.nif, "arp_req_rx"), 1);
    ST_EQ(st_ctr(st_lan.nif, "arp_reply_tx"), 1);

    /* A request for another address: not answered, sender not learned. */
    st_clear();
    len = st_arp(f, st_bcast, st_h2_mac, 1, NET_IP4(198, 18, 0, 77), st_zero,
                 NET_IP4(198, 18, 0, 78));
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 0);
    ST_CHECK(!find_arp(NET_IP4(198, 18, 0, 77), &ai));
    ST_EQ(st_ctr(st_lan.nif, "drop_arp_not_for_us"), 1);

    /* An RFC 5227 probe for our address (sender 0.0.0.0) is answered, not learned. */
    len = st_arp(f, st_bcast, st_h2_mac, 1, 0, st_zero, ST_LAN_IP);
    st_rx(&st_lan, f, len);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_get32(st_lan.frames[0].data + 14 + 24), 0);
    ST_CHECK(!find_arp(0, &ai));
    st_check_accounting();
}

static void test_arp_validation(void)
{
    static const struct {
        unsigned off;
        uint8_t val;
    } bad[] = {
        {15, 6},    /* hardware type 6 */
        {16, 0x86}, /* protocol type 0x8600 */
        {18, 8},    /* hardware length 8 */
        {19, 16},   /* protocol length 16 */
        {21, 3},    /* op 3 */
        {21, 0},    /* op 0 */
        {22, 0x01}, /* sender MAC multicast */
        {28, 0xe0}, /* sender IP multicast */
        {28, 127},  /* sender IP loopback */
    };
    size_t i, len;
    uint64_t n = 0;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        len = st_arp(f, st_bcast, st_h1_mac, 1, ST_H1_IP, st_zero, ST_LAN_IP);
        f[bad[i].off] = bad[i].val;
        st_rx(&st_lan, f, len);
        ST_EQ(st_ctr(st_lan.nif, "drop_arp_bad"), ++n);
    }
    len = st_arp(f, st_bcast, st_bcast, 1, ST_H1_IP, st_zero, ST_LAN_IP);
    st_rx(&st_lan, f, len); /* sender MAC broadcast */
    len = st_arp(f, st_bcast, st_zero, 1, ST_H1_IP, st_zero, ST_LAN_IP);
    st_rx(&st_lan, f, len); /* sender MAC zero */
    len = st_arp(f, st_bcast, st_h1_mac, 1, NET_IP4(198, 18, 0, 255), st_zero, ST_LAN_IP);
    st_rx(&st_lan, f, len); /* sender = subnet broadcast */
    len = st_arp(f, st_bcast, st_h1_mac, 1, ST_LAN_IP, st_zero, ST_LAN_IP);
    st_rx(&st_lan, f, len); /* sender claims our address */
    len = st_arp(f, st_bcast, st_h1_mac, 1, ST_H1_IP, st_zero, ST_LAN_IP);
    st_rx(&st_lan, f, 14 + 27); /* truncated */
    ST_EQ(st_ctr(st_lan.nif, "drop_arp_bad"), n + 5);
    ST_EQ(st_lan.nframes, 0);
    ST_EQ(st_gctr("arp_entries"), 0);
    st_check_accounting();
}

static void test_arp_resolution_end_to_end(void)
{
    struct net_arp_info ai;
    const uint8_t *a;
    size_t len[3];
    unsigned i;
    static uint8_t origs[3][2048];

    for (i = 0; i < 3; i++) {
        len[i] = to_h2((uint8_t)(64 + i), 50 + i);
        memcpy(origs[i], f, len[i]);
        net_process_received_packet(st_lan.nif, f, len[i]);
    }
    net_rx_batch_end(st_lan.nif);
    /* One request, broadcast, for H2; nothing forwarded yet. */
    ST_EQ(st_wan.nframes, 1);
    ST_EQ(st_wan.flushes, 1);
    a = st_wan.frames[0].data + 14;
    ST_CHECK(memcmp(st_wan.frames[0].data, st_bcast, 6) == 0);
    ST_EQ(st_get16(a + 6), 1);
    ST_EQ(st_get32(a + 14), ST_WAN_IP);
    ST_EQ(st_get32(a + 24), ST_H2_IP);
    ST_CHECK(find_arp(ST_H2_IP, &ai));
    ST_EQ(ai.state, NET_ARP_INCOMPLETE);
    ST_EQ(ai.pending, 3);
    ST_EQ(st_gctr("arp_pool_used"), 3);
    st_check_accounting();

    /* The reply arrives on the WAN: the queued frames leave in order, rewritten. */
    st_clear();
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    ST_EQ(st_wan.nframes, 3);
    ST_EQ(st_wan.flushes, 1);
    for (i = 0; i < 3; i++) {
        const uint8_t *o = st_wan.frames[i].data;
        ST_EQ(st_wan.frames[i].len, len[i]);
        ST_CHECK(memcmp(o, st_h2_mac, 6) == 0);
        ST_CHECK(memcmp(o + 6, st_wan_mac, 6) == 0);
        ST_EQ(o[22], 64 + i - 1);
        ST_EQ(st_ref_csum(o + 14, 20), 0);
        ST_CHECK(memcmp(o + 34, origs[i] + 34, len[i] - 34) == 0);
    }
    ST_EQ(st_gctr("arp_pool_used"), 0);
    ST_EQ(st_ctr(st_lan.nif, "fwd_frames"), 3);
    ST_CHECK(find_arp(ST_H2_IP, &ai));
    ST_EQ(ai.state, NET_ARP_REACHABLE);
    /* Now resolved: forwarded at once. */
    st_clear();
    len[0] = to_h2(64, 10);
    st_rx(&st_lan, f, len[0]);
    ST_EQ(st_wan.nframes, 1);
    st_check_accounting();
}

static void test_arp_pending_limits(void)
{
    unsigned i, h;
    size_t len;

    for (i = 0; i < NET_ARP_PENDING_MAX + 2; i++) {
        len = to_h2(64, 10);
        st_rx(&st_lan, f, len);
    }
    ST_EQ(st_ctr(st_wan.nif, "drop_arp_pending_full"), 2);
    ST_EQ(st_ctr(st_wan.nif, "arp_req_tx"), 1 + 1); /* gratuitous + one request */
    /* Exhaust the shared pool with other hosts. */
    for (h = 0; h < NET_ARP_POOL_FRAMES; h++) {
        for (i = 0; i < NET_ARP_PENDING_MAX; i++) {
            len = st_ip(f, st_lan_mac, st_h1_mac, ST_H1_IP, NET_IP4(198, 19, 0, 100 + h), 17, 64, 0,
                        20, 10);
            st_rx(&st_lan, f, len);
        }
    }
    ST_EQ(st_gctr("arp_pool_used"), NET_ARP_POOL_FRAMES);
    ST_EQ(st_ctr(st_wan.nif, "drop_arp_pending_full"),
          2 + NET_ARP_POOL_FRAMES * NET_ARP_PENDING_MAX -
              (NET_ARP_POOL_FRAMES - NET_ARP_PENDING_MAX));
    st_check_accounting();
}

static void test_arp_timeout(void)
{
    struct net_arp_info ai;
    size_t len = to_h2(64, 30);
    unsigned t;

    memcpy(orig, f, len);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    /* Retries every NET_ARP_RETRY_MS; a tick that comes early sends nothing. */
    st_tick(NET_ARP_RETRY_MS / 2);
    ST_EQ(st_wan.nframes, 1);
    for (t = 1; t < NET_ARP_MAX_TRIES; t++) {
        st_tick(NET_ARP_RETRY_MS);
        ST_EQ(st_wan.nframes, 1 + t);
        ST_EQ(st_get32(st_wan.frames[t].data + 14 + 24), ST_H2_IP);
    }
    ST_CHECK(find_arp(ST_H2_IP, &ai));
    ST_EQ(ai.tries, NET_ARP_MAX_TRIES);
    ST_EQ(st_lan.nframes, 0);
    st_tick(NET_ARP_RETRY_MS);
    /* Given up: frame dropped as arp_timeout, ICMP host unreachable to the sender
       (quoting the datagram as it was queued, TTL already decremented). */
    ST_CHECK(!find_arp(ST_H2_IP, &ai));
    ST_EQ(st_ctr(st_wan.nif, "drop_arp_timeout"), 1);
    ST_EQ(st_gctr("arp_pool_used"), 0);
    ST_EQ(st_lan.nframes, 1);
    ST_EQ(st_lan.flushes, 1);
    orig[22]--;
    st_ip_fix_csum(orig);
    ST_CHECK(
        st_check_icmp_error(&st_lan.frames[0], st_h1_mac, st_lan_mac, ST_LAN_IP, 3, 1, orig, len));
    st_check_accounting();
}

static void test_arp_aging(void)
{
    struct net_arp_info ai;
    size_t len;
    unsigned n;

    /* Unused entries disappear after NET_ARP_REACHABLE_MS. */
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    st_tick(NET_ARP_REACHABLE_MS - 100);
    ST_CHECK(find_arp(ST_H2_IP, &ai));
    ST_EQ(ai.age_ms, NET_ARP_REACHABLE_MS - 100);
    st_tick(100);
    ST_CHECK(!find_arp(ST_H2_IP, &ai));
    ST_EQ(st_wan.nframes, 0);

    /* Used entries turn stale and are re-confirmed while still in use. */
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    len = to_h2(64, 10);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    st_clear();
    st_tick(NET_ARP_REACHABLE_MS);
    ST_CHECK(find_arp(ST_H2_IP, &ai));
    ST_EQ(ai.state, NET_ARP_STALE);
    ST_EQ(st_wan.nframes, 1); /* the re-confirmation request */
    ST_EQ(st_get32(st_wan.frames[0].data + 14 + 24), ST_H2_IP);
    st_clear();
    len = to_h2(64, 10);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1); /* forwarded, not queued */
    ST_CHECK(memcmp(st_wan.frames[0].data, st_h2_mac, 6) == 0);
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    ST_CHECK(find_arp(ST_H2_IP, &ai));
    ST_EQ(ai.state, NET_ARP_REACHABLE);
    ST_EQ(ai.age_ms, 0);

    /* Stale and silent: forgotten after NET_ARP_MAX_TRIES requests. */
    st_rx(&st_lan, f, to_h2(64, 10));
    st_clear();
    st_tick(NET_ARP_REACHABLE_MS);
    for (n = 1; n < NET_ARP_MAX_TRIES; n++)
        st_tick(NET_ARP_RETRY_MS);
    ST_EQ(st_wan.nframes, NET_ARP_MAX_TRIES);
    ST_CHECK(find_arp(ST_H2_IP, &ai));
    st_tick(NET_ARP_RETRY_MS);
    ST_CHECK(!find_arp(ST_H2_IP, &ai));
    st_check_accounting();
}

static void test_arp_mac_change(void)
{
    static const uint8_t new_mac[6] = {0x02, 0xbb, 0, 0, 0, 0x99};
    size_t len;

    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    len = to_h2(64, 10);
    st_rx(&st_lan, f, len);
    ST_CHECK(memcmp(st_wan.frames[0].data, st_h2_mac, 6) == 0);
    /* H2 announces a new MAC with a gratuitous request (not addressed to us): the
       existing entry is updated (RFC 826 merge) and the next-hop cache follows. */
    len = st_arp(f, st_bcast, new_mac, 1, ST_H2_IP, st_zero, ST_H2_IP);
    st_rx(&st_wan, f, len);
    ST_EQ(st_ctr(st_wan.nif, "drop_arp_not_for_us"), 0);
    st_clear();
    len = to_h2(64, 10);
    st_rx(&st_lan, f, len);
    ST_EQ(st_wan.nframes, 1);
    ST_CHECK(memcmp(st_wan.frames[0].data, new_mac, 6) == 0);
    st_check_accounting();
}

static void test_arp_eviction(void)
{
    unsigned i;
    struct net_arp_info ai;
    uint8_t mac[6] = {0x02, 0xdd, 0, 0, 0, 0};

    for (i = 0; i < NET_ARP_ENTRIES + 1; i++) {
        mac[5] = (uint8_t)i;
        st_learn(&st_wan, NET_IP4(198, 19, 0, 100 + i), mac);
        st_tick(10);
    }
    ST_EQ(st_gctr("arp_entries"), NET_ARP_ENTRIES);
    ST_CHECK(!find_arp(NET_IP4(198, 19, 0, 100), &ai)); /* the oldest went */
    ST_CHECK(find_arp(NET_IP4(198, 19, 0, 100 + NET_ARP_ENTRIES), &ai));
    st_check_accounting();
}

static void test_if_down_flushes_arp(void)
{
    size_t len = to_h2(64, 10);

    st_rx(&st_lan, f, len);
    st_learn(&st_lan, ST_H1_IP, st_h1_mac);
    ST_EQ(st_gctr("arp_entries"), 2);
    ST_EQ(net_if_down(st_wan.nif), NET_OK);
    ST_EQ(st_gctr("arp_entries"), 1);
    ST_EQ(st_gctr("arp_pool_used"), 0);
    ST_EQ(st_ctr(st_wan.nif, "drop_arp_timeout"), 1);
    st_check_accounting();
}

static void test_pending_then_fragmented(void)
{
    size_t len;
    unsigned i;

    st_setup_wan_mtu(576);
    len = to_h2(64, 1000); /* 1020 bytes, no DF: fragmented when it finally leaves */
    st_rx(&st_lan, f, len);
    st_clear();
    st_learn(&st_wan, ST_H2_IP, st_h2_mac);
    ST_EQ(st_wan.nframes, 2);
    for (i = 0; i < 2; i++) {
        ST_CHECK(memcmp(st_wan.frames[i].data, st_h2_mac, 6) == 0);
        ST_EQ(st_ref_csum(st_wan.frames[i].data + 14, 20), 0);
        ST_CHECK(st_wan.frames[i].len <= 14 + 576);
    }
    ST_EQ(st_ctr(st_wan.nif, "frag_tx"), 2);
    st_check_accounting();
}

int main(void)
{
    static const struct st_case cases[] = {
        {"ethernet_filter", test_ethernet_filter},
        {"gratuitous_arp_on_up", test_gratuitous_arp_on_up},
        {"arp_reply", test_arp_reply},
        {"arp_validation", test_arp_validation},
        {"arp_resolution_end_to_end", test_arp_resolution_end_to_end},
        {"arp_pending_limits", test_arp_pending_limits},
        {"arp_timeout", test_arp_timeout},
        {"arp_aging", test_arp_aging},
        {"arp_mac_change", test_arp_mac_change},
        {"arp_eviction", test_arp_eviction},
        {"if_down_flushes_arp", test_if_down_flushes_arp},
        {"pending_then_fragmented", test_pending_then_fragmented},
    };
    return st_run(cases, sizeof(cases) / sizeof(cases[0]));
}
