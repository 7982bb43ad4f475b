/*
 * Replay driver for fuzz_stack_rx.c without libFuzzer: runs built-in seeds, then
 * deterministic mutations of them (so ctest exercises the harness and its property
 * checks on every build), then any files named on the command line (a corpus or a
 * crash reproducer).
 *   stack_fuzz_replay                     seeds + mutations
 *   stack_fuzz_replay FILE...             also replay these inputs
 *   stack_fuzz_replay --write-seeds DIR   write the seeds as files (libFuzzer corpus)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t lan_mac[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t wan_mac[6] = {0x02, 0, 0, 0, 0, 2};
static const uint8_t h1_mac[6] = {0x02, 0xaa, 0, 0, 0, 0x10};
static const uint8_t gw_mac[6] = {0x02, 0xcc, 0, 0, 0, 0xfe};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct seed {
    uint8_t buf[4096];
    size_t len;
};

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

static unsigned csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    size_t i;
    for (i = 0; i < n; i++)
        s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    while (s >> 16)
        s = (s & 0xffffu) + (s >> 16);
    return ~s & 0xffffu;
}

/* Append one record: ctl, length, frame. Returns a pointer to the frame bytes. */
static uint8_t *rec(struct seed *s, uint8_t ctl, size_t flen)
{
    uint8_t *p = s->buf + s->len;
    p[0] = ctl;
    put16(p + 1, (unsigned)flen);
    memset(p + 3, 0, flen);
    s->len += 3 + flen;
    return p + 3;
}

static void eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, unsigned type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    put16(f + 12, type);
}

static void ipv4(struct seed *s, uint8_t ctl, const uint8_t *dmac, const uint8_t *smac,
                 uint32_t src, uint32_t dst, unsigned proto, unsigned ttl, unsigned frag,
                 size_t plen, int icmp_type)
{
    uint8_t *f = rec(s, ctl, 34 + plen), *ip = f + 14;
    size_t i;

    eth(f, dmac, smac, 0x0800);
    ip[0] = 0x45;
    put16(ip + 2, (unsigned)(20 + plen));
    put16(ip + 6, frag);
    ip[8] = (uint8_t)ttl;
    ip[9] = (uint8_t)proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, csum(ip, 20));
    for (i = 0; i < plen; i++)
        ip[20 + i] = (uint8_t)i;
    if (icmp_type >= 0 && plen >= 8) {
        ip[20] = (uint8_t)icmp_type;
        ip[21] = 0;
        put16(ip + 22, 0);
        put16(ip + 22, csum(ip + 20, plen));
    }
}

