/*
 * Device misbehaviour and driver protocol violations, end to end through a real
 * transport: each device fault is detected (virtq counts it and goes broken, transports
 * return their distinct errors), nothing crashes, nothing leaks; each driver mistake is
 * recorded by the simulated device.
 */
#include <string.h>
#include "osal.h"
#include "osal_posix.h"
#include "simdev.h"
#include "tu.h"
#include "virtio/virtio_pci_regs.h"
#include "virtio/virtio_transport.h"
#include "virtio/virtq.h"

#define NB 8

struct rig {
    struct simdev *dev;
    struct virtio_transport *tr;
    struct virtq *rxq;
    uint8_t *buf[NB];
    uint64_t dma[NB];
};

static void rig_up(struct rig *r, enum simdev_transport st, unsigned qflags_extra)
{
    struct simdev_config cfg = {.transport = st, .irq_base = 20, .rx_queue_size = 16};
    uint64_t d, a, u, f;
    bool legacy;

    memset(r, 0, sizeof(*r));
    TU_REQUIRE(simdev_create(&r->dev, &cfg) == SIMDEV_OK);
    if (st <= SIMDEV_PCI_LEGACY)
        TU_REQUIRE(virtio_pci_transport_create(&r->tr, simdev_pci_bus(r->dev), 0) == VNET_OK);
    else
        TU_REQUIRE(virtio_mmio_transport_create(&r->tr, simdev_mmio_bus(r->dev)) == VNET_OK);
    legacy = virtio_tr_is_legacy(r->tr);
    TU_CHECK_EQ(virtio_tr_reset(r->tr), VNET_OK);
    virtio_tr_add_status(r->tr, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    f = virtio_tr_get_features(r->tr) & (VIRTIO_F_VERSION_1 | VIRTIO_RING_F_EVENT_IDX);
    virtio_tr_set_features(r->tr, f);
    if (!legacy)
        virtio_tr_add_status(r->tr, VIRTIO_STATUS_FEATURES_OK);
    uint16_t n = virtio_tr_queue_max(r->tr, 0);
    TU_REQUIRE(virtq_create(&r->rxq, 0, n,
                            ((f & VIRTIO_RING_F_EVENT_IDX) ? VIRTQ_EVENT_IDX : 0) |
                                (legacy ? VIRTQ_LEGACY_LAYOUT : 0) | qflags_extra) == VNET_OK);
    virtq_ring_addrs(r->rxq, &d, &a, &u);
    TU_CHECK_EQ(virtio_tr_queue_setup(r->tr, 0, n, d, a, u, VIRTIO_PCI_NO_VECTOR), VNET_OK);
    for (int i = 0; i < NB; i++) {
        struct virtq_seg s;

        r->buf[i] = osal_dma_alloc(2048, 16, &r->dma[i]);
        TU_REQUIRE(r->buf[i] != NULL);
        s = (struct virtq_seg){r->dma[i], 2048, true};
        TU_CHECK_EQ(virtq_add(r->rxq, &s, 1, r->buf[i]), VNET_OK);
    }
    (void)virtq_kick_prepare(r->rxq);
    virtio_tr_add_status(r->tr, VIRTIO_STATUS_DRIVER_OK);
}

/* Reset, reclaim, free; returns how many buffers detach_unused gave back. */
static int rig_down(struct rig *r)
{
    int n = 0;

    TU_CHECK_EQ(virtio_tr_reset(r->tr), VNET_OK);
    while (virtq_detach_unused(r->rxq) != NULL)
        n++;
    virtq_destroy(r->rxq);
    for (int i = 0; i < NB; i++)
        osal_dma_free(r->buf[i], 2048);
    virtio_transport_destroy(r->tr);
    simdev_destroy(r->dev);
    return n;
}

static void one_used_fault(enum simdev_transport st, enum simdev_fault f,
                           enum virtq_broken_reason expect)
{
    struct rig r;
    uint8_t frame[100];
    void *c;
    uint32_t len;
    struct virtq_stats vs;

    rig_up(&r, st, 0);
    simdev_frame_build(frame, sizeof(frame), 1, (const uint8_t[6]){0});
    TU_CHECK_EQ(simdev_rx_inject(r.dev, frame, sizeof(frame)), SIMDEV_OK);
    TU_CHECK_EQ(virtq_get(r.rxq, &c, &len), 1); /* a good one first */
    simdev_misbehave(r.dev, f, 0, 3);
    TU_CHECK_EQ(simdev_rx_inject(r.dev, frame, sizeof(frame)), SIMDEV_OK);
    int rc = virtq_get(r.rxq, &c, &len);
    if (f == SIMDEV_FAULT_DUP_USED) { /* the first copy is fine, the second is the fault */
        TU_CHECK_EQ(rc, 1);
        rc = virtq_get(r.rxq, &c, &len);
    }
    TU_CHECK_EQ(rc, VNET_E_BROKEN);
    TU_CHECK_EQ(virtq_broken_reason(r.rxq), expect);
    virtq_get_stats(r.rxq, &vs);
    TU_CHECK_EQ(vs.bad_id + vs.bad_len + vs.bad_idx + vs.duplicate, 1);
    /* Sticky and silent even though the device keeps delivering. */
    (void)simdev_rx_inject(r.dev, frame, sizeof(frame));
    TU_CHECK_EQ(virtq_get(r.rxq, &c, &len), VNET_E_BROKEN);
    TU_CHECK(!virtq_enable_cb(r.rxq));
    TU_CHECK_EQ(simdev_violations(r.dev), 0); /* the driver did nothing wrong */
    int back = rig_down(&r);
    /* Every buffer is back: taken by get, or by detach. */
    TU_CHECK_EQ(back, NB - (f == SIMDEV_FAULT_DUP_USED ? 2 : 1));
}

static void test_used_faults(void)
{
    static const enum simdev_transport ts[] = {SIMDEV_PCI_MODERN, SIMDEV_PCI_LEGACY, SIMDEV_MMIO_V2,
                                               SIMDEV_MMIO_V1};

    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        one_used_fault(ts[i], SIMDEV_FAULT_BAD_USED_ID, VIRTQ_BAD_ID);
        one_used_fault(ts[i], SIMDEV_FAULT_BAD_USED_LEN, VIRTQ_BAD_LEN);
        one_used_fault(ts[i], SIMDEV_FAULT_DUP_USED, VIRTQ_DUPLICATE);
        one_used_fault(ts[i], SIMDEV_FAULT_USED_IDX_JUMP, VIRTQ_BAD_IDX);
    }
}

