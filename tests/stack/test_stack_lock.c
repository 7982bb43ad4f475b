/*
 * Concurrent use: two RX threads (one per NIC, as the firmware's two RX tasks), a tick
 * thread and a console thread that reads tables and changes a route, all sharing the
 * stack through lock hooks backed by a mutex. The hooks check they are never nested and
 * that unlock comes from the holder; outputs check they run unlocked and that every
 * forwarded frame is intact. At the end every frame must be accounted for exactly.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "net/net_stack.h"
#include "net/net_csum.h"

#define FRAMES_PER_THREAD 200000u

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static atomic_int holder;       /* 0 or the holding thread's tag */
static atomic_uint lock_errors; /* nesting, foreign unlock, output under lock */
static atomic_ulong lock_calls, unlock_calls;
static atomic_ulong fwd_seen[2], bad_frames;
static _Thread_local int my_tag;
static atomic_bool stop;

static void t_lock(void *arg)
{
    (void)arg;
    if (atomic_load(&holder) == my_tag)
        atomic_fetch_add(&lock_errors, 1); /* nested: would deadlock on the RTOS too */
    pthread_mutex_lock(&mtx);
    atomic_store(&holder, my_tag);
    atomic_fetch_add(&lock_calls, 1);
}

static void t_unlock(void *arg)
{
    (void)arg;
    if (atomic_load(&holder) != my_tag)
        atomic_fetch_add(&lock_errors, 1);
    atomic_store(&holder, 0);
    atomic_fetch_add(&unlock_calls, 1);
    pthread_mutex_unlock(&mtx);
}

static int t_output(void *drv, const uint8_t *frame, size_t len, unsigned flags)
{
    int idx = (int)(intptr_t)drv;
    (void)flags;

    if (atomic_load(&holder) == my_tag)
        atomic_fetch_add(&lock_errors, 1);
    if (len >= 34 && frame[12] == 0x08 && frame[13] == 0x00 && frame[14 + 9] == 17) {
        if (net_csum(frame + 14, 20) != 0 || frame[14 + 8] != 63)
            atomic_fetch_add(&bad_frames, 1);
        atomic_fetch_add(&fwd_seen[idx], 1);
    }
    return 0;
}

static void t_flush(void *drv)
{
    (void)drv;
    if (atomic_load(&holder) == my_tag)
        atomic_fetch_add(&lock_errors, 1);
}

static struct net_if *nif[2];
static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
static const uint8_t peer[2][6] = {{2, 0xaa, 0, 0, 0, 1}, {2, 0xbb, 0, 0, 0, 2}};
static const uint32_t myip[2] = {NET_IP4(198, 18, 0, 1), NET_IP4(198, 19, 0, 1)};
static const uint32_t peerip[2] = {NET_IP4(198, 18, 0, 10), NET_IP4(198, 19, 0, 20)};

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

static size_t build(uint8_t *f, int from, unsigned seq)
{
    uint8_t *ip = f + 14;
    memcpy(f, mac[from], 6);
    memcpy(f + 6, peer[from], 6);
    put16(f + 12, 0x0800);
    memset(ip, 0, 20 + 32);
    ip[0] = 0x45;
    put16(ip + 2, 52);
    put16(ip + 4, seq & 0xffffu);
    ip[8] = 64;
    ip[9] = 17;
    put32(ip + 12, peerip[from]);
    put32(ip + 16, peerip[1 - from]);
    put16(ip + 10, net_csum(ip, 20));
    return 14 + 52;
}

static void *rx_thread(void *arg)
{
    int from = (int)(intptr_t)arg;
    uint8_t f[128];
    unsigned i;

    my_tag = 1 + from;
    for (i = 0; i < FRAMES_PER_THREAD; i++) {
        size_t len = build(f, from, i);
        net_process_received_packet(nif[from], f, len);
        if (i % 16 == 15)
            net_rx_batch_end(nif[from]);
    }
    net_rx_batch_end(nif[from]);
    return NULL;
}

