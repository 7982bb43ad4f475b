/*
 * libFuzzer harness for net_process_received_packet.
 *
 * Input: a sequence of records, each
 *   ctl (1 byte) | length (2 bytes, big-endian) | frame bytes (length, clipped)
 * ctl bit 0: receiving interface (0 lan, 1 wan); bit 1: end the RX batch after this
 * frame; bit 2: the egress driver refuses the next output (busy); bits 3-7: advance the
 * clock by that many x 250 ms and call net_tick first. Sequences let the fuzzer reach
 * ARP resolution, pending queues, aging and timeouts, not just single-frame parsing.
 *
 * Beyond the sanitizers, the harness checks properties and aborts on a violation:
 *   - every IPv4 frame the router emits has a valid header (version, IHL, checksum,
 *     total length = frame length - 14, within the egress MTU) and TTL >= 1;
 *   - every frame fits the egress MTU; ARP frames are 60 bytes;
 *   - the lock hooks balance and are never nested, and output/flush run unlocked;
 *   - accounting: rx_frames == fwd + local + drops + frames still queued.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "net/net_stack.h"
#include "net/net_csum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_nic {
    struct net_if *nif;
    uint16_t mtu;
    bool busy_next;
};

static struct fz_nic fz_lan, fz_wan;
static unsigned fz_depth;
static uint32_t fz_now;

static void fz_fail(void)
{
    abort();
}

static void fz_lock(void *arg)
{
    (void)arg;
    if (fz_depth++ != 0)
        fz_fail();
}

static void fz_unlock(void *arg)
{
    (void)arg;
    if (fz_depth-- != 1)
        fz_fail();
}

static int fz_output(void *drv, const uint8_t *frame, size_t len, unsigned flags)
{
    struct fz_nic *nic = drv;
    (void)flags;

    if (fz_depth != 0 || len < 14 || len > 14u + nic->mtu)
        fz_fail();
    if (frame[12] == 0x08 && frame[13] == 0x00) {
        const uint8_t *ip = frame + 14;
        size_t ihl = (ip[0] & 0xfu) * 4u;
        if (len < 34 || (ip[0] >> 4) != 4 || ihl < 20 || ihl > len - 14 || net_csum(ip, ihl) != 0 ||
            (size_t)(ip[2] << 8 | ip[3]) != len - 14 || ip[8] == 0)
            fz_fail();
    } else if (frame[12] == 0x08 && frame[13] == 0x06) {
        if (len != 60)
            fz_fail();
    } else {
        fz_fail(); /* the router only ever emits IPv4 and ARP */
    }
    if (nic->busy_next) {
        nic->busy_next = false;
        return NET_E_BUSY;
    }
    return 0;
}

static void fz_flush(void *drv)
{
    (void)drv;
    if (fz_depth != 0)
        fz_fail();
}

static void fz_add(struct fz_nic *nic, const char *name, uint8_t last, uint32_t ip, uint16_t mtu)
{
    struct net_if_config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg.name = name;
    cfg.mac[0] = 0x02;
    cfg.mac[5] = last;
    cfg.ip = ip;
    cfg.prefix_len = 24;
    cfg.mtu = mtu;
    cfg.output = fz_output;
    cfg.flush = fz_flush;
    cfg.drv = nic;
    nic->mtu = mtu;
    nic->busy_next = false;
    if (net_if_add(&cfg, &nic->nif) != NET_OK || net_if_up(nic->nif) != NET_OK)
        fz_fail();
}

struct fz_sum {
    uint64_t rx, done, queued;
};

static void fz_sum_cb(void *arg, const char *name, uint64_t v)
{
    struct fz_sum *s = arg;
    if (strcmp(name, "rx_frames") == 0)
        s->rx = v;
    else if (strcmp(name, "fwd_frames") == 0 || strcmp(name, "local_frames") == 0 ||
             strcmp(name, "rx_drops") == 0)
        s->done += v;
    else if (strcmp(name, "arp_pool_used") == 0)
        s->queued = v, s->done += v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t frame[2048];
    struct net_stack_config cfg;
    struct fz_sum sum = {0, 0, 0};
    size_t pos = 0;

    memset(&cfg, 0, sizeof(cfg));
    cfg.lock = fz_lock;
    cfg.unlock = fz_unlock;
    fz_now = 5000;
    fz_depth = 0;
    cfg.now_ms = fz_now;
    if (net_stack_init(&cfg) != NET_OK)
        fz_fail();
    /* The WAN has a small MTU so that fragmentation and "fragmentation needed" are
       reachable; a gateway route makes the ARP-for-gateway path reachable. */
    fz_add(&fz_lan, "lan", 1, NET_IP4(198, 18, 0, 1), 1500);
    fz_add(&fz_wan, "wan", 2, NET_IP4(198, 19, 0, 1), 576);
    (void)net_route_add(0, 0, NET_IP4(198, 19, 0, 254), fz_wan.nif);

    while (pos + 3 <= size) {
        uint8_t ctl = data[pos];
        size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
        struct fz_nic *nic = (ctl & 1u) ? &fz_wan : &fz_lan;

        pos += 3;
        if (len > size - pos)
            len = size - pos;
        if (len > sizeof(frame))
            len = sizeof(frame);
        if (ctl >> 3) {
            fz_now += (uint32_t)(ctl >> 3) * 250u;
            net_tick(fz_now);
        }
        if (ctl & 4u) {
            fz_lan.busy_next = true;
            fz_wan.busy_next = true;
        }
        /* A private copy: the stack may write the frame, the fuzzer's input is const. */
        memcpy(frame, data + pos, len);
        net_process_received_packet(nic->nif, frame, len);
        if (ctl & 2u)
            net_rx_batch_end(nic->nif);
        pos += len;
    }
    net_rx_batch_end(fz_lan.nif);
    net_rx_batch_end(fz_wan.nif);
    /* Let every pending resolution time out: the queue must drain completely. */
    for (pos = 0; pos < NET_ARP_MAX_TRIES + 2u; pos++) {
        fz_now += NET_ARP_RETRY_MS;
        net_tick(fz_now);
    }
    if (fz_depth != 0)
        fz_fail();
    net_stack_counters(fz_sum_cb, &sum);
    if (sum.rx != sum.done || sum.queued != 0)
        fz_fail();
    return 0;
}
