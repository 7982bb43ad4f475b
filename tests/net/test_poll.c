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

/*
 * Poll mode with wake-ups: one thread serves two devices (nh_poller: poll both, arm both
 * with virtio_net_poll_arm, block on one shared semaphore posted by rx_wake_fn). Both
 * devices' generators run at once; every frame of both arrives intact and in order, none
 * dropped, and the thread slept between bursts (woken by interrupts, not spinning).
 */
#define WAKE_FRAMES 200000ull
static const uint8_t wake_dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static void test_poll_wake_two_devices(void)
{
    tn_case("poll mode with wake-ups: one thread, two devices, 2 x 2*10^5 frames");
    osal_sem_t wake;
    TN_EQ(osal_sem_init(&wake, 0), VNET_OK);
    struct nh h[2];
    for (unsigned i = 0; i < 2; i++) {
        struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                            .irq_mode = i == 0 ? SIMDEV_IRQ_MSIX : SIMDEV_IRQ_SHARED,
                            .device_features = SIMDEV_F_MAC | SIMDEV_F_STATUS | SIMDEV_F_VERSION_1 |
                                               SIMDEV_F_EVENT_IDX,
                            .rx_sw_ring_entries = 64,
                            .queue_size = 128,
                            .rx_poll = true,
                            .rx_wake_sem = &wake,
                            .irq_base = 8u + 8u * i};
        TN_EQ(nh_open(&h[i], &o), VNET_OK);
    }
    struct nh_poller pl = {.devs = {&h[0], &h[1]}, .n = 2, .sem = &wake};
    TN_EQ(nh_poller_start(&pl), VNET_OK);
    struct simdev_rx_gen g = {.count = WAKE_FRAMES,
                              .min_len = 60,
                              .max_len = 300,
                              .batch = 4,
                              .wait_for_buffers = true,
                              .stall_ms = 5000};
    for (unsigned i = 0; i < 2; i++)
        TN_EQ(simdev_rx_gen_start(h[i].sim, &g), SIMDEV_OK);
    for (unsigned i = 0; i < 2; i++) {
        TN_EQ(simdev_rx_gen_wait(h[i].sim, 120000), SIMDEV_OK);
        TN_CHECK(nh_wait_accounted(&h[i], WAKE_FRAMES, 10000));
        TN_CHECK(nh_wait_idle(&h[i], 3000));
    }
    /* Then idle: both armed, the thread asleep; a lone frame on either device wakes it. */
    nh_sleep_ms(50);
    for (unsigned i = 0; i < 2; i++) {
        uint8_t buf[100];
        TN_EQ(nh_inject_built(&h[i], buf, sizeof(buf), (uint32_t)WAKE_FRAMES, wake_dst, NULL),
              SIMDEV_OK);
        TN_CHECK(nh_wait_frames(&h[i], WAKE_FRAMES + 1u, 3000));
        TN_CHECK(nh_wait_idle(&h[i], 3000));
    }
    nh_poller_stop(&pl);
    TN_EQ(pl.errors, 0);
    TN_CHECK(pl.waits > 2);
    for (unsigned i = 0; i < 2; i++) {
        struct virtio_net_stats st;
        virtio_net_get_stats(h[i].dev, &st);
        struct simdev_stats ss;
        simdev_get_stats(h[i].sim, &ss);
        struct nh_rx r;
        nh_rx_snapshot(&h[i], &r);
        TN_EQ(ss.rx_no_buffer, 0);
        TN_EQ(st.rx_packets, WAKE_FRAMES + 1u);
        TN_EQ(st.rx_queue_drops, 0);
        TN_EQ(r.frames, st.rx_packets);
        TN_EQ(r.corrupt + r.out_of_order + r.gaps, 0);
        TN_CHECK(st.rx_task_wakeups > 0);
        TN_EQ(__atomic_load_n(&h[i].rx_wake_calls, __ATOMIC_SEQ_CST), st.rx_task_wakeups);
        TN_EQ(st.bad_used + st.broken, 0);
        printf("   dev %u: delivered %llu, wake-ups %llu, interrupts %llu; poller passes %llu, "
               "waits %llu\n",
               i, (unsigned long long)st.rx_packets, (unsigned long long)st.rx_task_wakeups,
               (unsigned long long)st.interrupts, (unsigned long long)pl.passes,
               (unsigned long long)pl.waits);
    }
    /* Halted: arm refuses (no wake-up is promised), and after initialize it works again. */
    TN_EQ(virtio_net_halt(h[0].dev), VNET_OK);
    TN_EQ(virtio_net_poll_arm(h[0].dev), VNET_E_STATE);
    TN_EQ(virtio_net_initialize(h[0].dev), VNET_OK);
    TN_EQ(virtio_net_poll(h[0].dev, 0), 0);
    TN_EQ(virtio_net_poll_arm(h[0].dev), 0);
    TN_EQ(virtio_net_poll_arm(h[0].dev), 0); /* armed already */
    uint8_t buf[100];
    TN_EQ(nh_inject_built(&h[0], buf, sizeof(buf), (uint32_t)WAKE_FRAMES + 1u, wake_dst, NULL),
          SIMDEV_OK);
    TN_EQ(osal_sem_wait(&wake, 3000), VNET_OK);
    TN_EQ(virtio_net_poll(h[0].dev, 0), 1);
    /* Halt while armed, then detach: nothing leaks (nh_close checks). */
    TN_EQ(virtio_net_poll_arm(h[0].dev), 0);
    TN_CHECK(nh_close_one(&h[0]));
    TN_CHECK(nh_close(&h[1]));
    osal_sem_destroy(&wake);
}

/* Wrong arguments and modes of virtio_net_poll_arm and rx_wake_fn. */
static void test_poll_arm_errors(void)
{
    tn_case("virtio_net_poll_arm: NULL, task mode, poll mode without rx_wake_fn");
    TN_EQ(virtio_net_poll_arm(NULL), VNET_E_INVAL);
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(virtio_net_poll_arm(h.dev), VNET_E_STATE);
    TN_CHECK(nh_close(&h));
    o.rx_poll = true;
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(virtio_net_poll_arm(h.dev), VNET_E_STATE);
    TN_CHECK(nh_close(&h));
    /* rx_wake_fn without rx_poll: refused at attach. */
    osal_sem_t s;
    TN_EQ(osal_sem_init(&s, 0), VNET_OK);
    o.rx_poll = false;
    o.rx_wake_sem = &s;
    TN_EQ(nh_open(&h, &o), VNET_E_INVAL);
    TN_CHECK(nh_close(&h));
    osal_sem_destroy(&s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    osal_posix_log_quiet(true);
    test_poll_wrong_mode();
    test_poll_million();
    test_poll_arm_errors();
    test_poll_wake_two_devices();
    return tn_finish();
}
