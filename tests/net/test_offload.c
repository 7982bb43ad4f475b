/*
 * Offloads against the simulated device: negotiation matrix, MRG_RXBUF frames (a 60 KiB
 * GSO frame over ~30 buffers, mixed sizes, frames spanning service chunks), every
 * malformed merged frame counted and recovered from, virtio_net_send_hdr (header passed
 * unchanged, UNSUPP/INVAL refusals, software checksum checked against a reference
 * computed here), and the header's path from rx_hdr_fn to send_hdr.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

#define DEV_ALL (SIMDEV_DEFAULT_FEATURES | SIMDEV_OFFLOAD_FEATURES)
#define OFFLOAD_BITS                                                                               \
    (VIRTIO_NET_RX_OFFLOAD_FEATURES | VIRTIO_NET_TX_OFFLOAD_FEATURES | VIRTIO_NET_F_GUEST_ECN |    \
     VIRTIO_NET_F_GUEST_UFO | VIRTIO_NET_F_HOST_ECN | VIRTIO_NET_F_HOST_UFO)

static uint8_t *big; /* SIMDEV_MAX_FRAME bytes of scratch */

static struct virtio_net_stats stats(struct nh *h)
{
    struct virtio_net_stats st;
    virtio_net_get_stats(h->dev, &st);
    return st;
}

/* Wait until a counter read by `get` reaches `want` (true) or 5 s passed. */
static bool wait_stat(struct nh *h, size_t off, uint64_t want)
{
    uint64_t end = nh_now_ms() + 5000;
    for (;;) {
        struct virtio_net_stats st = stats(h);
        uint64_t v;
        memcpy(&v, (const uint8_t *)&st + off, sizeof(v));
        if (v >= want)
            return true;
        if (nh_now_ms() > end)
            return false;
        nh_sleep_ms(1);
    }
}
#define WAIT_STAT(h, field, want) wait_stat((h), offsetof(struct virtio_net_stats, field), (want))

static struct virtio_net_hdr gso_hdr(uint8_t type, uint16_t gso_size)
{
    struct virtio_net_hdr x;
    memset(&x, 0, sizeof(x));
    x.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    x.gso_type = type;
    x.hdr_len = 66;
    x.gso_size = gso_size;
    x.csum_start = 34;
    x.csum_offset = 16;
    return x;
}

static int inject(struct nh *h, uint32_t seq, size_t len, const struct virtio_net_hdr *hdr)
{
    return nh_inject_built(h, big, len, seq, dst, hdr);
}

/* ---------------------------------------------------------------------------------- */

