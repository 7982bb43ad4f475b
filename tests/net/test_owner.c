/*
 * One owner per RX queue (issue 15, docs/rx-handshake.md "Ownership"), on the driver
 * built with VIRTIO_NET_TEST_HOOKS:
 *   - regression for finding 5: a 16-entry software ring and an RX task that runs late
 *     (held while the device fills every posted buffer, again and again): 650 frames,
 *     all delivered, none counted in rx_queue_drops (the task leaves in the used ring
 *     what it cannot stage; it used to move rx_budget = 64 entries into the 16-entry ring
 *     and drop the overflow: 490 of 650 on uC/OS-II);
 *   - the task's interrupts-off sections are constant work: no frame is ever copied
 *     inside one (copy hook), with single buffers and with MRG_RXBUF, whatever rx_budget
 *     and the frame size; the task did copy (the check is not vacuous);
 *   - the longest interrupts-off section per path is measured and exported.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

/* Holds the RX task inside rx_fn while `hold` is set: a task that does not get the CPU. */
static bool hold, held; /* __atomic: the test thread and the RX task */
static void hold_rx(struct nh *h, const uint8_t *frame, size_t len)
{
    (void)h;
    (void)frame;
    (void)len;
    while (__atomic_load_n(&hold, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&held, true, __ATOMIC_RELEASE);
        nh_sleep_ms(1);
    }
}

static int inject_seq(struct nh *h, uint32_t seq, size_t len)
{
    uint8_t buf[1514];
    simdev_frame_build(buf, len, seq, dst);
    return simdev_rx_inject(h->sim, buf, len);
}

static bool wait_held(void)
{
    for (int i = 0; i < 5000 && !__atomic_load_n(&held, __ATOMIC_ACQUIRE); i++)
        nh_sleep_ms(1);
    return __atomic_load_n(&held, __ATOMIC_ACQUIRE);
}

#define LATE_FRAMES 650u

static void run_late_task(bool mrg, uint16_t rx_budget, size_t len)
{
    tn_case(mrg ? "late RX task, 16-entry ring, MRG_RXBUF: 650 frames, no driver drop"
                : "late RX task, 16-entry ring: 650 frames delivered, no driver drop");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = SIMDEV_IRQ_MSIX,
                        .rx_sw_ring_entries = 16,
                        .isr_budget = 16,
                        .rx_budget = rx_budget,
                        .queue_size = 256};
    if (mrg) {
        o.device_features = SIMDEV_DEFAULT_FEATURES | SIMDEV_OFFLOAD_FEATURES;
        o.rx_hdr = true;
        o.rx_mrg_buf_bytes = 512; /* several buffers per frame */
    }
    TN_EQ(nh_open(&h, &o), VNET_OK);
    h.on_rx = hold_rx;
    virtio_net_test_task_copies = 0;
    virtio_net_test_copies_in_task_crit = 0;
    uint32_t seq = 0;
    unsigned rounds = 0;
    while (seq < LATE_FRAMES && rounds < 100) {
        rounds++;
        __atomic_store_n(&hold, true, __ATOMIC_RELEASE);
        __atomic_store_n(&held, false, __ATOMIC_RELEASE);
        /* The first frame of a round wakes the task, which is then held in rx_fn. */
        TN_EQ(inject_seq(&h, seq++, len), SIMDEV_OK);
        TN_CHECK(wait_held());
        /* Meanwhile the device fills every buffer it has; the rest waits (the device's
         * backlog, not ours: inject again next round). */
        while (seq < LATE_FRAMES && inject_seq(&h, seq, len) == SIMDEV_OK)
            seq++;
        __atomic_store_n(&hold, false, __ATOMIC_RELEASE);
        TN_CHECK(nh_wait_frames(&h, seq, 5000));
        TN_CHECK(nh_wait_idle(&h, 5000));
    }
    TN_EQ(seq, LATE_FRAMES);
    TN_CHECK(rounds >= 3); /* the device really ran dry, more than once */
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, LATE_FRAMES);
    TN_EQ(r.gaps, 0);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(st.rx_packets, LATE_FRAMES);
    TN_EQ(st.rx_queue_drops, 0);
    TN_EQ(st.rx_bad_len + st.rx_bad_hdr + st.bad_used, 0);
    TN_CHECK(st.rx_queue_hwm <= 16);
    TN_CHECK(st.task_serviced > LATE_FRAMES / 2); /* the task did most of the copying */
    /* Structural bound of the task's interrupts-off sections: no copy inside any. */
    TN_CHECK(__atomic_load_n(&virtio_net_test_task_copies, __ATOMIC_RELAXED) > 0);
    TN_EQ(__atomic_load_n(&virtio_net_test_copies_in_task_crit, __ATOMIC_RELAXED), 0);
    /* Both per-path maxima are measured and exported. */
    TN_CHECK(st.irqoff_isr_cycles_max > 0);
    TN_CHECK(st.irqoff_task_cycles_max > 0);
    printf("   rounds %u, task-serviced %llu, irqoff max: isr %llu task %llu cycles\n", rounds,
           (unsigned long long)st.task_serviced, (unsigned long long)st.irqoff_isr_cycles_max,
           (unsigned long long)st.irqoff_task_cycles_max);
    h.on_rx = NULL;
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    osal_posix_log_quiet(true);
    run_late_task(false, 64, 100);
    run_late_task(false, 256, 1514);
    run_late_task(true, 64, 1514);
    return tn_finish();
}
