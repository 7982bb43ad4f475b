/*
 * Concurrency stress: 1,000,000 frames from the device thread through the ISR (raised on
 * that thread, real concurrency with the RX task) and the RX task, with a deliberately
 * small software ring and an RX callback that sometimes stalls, so re-checks, interrupts
 * during the task's ownership and task-side servicing all happen. Every frame is either delivered
 * intact and in order, dropped by the driver (rx_queue_drops) or not delivered by the device for
 * lack of buffers (device's rx_no_buffer). The semaphore is sampled throughout: never above 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

#define STRESS_FRAMES 1000000ull

static volatile uint64_t stall_counter;
static void stall_rx(struct nh *h, const uint8_t *frame, size_t len)
{
    (void)h;
    (void)frame;
    (void)len;
    /* Every 4096th frame the "stack" is slow for a moment: the ring fills. */
    if ((++stall_counter & 4095u) == 0)
        nh_sleep_ms(1);
}

/* Stray interrupts, as from a line shared with other devices or a device that ignores
 * suppression: while the task owns the queue they are only counted (rx_irq_owned), never
 * serviced; on the shared line they are spurious too. */
struct stray {
    bool stop; /* __atomic: test thread -> stray thread */
    unsigned irq;
    uint64_t raised;
};

static void *stray_main(void *arg)
{
    struct stray *s = arg;
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        osal_posix_irq_raise(s->irq);
        s->raised++;
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void run(enum simdev_irq_mode mode, uint64_t features, const char *name)
{
    tn_case(name);
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = mode,
                        .device_features = features,
                        .rx_sw_ring_entries = 32,
                        .queue_size = 128,
                        .isr_budget = 16,
                        .rx_budget = 32};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    h.on_rx = stall_rx;
    /* The device waits for buffers (bounded) rather than dropping: losses then come from
     * the driver's software ring, which the stalling "stack" fills (and which must not
     * overflow: the task leaves what it cannot stage in the used ring). */
    struct simdev_rx_gen g = {.count = STRESS_FRAMES / 2,
                              .min_len = 60,
                              .max_len = 256,
                              .batch = 4,
                              .wait_for_buffers = true,
                              .stall_ms = 5000};
    TN_EQ(simdev_rx_gen_start(h.sim, &g), SIMDEV_OK);
    struct stray sy = {.irq = mode == SIMDEV_IRQ_MSIX ? h.irq_rx : h.irq_shared};
    pthread_t sy_th;
    pthread_create(&sy_th, NULL, stray_main, &sy);
    unsigned max_sem = 0;
    uint64_t end = nh_now_ms() + 120000;
    while (simdev_rx_gen_wait(h.sim, 1) != SIMDEV_OK && nh_now_ms() < end) {
        unsigned c = nh_sem_count(&h);
        if (c > max_sem)
            max_sem = c;
    }
    TN_CHECK(nh_now_ms() < end);
    __atomic_store_n(&sy.stop, true, __ATOMIC_RELEASE);
    pthread_join(sy_th, NULL);
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    /* Everything the device delivered reaches rx_fn or the drop counter. */
    uint64_t until = nh_now_ms() + 10000;
    struct virtio_net_stats st;
    do {
        nh_sleep_ms(2);
        virtio_net_get_stats(h.dev, &st);
    } while (st.rx_packets + st.rx_queue_drops < ss.rx_frames && nh_now_ms() < until);
    TN_CHECK(nh_wait_idle(&h, 5000));
    virtio_net_get_stats(h.dev, &st);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    printf("   device: frames %llu gen_sent %llu kicks %llu irqs %llu suppressed %llu\n",
           (unsigned long long)ss.rx_frames, (unsigned long long)ss.rx_gen_sent,
           (unsigned long long)ss.kicks[0], (unsigned long long)ss.irqs[0],
           (unsigned long long)ss.irqs_suppressed[0]);
    TN_EQ(ss.rx_frames + ss.rx_no_buffer, STRESS_FRAMES / 2);
    TN_EQ(st.rx_packets + st.rx_queue_drops, ss.rx_frames);
    TN_EQ(r.frames, st.rx_packets);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    /* Sequence gaps are exactly the frames lost on purpose. */
    TN_EQ(r.gaps + (STRESS_FRAMES / 2 - 1 - r.last_seq), st.rx_queue_drops + ss.rx_no_buffer);
    TN_EQ(st.bad_used, 0);
    TN_EQ(st.broken, 0);
    TN_CHECK(max_sem <= 1);
    /* Not a trivial run: most frames delivered, the overflow and interrupt paths used. */
    TN_CHECK(st.rx_packets >= STRESS_FRAMES / 2 / 2);
    /* isr_budget (16) <= the ring (32): the ISR owns the queue only with the ring empty
     * and the task stops at a full ring, so no frame is ever dropped by the driver; the
     * stray interrupts that hit the task's ownership are only counted. */
    TN_EQ(st.rx_queue_drops, 0);
    TN_CHECK(st.rx_irq_owned > 0);
    if (mode == SIMDEV_IRQ_SHARED)
        TN_CHECK(st.spurious_interrupts > 0);
    TN_CHECK(st.interrupts > 1000);
    /* The wake-up path was used. How often depends on thread scheduling: under TSan the
     * task can keep up with the device for almost the whole run (CI on 2026-12-07 saw
     * <= 10 wake-ups in one run of 8; 30-50 is usual), so only "at all" is asserted. */
    TN_CHECK(st.rx_task_wakeups > 0);
    TN_EQ(nh_sem_count(&h), 0);
    printf("   delivered %llu, sw-ring drops %llu, no-buffer %llu, irqs %llu, wakeups %llu, "
           "rechecks %llu, task-serviced %llu, hwm %u\n",
           (unsigned long long)st.rx_packets, (unsigned long long)st.rx_queue_drops,
           (unsigned long long)ss.rx_no_buffer, (unsigned long long)st.interrupts,
           (unsigned long long)st.rx_task_wakeups, (unsigned long long)st.recheck_hits,
           (unsigned long long)st.task_serviced, st.rx_queue_hwm);
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    osal_posix_log_quiet(true);
    const uint64_t base = SIMDEV_F_MAC | SIMDEV_F_STATUS | SIMDEV_F_VERSION_1;
    /* 2 x 500,000 = 1,000,000 frames. */
    run(SIMDEV_IRQ_SHARED, base | SIMDEV_F_EVENT_IDX, "500k frames, shared line, EVENT_IDX");
    run(SIMDEV_IRQ_MSIX, base, "500k frames, MSI-X, NO_INTERRUPT flag");
    return tn_finish();
}
