/*
 * Host test harness for the router stack (see st.h).
 */
#include <string.h>
#include "st.h"
#include "net/net_csum.h"

int st_failures;
const char *st_current = "";
struct st_nic st_lan = {.name = "lan"}, st_wan = {.name = "wan"};
const uint8_t st_lan_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const uint8_t st_wan_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const uint8_t st_h1_mac[6] = {0x02, 0xaa, 0x00, 0x00, 0x00, 0x10};
const uint8_t st_h2_mac[6] = {0x02, 0xbb, 0x00, 0x00, 0x00, 0x20};
const uint8_t st_gw_mac[6] = {0x02, 0xcc, 0x00, 0x00, 0x00, 0xfe};
const uint8_t st_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
const uint8_t st_zero[6] = {0};
uint32_t st_now;
unsigned st_lock_calls, st_unlock_calls, st_lock_errors, st_output_locked;
static unsigned st_lock_depth;

static void st_lock(void *arg)
{
    if (arg != &st_lock_depth || st_lock_depth != 0)
        st_lock_errors++; /* nested or wrong argument */
    st_lock_depth++;
    st_lock_calls++;
}

static void st_unlock(void *arg)
{
    if (arg != &st_lock_depth || st_lock_depth != 1)
        st_lock_errors++;
    st_lock_depth--;
    st_unlock_calls++;
}

static int st_capture(struct st_nic *nic, const struct net_pkt_meta *meta, const uint8_t *frame,
                      size_t len, unsigned flags)
{
    struct st_frame *fr;

    if (st_lock_depth != 0)
        st_output_locked++;
    if (nic->fail_next > 0 && nic->fail_after == 0) {
        nic->fail_next--;
        return nic->fail_err;
    }
    if (nic->fail_after > 0)
        nic->fail_after--;
    if (len > ST_BIG_MAX || (len > ST_FRAME_MAX && nic->big == NULL) ||
        nic->nframes >= ST_MAX_FRAMES) {
        fprintf(stderr, "[%s] capture overflow on %s\n", st_current, nic->name);
        st_failures++;
        return NET_E_BUSY;
    }
    fr = &nic->frames[nic->nframes++];
    memcpy(fr->data, frame, len < ST_FRAME_MAX ? len : ST_FRAME_MAX);
    if (len > ST_FRAME_MAX) {
        memcpy(nic->big, frame, len);
        nic->big_len = len;
    }
    fr->len = len;
    fr->flags = flags;
    fr->has_meta = meta != NULL;
    if (meta != NULL)
        fr->meta = *meta;
    return 0;
}

static int st_output(void *drv, const uint8_t *frame, size_t len, unsigned flags)
{
    return st_capture(drv, NULL, frame, len, flags);
}

static int st_output_meta(void *drv, const struct net_pkt_meta *meta, const uint8_t *frame,
                          size_t len, unsigned flags)
{
    if (meta == NULL) {
        fprintf(stderr, "[%s] output_meta without meta\n", st_current);
        st_failures++;
    }
    return st_capture(drv, meta, frame, len, flags);
}

static void st_flush(void *drv)
{
    struct st_nic *nic = drv;

    if (st_lock_depth != 0)
        st_output_locked++;
    nic->flushes++;
}

void st_clear(void)
{
    st_lan.nframes = st_wan.nframes = 0;
    st_lan.flushes = st_wan.flushes = 0;
    st_lan.fail_next = st_wan.fail_next = 0;
    st_lan.fail_after = st_wan.fail_after = 0;
}

static void st_add(struct st_nic *nic, const uint8_t *mac, uint32_t ip, uint16_t mtu, bool meta)
{
    struct net_if_config cfg;
    int err;

    memset(&cfg, 0, sizeof(cfg));
    cfg.name = nic->name;
    memcpy(cfg.mac, mac, 6);
    cfg.ip = ip;
    cfg.prefix_len = 24;
    cfg.mtu = mtu;
    cfg.output = st_output;
    cfg.flush = st_flush;
    cfg.drv = nic;
    cfg.output_meta = meta ? st_output_meta : NULL;
    err = net_if_add(&cfg, &nic->nif);
    ST_EQ(err, NET_OK);
    ST_EQ(net_if_up(nic->nif), NET_OK);
}