static void test_needs_reset(void)
{
    struct rig r;
    uint8_t frame[64] = {0};

    rig_up(&r, SIMDEV_PCI_MODERN, 0);
    simdev_misbehave(r.dev, SIMDEV_FAULT_NEEDS_RESET, 0, 0);
    TU_CHECK(virtio_tr_get_status(r.tr) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    TU_CHECK(virtio_tr_isr_status(r.tr) & VIRTIO_ISR_CONFIG);
    TU_CHECK_EQ(simdev_rx_inject(r.dev, frame, sizeof(frame)), SIMDEV_E_NOTREADY);
    TU_CHECK_EQ(rig_down(&r), NB);
}

static void test_transport_faults(void)
{
    struct simdev *dev;
    struct virtio_transport *tr;
    struct simdev_config cfg = {.transport = SIMDEV_PCI_MODERN, .irq_mode = SIMDEV_IRQ_MSIX};
    uint8_t mac[6];

    TU_REQUIRE(simdev_create(&dev, &cfg) == SIMDEV_OK);
    TU_REQUIRE(virtio_pci_transport_create(&tr, simdev_pci_bus(dev), 0) == VNET_OK);

    simdev_misbehave(dev, SIMDEV_FAULT_RESET_REFUSED, 0, 0);
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE);
    TU_CHECK_EQ(virtio_tr_reset(tr), VNET_E_TIMEOUT); /* bounded: about 1 s */
    simdev_misbehave(dev, SIMDEV_FAULT_NONE, 0, 0);
    TU_CHECK_EQ(virtio_tr_reset(tr), VNET_OK);

    simdev_misbehave(dev, SIMDEV_FAULT_CFG_GEN_UNSTABLE, 0, 0);
    TU_CHECK_EQ(virtio_tr_read_config(tr, 0, mac, 6), VNET_E_TIMEOUT);
    simdev_misbehave(dev, SIMDEV_FAULT_NONE, 0, 0);
    TU_CHECK_EQ(virtio_tr_read_config(tr, 0, mac, 6), VNET_OK);
    TU_CHECK_EQ(virtio_tr_read_config(tr, 10, mac, 4), VNET_E_RANGE); /* 12-byte config */

    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    virtio_tr_set_features(tr, VIRTIO_F_VERSION_1);
    simdev_misbehave(dev, SIMDEV_FAULT_FEATURES_OK_CLEARED, 0, 0);
    virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
    TU_CHECK(!(virtio_tr_get_status(tr) & VIRTIO_STATUS_FEATURES_OK));
    simdev_misbehave(dev, SIMDEV_FAULT_NONE, 0, 0);
    virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
    TU_CHECK(virtio_tr_get_status(tr) & VIRTIO_STATUS_FEATURES_OK);

    simdev_misbehave(dev, SIMDEV_FAULT_MSIX_REFUSED, 0, 0);
    TU_CHECK_EQ(virtio_tr_set_config_vector(tr, 0), VNET_E_IO);
    struct virtq *vq;
    uint64_t d, a, u;
    TU_REQUIRE(virtq_create(&vq, 0, 16, 0) == VNET_OK);
    virtq_ring_addrs(vq, &d, &a, &u);
    TU_CHECK_EQ(virtio_tr_queue_setup(tr, 0, 16, d, a, u, 1), VNET_E_IO);
    simdev_misbehave(dev, SIMDEV_FAULT_NONE, 0, 0);
    TU_CHECK_EQ(virtio_tr_set_config_vector(tr, 5), VNET_E_IO); /* beyond the table */
    TU_CHECK_EQ(virtio_tr_queue_setup(tr, 0, 12, d, a, u, 1), VNET_E_RANGE);
    TU_CHECK_EQ(virtio_tr_queue_setup(tr, 9, 16, d, a, u, 1), VNET_E_RANGE);
    TU_CHECK_EQ(virtio_tr_queue_setup(tr, 0, 16, d, a, u, 1), VNET_OK);
    TU_CHECK_EQ(simdev_queue_vector(dev, 0), 1);
    TU_CHECK_EQ(simdev_violations(dev), 0);
    TU_CHECK_EQ(virtio_tr_reset(tr), VNET_OK);
    virtq_destroy(vq);
    virtio_transport_destroy(tr);
    simdev_destroy(dev);
}

