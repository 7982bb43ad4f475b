/*
 * Checksum properties: net_csum against a reference, and the RFC 1624 incremental update
 * against a full recomputation over many random headers and edits (the forwarding path
 * relies on the two always agreeing, including the 0x0000/0xffff corner of eqn. 3).
 */
#include <string.h>
#include "st.h"
#include "net/net_csum.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
    /* splitmix64: deterministic, so a failure reproduces */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void test_known_vectors(void)
{
    /* RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    /* A real header (from RFC 1071 discussions, commonly used): checksum b861. */
    static const uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint8_t odd[3] = {0x12, 0x34, 0x56};

    ST_EQ(net_csum(v, sizeof(v)), (uint16_t)~0xddf2u);
    ST_EQ(net_csum(h, sizeof(h)), 0xb861);
    ST_EQ(net_csum(odd, 3), st_ref_csum(odd, 3));
    /* Chained even chunks equal one pass. */
    ST_EQ(net_csum_finish(net_csum_add(net_csum_add(0, h, 10), h + 10, 10)), 0xb861);
}

static void test_random_buffers(void)
{
    static uint8_t buf[2000];
    unsigned i, k;

    for (i = 0; i < 2000; i++) {
        size_t len = rnd() % sizeof(buf);
        for (k = 0; k < len; k++)
            buf[k] = (uint8_t)rnd();
        if (i % 7 == 0)
            memset(buf, 0xff, len); /* carries at every step */
        ST_EQ(net_csum(buf, len), st_ref_csum(buf, len));
    }
}

static void test_incremental_ttl_random_headers(void)
{
    uint8_t ip[60];
    unsigned i, k, mismatches = 0;

    for (i = 0; i < 200000; i++) {
        size_t ihl = 20 + 4 * (rnd() % 11);
        uint16_t c, inc;

        for (k = 0; k < ihl; k++)
            ip[k] = (uint8_t)rnd();
        /* Bias toward corners: all-ones and all-zero fields around the TTL. */
        if (i % 5 == 0)
            memset(ip + 12, 0xff, ihl - 12);
        if (i % 11 == 0)
            memset(ip + 12, 0x00, ihl - 12);
        ip[0] = (uint8_t)(0x40 | (ihl / 4));
        ip[8] = (uint8_t)(2 + rnd() % 254);
        ip[10] = ip[11] = 0;
        c = net_csum(ip, ihl);
        ip[10] = (uint8_t)(c >> 8);
        ip[11] = (uint8_t)c;
        /* Decrement TTL the forwarding path's way. */
        inc = net_csum_update16(c, (uint16_t)(ip[8] << 8 | ip[9]),
                                (uint16_t)((ip[8] - 1) << 8 | ip[9]));
        ip[8]--;
        ip[10] = ip[11] = 0;
        c = net_csum(ip, ihl);
        if (inc != c)
            mismatches++;
        ip[10] = (uint8_t)(inc >> 8);
        ip[11] = (uint8_t)inc;
        if (st_ref_csum(ip, ihl) != 0)
            mismatches++;
    }
    ST_EQ(mismatches, 0);
}

static void test_incremental_any_word(void)
{
    uint8_t ip[20];
    unsigned i, k, mismatches = 0;

    for (i = 0; i < 200000; i++) {
        unsigned w = rnd() % 10;
        uint16_t c, old, neu;

        if (w == 5)
            w = 4; /* not the checksum word itself */
        for (k = 0; k < 20; k++)
            ip[k] = (uint8_t)rnd();
        ip[10] = ip[11] = 0;
        c = net_csum(ip, 20);
        old = (uint16_t)(ip[2 * w] << 8 | ip[2 * w + 1]);
        neu = (uint16_t)(i % 3 == 0 ? (uint16_t)~old : rnd());
        ip[2 * w] = (uint8_t)(neu >> 8);
        ip[2 * w + 1] = (uint8_t)neu;
        if (net_csum_update16(c, old, neu) != net_csum(ip, 20))
            mismatches++;
    }
    ST_EQ(mismatches, 0);
}

int main(void)
{
    static const struct st_case cases[] = {
        {"known_vectors", test_known_vectors},
        {"random_buffers", test_random_buffers},
        {"incremental_ttl_random_headers", test_incremental_ttl_random_headers},
        {"incremental_any_word", test_incremental_any_word},
    };
    return st_run(cases, sizeof(cases) / sizeof(cases[0]));
}
