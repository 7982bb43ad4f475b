/*
 * Host micro-benchmark of the receive path (not a test: it prints figures, asserts
 * nothing about speed). The real driver runs against the simulated device in synchronous
 * mode; cycles are read with rdtsc around
 *   - the ISR path: virtio_net_service_rx_ring() on a batch of used entries (validate,
 *     copy into the software ring, re-post, one kick decision), and
 *   - the task path: delivery from the software ring into the receive callback
 *     (timestamps in the callback across a batch).
 * Linked with bench/in-isr/ instead of src/net/virtio_net_rx_irq.c (bench/host/run.sh) the
 * same program measures the old design, where the ISR path includes the callback and
 * there is no task path (vnet_rx_design says which one is linked).
 * Usage: bench_rx [rounds] [batch] [frame_len] [cb_bytes]
 *   cb_bytes: how many frame bytes the callback reads (34 = Ethernet + IPv4 header, the
 *   default; the frame length = a stack that checksums the whole frame).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "net/virtio_net_priv.h"
#include "osal_posix.h"
#include "simdev.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

static volatile uint64_t cb_first, cb_last, cb_frames, cb_expect, cb_sink;
static size_t cb_bytes = 34;

/* A callback that does what a stack's first look does: read the Ethernet and IP headers.
 * Timestamps only on the first and last frame of a round, so the callback's own cost is
 * what a cheap stack entry would cost. */
static void rx_cb(void *arg, uint8_t *frame, size_t len)
{
    (void)arg;
    if (cb_frames == 0)
        cb_first = rdtsc();
    else if (cb_frames + 1 == cb_expect)
        cb_last = rdtsc();
    cb_frames++;
    uint64_t s = 0;
    for (size_t i = 0; i < cb_bytes && i < len; i++)
        s += frame[i];
    cb_sink += s;
}

static void isr(void *arg)
{
    virtio_net_isr(arg);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void wait_frames(uint64_t n)
{
    struct timespec ts = {0, 20000};
    for (int i = 0; i < 500000 && cb_frames < n; i++)
        nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
    unsigned batch = argc > 2 ? (unsigned)atoi(argv[2]) : 32;
    unsigned flen = argc > 3 ? (unsigned)atoi(argv[3]) : 64;
    cb_bytes = argc > 4 ? (size_t)atoi(argv[4]) : 34;
    if (batch < 2 || batch > 128 || flen < 60 || flen > 1514 || rounds == 0) {
        fprintf(stderr, "usage: bench_rx [rounds] [batch 2..128] [frame_len 60..1514]\n");
        return 2;
    }
    osal_posix_log_quiet(true);
    struct simdev *sim;
    struct simdev_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.transport = SIMDEV_PCI_MODERN;
    sc.irq_base = 4;
    if (simdev_create(&sim, &sc) != SIMDEV_OK)
        return 1;
    struct virtio_transport *tr;
    if (virtio_pci_transport_create(&tr, simdev_pci_bus(sim), 0) != VNET_OK)
        return 1;
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = tr;
    cfg.rx_sw_ring_entries = 256;
    cfg.isr_budget = 128;
    cfg.rx_budget = 128;
    cfg.rx_fn = rx_cb;
    cfg.rx_task_prio = 5;
    struct virtio_net_dev *dev;
    if (virtio_net_attach(&dev, &cfg) != VNET_OK)
        return 1;
    unsigned irq = simdev_irq_shared(sim);
    osal_posix_irq_attach(irq, isr, dev);
    if (virtio_net_initialize(dev) != VNET_OK)
        return 1;

    uint8_t frame[1514];
    static const uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    simdev_frame_build(frame, flen, 0, dst);
    uint64_t *isr_pf = calloc(rounds, sizeof(uint64_t));
    uint64_t *task_pf = calloc(rounds, sizeof(uint64_t));
    uint64_t total = 0;
    for (unsigned r = 0; r < rounds; r++) {
        /* Used entries without an interrupt: the line is masked, raises are latched. */
        osal_posix_irq_mask(irq);
        for (unsigned i = 0; i < batch; i++)
            (void)simdev_rx_inject(sim, frame, flen);
        cb_frames = 0;
        cb_expect = batch;
        osal_crit_t c = osal_crit_enter();
        uint64_t t0 = rdtsc();
        int n = virtio_net_service_rx_ring(dev, batch);
        uint64_t t1 = rdtsc();
        /* What the ISR epilogue does: callbacks off, wake the task once. */
        virtq_disable_cb(dev->rx.vq);
        if (!dev->task_scheduled) {
            dev->task_scheduled = true;
            (void)osal_sem_post(&dev->sem);
        }
        osal_crit_exit(c);
        osal_posix_irq_unmask(irq);
        if (n != (int)batch) {
            fprintf(stderr, "serviced %d of %u\n", n, batch);
            return 1;
        }
        isr_pf[r] = (t1 - t0) / batch;
        if (!vnet_rx_design.delivers_in_isr) {
            wait_frames(batch);
            task_pf[r] = cb_frames > 1 ? (cb_last - cb_first) / (cb_frames - 1) : 0;
        }
        total += batch;
        /* Let the task finish its handshake before the next round. */
        struct timespec ts = {0, 50000};
        for (int k = 0; k < 10000; k++) {
            c = osal_crit_enter();
            bool idle = !dev->task_scheduled && !dev->task_active;
            osal_crit_exit(c);
            if (idle)
                break;
            nanosleep(&ts, NULL);
        }
    }
    qsort(isr_pf, rounds, sizeof(uint64_t), cmp_u64);
    qsort(task_pf, rounds, sizeof(uint64_t), cmp_u64);
    printf("design=%s frames=%llu batch=%u frame_len=%u cb_bytes=%zu\n", vnet_rx_design.name,
           (unsigned long long)total, batch, flen, cb_bytes);
    printf("isr_path_cycles_per_frame median=%llu p10=%llu p90=%llu\n",
           (unsigned long long)isr_pf[rounds / 2], (unsigned long long)isr_pf[rounds / 10],
           (unsigned long long)isr_pf[rounds * 9 / 10]);
    if (!vnet_rx_design.delivers_in_isr)
        printf("task_path_cycles_per_frame median=%llu p10=%llu p90=%llu\n",
               (unsigned long long)task_pf[rounds / 2], (unsigned long long)task_pf[rounds / 10],
               (unsigned long long)task_pf[rounds * 9 / 10]);
    free(isr_pf);
    free(task_pf);
    osal_posix_irq_detach(irq);
    virtio_net_detach(dev);
    virtio_transport_destroy(tr);
    simdev_destroy(sim);
    return 0;
}
