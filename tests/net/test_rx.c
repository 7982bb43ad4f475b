/*
 * Receive path against the simulated device: synchronous injection, software-ring
 * overflow (drops counted, descriptors still recycled), the semaphore bound, budgets,
 * link changes, and the 16-bit index wrap.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <string.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"
#include "virtio/virtq_test.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static int inject_seq(struct nh *h, uint32_t seq, size_t len)
{
    uint8_t buf[1514];
    simdev_frame_build(buf, len, seq, dst);
    return simdev_rx_inject(h->sim, buf, len);
}

static void test_basic_inject(enum simdev_irq_mode mode)
{
    tn_case(mode == SIMDEV_IRQ_MSIX ? "sync inject, MSI-X" : "sync inject, shared line");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN, .irq_mode = mode};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    for (uint32_t i = 0; i < 500; i++) {
        TN_EQ(inject_seq(&h, i, 60 + (i * 7) % 1455), SIMDEV_OK);
        if (i % 50 == 49)
            TN_CHECK(nh_wait_frames(&h, i + 1, 5000));
    }
    TN_CHECK(nh_wait_frames(&h, 500, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, 500);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(r.gaps, 0);
    TN_CHECK(r.batches > 0);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.rx_packets, 500);
    TN_EQ(st.rx_queue_drops, 0);
    TN_EQ(st.rx_bad_len, 0);
    TN_EQ(st.bad_used, 0);
    TN_EQ(st.rx_queue_count, 0);
    TN_CHECK(st.rx_task_wakeups >= 1 && st.rx_task_wakeups <= st.interrupts);
    TN_CHECK(st.isr_cycles_max >= st.isr_cycles_min && st.isr_cycles_total >= st.isr_cycles_max);
    /* Every interrupt lands in exactly one histogram bucket, and the longest one in the
     * bucket of isr_cycles_max (none above it). */
    uint64_t hsum = 0;
    unsigned top = 0;
    for (unsigned i = 0; i < VIRTIO_NET_ISR_HIST_BUCKETS; i++) {
        hsum += st.isr_hist[i];
        if (st.isr_hist[i] != 0)
            top = i;
    }
    TN_EQ(hsum, st.interrupts);
    TN_CHECK(st.isr_cycles_max >= (1ull << top) || (top == 0 && st.isr_cycles_max <= 1));
    TN_CHECK(top == VIRTIO_NET_ISR_HIST_BUCKETS - 1 || st.isr_cycles_max < (2ull << top));
    TN_EQ(nh_sem_count(&h), 0);
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    TN_EQ(ss.rx_no_buffer, 0);
    TN_EQ(ss.rx_frames, 500);
    TN_EQ(simdev_check_kicks(h.sim), 0);
    TN_CHECK(nh_close(&h));
}

/* A gate that holds the RX task inside rx_fn on the first frame. */
static pthread_mutex_t gate_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed, gate_entered;

static void gate_rx(struct nh *h, const uint8_t *frame, size_t len)
{
    (void)h;
    (void)frame;
    (void)len;
    pthread_mutex_lock(&gate_mtx);
    gate_entered = true;
    pthread_cond_broadcast(&gate_cv);
    while (gate_closed)
        pthread_cond_wait(&gate_cv, &gate_mtx);
    pthread_mutex_unlock(&gate_mtx);
}

static void gate_set(bool closed)
{
    pthread_mutex_lock(&gate_mtx);
    gate_closed = closed;
    gate_entered = false;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mtx);
}

static bool gate_wait_entered(void)
{
    bool ok;
    pthread_mutex_lock(&gate_mtx);
    uint64_t end = nh_now_ms() + 5000;
    while (!gate_entered && nh_now_ms() < end) {
        pthread_mutex_unlock(&gate_mtx);
        nh_sleep_ms(1);
        pthread_mutex_lock(&gate_mtx);
    }
    ok = gate_entered;
    pthread_mutex_unlock(&gate_mtx);
    return ok;
}