/* Capability list damage: the modern interface must be refused, never misused. */
static void test_bad_caps(void)
{
    struct simdev *dev;
    struct virtio_transport *tr = NULL;
    struct simdev_config cfg = {.transport = SIMDEV_PCI_MODERN};
    struct {
        uint16_t off;
        uint8_t width;
        uint32_t val;
        vnet_err_t expect;
    } cases[] = {
        {0x50 + 4, 1, 6, VNET_E_NODEV},            /* common cap: BAR 6 does not exist */
        {0x50 + 8, 4, 0x3FF0, VNET_E_NODEV},       /* common window beyond the 16 KiB BAR */
        {0x50 + 12, 4, 0x10, VNET_E_NODEV},        /* common window too short */
        {0x80 + 4, 1, 2, VNET_E_NODEV},            /* notify cap in an unimplemented BAR */
        {0x60 + 12, 4, 0xFFFFFFF0u, VNET_E_NODEV}, /* ISR length wraps 32 bits */
        {0x41, 1, 0x41, VNET_E_NODEV},             /* list loops on itself (after MSI-X) */
        {PCI_CFG_VENDOR_ID, 2, 0x8086, VNET_E_NODEV},
        {PCI_CFG_DEVICE_ID, 2, 0x1100, VNET_E_NODEV},
        {0x70 + 8, 4, 0x3FFF, VNET_OK}, /* device cfg broken: optional, skipped */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        TU_REQUIRE(simdev_create(&dev, &cfg) == SIMDEV_OK);
        simdev_pci_cfg_poke(dev, cases[i].off, cases[i].width, cases[i].val);
        vnet_err_t rc = virtio_pci_transport_create(&tr, simdev_pci_bus(dev), 0);
        TU_CHECK_EQ(rc, cases[i].expect);
        if (rc == VNET_OK) {
            uint8_t mac[6];
            TU_CHECK_EQ(virtio_tr_read_config(tr, 0, mac, 6), VNET_E_RANGE);
            virtio_transport_destroy(tr);
        }
        simdev_destroy(dev);
    }
    /* A legacy-only device: modern forced -> NODEV; default falls back to legacy. */
    cfg.transport = SIMDEV_PCI_LEGACY;
    TU_REQUIRE(simdev_create(&dev, &cfg) == SIMDEV_OK);
    TU_CHECK_EQ(virtio_pci_transport_create(&tr, simdev_pci_bus(dev), VIRTIO_PCI_FORCE_MODERN),
                VNET_E_NODEV);
    TU_CHECK_EQ(virtio_pci_transport_create(&tr, simdev_pci_bus(dev),
                                            VIRTIO_PCI_FORCE_MODERN | VIRTIO_PCI_PREFER_LEGACY),
                VNET_E_INVAL);
    TU_CHECK_EQ(virtio_pci_transport_create(&tr, simdev_pci_bus(dev), 0), VNET_OK);
    TU_CHECK_EQ(virtio_transport_kind(tr), VIRTIO_TRANSPORT_PCI_LEGACY);
    virtio_transport_destroy(tr);
    simdev_destroy(dev);
    /* Allocation failure during creation. */
    cfg.transport = SIMDEV_PCI_MODERN;
    TU_REQUIRE(simdev_create(&dev, &cfg) == SIMDEV_OK);
    for (unsigned n = 1; n <= 2; n++) {
        osal_posix_fail_alloc_after(n);
        vnet_err_t rc = virtio_pci_transport_create(&tr, simdev_pci_bus(dev), 0);
        TU_CHECK(rc == VNET_E_NOMEM || (rc == VNET_OK && !osal_posix_fail_alloc_fired()));
        if (rc == VNET_OK)
            virtio_transport_destroy(tr);
    }
    osal_posix_fail_alloc_after(0);
    simdev_destroy(dev);
}

