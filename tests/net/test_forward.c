/*
 * Zero-copy forwarding (virtio_net_forward): two simulated devices, `in` lending its
 * software ring slots (cfg.rx_lend_bufs) to `out`'s TX ring from inside its receive
 * callback. The simulated device of `out` reads TX chains only when the test completes
 * them (tx_hold), so a slot that the driver reuses, frees or aliases too early shows up
 * as a wrong frame on the wire, an ASan report or a device violation (BAD_DMA).
 *
 * Cases: the lend itself (descriptor points into in's slot memory, header written in
 * the headroom, bytes unchanged, slots return on out's reclaim), poll mode and non-coherent
 * DMA; steady forwarding through two spares; spare exhaustion (the rest copied); slots
 * reused by later frames while lent ones are still unsent; every fallback to a copy and
 * the error paths that must give the spare back; the peer table limit; halts of either
 * side while slots are lent (with and without the completions ever coming back, the
 * latter the bounded VNET_E_TIMEOUT); headers (offloads, software checksum in the lent
 * slot, GSO refused); a device forwarding to itself.
 *
 * Two devices forwarding to each other with one stalled: both can still be halted.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtq.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

#define DEV_ALL (SIMDEV_DEFAULT_FEATURES | SIMDEV_OFFLOAD_FEATURES)
/* IRQ ranges of the devices open at once (the POSIX port numbers them globally); the
 * same numbers serve as their RX task priorities (unique per task there too). */
#define IRQ_IN  8u
#define IRQ_OUT 16u

/* ---------------------------------------------------------------------------------- */
/* The forwarding hook: runs in in's receive callback (RX task, or the poller).        */

enum fw_mode {
    FW_NONE = 0, /* receive only */
    FW_SELF,     /* forward(out, the delivering device, frame + shift, len) */
    FW_NULL_IN,  /* forward(out, NULL, ...) */
    FW_OTHER_IN, /* forward(out, fw.other_in, ...): a device that is not delivering */
    FW_STACK,    /* forward a copy of the frame on the callback's stack */
    FW_PEERS,    /* frame k to fw.outs[k % fw.n_outs] */
};

#define FW_MAX 64u

struct fw_rec {
    uint8_t *ptr;   /* what was passed as the frame */
    size_t len;     /* ... and its length */
    uint8_t *bytes; /* copy of ptr[0..len) taken before the call */
    vnet_err_t err;
    struct virtio_net_hdr rx_hdr; /* as delivered (rx_hdr devices) */
};

/* Set by the test thread (fw_set, then single fields) only while no frame is being
 * delivered; the records are read after delivered() saw the callback return. */
static struct {
    pthread_mutex_t mtx;
    enum fw_mode mode;
    struct nh *out;
    struct nh *outs[8];
    unsigned n_outs;
    struct virtio_net_dev *other_in;
    ptrdiff_t shift; /* FW_SELF: frame + shift */
    size_t len;      /* length passed; 0: as delivered */
    bool pass_hdr;   /* rx_hdr devices: forward with the received header */
    bool poison;     /* fill the headroom first: the driver must write the header there */
    unsigned n;      /* calls; the first FW_MAX recorded */
    struct fw_rec rec[FW_MAX];
} fw = {.mtx = PTHREAD_MUTEX_INITIALIZER};

static void fw_frame(struct nh *h, const struct virtio_net_hdr *hdr, uint8_t *frame, size_t len)
{
    pthread_mutex_lock(&fw.mtx);
    enum fw_mode mode = fw.mode;
    struct nh *out = fw.out;
    if (mode == FW_PEERS)
        out = fw.outs[fw.n % fw.n_outs];
    struct virtio_net_dev *in = h->dev;
    if (mode == FW_NULL_IN)
        in = NULL;
    else if (mode == FW_OTHER_IN)
        in = fw.other_in;
    uint8_t *p = frame + (mode == FW_SELF ? fw.shift : 0);
    size_t n = fw.len != 0 ? fw.len : len;
    const struct virtio_net_hdr *fh = fw.pass_hdr ? hdr : NULL;
    bool poison = fw.poison;
    pthread_mutex_unlock(&fw.mtx);
    if (mode == FW_NONE || out == NULL)
        return;
    uint8_t stack_copy[1600];
    if (mode == FW_STACK) {
        memcpy(stack_copy, frame, len < sizeof(stack_copy) ? len : sizeof(stack_copy));
        p = stack_copy;
        n = len < sizeof(stack_copy) ? len : sizeof(stack_copy);
    }
    if (poison)
        memset(frame - VIRTIO_NET_RX_PAD, 0xa5, VIRTIO_NET_RX_PAD);
    uint8_t *copy = malloc(n);
    if (copy != NULL)
        memcpy(copy, p, n);
    vnet_err_t err = virtio_net_forward(out->dev, in, fh, p, n, 0, 1000);
    pthread_mutex_lock(&fw.mtx);
    if (fw.n < FW_MAX) {
        struct fw_rec *r = &fw.rec[fw.n];
        r->ptr = p;
        r->len = n;
        r->bytes = copy;
        r->err = err;
        if (hdr != NULL)
            r->rx_hdr = *hdr;
        copy = NULL;
    }
    fw.n++;
    pthread_mutex_unlock(&fw.mtx);
    free(copy);
}

static void fw_on_rx(struct nh *h, const uint8_t *frame, size_t len)
{
    /* The frame is writable (virtio_net_rx_fn); the harness hands it on as const. */
    fw_frame(h, NULL, (uint8_t *)(uintptr_t)frame, len);
}

static void fw_on_rx_hdr(struct nh *h, const struct virtio_net_hdr *hdr, uint8_t *frame, size_t len)
{
    fw_frame(h, hdr, frame, len);
}

/* Forget the records, stop forwarding, then set the next mode. */
static void fw_set(enum fw_mode mode, struct nh *out)
{
    pthread_mutex_lock(&fw.mtx);
    for (unsigned i = 0; i < FW_MAX; i++)
        free(fw.rec[i].bytes);
    memset(fw.rec, 0, sizeof(fw.rec));
    fw.n = 0;
    fw.mode = mode;
    fw.out = out;
    fw.n_outs = 0;
    fw.other_in = NULL;
    fw.shift = 0;
    fw.len = 0;
    fw.pass_hdr = false;
    fw.poison = false;
    pthread_mutex_unlock(&fw.mtx);
}

static unsigned fw_calls(void)
{
    pthread_mutex_lock(&fw.mtx);
    unsigned n = fw.n;
    pthread_mutex_unlock(&fw.mtx);
    return n;
}

/* Record k, read after the callback returned (delivered() below). */
static struct fw_rec fw_rec(unsigned k)
{
    pthread_mutex_lock(&fw.mtx);
    struct fw_rec r = fw.rec[k];
    pthread_mutex_unlock(&fw.mtx);
    return r;
}

/* ---------------------------------------------------------------------------------- */

static uint8_t *scratch; /* SIMDEV_MAX_FRAME bytes, test thread only */

static struct virtio_net_stats stats(struct nh *h)
{
    struct virtio_net_stats st;
    memset(&st, 0, sizeof(st));
    (void)virtio_net_get_stats(h->dev, &st);
    return st;
}

static uint32_t lent(struct nh *h)
{
    return stats(h).rx_lent;
}

static int inject_hdr(struct nh *in, uint32_t seq, size_t len, const struct virtio_net_hdr *hdr)
{
    return nh_inject_built(in, scratch, len, seq, dst, hdr);
}

