/* Shared set-up for the simulated-device driver tests (net_harness.h). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "net/virtio_net_priv.h"
#include "net_harness.h"
#include "osal_posix.h"

static pthread_mutex_t nh_mtx = PTHREAD_MUTEX_INITIALIZER;

uint64_t nh_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void nh_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

static void nh_rx_fn(void *arg, uint8_t *frame, size_t len)
{
    struct nh *h = arg;
    uint32_t seq = 0;
    bool ok = h->raw_frames || simdev_frame_check(frame, len, &seq) == 0;
    pthread_mutex_lock(&nh_mtx);
    h->rx.frames++;
    h->rx.bytes += len;
    if (!ok) {
        h->rx.corrupt++;
    } else if (!h->raw_frames) {
        if (h->rx.any) {
            if (seq <= h->rx.last_seq)
                h->rx.out_of_order++;
            else
                h->rx.gaps += seq - h->rx.last_seq - 1u;
        } else {
            h->rx.gaps += seq;
        }
        h->rx.last_seq = seq;
        h->rx.any = true;
    }
    pthread_mutex_unlock(&nh_mtx);
    if (h->on_rx)
        h->on_rx(h, frame, len);
}

static void nh_rx_hdr_fn(void *arg, const struct virtio_net_hdr *hdr, uint8_t *frame, size_t len)
{
    struct nh *h = arg;
    pthread_mutex_lock(&nh_mtx);
    h->rx.hdr_frames++;
    h->rx.last_hdr = *hdr;
    pthread_mutex_unlock(&nh_mtx);
    if (h->on_rx_hdr)
        h->on_rx_hdr(h, hdr, frame, len);
    nh_rx_fn(arg, frame, len);
}

static void nh_batch_fn(void *arg)
{
    struct nh *h = arg;
    pthread_mutex_lock(&nh_mtx);
    h->rx.batches++;
    pthread_mutex_unlock(&nh_mtx);
}

static void nh_link_fn(void *arg, bool up)
{
    struct nh *h = arg;
    pthread_mutex_lock(&nh_mtx);
    h->rx.link_events++;
    h->rx.link_up = up;
    pthread_mutex_unlock(&nh_mtx);
}

static void nh_isr_shared(void *arg)
{
    virtio_net_isr(arg);
}
static void nh_isr_rx(void *arg)
{
    virtio_net_rx_isr(arg);
}
static void nh_isr_cfg(void *arg)
{
    virtio_net_config_isr(arg);
}

void nh_rx_snapshot(struct nh *h, struct nh_rx *out)
{
    pthread_mutex_lock(&nh_mtx);
    *out = h->rx;
    pthread_mutex_unlock(&nh_mtx);
}

int nh_inject_built(struct nh *h, uint8_t *buf, size_t len, uint32_t seq, const uint8_t dst[6],
                    const struct virtio_net_hdr *hdr)
{
    struct simdev_rx_opts o;
    memset(&o, 0, sizeof(o));
    o.hdr = hdr;
    simdev_frame_build(buf, len, seq, dst);
    return simdev_rx_inject_ex(h->sim, buf, len, &o);
}

bool nh_wait_frames(struct nh *h, uint64_t n, uint32_t timeout_ms)
{
    uint64_t end = nh_now_ms() + timeout_ms;
    for (;;) {
        struct nh_rx r;
        nh_rx_snapshot(h, &r);
        if (r.frames >= n)
            return true;
        if (nh_now_ms() > end)
            return false;
        nh_sleep_ms(1);
    }
}

bool nh_wait_accounted(struct nh *h, uint64_t n, uint32_t timeout_ms)
{
    uint64_t end = nh_now_ms() + timeout_ms;
    for (;;) {
        struct nh_rx r;
        struct virtio_net_stats st;
        nh_rx_snapshot(h, &r);
        virtio_net_get_stats(h->dev, &st);
        if (r.frames + st.rx_queue_drops >= n)
            return true;
        if (nh_now_ms() > end)
            return false;
        nh_sleep_ms(1);
    }
}

bool nh_wait_idle(struct nh *h, uint32_t timeout_ms)
{
    uint64_t end = nh_now_ms() + timeout_ms;
    for (;;) {
        osal_crit_t c = osal_crit_enter();
        bool idle =
            !h->dev->task_scheduled && !h->dev->task_active && h->dev->sw.head == h->dev->sw.tail;
        osal_crit_exit(c);
        if (idle)
            return true;
        if (nh_now_ms() > end)
            return false;
        nh_sleep_ms(1);
    }
}

unsigned nh_sem_count(struct nh *h)
{
    pthread_mutex_lock(&h->dev->sem.mtx);
    unsigned c = h->dev->sem.count;
    pthread_mutex_unlock(&h->dev->sem.mtx);
    return c;
}

unsigned nh_osal_sem_count(osal_sem_t *sem)
{
    pthread_mutex_lock(&sem->mtx);
    unsigned c = sem->count;
    pthread_mutex_unlock(&sem->mtx);
    return c;
}

static void *nh_poller_main(void *arg)
{
    struct nh_poller *p = arg;
    while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
        bool more = false;
        for (unsigned i = 0; i < p->n; i++) {
            int r = virtio_net_poll(p->devs[i]->dev, p->budget);
            if (r < 0)
                p->errors++;
            else if ((unsigned)r >= p->budget)
                more = true;
        }
        p->passes++;
        if (more)
            continue;
        bool again = false;
        for (unsigned i = 0; i < p->n; i++) {
            int r = virtio_net_poll_arm(p->devs[i]->dev);
            if (r < 0)
                p->errors++;
            else if (r == 1)
                again = true;
        }
        if (again) {
            p->arms_again++;
            continue;
        }
        p->waits++;
        (void)osal_sem_wait(p->sem, 30000);
    }
    return NULL;
}

int nh_poller_start(struct nh_poller *p)
{
    if (p->budget == 0)
        p->budget = 64;
    __atomic_store_n(&p->stop, 0, __ATOMIC_RELEASE);
    return pthread_create(&p->th, NULL, nh_poller_main, p) == 0 ? VNET_OK : VNET_E_OS;
}

void nh_poller_stop(struct nh_poller *p)
{
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    (void)osal_sem_post(p->sem);
    (void)pthread_join(p->th, NULL);
}

static void nh_isr_tx(void *arg)
{
    virtio_net_tx_isr(arg);
}

static void nh_tx_space_fn(void *arg)
{
    struct nh *h = arg;
    __atomic_fetch_add(&h->tx_space_calls, 1u, __ATOMIC_SEQ_CST);
}

static void nh_rx_wake_fn(void *arg)
{
    struct nh *h = arg;
    __atomic_fetch_add(&h->rx_wake_calls, 1u, __ATOMIC_SEQ_CST);
    (void)osal_sem_post(h->opts.rx_wake_sem);
}

int nh_open(struct nh *h, const struct nh_opts *o)
{
    memset(h, 0, sizeof(*h));
    h->opts = *o;
    struct simdev_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.transport = o->transport;
    sc.features = o->device_features;
    sc.rx_queue_size = o->queue_size;
    sc.tx_queue_size = o->queue_size;
    sc.irq_mode = o->irq_mode;
    sc.irq_base = o->irq_base != 0 ? o->irq_base : 8u;
    sc.tx_mode = o->tx_mode;
    sc.keep_tx_frames = o->keep_tx_frames;
    sc.tx_hold = o->tx_hold;
    int r = simdev_create(&h->sim, &sc);
    if (r != SIMDEV_OK) {
        printf("simdev_create: %d\n", r);
        return VNET_E_NOMEM;
    }
    vnet_err_t err;
    if (o->transport == SIMDEV_MMIO_V1 || o->transport == SIMDEV_MMIO_V2)
        err = virtio_mmio_transport_create(&h->tr, simdev_mmio_bus(h->sim));
    else
        err = virtio_pci_transport_create(
            &h->tr, simdev_pci_bus(h->sim),
            o->transport == SIMDEV_PCI_LEGACY ? VIRTIO_PCI_PREFER_LEGACY : 0);
    if (err != VNET_OK) {
        printf("transport create: %s\n", vnet_strerror(err));
        return err;
    }
    if (o->irq_mode == SIMDEV_IRQ_MSIX) {
        /* The simulator's table entry 0 for config changes, 1 for the RX queue, 2 for the
         * TX queue when the test asks for a TX vector. */
        const uint16_t qv[] = {1, o->tx_vector ? 2 : VIRTIO_PCI_NO_VECTOR};
        err = virtio_transport_use_msix(h->tr, 0, qv, 2);
        if (err != VNET_OK) {
            printf("use_msix: %s\n", vnet_strerror(err));
            return err;
        }
    }
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = h->tr;
    cfg.name = "vnet_test_rx";
    cfg.rx_sw_ring_entries = o->rx_sw_ring_entries;
    cfg.rx_lend_bufs = o->rx_lend_bufs;
    cfg.rx_posted = o->rx_posted;
    cfg.tx_slots = o->tx_slots;
    cfg.tx_max_bytes = o->tx_max_bytes;
    cfg.isr_budget = o->isr_budget;
    cfg.rx_budget = o->rx_budget;
    cfg.rx_defer_ms = o->rx_defer_ms;
    cfg.isr_budget_bytes = o->isr_budget_bytes;
    cfg.rx_mrg_buf_bytes = o->rx_mrg_buf_bytes;
    cfg.rx_defer_min_frames = o->rx_defer_min_frames;
    cfg.rx_task_prio = o->rx_task_prio != 0 ? o->rx_task_prio : 5u;
    cfg.rx_fn = nh_rx_fn;
    cfg.rx_arg = h;
    if (o->rx_hdr)
        cfg.rx_hdr_fn = nh_rx_hdr_fn;
    cfg.tx_offloads = o->tx_offloads;
    cfg.rx_poll = o->rx_poll;
    if (o->rx_wake_sem != NULL) {
        cfg.rx_wake_fn = nh_rx_wake_fn;
        cfg.rx_wake_arg = h;
    }
    cfg.batch_fn = nh_batch_fn;
    cfg.batch_arg = h;
    cfg.link_fn = nh_link_fn;
    cfg.link_arg = h;
    cfg.feature_allow = o->feature_allow;
    cfg.tx_space_fn = nh_tx_space_fn;
    cfg.tx_space_arg = h;
    err = virtio_net_attach(&h->dev, &cfg);
    if (err != VNET_OK) {
        printf("attach: %s\n", vnet_strerror(err));
        return err;
    }
    if (o->irq_mode == SIMDEV_IRQ_MSIX) {
        h->irq_cfg = simdev_irq_vector(h->sim, 0);
        h->irq_rx = simdev_irq_vector(h->sim, 1);
        (void)osal_posix_irq_attach(h->irq_cfg, nh_isr_cfg, h->dev);
        (void)osal_posix_irq_attach(h->irq_rx, nh_isr_rx, h->dev);
        if (o->tx_vector) {
            h->irq_tx = simdev_irq_vector(h->sim, 2);
            (void)osal_posix_irq_attach(h->irq_tx, nh_isr_tx, h->dev);
        }
    } else {
        h->irq_shared = simdev_irq_shared(h->sim);
        (void)osal_posix_irq_attach(h->irq_shared, nh_isr_shared, h->dev);
    }
    if (o->no_init)
        return VNET_OK;
    err = virtio_net_initialize(h->dev);
    if (err != VNET_OK)
        printf("initialize: %s\n", vnet_strerror(err));
    return err;
}

