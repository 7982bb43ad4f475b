/*
 * Each transport brought up by hand against the simulated device, with the real
 * virtqueue core: reset, status sequence, features, config read, queue setup, RX and TX
 * frames both ways (crossing the 16-bit index wrap), interrupts (MSI-X and shared),
 * protocol-violation and missed-kick checks, and a leak check at teardown.
 */
#include <stdatomic.h>
#include <string.h>
#include "osal.h"
#include "osal_posix.h"
#include "simdev.h"
#include "tu.h"
#include "virtio/virtio_transport.h"
#include "virtio/virtq.h"
#include "virtio/virtq_test.h"

#define BUF_LEN 2048u
#define NBUF    16

struct isr_ctx {
    struct virtio_transport *tr;
    bool shared;
    atomic_uint queue_irqs, config_irqs, calls;
};

static void isr_shared(void *arg)
{
    struct isr_ctx *c = arg;
    uint8_t st = virtio_tr_isr_status(c->tr);

    atomic_fetch_add(&c->calls, 1);
    if (st & VIRTIO_ISR_QUEUE)
        atomic_fetch_add(&c->queue_irqs, 1);
    if (st & VIRTIO_ISR_CONFIG)
        atomic_fetch_add(&c->config_irqs, 1);
}

static void isr_msix_queue(void *arg)
{
    struct isr_ctx *c = arg;

    atomic_fetch_add(&c->calls, 1);
    atomic_fetch_add(&c->queue_irqs, 1);
}

static void isr_msix_config(void *arg)
{
    struct isr_ctx *c = arg;

    atomic_fetch_add(&c->calls, 1);
    atomic_fetch_add(&c->config_irqs, 1);
}

struct bring {
    struct simdev *dev;
    struct virtio_transport *tr;
    struct virtq *rxq, *txq;
    uint8_t *buf[2][NBUF];
    uint64_t dma[2][NBUF];
    uint64_t features;
    unsigned hdr;
    struct isr_ctx isr;
    unsigned irqs[3];
    unsigned nirq;
};

struct variant {
    const char *name;
    enum simdev_transport st;
    enum simdev_irq_mode irq;
    unsigned pci_flags;
    enum virtio_transport_kind kind;
    uint16_t start_idx;
    bool event_idx;
};

static void post_rx(struct bring *b, int i)
{
    struct virtq_seg s = {b->dma[0][i], BUF_LEN, true};

    TU_CHECK_EQ(virtq_add(b->rxq, &s, 1, b->buf[0][i]), VNET_OK);
}

static int buf_index(struct bring *b, int q, void *cookie)
{
    for (int i = 0; i < NBUF; i++)
        if (b->buf[q][i] == cookie)
            return i;
    return -1;
}

