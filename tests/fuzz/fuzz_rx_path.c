/*
 * libFuzzer harness for the virtio-net receive path: the real driver (src/net) and virtqueue
 * core against the simulated device in synchronous mode, with the input deciding what the
 * "device" writes: frame lengths and contents, raw used-ring entries (any id, any len, any
 * index jump), one-shot protocol faults, stray interrupts, direct servicing, and recovery
 * by halt + initialize. The first input byte picks one of two devices: plain (rx_fn), or
 * receive offloads (rx_hdr_fn, MRG_RXBUF with small buffers so frames span several, GUEST_CSUM,
 * GUEST_TSO4/6), where frames carry an input-chosen virtio-net header, num_buffers and
 * first used length.
 *
 * Properties (abort on violation, so the fuzzer reports it):
 *   - rx_fn only ever sees 14..frame_max bytes, fully readable (ASan checks every byte);
 *   - rx_hdr_fn only ever sees 14..rx_frame_max bytes and a header the driver's contract
 *     promises: known flags, GSO only TCPv4/v6 with a segment size (a non-GSO frame within
 *     the MTU), a partial checksum's field inside the frame;
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

/* Device 0 plain, device 1 with receive offloads; the input picks one per run. */
static struct simdev *fz_sims[2];
static struct virtio_transport *fz_trs[2];
static struct virtio_net_dev *fz_devs[2];
static unsigned fz_irqs[2];
static size_t fz_dma_base, fz_mem_base;
static volatile uint64_t fz_sink;
/* The device of the current run. */
static struct simdev *fz_sim;
static struct virtio_net_dev *fz_dev;
static unsigned fz_irq;

/* Read every byte of a delivered frame, so ASan checks all of it. */
static void fz_read_all(const uint8_t *frame, size_t len)
{
    uint64_t s = 0;
    for (size_t i = 0; i < len; i++)
        s += frame[i];
    fz_sink += s;
}

static void fz_rx(void *arg, uint8_t *frame, size_t len)
{
    struct virtio_net_dev *dev = arg;
    if (len < VIRTIO_NET_ETH_HLEN || len > dev->frame_max)
        abort();
    fz_read_all(frame, len);
}

static void fz_rx_hdr(void *arg, const struct virtio_net_hdr *h, uint8_t *frame, size_t len)
{
    struct virtio_net_dev *dev = arg;
    if (len < VIRTIO_NET_ETH_HLEN || len > dev->rx.frame_max)
        abort();
    if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
        abort();
    if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
        (size_t)h->csum_start + h->csum_offset + 2u > len)
        abort();
    if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        if (len > dev->frame_max)
            abort();
    } else if ((h->gso_type != VIRTIO_NET_HDR_GSO_TCPV4 &&
                h->gso_type != VIRTIO_NET_HDR_GSO_TCPV6) ||
               h->gso_size == 0) {
        abort();
    }
    fz_read_all(frame, len);
}

static void fz_isr(void *arg)
{
    virtio_net_isr(arg);
}

static void fz_setup_one(unsigned k)
{
    struct simdev_config sc;
    memset(&sc, 0, sizeof(sc));
    sc.transport = SIMDEV_PCI_MODERN;
    sc.rx_queue_size = 16;
    sc.tx_queue_size = 16;
    sc.irq_base = 4u + 4u * k;
    if (k == 1)
        sc.features = SIMDEV_DEFAULT_FEATURES | SIMDEV_OFFLOAD_FEATURES;
    if (simdev_create(&fz_sims[k], &sc) != SIMDEV_OK)
        abort();
    if (virtio_pci_transport_create(&fz_trs[k], simdev_pci_bus(fz_sims[k]), 0) != VNET_OK)
        abort();
    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = fz_trs[k];
    cfg.rx_sw_ring_entries = 8;
    cfg.isr_budget = 8;
    cfg.rx_budget = 4;
    cfg.rx_fn = fz_rx;
    if (k == 1) {
        cfg.rx_hdr_fn = fz_rx_hdr;
        cfg.rx_mrg_buf_bytes = 128; /* the smallest: frames span many buffers */
    }
    cfg.rx_task_prio = 5u + k; /* one task per priority, as in uC/OS-II */
    if (virtio_net_attach(&fz_devs[k], &cfg) != VNET_OK)
        abort();
    /* The callbacks need the device for their bounds; attach copied cfg, so patch it. */
    fz_devs[k]->cfg.rx_arg = fz_devs[k];
    fz_irqs[k] = simdev_irq_shared(fz_sims[k]);
    if (osal_posix_irq_attach(fz_irqs[k], fz_isr, fz_devs[k]) != VNET_OK)
        abort();
}

static void fz_setup(void)
{
    osal_posix_log_quiet(true);
    fz_setup_one(0);
    fz_setup_one(1);
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
    if (fz_dev->rx.vq == NULL)
        return;
    uint64_t d, a, u;
    virtq_ring_addrs(fz_dev->rx.vq, &d, &a, &u);
    uint16_t qsz = virtq_size(fz_dev->rx.vq);
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
    if (fz_devs[0] == NULL)
        fz_setup();
    struct fz_in in = {data, size};
    unsigned k = fz_u8(&in) & 1u;
    fz_sim = fz_sims[k];
    fz_dev = fz_devs[k];
    fz_irq = fz_irqs[k];
    if (virtio_net_initialize(fz_dev) != VNET_OK)
        abort();
    static uint8_t frame[9000];
    unsigned ops = 0;
    while (in.n > 0 && ops++ < 64) {
        switch (fz_u8(&in) % 8) {
        case 0: { /* a frame of input-chosen length and bytes */
            size_t len = fz_u16(&in) % 1600u;
            for (size_t i = 0; i < len; i++)
                frame[i] = (uint8_t)(in.n ? fz_u8(&in) : i);
            (void)simdev_rx_inject(fz_sim, frame, len);
            break;
        }
        case 7: { /* offloads device: a frame behind an input-chosen header (any fields),
                     num_buffers and first used length; the plain device gets a zero one */
            size_t len = fz_u16(&in) % sizeof(frame);
            struct virtio_net_hdr h;
            h.flags = (uint8_t)fz_u8(&in);
            h.gso_type = (uint8_t)fz_u8(&in);
            h.hdr_len = (uint16_t)fz_u16(&in);
            h.gso_size = (uint16_t)fz_u16(&in);
            h.csum_start = (uint16_t)fz_u16(&in);
            h.csum_offset = (uint16_t)fz_u16(&in);
            h.num_buffers = 0;
            unsigned how = fz_u8(&in);
            struct simdev_rx_opts o = {.hdr = &h,
                                       .set_num_buffers = (how & 1u) != 0,
                                       .num_buffers = (uint16_t)fz_u8(&in),
                                       .set_first_len = (how & 2u) != 0,
                                       .first_len = fz_u16(&in)};
            for (size_t i = 0; i < len; i++)
                frame[i] = (uint8_t)(i * 7u + h.flags);
            (void)simdev_rx_inject_ex(fz_sim, frame, len, &o);
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