/* Driver mistakes the simulated device must catch. */
static void test_driver_violations(void)
{
    struct simdev *dev;
    struct virtio_transport *tr;
    struct simdev_config cfg = {.transport = SIMDEV_PCI_MODERN};
    struct virtq *vq;
    uint64_t d, a, u;

    TU_REQUIRE(simdev_create(&dev, &cfg) == SIMDEV_OK);
    TU_REQUIRE(virtio_pci_transport_create(&tr, simdev_pci_bus(dev), 0) == VNET_OK);
    TU_REQUIRE(virtq_create(&vq, 0, 16, 0) == VNET_OK);
    virtq_ring_addrs(vq, &d, &a, &u);

    /* DRIVER before ACKNOWLEDGE; FEATURES_OK with an unoffered feature; no VERSION_1. */
    virtio_tr_reset(tr);
    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER);
    TU_CHECK(simdev_violations(dev) & SIMDEV_V_STATUS_ORDER);
    virtio_tr_reset(tr);
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    virtio_tr_set_features(tr, VIRTIO_F_VERSION_1 | (1ull << 7));
    virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
    TU_CHECK(simdev_violations(dev) & SIMDEV_V_FEATURES_NOT_SUBSET);
    TU_CHECK(!(virtio_tr_get_status(tr) & VIRTIO_STATUS_FEATURES_OK));
    virtio_tr_reset(tr);
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    virtio_tr_set_features(tr, 0);
    virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
    TU_CHECK(simdev_violations(dev) & SIMDEV_V_NO_VERSION_1);
    /* Queue before FEATURES_OK; CPU pointer instead of a DMA address. */
    virtio_tr_reset(tr);
    simdev_clear_violations(dev);
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    TU_CHECK_EQ(virtio_tr_queue_setup(tr, 0, 16, d, a, u, VIRTIO_PCI_NO_VECTOR), VNET_OK);
    TU_CHECK(simdev_violations(dev) & SIMDEV_V_QUEUE_EARLY);
    virtio_tr_reset(tr);
    simdev_clear_violations(dev);
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    virtio_tr_set_features(tr, VIRTIO_F_VERSION_1);
    virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
    uint64_t cpu = (uint64_t)(uintptr_t)osal_posix_dma_ptr(d, 1);
    TU_CHECK_EQ(virtio_tr_queue_setup(tr, 0, 16, cpu, a, u, VIRTIO_PCI_NO_VECTOR), VNET_OK);
    TU_CHECK(simdev_violations(dev) & SIMDEV_V_BAD_DMA);
    /* Notify before DRIVER_OK; queue programming after DRIVER_OK. */
    virtio_tr_notify(tr, 0);
    TU_CHECK(simdev_violations(dev) & SIMDEV_V_EARLY_NOTIFY);
    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER_OK);
    TU_CHECK_EQ(virtio_tr_queue_setup(tr, 1, 16, d, a, u, VIRTIO_PCI_NO_VECTOR), VNET_OK);
    TU_CHECK(simdev_violations(dev) & SIMDEV_V_QUEUE_LATE);
    TU_CHECK(simdev_violation_count(dev, SIMDEV_V_BAD_DMA) >= 1);

    virtio_tr_reset(tr);
    virtq_destroy(vq);
    virtio_transport_destroy(tr);
    simdev_destroy(dev);
}