static void run_variant(const struct variant *v)
{
    struct simdev_config cfg = {.transport = v->st,
                                .irq_mode = v->irq,
                                .irq_base = 8,
                                .rx_queue_size = 64,
                                .tx_queue_size = 64,
                                .keep_tx_frames = true,
                                .mtu = 1400};
    struct bring b;
    uint64_t want, dev_f;
    uint8_t mac[6];
    uint16_t mtu;
    bool legacy, msix = v->irq == SIMDEV_IRQ_MSIX;
    char why[160];

    memset(&b, 0, sizeof(b));
    if (!v->event_idx)
        cfg.features =
            SIMDEV_F_MAC | SIMDEV_F_STATUS | SIMDEV_F_MTU |
            (v->st == SIMDEV_PCI_LEGACY || v->st == SIMDEV_MMIO_V1 ? 0 : SIMDEV_F_VERSION_1);
    TU_REQUIRE(simdev_create(&b.dev, &cfg) == SIMDEV_OK);
    if (v->st <= SIMDEV_PCI_LEGACY)
        TU_REQUIRE(virtio_pci_transport_create(&b.tr, simdev_pci_bus(b.dev), v->pci_flags) ==
                   VNET_OK);
    else
        TU_REQUIRE(virtio_mmio_transport_create(&b.tr, simdev_mmio_bus(b.dev)) == VNET_OK);
    TU_CHECK_EQ(virtio_transport_kind(b.tr), v->kind);
    TU_CHECK_EQ(virtio_transport_device_id(b.tr), 1);
    legacy = virtio_tr_is_legacy(b.tr);

    /* 3.1.1 initialisation sequence. */
    TU_CHECK_EQ(virtio_tr_reset(b.tr), VNET_OK);
    virtio_tr_add_status(b.tr, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_tr_add_status(b.tr, VIRTIO_STATUS_DRIVER);
    dev_f = virtio_tr_get_features(b.tr);
    TU_CHECK((dev_f & SIMDEV_F_MAC) != 0);
    TU_CHECK_EQ((dev_f & VIRTIO_F_VERSION_1) != 0, !legacy);
    want = SIMDEV_F_MAC | SIMDEV_F_STATUS | SIMDEV_F_MTU | SIMDEV_F_EVENT_IDX | VIRTIO_F_VERSION_1;
    b.features = dev_f & want;
    virtio_tr_set_features(b.tr, b.features);
    if (!legacy) {
        virtio_tr_add_status(b.tr, VIRTIO_STATUS_FEATURES_OK);
        TU_CHECK(virtio_tr_get_status(b.tr) & VIRTIO_STATUS_FEATURES_OK);
    }
    b.hdr = legacy ? 10 : 12;
    TU_CHECK_EQ(virtio_tr_read_config(b.tr, 0, mac, 6), VNET_OK);
    TU_CHECK_EQ(mac[0], 0x52);
    TU_CHECK_EQ(mac[5], 0x56);
    TU_CHECK_EQ(virtio_tr_read_config(b.tr, 10, &mtu, 2), VNET_OK);
    TU_CHECK_EQ(mtu, 1400);
    TU_CHECK_EQ(virtio_tr_read_config(b.tr, 0, mac, 0), VNET_E_RANGE);

    /* Queues. */
    unsigned qflags = (b.features & SIMDEV_F_EVENT_IDX ? VIRTQ_EVENT_IDX : 0) |
                      (legacy ? VIRTQ_LEGACY_LAYOUT : 0);
    uint16_t qmax = virtio_tr_queue_max(b.tr, 0);
    uint16_t qsize = virtio_tr_queue_size_settable(b.tr) ? 32 : qmax;
    TU_CHECK_EQ(qmax, 64);
    TU_CHECK_EQ(virtio_tr_queue_max(b.tr, 7), 0);
    TU_REQUIRE(virtq_create(&b.rxq, 0, qsize, qflags) == VNET_OK);
    TU_REQUIRE(virtq_create(&b.txq, 1, qsize, qflags) == VNET_OK);
    if (v->start_idx != 0) {
        TU_CHECK_EQ(virtq_test_set_indices(b.rxq, v->start_idx), VNET_OK);
        TU_CHECK_EQ(virtq_test_set_indices(b.txq, v->start_idx), VNET_OK);
        simdev_set_start_idx(b.dev, 0, v->start_idx);
        simdev_set_start_idx(b.dev, 1, v->start_idx);
    }
    b.isr.tr = b.tr;
    if (msix) {
        TU_CHECK_EQ(virtio_tr_set_config_vector(b.tr, 0), VNET_OK);
        b.irqs[b.nirq++] = simdev_irq_vector(b.dev, 0);
        b.irqs[b.nirq++] = simdev_irq_vector(b.dev, 1);
        TU_CHECK_EQ(osal_posix_irq_attach(b.irqs[0], isr_msix_config, &b.isr), VNET_OK);
        TU_CHECK_EQ(osal_posix_irq_attach(b.irqs[1], isr_msix_queue, &b.isr), VNET_OK);
    } else {
        TU_CHECK_EQ(virtio_tr_set_config_vector(b.tr, VIRTIO_PCI_NO_VECTOR), VNET_OK);
        b.irqs[b.nirq++] = simdev_irq_shared(b.dev);
        TU_CHECK_EQ(osal_posix_irq_attach(b.irqs[0], isr_shared, &b.isr), VNET_OK);
    }
    for (int q = 0; q < 2; q++) {
        struct virtq *vq = q == 0 ? b.rxq : b.txq;
        uint64_t d, a, u;

        virtq_ring_addrs(vq, &d, &a, &u);
        TU_CHECK_EQ(virtio_tr_queue_setup(b.tr, (uint16_t)q, qsize, d, a, u,
                                          msix && q == 0 ? 1 : VIRTIO_PCI_NO_VECTOR),
                    VNET_OK);
        for (int i = 0; i < NBUF; i++) {
            b.buf[q][i] = osal_dma_alloc(BUF_LEN, 16, &b.dma[q][i]);
            TU_REQUIRE(b.buf[q][i] != NULL);
        }
    }
    for (int i = 0; i < NBUF; i++)
        post_rx(&b, i);
    (void)virtq_kick_prepare(b.rxq); /* publish; no notify before DRIVER_OK (3.1.1) */
    virtio_tr_add_status(b.tr, VIRTIO_STATUS_DRIVER_OK);
    TU_CHECK_EQ(simdev_queue_size(b.dev, 0), qsize);
    if (msix)
        TU_CHECK_EQ(simdev_queue_vector(b.dev, 0), 1);

    /* RX: 100 frames (more than the ring, so indices wrap), each checked end to end. */
    uint8_t frame[1514], got[BUF_LEN];
    unsigned rx_ok = 0, tx_ok = 0;
    for (uint32_t seq = 0; seq < 100; seq++) {
        size_t len = 60 + (seq * 37) % 1454;
        unsigned irq_before = atomic_load(&b.isr.queue_irqs);
        void *cookie;
        uint32_t ulen;

        simdev_frame_build(frame, len, seq, mac);
        TU_CHECK_EQ(simdev_rx_inject(b.dev, frame, len), SIMDEV_OK);
        TU_CHECK_EQ(atomic_load(&b.isr.queue_irqs), irq_before + 1);
        TU_CHECK_EQ(virtq_get(b.rxq, &cookie, &ulen), 1);
        TU_CHECK_EQ(ulen, b.hdr + len);
        int i = buf_index(&b, 0, cookie);
        TU_REQUIRE(i >= 0);
        uint32_t s = 0;
        if (simdev_frame_check(b.buf[0][i] + b.hdr, len, &s) == 0 && s == seq)
            rx_ok++;
        memset(b.buf[0][i], 0xAA, BUF_LEN);
        post_rx(&b, i);
        if (virtq_kick_prepare(b.rxq))
            virtio_tr_notify(b.tr, 0);

        /* TX the same frame back. */
        memset(b.buf[1][seq % NBUF], 0, b.hdr);
        memcpy(b.buf[1][seq % NBUF] + b.hdr, frame, len);
        struct virtq_seg ts = {b.dma[1][seq % NBUF], (uint32_t)(b.hdr + len), false};
        TU_CHECK_EQ(virtq_add(b.txq, &ts, 1, b.buf[1][seq % NBUF]), VNET_OK);
        if (virtq_kick_prepare(b.txq))
            virtio_tr_notify(b.tr, 1);
        size_t glen = 0;
        TU_CHECK_EQ(simdev_tx_pop(b.dev, got, sizeof(got), &glen), SIMDEV_OK);
        if (glen == len && memcmp(got, frame, len) == 0)
            tx_ok++;
        TU_CHECK_EQ(virtq_get(b.txq, &cookie, &ulen), 1);
        TU_CHECK(cookie == b.buf[1][seq % NBUF]);
        TU_CHECK_EQ(ulen, 0);
    }
    TU_CHECK_EQ(rx_ok, 100);
    TU_CHECK_EQ(tx_ok, 100);
    TU_CHECK_EQ(simdev_check_kicks(b.dev), 0);

    /* Interrupt suppression: disabled RX callbacks -> no interrupt, re-enable re-checks. */
    unsigned irq_before = atomic_load(&b.isr.queue_irqs);
    virtq_disable_cb(b.rxq);
    simdev_frame_build(frame, 100, 1000, mac);
    TU_CHECK_EQ(simdev_rx_inject(b.dev, frame, 100), SIMDEV_OK);
    TU_CHECK_EQ(simdev_rx_inject(b.dev, frame, 100), SIMDEV_OK);
    TU_CHECK_EQ(atomic_load(&b.isr.queue_irqs), irq_before);
    TU_CHECK(virtq_enable_cb(b.rxq));
    void *c;
    uint32_t l;
    TU_CHECK_EQ(virtq_get(b.rxq, &c, &l), 1);
    TU_CHECK_EQ(virtq_get(b.rxq, &c, &l), 1);
    TU_CHECK(!virtq_enable_cb(b.rxq));
    TU_CHECK_EQ(simdev_rx_inject(b.dev, frame, 100), SIMDEV_OK);
    TU_CHECK_EQ(atomic_load(&b.isr.queue_irqs), irq_before + 1);

    /* Config change interrupt on link change; the config read sees it. */
    unsigned cfg_before = atomic_load(&b.isr.config_irqs);
    uint16_t st = 0xFFFF;
    simdev_set_link(b.dev, false);
    TU_CHECK_EQ(atomic_load(&b.isr.config_irqs), cfg_before + 1);
    TU_CHECK_EQ(virtio_tr_read_config(b.tr, 6, &st, 2), VNET_OK);
    TU_CHECK_EQ(st & 1, 0);

    /* A missed kick is detected: publish TX without notifying. */
    struct virtq_seg ts = {b.dma[1][0], (uint32_t)(b.hdr + 60), false};
    TU_CHECK_EQ(virtq_add(b.txq, &ts, 1, b.buf[1][0]), VNET_OK);
    bool need = virtq_kick_prepare(b.txq);
    TU_CHECK(need);
    TU_CHECK_EQ(simdev_check_kicks(b.dev), 1);
    TU_CHECK(simdev_violations(b.dev) & SIMDEV_V_MISSED_KICK);
    simdev_clear_violations(b.dev);

    simdev_last_violation(b.dev, why, sizeof(why));
    TU_CHECK_EQ(simdev_violations(b.dev), 0);
    if (simdev_violations(b.dev) != 0)
        fprintf(stderr, "  violation: %s\n", why);

    /* Teardown: reset, reclaim every buffer, release queues, free. */
    TU_CHECK_EQ(virtio_tr_reset(b.tr), VNET_OK);
    TU_CHECK_EQ(simdev_status(b.dev), 0);
    int reclaimed = 0;
    while (virtq_detach_unused(b.rxq) != NULL)
        reclaimed++;
    /* Two RX buffers were taken in the suppression step and not reposted; the third
     * completion there was never taken, so detach still returns it. */
    TU_CHECK_EQ(reclaimed, NBUF - 2);
    reclaimed = 0;
    while (virtq_detach_unused(b.txq) != NULL)
        reclaimed++;
    TU_CHECK_EQ(reclaimed, 1);
    for (unsigned i = 0; i < b.nirq; i++)
        osal_posix_irq_detach(b.irqs[i]);
    virtq_destroy(b.rxq);
    virtq_destroy(b.txq);
    for (int q = 0; q < 2; q++)
        for (int i = 0; i < NBUF; i++)
            osal_dma_free(b.buf[q][i], BUF_LEN);
    virtio_transport_destroy(b.tr);
    simdev_destroy(b.dev);
    fprintf(stderr, "  %s: rx %u/100 tx %u/100\n", v->name, rx_ok, tx_ok);
}

static const struct variant variants[] = {
    {"pci-modern-msix-eventidx", SIMDEV_PCI_MODERN, SIMDEV_IRQ_MSIX, 0, VIRTIO_TRANSPORT_PCI_MODERN,
     0, true},
    {"pci-modern-shared-wrap", SIMDEV_PCI_MODERN, SIMDEV_IRQ_SHARED, 0, VIRTIO_TRANSPORT_PCI_MODERN,
     0xFFF0, true},
    {"pci-modern-msix-flags-wrap", SIMDEV_PCI_MODERN, SIMDEV_IRQ_MSIX, 0,
     VIRTIO_TRANSPORT_PCI_MODERN, 0xFFF0, false},
    {"pci-transitional-modern", SIMDEV_PCI_TRANSITIONAL, SIMDEV_IRQ_MSIX, 0,
     VIRTIO_TRANSPORT_PCI_MODERN, 0, true},
    {"pci-transitional-legacy-msix", SIMDEV_PCI_TRANSITIONAL, SIMDEV_IRQ_MSIX,
     VIRTIO_PCI_PREFER_LEGACY, VIRTIO_TRANSPORT_PCI_LEGACY, 0xFFF0, true},
    {"pci-legacy-shared", SIMDEV_PCI_LEGACY, SIMDEV_IRQ_SHARED, 0, VIRTIO_TRANSPORT_PCI_LEGACY, 0,
     true},
    {"pci-legacy-shared-flags", SIMDEV_PCI_LEGACY, SIMDEV_IRQ_SHARED, 0,
     VIRTIO_TRANSPORT_PCI_LEGACY, 0xFFF8, false},
    {"mmio-v2", SIMDEV_MMIO_V2, SIMDEV_IRQ_SHARED, 0, VIRTIO_TRANSPORT_MMIO_V2, 0xFFF0, true},
    {"mmio-v2-flags", SIMDEV_MMIO_V2, SIMDEV_IRQ_SHARED, 0, VIRTIO_TRANSPORT_MMIO_V2, 0, false},
    {"mmio-v1", SIMDEV_MMIO_V1, SIMDEV_IRQ_SHARED, 0, VIRTIO_TRANSPORT_MMIO_V1, 0xFFF0, true},
};

static void test_all_variants(void)
{
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
        run_variant(&variants[i]);
}

int main(void)
{
    osal_posix_log_quiet(true);
    TU_RUN(test_all_variants);
    return tu_summary("test_bringup");
}