static void test_negotiate_pure(void)
{
    tn_case("negotiate_offloads: matrix (pure)");
    uint64_t f = 0;
    /* No offload asked for: exactly the base set, whatever the device offers. */
    TN_EQ(virtio_net_negotiate_offloads(~0ull, 0, false, 0, &f), VNET_OK);
    TN_EQ(f, VIRTIO_NET_DRIVER_FEATURES);
    TN_EQ(virtio_net_negotiate(~0ull, 0, false, &f), VNET_OK);
    TN_EQ(f, VIRTIO_NET_DRIVER_FEATURES);
    /* RX: GUEST_CSUM, TSO4/6 and MRG_RXBUF; never UFO/ECN/ANNOUNCE or a TX offload. */
    TN_EQ(virtio_net_negotiate_offloads(~0ull, 0, false, VIRTIO_NET_OFFLOAD_RX, &f), VNET_OK);
    TN_EQ(f, VIRTIO_NET_DRIVER_FEATURES | VIRTIO_NET_RX_OFFLOAD_FEATURES);
    /* TX: CSUM and HOST_TSO4/6. */
    TN_EQ(virtio_net_negotiate_offloads(~0ull, 0, false, VIRTIO_NET_OFFLOAD_TX, &f), VNET_OK);
    TN_EQ(f, VIRTIO_NET_DRIVER_FEATURES | VIRTIO_NET_TX_OFFLOAD_FEATURES);
    TN_EQ(virtio_net_negotiate_offloads(~0ull, 0, false,
                                        VIRTIO_NET_OFFLOAD_RX | VIRTIO_NET_OFFLOAD_TX, &f),
          VNET_OK);
    TN_EQ(f & (VIRTIO_NET_F_GUEST_UFO | VIRTIO_NET_F_HOST_UFO | VIRTIO_NET_F_GUEST_ECN |
               VIRTIO_NET_F_HOST_ECN | VIRTIO_NET_F_GUEST_ANNOUNCE | VIRTIO_NET_F_CTRL_VQ |
               VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
          0);
    /* Device without MRG_RXBUF: GUEST_CSUM only, no receive GSO. */
    uint64_t dev = ~0ull & ~VIRTIO_NET_F_MRG_RXBUF;
    TN_EQ(virtio_net_negotiate_offloads(dev, 0, false, VIRTIO_NET_OFFLOAD_RX, &f), VNET_OK);
    TN_EQ(f & VIRTIO_NET_RX_OFFLOAD_FEATURES, VIRTIO_NET_F_GUEST_CSUM);
    /* The application forbids MRG_RXBUF: the same. */
    TN_EQ(virtio_net_negotiate_offloads(~0ull, ~VIRTIO_NET_F_MRG_RXBUF, false,
                                        VIRTIO_NET_OFFLOAD_RX, &f),
          VNET_OK);
    TN_EQ(f & VIRTIO_NET_RX_OFFLOAD_FEATURES, VIRTIO_NET_F_GUEST_CSUM);
    /* TSO without its checksum prerequisite (5.1.3.1) falls. */
    dev = ~0ull & ~(VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_CSUM);
    TN_EQ(virtio_net_negotiate_offloads(dev, 0, false,
                                        VIRTIO_NET_OFFLOAD_RX | VIRTIO_NET_OFFLOAD_TX, &f),
          VNET_OK);
    TN_EQ(f & OFFLOAD_BITS, VIRTIO_NET_F_MRG_RXBUF);
    /* feature_allow restricts offloads like anything else. */
    TN_EQ(virtio_net_negotiate_offloads(~0ull, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_CSUM, false,
                                        VIRTIO_NET_OFFLOAD_TX, &f),
          VNET_OK);
    TN_EQ(f, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_CSUM);
    /* Legacy: offloads only with ANY_LAYOUT. */
    TN_EQ(virtio_net_negotiate_offloads(~0ull & ~VIRTIO_F_ANY_LAYOUT, 0, true,
                                        VIRTIO_NET_OFFLOAD_RX | VIRTIO_NET_OFFLOAD_TX, &f),
          VNET_OK);
    TN_EQ(f & OFFLOAD_BITS, 0);
    TN_EQ(virtio_net_negotiate_offloads(~0ull, 0, true,
                                        VIRTIO_NET_OFFLOAD_RX | VIRTIO_NET_OFFLOAD_TX, &f),
          VNET_OK);
    TN_EQ(f & OFFLOAD_BITS, VIRTIO_NET_RX_OFFLOAD_FEATURES | VIRTIO_NET_TX_OFFLOAD_FEATURES);
}

static void test_negotiate_sim(void)
{
    tn_case("negotiation on the simulated device: nothing new without rx_hdr_fn/tx_offloads");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint64_t base = simdev_driver_features(h.sim);
    TN_CHECK(nh_close(&h));

    o.device_features = DEV_ALL;
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(simdev_driver_features(h.sim), base);
    TN_EQ(virtio_net_features(h.dev), base);
    /* Plain delivery unchanged; send_hdr refuses GSO, completes checksums itself. */
    TN_EQ(inject(&h, 0, 1514, NULL), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.hdr_frames, 0);
    TN_EQ(r.corrupt, 0);
    struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    TN_EQ(virtio_net_send_hdr(h.dev, &g, big, 3000, 0), VNET_E_UNSUPP);
    TN_EQ(stats(&h).tx_gso_refused, 1);
    TN_CHECK(nh_close(&h));

    tn_case("negotiation: rx_hdr_fn + tx_offloads on a full device, and without MRG_RXBUF");
    o.rx_hdr = true;
    o.tx_offloads = true;
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint64_t f = simdev_driver_features(h.sim);
    TN_EQ(f & OFFLOAD_BITS, VIRTIO_NET_RX_OFFLOAD_FEATURES | VIRTIO_NET_TX_OFFLOAD_FEATURES);
    TN_EQ(f & ~OFFLOAD_BITS, base);
    TN_CHECK(nh_close(&h));

    o.device_features = DEV_ALL & ~SIMDEV_F_MRG_RXBUF;
    o.tx_offloads = false;
    TN_EQ(nh_open(&h, &o), VNET_OK);
    f = simdev_driver_features(h.sim);
    TN_EQ(f & OFFLOAD_BITS, VIRTIO_NET_F_GUEST_CSUM);
    /* Single-buffer frames still come with their header. */
    struct virtio_net_hdr c;
    memset(&c, 0, sizeof(c));
    c.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    c.csum_start = 34;
    c.csum_offset = 6;
    TN_EQ(inject(&h, 0, 1000, &c), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 5000));
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.hdr_frames, 1);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.last_hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    TN_EQ(r.last_hdr.csum_start, 34);
    TN_EQ(r.last_hdr.csum_offset, 6);
    TN_EQ(r.last_hdr.num_buffers, 1);
    /* A GSO header here was never negotiated: counted and dropped. */
    struct virtio_net_hdr g4 = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    TN_EQ(inject(&h, 1, 1000, &g4), SIMDEV_OK);
    TN_CHECK(WAIT_STAT(&h, rx_bad_hdr, 1));
    TN_EQ(inject(&h, 2, 1000, NULL), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 2, 5000));
    TN_CHECK(nh_close(&h));
}

/* ---------------------------------------------------------------------------------- */

