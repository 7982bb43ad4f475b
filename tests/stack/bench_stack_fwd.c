/*
 * Micro benchmark of the forwarding hot path (route and next-hop cache hits, in-place
 * rewrite) with a no-op output and counting lock hooks. Prints figures only; it asserts
 * nothing about speed. Build without sanitizers for meaningful numbers:
 *   cmake -S . -B build-bench -DVNET_SANITIZE=OFF && cmake --build build-bench --target
 * stack_bench_fwd build-bench/tests/stack/stack_bench_fwd
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "net/net_stack.h"
#include "net/net_csum.h"

static unsigned long locks, outputs;

static void b_lock(void *arg)
{
    (void)arg;
    locks++;
}

static void b_unlock(void *arg)
{
    (void)arg;
}

static int b_output(void *drv, const uint8_t *frame, size_t len, unsigned flags)
{
    (void)drv;
    (void)frame;
    (void)len;
    (void)flags;
    outputs++;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int main(void)
{
    static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    static const uint8_t peer[6] = {2, 0xbb, 0, 0, 0, 2};
    struct net_stack_config sc = {b_lock, b_unlock, NULL, 0};
    struct net_if *nif[2];
    static uint8_t f[1514], tmpl[1514];
    size_t sizes[2] = {60, 1514}, s;
    unsigned i, n = 2000000;

    net_stack_init(&sc);
    for (i = 0; i < 2; i++) {
        struct net_if_config c;
        memset(&c, 0, sizeof(c));
        c.name = i ? "wan" : "lan";
        memcpy(c.mac, mac[i], 6);
        c.ip = i ? NET_IP4(198, 19, 0, 1) : NET_IP4(198, 18, 0, 1);
        c.prefix_len = 24;
        c.output = b_output;
        c.drv = NULL;
        net_if_add(&c, &nif[i]);
        net_if_up(nif[i]);
    }
    /* ARP reply from the WAN peer to resolve it. */
    memset(f, 0, 60);
    memcpy(f, mac[1], 6);
    memcpy(f + 6, peer, 6);
    put16(f + 12, 0x0806);
    put16(f + 14, 1);
    put16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, 2);
    memcpy(f + 22, peer, 6);
    f[28] = 198, f[29] = 19, f[30] = 0, f[31] = 20;
    memcpy(f + 32, mac[1], 6);
    f[38] = 198, f[39] = 19, f[40] = 0, f[41] = 1;
    net_process_received_packet(nif[1], f, 60);

    for (s = 0; s < 2; s++) {
        size_t len = sizes[s];
        uint8_t *ip = tmpl + 14;
        double t0, t1;

        memset(tmpl, 0, sizeof(tmpl));
        memcpy(tmpl, mac[0], 6);
        memcpy(tmpl + 6, peer, 6);
        put16(tmpl + 12, 0x0800);
        ip[0] = 0x45;
        put16(ip + 2, (unsigned)(len - 14));
        ip[8] = 64;
        ip[9] = 17;
        ip[12] = 198, ip[13] = 18, ip[14] = 0, ip[15] = 10;
        ip[16] = 198, ip[17] = 19, ip[18] = 0, ip[19] = 20;
        put16(ip + 10, net_csum(ip, 20));
        outputs = locks = 0;
        t0 = now_s();
        for (i = 0; i < n; i++) {
            /* Refresh only the header the router rewrites (as a driver's copy would). */
            memcpy(f, tmpl, 34);
            net_process_received_packet(nif[0], f, len);
            if ((i & 31) == 31)
                net_rx_batch_end(nif[0]);
        }
        t1 = now_s();
        printf("forward %4zu-byte frames: %.1f ns/frame (%.2f Mframes/s), %.2f lock regions "
               "per frame, %lu outputs\n",
               len, (t1 - t0) * 1e9 / n, n / (t1 - t0) / 1e6, (double)locks / n, outputs);
    }
    return 0;
}
