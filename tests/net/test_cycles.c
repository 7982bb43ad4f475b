/*
 * 1000 halt/initialize cycles while the device thread keeps delivering frames: every
 * cycle must come up, receive, and go down cleanly; nothing leaks after detach.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    osal_posix_log_quiet(true);
    tn_case("1000 halt/initialize cycles under traffic");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN, .queue_size = 64};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    /* Endless generator at a steady rate; frames find no buffer while halted (counted
     * by the device), which is exactly the traffic a halt must survive. */
    struct simdev_rx_gen g = {.count = ~0ull >> 1, .pps = 200000, .min_len = 60, .max_len = 1514};
    TN_EQ(simdev_rx_gen_start(h.sim, &g), SIMDEV_OK);
    unsigned failures = 0, no_rx = 0;
    uint64_t resets_seen = 0;
    for (int i = 0; i < 1000; i++) {
        struct nh_rx r0;
        nh_rx_snapshot(&h, &r0);
        /* Stay up until at least one frame got through (bounded). */
        bool got = nh_wait_frames(&h, r0.frames + 1, 2000);
        no_rx += !got;
        vnet_err_t e = virtio_net_halt(h.dev);
        if (e != VNET_OK) {
            failures++;
            printf("   cycle %d: halt %s\n", i, vnet_strerror(e));
        }
        struct virtio_net_stats st;
        virtio_net_get_stats(h.dev, &st);
        resets_seen = st.resets;
        if (st.rx_packets != 0 || st.rx_queue_count != 0) {
            failures++; /* halt clears the stats and the software ring */
            printf("   cycle %d: stats not cleared (%llu, %u)\n", i,
                   (unsigned long long)st.rx_packets, st.rx_queue_count);
        }
        e = virtio_net_initialize(h.dev);
        if (e != VNET_OK) {
            failures++;
            printf("   cycle %d: initialize %s\n", i, vnet_strerror(e));
        }
    }
    TN_EQ(failures, 0);
    TN_EQ(no_rx, 0);
    TN_EQ(resets_seen, 1000);
    simdev_rx_gen_stop(h.sim);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    printf("   %llu frames received across the cycles\n", (unsigned long long)r.frames);
    TN_CHECK(nh_close(&h));
    TN_EQ(osal_posix_dma_outstanding(), 0);
    TN_EQ(osal_posix_mem_outstanding(), 0);
    return tn_finish();
}