static int inject(struct nh *in, uint32_t seq, size_t len)
{
    return inject_hdr(in, seq, len, NULL);
}

/* `in` delivered n frames in all and its callback has returned. */
static bool delivered(struct nh *in, uint64_t n)
{
    if (in->opts.rx_poll) {
        uint64_t end = nh_now_ms() + 5000;
        for (;;) {
            (void)virtio_net_poll(in->dev, 0);
            struct nh_rx r;
            nh_rx_snapshot(in, &r);
            if (r.frames >= n)
                return true;
            if (nh_now_ms() > end)
                return false;
            nh_sleep_ms(1);
        }
    }
    return nh_wait_frames(in, n, 5000) && nh_wait_idle(in, 5000);
}

/* Inject one frame and wait until in's callback is done with it. */
static void inject_one(struct nh *in, uint32_t seq, size_t len)
{
    struct nh_rx r;
    nh_rx_snapshot(in, &r);
    TN_EQ(inject(in, seq, len), SIMDEV_OK);
    TN_CHECK(delivered(in, r.frames + 1));
}

/* The next frame out's device consumed is want[0..len) with header wh (NULL: all zero). */
static void expect_wire(struct nh *out, const uint8_t *want, size_t len,
                        const struct virtio_net_hdr *wh)
{
    static uint8_t got[SIMDEV_MAX_FRAME];
    static const struct virtio_net_hdr zero;
    if (wh == NULL)
        wh = &zero;
    struct virtio_net_hdr h;
    memset(&h, 0xee, sizeof(h));
    size_t n = 0;
    int rc = simdev_tx_pop_hdr(out->sim, &h, got, sizeof(got), &n);
    TN_EQ(rc, SIMDEV_OK);
    if (rc != SIMDEV_OK)
        return;
    TN_EQ(n, len);
    TN_CHECK(want != NULL && n == len && memcmp(got, want, len) == 0);
    TN_EQ(h.flags, wh->flags);
    TN_EQ(h.gso_type, wh->gso_type);
    TN_EQ(h.hdr_len, wh->hdr_len);
    TN_EQ(h.gso_size, wh->gso_size);
    TN_EQ(h.csum_start, wh->csum_start);
    TN_EQ(h.csum_offset, wh->csum_offset);
    TN_EQ(h.num_buffers, 0);
}

static void expect_wire_empty(struct nh *out)
{
    uint8_t b[64];
    size_t n;
    TN_EQ(simdev_tx_pop(out->sim, b, sizeof(b), &n), SIMDEV_E_NOBUF);
}

/* Frames expected on one device's wire, in order (copies of the bytes). */
static struct {
    uint8_t *bytes;
    size_t len;
} wq[32];
static unsigned wq_n;

static void wq_push(const uint8_t *bytes, size_t len)
{
    TN_CHECK(wq_n < sizeof(wq) / sizeof(wq[0]) && bytes != NULL);
    if (wq_n >= sizeof(wq) / sizeof(wq[0]) || bytes == NULL)
        return;
    wq[wq_n].bytes = malloc(len);
    if (wq[wq_n].bytes != NULL)
        memcpy(wq[wq_n].bytes, bytes, len);
    wq[wq_n].len = len;
    wq_n++;
}

/* Everything out's device consumed is the queued frames, in order, and nothing else. */
static void wq_expect(struct nh *out)
{
    for (unsigned i = 0; i < wq_n; i++) {
        expect_wire(out, wq[i].bytes, wq[i].len, NULL);
        free(wq[i].bytes);
    }
    wq_n = 0;
    expect_wire_empty(out);
}

/*
 * The descriptor of the chain out posted k-th since its ring was set up (head from
 * avail->ring[k]), read from the ring in memory as the device would. NULL if unmapped.
 */
static const struct virtq_desc *tx_desc(struct nh *out, uint16_t k)
{
    uint64_t d, a, u;
    virtq_ring_addrs(out->dev->tx.vq, &d, &a, &u);
    uint16_t size = virtq_size(out->dev->tx.vq);
    const struct virtq_desc *desc = osal_posix_dma_ptr(d, virtq_desc_bytes(size));
    const struct virtq_avail *av = osal_posix_dma_ptr(a, virtq_avail_bytes(size));
    if (desc == NULL || av == NULL)
        return NULL;
    uint16_t head = av->ring[k & (size - 1u)];
    return head < size ? &desc[head] : NULL;
}

/* Chain k of out carries record r in place: one descriptor, starting hdr_len bytes in
 * front of the frame inside in's slot memory, header + frame long. */
static void expect_lent_desc(struct nh *out, struct nh *in, uint16_t k, const struct fw_rec *r)
{
    const struct virtq_desc *d = tx_desc(out, k);
    TN_CHECK(d != NULL);
    if (d == NULL)
        return;
    const struct virtio_net_sw_ring *sw = &in->dev->sw;
    TN_CHECK(d->addr >= sw->data_dma && d->addr + d->len <= sw->data_dma + sw->data_bytes);
    uint64_t want = sw->data_dma + (uint64_t)(r->ptr - sw->data) - out->dev->hdr_len;
    TN_EQ(d->addr, want);
    TN_EQ(d->len, out->dev->hdr_len + r->len);
    TN_EQ(d->flags & VIRTQ_DESC_F_NEXT, 0);
}

/* Chain k of out is a copy: its buffer is none of in's slots. */
static void expect_copy_desc(struct nh *out, struct nh *in, uint16_t k)
{
    const struct virtq_desc *d = tx_desc(out, k);
    TN_CHECK(d != NULL);
    if (d == NULL)
        return;
    const struct virtio_net_sw_ring *sw = &in->dev->sw;
    TN_CHECK(d->addr + d->len <= sw->data_dma || d->addr >= sw->data_dma + sw->data_bytes);
}

static struct nh_opts in_opts(uint16_t lend)
{
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .rx_lend_bufs = lend,
                        .irq_base = IRQ_IN,
                        .rx_task_prio = IRQ_IN};
    return o;
}

static struct nh_opts out_opts(bool hold)
{
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .tx_hold = hold,
                        .keep_tx_frames = true,
                        .tx_slots = 64,
                        .irq_base = IRQ_OUT,
                        .rx_task_prio = IRQ_OUT};
    return o;
}

/* Open `in` (forwarding hook installed) and `out`. */
static bool open_pair(struct nh *in, const struct nh_opts *io, struct nh *out,
                      const struct nh_opts *oo)
{
    fw_set(FW_NONE, NULL);
    int ri = nh_open(in, io);
    int ro = nh_open(out, oo);
    TN_EQ(ri, VNET_OK);
    TN_EQ(ro, VNET_OK);
    if (ri != VNET_OK || ro != VNET_OK) {
        (void)nh_close_one(out);
        (void)nh_close_one(in);
        return false;
    }
    if (io->rx_hdr)
        in->on_rx_hdr = fw_on_rx_hdr;
    else
        in->on_rx = fw_on_rx;
    return true;
}

/* Close out first (it gives back whatever in lent it), then in; no leak, no violation. */
static void close_pair(struct nh *in, struct nh *out)
{
    fw_set(FW_NONE, NULL);
    TN_CHECK(nh_close_one(out));
    TN_EQ(lent(in), 0);
    in->on_rx = NULL;
    in->on_rx_hdr = NULL;
    TN_CHECK(nh_close_one(in));
    TN_CHECK(nh_no_leaks());
}