/*
 * The queue's owner and the software ring: while the task owns the queue (here: held in
 * rx_fn) frames wait in the used ring, an interrupt or the ISR entry point leaves them
 * there, and nothing is dropped by the driver; the device runs dry instead. Released,
 * the task takes them all, never more than the ring holds.
 */
static void test_sw_ring_full(enum simdev_irq_mode mode)
{
    tn_case(mode == SIMDEV_IRQ_MSIX
                ? "task owns the queue (MSI-X): frames wait in the used ring, no driver drop"
                : "task owns the queue (shared): frames wait in the used ring, no driver drop");
    struct nh h;
    struct nh_opts o = {
        .transport = SIMDEV_PCI_MODERN, .irq_mode = mode, .rx_sw_ring_entries = 8, .rx_posted = 16};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    gate_set(true);
    h.on_rx = gate_rx;
    TN_EQ(inject_seq(&h, 0, 100), SIMDEV_OK);
    TN_CHECK(gate_wait_entered()); /* task holds slot 0 inside rx_fn */
    TN_EQ(nh_sem_count(&h), 0);
    struct virtio_net_debug_state d0, d1;
    TN_EQ(virtio_net_get_debug_state(h.dev, &d0), VNET_OK);
    /* 16 frames fill every posted buffer; a 17th finds none (the device's loss). */
    uint32_t seq = 1;
    for (; seq <= 16; seq++)
        TN_EQ(inject_seq(&h, seq, 100), SIMDEV_OK);
    TN_EQ(inject_seq(&h, seq, 100), SIMDEV_E_NOBUF);
    /* A stray interrupt must neither service the ring nor post. */
    osal_posix_irq_raise(mode == SIMDEV_IRQ_MSIX ? h.irq_rx : h.irq_shared);
    TN_EQ(virtio_net_service_rx_ring(h.dev, 0), 0);
    TN_EQ(virtio_net_get_debug_state(h.dev, &d1), VNET_OK);
    TN_EQ(d1.rxq.last_used, d0.rxq.last_used); /* ring untouched */
    TN_EQ(d1.rxq.used_idx, (uint16_t)(d0.rxq.used_idx + 16u));
    TN_EQ(d1.sw_head, d0.sw_head);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.rx_queue_drops, 0);
    TN_EQ(st.rx_task_wakeups, 1);
    if (mode == SIMDEV_IRQ_MSIX)
        TN_CHECK(st.rx_irq_owned >= 1);
    else
        TN_CHECK(st.spurious_interrupts >= 1); /* ISR status 0: callbacks are off */
    TN_EQ(nh_sem_count(&h), 0);
    h.on_rx = NULL;
    gate_set(false);
    TN_CHECK(nh_wait_frames(&h, 17, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.frames, 17);
    TN_EQ(r.corrupt, 0);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(r.gaps, 0);
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.rx_packets, 17);
    TN_EQ(st.rx_queue_drops, 0);
    TN_CHECK(st.rx_queue_hwm <= 8);
    TN_EQ(st.task_serviced, 16);
    TN_EQ(nh_sem_count(&h), 0);
    /* Interrupts are back on: a new frame arrives by itself. */
    TN_EQ(inject_seq(&h, 1000, 100), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 18, 5000));
    TN_CHECK(nh_close(&h));
}

/* rx_queue_drops counts what the ISR could not stage: more entries than the ring holds
 * in one interrupt (isr_budget above the ring size). Descriptors are still recycled. */
