/*
 * Bring-up and traffic on every transport: PCI modern (shared line and MSI-X), PCI
 * transitional, PCI legacy, MMIO v2 and MMIO v1, with and without EVENT_IDX and, for the
 * legacy ones, without ANY_LAYOUT (header in its own descriptor).
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x42};

static void run(const char *name, enum simdev_transport t, enum simdev_irq_mode m,
                uint64_t features, bool legacy_iface)
{
    tn_case(name);
    struct nh h;
    struct nh_opts o = {.transport = t,
                        .irq_mode = m,
                        .device_features = features,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .rx_sw_ring_entries = 256};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    if (h.dev == NULL || !virtio_net_is_running(h.dev)) {
        TN_CHECK(nh_close(&h));
        return;
    }
    uint64_t f = virtio_net_features(h.dev);
    TN_EQ((f & VIRTIO_F_VERSION_1) != 0, !legacy_iface);
    TN_EQ(h.dev->hdr_len, legacy_iface ? 10 : 12);
    TN_EQ(f & ~VIRTIO_NET_DRIVER_FEATURES, 0);
    TN_EQ(simdev_driver_features(h.sim), f);
    uint8_t mac[6];
    TN_EQ(virtio_net_get_mac(h.dev, mac), VNET_OK);
    TN_EQ(mac[0], 0x52);
    /* RX: 2000 frames from the device thread, all sizes. */
    struct simdev_rx_gen g = {
        .count = 2000, .min_len = 60, .max_len = 1514, .wait_for_buffers = true};
    TN_EQ(simdev_rx_gen_start(h.sim, &g), SIMDEV_OK);
    TN_EQ(simdev_rx_gen_wait(h.sim, 30000), SIMDEV_OK);
    /* A software-ring drop is legitimate (an interrupt the device raised before it saw
     * the disable can stage frames while the task is behind); it must be counted. */
    TN_CHECK(nh_wait_accounted(&h, 2000, 10000));
    struct virtio_net_stats st0;
    virtio_net_get_stats(h.dev, &st0);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    if (r.frames != 2000) {
        struct virtio_net_stats st;
        struct simdev_stats ss;
        virtio_net_get_stats(h.dev, &st);
        simdev_get_stats(h.sim, &ss);
        printf("   driver: rx %llu drops %llu bad_len %llu bad_used %llu broken %u; device: "
               "frames %llu no_buffer %llu too_small %llu; corrupt %llu\n",
               (unsigned long long)st.rx_packets, (unsigned long long)st.rx_queue_drops,
               (unsigned long long)st.rx_bad_len, (unsigned long long)st.bad_used, st.broken,
               (unsigned long long)ss.rx_frames, (unsigned long long)ss.rx_no_buffer,
               (unsigned long long)ss.rx_too_small, (unsigned long long)r.corrupt);
    }
    TN_EQ(r.frames + st0.rx_queue_drops, 2000);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(r.gaps + (1999u - r.last_seq), st0.rx_queue_drops);
    /* TX: 500 frames, every size. */
    uint8_t buf[1514];
    for (uint32_t i = 0; i < 500; i++) {
        size_t len = 60 + (i * 37) % 1455;
        simdev_frame_build(buf, len, i, dst);
        TN_EQ(virtio_net_send(h.dev, buf, len, (i % 4) ? VIRTIO_NET_SEND_MORE : 0), VNET_OK);
    }
    TN_EQ(virtio_net_flush(h.dev), VNET_OK);
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    TN_EQ(ss.tx_frames, 500);
    TN_EQ(ss.tx_valid, 500);
    TN_EQ(ss.tx_out_of_order, 0);
    TN_EQ(simdev_check_kicks(h.sim), 0);
    /* Halt and bring up again on the same transport. */
    TN_EQ(virtio_net_halt(h.dev), VNET_OK);
    TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
    simdev_frame_build(buf, 100, 5000, dst);
    TN_EQ(simdev_rx_inject(h.sim, buf, 100), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, r.frames + 1, 5000));
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const uint64_t all = SIMDEV_DEFAULT_FEATURES;
    const uint64_t any_layout = 1ull << 27;
    run("PCI modern, shared", SIMDEV_PCI_MODERN, SIMDEV_IRQ_SHARED, 0, false);
    run("PCI modern, MSI-X", SIMDEV_PCI_MODERN, SIMDEV_IRQ_MSIX, 0, false);
    run("PCI modern, no EVENT_IDX", SIMDEV_PCI_MODERN, SIMDEV_IRQ_SHARED, all & ~SIMDEV_F_EVENT_IDX,
        false);
    run("PCI transitional (modern interface)", SIMDEV_PCI_TRANSITIONAL, SIMDEV_IRQ_SHARED, 0,
        false);
    run("PCI legacy, ANY_LAYOUT", SIMDEV_PCI_LEGACY, SIMDEV_IRQ_SHARED,
        (all & ~SIMDEV_F_VERSION_1) | any_layout, true);
    run("PCI legacy, header in its own descriptor", SIMDEV_PCI_LEGACY, SIMDEV_IRQ_SHARED,
        all & ~SIMDEV_F_VERSION_1, true);
    run("PCI legacy, MSI-X", SIMDEV_PCI_LEGACY, SIMDEV_IRQ_MSIX, all & ~SIMDEV_F_VERSION_1, true);
    run("MMIO v2", SIMDEV_MMIO_V2, SIMDEV_IRQ_SHARED, 0, false);
    run("MMIO v2, no EVENT_IDX", SIMDEV_MMIO_V2, SIMDEV_IRQ_SHARED, all & ~SIMDEV_F_EVENT_IDX,
        false);
    run("MMIO v1 (legacy)", SIMDEV_MMIO_V1, SIMDEV_IRQ_SHARED, all & ~SIMDEV_F_VERSION_1, true);
    run("MMIO v1, ANY_LAYOUT", SIMDEV_MMIO_V1, SIMDEV_IRQ_SHARED,
        (all & ~SIMDEV_F_VERSION_1) | any_layout, true);
    return tn_finish();
}