/* Give out's completed chains back (a send reclaims first); the frame is consumed too. */
static void reclaim_by_send(struct nh *out, uint32_t seq)
{
    uint8_t f[100];
    simdev_frame_build(f, sizeof(f), seq, dst);
    TN_EQ(virtio_net_send(out->dev, f, sizeof(f), 0), VNET_OK);
    if (out->opts.tx_hold)
        TN_EQ(simdev_tx_complete(out->sim, 0), 1);
    expect_wire(out, f, sizeof(f), NULL);
}

/* ---------------------------------------------------------------------------------- */

/*
 * 1. The lend: K frames forwarded from in's callback go on out's TX ring in place. Each
 * descriptor points at hdr_len bytes in front of the delivered frame inside in's slot
 * memory; the header the driver writes there replaces the poisoned headroom; the device
 * reads the unchanged bytes. Slots stay lent until out reclaims (after completion, on its
 * next send) and are all spares again then; a second round lends as the first.
 */
static void test_lend(bool poll, bool noncoherent)
{
    tn_case(poll          ? "lend: K frames in place (poll mode)"
            : noncoherent ? "lend: K frames in place (non-coherent DMA)"
                          : "lend: K frames in place, header in the headroom, slots return");
    enum { K = 6, LEND = 8 };
    if (noncoherent)
        osal_posix_dma_noncoherent(true);
    struct nh in, out;
    struct nh_opts io = in_opts(LEND);
    io.rx_poll = poll;
    struct nh_opts oo = out_opts(true);
    if (!open_pair(&in, &io, &out, &oo))
        goto done;
    for (unsigned round = 0; round < 2; round++) {
        fw_set(FW_SELF, &out);
        fw.poison = true;
        uint32_t base = round * 100u;
        for (uint32_t i = 0; i < K; i++)
            TN_EQ(inject(&in, base + i, 60 + 271 * i), SIMDEV_OK);
        TN_CHECK(delivered(&in, (uint64_t)(round + 1) * K));
        TN_EQ(fw_calls(), K);
        struct virtio_net_stats so = stats(&out);
        TN_EQ(so.tx_zc_packets, (round + 1) * K);
        TN_EQ(so.tx_zc_copies, 0);
        TN_EQ(so.tx_packets, (round + 1) * (K + 1) - 1);
        TN_EQ(lent(&in), K);
        for (unsigned k = 0; k < K; k++) {
            struct fw_rec r = fw_rec(k);
            TN_EQ(r.err, VNET_OK);
            /* The chains of this round follow round 0's K and its reclaiming send. */
            expect_lent_desc(&out, &in, (uint16_t)(round * (K + 1) + k), &r);
        }
        /* Nothing consumed yet: the device reads the slots now. */
        TN_EQ(simdev_tx_complete(out.sim, 0), K);
        for (unsigned k = 0; k < K; k++) {
            struct fw_rec r = fw_rec(k);
            simdev_frame_build(scratch, 60 + 271 * k, base + k, dst);
            TN_EQ(r.len, 60 + 271 * k);
            TN_CHECK(r.bytes != NULL && memcmp(r.bytes, scratch, r.len) == 0);
            expect_wire(&out, scratch, 60 + 271 * k, NULL);
        }
        expect_wire_empty(&out);
        /* Completed but not reclaimed: still lent until out's next send. */
        TN_EQ(lent(&in), K);
        reclaim_by_send(&out, 1000 + round);
        TN_EQ(lent(&in), 0);
        TN_EQ(in.dev->sw.spare_top, LEND);
    }
    struct nh_rx rx;
    nh_rx_snapshot(&in, &rx);
    TN_EQ(rx.frames, 2 * K);
    TN_EQ(rx.corrupt, 0);
    TN_EQ(rx.out_of_order, 0);
    close_pair(&in, &out);
done:
    if (noncoherent) {
        TN_EQ(osal_posix_dma_sync_violations(), 0);
        osal_posix_dma_noncoherent(false);
    }
}

/*
 * 1b. Steady forwarding with two spares and a device that completes at once: every
 * forward reclaims the previous chain first, so every frame is lent (none copied) and the
 * slots go round and round; all frames reach the wire intact and in order.
 */
static void test_lend_steady(uint16_t spares)
{
    /* With one spare, the frame before has taken it: forward must reclaim out's completed
     * chain to get it back before it falls back to a copy. */
    tn_case(spares == 1 ? "lend: 300 frames through 1 spare, device completing at once: all "
                          "in place (the spare is reclaimed before a copy is chosen)"
                        : "lend: 300 frames through 2 spares, device completing at once: all "
                          "in place");
    enum { N = 300 };
    struct nh in, out;
    struct nh_opts io = in_opts(spares);
    struct nh_opts oo = out_opts(false);
    if (!open_pair(&in, &io, &out, &oo))
        return;
    fw_set(FW_SELF, &out);
    for (uint32_t i = 0; i < N; i++) {
        TN_EQ(inject(&in, i, 60 + (i * 37u) % 1455u), SIMDEV_OK);
        if (i % 8 == 7)
            TN_CHECK(delivered(&in, i + 1));
    }
    TN_CHECK(delivered(&in, N));
    struct virtio_net_stats so = stats(&out);
    TN_EQ(so.tx_zc_packets, N);
    TN_EQ(so.tx_zc_copies, 0);
    struct simdev_stats ss;
    simdev_get_stats(out.sim, &ss);
    TN_EQ(ss.tx_frames, N);
    TN_EQ(ss.tx_valid, N);
    TN_EQ(ss.tx_out_of_order, 0);
    for (uint32_t i = 0; i < N; i++) {
        simdev_frame_build(scratch, 60 + (i * 37u) % 1455u, i, dst);
        expect_wire(&out, scratch, 60 + (i * 37u) % 1455u, NULL);
        if (tn_failures > 20)
            break;
    }
    /* The last chain is completed, not yet reclaimed. */
    TN_EQ(lent(&in), 1);
    reclaim_by_send(&out, 5000);
    TN_EQ(lent(&in), 0);
    close_pair(&in, &out);
}

/*
 * 2. Exhaustion: two spares, completions held. The first two frames are lent, the other
 * three copied (counted), all five reach the wire intact and in order.
 */
static void test_exhaustion(void)
{
    tn_case("exhaustion: rx_lend_bufs 2, 5 frames held: 2 lent, 3 copied");
    struct nh in, out;
    struct nh_opts io = in_opts(2);
    struct nh_opts oo = out_opts(true);
    if (!open_pair(&in, &io, &out, &oo))
        return;
    fw_set(FW_SELF, &out);
    for (uint32_t i = 0; i < 5; i++)
        TN_EQ(inject(&in, i, 200 + 100 * i), SIMDEV_OK);
    TN_CHECK(delivered(&in, 5));
    TN_EQ(fw_calls(), 5);
    struct virtio_net_stats so = stats(&out);
    TN_EQ(so.tx_zc_packets, 2);
    TN_EQ(so.tx_zc_copies, 3);
    TN_EQ(so.tx_packets, 5);
    TN_EQ(lent(&in), 2);
    TN_EQ(in.dev->sw.spare_top, 0);
    for (unsigned k = 0; k < 5; k++) {
        struct fw_rec r = fw_rec(k);
        TN_EQ(r.err, VNET_OK);
        if (k < 2)
            expect_lent_desc(&out, &in, (uint16_t)k, &r);
        else
            expect_copy_desc(&out, &in, (uint16_t)k);
    }
    TN_EQ(simdev_tx_complete(out.sim, 0), 5);
    struct simdev_stats ss;
    simdev_get_stats(out.sim, &ss);
    TN_EQ(ss.tx_valid, 5);
    TN_EQ(ss.tx_out_of_order, 0);
    for (uint32_t i = 0; i < 5; i++) {
        simdev_frame_build(scratch, 200 + 100 * i, i, dst);
        expect_wire(&out, scratch, 200 + 100 * i, NULL);
    }
    TN_EQ(lent(&in), 2); /* held until reclaimed */
    reclaim_by_send(&out, 100);
    TN_EQ(lent(&in), 0);
    TN_EQ(in.dev->sw.spare_top, 2);
    close_pair(&in, &out);
}