/* The generator thread delivers in order through interrupts (no lost wakeups here: the
 * test polls), and counts frames dropped for lack of buffers. */
static void test_generator(void)
{
    struct rig r;
    struct simdev_rx_gen g = {.count = 500, .wait_for_buffers = true, .batch = 4};
    struct simdev_stats st;
    uint32_t expect = 0, bad = 0;

    rig_up(&r, SIMDEV_PCI_MODERN, 0);
    TU_CHECK_EQ(simdev_rx_gen_start(r.dev, &g), SIMDEV_OK);
    for (int spins = 0; expect < 500 && spins < 200000; spins++) {
        void *c;
        uint32_t len, seq;
        int rc = virtq_get(r.rxq, &c, &len);

        if (rc != 1) {
            osal_delay_us(20);
            continue;
        }
        uint8_t *p = c;
        if (simdev_frame_check(p + 12, len - 12, &seq) != 0 || seq != expect)
            bad++;
        expect++;
        struct virtq_seg s = {0, 2048, true};
        for (int i = 0; i < NB; i++)
            if (r.buf[i] == p)
                s.addr = r.dma[i];
        TU_CHECK_EQ(virtq_add(r.rxq, &s, 1, p), VNET_OK);
        if (virtq_kick_prepare(r.rxq))
            virtio_tr_notify(r.tr, 0);
    }
    TU_CHECK_EQ(simdev_rx_gen_wait(r.dev, 5000), SIMDEV_OK);
    TU_CHECK_EQ(expect, 500);
    TU_CHECK_EQ(bad, 0);
    simdev_get_stats(r.dev, &st);
    TU_CHECK_EQ(st.rx_gen_sent, 500);
    TU_CHECK_EQ(st.rx_no_buffer, 0);
    /* Dropping mode: no reposting, so all but NB frames are counted as not delivered. */
    g.wait_for_buffers = false;
    g.count = 100;
    TU_CHECK_EQ(simdev_rx_gen_start(r.dev, &g), SIMDEV_OK);
    TU_CHECK_EQ(simdev_rx_gen_wait(r.dev, 5000), SIMDEV_OK);
    simdev_get_stats(r.dev, &st);
    TU_CHECK_EQ(st.rx_gen_sent, 500 + NB);
    TU_CHECK_EQ(st.rx_no_buffer, 100 - NB);
    TU_CHECK_EQ(simdev_violations(r.dev), 0);
    /* Completed by the device but never taken: still the driver's to reclaim. */
    TU_CHECK_EQ(rig_down(&r), NB);
}

int main(void)
{
    osal_posix_log_quiet(true);
    TU_RUN(test_used_faults);
    TU_RUN(test_needs_reset);
    TU_RUN(test_transport_faults);
    TU_RUN(test_bad_caps);
    TU_RUN(test_driver_violations);
    TU_RUN(test_generator);
    return tu_summary("test_faults");
}