static void test_gso_60k(uint16_t rx_posted)
{
    tn_case(rx_posted ? "largest GSO frame with 16 posted buffers (buffers grow to fit it)"
                      : "60 KiB GSO frame over ~30 merged buffers, intact, header delivered");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .device_features = DEV_ALL,
                        .rx_hdr = true,
                        .rx_mrg_buf_bytes = 2048, /* the buffer counts below assume 2 KiB */
                        .rx_posted = rx_posted,
                        .rx_sw_ring_entries = 128};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    size_t len = rx_posted ? VIRTIO_NET_GSO_MAX_FRAME : 61440;
    struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    TN_EQ(inject(&h, 0, len, &g), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.hdr_frames, 1);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.bytes, len);
    TN_EQ(r.last_hdr.flags, g.flags);
    TN_EQ(r.last_hdr.gso_type, g.gso_type);
    TN_EQ(r.last_hdr.gso_size, g.gso_size);
    TN_EQ(r.last_hdr.hdr_len, g.hdr_len);
    TN_EQ(r.last_hdr.csum_start, g.csum_start);
    TN_EQ(r.last_hdr.csum_offset, g.csum_offset);
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    uint32_t per = h.dev->rx.buf_len;
    TN_EQ(r.last_hdr.num_buffers, (len + 12 + per - 1) / per);
    if (!rx_posted)
        TN_CHECK(r.last_hdr.num_buffers >= 29 && r.last_hdr.num_buffers <= 32);
    else
        TN_CHECK(r.last_hdr.num_buffers <= 16);
    struct virtio_net_stats st = stats(&h);
    TN_EQ(st.rx_gso_packets, 1);
    TN_EQ(st.rx_packets, 1);
    TN_EQ(st.rx_bad_len + st.rx_bad_hdr + st.bad_used + st.rx_queue_drops, 0);
    /* Every buffer went back to the device: the next one arrives too. */
    TN_EQ(inject(&h, 1, len, &g), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 2, 5000));
    TN_EQ(simdev_check_kicks(h.sim), 0);
    TN_CHECK(nh_close(&h));
}

/* A gate that holds the RX task in the callback while the device queues more frames. */
static pthread_mutex_t gate_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed;

static void gate_hdr(struct nh *h, const struct virtio_net_hdr *hdr, uint8_t *frame, size_t len)
{
    (void)h;
    (void)hdr;
    (void)frame;
    (void)len;
    pthread_mutex_lock(&gate_mtx);
    while (gate_closed)
        pthread_cond_wait(&gate_cv, &gate_mtx);
    pthread_mutex_unlock(&gate_mtx);
}

static void gate_set(bool closed)
{
    pthread_mutex_lock(&gate_mtx);
    gate_closed = closed;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mtx);
}

static size_t mixed_len(uint32_t i)
{
    switch (i % 5) {
    case 0:
        return 60 + (i * 37) % 1455;
    case 1:
        return 2000 + (i * 811) % 8000;
    case 2:
        return 65550 - (i % 3) * 997;
    case 3:
        return 1514;
    default:
        return 20000 + (i * 4099) % 40000;
    }
}

static void test_mixed(void)
{
    tn_case("mixed small and GSO frames, in order, also queued while the task is held");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .device_features = DEV_ALL,
                        .rx_hdr = true,
                        .rx_mrg_buf_bytes = 2048, /* the buffer counts below assume 2 KiB */
                        .rx_sw_ring_entries = 128,
                        .rx_budget = 16,
                        .isr_budget = 8};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint32_t seq = 0;
    uint64_t bytes = 0;
    for (; seq < 300; seq++) {
        size_t len = mixed_len(seq);
        struct virtio_net_hdr g =
            gso_hdr(seq & 1 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4, 1448);
        int rc = SIMDEV_E_NOBUF;
        for (int tries = 0; tries < 5000 && rc == SIMDEV_E_NOBUF; tries++) {
            rc = inject(&h, seq, len, len > 1518 ? &g : NULL);
            if (rc == SIMDEV_E_NOBUF)
                nh_sleep_ms(1);
        }
        TN_EQ(rc, SIMDEV_OK);
        bytes += len;
    }
    TN_CHECK(nh_wait_frames(&h, 300, 10000));
    /* Hold the task in the callback, queue frames the device has buffers for (the ISR
     * stays off, so the task services them later, across chunks and budgets). */
    h.on_rx_hdr = gate_hdr;
    gate_set(true);
    TN_EQ(inject(&h, seq++, 100, NULL), SIMDEV_OK);
    bytes += 100;
    nh_sleep_ms(20);
    unsigned queued = 0;
    for (;; seq++) {
        size_t len = mixed_len(seq);
        struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1000);
        if (inject(&h, seq, len, len > 1518 ? &g : NULL) != SIMDEV_OK)
            break;
        bytes += len;
        queued++;
    }
    TN_CHECK(queued >= 5);
    gate_set(false);
    TN_CHECK(nh_wait_frames(&h, seq, 10000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, seq);
    TN_EQ(r.bytes, bytes);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(r.gaps, 0);
    struct virtio_net_stats st = stats(&h);
    TN_EQ(st.rx_bad_len + st.rx_bad_hdr + st.bad_used + st.rx_queue_drops, 0);
    TN_CHECK(st.task_serviced > 0);
    TN_EQ(nh_sem_count(&h), 0);
    h.on_rx_hdr = NULL;
    TN_CHECK(nh_close(&h));
}

/*
 * isr_budget_bytes: four 60 KiB GSO frames wait in the used ring (RX vector masked), then
 * one interrupt. With a 16 KiB byte budget the ISR finishes the first frame and leaves
 * the rest to the task (isr_budget_exhausted, task_serviced); with the default (0 ->
 * 64 KiB) it finishes the second; with 1 MiB it takes all four. Every frame arrives
 * intact either way.
 */