/*
 * 3. Reuse while lent: a 4-entry software ring lends all 4 slots (held), then 12 more
 * full-size frames arrive through the same entries (now on the spares) and are forwarded
 * (copied: no spare left). If an entry still pointed at its lent slot, those frames would
 * overwrite what out's device has yet to read. Then the returned slots are lent again.
 */
static void test_reuse_while_lent(void)
{
    tn_case("reuse: later frames through the same ring entries leave lent slots intact");
    struct nh in, out;
    struct nh_opts io = in_opts(4);
    io.rx_sw_ring_entries = 4;
    struct nh_opts oo = out_opts(true);
    if (!open_pair(&in, &io, &out, &oo))
        return;
    fw_set(FW_SELF, &out);
    uint8_t *slot_of[4];
    for (uint32_t i = 0; i < 4; i++)
        slot_of[i] = in.dev->sw.slot[i].data;
    for (uint32_t i = 0; i < 4; i++)
        inject_one(&in, i, 300 + 50 * i);
    TN_EQ(lent(&in), 4);
    TN_EQ(stats(&out).tx_zc_packets, 4);
    /* Every entry took a spare: none points at a lent slot any more. */
    for (uint32_t i = 0; i < 4; i++) {
        struct fw_rec r = fw_rec(i);
        for (uint32_t e = 0; e < 4; e++)
            TN_CHECK(in.dev->sw.slot[e].data != r.ptr);
        TN_CHECK(r.ptr == slot_of[i]);
    }
    for (uint32_t i = 4; i < 16; i++)
        inject_one(&in, i, 1514);
    struct virtio_net_stats so = stats(&out);
    TN_EQ(so.tx_zc_packets, 4);
    TN_EQ(so.tx_zc_copies, 12);
    struct nh_rx rx;
    nh_rx_snapshot(&in, &rx);
    TN_EQ(rx.frames, 16);
    TN_EQ(rx.corrupt, 0);
    TN_EQ(rx.gaps, 0);
    /* The device reads everything only now. */
    TN_EQ(simdev_tx_complete(out.sim, 0), 16);
    struct simdev_stats ss;
    simdev_get_stats(out.sim, &ss);
    TN_EQ(ss.tx_valid, 16);
    TN_EQ(ss.tx_invalid, 0);
    TN_EQ(ss.tx_out_of_order, 0);
    for (uint32_t i = 0; i < 16; i++) {
        size_t len = i < 4 ? 300 + 50 * i : 1514;
        simdev_frame_build(scratch, len, i, dst);
        expect_wire(&out, scratch, len, NULL);
    }
    reclaim_by_send(&out, 100);
    TN_EQ(lent(&in), 0);
    /* The returned slots lend again, and the frames are still right. */
    fw_set(FW_SELF, &out);
    for (uint32_t i = 16; i < 24; i++)
        inject_one(&in, i, 100 + 7 * i);
    so = stats(&out);
    TN_EQ(so.tx_zc_packets, 8);
    TN_EQ(so.tx_zc_copies, 16);
    TN_EQ(lent(&in), 4);
    TN_EQ(simdev_tx_complete(out.sim, 0), 8);
    for (uint32_t i = 16; i < 24; i++) {
        simdev_frame_build(scratch, 100 + 7 * i, i, dst);
        expect_wire(&out, scratch, 100 + 7 * i, NULL);
    }
    reclaim_by_send(&out, 101);
    TN_EQ(lent(&in), 0);
    close_pair(&in, &out);
}

/* ---------------------------------------------------------------------------------- */

/* One frame through the hook as configured; checks the result and the counters. */
struct fb_want {
    vnet_err_t err;
    unsigned zc, copies; /* out's counters after it */
    unsigned lent;       /* in's rx_lent after it */
};

static void fb_step(struct nh *in, struct nh *out, uint32_t seq, size_t len,
                    const struct fb_want *w, const char *what)
{
    unsigned calls = fw_calls();
    inject_one(in, seq, len);
    TN_EQ(fw_calls(), calls + 1);
    struct fw_rec r = fw_rec(calls);
    struct virtio_net_stats so = stats(out);
    int fails = tn_failures;
    TN_EQ(r.err, w->err);
    TN_EQ(so.tx_zc_packets, w->zc);
    TN_EQ(so.tx_zc_copies, w->copies);
    TN_EQ(lent(in), w->lent);
    if (tn_failures != fails)
        printf("   in step: %s\n", what);
    if (r.err == VNET_OK)
        wq_push(r.bytes, r.len);
}

/*
 * 4. Fallbacks to a copy: in NULL, a device that is not delivering, a frame on the stack,
 * a frame starting too close to the slot start for out's header, a frame running past
 * the slot end, a device that does not lend, a call outside any callback; bad arguments.
 * A lend that was started and then refused (too short) gives the spare back: the two
 * lends at the very limits that follow need both spares. Completions are held, so a
 * frame lent by mistake would stay counted in rx_lent. The wire carries exactly the bytes
 * passed, each frame once.
 */
