/*
 * A device that breaks the protocol: every misbehaviour the simulator offers is counted,
 * marks the queue broken or fails init with a distinct error, crashes nothing, leaks
 * nothing, and halt + initialize brings traffic back.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static uint32_t seq;

static int inject(struct nh *h)
{
    uint8_t buf[100];
    simdev_frame_build(buf, sizeof(buf), seq++, dst);
    return simdev_rx_inject(h->sim, buf, sizeof(buf));
}

static bool wait_broken(struct nh *h, uint32_t bits)
{
    uint64_t end = nh_now_ms() + 3000;
    struct virtio_net_stats st;
    do {
        virtio_net_get_stats(h->dev, &st);
        if ((st.broken & bits) == bits)
            return true;
        nh_sleep_ms(1);
    } while (nh_now_ms() < end);
    return false;
}

/* After a fault: halt + initialize and prove that traffic flows again. */
static void recover(struct nh *h)
{
    TN_EQ(virtio_net_halt(h->dev), VNET_OK);
    simdev_misbehave(h->sim, SIMDEV_FAULT_NONE, 0, 0);
    simdev_clear_violations(h->sim);
    TN_EQ(virtio_net_initialize(h->dev), VNET_OK);
    struct virtio_net_stats st;
    virtio_net_get_stats(h->dev, &st);
    TN_EQ(st.broken, 0);
    TN_EQ(st.bad_used, 0);
    struct nh_rx r0;
    nh_rx_snapshot(h, &r0);
    TN_EQ(inject(h), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(h, r0.frames + 1, 3000));
    uint8_t f[64];
    simdev_frame_build(f, sizeof(f), 0, dst);
    TN_EQ(virtio_net_send(h->dev, f, sizeof(f), 0), VNET_OK);
}

static void test_rx_used_faults(void)
{
    static const struct {
        enum simdev_fault fault;
        const char *name;
    } faults[] = {
        {SIMDEV_FAULT_BAD_USED_ID, "RX: used id out of range"},
        {SIMDEV_FAULT_BAD_USED_LEN, "RX: used len beyond the buffer"},
        {SIMDEV_FAULT_DUP_USED, "RX: duplicate completion"},
        {SIMDEV_FAULT_USED_IDX_JUMP, "RX: used idx jump"},
    };
    for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        for (int msix = 0; msix < 2; msix++) {
            tn_case(faults[i].name);
            struct nh h;
            struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                                .irq_mode = msix ? SIMDEV_IRQ_MSIX : SIMDEV_IRQ_SHARED};
            TN_EQ(nh_open(&h, &o), VNET_OK);
            TN_EQ(inject(&h), SIMDEV_OK);
            TN_CHECK(nh_wait_frames(&h, 1, 3000));
            TN_CHECK(nh_wait_idle(&h, 3000));
            simdev_misbehave(h.sim, faults[i].fault, 0, 3);
            (void)inject(&h);
            TN_CHECK(wait_broken(&h, 1));
            struct virtio_net_stats st;
            virtio_net_get_stats(h.dev, &st);
            TN_EQ(st.bad_used, 1);
            TN_EQ(st.broken, 1);
            /* A broken queue stays silent: more frames and interrupts change nothing. */
            for (int k = 0; k < 5; k++)
                (void)inject(&h);
            if (msix)
                osal_posix_irq_raise(h.irq_rx);
            else
                osal_posix_irq_raise(h.irq_shared);
            TN_EQ(virtio_net_service_rx_ring(h.dev, 0), VNET_E_BROKEN);
            virtio_net_get_stats(h.dev, &st);
            TN_EQ(st.bad_used, 1);
            /* TX still works: only RX broke. */
            uint8_t f[64];
            simdev_frame_build(f, sizeof(f), 0, dst);
            TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_OK);
            recover(&h);
            simdev_clear_violations(h.sim);
            TN_CHECK(nh_close(&h));
        }
    }
}