static void run_isr_bytes(uint32_t byte_budget, unsigned isr_frames)
{
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = SIMDEV_IRQ_MSIX,
                        .device_features = DEV_ALL,
                        .rx_hdr = true,
                        .rx_sw_ring_entries = 16,
                        .isr_budget = 256, /* the entry budget never binds here */
                        .isr_budget_bytes = byte_budget,
                        .rx_mrg_buf_bytes = 2048};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    const size_t len = 60u * 1024u;
    osal_posix_irq_mask(h.irq_rx);
    for (uint32_t seq = 0; seq < 4; seq++)
        TN_EQ(inject(&h, seq, len, &g), SIMDEV_OK);
    struct virtio_net_stats a = stats(&h);
    osal_posix_irq_unmask(h.irq_rx);
    TN_CHECK(nh_wait_frames(&h, 4, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct virtio_net_stats b = stats(&h);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, 4);
    TN_EQ(r.bytes, 4u * len);
    TN_EQ(r.corrupt + r.gaps + r.out_of_order, 0);
    TN_EQ(b.interrupts - a.interrupts, 1);
    if (isr_frames < 4) {
        TN_EQ(b.isr_budget_exhausted - a.isr_budget_exhausted, 1);
        TN_CHECK(b.task_serviced - a.task_serviced >= (4u - isr_frames) * (len / 2048u));
        TN_CHECK(b.task_serviced - a.task_serviced < (5u - isr_frames) * (len / 2048u));
    } else {
        TN_EQ(b.isr_budget_exhausted, a.isr_budget_exhausted);
        TN_EQ(b.task_serviced, a.task_serviced);
    }
    TN_CHECK(nh_close(&h));
}

static void test_isr_bytes(void)
{
    tn_case("isr_budget_bytes: the ISR stops after a frame past the byte budget");
    run_isr_bytes(16384, 1);
    tn_case("isr_budget_bytes 0: bounded by the default (64 KiB), the ISR takes two frames");
    run_isr_bytes(0, 2);
    tn_case("isr_budget_bytes 1 MiB: the ISR takes every waiting frame");
    run_isr_bytes(1u << 20, 4);
}

/*
 * rx_mrg_buf_bytes: the size of each posted merged buffer. One 60 KiB GSO frame uses
 * exactly ceil((header + frame) / size) of them (the device fills each one in turn), and
 * arrives intact; sizes outside 128..65536 are refused at attach.
 */
static void run_mrg_size(uint32_t cfg_bytes, uint32_t expect_bytes)
{
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = SIMDEV_IRQ_MSIX,
                        .device_features = DEV_ALL,
                        .rx_hdr = true,
                        .rx_mrg_buf_bytes = cfg_bytes};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    struct virtio_net_debug_state d0, d1;
    TN_EQ(virtio_net_get_debug_state(h.dev, &d0), VNET_OK);
    struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    const size_t len = 60u * 1024u;
    TN_EQ(inject(&h, 0, len, &g), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    TN_EQ(virtio_net_get_debug_state(h.dev, &d1), VNET_OK);
    const uint32_t hdr = 12; /* MRG_RXBUF: the header with num_buffers */
    uint16_t used = (uint16_t)(d1.rxq.last_used - d0.rxq.last_used);
    TN_EQ(used, (hdr + len + expect_bytes - 1u) / expect_bytes);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, 1);
    TN_EQ(r.bytes, len);
    TN_EQ(r.corrupt, 0);
    TN_CHECK(nh_close(&h));
}

static void test_mrg_size(void)
{
    tn_case("rx_mrg_buf_bytes: 0 means 8 KiB buffers (a 60 KiB frame uses 8)");
    run_mrg_size(0, 8192);
    tn_case("rx_mrg_buf_bytes: 2048 and 4000 (rounded up to 4032)");
    run_mrg_size(2048, 2048);
    run_mrg_size(4000, 4032);
    tn_case("rx_mrg_buf_bytes: out of range is refused at attach");
    const uint32_t bad[] = {64, 127, 65537, 1u << 20};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct nh h;
        struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                            .irq_mode = SIMDEV_IRQ_MSIX,
                            .device_features = DEV_ALL,
                            .rx_hdr = true,
                            .no_init = true,
                            .rx_mrg_buf_bytes = bad[i]};
        TN_EQ(nh_open(&h, &o), VNET_E_INVAL);
        TN_CHECK(nh_close(&h)); /* the simulator and transport it had set up */
    }
}

/* ---------------------------------------------------------------------------------- */

struct bad_case {
    const char *what;
    size_t len;
    struct virtio_net_hdr hdr;
    struct simdev_rx_opts o;
    size_t stat; /* offset of the counter that must move */
};