static void test_fallbacks(void)
{
    tn_case("fallbacks: copies (counted) and errors never leave a slot lent");
    struct nh in, out, plain;
    struct nh_opts io = in_opts(2);
    struct nh_opts oo = out_opts(true);
    oo.rx_lend_bufs = 2; /* out could lend too: only "delivering now" tells them apart */
    if (!open_pair(&in, &io, &out, &oo))
        return;
    const ptrdiff_t head_room = (ptrdiff_t)VIRTIO_NET_RX_PAD - (ptrdiff_t)out.dev->hdr_len;
    const size_t room = in.dev->sw.stride - VIRTIO_NET_RX_PAD; /* slot bytes from the frame */
    TN_CHECK(head_room >= 0 && room >= 400);
    uint32_t seq = 0;
    uint16_t chain = 0; /* out's chains posted so far */
    struct fb_want w = {VNET_OK, 0, 0, 0};

    fw_set(FW_NULL_IN, &out);
    w.copies++;
    fb_step(&in, &out, seq++, 400, &w, "in NULL");
    expect_copy_desc(&out, &in, chain++);
    fw_set(FW_OTHER_IN, &out);
    fw.other_in = out.dev;
    w.copies++;
    fb_step(&in, &out, seq++, 400, &w, "in = a lending device not in its callback");
    expect_copy_desc(&out, &in, chain++);
    fw_set(FW_STACK, &out);
    w.copies++;
    fb_step(&in, &out, seq++, 400, &w, "frame on the stack");
    expect_copy_desc(&out, &in, chain++);
    fw_set(FW_SELF, &out);
    fw.shift = -head_room - 1;
    fw.len = 401;
    w.copies++;
    fb_step(&in, &out, seq++, 400, &w, "frame one byte too close to the slot start");
    expect_copy_desc(&out, &in, chain++);
    fw_set(FW_SELF, &out);
    fw.shift = (ptrdiff_t)(room - 400) + 1;
    fw.len = 400;
    w.copies++;
    fb_step(&in, &out, seq++, 400, &w, "frame one byte past the slot end");
    expect_copy_desc(&out, &in, chain++);
    /* A lend started, then refused by out: the spare comes back. */
    fw_set(FW_SELF, &out);
    fw.len = 10;
    w.err = VNET_E_INVAL;
    fb_step(&in, &out, seq++, 400, &w, "lend path: too short");
    TN_EQ(in.dev->sw.spare_top, 2);
    /* Exactly at both limits: lent (the two spares). */
    fw_set(FW_SELF, &out);
    fw.shift = -head_room;
    fw.len = 400 + (size_t)head_room;
    w.err = VNET_OK;
    w.zc++;
    w.lent++;
    fb_step(&in, &out, seq++, 400, &w, "frame at the lowest start (header at the slot start)");
    struct fw_rec low = fw_rec(0);
    expect_lent_desc(&out, &in, chain++, &low);
    fw_set(FW_SELF, &out);
    fw.shift = (ptrdiff_t)(room - 400);
    fw.len = 400;
    w.zc++;
    w.lent++;
    fb_step(&in, &out, seq++, 400, &w, "frame ending at the slot end");
    struct fw_rec high = fw_rec(0);
    expect_lent_desc(&out, &in, chain++, &high);

    /* Outside any callback (the test thread): copies, even of a pointer into a slot. */
    fw_set(FW_NONE, NULL);
    uint8_t f[300];
    simdev_frame_build(f, sizeof(f), 777, dst);
    TN_EQ(virtio_net_forward(out.dev, in.dev, NULL, f, sizeof(f), 0, 1000), VNET_OK);
    wq_push(f, sizeof(f));
    expect_copy_desc(&out, &in, chain++);
    uint8_t *in_slot = in.dev->sw.slot[in.dev->sw.mask].data; /* an entry not used yet */
    memcpy(in_slot, f, sizeof(f));
    in_slot[20] ^= 0x5a;
    wq_push(in_slot, sizeof(f));
    TN_EQ(virtio_net_forward(out.dev, in.dev, NULL, in_slot, sizeof(f), 0, 1000), VNET_OK);
    expect_copy_desc(&out, &in, chain++);
    w.copies += 2;
    struct virtio_net_stats so = stats(&out);
    TN_EQ(so.tx_zc_copies, w.copies);
    TN_EQ(so.tx_zc_packets, w.zc);
    TN_EQ(so.tx_packets, chain);
    TN_EQ(lent(&in), 2);
    /* Bad arguments. */
    TN_EQ(virtio_net_forward(NULL, in.dev, NULL, f, sizeof(f), 0, 1000), VNET_E_INVAL);
    TN_EQ(virtio_net_forward(NULL, NULL, NULL, f, sizeof(f), 0, 1000), VNET_E_INVAL);
    TN_EQ(virtio_net_forward(out.dev, in.dev, NULL, NULL, sizeof(f), 0, 1000), VNET_E_INVAL);
    TN_EQ(lent(&in), 2);
    TN_EQ(stats(&out).tx_packets, chain);

    /* What the device reads, in order; the refused frame never went out. */
    TN_EQ(simdev_tx_complete(out.sim, 0), (int)chain);
    wq_expect(&out);
    reclaim_by_send(&out, 9999);
    TN_EQ(lent(&in), 0);
    TN_EQ(in.dev->sw.spare_top, 2);

    /* A device configured without lending copies, from its own callback too. */
    fw_set(FW_NONE, NULL);
    struct nh_opts po = in_opts(0);
    po.irq_base = 24;
    po.rx_task_prio = 24;
    TN_EQ(nh_open(&plain, &po), VNET_OK);
    plain.on_rx = fw_on_rx;
    TN_CHECK(plain.dev->sw.spare == NULL);
    fw_set(FW_SELF, &out);
    w.copies++;
    w.lent = 0;
    fb_step(&plain, &out, 4242, 400, &w, "in without rx_lend_bufs");
    TN_EQ(lent(&plain), 0);
    TN_EQ(simdev_tx_complete(out.sim, 0), 1);
    wq_expect(&out);
    plain.on_rx = NULL;
    fw_set(FW_NONE, NULL);
    TN_CHECK(nh_close_one(&plain));
    close_pair(&in, &out);
}

/*
 * 4c. Legacy out without ANY_LAYOUT needs its header in a descriptor of its own: copied.
 */
static void test_fallback_legacy(void)
{
    tn_case("fallbacks: legacy out without ANY_LAYOUT copies");
    struct nh in, out;
    struct nh_opts io = in_opts(2);
    struct nh_opts oo = out_opts(true);
    oo.transport = SIMDEV_PCI_LEGACY;
    if (!open_pair(&in, &io, &out, &oo))
        return;
    TN_CHECK(out.dev->hdr_separate);
    fw_set(FW_SELF, &out);
    inject_one(&in, 1, 600);
    struct fw_rec r = fw_rec(0);
    TN_EQ(r.err, VNET_OK);
    struct virtio_net_stats so = stats(&out);
    TN_EQ(so.tx_zc_packets, 0);
    TN_EQ(so.tx_zc_copies, 1);
    TN_EQ(lent(&in), 0);
    TN_EQ(simdev_tx_complete(out.sim, 0), 1);
    expect_wire(&out, r.bytes, r.len, NULL);
    close_pair(&in, &out);
}

/*
 * 4d. Peer table: one device's slots on at most VIRTIO_NET_LEND_PEERS TX rings at once;
 * the next device gets a copy, and a peer whose slots all came back frees its entry.
 */
static void test_peer_limit(void)
{
    tn_case("fallbacks: lent to VIRTIO_NET_LEND_PEERS devices, the next one copies");
    enum { NOUT = VIRTIO_NET_LEND_PEERS + 1 };
    struct nh in, outs[NOUT];
    struct nh_opts io = in_opts(8);
    fw_set(FW_NONE, NULL);
    TN_EQ(nh_open(&in, &io), VNET_OK);
    in.on_rx = fw_on_rx;
    bool ok = true;
    for (unsigned i = 0; i < NOUT; i++) {
        struct nh_opts oo = out_opts(true);
        oo.irq_base = IRQ_OUT + 8u * i;
        oo.rx_task_prio = oo.irq_base;
        int r = nh_open(&outs[i], &oo);
        TN_EQ(r, VNET_OK);
        ok = ok && r == VNET_OK;
    }
    if (ok) {
        fw_set(FW_PEERS, NULL);
        fw.n_outs = NOUT;
        for (unsigned i = 0; i < NOUT; i++)
            fw.outs[i] = &outs[i];
        for (uint32_t i = 0; i < NOUT; i++)
            inject_one(&in, i, 250);
        TN_EQ(lent(&in), VIRTIO_NET_LEND_PEERS);
        for (unsigned i = 0; i < NOUT; i++) {
            struct virtio_net_stats so = stats(&outs[i]);
            TN_EQ(fw_rec(i).err, VNET_OK);
            TN_EQ(so.tx_zc_packets, i < VIRTIO_NET_LEND_PEERS ? 1 : 0);
            TN_EQ(so.tx_zc_copies, i < VIRTIO_NET_LEND_PEERS ? 0 : 1);
        }
        /* out 0 gives its slot back: its peer entry is free for the last device. */
        TN_EQ(simdev_tx_complete(outs[0].sim, 0), 1);
        simdev_frame_build(scratch, 250, 0, dst);
        expect_wire(&outs[0], scratch, 250, NULL);
        reclaim_by_send(&outs[0], 50);
        TN_EQ(lent(&in), VIRTIO_NET_LEND_PEERS - 1);
        fw_set(FW_SELF, &outs[NOUT - 1]);
        inject_one(&in, NOUT, 250);
        TN_EQ(fw_rec(0).err, VNET_OK);
        TN_EQ(stats(&outs[NOUT - 1]).tx_zc_packets, 1);
        TN_EQ(lent(&in), VIRTIO_NET_LEND_PEERS);
        for (unsigned i = 1; i < NOUT; i++) {
            unsigned want = i == NOUT - 1 ? 2 : 1;
            TN_EQ(simdev_tx_complete(outs[i].sim, 0), (int)want);
            simdev_frame_build(scratch, 250, i, dst);
            expect_wire(&outs[i], scratch, 250, NULL);
        }
        simdev_frame_build(scratch, 250, NOUT, dst);
        expect_wire(&outs[NOUT - 1], scratch, 250, NULL);
    }
    fw_set(FW_NONE, NULL);
    for (unsigned i = 0; i < NOUT; i++)
        TN_CHECK(nh_close_one(&outs[i]));
    TN_EQ(lent(&in), 0);
    in.on_rx = NULL;
    TN_CHECK(nh_close_one(&in));
    TN_CHECK(nh_no_leaks());
}