bool nh_close_one(struct nh *h)
{
    bool ok = true;
    if (h->dev != NULL) {
        if (virtio_net_is_running(h->dev))
            (void)virtio_net_halt(h->dev);
        if (h->opts.irq_mode == SIMDEV_IRQ_MSIX) {
            osal_posix_irq_detach(h->irq_cfg);
            osal_posix_irq_detach(h->irq_rx);
            if (h->opts.tx_vector)
                osal_posix_irq_detach(h->irq_tx);
        } else {
            osal_posix_irq_detach(h->irq_shared);
        }
        vnet_err_t err = virtio_net_detach(h->dev);
        if (err != VNET_OK) {
            printf("detach: %s\n", vnet_strerror(err));
            ok = false;
        }
    }
    if (h->tr != NULL)
        virtio_transport_destroy(h->tr);
    if (h->sim != NULL) {
        uint32_t v = simdev_violations(h->sim);
        if (v != 0) {
            char buf[256];
            simdev_last_violation(h->sim, buf, sizeof(buf));
            printf("device saw protocol violations 0x%x: %s\n", v, buf);
            ok = false;
        }
        simdev_destroy(h->sim);
    }
    memset(h, 0, sizeof(*h));
    return ok;
}

bool nh_no_leaks(void)
{
    if (osal_posix_dma_outstanding() == 0 && osal_posix_mem_outstanding() == 0)
        return true;
    printf("leak: %zu DMA blocks, %zu heap blocks\n", osal_posix_dma_outstanding(),
           osal_posix_mem_outstanding());
    return false;
}

bool nh_close(struct nh *h)
{
    bool ok = nh_close_one(h);
    return nh_no_leaks() && ok;
}