void st_setup(void)
{
    st_setup_wan_mtu(0);
}

void st_setup_wan_mtu(uint16_t wan_mtu)
{
    st_setup_meta(wan_mtu, false, false);
}

void st_setup_meta(uint16_t wan_mtu, bool lan_meta, bool wan_meta)
{
    struct net_stack_config cfg;

    st_now = 1000;
    st_lock_depth = 0;
    st_lock_calls = st_unlock_calls = st_lock_errors = st_output_locked = 0;
    memset(&cfg, 0, sizeof(cfg));
    cfg.lock = st_lock;
    cfg.unlock = st_unlock;
    cfg.lock_arg = &st_lock_depth;
    cfg.now_ms = st_now;
    ST_EQ(net_stack_init(&cfg), NET_OK);
    st_add(&st_lan, st_lan_mac, ST_LAN_IP, 0, lan_meta);
    st_add(&st_wan, st_wan_mac, ST_WAN_IP, wan_mtu, wan_meta);
    st_clear();
}

void st_tick(uint32_t ms)
{
    st_now += ms;
    net_tick(st_now);
}

void st_rx(struct st_nic *nic, uint8_t *frame, size_t len)
{
    net_process_received_packet(nic->nif, frame, len);
    net_rx_batch_end(nic->nif);
}

void st_learn(struct st_nic *nic, uint32_t ip, const uint8_t *mac)
{
    uint8_t f[64];
    const uint8_t *our_mac = nic == &st_lan ? st_lan_mac : st_wan_mac;
    size_t len = st_arp(f, our_mac, mac, 2, ip, our_mac, nic == &st_lan ? ST_LAN_IP : ST_WAN_IP);

    st_rx(nic, f, len);
}

int st_check_icmp_error(const struct st_frame *fr, const uint8_t *to_mac, const uint8_t *from_mac,
                        uint32_t from_ip, uint8_t type, uint8_t code, const uint8_t *orig,
                        size_t orig_len)
{
    const uint8_t *ip = fr->data + 14, *icmp = ip + 20;
    const uint8_t *oip = orig + 14;
    size_t oihl = (oip[0] & 0xfu) * 4u, otot = st_get16(oip + 2), quote;
    int before = st_failures;

    (void)orig_len;
    quote = otot - oihl > NET_ICMP_QUOTE_DATA ? NET_ICMP_QUOTE_DATA : otot - oihl;
    ST_EQ(fr->len, 14 + 20 + 8 + oihl + quote);
    ST_CHECK(memcmp(fr->data, to_mac, 6) == 0);
    ST_CHECK(memcmp(fr->data + 6, from_mac, 6) == 0);
    ST_EQ(st_get16(fr->data + 12), 0x0800);
    ST_EQ(ip[0], 0x45);
    ST_EQ(st_get16(ip + 2), fr->len - 14);
    ST_EQ(ip[8], NET_IP_DEFAULT_TTL);
    ST_EQ(ip[9], 1);
    ST_EQ(st_ref_csum(ip, 20), 0);
    ST_EQ(st_get32(ip + 12), from_ip);
    ST_EQ(st_get32(ip + 16), st_get32(oip + 12));
    ST_EQ(icmp[0], type);
    ST_EQ(icmp[1], code);
    ST_EQ(st_ref_csum(icmp, fr->len - 34), 0);
    /* The quote is the datagram as received: header (TTL not decremented) and data. */
    ST_CHECK(memcmp(icmp + 8, oip, oihl + quote) == 0);
    return st_failures == before;
}

struct st_find {
    const char *name;
    uint64_t value;
    int found;
};

static void st_find_cb(void *arg, const char *name, uint64_t value)
{
    struct st_find *f = arg;
    if (strcmp(name, f->name) == 0) {
        f->value = value;
        f->found++;
    }
}

uint64_t st_ctr(struct net_if *nif, const char *name)
{
    struct st_find f = {name, 0, 0};
    ST_EQ(net_if_counters(nif, st_find_cb, &f), NET_OK);
    if (f.found != 1) {
        fprintf(stderr, "[%s] counter %s found %d times\n", st_current, name, f.found);
        st_failures++;
    }
    return f.value;
}