static void test_isr_drops(void)
{
    tn_case("ISR pass larger than the software ring: drops counted, descriptors recycled");
    struct nh h;
    struct nh_opts o = {
        .transport = SIMDEV_PCI_MODERN, .rx_sw_ring_entries = 8, .rx_posted = 32, .isr_budget = 32};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    /* Interrupts masked: the 20 completions raise one latched interrupt, taken at exit. */
    osal_crit_t c = osal_crit_enter();
    for (uint32_t s = 0; s < 20; s++)
        TN_EQ(inject_seq(&h, s, 100), SIMDEV_OK);
    osal_crit_exit(c);
    TN_CHECK(nh_wait_frames(&h, 8, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.rx_packets, 8);
    TN_EQ(st.rx_queue_drops, 12);
    TN_EQ(st.rx_queue_hwm, 8);
    TN_EQ(st.rx_task_wakeups, 1);
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    TN_EQ(ss.rx_no_buffer, 0);
    /* Every buffer is back: 32 more frames fit. */
    for (uint32_t s = 100; s < 132; s++)
        TN_EQ(inject_seq(&h, s, 100), SIMDEV_OK);
    TN_CHECK(nh_wait_accounted(&h, 52, 5000));
    TN_CHECK(nh_close(&h));
}

static void test_isr_budget(void)
{
    tn_case("isr_budget: ISR stops, task services the rest");
    struct nh h;
    struct nh_opts o = {
        .transport = SIMDEV_PCI_MODERN, .isr_budget = 4, .rx_budget = 8, .rx_sw_ring_entries = 64};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    /* The ISR path as the interrupt would run it (task parked: the ISR owns the queue),
     * at most 4 entries; the interrupt the frames raised is taken at exit and finds the
     * task owning the queue. */
    osal_crit_t c = osal_crit_enter();
    for (uint32_t s = 0; s < 40; s++)
        TN_EQ(inject_seq(&h, s, 80), SIMDEV_OK);
    int n = virtio_net_service_rx_ring(h.dev, 0);
    osal_crit_exit(c);
    TN_EQ(n, 4);
    TN_CHECK(nh_wait_frames(&h, 40, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.rx_packets, 40);
    TN_EQ(st.task_serviced, 36); /* 40 - 4 moved by the task itself */
    TN_CHECK(st.rx_task_batches >= 40 / 8);
    TN_EQ(st.rx_queue_drops, 0);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_EQ(r.out_of_order, 0);
    TN_EQ(r.gaps, 0);
    TN_CHECK(nh_close(&h));
}

static void test_link(void)
{
    tn_case("link change: config interrupt, link_fn from the task");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(virtio_net_link_up(h.dev), 1);
    simdev_set_link(h.sim, false);
    uint64_t end = nh_now_ms() + 5000;
    struct nh_rx r;
    do {
        nh_sleep_ms(1);
        nh_rx_snapshot(&h, &r);
    } while (r.link_events < 1 && nh_now_ms() < end);
    TN_EQ(r.link_events, 1);
    TN_CHECK(!r.link_up);
    TN_EQ(virtio_net_link_up(h.dev), 0);
    simdev_set_link(h.sim, true);
    do {
        nh_sleep_ms(1);
        nh_rx_snapshot(&h, &r);
    } while (r.link_events < 2 && nh_now_ms() < end);
    TN_EQ(r.link_events, 2);
    TN_CHECK(r.link_up);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.config_interrupts, 2);
    /* Traffic still flows after config work. */
    TN_EQ(inject_seq(&h, 0, 64), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 5000));
    TN_CHECK(nh_close(&h));
}

static void test_bad_len(void)
{
    tn_case("frame shorter than an Ethernet header: rx_bad_len, recycled");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN, .rx_posted = 4};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    h.raw_frames = true;
    uint8_t tiny[13] = {1, 2, 3};
    for (int i = 0; i < 10; i++) {
        /* Only 4 buffers: let the task re-arm before the next one. */
        TN_EQ(simdev_rx_inject(h.sim, tiny, sizeof(tiny)), SIMDEV_OK);
        TN_CHECK(nh_wait_idle(&h, 3000));
    }
    uint8_t ok[60] = {0};
    TN_EQ(simdev_rx_inject(h.sim, ok, sizeof(ok)), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 5000));
    TN_CHECK(nh_wait_idle(&h, 5000));
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.rx_bad_len, 10);
    TN_EQ(st.rx_packets, 1);
    TN_EQ(st.bad_used, 0);
    TN_EQ(st.broken, 0);
    TN_CHECK(nh_close(&h));
}

struct halt_arg {
    struct nh *h;
    volatile int done;
    vnet_err_t err;
};

