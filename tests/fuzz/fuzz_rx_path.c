/*
 * libFuzzer harness for the virtio-net receive path: the real driver (src/net) and virtqueue
 * core against the simulated device in synchronous mode, with the input deciding what the
 * "device" writes: frame lengths and contents, raw used-ring entries (any id, any len, any
 * index jump), one-shot protocol faults, stray interrupts, direct servicing, and recovery
 * by halt + initialize.
 *
 * Properties (abort on violation, so the fuzzer reports it):
 *   - rx_fn only ever sees 14..frame_max bytes, fully readable (ASan checks every byte);
 *   - a rejected used entry marks the queue broken and the driver stays quiet afterwards;
 *   - after halt every DMA allocation of the driver is back (no leak, nothing lost to a
 *     hostile used ring);
 *   - the RX task's semaphore never holds more than one token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "net/virtio_net_priv.h"
#include "osal_posix.h"
#include "simdev.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct simdev *fz_sim;
static struct virtio_transport *fz_tr;
static struct virtio_net_dev *fz_dev;
static unsigned fz_irq;
static size_t fz_dma_base, fz_mem_base;
static volatile uint64_t fz_sink;

static void fz_rx(void *arg, uint8_t *frame, size_t len)
{
    struct virtio_net_dev *dev = arg;
    if (len < VIRTIO_NET_ETH_HLEN || len > dev->frame_max)
        abort();
    uint64_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += frame[i];
    fz_sink += s;
}

static void fz_isr(void *arg)
{
    virtio_net_isr(arg);
}

static void fz_setup(void)
{
    osal_posix_log_quiet(true);
    struct simdev_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.transport = SIMDEV_PCI_MODERN;
    sc.rx_queue_size = 16;
    sc.tx_queue_size = 16;
    sc.irq_base = 4;
    if (simdev_create(&fz_sim, &sc) != SIMDEV_OK)
        abort();
    if (virtio_pci_transport_create(&fz_tr, simdev_pci_bus(fz_sim), 0) != VNET_OK)
        abort();
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = fz_tr;
    cfg.rx_sw_ring_entries = 8;
    cfg.isr_budget = 8;
    cfg.rx_budget = 4;
    cfg.rx_fn = fz_rx;
    cfg.rx_task_prio = 5;
    if (virtio_net_attach(&fz_dev, &cfg) != VNET_OK)
        abort();
    /* rx_fn needs the device for its bound; attach copied cfg, so patch the argument. */
    fz_dev->cfg.rx_arg = fz_dev;
    fz_irq = simdev_irq_shared(fz_sim);
    if (osal_posix_irq_attach(fz_irq, fz_isr, fz_dev) != VNET_OK)
        abort();
    fz_dma_base = osal_posix_dma_outstanding();
    fz_mem_base = osal_posix_mem_outstanding();
}

struct fz_in {
    const uint8_t *p;
    size_t n;
};

static unsigned fz_u8(struct fz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static unsigned fz_u16(struct fz_in *in)
{
    return fz_u8(in) | (fz_u8(in) << 8);
}

static uint32_t fz_u32(struct fz_in *in)
{
    return (uint32_t)fz_u16(in) | ((uint32_t)fz_u16(in) << 16);
}

/* Write one used entry the way a (hostile) device would: entry, then the index. */
static void fz_raw_used(uint32_t id, uint32_t len, unsigned step)
{
    if (fz_dev->rxq == NULL)
        return;
    uint64_t d, a, u;
    virtq_ring_addrs(fz_dev->rxq, &d, &a, &u);
    uint16_t qsz = virtq_size(fz_dev->rxq);
    uint8_t *used = osal_posix_dma_ptr(u, 4u + 8u * qsz);
    if (used == NULL)
        abort(); /* the driver programmed an address that is not its live ring */
    uint16_t idx;
    memcpy(&idx, used + 2, 2);
    uint8_t *e = used + 4 + 8u * (idx % qsz);
    memcpy(e, &id, 4);
    memcpy(e + 4, &len, 4);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    idx = (uint16_t)(idx + step);
    __atomic_store_n((uint16_t *)(void *)(used + 2), idx, __ATOMIC_RELEASE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_dev == NULL)
        fz_setup();
    struct fz_in in = {data, size};
    if (virtio_net_initialize(fz_dev) != VNET_OK)
        abort();
    uint8_t frame[1600];
    unsigned ops = 0;
    while (in.n > 0 && ops++ < 64) {
        switch (fz_u8(&in) % 7) {
        case 0: { /* a frame of input-chosen length and bytes */
            size_t len = fz_u16(&in) % sizeof(frame);
            for (size_t i = 0; i < len; i++)
                frame[i] = (uint8_t)(in.n ? fz_u8(&in) : i);
            (void)simdev_rx_inject(fz_sim, frame, len);
            break;
        }
        case 1: { /* raw used entry */
            uint32_t id = fz_u16(&in) % 64u;
            uint32_t len = fz_u32(&in);
            unsigned step = 1u + fz_u8(&in) % 4u;
            fz_raw_used(id, len, step);
            break;
        }
        case 2: /* protocol fault on the next completion (or NEEDS_RESET now) */
            simdev_misbehave(fz_sim, (enum simdev_fault)(1 + fz_u8(&in) % 5), 0, fz_u8(&in));
            break;
        case 3: {
            int r = virtio_net_service_rx_ring(fz_dev, fz_u8(&in) % 20u);
            if (r < 0 && r != VNET_E_BROKEN)
                abort();
            break;
        }
        case 4:
            osal_posix_irq_raise(fz_irq);
            break;
        case 5:
            if (virtio_net_halt(fz_dev) != VNET_OK)
                abort();
            simdev_misbehave(fz_sim, SIMDEV_FAULT_NONE, 0, 0);
            if (virtio_net_initialize(fz_dev) != VNET_OK)
                abort();
            break;
        default: {
            struct virtio_net_stats st;
            virtio_net_get_stats(fz_dev, &st);
            /* Broken means silent: servicing a broken queue reports it and does nothing. */
            if ((st.broken & 1u) && virtio_net_service_rx_ring(fz_dev, 0) != VNET_E_BROKEN)
                abort();
            if (st.rx_queue_count > fz_dev->cfg.rx_sw_ring_entries)
                abort();
            break;
        }
        }
        pthread_mutex_lock(&fz_dev->sem.mtx);
        unsigned tokens = fz_dev->sem.count;
        pthread_mutex_unlock(&fz_dev->sem.mtx);
        if (tokens > 1)
            abort();
    }
    if (virtio_net_halt(fz_dev) != VNET_OK)
        abort();
    simdev_misbehave(fz_sim, SIMDEV_FAULT_NONE, 0, 0);
    simdev_clear_violations(fz_sim);
    if (osal_posix_dma_outstanding() != fz_dma_base || osal_posix_mem_outstanding() != fz_mem_base)
        abort();
    return 0;
}
