/*
 * The TX space handshake (docs/tx-handshake.md): a send that finds the ring full arms a
 * TX completion event; virtio_net_send_wait() blocks on it. TX completions are held by
 * the simulated device (tx_hold) and released by the test, at every step boundary of the
 * sender's arm sequence through the driver's test hooks: the frame must go out in every
 * case (no lost wakeup), with the shared line and with an MSI-X TX vector, with and
 * without EVENT_IDX. Also: a blocked sender resumes exactly when the event's amount of
 * space has returned, halt wakes a waiting sender with VNET_E_STATE and leaks nothing,
 * TX interrupts stay off while there is space, and without a TX vector send_wait polls.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtq_test.h"
#include "net_harness.h"
#include "osal_posix.h"
#include "tn.h"

TN_DEFINE_COUNTERS;

static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
#define SLOTS 8u

/* Points: the driver's TX hooks, then the two inside virtq_enable_cb_delayed(). */
#define VQ_POINT(step) (VIRTIO_NET_TX_HOOK_COUNT + (int)(step))
#define N_POINTS       VQ_POINT(VIRTQ_ENABLE_AFTER_BARRIER + 1)
static const char *const point_names[N_POINTS] = {
    "FULL", "ARMED", "BEFORE_WAIT", "VQ_AFTER_REARM", "VQ_AFTER_BARRIER",
};

static struct nh *hk_h;
static volatile int hk_point = -1;
static volatile int hk_fired;
static volatile int hk_completed;

static void complete_at(int p)
{
    if (hk_h == NULL || hk_fired || p != hk_point)
        return;
    hk_fired = 1;
    /* Everything outstanding: whatever the event's threshold, it is crossed. */
    hk_completed = simdev_tx_complete(hk_h->sim, 0);
}

static void tx_hook(struct virtio_net_dev *dev, enum virtio_net_tx_hook_point p)
{
    (void)dev;
    complete_at((int)p);
}

/* Only the TX queue (index 1) takes part. */
static void vq_hook(struct virtq *vq, enum virtq_enable_step step)
{
    if (virtq_index(vq) == 1)
        complete_at(VQ_POINT(step));
}

static void hk_close(struct nh *h)
{
    virtio_net_tx_test_hook = NULL;
    virtq_test_enable_hook = NULL;
    hk_h = NULL;
    TN_CHECK(nh_close(h));
}

/* Fill every TX slot (each kicked; the device holds them). */
static void fill_ring(struct nh *h, uint32_t *seq)
{
    uint8_t f[128];
    for (unsigned i = 0; i < SLOTS; i++) {
        simdev_frame_build(f, sizeof(f), (*seq)++, dst);
        TN_EQ(virtio_net_send(h->dev, f, sizeof(f), 0), VNET_OK);
    }
}

