/*
 * The benchmark-only old receive design (bench/in-isr/), linked in place of
 * src/net/virtio_net_rx_irq.c, against the simulated device: frames reach rx_fn from the
 * ISR in order and intact, the software ring and the RX task stay out of the data path,
 * receive offloads are never negotiated even when asked for, and batch_fn ends each
 * interrupt's batch. Guards the bench's comparison build against rot.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static void test_deliver(enum simdev_irq_mode mode)
{
    tn_case(mode == SIMDEV_IRQ_MSIX ? "old design, MSI-X" : "old design, shared line");
    TN_CHECK(vnet_rx_design.delivers_in_isr);
    TN_CHECK(!vnet_rx_design.keeps_hdr);
    struct nh h;
    /* rx_hdr asks for receive offloads; the old design must decline them. */
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN, .irq_mode = mode, .rx_hdr = true};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint64_t f = virtio_net_features(h.dev);
    TN_EQ(f & (VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_MRG_RXBUF | VIRTIO_NET_F_GUEST_TSO4), 0);
    uint8_t buf[1514];
    for (uint32_t i = 0; i < 500; i++) {
        size_t len = 60 + (i * 7) % 1455;
        simdev_frame_build(buf, len, i, dst);
        TN_EQ(simdev_rx_inject(h.sim, buf, len), SIMDEV_OK);
        if (i % 50 == 49)
            TN_CHECK(nh_wait_frames(&h, i + 1, 5000));
    }
    TN_CHECK(nh_wait_frames(&h, 500, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, 500);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(r.gaps, 0);
    TN_EQ(r.hdr_frames, 0); /* rx_fn, never rx_hdr_fn */
    TN_CHECK(r.batches > 0);
    struct virtio_net_stats st;
    TN_EQ(virtio_net_get_stats(h.dev, &st), VNET_OK);
    TN_EQ(st.rx_packets, 500);
    TN_EQ(st.rx_queue_hwm, 0); /* the software ring was never used */
    TN_EQ(st.rx_queue_drops, 0);
    TN_EQ(st.rx_task_wakeups, 0); /* no link change: the task never ran */
    TN_EQ(st.bad_used, 0);
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    TN_EQ(ss.rx_no_buffer, 0);
    TN_EQ(ss.rx_frames, 500);
    TN_EQ(simdev_check_kicks(h.sim), 0);
    TN_CHECK(nh_close(&h));
}

/*
 * Regression (e1df896): a burst larger than the driver's default byte budget (65536) found
 * by one interrupt. The old design has no other owner to take what its ISR leaves, and
 * with EVENT_IDX the device does not interrupt again for entries already behind
 * used_event: with the byte budget applied, the frames past ~43 full-size ones waited for
 * an unrelated interrupt (the in-ISR firmware forwarded ~150 frames per 5 s). Frames are
 * queued with the interrupt masked (latched), then one interrupt must deliver them all.
 */
static void test_burst_one_irq(void)
{
    tn_case("old design, 100 full-size frames behind one interrupt");
    struct nh h;
    /* isr_budget 256 = the ring, as the bench builds it (-DROUTER_ISR_BUDGET=256): an entry
     * budget below the ring strands entries the same way. */
    struct nh_opts o = {
        .transport = SIMDEV_PCI_MODERN, .irq_mode = SIMDEV_IRQ_MSIX, .isr_budget = 256};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint8_t buf[1514];
    unsigned irq = h.irq_rx;
    osal_posix_irq_mask(irq);
    for (uint32_t i = 0; i < 100; i++) {
        simdev_frame_build(buf, sizeof(buf), i, dst);
        TN_EQ(simdev_rx_inject(h.sim, buf, sizeof(buf)), SIMDEV_OK);
    }
    osal_posix_irq_unmask(irq);
    TN_CHECK(nh_wait_frames(&h, 100, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, 100);
    TN_EQ(r.gaps, 0);
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    test_burst_one_irq();
    test_deliver(SIMDEV_IRQ_SHARED);
    test_deliver(SIMDEV_IRQ_MSIX);
    return tn_finish();
}