static void arp(struct seed *s, uint8_t ctl, const uint8_t *edst, const uint8_t *sha, unsigned op,
                uint32_t spa, uint32_t tpa)
{
    uint8_t *f = rec(s, ctl, 60), *a = f + 14;

    eth(f, edst, sha, 0x0806);
    put16(a, 1);
    put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    put32(a + 14, spa);
    put32(a + 24, tpa);
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static size_t make_seeds(struct seed *seeds)
{
    size_t n = 0;
    struct seed *s;

    /* 0: ARP request for the router, then a ping to it */
    s = &seeds[n++];
    arp(s, 2, bcast, h1_mac, 1, IP4(198, 18, 0, 10), IP4(198, 18, 0, 1));
    ipv4(s, 2, lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 18, 0, 1), 1, 64, 0, 64, 8);
    /* 1: forward through the default gateway: queued, ARP reply, flushed; then a big
       non-DF datagram (fragmented to the 576 WAN MTU) and a DF one (frag needed) */
    s = &seeds[n++];
    ipv4(s, 0, lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 51, 100, 7), 17, 64, 0, 100, -1);
    arp(s, 3, wan_mac, gw_mac, 2, IP4(198, 19, 0, 254), IP4(198, 19, 0, 1));
    ipv4(s, 2, lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 51, 100, 7), 17, 64, 0, 1200, -1);
    ipv4(s, 2, lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 51, 100, 7), 6, 64, 0x4000, 1200, -1);
    /* 2: TTL expiry, an ICMP error not to answer, a fragment, time passing */
    s = &seeds[n++];
    ipv4(s, 0, lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 19, 0, 5), 17, 1, 0, 30, -1);
    ipv4(s, 0, lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 19, 0, 5), 1, 1, 0, 36, 3);
    ipv4(s, 2 | (4 << 3), lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 19, 0, 5), 17, 9, 0x2001,
         30, -1);
    /* 3: unresolved host on the WAN: requests retried, then timed out */
    s = &seeds[n++];
    ipv4(s, 2, lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 19, 0, 77), 17, 64, 0, 10, -1);
    ipv4(s, 2 | (8 << 3), lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 19, 0, 77), 17, 64, 0, 10,
         -1);
    ipv4(s, 2 | (31 << 3), lan_mac, h1_mac, IP4(198, 18, 0, 10), IP4(198, 19, 0, 78), 17, 64, 0, 10,
         -1);
    /* 4: busy driver, UDP to the router, multicast and 802.3 frames */
    s = &seeds[n++];
    arp(s, 1, bcast, gw_mac, 1, IP4(198, 19, 0, 254), IP4(198, 19, 0, 1));
    ipv4(s, 4 | 1, wan_mac, gw_mac, IP4(198, 51, 100, 9), IP4(198, 18, 0, 1), 17, 64, 0, 20, -1);
    {
        uint8_t *f = rec(s, 2, 60);
        eth(f, bcast, h1_mac, 0x0040);
        f = rec(s, 2, 60);
        eth(f, (const uint8_t *)"\x01\x00\x5e\x00\x00\x01", h1_mac, 0x0800);
    }
    return n;
}

static uint32_t rng = 0x12345678u;

static uint32_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static int replay_file(const char *path)
{
    static uint8_t buf[1 << 20];
    FILE *fp = fopen(path, "rb");
    size_t n;

    if (fp == NULL) {
        perror(path);
        return 1;
    }
    n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    static struct seed seeds[8], m;
    size_t nseeds = make_seeds(seeds), i, k, runs = 0;
    int a;

    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        for (i = 0; i < nseeds; i++) {
            char path[4096];
            FILE *fp;
            snprintf(path, sizeof(path), "%s/seed-%zu", argv[2], i);
            fp = fopen(path, "wb");
            if (fp == NULL || fwrite(seeds[i].buf, 1, seeds[i].len, fp) != seeds[i].len) {
                perror(path);
                return 1;
            }
            fclose(fp);
        }
        printf("wrote %zu seeds to %s\n", nseeds, argv[2]);
        return 0;
    }
    for (i = 0; i < nseeds; i++) {
        LLVMFuzzerTestOneInput(seeds[i].buf, seeds[i].len);
        runs++;
    }
    /* Mutations: flip, overwrite and truncate, a few thousand per seed. The harness
       aborts on any property violation, so reaching the end is the pass condition. */
    for (i = 0; i < nseeds; i++) {
        for (k = 0; k < 3000; k++) {
            unsigned edits = 1 + xorshift() % 8, e;
            m = seeds[i];
            for (e = 0; e < edits; e++) {
                size_t at = xorshift() % m.len;
                switch (xorshift() % 4) {
                case 0:
                    m.buf[at] ^= (uint8_t)(1u << (xorshift() % 8));
                    break;
                case 1:
                    m.buf[at] = (uint8_t)xorshift();
                    break;
                case 2:
                    m.buf[at] = (uint8_t)(xorshift() % 2 ? 0xff : 0x00);
                    break;
                default:
                    m.len = at + 1;
                    break;
                }
            }
            LLVMFuzzerTestOneInput(m.buf, m.len);
            runs++;
        }
    }
    for (a = 1; a < argc; a++) {
        if (replay_file(argv[a]) != 0)
            return 1;
        runs++;
    }
    printf("stack_fuzz_replay: %zu inputs, no property violated\n", runs);
    return 0;
}