struct waiter {
    struct nh *h;
    uint32_t seq;
    uint32_t timeout_ms;
    vnet_err_t result;
    volatile int done;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;
    uint8_t f[128];
    simdev_frame_build(f, sizeof(f), w->seq, dst);
    w->result = virtio_net_send_wait(w->h->dev, NULL, f, sizeof(f), 0, w->timeout_ms);
    __atomic_store_n(&w->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Liveness bound only (the event is delivered synchronously by the completing thread). */
static bool wait_done(struct waiter *w)
{
    uint64_t end = nh_now_ms() + 5000;
    while (!__atomic_load_n(&w->done, __ATOMIC_SEQ_CST) && nh_now_ms() < end)
        nh_sleep_ms(1);
    return __atomic_load_n(&w->done, __ATOMIC_SEQ_CST) != 0;
}

static void open_dev(struct nh *h, bool msix, uint64_t features)
{
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = msix ? SIMDEV_IRQ_MSIX : SIMDEV_IRQ_SHARED,
                        .tx_vector = msix,
                        .device_features = features,
                        .tx_slots = SLOTS,
                        .queue_size = SLOTS,
                        .tx_hold = true,
                        .keep_tx_frames = true};
    TN_EQ(nh_open(h, &o), VNET_OK);
}

/* Every frame the device consumed arrived intact and in order. */
static void check_wire(struct nh *h, uint64_t frames)
{
    struct simdev_stats ss;
    simdev_get_stats(h->sim, &ss);
    TN_EQ(ss.tx_frames, frames);
    TN_EQ(ss.tx_valid, frames);
    TN_EQ(ss.tx_out_of_order, 0);
}

/*
 * A blocked sender with every completion released at one step boundary: send_wait must
 * return VNET_OK (a lost wakeup blocks it for good: its timeout is "forever"). And plain
 * send at the same boundaries: VNET_OK (the re-check saw the completions) or VNET_E_BUSY
 * with the space event delivered (tx_space_fn called once).
 */
static void run_mode(bool msix, uint64_t features, const char *name)
{
    tn_case(name);
    struct nh h;
    open_dev(&h, msix, features);
    hk_h = &h;
    virtio_net_tx_test_hook = tx_hook;
    virtq_test_enable_hook = vq_hook;
    uint32_t seq = 0;
    uint64_t sent = 0;
    for (int p = 0; p < N_POINTS; p++) {
        /* Blocking sender. */
        fill_ring(&h, &seq);
        sent += SLOTS;
        hk_fired = 0;
        hk_point = p;
        unsigned my_seq = seq++;
        struct waiter w = {.h = &h, .seq = my_seq, .timeout_ms = 0};
        pthread_t th;
        pthread_create(&th, NULL, waiter_main, &w);
        bool done = wait_done(&w);
        if (!done) {
            printf("   point %s: sender still blocked (lost wakeup)\n", point_names[p]);
            /* Unblock it so the test can go on: halt wakes it. */
            TN_EQ(virtio_net_halt(h.dev), VNET_OK);
        }
        pthread_join(th, NULL);
        TN_CHECK(done);
        TN_CHECK(hk_fired);
        TN_EQ(hk_completed, (int)SLOTS);
        TN_EQ(w.result, VNET_OK);
        hk_point = -1;
        sent += 1;
        TN_EQ(simdev_tx_complete(h.sim, 0), 1);
        if (!done)
            break;

        /* Non-blocking sender at the same boundary (BEFORE_WAIT is send_wait's only). */
        if (p == VIRTIO_NET_TX_HOOK_BEFORE_WAIT)
            continue;
        fill_ring(&h, &seq);
        sent += SLOTS;
        unsigned calls0 = __atomic_load_n(&h.tx_space_calls, __ATOMIC_SEQ_CST);
        hk_fired = 0;
        hk_point = p;
        uint8_t f[128];
        simdev_frame_build(f, sizeof(f), seq, dst);
        vnet_err_t r = virtio_net_send(h.dev, f, sizeof(f), 0);
        hk_point = -1;
        TN_CHECK(hk_fired);
        unsigned calls = __atomic_load_n(&h.tx_space_calls, __ATOMIC_SEQ_CST) - calls0;
        if (r == VNET_OK) {
            seq++;
            sent += 1;
            TN_EQ(calls, 0u);
            TN_EQ(simdev_tx_complete(h.sim, 0), 1);
        } else {
            /* BUSY after the arm: the completions must have delivered the event. */
            TN_EQ(r, VNET_E_BUSY);
            TN_EQ(calls, 1u);
        }
    }
    check_wire(&h, sent);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.tx_wait_timeouts, 0);
    TN_EQ(st.tx_space_events, __atomic_load_n(&h.tx_space_calls, __ATOMIC_SEQ_CST));
    hk_close(&h);
}

/*
 * "Resumes exactly when space returns": with EVENT_IDX the event sits 3/4 into the 8
 * outstanding chains, so completions 1..6 deliver nothing (no event, no token: the sender
 * is still blocked on its semaphore) and the 7th wakes it. Without EVENT_IDX the first
 * completion does.
 */
static void test_resume_point(bool event_idx, const char *name)
{
    tn_case(name);
    struct nh h;
    uint64_t features = SIMDEV_DEFAULT_FEATURES;
    if (!event_idx)
        features &= ~SIMDEV_F_EVENT_IDX;
    open_dev(&h, true, features);
    uint32_t seq = 0;
    fill_ring(&h, &seq);
    struct waiter w = {.h = &h, .seq = seq, .timeout_ms = 0};
    pthread_t th;
    pthread_create(&th, NULL, waiter_main, &w);
    /* Wait until the sender has armed (it then blocks or is about to). */
    struct virtio_net_stats st;
    uint64_t end = nh_now_ms() + 5000;
    do {
        nh_sleep_ms(1);
        virtio_net_get_stats(h.dev, &st);
    } while (st.tx_space_arms == 0 && nh_now_ms() < end);
    TN_EQ(st.tx_space_arms, 1);
    unsigned need = event_idx ? SLOTS * 3u / 4u + 1u : 1u;
    for (unsigned i = 1; i < need; i++) {
        TN_EQ(simdev_tx_complete(h.sim, 1), 1);
        virtio_net_get_stats(h.dev, &st);
        TN_EQ(st.tx_space_events, 0);
        TN_EQ(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST), 0);
    }
    TN_EQ(simdev_tx_complete(h.sim, 1), 1);
    TN_CHECK(wait_done(&w));
    pthread_join(th, NULL);
    TN_EQ(w.result, VNET_OK);
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.tx_space_events, 1);
    TN_EQ(st.tx_waits, 1);
    TN_EQ(st.tx_ring_full, 1);
    TN_EQ(__atomic_load_n(&h.tx_space_calls, __ATOMIC_SEQ_CST), 1u);
    TN_EQ(simdev_tx_complete(h.sim, 0), (int)(SLOTS - need + 1u));
    check_wire(&h, SLOTS + 1u);
    TN_CHECK(nh_close(&h));
}