static void *halt_main(void *arg)
{
    struct halt_arg *a = arg;
    a->err = virtio_net_halt(a->h->dev);
    a->done = 1;
    return NULL;
}

static void test_halt_mid_batch(void)
{
    tn_case("halt while the RX task is inside rx_fn: waits, then frees; re-init works");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    gate_set(true);
    h.on_rx = gate_rx;
    for (uint32_t s = 0; s < 20; s++)
        TN_EQ(inject_seq(&h, s, 200), SIMDEV_OK);
    TN_CHECK(gate_wait_entered());
    struct halt_arg a = {.h = &h};
    pthread_t th;
    pthread_create(&th, NULL, halt_main, &a);
    nh_sleep_ms(50);
    TN_EQ(a.done, 0); /* the task still holds a software-ring slot */
    TN_CHECK(!virtio_net_is_running(h.dev));
    h.on_rx = NULL;
    gate_set(false);
    pthread_join(th, NULL);
    TN_EQ(a.err, VNET_OK);
    struct nh_rx r;
    nh_rx_snapshot(&h, &r);
    TN_CHECK(r.frames >= 1 && r.frames <= 20);
    TN_EQ(r.corrupt, 0);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.rx_queue_count, 0);
    TN_EQ(nh_sem_count(&h), 0);
    TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
    TN_EQ(inject_seq(&h, 100, 200), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, r.frames + 1, 3000));
    TN_CHECK(nh_close(&h));
}

/*
 * Regression (review: "service_rx_ring from a task"): a task calls the public
 * virtio_net_service_rx_ring() with interrupts masked while the RX task is parked; the
 * pending interrupt then finds the used ring empty. The staged frame must still be
 * delivered without waiting for a later frame.
 */
static void test_service_from_task(void)
{
    tn_case("public service_rx_ring from a task hands off to the RX task");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    TN_EQ(inject_seq(&h, 0, 100), SIMDEV_OK);
    TN_CHECK(nh_wait_frames(&h, 1, 3000));
    TN_CHECK(nh_wait_idle(&h, 3000));
    osal_crit_t c = osal_crit_enter();
    TN_EQ(inject_seq(&h, 1, 100), SIMDEV_OK);
    TN_EQ(virtio_net_service_rx_ring(h.dev, 0), 1);
    osal_crit_exit(c);
    TN_CHECK(nh_wait_frames(&h, 2, 3000));
    TN_CHECK(nh_wait_idle(&h, 3000));
    TN_CHECK(nh_sem_count(&h) <= 1);
    TN_CHECK(nh_close(&h));
}

/*
 * Regression (review: "frames stranded when the queue breaks mid-interrupt"): one
 * interrupt stages two good frames, then meets a bad used id. The queue is broken, but
 * the two frames already copied must reach rx_fn.
 */
static void test_break_after_staging(void)
{
    tn_case("frames staged before a bad used entry are still delivered");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    osal_crit_t c = osal_crit_enter();
    TN_EQ(inject_seq(&h, 0, 100), SIMDEV_OK);
    TN_EQ(inject_seq(&h, 1, 100), SIMDEV_OK);
    simdev_misbehave(h.sim, SIMDEV_FAULT_BAD_USED_ID, 0, 0);
    (void)inject_seq(&h, 2, 100);
    osal_crit_exit(c);
    TN_CHECK(nh_wait_frames(&h, 2, 3000));
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_CHECK(st.broken != 0);
    TN_EQ(st.rx_packets, 2);
    TN_EQ(st.rx_queue_count, 0);
    /* The device was told about its own misbehaviour; the harness still expects no
     * driver-side protocol violation at close. */
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_basic_inject(SIMDEV_IRQ_SHARED);
    test_basic_inject(SIMDEV_IRQ_MSIX);
    test_sw_ring_full(SIMDEV_IRQ_SHARED);
    test_sw_ring_full(SIMDEV_IRQ_MSIX);
    test_isr_drops();
    test_isr_budget();
    test_link();
    test_bad_len();
    test_halt_mid_batch();
    test_service_from_task();
    test_break_after_staging();
    return tn_finish();
}