static void test_tx_used_fault(void)
{
    tn_case("TX: bad used id -> TX broken, sends refused, recovery");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN, .tx_mode = SIMDEV_TX_SYNC};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint8_t f[64];
    simdev_frame_build(f, sizeof(f), 0, dst);
    simdev_misbehave(h.sim, SIMDEV_FAULT_BAD_USED_ID, 1, 0);
    TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_OK);       /* completes badly */
    TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_E_BROKEN); /* reclaim finds it */
    TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_E_BROKEN);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.broken, 2);
    TN_EQ(st.bad_used, 1);
    TN_CHECK(st.tx_errors >= 1);
    /* RX unaffected. */
    TN_EQ(inject(&h), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 3000));
    recover(&h);
    simdev_clear_violations(h.sim);
    TN_CHECK(nh_close(&h));
}

static void test_needs_reset(void)
{
    tn_case("DEVICE_NEEDS_RESET: both queues broken, recovery");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    simdev_misbehave(h.sim, SIMDEV_FAULT_NEEDS_RESET, 0, 0);
    TN_CHECK(wait_broken(&h, 3));
    /* Regression (found by fuzz_rx_path): a queue broken by NEEDS_RESET must be as silent
     * as one broken by a bad used entry. */
    TN_EQ(virtio_net_service_rx_ring(h.dev, 0), VNET_E_BROKEN);
    uint8_t f[64];
    simdev_frame_build(f, sizeof(f), 0, dst);
    TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_E_BROKEN);
    recover(&h);
    simdev_clear_violations(h.sim);
    TN_CHECK(nh_close(&h));
}

static void test_init_faults(void)
{
    static const struct {
        enum simdev_fault fault;
        vnet_err_t want;
        bool msix;
        const char *name;
    } faults[] = {
        {SIMDEV_FAULT_RESET_REFUSED, VNET_E_TIMEOUT, false, "reset never completes"},
        {SIMDEV_FAULT_FEATURES_OK_CLEARED, VNET_E_FEATURES, false, "FEATURES_OK refused"},
        {SIMDEV_FAULT_MSIX_REFUSED, VNET_E_IO, true, "MSI-X vector refused"},
    };
    for (unsigned i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        tn_case(faults[i].name);
        struct nh h;
        struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                            .no_init = true,
                            .irq_mode = faults[i].msix ? SIMDEV_IRQ_MSIX : SIMDEV_IRQ_SHARED};
        TN_EQ(nh_open(&h, &o), VNET_OK);
        /* A fresh device already reads status 0; make the refused reset observable. */
        virtio_tr_add_status(h.tr, VIRTIO_STATUS_ACKNOWLEDGE);
        simdev_misbehave(h.sim, faults[i].fault, 0, 0);
        TN_EQ(virtio_net_initialize(h.dev), faults[i].want);
        TN_CHECK(!virtio_net_is_running(h.dev));
        TN_CHECK(simdev_status(h.sim) & 0x80); /* FAILED */
        TN_EQ(osal_posix_dma_outstanding(), 0);
        simdev_misbehave(h.sim, SIMDEV_FAULT_NONE, 0, 0);
        simdev_clear_violations(h.sim);
        TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
        TN_EQ(inject(&h), SIMDEV_OK);
        TN_CHECK(nh_wait_frames(&h, 1, 3000));
        TN_CHECK(nh_close(&h));
    }
}

static void test_halt_reset_refused(void)
{
    tn_case("reset refused during halt: memory kept, retry frees it");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN, .no_init = true};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    /* Reset refused while running: halt keeps the memory (device may still write). */
    TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
    simdev_misbehave(h.sim, SIMDEV_FAULT_RESET_REFUSED, 0, 0);
    TN_EQ(virtio_net_halt(h.dev), VNET_E_TIMEOUT);
    TN_CHECK(osal_posix_dma_outstanding() > 0);
    simdev_misbehave(h.sim, SIMDEV_FAULT_NONE, 0, 0);
    TN_EQ(virtio_net_halt(h.dev), VNET_OK);
    TN_EQ(osal_posix_dma_outstanding(), 0);
    simdev_clear_violations(h.sim);
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    osal_posix_log_quiet(true);
    test_rx_used_faults();
    test_tx_used_fault();
    test_needs_reset();
    test_init_faults();
    test_halt_reset_refused();
    return tn_finish();
}