static void test_malformed(void)
{
    tn_case("malformed merged frames: counted, buffers recycled, later frames delivered");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .device_features = DEV_ALL,
                        .rx_hdr = true,
                        .rx_mrg_buf_bytes = 2048, /* the buffer counts below assume 2 KiB */
                        .rx_sw_ring_entries = 64};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    struct virtio_net_hdr z;
    memset(&z, 0, sizeof(z));
    const size_t bad_len = offsetof(struct virtio_net_stats, rx_bad_len);
    const size_t bad_hdr = offsetof(struct virtio_net_stats, rx_bad_hdr);
    struct bad_case cases[] = {
        {"num_buffers 0", 1000, z, {.set_num_buffers = true, .num_buffers = 0}, bad_hdr},
        {"num_buffers 0 on a big frame (its other buffers read as frames)",
         9000,
         g,
         {.set_num_buffers = true, .num_buffers = 0},
         bad_hdr},
        {"num_buffers > buffers published (short used ring)",
         5000,
         g,
         {.set_num_buffers = true, .num_buffers = 5},
         bad_len},
        {"num_buffers > every posted buffer",
         1000,
         z,
         {.set_num_buffers = true, .num_buffers = 1000},
         bad_hdr},
        {"num_buffers 1 for a 3-buffer GSO frame",
         5000,
         g,
         {.set_num_buffers = true, .num_buffers = 1},
         bad_len},
        {"total above VIRTIO_NET_GSO_MAX_FRAME", VIRTIO_NET_GSO_MAX_FRAME + 1, g, {0}, bad_len},
        {"total 69000", 69000, g, {0}, bad_len},
        {"first used len shorter than the header",
         1000,
         z,
         {.set_first_len = true, .first_len = 8},
         bad_len},
        {"first used len = header only",
         1000,
         z,
         {.set_first_len = true, .first_len = 12},
         bad_len},
        {"non-GSO frame above the MTU", 3000, z, {0}, bad_len},
        {"gso_size 0", 5000, gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 0), {0}, bad_hdr},
        {"gso UDP (never negotiated)", 5000, gso_hdr(3, 1400), {0}, bad_hdr},
        {"ECN bit without GSO", 1000, gso_hdr(VIRTIO_NET_HDR_GSO_ECN, 0), {0}, bad_hdr},
        {"csum_start beyond the frame", 1000, z, {0}, bad_hdr},
        {"unknown header flag", 1000, z, {0}, bad_hdr},
    };
    size_t ncases = sizeof(cases) / sizeof(cases[0]);
    cases[ncases - 2].hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    cases[ncases - 2].hdr.csum_start = 990;
    cases[ncases - 2].hdr.csum_offset = 9;
    cases[ncases - 1].hdr.flags = 0x40;
    /* Case 4: the device claims too few buffers. The first part is a consistent frame of
     * its own (delivered, truncated: the frame check fails); the rest is rejected as bad
     * frames (rx_bad_len or rx_bad_hdr, by what the payload bytes read as a header say). */
    const size_t undetectable_head = 4;
    uint32_t seq = 0;
    uint64_t good = 0, corrupt = 0;
    for (size_t i = 0; i < ncases; i++) {
        tn_case(cases[i].what);
        struct virtio_net_stats before = stats(&h);
        uint64_t b0;
        memcpy(&b0, (const uint8_t *)&before + cases[i].stat, sizeof(b0));
        cases[i].o.hdr = &cases[i].hdr;
        simdev_frame_build(big, cases[i].len, 0xdead0000u + (uint32_t)i, dst);
        TN_EQ(simdev_rx_inject_ex(h.sim, big, cases[i].len, &cases[i].o), SIMDEV_OK);
        if (i == undetectable_head) {
            TN_CHECK(nh_wait_frames(&h, good + 1, 5000));
            good++;
            corrupt++;
            TN_CHECK(nh_wait_idle(&h, 5000));
            struct virtio_net_stats now = stats(&h);
            TN_CHECK(now.rx_bad_len + now.rx_bad_hdr > before.rx_bad_len + before.rx_bad_hdr);
        } else {
            TN_CHECK(wait_stat(&h, cases[i].stat, b0 + 1));
            TN_CHECK(nh_wait_idle(&h, 5000));
        }
        /* Later frames still arrive, small and big. */
        TN_EQ(inject(&h, seq++, 200, NULL), SIMDEV_OK);
        TN_EQ(inject(&h, seq++, 40000, &g), SIMDEV_OK);
        good += 2;
        TN_CHECK(nh_wait_frames(&h, good, 5000));
        TN_CHECK(nh_wait_idle(&h, 5000));
    }
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, good);
    TN_EQ(r.corrupt, corrupt);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(r.gaps, 0);
    struct virtio_net_stats st = stats(&h);
    TN_EQ(st.bad_used, 0);
    TN_EQ(st.broken, 0);
    TN_EQ(st.rx_queue_drops, 0);
    TN_EQ(st.rx_queue_count, 0);
    /* Every buffer is back with the device: a full-size frame still fits. */
    TN_EQ(inject(&h, seq++, VIRTIO_NET_GSO_MAX_FRAME, &g), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, good + 1, 5000));
    TN_EQ(simdev_check_kicks(h.sim), 0);
    TN_CHECK(nh_close(&h));
}

/* A full software ring drops whole merged frames (one count each), never a part: an ISR
 * pass that finds more frames than the ring holds (the task parked). */
static void test_sw_ring_full_merged(void)
{
    tn_case("software ring full with merged frames: whole frames dropped and counted");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .device_features = DEV_ALL,
                        .rx_hdr = true,
                        .rx_mrg_buf_bytes = 2048,     /* the buffer counts below assume 2 KiB */
                        .isr_budget_bytes = 1u << 20, /* one pass takes all five */
                        .rx_sw_ring_entries = 2};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    /* Interrupts masked: five frames wait for one ISR pass, which stages two. */
    osal_crit_t c = osal_crit_enter();
    for (uint32_t s = 0; s <= 4; s++)
        TN_EQ(inject(&h, s, 30000, &g), SIMDEV_OK);
    int n = virtio_net_service_rx_ring(h.dev, 1000);
    osal_crit_exit(c);
    TN_CHECK(n > 0);
    struct virtio_net_stats st = stats(&h);
    TN_EQ(st.rx_queue_drops, 3);
    TN_EQ(st.rx_bad_len + st.rx_bad_hdr, 0);
    TN_CHECK(nh_wait_frames(&h, 2, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    /* All buffers recycled: the next frame arrives. */
    TN_EQ(inject(&h, 5, 30000, &g), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 3, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, 3);
    TN_EQ(r.gaps, 3);
    TN_EQ(r.corrupt, 0);
    TN_CHECK(nh_close(&h));
}

/* ---------------------------------------------------------------------------------- */

/* Independent reference: big-endian 16-bit words, one byte at a time. */
static uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i++)
        sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Ethernet + IPv4 + TCP (or UDP) frame with the L4 checksum field holding the folded
 * pseudo-header sum, as a stack asking for checksum offload leaves it. */
