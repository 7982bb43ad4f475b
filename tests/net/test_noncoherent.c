/*
 * The driver on a non-coherent DMA board (os/osal.h, "DMA memory"), simulated by the
 * POSIX port (osal_posix_dma_noncoherent): packet buffers have a CPU view and a device
 * view that only the driver's osal_dma_sync_for_device / osal_dma_sync_for_cpu calls
 * reconcile, the device view starting poisoned. Rings stay coherent.
 *
 * What fails without the syncs: a TX frame the driver did not hand over reaches the
 * device as poison or as the slot's previous frame (simdev_frame_check: tx_invalid); an
 * RX buffer the driver did not take back is read as zeros or as the previous frame of
 * that buffer (rx_fn: corrupt or out of order); a buffer posted without the hand-over is
 * a device access to a line the CPU still owns (osal_posix_dma_sync_violations).
 * Buffers are few (small rings) so each is reused many times: stale bytes are a frame
 * that is not the expected one, not only zeros.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x5c};

#define RX_FRAMES 600u
#define TX_FRAMES 300u

struct nc_case {
    const char *name;
    enum simdev_transport transport;
    uint64_t features;   /* 0: simulator default */
    bool mrg;            /* MRG_RXBUF with small merged buffers: frames span several */
    uint16_t queue_size; /* small: every buffer is reused */
};

static void run(const struct nc_case *c)
{
    tn_case(c->name);
    osal_posix_dma_noncoherent(true);
    struct nh h;
    struct nh_opts o = {.transport = c->transport,
                        .device_features = c->features,
                        .queue_size = c->queue_size,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .rx_sw_ring_entries = 256,
                        .keep_tx_frames = true,
                        .rx_hdr = c->mrg,
                        .rx_mrg_buf_bytes = c->mrg ? 256u : 0u};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    if (h.dev == NULL || !virtio_net_is_running(h.dev)) {
        TN_CHECK(nh_close(&h));
        osal_posix_dma_noncoherent(false);
        return;
    }
    TN_EQ((virtio_net_features(h.dev) & VIRTIO_NET_F_MRG_RXBUF) != 0, c->mrg);
    TN_EQ(h.dev->hdr_separate, c->transport == SIMDEV_MMIO_V1);

    /* RX: frames of every size through a handful of buffers. */
    struct simdev_rx_gen g = {
        .count = RX_FRAMES, .min_len = 60, .max_len = 1514, .wait_for_buffers = true};
    TN_EQ(simdev_rx_gen_start(h.sim, &g), SIMDEV_OK);
    TN_EQ(simdev_rx_gen_wait(h.sim, 30000), SIMDEV_OK);
    TN_CHECK(nh_wait_accounted(&h, RX_FRAMES, 10000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(r.frames + st.rx_queue_drops, RX_FRAMES);
    TN_CHECK(r.frames > 0);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(st.rx_bad_len + st.rx_bad_hdr + st.bad_used, 0);

    /* TX: every frame must reach the device as written; sizes vary so that a stale
     * slot holds a different frame. */
    uint8_t f[1514];
    unsigned sent = 0;
    for (uint32_t seq = 0; seq < TX_FRAMES; seq++) {
        size_t len = 60u + (seq * 97u) % (sizeof(f) - 60u);
        simdev_frame_build(f, len, seq, dst);
        vnet_err_t e = virtio_net_send(h.dev, f, len, 0);
        TN_EQ(e, VNET_OK);
        sent += e == VNET_OK;
    }
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    TN_EQ(ss.tx_frames, sent);
    TN_EQ(ss.tx_valid, sent);
    TN_EQ(ss.tx_invalid, 0);
    TN_EQ(ss.tx_out_of_order, 0);

    /* Every device access to a buffer found it handed over. */
    TN_EQ(osal_posix_dma_sync_violations(), 0);
    TN_CHECK(nh_close(&h));
    osal_posix_dma_noncoherent(false);
}

/* The simulation itself: without a sync the device sees stale bytes and it is counted;
 * with one, it sees the CPU's (so the driver checks above are not vacuous). */
static void test_simulation(void)
{
    tn_case("simulated non-coherence: stale without sync, exact with it");
    osal_posix_dma_noncoherent(true);
    uint64_t dma = 0;
    uint8_t *b = osal_dma_buf_alloc(256, 64, &dma);
    TN_CHECK(b != NULL);
    if (b == NULL) {
        osal_posix_dma_noncoherent(false);
        return;
    }
    memset(b, 0x11, 256);
    uint8_t *dv = osal_posix_dma_ptr(dma, 64);
    TN_CHECK(dv != NULL && dv != b);
    TN_EQ(dv != NULL ? dv[0] : 0, 0xdb); /* memory still holds the poison */
    TN_EQ(osal_posix_dma_sync_violations(), 1);
    osal_dma_sync_for_device(b + 10, 1); /* line 0 only, whole */
    TN_EQ(dv[0], 0x11);
    TN_EQ(dv[63], 0x11);
    TN_EQ(dv[64], 0xdb);
    (void)osal_posix_dma_ptr(dma, 64);
    TN_EQ(osal_posix_dma_sync_violations(), 1); /* line 0 is the device's now */
    (void)osal_posix_dma_ptr(dma + 60, 8);      /* reaches line 1: not handed over */
    TN_EQ(osal_posix_dma_sync_violations(), 2);
    dv[5] = 0x77; /* the device writes */
    TN_EQ(b[5], 0x11);
    osal_dma_sync_for_cpu(b, 6);
    TN_EQ(b[5], 0x77);
    (void)osal_posix_dma_ptr(dma, 1); /* taken back by the CPU: a device access is late */
    TN_EQ(osal_posix_dma_sync_violations(), 3);
    osal_dma_buf_free(b, 256);
    /* Ring memory has one view. */
    uint8_t *rg = osal_dma_alloc(64, 64, &dma);
    TN_CHECK(rg != NULL && osal_posix_dma_ptr(dma, 64) == rg);
    osal_dma_free(rg, 64);
    osal_posix_dma_noncoherent(false);
    TN_EQ(osal_posix_dma_outstanding(), 0);
}

int main(void)
{
    test_simulation();
    static const struct nc_case cases[] = {
        {"non-coherent: PCI modern, one buffer per frame", SIMDEV_PCI_MODERN, 0, false, 16},
        {"non-coherent: MRG_RXBUF, 256-byte buffers (a frame spans up to 7)", SIMDEV_PCI_MODERN,
         SIMDEV_DEFAULT_FEATURES | SIMDEV_F_MRG_RXBUF, true, 32},
        {"non-coherent: MMIO v1 legacy, header in its own descriptor", SIMDEV_MMIO_V1,
         SIMDEV_F_MAC | SIMDEV_F_STATUS | SIMDEV_F_MTU, false, 16},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run(&cases[i]);
    return tn_finish();
}