static void *tick_thread(void *arg)
{
    uint32_t now = 0;
    (void)arg;
    my_tag = 10;
    /* 100 ms of stack time per real millisecond: ARP entries stay fresh for the run
       (a few seconds of stack time) while ticks still interleave with the RX paths. */
    while (!atomic_load(&stop)) {
        struct timespec ts = {0, 1000000};
        now += 100;
        net_tick(now);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void noop_cb(void *arg, const char *name, uint64_t v)
{
    (void)name;
    *(uint64_t *)arg += v;
}

static void *console_thread(void *arg)
{
    struct net_route_info ri;
    struct net_arp_info ai;
    uint64_t sink = 0;
    unsigned i;
    (void)arg;
    my_tag = 11;
    while (!atomic_load(&stop)) {
        (void)net_route_add(NET_IP4(198, 20, 0, 0), 16, peerip[1], nif[1]);
        for (i = 0; net_route_get(i, &ri) == NET_OK; i++)
            sink += ri.dest;
        for (i = 0; net_arp_get(i, &ai) == NET_OK; i++)
            sink += ai.ip;
        net_stack_counters(noop_cb, &sink);
        (void)net_if_counters(nif[0], noop_cb, &sink);
        (void)net_route_del(NET_IP4(198, 20, 0, 0), 16);
        sched_yield();
    }
    return (void *)(uintptr_t)(sink & 1u);
}

struct sums {
    uint64_t rx, fwd, local, drops, queued;
};
static void sum_cb(void *arg, const char *name, uint64_t v)
{
    struct sums *s = arg;
    if (!strcmp(name, "rx_frames"))
        s->rx = v;
    else if (!strcmp(name, "fwd_frames"))
        s->fwd = v;
    else if (!strcmp(name, "local_frames"))
        s->local = v;
    else if (!strcmp(name, "rx_drops"))
        s->drops = v;
    else if (!strcmp(name, "arp_pool_used"))
        s->queued = v;
    else if (!strncmp(name, "drop_", 5) && v != 0)
        printf("  %s=%llu\n", name, (unsigned long long)v);
}

int main(void)
{
    struct net_stack_config sc = {t_lock, t_unlock, NULL, 0};
    pthread_t rx[2], tk, con;
    struct sums s = {0, 0, 0, 0, 0};
    int i, fails = 0;

    my_tag = 100;
    if (net_stack_init(&sc) != NET_OK)
        return 1;
    for (i = 0; i < 2; i++) {
        struct net_if_config cfg;
        uint8_t f[64];
        memset(&cfg, 0, sizeof(cfg));
        cfg.name = i ? "wan" : "lan";
        memcpy(cfg.mac, mac[i], 6);
        cfg.ip = myip[i];
        cfg.prefix_len = 24;
        cfg.output = t_output;
        cfg.flush = t_flush;
        cfg.drv = (void *)(intptr_t)i;
        if (net_if_add(&cfg, &nif[i]) != NET_OK || net_if_up(nif[i]) != NET_OK)
            return 1;
        /* Resolve the peer with an ARP reply to us. */
        memset(f, 0, sizeof(f));
        memcpy(f, mac[i], 6);
        memcpy(f + 6, peer[i], 6);
        put16(f + 12, 0x0806);
        put16(f + 14, 1);
        put16(f + 16, 0x0800);
        f[18] = 6;
        f[19] = 4;
        put16(f + 20, 2);
        memcpy(f + 22, peer[i], 6);
        put32(f + 28, peerip[i]);
        memcpy(f + 32, mac[i], 6);
        put32(f + 38, myip[i]);
        net_process_received_packet(nif[i], f, 60);
        net_rx_batch_end(nif[i]);
    }
    pthread_create(&tk, NULL, tick_thread, NULL);
    pthread_create(&con, NULL, console_thread, NULL);
    for (i = 0; i < 2; i++)
        pthread_create(&rx[i], NULL, rx_thread, (void *)(intptr_t)i);
    for (i = 0; i < 2; i++)
        pthread_join(rx[i], NULL);
    atomic_store(&stop, true);
    pthread_join(tk, NULL);
    pthread_join(con, NULL);

    net_stack_counters(sum_cb, &s);
    printf("lock calls %lu, rx %llu, fwd %llu, local %llu, drops %llu, queued %llu\n",
           (unsigned long)lock_calls, (unsigned long long)s.rx, (unsigned long long)s.fwd,
           (unsigned long long)s.local, (unsigned long long)s.drops, (unsigned long long)s.queued);
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "check failed: %s\n", #c);                                             \
            fails++;                                                                               \
        }                                                                                          \
    } while (0)
    CHECK(lock_errors == 0);
    CHECK(lock_calls == unlock_calls);
    CHECK(bad_frames == 0);
    CHECK(s.rx == 2u * FRAMES_PER_THREAD + 2u); /* + the two ARP replies */
    CHECK(s.rx == s.fwd + s.local + s.drops + s.queued);
    CHECK(s.fwd == 2u * FRAMES_PER_THREAD);
    CHECK(fwd_seen[0] == FRAMES_PER_THREAD && fwd_seen[1] == FRAMES_PER_THREAD);
    printf("%s concurrent_forwarding\n", fails ? "FAIL" : "PASS");
    return fails ? 1 : 0;
}