/* ---------------------------------------------------------------------------------- */

struct releaser {
    struct nh *out;
    unsigned delay_ms;
    int completed;
};

static void *releaser_main(void *arg)
{
    struct releaser *r = arg;
    nh_sleep_ms(r->delay_ms);
    r->completed = simdev_tx_complete(r->out->sim, 0);
    return NULL;
}

/* Forward n frames (seq from seq0, length len) and check they are all lent. */
static void lend_n(struct nh *in, struct nh *out, uint32_t seq0, unsigned n, size_t len)
{
    fw_set(FW_SELF, out);
    uint64_t zc = stats(out).tx_zc_packets;
    uint32_t l0 = lent(in);
    for (uint32_t i = 0; i < n; i++)
        inject_one(in, seq0 + i, len);
    TN_EQ(stats(out).tx_zc_packets, zc + n);
    TN_EQ(lent(in), l0 + n);
    fw_set(FW_NONE, NULL);
}

static void expect_frames(struct nh *out, uint32_t seq0, unsigned n, size_t len)
{
    for (uint32_t i = 0; i < n; i++) {
        simdev_frame_build(scratch, len, seq0 + i, dst);
        expect_wire(out, scratch, len, NULL);
    }
}

/*
 * 5. Halt of `in` while 3 of its slots are on out's held TX ring: halt waits, reclaiming
 * out's ring, until another thread lets the device complete them (200 ms later), then
 * frees in's memory (ASan: the device has read them before). out keeps working; `in`
 * lends again after re-initialization.
 */
static void test_halt_in_waits(void)
{
    tn_case("halt in while lent: waits for out's completions, then VNET_OK");
    struct nh in, out;
    struct nh_opts io = in_opts(4);
    struct nh_opts oo = out_opts(true);
    if (!open_pair(&in, &io, &out, &oo))
        return;
    lend_n(&in, &out, 0, 3, 700);
    struct releaser rel = {.out = &out, .delay_ms = 200};
    pthread_t th;
    pthread_create(&th, NULL, releaser_main, &rel);
    uint64_t t0 = nh_now_ms();
    TN_EQ(virtio_net_halt(in.dev), VNET_OK);
    uint64_t took = nh_now_ms() - t0;
    pthread_join(th, NULL);
    TN_EQ(rel.completed, 3);
    TN_CHECK(took >= 150 && took < 5000);
    TN_EQ(lent(&in), 0);
    TN_CHECK(!virtio_net_is_running(in.dev));
    for (unsigned i = 0; i < out.dev->tx.count; i++)
        TN_CHECK(out.dev->tx.bufs[i].lent == NULL);
    expect_frames(&out, 0, 3, 700);
    reclaim_by_send(&out, 50);
    /* in comes back and lends again. */
    TN_EQ(virtio_net_initialize(in.dev), VNET_OK);
    lend_n(&in, &out, 10, 4, 300);
    TN_EQ(simdev_tx_complete(out.sim, 0), 4);
    expect_frames(&out, 10, 4, 300);
    reclaim_by_send(&out, 51);
    TN_EQ(lent(&in), 0);
    close_pair(&in, &out);
}

/* 5b. Halt of `in` with out completing at once: the one slot still lent (completed, not
 * reclaimed) comes back through halt's own reclaim, without waiting. */
static void test_halt_in_quick(void)
{
    tn_case("halt in while lent, completions done: reclaimed at once");
    struct nh in, out;
    struct nh_opts io = in_opts(2);
    struct nh_opts oo = out_opts(false);
    if (!open_pair(&in, &io, &out, &oo))
        return;
    fw_set(FW_SELF, &out);
    for (uint32_t i = 0; i < 5; i++)
        inject_one(&in, i, 900);
    TN_EQ(stats(&out).tx_zc_packets, 5);
    TN_EQ(lent(&in), 1);
    fw_set(FW_NONE, NULL);
    uint64_t t0 = nh_now_ms();
    TN_EQ(virtio_net_halt(in.dev), VNET_OK);
    TN_CHECK(nh_now_ms() - t0 < 1000);
    TN_EQ(lent(&in), 0);
    expect_frames(&out, 0, 5, 900);
    close_pair(&in, &out);
}

/*
 * 5c. Halt of `out` first while it holds 3 of in's slots (never completed): they come
 * back at once. Forwarding to the halted out fails with VNET_E_STATE and lends nothing;
 * after out's re-initialization all spares lend again.
 */
static void test_halt_out_first(void)
{
    tn_case("halt out while holding lent slots: in's rx_lent drops to 0 at once");
    struct nh in, out;
    struct nh_opts io = in_opts(3);
    struct nh_opts oo = out_opts(true);
    if (!open_pair(&in, &io, &out, &oo))
        return;
    lend_n(&in, &out, 0, 3, 500);
    TN_EQ(in.dev->sw.spare_top, 0);
    TN_EQ(virtio_net_halt(out.dev), VNET_OK);
    TN_EQ(lent(&in), 0);
    TN_EQ(in.dev->sw.spare_top, 3);
    fw_set(FW_SELF, &out);
    inject_one(&in, 3, 500);
    TN_EQ(fw_rec(0).err, VNET_E_STATE);
    TN_EQ(lent(&in), 0);
    TN_EQ(in.dev->sw.spare_top, 3);
    fw_set(FW_NONE, NULL);
    expect_wire_empty(&out); /* the device was reset before reading them */
    TN_EQ(virtio_net_initialize(out.dev), VNET_OK);
    lend_n(&in, &out, 4, 3, 500);
    TN_EQ(simdev_tx_complete(out.sim, 0), 3);
    expect_frames(&out, 4, 3, 500);
    reclaim_by_send(&out, 60);
    TN_EQ(lent(&in), 0);
    struct nh_rx rx;
    nh_rx_snapshot(&in, &rx);
    TN_EQ(rx.corrupt, 0);
    close_pair(&in, &out);
}

/*
 * 6. Completions that never come: halt of `in` gives up after VIRTIO_NET_HALT_WAIT_MS
 * with VNET_E_TIMEOUT, its memory kept (the device then reads it intact: ASan would see
 * a use after free otherwise); once out completes, a repeated halt succeeds. About 10 s.
 */