static size_t build_l4(uint8_t *f, size_t payload, bool udp, uint32_t salt)
{
    size_t l4h = udp ? 8 : 20;
    size_t l4len = l4h + payload;
    memset(f, 0, 14 + 20 + l4len);
    memcpy(f, dst, 6);
    f[6] = 2;
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((20 + l4len) >> 8);
    ip[3] = (uint8_t)(20 + l4len);
    ip[8] = 64;
    ip[9] = udp ? 17 : 6;
    const uint8_t src[4] = {198, 18, 0, (uint8_t)(2 + salt % 200)}, dip[4] = {198, 19, 0, 2};
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dip, 4);
    uint8_t *l4 = ip + 20;
    l4[0] = (uint8_t)(salt >> 8);
    l4[1] = (uint8_t)salt;
    l4[2] = 0x14;
    l4[3] = 0x51;
    if (udp) {
        l4[4] = (uint8_t)(l4len >> 8);
        l4[5] = (uint8_t)l4len;
    } else {
        l4[12] = 0x50;
        l4[13] = 0x18;
    }
    for (size_t i = l4h; i < l4len; i++)
        l4[i] = (uint8_t)(salt * 31u + i * 7u + (i >> 8));
    uint8_t ph[12];
    memcpy(ph, src, 4);
    memcpy(ph + 4, dip, 4);
    ph[8] = 0;
    ph[9] = udp ? 17 : 6;
    ph[10] = (uint8_t)(l4len >> 8);
    ph[11] = (uint8_t)l4len;
    uint16_t seed = ref_sum(ph, sizeof(ph), 0);
    size_t off = udp ? 6 : 16;
    l4[off] = (uint8_t)(seed >> 8);
    l4[off + 1] = (uint8_t)seed;
    return 14 + 20 + l4len;
}

/* The checksum a receiver expects: over pseudo header + segment with the field zeroed. */
static uint16_t ref_l4_csum(const uint8_t *f, size_t len, bool udp)
{
    static uint8_t tmp[2048];
    const uint8_t *ip = f + 14;
    size_t l4len = len - 34;
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = udp ? 17 : 6;
    ph[10] = (uint8_t)(l4len >> 8);
    ph[11] = (uint8_t)l4len;
    memcpy(tmp, ip + 20, l4len);
    size_t off = udp ? 6 : 16;
    tmp[off] = tmp[off + 1] = 0;
    uint16_t c = (uint16_t)~ref_sum(tmp, l4len, ref_sum(ph, sizeof(ph), 0));
    return c == 0 ? 0xffff : c;
}

static void test_csum_unit(void)
{
    tn_case("virtio_net_csum_complete against a byte-wise reference (odd starts/lengths)");
    static uint8_t buf[3000], copy[3000];
    uint32_t x = 12345;
    for (int iter = 0; iter < 2000; iter++) {
        size_t len = 4 + (size_t)(iter * 7919) % 2990;
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        uint16_t start = (uint16_t)((size_t)iter % (len - 2));
        uint16_t off = (uint16_t)(((size_t)iter * 13u) % (len - start - 1u));
        memcpy(copy, buf, len);
        /* Reference: the seed sits at the field; the sum runs over it as stored. */
        uint16_t want = (uint16_t)~ref_sum(buf + start, len - start, 0);
        if (want == 0)
            want = 0xffff;
        virtio_net_csum_complete(copy, len, start, off);
        TN_EQ(((unsigned)copy[start + off] << 8) | copy[start + off + 1], want);
        copy[start + off] = buf[start + off];
        copy[start + off + 1] = buf[start + off + 1];
        TN_CHECK(memcmp(copy, buf, len) == 0); /* nothing else touched */
        if (tn_failures > 10)
            break;
    }
    /* A sum of 0xffff complements to 0, sent as 0xffff. */
    uint8_t ff[4] = {0, 0, 0xff, 0xff};
    virtio_net_csum_complete(ff, 4, 0, 2);
    TN_EQ(ff[2], 0xff);
    TN_EQ(ff[3], 0xff);
}