uint64_t st_gctr(const char *name)
{
    struct st_find f = {name, 0, 0};
    net_stack_counters(st_find_cb, &f);
    if (f.found != 1) {
        fprintf(stderr, "[%s] global counter %s found %d times\n", st_current, name, f.found);
        st_failures++;
    }
    return f.value;
}

void st_check_accounting(void)
{
    uint64_t rx = st_gctr("rx_frames");
    uint64_t done = st_gctr("fwd_frames") + st_gctr("local_frames") + st_gctr("rx_drops") +
                    st_gctr("arp_pool_used");
    if (rx != done) {
        fprintf(stderr, "[%s] accounting: rx_frames %llu != fwd+local+drops+queued %llu\n",
                st_current, (unsigned long long)rx, (unsigned long long)done);
        st_failures++;
    }
}

int st_run(const struct st_case *cases, size_t n)
{
    size_t i;
    int before;

    for (i = 0; i < n; i++) {
        st_current = cases[i].name;
        before = st_failures;
        st_setup();
        cases[i].fn();
        /* Every test ends with the lock balanced, never nested, and no driver call made
           under it. */
        ST_EQ(st_lock_calls, st_unlock_calls);
        ST_EQ(st_lock_errors, 0);
        ST_EQ(st_output_locked, 0);
        ST_CHECK(st_lock_calls > 0);
        printf("%s %s\n", st_failures == before ? "PASS" : "FAIL", cases[i].name);
    }
    printf("%zu cases, %d failed checks\n", n, st_failures);
    return st_failures == 0 ? 0 : 1;
}

uint16_t st_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t st_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void st_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void st_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

size_t st_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    st_put16(f + 12, type);
    return 14;
}

/* The test's own reference checksum, deliberately independent of net_csum. */
uint16_t st_ref_csum(const uint8_t *p, size_t len)
{
    uint64_t sum = 0;
    size_t i;

    for (i = 0; i < len; i++)
        sum += (i & 1) ? p[i] : (uint64_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

void st_ip_fix_csum(uint8_t *f)
{
    uint8_t *ip = f + 14;
    size_t ihl = (ip[0] & 0xfu) * 4u;
    st_put16(ip + 10, 0);
    st_put16(ip + 10, st_ref_csum(ip, ihl));
}

size_t st_ip(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src, uint32_t dst,
             uint8_t proto, uint8_t ttl, uint16_t frag, size_t ihl, size_t plen)
{
    uint8_t *ip = f + 14;
    size_t i;

    st_eth(f, dst_mac, src_mac, 0x0800);
    memset(ip, 0, ihl);
    ip[0] = (uint8_t)(0x40 | (ihl / 4));
    st_put16(ip + 2, (uint16_t)(ihl + plen));
    st_put16(ip + 4, 0x1234);
    st_put16(ip + 6, frag);
    ip[8] = ttl;
    ip[9] = proto;
    st_put32(ip + 12, src);
    st_put32(ip + 16, dst);
    for (i = 20; i < ihl; i++)
        ip[i] = 1; /* NOP options */
    for (i = 0; i < plen; i++)
        ip[ihl + i] = (uint8_t)(i * 7 + 3);
    st_ip_fix_csum(f);
    return 14 + ihl + plen;
}

size_t st_icmp(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src,
               uint32_t dst, uint8_t ttl, uint8_t type, uint8_t code, size_t dlen)
{
    size_t len = st_ip(f, dst_mac, src_mac, src, dst, 1, ttl, 0, 20, 8 + dlen);
    uint8_t *icmp = f + 34;

    icmp[0] = type;
    icmp[1] = code;
    st_put16(icmp + 2, 0);
    st_put16(icmp + 4, 0x4242); /* identifier */
    st_put16(icmp + 6, 7);      /* sequence */
    st_put16(icmp + 2, st_ref_csum(icmp, 8 + dlen));
    return len;
}

size_t st_arp(uint8_t *f, const uint8_t *eth_dst, const uint8_t *sha, uint16_t op, uint32_t spa,
              const uint8_t *tha, uint32_t tpa)
{
    uint8_t *a = f + 14;

    memset(f, 0, 60);
    st_eth(f, eth_dst, sha, 0x0806);
    st_put16(a, 1);
    st_put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    st_put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    st_put32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    st_put32(a + 24, tpa);
    return 60; /* padded to the Ethernet minimum, as on the wire */
}