static void test_halt_in_timeout(void)
{
    tn_case("halt in, completions never released: VNET_E_TIMEOUT, then VNET_OK");
    struct nh in, out;
    struct nh_opts io = in_opts(2);
    struct nh_opts oo = out_opts(true);
    if (!open_pair(&in, &io, &out, &oo))
        return;
    lend_n(&in, &out, 0, 2, 1200);
    uint64_t t0 = nh_now_ms();
    TN_EQ(virtio_net_halt(in.dev), VNET_E_TIMEOUT);
    uint64_t took = nh_now_ms() - t0;
    TN_CHECK(took >= VIRTIO_NET_HALT_WAIT_MS);
    printf("   halt gave up after %llu ms\n", (unsigned long long)took);
    TN_EQ(lent(&in), 2);
    TN_CHECK(!virtio_net_is_running(in.dev));
    TN_EQ(simdev_tx_complete(out.sim, 0), 2);
    expect_frames(&out, 0, 2, 1200);
    TN_EQ(virtio_net_halt(in.dev), VNET_OK);
    TN_EQ(lent(&in), 0);
    close_pair(&in, &out);
}

/* ---------------------------------------------------------------------------------- */

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s > 0xffff)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* Ethernet + IPv4 + UDP with `payload` bytes; the UDP checksum field holds the folded
 * pseudo-header sum, as a stack asking for checksum offload leaves it. */
static size_t udp_frame(uint8_t *f, size_t payload, uint8_t salt)
{
    size_t ulen = 8 + payload;
    memset(f, 0, 34 + ulen);
    memcpy(f, dst, 6);
    f[6] = 0x02;
    f[11] = salt;
    f[12] = 0x08;
    uint8_t *ip = f + 14, *u = f + 34;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + ulen) >> 8);
    ip[3] = (uint8_t)(20 + ulen);
    ip[8] = 64;
    ip[9] = 17;
    const uint8_t sip[4] = {10, 1, 0, salt}, dip[4] = {10, 2, 0, 9};
    memcpy(ip + 12, sip, 4);
    memcpy(ip + 16, dip, 4);
    u[0] = 0x30;
    u[1] = salt;
    u[2] = 0x00;
    u[3] = 0x35;
    u[4] = (uint8_t)(ulen >> 8);
    u[5] = (uint8_t)ulen;
    for (size_t i = 0; i < payload; i++)
        u[8 + i] = (uint8_t)(i * 13u + salt);
    uint8_t ph[12] = {0};
    memcpy(ph, sip, 4);
    memcpy(ph + 4, dip, 4);
    ph[9] = 17;
    ph[10] = (uint8_t)(ulen >> 8);
    ph[11] = (uint8_t)ulen;
    uint16_t seed = sum16(ph, sizeof(ph), 0);
    u[6] = (uint8_t)(seed >> 8);
    u[7] = (uint8_t)seed;
    return 34 + ulen;
}

/* A receiver's check of a UDP frame: pseudo header + segment sum to 0xffff. */
static bool udp_csum_ok(const uint8_t *f, size_t len)
{
    uint8_t ph[12] = {0};
    memcpy(ph, f + 26, 8);
    ph[9] = 17;
    ph[10] = (uint8_t)((len - 34) >> 8);
    ph[11] = (uint8_t)(len - 34);
    return sum16(f + 34, len - 34, sum16(ph, sizeof(ph), 0)) == 0xffff;
}

static struct virtio_net_hdr csum_hdr(void)
{
    struct virtio_net_hdr c;
    memset(&c, 0, sizeof(c));
    c.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
    c.csum_start = 34;
    c.csum_offset = 6;
    return c;
}

static struct virtio_net_hdr tso_hdr(void)
{
    struct virtio_net_hdr g;
    memset(&g, 0, sizeof(g));
    g.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    g.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    g.hdr_len = 54;
    g.gso_size = 1448;
    g.csum_start = 34;
    g.csum_offset = 16;
    return g;
}

static int inject_raw(struct nh *in, const uint8_t *f, size_t len, const struct virtio_net_hdr *h)
{
    struct simdev_rx_opts o;
    memset(&o, 0, sizeof(o));
    o.hdr = h;
    return simdev_rx_inject_ex(in->sim, f, len, &o);
}

/*
 * 7. Headers, rx_hdr_fn on in (receive offloads, MRG_RXBUF: received headers carry
 * num_buffers): forwarded with the received header. To out with offloads: a NEEDS_CSUM
 * frame and a 30000-byte TSO frame are lent, the device sees the header as passed with
 * DATA_VALID dropped and num_buffers 0. To out without CSUM: the checksum is completed in
 * place in the lent slot (flags 0 on the wire, the frame's checksum right), and a GSO frame
 * is refused (VNET_E_UNSUPP) with the spare given back.
 */