static void test_send_sw_csum(void)
{
    tn_case("send_hdr NEEDS_CSUM without CSUM negotiated: completed in software, flags 0");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .device_features = DEV_ALL,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .keep_tx_frames = true};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(virtio_net_features(h.dev) & VIRTIO_NET_F_CSUM, 0);
    static uint8_t f[1600], out[1600];
    unsigned sent = 0;
    for (uint32_t i = 0; i < 400; i++) {
        bool udp = (i % 3) == 0;
        size_t payload = (i * 11u) % (udp ? 1473u : 1461u);
        size_t len = build_l4(f, payload, udp, i);
        struct virtio_net_hdr c;
        memset(&c, 0, sizeof(c));
        c.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | (i & 1 ? VIRTIO_NET_HDR_F_DATA_VALID : 0);
        c.csum_start = 34;
        c.csum_offset = udp ? 6 : 16;
        uint16_t want = ref_l4_csum(f, len, udp);
        TN_EQ(virtio_net_send_hdr(h.dev, &c, f, len, 0), VNET_OK);
        struct virtio_net_hdr got;
        size_t olen = 0;
        TN_EQ(simdev_tx_pop_hdr(h.sim, &got, out, sizeof(out), &olen), SIMDEV_OK);
        TN_EQ(olen, len);
        TN_EQ(got.flags, 0);
        TN_EQ(got.gso_type, 0);
        size_t at = 34 + c.csum_offset;
        TN_EQ(((unsigned)out[at] << 8) | out[at + 1], want);
        /* Receiver's check: the whole segment plus pseudo header sums to 0xffff. */
        uint8_t ph[12];
        memcpy(ph, out + 26, 8);
        ph[8] = 0;
        ph[9] = udp ? 17 : 6;
        ph[10] = (uint8_t)((len - 34) >> 8);
        ph[11] = (uint8_t)(len - 34);
        TN_EQ(ref_sum(out + 34, len - 34, ref_sum(ph, 12, 0)), 0xffff);
        out[at] = f[at];
        out[at + 1] = f[at + 1];
        TN_CHECK(memcmp(out, f, len) == 0);
        sent++;
        if (tn_failures > 10)
            break;
    }
    struct virtio_net_stats st = stats(&h);
    TN_EQ(st.tx_csum_sw, sent);
    TN_EQ(st.tx_packets, sent);
    TN_CHECK(nh_close(&h));
}

static void test_send_hdr_offload(void)
{
    tn_case("send_hdr with offloads: header passed unchanged, GSO up to the maximum");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .device_features = DEV_ALL & ~SIMDEV_F_HOST_TSO6,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .tx_slots = 8,
                        .keep_tx_frames = true,
                        .tx_offloads = true};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint64_t f = virtio_net_features(h.dev);
    TN_CHECK((f & VIRTIO_NET_F_CSUM) && (f & VIRTIO_NET_F_HOST_TSO4));
    TN_EQ(f & VIRTIO_NET_F_HOST_TSO6, 0);
    static uint8_t out[SIMDEV_MAX_FRAME];
    struct virtio_net_hdr g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    g.hdr_len = 54;
    g.csum_start = 34;
    g.csum_offset = 16;
    size_t lens[] = {60000, VIRTIO_NET_GSO_MAX_FRAME, 200};
    for (unsigned i = 0; i < 3; i++) {
        simdev_frame_build(big, lens[i], 77 + i, dst);
        g.gso_size = (uint16_t)(1000 + i);
        g.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | (i == 1 ? VIRTIO_NET_HDR_F_DATA_VALID : 0);
        TN_EQ(virtio_net_send_hdr(h.dev, &g, big, lens[i], 0), VNET_OK);
        struct virtio_net_hdr got;
        size_t olen = 0;
        TN_EQ(simdev_tx_pop_hdr(h.sim, &got, out, sizeof(out), &olen), SIMDEV_OK);
        TN_EQ(olen, lens[i]);
        TN_CHECK(memcmp(out, big, lens[i]) == 0);
        TN_EQ(got.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM); /* DATA_VALID (RX only) dropped */
        TN_EQ(got.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
        TN_EQ(got.gso_size, 1000 + i);
        TN_EQ(got.hdr_len, 54);
        TN_EQ(got.csum_start, 34);
        TN_EQ(got.csum_offset, 16);
        TN_EQ(got.num_buffers, 0);
    }
    /* NEEDS_CSUM on a plain frame goes to the device as is (CSUM negotiated). */
    struct virtio_net_hdr c;
    memset(&c, 0, sizeof(c));
    c.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    c.csum_start = 34;
    c.csum_offset = 6;
    simdev_frame_build(big, 500, 5, dst);
    TN_EQ(virtio_net_send_hdr(h.dev, &c, big, 500, 0), VNET_OK);
    struct virtio_net_hdr got;
    size_t olen = 0;
    TN_EQ(simdev_tx_pop_hdr(h.sim, &got, out, sizeof(out), &olen), SIMDEV_OK);
    TN_EQ(got.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    TN_EQ(got.csum_start, 34);
    TN_EQ(got.csum_offset, 6);
    TN_CHECK(memcmp(out, big, 500) == 0);
    /* NULL header = virtio_net_send. */
    TN_EQ(virtio_net_send_hdr(h.dev, NULL, big, 500, 0), VNET_OK);
    TN_EQ(simdev_tx_pop_hdr(h.sim, &got, out, sizeof(out), &olen), SIMDEV_OK);
    TN_EQ(got.flags | got.gso_type | got.gso_size | got.csum_start | got.csum_offset, 0);
    struct virtio_net_stats st = stats(&h);
    TN_EQ(st.tx_gso_packets, 3);
    TN_EQ(st.tx_csum_sw, 0);

    tn_case("send_hdr refusals: VNET_E_UNSUPP (counted tx_gso_refused), VNET_E_INVAL");
    uint64_t refused = st.tx_gso_refused, errors = st.tx_errors;
    struct virtio_net_hdr b;
    b = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1448); /* HOST_TSO6 not negotiated */
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 5000, 0), VNET_E_UNSUPP);
    b = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 0);
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 5000, 0), VNET_E_UNSUPP);
    b = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, VIRTIO_NET_GSO_MAX_FRAME + 1, 0), VNET_E_UNSUPP);
    b = gso_hdr(3, 1448); /* UDP */
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 5000, 0), VNET_E_UNSUPP);
    b = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448);
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 5000, 0), VNET_E_UNSUPP);
    st = stats(&h);
    TN_EQ(st.tx_gso_refused, refused + 5);
    TN_EQ(st.tx_errors, errors);
    b = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    b.csum_start = 4990;
    b.csum_offset = 9; /* 4990 + 9 + 2 > 5000 */
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 5000, 0), VNET_E_INVAL);
    b.csum_offset = 8; /* exactly fits */
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 5000, 0), VNET_OK);
    b = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
    b.flags = 0; /* GSO without NEEDS_CSUM */
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 5000, 0), VNET_E_INVAL);
    memset(&b, 0, sizeof(b));
    b.flags = 0x80;
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 500, 0), VNET_E_INVAL);
    b.flags = 0;
    b.gso_type = VIRTIO_NET_HDR_GSO_ECN;
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 500, 0), VNET_E_INVAL);
    b.gso_type = 0;
    b.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    b.csum_start = 0xffff;
    b.csum_offset = 0xffff;
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 500, 0), VNET_E_INVAL);
    memset(&b, 0, sizeof(b));
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 1519, 0), VNET_E_TOOBIG); /* no GSO: MTU */
    TN_EQ(virtio_net_send_hdr(h.dev, &b, big, 10, 0), VNET_E_INVAL);
    st = stats(&h);
    TN_EQ(st.tx_errors, errors + 6);
    TN_EQ(st.tx_gso_refused, refused + 5);
    /* Nothing refused reached the device: only the one good frame above. */
    TN_EQ(simdev_tx_pop_hdr(h.sim, &got, out, sizeof(out), &olen), SIMDEV_OK);
    TN_EQ(olen, 5000);
    TN_EQ(simdev_tx_pop_hdr(h.sim, &got, out, sizeof(out), &olen), SIMDEV_E_NOBUF);
    TN_CHECK(nh_close(&h));
}