/* Halt while a sender waits: it returns VNET_E_STATE; close finds no leak. */
static void test_halt_wakes_waiter(bool msix, const char *name)
{
    tn_case(name);
    struct nh h;
    open_dev(&h, msix, 0);
    uint32_t seq = 0;
    fill_ring(&h, &seq);
    struct waiter w = {.h = &h, .seq = seq, .timeout_ms = 0};
    pthread_t th;
    pthread_create(&th, NULL, waiter_main, &w);
    struct virtio_net_stats st;
    uint64_t end = nh_now_ms() + 5000;
    do {
        nh_sleep_ms(1);
        virtio_net_get_stats(h.dev, &st);
    } while (st.tx_waits == 0 && nh_now_ms() < end);
    TN_EQ(st.tx_waits, 1);
    TN_EQ(virtio_net_halt(h.dev), VNET_OK);
    TN_CHECK(wait_done(&w));
    pthread_join(th, NULL);
    TN_EQ(w.result, VNET_E_STATE);
    /* The device can run again and the waiter left no token that would confuse it. */
    TN_EQ(virtio_net_initialize(h.dev), VNET_OK);
    fill_ring(&h, &seq);
    TN_CHECK(nh_close(&h));
}

/* A device that never completes: send_wait gives up after its timeout. */
static void test_timeout(void)
{
    tn_case("send_wait on a stalled device: VNET_E_TIMEOUT, counted");
    struct nh h;
    open_dev(&h, true, 0);
    uint32_t seq = 0;
    fill_ring(&h, &seq);
    uint8_t f[128];
    simdev_frame_build(f, sizeof(f), seq, dst);
    TN_EQ(virtio_net_send_wait(h.dev, NULL, f, sizeof(f), 0, 20), VNET_E_TIMEOUT);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.tx_wait_timeouts, 1);
    TN_EQ(st.tx_waits, 1);
    TN_CHECK(nh_close(&h));
}

/* MSI-X without a TX vector: no event can be delivered; send_wait polls and still
 * resumes once the device completes. */
static void test_no_tx_vector_polls(void)
{
    tn_case("no TX vector: send_wait polls and resumes");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = SIMDEV_IRQ_MSIX,
                        .tx_slots = SLOTS,
                        .queue_size = SLOTS,
                        .tx_hold = true,
                        .keep_tx_frames = true};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint32_t seq = 0;
    fill_ring(&h, &seq);
    struct waiter w = {.h = &h, .seq = seq, .timeout_ms = 0};
    pthread_t th;
    pthread_create(&th, NULL, waiter_main, &w);
    struct virtio_net_stats st;
    uint64_t end = nh_now_ms() + 5000;
    do {
        nh_sleep_ms(1);
        virtio_net_get_stats(h.dev, &st);
    } while (st.tx_waits == 0 && nh_now_ms() < end);
    /* Exactly the held chains: the polling waiter may publish its frame while this call
     * runs (a slot it freed by reclaiming), and "all" would consume that one too. */
    TN_EQ(simdev_tx_complete(h.sim, SLOTS), (int)SLOTS);
    TN_CHECK(wait_done(&w));
    pthread_join(th, NULL);
    TN_EQ(w.result, VNET_OK);
    TN_EQ(__atomic_load_n(&h.tx_space_calls, __ATOMIC_SEQ_CST), 0u);
    TN_EQ(simdev_tx_complete(h.sim, 0), 1);
    check_wire(&h, SLOTS + 1u);
    TN_CHECK(nh_close(&h));
}

/* While the ring has space the TX queue raises no interrupt at all. */
static void test_irqs_off_with_space(void)
{
    tn_case("TX interrupts stay off while there is space");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = SIMDEV_IRQ_MSIX,
                        .tx_vector = true,
                        .tx_mode = SIMDEV_TX_SYNC,
                        .keep_tx_frames = false};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint8_t f[128];
    for (uint32_t i = 0; i < 2000; i++) {
        simdev_frame_build(f, sizeof(f), i, dst);
        TN_EQ(virtio_net_send_wait(h.dev, NULL, f, sizeof(f), 0, 0), VNET_OK);
    }
    struct simdev_stats ss;
    simdev_get_stats(h.sim, &ss);
    TN_EQ(ss.tx_frames, 2000);
    TN_EQ(ss.irqs[1], 0);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.tx_space_arms, 0);
    TN_EQ(st.tx_waits, 0);
    TN_CHECK(nh_close(&h));
}