static void test_headers(void)
{
    tn_case("headers: offloads passed through a lent slot, software checksum in place");
    struct nh in, out, sw;
    struct nh_opts io = in_opts(4);
    io.device_features = DEV_ALL;
    io.rx_hdr = true;
    io.rx_sw_ring_entries = 16;
    io.rx_mrg_buf_bytes = 2048;
    struct nh_opts oo = out_opts(true);
    oo.device_features = DEV_ALL;
    oo.tx_offloads = true;
    if (!open_pair(&in, &io, &out, &oo))
        return;
    TN_CHECK(virtio_net_features(in.dev) & VIRTIO_NET_F_MRG_RXBUF);
    TN_CHECK(virtio_net_features(out.dev) & VIRTIO_NET_F_CSUM);
    TN_CHECK(virtio_net_features(out.dev) & VIRTIO_NET_F_HOST_TSO4);
    struct virtio_net_hdr c = csum_hdr(), g = tso_hdr();
    struct virtio_net_hdr c_tx = c;
    c_tx.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM; /* DATA_VALID is receive-only */

    fw_set(FW_SELF, &out);
    fw.pass_hdr = true;
    static uint8_t uf[1600];
    size_t ulen = udp_frame(uf, 700, 1);
    TN_EQ(inject_raw(&in, uf, ulen, &c), SIMDEV_OK);
    TN_CHECK(delivered(&in, 1));
    TN_EQ(inject_hdr(&in, 1, 30000, &g), SIMDEV_OK);
    TN_CHECK(delivered(&in, 2));
    struct fw_rec r0 = fw_rec(0), r1 = fw_rec(1);
    TN_EQ(r0.err, VNET_OK);
    TN_EQ(r1.err, VNET_OK);
    TN_CHECK(r0.rx_hdr.num_buffers >= 1);
    TN_CHECK(r1.rx_hdr.num_buffers > 1); /* 30000 bytes span several 2 KiB buffers */
    struct virtio_net_stats so = stats(&out);
    TN_EQ(so.tx_zc_packets, 2);
    TN_EQ(so.tx_zc_copies, 0);
    TN_EQ(so.tx_gso_packets, 1);
    TN_EQ(lent(&in), 2);
    expect_lent_desc(&out, &in, 0, &r0);
    expect_lent_desc(&out, &in, 1, &r1);
    TN_EQ(simdev_tx_complete(out.sim, 0), 2);
    expect_wire(&out, uf, ulen, &c_tx);
    simdev_frame_build(scratch, 30000, 1, dst);
    expect_wire(&out, scratch, 30000, &g);
    reclaim_by_send(&out, 70);
    TN_EQ(lent(&in), 0);

    /* out without checksum offload: completed by the driver in the lent slot. */
    fw_set(FW_NONE, NULL);
    struct nh_opts so_opts = out_opts(true);
    so_opts.device_features = DEV_ALL;
    so_opts.irq_base = 24;
    so_opts.rx_task_prio = 24;
    TN_EQ(nh_open(&sw, &so_opts), VNET_OK);
    TN_EQ(virtio_net_features(sw.dev) & VIRTIO_NET_F_CSUM, 0);
    fw_set(FW_SELF, &sw);
    fw.pass_hdr = true;
    ulen = udp_frame(uf, 333, 2);
    TN_CHECK(!udp_csum_ok(uf, ulen));
    TN_EQ(inject_raw(&in, uf, ulen, &c), SIMDEV_OK);
    TN_CHECK(delivered(&in, 3));
    TN_EQ(fw_rec(0).err, VNET_OK);
    struct virtio_net_stats ss = stats(&sw);
    TN_EQ(ss.tx_zc_packets, 1);
    TN_EQ(ss.tx_csum_sw, 1);
    TN_EQ(lent(&in), 1);
    /* A GSO frame this device cannot take: refused, the spare given back. */
    TN_EQ(inject_hdr(&in, 2, 20000, &g), SIMDEV_OK);
    TN_CHECK(delivered(&in, 4));
    TN_EQ(fw_rec(1).err, VNET_E_UNSUPP);
    ss = stats(&sw);
    TN_EQ(ss.tx_gso_refused, 1);
    TN_EQ(ss.tx_zc_packets, 1);
    TN_EQ(lent(&in), 1);
    TN_EQ(in.dev->sw.spare_top, 3);
    /* A length fitting in's 64 KiB slot but not sw's MTU: refused, the spare given back. */
    TN_CHECK(in.dev->sw.stride - VIRTIO_NET_RX_PAD >= 2000 && sw.dev->frame_max < 2000);
    fw.pass_hdr = false;
    fw.len = 2000; /* the delivered 500 bytes and what follows them in the slot */
    TN_EQ(inject(&in, 3, 500), SIMDEV_OK);
    TN_CHECK(delivered(&in, 5));
    TN_EQ(fw_rec(2).err, VNET_E_TOOBIG);
    ss = stats(&sw);
    TN_EQ(ss.tx_zc_packets, 1);
    TN_EQ(ss.tx_zc_copies, 0);
    TN_EQ(ss.tx_packets, 1);
    TN_EQ(lent(&in), 1);
    TN_EQ(in.dev->sw.spare_top, 3);
    TN_EQ(simdev_tx_complete(sw.sim, 0), 1);
    static uint8_t got[1600];
    struct virtio_net_hdr gh;
    size_t glen = 0;
    TN_EQ(simdev_tx_pop_hdr(sw.sim, &gh, got, sizeof(got), &glen), SIMDEV_OK);
    TN_EQ(glen, ulen);
    TN_EQ(gh.flags, 0);
    TN_EQ(gh.csum_start, 0);
    TN_EQ(gh.csum_offset, 0);
    TN_CHECK(udp_csum_ok(got, glen));
    /* Only the checksum field differs from what was received. */
    got[40] = uf[40];
    got[41] = uf[41];
    TN_CHECK(glen == ulen && memcmp(got, uf, ulen) == 0);
    fw_set(FW_NONE, NULL);
    TN_CHECK(nh_close_one(&sw));
    TN_EQ(lent(&in), 0);
    close_pair(&in, &out);
}

/* ---------------------------------------------------------------------------------- */

/*
 * 8. Hairpin: a device forwarding to itself (a frame sent back out of the port it came in
 * on) lends the slot to its own TX ring. Its halt must not wait for its own ring (which
 * only the halt's freeing of that ring gives back): VNET_OK at once, whether the device
 * completed the chain (sync) or never will (held).
 */
static void test_hairpin(bool hold)
{
    tn_case(hold ? "hairpin: forward to itself, completion held, then halt"
                 : "hairpin: forward to itself, then halt");
    struct nh in;
    struct nh_opts io = in_opts(2);
    io.tx_hold = hold;
    io.keep_tx_frames = true;
    fw_set(FW_NONE, NULL);
    TN_EQ(nh_open(&in, &io), VNET_OK);
    in.on_rx = fw_on_rx;
    fw_set(FW_SELF, &in);
    inject_one(&in, 0, 200);
    struct fw_rec r = fw_rec(0);
    TN_EQ(r.err, VNET_OK);
    TN_EQ(stats(&in).tx_zc_packets, 1);
    TN_EQ(lent(&in), 1);
    expect_lent_desc(&in, &in, 0, &r);
    fw_set(FW_NONE, NULL);
    uint64_t t0 = nh_now_ms();
    TN_EQ(virtio_net_halt(in.dev), VNET_OK);
    TN_CHECK(nh_now_ms() - t0 < 1000);
    TN_EQ(lent(&in), 0);
    if (hold) {
        expect_wire_empty(&in); /* reset before the device read it */
    } else {
        simdev_frame_build(scratch, 200, 0, dst);
        expect_wire(&in, scratch, 200, NULL);
    }
    in.on_rx = NULL;
    TN_CHECK(nh_close(&in));
}

/*
 * Two devices forwarding to each other (the router's two NICs), B's device stalled.
 * halt(A) times out as documented (its slot on B never completes), but gives B's slot on
 * its own, reset, TX ring back first; halt(B) then finds nothing of its own out and
 * succeeds (giving A's slot back as it frees its ring), and the repeated halt(A) too.
 * Before the fix (the return came only with vnet_free_tx, after the collect) each halt
 * waited for the other forever. About 11 s (one bounded wait).
 */
static void test_halt_mutual(void)
{
    tn_case("A <-> B forwarding, B stalled: halt A times out, halt B and halt A succeed");
    struct nh a, b;
    struct nh_opts ao = in_opts(2);
    struct nh_opts bo = out_opts(true);
    bo.rx_lend_bufs = 2;
    if (!open_pair(&a, &ao, &b, &bo))
        return;
    b.on_rx = fw_on_rx;
    lend_n(&a, &b, 0, 1, 300);                     /* A's slot on B (held) */
    lend_n(&b, &a, 1, 1, 300);                     /* B's slot on A (completed, not reclaimed) */
    TN_EQ(virtio_net_halt(a.dev), VNET_E_TIMEOUT); /* documented: B never completes */
    vnet_err_t eb = virtio_net_halt(b.dev);
    TN_EQ(eb, VNET_OK);
    vnet_err_t ea = virtio_net_halt(a.dev);
    TN_EQ(ea, VNET_OK);
    if (eb != VNET_OK || ea != VNET_OK)
        return;
    close_pair(&a, &b);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    scratch = malloc(SIMDEV_MAX_FRAME);
    if (scratch == NULL)
        return 1;
    test_lend(false, false);
    test_lend(true, false);
    test_lend(false, true);
    test_lend_steady(1);
    test_lend_steady(2);
    test_exhaustion();
    test_reuse_while_lent();
    test_fallbacks();
    test_fallback_legacy();
    test_peer_limit();
    test_halt_in_waits();
    test_halt_in_quick();
    test_halt_out_first();
    test_headers();
    test_hairpin(false);
    test_hairpin(true);
    test_halt_in_timeout();
    test_halt_mutual();
    fw_set(FW_NONE, NULL);
    free(scratch);
    return tn_finish();
}
