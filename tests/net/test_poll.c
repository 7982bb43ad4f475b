/*
 * Poll mode (issue 15): no RX task; the application calls virtio_net_poll(). 10^6 frames
 * from the device thread while the test thread polls: every frame is delivered intact and
 * in order or counted (delivered + rx_queue_drops = what the device delivered, and the
 * driver drops none), RX interrupts stay off, the counters are the task's.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

#define POLL_FRAMES 1000000ull

static void test_poll_million(void)
{
    tn_case("poll mode: 10^6 frames, delivered + drops = sent, no RX task, no RX interrupt");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = SIMDEV_IRQ_MSIX,
                        .device_features = SIMDEV_F_MAC | SIMDEV_F_STATUS | SIMDEV_F_VERSION_1 |
                                           SIMDEV_F_EVENT_IDX,
                        .rx_sw_ring_entries = 32,
                        .queue_size = 128,
                        .rx_budget = 64,
                        .rx_poll = true};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(virtio_net_poll(h.dev, 0), 0); /* nothing yet */
    struct simdev_rx_gen g = {.count = POLL_FRAMES,
                              .min_len = 60,
                              .max_len = 200,
                              .batch = 8,
                              .wait_for_buffers = true,
                              .stall_ms = 5000};
    TN_EQ(simdev_rx_gen_start(h.sim, &g), SIMDEV_OK);
    uint64_t polls = 0, got = 0;
    int bad = 0;
    uint64_t end = nh_now_ms() + 100000;
    for (;;) {
        int n = virtio_net_poll(h.dev, 64);
        polls++;
        if (n < 0)
            bad++;
        else
            got += (uint64_t)n;
        if (n == 0 && simdev_rx_gen_wait(h.sim, 0) == SIMDEV_OK) {
            struct virtio_net_stats st;
            virtio_net_get_stats(h.dev, &st);
            struct simdev_stats ss;
            simdev_get_stats(h.sim, &ss);
            if (st.rx_packets + st.rx_queue_drops >= ss.rx_frames)
                break;
        }
        if (nh_now_ms() > end)
            break;
    }
    TN_EQ(bad, 0);
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(ss.rx_frames + ss.rx_no_buffer, POLL_FRAMES);
    TN_EQ(st.rx_packets + st.rx_queue_drops, ss.rx_frames);
    TN_EQ(st.rx_queue_drops, 0);
    TN_EQ(got, st.rx_packets);
    TN_EQ(r.frames, st.rx_packets);
    TN_EQ(r.corrupt + r.out_of_order, 0);
    TN_CHECK(st.rx_packets >= POLL_FRAMES / 2);
    TN_EQ(st.rx_task_wakeups, 0);
    TN_EQ(st.bad_used + st.broken, 0);
    printf("   delivered %llu, device no-buffer %llu, polls %llu, irqs %llu\n",
           (unsigned long long)st.rx_packets, (unsigned long long)ss.rx_no_buffer,
           (unsigned long long)polls, (unsigned long long)st.interrupts);
    /* Not in poll mode on a task-mode device; not running after halt. */
    TN_EQ(virtio_net_halt(h.dev), VNET_OK);
    TN_EQ(virtio_net_poll(h.dev, 0), VNET_E_STATE);
    TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
    TN_CHECK(nh_close(&h));
}

static void test_poll_wrong_mode(void)
{
    tn_case("virtio_net_poll on a device with an RX task: VNET_E_STATE");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(virtio_net_poll(h.dev, 0), VNET_E_STATE);
    TN_EQ(virtio_net_poll(NULL, 0), VNET_E_INVAL);
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    osal_posix_log_quiet(true);
    test_poll_wrong_mode();
    test_poll_million();
    return tn_finish();
}