/*
 * The byte limit (cfg.tx_max_bytes): with 1,000 bytes allowed in flight, 128-byte frames
 * go out until 1,024 bytes are posted (the 8th crosses the limit and is accepted), then a
 * send is refused with VNET_E_BUSY although slots are free, the space event armed; the
 * completions deliver it, and sends go on. A blocked send_wait resumes when completions
 * bring the bytes under the limit. Without the limit the same ring takes all 16 frames.
 */
static void test_byte_limit(void)
{
    tn_case("byte limit: BUSY at tx_max_bytes with slots free, space event, resume");
    struct nh h;
    struct nh_opts o = {.transport = SIMDEV_PCI_MODERN,
                        .irq_mode = SIMDEV_IRQ_MSIX,
                        .tx_vector = true,
                        .tx_slots = 16,
                        .queue_size = 16,
                        .tx_hold = true,
                        .keep_tx_frames = true,
                        .tx_max_bytes = 1000};
    TN_EQ(nh_open(&h, &o), VNET_OK);
    uint8_t f[128];
    uint32_t seq = 0;
    for (unsigned i = 0; i < 8; i++) {
        simdev_frame_build(f, sizeof(f), seq++, dst);
        TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_OK);
    }
    simdev_frame_build(f, sizeof(f), seq, dst);
    TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_E_BUSY);
    struct virtio_net_stats st;
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.tx_ring_full, 1);
    TN_EQ(st.tx_bytes_full, 1);
    TN_EQ(st.tx_space_arms, 1);
    TN_EQ(h.dev->tx.free_top, 8); /* slots were free: the bytes decided */
    TN_EQ(h.dev->tx.inflight_bytes, 8u * sizeof(f));
    /* Completing everything delivers the event (EVENT_IDX: 3/4 of 8 outstanding). */
    TN_EQ(simdev_tx_complete(h.sim, 0), 8);
    TN_EQ(__atomic_load_n(&h.tx_space_calls, __ATOMIC_SEQ_CST), 1u);
    TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_OK);
    seq++;
    TN_EQ(h.dev->tx.inflight_bytes, (uint32_t)sizeof(f)); /* reclaimed on the send */

    /* A blocked sender: 7 more fill the limit again, the waiter resumes on completions. */
    for (unsigned i = 0; i < 7; i++) {
        simdev_frame_build(f, sizeof(f), seq++, dst);
        TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_OK);
    }
    struct waiter w = {.h = &h, .seq = seq, .timeout_ms = 0};
    pthread_t th;
    pthread_create(&th, NULL, waiter_main, &w);
    uint64_t end = nh_now_ms() + 5000;
    do {
        nh_sleep_ms(1);
        virtio_net_get_stats(h.dev, &st);
    } while (st.tx_space_arms < 2 && nh_now_ms() < end);
    TN_EQ(st.tx_space_arms, 2);
    TN_EQ(__atomic_load_n(&w.done, __ATOMIC_SEQ_CST), 0);
    TN_EQ(simdev_tx_complete(h.sim, 0), 8);
    TN_CHECK(wait_done(&w));
    pthread_join(th, NULL);
    TN_EQ(w.result, VNET_OK);
    TN_EQ(simdev_tx_complete(h.sim, 0), 1);
    check_wire(&h, 17);
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.tx_bytes_full, 2);
    TN_EQ(st.tx_wait_timeouts, 0);
    TN_CHECK(nh_close(&h));

    tn_case("byte limit off: the same ring takes every slot");
    o.tx_max_bytes = 0;
    TN_EQ(nh_open(&h, &o), VNET_OK);
    for (unsigned i = 0; i < 16; i++) {
        simdev_frame_build(f, sizeof(f), i, dst);
        TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_OK);
    }
    TN_EQ(virtio_net_send(h.dev, f, sizeof(f), 0), VNET_E_BUSY);
    virtio_net_get_stats(h.dev, &st);
    TN_EQ(st.tx_bytes_full, 0);
    TN_EQ(simdev_tx_complete(h.sim, 0), 16);
    TN_CHECK(nh_close(&h));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t no_eidx = SIMDEV_DEFAULT_FEATURES & ~SIMDEV_F_EVENT_IDX;
    run_mode(false, 0, "handshake, shared line, EVENT_IDX");
    run_mode(false, no_eidx, "handshake, shared line, flags");
    run_mode(true, 0, "handshake, MSI-X TX vector, EVENT_IDX");
    run_mode(true, no_eidx, "handshake, MSI-X TX vector, flags");
    test_resume_point(true, "blocked sender resumes at the 3/4 event (EVENT_IDX)");
    test_resume_point(false, "blocked sender resumes at the first completion (flags)");
    test_halt_wakes_waiter(false, "halt wakes a waiting sender (shared line)");
    test_halt_wakes_waiter(true, "halt wakes a waiting sender (MSI-X)");
    test_timeout();
    test_no_tx_vector_polls();
    test_irqs_off_with_space();
    test_byte_limit();
    return tn_finish();
}