/* RX header straight to TX, as the router forwards: rx_hdr_fn -> send_hdr. */
static void forward_hdr(struct nh *h, const struct virtio_net_hdr *hdr, uint8_t *frame, size_t len)
{
    (void)virtio_net_send_hdr(h->dev, hdr, frame, len, 0);
}

static void test_forward(void)
{
    tn_case("forwarding: a received GSO frame and its header go out unchanged, unsplit");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .device_features = DEV_ALL,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .keep_tx_frames = true,
                        .rx_hdr = true,
                        .rx_mrg_buf_bytes = 2048, /* the buffer counts below assume 2 KiB */
                        .tx_offloads = true,
                        .rx_sw_ring_entries = 128};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    h.on_rx_hdr = forward_hdr;
    static uint8_t out[SIMDEV_MAX_FRAME];
    for (uint32_t i = 0; i < 20; i++) {
        size_t len = 10000 + i * 2777;
        struct virtio_net_hdr g = gso_hdr(
            i & 1 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4, (uint16_t)(1200 + i));
        g.flags |= VIRTIO_NET_HDR_F_DATA_VALID;
        TN_EQ(inject(&h, i, len, &g), SIMDEV_OK);
        TN_CHECK(nh_wait_frames(&h, i + 1, 5000));
        struct virtio_net_hdr got;
        size_t olen = 0;
        int rc = SIMDEV_E_NOBUF;
        for (int t = 0; t < 5000 && rc != SIMDEV_OK; t++) {
            rc = simdev_tx_pop_hdr(h.sim, &got, out, sizeof(out), &olen);
            if (rc != SIMDEV_OK)
                nh_sleep_ms(1);
        }
        TN_EQ(rc, SIMDEV_OK);
        TN_EQ(olen, len);
        uint32_t s = 0;
        TN_EQ(simdev_frame_check(out, olen, &s), 0);
        TN_EQ(s, i);
        TN_EQ(got.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
        TN_EQ(got.gso_type, g.gso_type);
        TN_EQ(got.gso_size, g.gso_size);
        TN_EQ(got.hdr_len, g.hdr_len);
        TN_EQ(got.csum_start, g.csum_start);
        TN_EQ(got.csum_offset, g.csum_offset);
        TN_EQ(got.num_buffers, 0);
    }
    struct virtio_net_stats st = stats(&h);
    TN_EQ(st.rx_gso_packets, 20);
    TN_EQ(st.tx_gso_packets, 20);
    TN_EQ(st.tx_gso_refused + st.tx_errors, 0);
    TN_CHECK(nh_wait_idle(&h, 5000));
    h.on_rx_hdr = NULL;
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    big = malloc(SIMDEV_MAX_FRAME);
    if (big == NULL)
        return 1;
    test_negotiate_pure();
    test_negotiate_sim();
    test_gso_60k(0);
    test_gso_60k(16);
    test_mixed();
    test_isr_bytes();
    test_mrg_size();
    test_malformed();
    test_sw_ring_full_merged();
    test_csum_unit();
    test_send_sw_csum();
    test_send_hdr_offload();
    test_forward();
    free(big);
    return tn_finish();
}
