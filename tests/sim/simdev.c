/*
 * Simulated virtio-net device. See simdev.h for the contract.
 *
 * Locking: one mutex (dev->lock) guards all device state. Interrupts are collected while
 * it is held (struct sd_irqs) and raised only after it is dropped, because the driver's
 * ISR runs on the raising thread and calls back into the device (ISR status read, RX
 * refill notify).
 */
#define _POSIX_C_SOURCE 200809L
#include "simdev.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "osal.h"
#include "osal_posix.h"
#include "virtio/virtio_barrier.h"
#include "virtio/virtio_mmio_regs.h"
#include "virtio/virtio_pci_regs.h"
#include "virtio/virtio_ring.h"
#include "virtio/virtio_transport.h"
#include "virtio/virtq.h"

#define SD_NQ          2
#define SD_RXQ         0
#define SD_TXQ         1
#define SD_MAX_FRAME   SIMDEV_MAX_FRAME
#define SD_HDR_MAX     12u
#define SD_NET_CFG_LEN 12u /* mac[6], status, max_virtqueue_pairs, mtu */
#define SD_LINK_UP     1u  /* VIRTIO_NET_S_LINK_UP */

/* PCI layout of the model: BAR0 legacy I/O, BAR1 MSI-X table, BAR4/5 64-bit modern. */
#define SD_BAR0_SIZE   64u
#define SD_BAR1_SIZE   4096u
#define SD_BAR4_SIZE   0x4000u
#define SD_MODERN_BAR  4u
#define SD_COMMON_OFF  0x0000u
#define SD_ISR_OFF     0x1000u
#define SD_DEVCFG_OFF  0x2000u
#define SD_NOTIFY_OFF  0x3000u
#define SD_NOTIFY_LEN  0x1000u
#define SD_NOTIFY_MULT 4u
#define SD_CAP_MSIX    0x40u
#define SD_CAP_COMMON  0x50u
#define SD_CAP_ISR     0x60u
#define SD_CAP_DEVCFG  0x70u
#define SD_CAP_NOTIFY  0x80u

struct sd_queue {
    uint16_t max;
    uint16_t size;
    bool enabled;
    uint64_t desc, avail, used; /* DMA addresses */
    uint32_t pfn;               /* legacy */
    uint16_t vector;
    uint16_t last_avail; /* next avail entry the device will take */
    uint16_t used_idx;   /* device's used index */
    uint16_t seen_idx;   /* avail->idx as of the device's last look (notify/pop) */
    uint16_t start_idx;
    enum simdev_fault oneshot;
    uint32_t oneshot_arg;
};

struct sd_irqs {
    uint64_t mask; /* POSIX irq numbers to raise, as bits (irq < 64) */
};

struct sd_kept {
    size_t len;
    uint8_t *data;
    struct virtio_net_hdr hdr; /* as the driver wrote it (10 legacy bytes: rest zero) */
};

struct simdev {
    struct simdev_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool stop;

    struct virtio_pci_bus pci_bus;
    struct virtio_mmio_bus mmio_bus;
    bool is_pci, is_mmio, has_modern, has_legacy;

    /* PCI configuration space and BAR sizing state. */
    uint8_t pcfg[PCI_CFG_SPACE_SIZE];
    uint32_t bar_size[6];
    uint32_t bar_reg[6];

    /* Device state. */
    uint64_t dev_features;
    uint64_t drv_features;
    uint32_t dfsel, gfsel;
    uint8_t status;
    uint8_t isr;
    uint8_t cfg_gen;
    uint16_t config_vector;
    uint16_t qsel;
    uint32_t mmio_page_size, mmio_align;
    uint8_t netcfg[SD_NET_CFG_LEN];
    bool legacy_mode; /* the driver uses the legacy interface (transitional: decided by
                         whichever interface touches the status register first) */
    bool halted;      /* NEEDS_RESET: no more ring processing */
    struct sd_queue q[SD_NQ];

    /* Persistent faults. */
    bool f_reset_refused, f_fok_cleared, f_msix_refused, f_gen_unstable;

    /* Generator. */
    bool gen_active;
    struct simdev_rx_gen gen;
    uint64_t gen_seq;
    uint64_t gen_sent_or_dropped;
    uint64_t gen_start_ns, gen_progress_ns;
    bool gen_wait_kick; /* kick_only: out of buffers, waiting for an RX notification */
    uint32_t gen_rng;
    bool tx_pending;   /* SIMDEV_TX_THREAD: a TX kick waits for the thread */
    unsigned tx_limit; /* simdev_tx_complete: chains sd_tx_run may still consume (0: all) */

    /* TX observation. */
    struct sd_kept *kept;
    size_t kept_head, kept_n;
    uint32_t tx_last_seq;
    bool tx_seq_seen;
    uint8_t *txbuf;

    /* Checks. */
    uint32_t violations;
    uint64_t vcount[SIMDEV_V_COUNT];
    char last_violation[160];
    struct simdev_stats st;
};

/* --- helpers ------------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static void sd_violation(struct simdev *dev, uint32_t bit,
                                                               const char *fmt, ...)
{
    va_list ap;

    dev->violations |= bit;
    for (unsigned i = 0; i < SIMDEV_V_COUNT; i++)
        if (bit == (1u << i))
            dev->vcount[i]++;
    va_start(ap, fmt);
    vsnprintf(dev->last_violation, sizeof(dev->last_violation), fmt, ap);
    va_end(ap);
}

static uint64_t sd_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned sd_hdr_len(const struct simdev *dev)
{
    if (dev->drv_features & (SIMDEV_F_VERSION_1 | SIMDEV_F_MRG_RXBUF))
        return 12;
    return 10;
}

static bool sd_msix_enabled(const struct simdev *dev)
{
    uint16_t ctrl;

    if (!dev->is_pci)
        return false;
    memcpy(&ctrl, &dev->pcfg[SD_CAP_MSIX + PCI_MSIX_CTRL], 2);
    return (ctrl & PCI_MSIX_CTRL_ENABLE) != 0;
}

/* Interrupt for a used-buffer event on queue qi (caller decided it is wanted). */
static void sd_queue_irq(struct simdev *dev, unsigned qi, struct sd_irqs *irqs)
{
    if (sd_msix_enabled(dev)) {
        uint16_t v = dev->q[qi].vector;

        if (v == VIRTIO_PCI_NO_VECTOR) {
            dev->st.irqs_no_vector++;
            return;
        }
        irqs->mask |= 1ull << (dev->cfg.irq_base + 1u + v);
    } else {
        dev->isr |= VIRTIO_ISR_QUEUE;
        irqs->mask |= 1ull << dev->cfg.irq_base;
    }
    dev->st.irqs[qi]++;
}

static void sd_config_irq(struct simdev *dev, struct sd_irqs *irqs)
{
    if (!(dev->status & VIRTIO_STATUS_DRIVER_OK))
        return;
    dev->st.config_irqs++;
    if (sd_msix_enabled(dev)) {
        if (dev->config_vector == VIRTIO_PCI_NO_VECTOR) {
            dev->st.irqs_no_vector++;
            return;
        }
        irqs->mask |= 1ull << (dev->cfg.irq_base + 1u + dev->config_vector);
    } else {
        dev->isr |= VIRTIO_ISR_CONFIG;
        irqs->mask |= 1ull << dev->cfg.irq_base;
    }
}

/* Called without dev->lock held. */
static void sd_raise(struct sd_irqs *irqs)
{
    for (unsigned i = 0; i < 64 && irqs->mask != 0; i++) {
        if (irqs->mask & (1ull << i)) {
            irqs->mask &= ~(1ull << i);
            osal_posix_irq_raise(i);
        }
    }
}

static void sd_unlock_raise(struct simdev *dev, struct sd_irqs *irqs)
{
    pthread_mutex_unlock(&dev->lock);
    sd_raise(irqs);
}

/* A driver bug in a ring: QEMU marks the device broken (NEEDS_RESET); so do we. */
static void sd_needs_reset(struct simdev *dev, struct sd_irqs *irqs)
{
    dev->halted = true;
    dev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    sd_config_irq(dev, irqs);
}

/* --- ring access -------------------------------------------------------------------- */

struct sd_ring {
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
};

static bool sd_ring_map(struct simdev *dev, unsigned qi, struct sd_ring *r)
{
    struct sd_queue *q = &dev->q[qi];

    r->desc = osal_posix_dma_ptr(q->desc, virtq_desc_bytes(q->size));
    r->avail = osal_posix_dma_ptr(q->avail, virtq_avail_bytes(q->size));
    r->used = osal_posix_dma_ptr(q->used, virtq_used_bytes(q->size));
    if (r->desc == NULL || r->avail == NULL || r->used == NULL) {
        sd_violation(dev, SIMDEV_V_BAD_DMA, "queue %u rings not in live DMA memory", qi);
        return false;
    }
    return true;
}

struct sd_seg {
    uint8_t *p;
    uint32_t len;
    bool wr;
};

/* Walk the chain at head into segs (at most `cap`). Returns the count or -1 (violation
 * recorded). */
static int sd_chain(struct simdev *dev, unsigned qi, const struct sd_ring *r, uint16_t head,
                    struct sd_seg *segs, int cap)
{
    struct sd_queue *q = &dev->q[qi];
    uint16_t i = head;
    bool seen_wr = false;
    int n = 0;

    if (head >= q->size) {
        sd_violation(dev, SIMDEV_V_BAD_CHAIN, "queue %u avail head %u >= size", qi, head);
        return -1;
    }
    for (;;) {
        struct virtq_desc d = r->desc[i];

        if (n >= cap || n >= q->size) {
            sd_violation(dev, SIMDEV_V_BAD_CHAIN, "queue %u chain at %u too long/loops", qi, head);
            return -1;
        }
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            sd_violation(dev, SIMDEV_V_BAD_CHAIN, "queue %u indirect descriptor", qi);
            return -1;
        }
        if (d.flags & VIRTQ_DESC_F_WRITE) {
            seen_wr = true;
        } else if (seen_wr) {
            sd_violation(dev, SIMDEV_V_BAD_CHAIN, "queue %u readable after writable", qi);
            return -1;
        }
        segs[n].p = osal_posix_dma_ptr(d.addr, d.len);
        segs[n].len = d.len;
        segs[n].wr = (d.flags & VIRTQ_DESC_F_WRITE) != 0;
        if (segs[n].p == NULL) {
            sd_violation(dev, SIMDEV_V_BAD_DMA,
                         "queue %u buffer 0x%llx+%u not in a live DMA allocation", qi,
                         (unsigned long long)d.addr, d.len);
            return -1;
        }
        n++;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return n;
        if (d.next >= q->size) {
            sd_violation(dev, SIMDEV_V_BAD_CHAIN, "queue %u next %u out of range", qi, d.next);
            return -1;
        }
        i = d.next;
    }
}

/* Write one used entry (with one-shot faults) and, with `publish`, used->idx. */
static void sd_push_used(struct simdev *dev, unsigned qi, const struct sd_ring *r, uint32_t id,
                         uint32_t len, uint32_t wlen, bool publish)
{
    struct sd_queue *q = &dev->q[qi];
    enum simdev_fault f = q->oneshot;
    unsigned copies = 1;

    q->oneshot = SIMDEV_FAULT_NONE;
    if (f == SIMDEV_FAULT_BAD_USED_ID)
        id = q->size + q->oneshot_arg;
    else if (f == SIMDEV_FAULT_BAD_USED_LEN)
        len = wlen + 1 + q->oneshot_arg;
    else if (f == SIMDEV_FAULT_DUP_USED)
        copies = 2;
    for (unsigned c = 0; c < copies; c++) {
        r->used->ring[q->used_idx & (q->size - 1)].id = id;
        r->used->ring[q->used_idx & (q->size - 1)].len = len;
        q->used_idx++;
    }
    if (f == SIMDEV_FAULT_USED_IDX_JUMP)
        q->used_idx = (uint16_t)(q->used_idx + q->size + 1);
    /* All buffers of one received frame are published together, with one used->idx
     * store, as QEMU's virtqueue_flush() does after filling them. */
    if (!publish)
        return;
    /* 2.7.8: the entry must be visible before the idx that publishes it. */
    vnet_wmb();
    VNET_WRITE_ONCE(r->used->idx, q->used_idx);
}

/* After publishing used entries old..used_idx: interrupt unless suppressed (2.7.10). */
static void sd_maybe_irq(struct simdev *dev, unsigned qi, const struct sd_ring *r, uint16_t old,
                         struct sd_irqs *irqs)
{
    struct sd_queue *q = &dev->q[qi];
    bool need;

    if (old == q->used_idx)
        return;
    /* used->idx store before reading the driver's suppression state (store->load). */
    vnet_mb();
    if (dev->drv_features & SIMDEV_F_EVENT_IDX)
        need = virtq_need_event(VNET_READ_ONCE(*virtq_used_event_ptr(r->avail, q->size)),
                                q->used_idx, old);
    else
        need = !(VNET_READ_ONCE(r->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    if (need)
        sd_queue_irq(dev, qi, irqs);
    else
        dev->st.irqs_suppressed[qi]++;
}

/* Device-side notification suppression: with EVENT_IDX, ask for a kick as soon as the
 * driver adds past what we consumed (2.7.10 avail_event). */
static void sd_arm_kick(struct simdev *dev, unsigned qi, const struct sd_ring *r)
{
    struct sd_queue *q = &dev->q[qi];

    if (dev->drv_features & SIMDEV_F_EVENT_IDX) {
        VNET_WRITE_ONCE(*virtq_avail_event_ptr(r->used, q->size), q->last_avail);
        vnet_mb();
    }
}

/* --- frames with sequence numbers ----------------------------------------------------- */

#define SD_FRAME_MAGIC 0x56534e44u /* "DNSV" */

static uint32_t sd_fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static void sd_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t sd_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void simdev_frame_build(uint8_t *buf, size_t len, uint32_t seq, const uint8_t dst[6])
{
    static const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};

    if (len < SIMDEV_FRAME_MIN)
        return;
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = (uint8_t)(SIMDEV_ETHERTYPE >> 8);
    buf[13] = (uint8_t)SIMDEV_ETHERTYPE;
    sd_put32(buf + 14, SD_FRAME_MAGIC);
    sd_put32(buf + 18, seq);
    sd_put32(buf + 22, (uint32_t)len);
    for (size_t i = 26; i < len - 4; i++)
        buf[i] = (uint8_t)(seq * 7u + i);
    sd_put32(buf + len - 4, sd_fnv1a(buf, len - 4));
}

int simdev_frame_check(const uint8_t *buf, size_t len, uint32_t *seq)
{
    if (buf == NULL || len < SIMDEV_FRAME_MIN)
        return -1;
    if (buf[12] != (uint8_t)(SIMDEV_ETHERTYPE >> 8) || buf[13] != (uint8_t)SIMDEV_ETHERTYPE ||
        sd_get32(buf + 14) != SD_FRAME_MAGIC || sd_get32(buf + 22) != len ||
        sd_get32(buf + len - 4) != sd_fnv1a(buf, len - 4))
        return -1;
    if (seq != NULL)
        *seq = sd_get32(buf + 18);
    return 0;
}

/* --- receive ---------------------------------------------------------------------------- */

static bool sd_queue_live(const struct simdev *dev, unsigned qi)
{
    return !dev->halted && (dev->status & VIRTIO_STATUS_DRIVER_OK) && dev->q[qi].enabled;
}

/*
 * Deliver one frame into the RX ring (lock held). Publishes the used entries; the caller
 * makes the interrupt decision for its batch with sd_maybe_irq().
 */
static int sd_rx_one(struct simdev *dev, const struct sd_ring *r, const uint8_t *frame, size_t len,
                     const struct simdev_rx_opts *o, struct sd_irqs *irqs)
{
    struct sd_queue *q = &dev->q[SD_RXQ];
    unsigned hdr_len = sd_hdr_len(dev);
    bool mrg = (dev->drv_features & SIMDEV_F_MRG_RXBUF) != 0;
    size_t total = hdr_len + len, done = 0;
    uint16_t avail_idx, first_avail = q->last_avail, nbufs = 0;
    uint8_t hdr[SD_HDR_MAX] = {0};
    struct {
        uint16_t head;
        uint32_t written, wlen;
    } used[64];
    struct sd_seg segs[64];

    if (o != NULL && o->hdr != NULL)
        memcpy(hdr, o->hdr, SD_HDR_MAX);
    avail_idx = VNET_READ_ONCE(r->avail->idx);
    q->seen_idx = avail_idx;
    if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
        sd_violation(dev, SIMDEV_V_BAD_CHAIN, "rx avail idx moved by more than the size");
        sd_needs_reset(dev, irqs);
        return SIMDEV_E_NOTREADY;
    }
    /* 2.7.13: avail->idx read before the ring entries it covers. */
    vnet_rmb();
    while (done < total) {
        uint32_t wlen = 0, written = 0;
        uint16_t head;
        int n;

        if (q->last_avail == avail_idx && nbufs < 64) {
            /* Arm, then re-check (2.7.10): a refill published before the driver could
             * see the new avail_event was not kicked, but is there to use. */
            sd_arm_kick(dev, SD_RXQ, r);
            avail_idx = VNET_READ_ONCE(r->avail->idx);
            q->seen_idx = avail_idx;
            vnet_rmb();
        }
        if (q->last_avail == avail_idx || nbufs == 64) {
            q->last_avail = first_avail; /* roll back: nothing consumed */
            dev->st.rx_no_buffer++;
            sd_arm_kick(dev, SD_RXQ, r);
            return SIMDEV_E_NOBUF;
        }
        head = r->avail->ring[q->last_avail & (q->size - 1)];
        n = sd_chain(dev, SD_RXQ, r, head, segs, 64);
        if (n < 0) {
            sd_needs_reset(dev, irqs);
            return SIMDEV_E_NOTREADY;
        }
        for (int s = 0; s < n; s++) {
            if (!segs[s].wr) {
                sd_violation(dev, SIMDEV_V_BAD_CHAIN, "rx chain has a device-readable part");
                sd_needs_reset(dev, irqs);
                return SIMDEV_E_NOTREADY;
            }
            wlen += segs[s].len;
        }
        if (!mrg && wlen < total) {
            sd_violation(dev, SIMDEV_V_BUF_TOO_SMALL, "rx buffer %u < header + frame %zu", wlen,
                         total);
            q->last_avail = first_avail;
            dev->st.rx_too_small++;
            return SIMDEV_E_TOOSMALL;
        }
        if (mrg && nbufs == 0 && wlen < hdr_len) {
            sd_violation(dev, SIMDEV_V_BUF_TOO_SMALL, "rx buffer %u < header", wlen);
            q->last_avail = first_avail;
            dev->st.rx_too_small++;
            return SIMDEV_E_TOOSMALL;
        }
        /* Scatter the (header +) frame bytes over this chain. */
        for (int s = 0; s < n && done < total; s++) {
            uint32_t off = 0;

            while (off < segs[s].len && done < total) {
                size_t chunk = segs[s].len - off;

                if (done < hdr_len) {
                    if (chunk > hdr_len - done)
                        chunk = hdr_len - done;
                    memcpy(segs[s].p + off, hdr + done, chunk);
                } else {
                    if (chunk > total - done)
                        chunk = total - done;
                    memcpy(segs[s].p + off, frame + (done - hdr_len), chunk);
                }
                off += (uint32_t)chunk;
                done += chunk;
                written += (uint32_t)chunk;
            }
        }
        used[nbufs].head = head;
        used[nbufs].written = written;
        used[nbufs].wlen = wlen;
        nbufs++;
        q->last_avail++;
    }
    if (hdr_len == 12) {
        /* num_buffers (5.1.6): little-endian u16 at offset 10 of the first buffer; 1
         * without MRG_RXBUF (1.x), or what the test asked for. */
        struct sd_seg first[64];
        int n = sd_chain(dev, SD_RXQ, r, used[0].head, first, 64);
        uint16_t claim = mrg ? nbufs : 1;
        if (o != NULL && o->set_num_buffers)
            claim = o->num_buffers;
        uint8_t nb[2] = {(uint8_t)claim, (uint8_t)(claim >> 8)};
        size_t pos = 0;

        for (int s = 0; s < n && pos < 12; s++) {
            for (uint32_t k = 0; k < first[s].len && pos < 12; k++, pos++)
                if (pos >= 10)
                    first[s].p[k] = nb[pos - 10];
        }
    }
    if (o != NULL && o->set_first_len)
        used[0].written = o->first_len < used[0].wlen ? o->first_len : used[0].wlen;
    for (uint16_t b = 0; b < nbufs; b++)
        sd_push_used(dev, SD_RXQ, r, used[b].head, used[b].written, used[b].wlen, b + 1u == nbufs);
    sd_arm_kick(dev, SD_RXQ, r);
    dev->st.rx_frames++;
    dev->st.rx_bytes += len;
    return SIMDEV_OK;
}

int simdev_rx_inject(struct simdev *dev, const void *frame, size_t len)
{
    return simdev_rx_inject_ex(dev, frame, len, NULL);
}

int simdev_rx_inject_ex(struct simdev *dev, const void *frame, size_t len,
                        const struct simdev_rx_opts *o)
{
    struct sd_irqs irqs = {0};
    struct sd_ring r;
    uint16_t old;
    int rc;

    if (dev == NULL || frame == NULL || len == 0 || len > SD_MAX_FRAME)
        return SIMDEV_E_INVAL;
    pthread_mutex_lock(&dev->lock);
    if (!sd_queue_live(dev, SD_RXQ)) {
        rc = SIMDEV_E_NOTREADY;
    } else if (!sd_ring_map(dev, SD_RXQ, &r)) {
        sd_needs_reset(dev, &irqs);
        rc = SIMDEV_E_NOTREADY;
    } else {
        old = dev->q[SD_RXQ].used_idx;
        rc = sd_rx_one(dev, &r, frame, len, o, &irqs);
        if (!dev->halted)
            sd_maybe_irq(dev, SD_RXQ, &r, old, &irqs);
    }
    sd_unlock_raise(dev, &irqs);
    return rc;
}

/* --- transmit ---------------------------------------------------------------------------- */

/*
 * The device's view of a TX header (spec 5.1.6.2): offloads only as negotiated, a partial
 * checksum inside the frame, num_buffers 0. A violation otherwise (QEMU would send a
 * broken frame or drop it).
 */
static void sd_tx_check_hdr(struct simdev *dev, const struct virtio_net_hdr *h, size_t len)
{
    uint64_t f = dev->drv_features;
    unsigned gso = h->gso_type & 0x7fu;

    if (h->flags & 0x2u)
        sd_violation(dev, SIMDEV_V_TX_HDR, "tx header with DATA_VALID");
    if ((h->flags & 0x1u) && !(f & SIMDEV_F_CSUM))
        sd_violation(dev, SIMDEV_V_TX_HDR, "tx NEEDS_CSUM without CSUM");
    if ((h->flags & 0x1u) && (size_t)h->csum_start + h->csum_offset + 2u > len)
        sd_violation(dev, SIMDEV_V_TX_HDR, "tx csum %u+%u outside %zu bytes", h->csum_start,
                     h->csum_offset, len);
    if ((gso == 1 && !(f & SIMDEV_F_HOST_TSO4)) || (gso == 4 && !(f & SIMDEV_F_HOST_TSO6)) ||
        (gso != 0 && gso != 1 && gso != 4) || ((h->gso_type & 0x80u) && gso == 0))
        sd_violation(dev, SIMDEV_V_TX_HDR, "tx gso_type 0x%x not negotiated", h->gso_type);
    if (gso != 0 && (h->gso_size == 0 || !(h->flags & 0x1u)))
        sd_violation(dev, SIMDEV_V_TX_HDR, "tx gso without gso_size or NEEDS_CSUM");
    if (gso == 0 && len > 65535u)
        sd_violation(dev, SIMDEV_V_TX_HDR, "tx frame of %zu bytes without gso", len);
    if (sd_hdr_len(dev) == 12 && h->num_buffers != 0)
        sd_violation(dev, SIMDEV_V_TX_HDR, "tx num_buffers %u", h->num_buffers);
}

static void sd_tx_record(struct simdev *dev, const struct virtio_net_hdr *hdr, const uint8_t *frame,
                         size_t len)
{
    uint32_t seq;

    dev->st.tx_frames++;
    dev->st.tx_bytes += len;
    if (simdev_frame_check(frame, len, &seq) == 0) {
        dev->st.tx_valid++;
        if (dev->tx_seq_seen && seq != dev->tx_last_seq + 1)
            dev->st.tx_out_of_order++;
        dev->tx_seq_seen = true;
        dev->tx_last_seq = seq;
    } else {
        dev->st.tx_invalid++;
    }
    if (!dev->cfg.keep_tx_frames)
        return;
    if (dev->kept_n == dev->cfg.keep_tx_max) {
        free(dev->kept[dev->kept_head].data);
        dev->kept_head = (dev->kept_head + 1) % dev->cfg.keep_tx_max;
        dev->kept_n--;
        dev->st.tx_kept_dropped++;
    }
    struct sd_kept *k = &dev->kept[(dev->kept_head + dev->kept_n) % dev->cfg.keep_tx_max];
    k->data = malloc(len);
    if (k->data == NULL)
        return;
    memcpy(k->data, frame, len);
    k->len = len;
    k->hdr = *hdr;
    dev->kept_n++;
}

/* Consume every published TX chain (lock held). Returns frames consumed. */
static int sd_tx_run(struct simdev *dev, struct sd_irqs *irqs)
{
    struct sd_queue *q = &dev->q[SD_TXQ];
    struct sd_ring r;
    struct sd_seg segs[64];
    uint16_t old, avail_idx;
    int frames = 0;
    unsigned hdr_len = sd_hdr_len(dev);

    if (!sd_queue_live(dev, SD_TXQ))
        return 0;
    if (!sd_ring_map(dev, SD_TXQ, &r)) {
        sd_needs_reset(dev, irqs);
        return 0;
    }
    old = q->used_idx;
    /* Bounded: a driver that keeps adding cannot keep the device here forever. */
    for (unsigned pass = 0;; pass++) {
        if (pass == 8) {
            /* Still work: finish on the device thread rather than wait for a kick the
             * driver will not send (avail_event is behind what it published). */
            dev->tx_pending = true;
            pthread_cond_signal(&dev->cond);
            break;
        }
        avail_idx = VNET_READ_ONCE(r.avail->idx);
        q->seen_idx = avail_idx;
        if ((uint16_t)(avail_idx - q->last_avail) > q->size) {
            sd_violation(dev, SIMDEV_V_BAD_CHAIN, "tx avail idx moved by more than the size");
            sd_needs_reset(dev, irqs);
            return frames;
        }
        if (avail_idx == q->last_avail) {
            /* Ask for a kick at our position, then look again (2.7.10): entries the
             * driver published before it could see the new avail_event got no kick. */
            sd_arm_kick(dev, SD_TXQ, &r);
            if (VNET_READ_ONCE(r.avail->idx) == q->last_avail)
                break;
            continue;
        }
        vnet_rmb(); /* 2.7.13: idx before entries */
        while (q->last_avail != avail_idx) {
            if (dev->tx_limit != 0 && (unsigned)frames >= dev->tx_limit)
                goto done;
            uint16_t head = r.avail->ring[q->last_avail & (q->size - 1)];
            size_t total = 0, pos = 0;
            int n = sd_chain(dev, SD_TXQ, &r, head, segs, 64);

            if (n < 0) {
                sd_needs_reset(dev, irqs);
                return frames;
            }
            for (int s = 0; s < n; s++) {
                if (segs[s].wr) {
                    sd_violation(dev, SIMDEV_V_BAD_CHAIN, "tx chain has a writable part");
                    sd_needs_reset(dev, irqs);
                    return frames;
                }
                total += segs[s].len;
            }
            q->last_avail++;
            if (total < hdr_len || total - hdr_len > SD_MAX_FRAME) {
                sd_violation(dev, SIMDEV_V_BUF_TOO_SMALL, "tx chain of %zu bytes", total);
            } else {
                struct virtio_net_hdr th;
                uint8_t *thp = (uint8_t *)&th;

                memset(&th, 0, sizeof(th));
                for (int s = 0; s < n; s++) {
                    for (uint32_t k = 0; k < segs[s].len; k++, pos++) {
                        if (pos >= hdr_len)
                            dev->txbuf[pos - hdr_len] = segs[s].p[k];
                        else
                            thp[pos] = segs[s].p[k];
                    }
                }
                sd_tx_check_hdr(dev, &th, total - hdr_len);
                sd_tx_record(dev, &th, dev->txbuf, total - hdr_len);
            }
            sd_push_used(dev, SD_TXQ, &r, head, 0, 0, true);
            frames++;
        }
    }
done:
    sd_maybe_irq(dev, SD_TXQ, &r, old, irqs);
    return frames;
}

int simdev_tx_complete(struct simdev *dev, unsigned max)
{
    struct sd_irqs irqs = {0};
    int n;

    pthread_mutex_lock(&dev->lock);
    dev->tx_limit = max;
    n = sd_tx_run(dev, &irqs);
    dev->tx_limit = 0;
    sd_unlock_raise(dev, &irqs);
    return n;
}

int simdev_tx_process(struct simdev *dev)
{
    struct sd_irqs irqs = {0};
    int n;

    pthread_mutex_lock(&dev->lock);
    n = sd_tx_run(dev, &irqs);
    sd_unlock_raise(dev, &irqs);
    return n;
}

int simdev_tx_pop(struct simdev *dev, void *buf, size_t cap, size_t *len)
{
    return simdev_tx_pop_hdr(dev, NULL, buf, cap, len);
}

int simdev_tx_pop_hdr(struct simdev *dev, struct virtio_net_hdr *hdr, void *buf, size_t cap,
                      size_t *len)
{
    int rc = SIMDEV_E_NOBUF;

    pthread_mutex_lock(&dev->lock);
    if (dev->kept_n > 0) {
        struct sd_kept *k = &dev->kept[dev->kept_head];

        if (hdr != NULL)
            *hdr = k->hdr;

        memcpy(buf, k->data, k->len < cap ? k->len : cap);
        if (len != NULL)
            *len = k->len;
        free(k->data);
        k->data = NULL;
        dev->kept_head = (dev->kept_head + 1) % dev->cfg.keep_tx_max;
        dev->kept_n--;
        rc = SIMDEV_OK;
    }
    pthread_mutex_unlock(&dev->lock);
    return rc;
}

/* A notification for queue qi arrived (any transport). Lock held. */
static void sd_notify(struct simdev *dev, uint32_t qi, struct sd_irqs *irqs)
{
    struct sd_ring r;

    if (qi >= SD_NQ)
        return;
    dev->st.kicks[qi]++;
    if (qi == SD_RXQ)
        dev->gen_wait_kick = false;
    if (!(dev->status & VIRTIO_STATUS_DRIVER_OK)) {
        sd_violation(dev, SIMDEV_V_EARLY_NOTIFY, "notify of queue %u before DRIVER_OK", qi);
        return;
    }
    if (!sd_queue_live(dev, qi))
        return;
    if (!sd_ring_map(dev, qi, &r)) {
        sd_needs_reset(dev, irqs);
        return;
    }
    dev->q[qi].seen_idx = VNET_READ_ONCE(r.avail->idx);
    if (qi == SD_TXQ) {
        if (dev->cfg.tx_hold) {
            /* simdev_tx_complete() decides when chains complete. */
        } else if (dev->cfg.tx_mode == SIMDEV_TX_SYNC) {
            sd_tx_run(dev, irqs);
        } else {
            dev->tx_pending = true;
            pthread_cond_signal(&dev->cond);
        }
    } else {
        pthread_cond_signal(&dev->cond); /* a generator may wait for buffers */
    }
}

/* --- status, features, queues --------------------------------------------------------- */

static void sd_reset(struct simdev *dev)
{
    dev->status = 0;
    dev->drv_features = 0;
    dev->dfsel = dev->gfsel = 0;
    dev->isr = 0;
    dev->config_vector = VIRTIO_PCI_NO_VECTOR;
    dev->qsel = 0;
    dev->halted = false;
    dev->mmio_page_size = 0;
    dev->mmio_align = VIRTIO_MMIO_V1_ALIGN;
    for (unsigned i = 0; i < SD_NQ; i++) {
        struct sd_queue *q = &dev->q[i];

        q->size = dev->cfg.transport == SIMDEV_MMIO_V1 ? 0 : q->max;
        q->enabled = false;
        q->desc = q->avail = q->used = 0;
        q->pfn = 0;
        q->vector = VIRTIO_PCI_NO_VECTOR;
        q->last_avail = q->used_idx = q->seen_idx = q->start_idx;
        q->oneshot = SIMDEV_FAULT_NONE;
    }
}

/* The driver programs queue registers: only between FEATURES_OK and DRIVER_OK (3.1.1). */
static void sd_queue_prog_check(struct simdev *dev)
{
    if (dev->status & VIRTIO_STATUS_DRIVER_OK)
        sd_violation(dev, SIMDEV_V_QUEUE_LATE, "queue %u programmed after DRIVER_OK", dev->qsel);
    else if (!dev->legacy_mode && !(dev->status & VIRTIO_STATUS_FEATURES_OK))
        sd_violation(dev, SIMDEV_V_QUEUE_EARLY, "queue %u programmed before FEATURES_OK",
                     dev->qsel);
}

static uint16_t sd_vector_accept(struct simdev *dev, uint32_t v)
{
    if (v == VIRTIO_PCI_NO_VECTOR || dev->f_msix_refused || v >= dev->cfg.msix_vectors)
        return VIRTIO_PCI_NO_VECTOR;
    return (uint16_t)v;
}

static void sd_queue_enable(struct simdev *dev, struct sd_queue *q)
{
    unsigned qi = (unsigned)(q - dev->q);

    if (q->size == 0 || q->size > q->max || (q->size & (q->size - 1)) != 0) {
        sd_violation(dev, SIMDEV_V_QUEUE_CFG, "queue %u enabled with size %u (max %u)", qi, q->size,
                     q->max);
        return;
    }
    if ((q->desc % VIRTQ_DESC_ALIGN) != 0 || (q->avail % VIRTQ_AVAIL_ALIGN) != 0 ||
        (q->used % VIRTQ_USED_ALIGN) != 0)
        sd_violation(dev, SIMDEV_V_QUEUE_CFG, "queue %u rings misaligned", qi);
    if (osal_posix_dma_ptr(q->desc, virtq_desc_bytes(q->size)) == NULL ||
        osal_posix_dma_ptr(q->avail, virtq_avail_bytes(q->size)) == NULL ||
        osal_posix_dma_ptr(q->used, virtq_used_bytes(q->size)) == NULL)
        sd_violation(dev, SIMDEV_V_BAD_DMA, "queue %u ring address not DMA memory", qi);
    q->enabled = true;
    q->last_avail = q->used_idx = q->seen_idx = q->start_idx;
}

/* Legacy interfaces: one area at pfn * page, used ring at the given alignment (2.7.2). */
static void sd_queue_legacy_pfn(struct simdev *dev, struct sd_queue *q, uint32_t pfn, uint32_t page,
                                uint32_t align)
{
    sd_queue_prog_check(dev);
    q->pfn = pfn;
    if (pfn == 0) {
        q->enabled = false;
        return;
    }
    if (align == 0 || (align & (align - 1)) != 0) {
        sd_violation(dev, SIMDEV_V_QUEUE_CFG, "legacy queue alignment %u", align);
        return;
    }
    q->desc = (uint64_t)pfn * page;
    q->avail = q->desc + virtq_desc_bytes(q->size);
    q->used = (q->avail + virtq_avail_bytes(q->size) + align - 1) & ~(uint64_t)(align - 1);
    sd_queue_enable(dev, q);
}

static void sd_set_status(struct simdev *dev, uint8_t val, bool legacy_if, struct sd_irqs *irqs)
{
    uint8_t old = dev->status, add;

    (void)irqs;
    if (val == 0) {
        if (dev->f_reset_refused)
            return;
        sd_reset(dev);
        dev->st.resets++;
        return;
    }
    if (old == 0)
        dev->legacy_mode = legacy_if; /* transitional: the interface in use decides */
    if ((old & ~val) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET & ~VIRTIO_STATUS_FEATURES_OK)
        sd_violation(dev, SIMDEV_V_STATUS_ORDER, "status 0x%02x -> 0x%02x drops bits", old, val);
    add = (uint8_t)(val & ~old);
    if ((add & VIRTIO_STATUS_DRIVER) && !(val & VIRTIO_STATUS_ACKNOWLEDGE))
        sd_violation(dev, SIMDEV_V_STATUS_ORDER, "DRIVER without ACKNOWLEDGE");
    if ((add & VIRTIO_STATUS_FEATURES_OK) && !(val & VIRTIO_STATUS_DRIVER))
        sd_violation(dev, SIMDEV_V_STATUS_ORDER, "FEATURES_OK without DRIVER");
    if ((add & VIRTIO_STATUS_DRIVER_OK) &&
        (!(val & VIRTIO_STATUS_DRIVER) || !(val & VIRTIO_STATUS_ACKNOWLEDGE) ||
         (!dev->legacy_mode && !(val & VIRTIO_STATUS_FEATURES_OK))))
        sd_violation(dev, SIMDEV_V_STATUS_ORDER, "DRIVER_OK in status 0x%02x", val);

    if (add & VIRTIO_STATUS_FEATURES_OK) {
        bool refuse = dev->f_fok_cleared;

        if (dev->drv_features & ~dev->dev_features) {
            sd_violation(dev, SIMDEV_V_FEATURES_NOT_SUBSET, "driver features 0x%llx not offered",
                         (unsigned long long)(dev->drv_features & ~dev->dev_features));
            refuse = true;
        }
        if (!dev->legacy_mode && !(dev->drv_features & SIMDEV_F_VERSION_1)) {
            sd_violation(dev, SIMDEV_V_NO_VERSION_1, "modern interface without VERSION_1");
            refuse = true;
        }
        if (refuse)
            val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    }
    if (add & VIRTIO_STATUS_DRIVER_OK) {
        if (dev->legacy_mode && (dev->drv_features & ~dev->dev_features))
            sd_violation(dev, SIMDEV_V_FEATURES_NOT_SUBSET, "legacy driver features 0x%llx",
                         (unsigned long long)(dev->drv_features & ~dev->dev_features));
        /* Buffers posted before DRIVER_OK need no kick (3.1.1 forbids one): the device
         * looks at the rings when it starts. */
        for (unsigned i = 0; i < SD_NQ; i++) {
            struct sd_ring r;

            if (dev->q[i].enabled && sd_ring_map(dev, i, &r)) {
                dev->q[i].seen_idx = VNET_READ_ONCE(r.avail->idx);
                /* Ask for a kick at our starting point (zeroed memory says 0, which is
                 * wrong when the indices do not start at 0). */
                if (val & VIRTIO_STATUS_FEATURES_OK || dev->legacy_mode)
                    sd_arm_kick(dev, i, &r);
            }
        }
    }
    dev->status = (uint8_t)(val | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}

static void sd_write_features(struct simdev *dev, unsigned sel, uint32_t val)
{
    if (dev->status & VIRTIO_STATUS_FEATURES_OK) {
        sd_violation(dev, SIMDEV_V_FEATURES_LATE, "features written after FEATURES_OK");
        return;
    }
    if (sel == 0)
        dev->drv_features = (dev->drv_features & 0xFFFFFFFF00000000ull) | val;
    else if (sel == 1)
        dev->drv_features = (dev->drv_features & 0xFFFFFFFFull) | ((uint64_t)val << 32);
}

static uint32_t sd_read_features(const struct simdev *dev, unsigned sel)
{
    if (sel == 0)
        return (uint32_t)dev->dev_features;
    if (sel == 1)
        return (uint32_t)(dev->dev_features >> 32);
    return 0;
}

/* Width of the virtio-net config field at `off` (5.1.4: mac[6] bytes, status, pairs,
 * mtu as le16, speed as le32, duplex byte). */
static uint8_t sd_netcfg_field_width(uint32_t off)
{
    if (off < 6)
        return 1;
    if (off < 12)
        return 2;
    if (off < 16)
        return 4;
    return 1;
}

static uint32_t sd_netcfg_read(struct simdev *dev, uint32_t off, uint8_t width)
{
    uint32_t v = 0;

    if (off + width > SD_NET_CFG_LEN) {
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "device config read beyond its %u bytes",
                     SD_NET_CFG_LEN);
        return 0;
    }
    /* 4.1.3.1 / 4.2.2.2: a field is accessed with its own width; an access wider than the
     * field (e.g. one 32-bit read over mac[0..3]) is a driver error. Narrower, aligned
     * reads (legacy byte-wise config reads) are tolerated. */
    if (width > sd_netcfg_field_width(off) || (off & (width - 1u)) != 0)
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "device config read of %u bytes at %u spans fields",
                     (unsigned)width, (unsigned)off);
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)dev->netcfg[off + i] << (8 * i);
    return v;
}

static uint8_t sd_cfg_generation(struct simdev *dev)
{
    if (dev->f_gen_unstable)
        dev->cfg_gen++;
    return dev->cfg_gen;
}

/* --- PCI modern registers (BAR 4) ----------------------------------------------------- */

static uint8_t sd_common_width(uint32_t off)
{
    if (off < VIRTIO_PCI_COMMON_MSIX)
        return 4;
    if (off < VIRTIO_PCI_COMMON_STATUS)
        return 2;
    if (off < VIRTIO_PCI_COMMON_Q_SELECT)
        return 1;
    if (off < VIRTIO_PCI_COMMON_Q_DESCLO)
        return 2;
    return 4;
}

static struct sd_queue *sd_selq(struct simdev *dev)
{
    return dev->qsel < SD_NQ ? &dev->q[dev->qsel] : NULL;
}

static uint32_t sd_common_read(struct simdev *dev, uint32_t off, uint8_t width)
{
    struct sd_queue *q = sd_selq(dev);

    if (off >= VIRTIO_PCI_COMMON_CFG_SIZE || (off & (width - 1u)) != 0 ||
        width != sd_common_width(off)) {
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "common cfg read off 0x%x width %u", off, width);
        return 0;
    }
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        return dev->dfsel;
    case VIRTIO_PCI_COMMON_DF:
        return sd_read_features(dev, dev->dfsel);
    case VIRTIO_PCI_COMMON_GFSELECT:
        return dev->gfsel;
    case VIRTIO_PCI_COMMON_GF:
        return dev->gfsel == 0   ? (uint32_t)dev->drv_features
               : dev->gfsel == 1 ? (uint32_t)(dev->drv_features >> 32)
                                 : 0;
    case VIRTIO_PCI_COMMON_MSIX:
        return dev->config_vector;
    case VIRTIO_PCI_COMMON_NUMQ:
        return SD_NQ;
    case VIRTIO_PCI_COMMON_STATUS:
        return dev->status;
    case VIRTIO_PCI_COMMON_CFGGEN:
        return sd_cfg_generation(dev);
    case VIRTIO_PCI_COMMON_Q_SELECT:
        return dev->qsel;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        return q != NULL ? q->size : 0;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        return q != NULL ? q->vector : VIRTIO_PCI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        return q != NULL && q->enabled;
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return dev->qsel; /* notify address = notify base + qsel * multiplier */
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        return q != NULL ? (uint32_t)q->desc : 0;
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        return q != NULL ? (uint32_t)(q->desc >> 32) : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        return q != NULL ? (uint32_t)q->avail : 0;
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        return q != NULL ? (uint32_t)(q->avail >> 32) : 0;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        return q != NULL ? (uint32_t)q->used : 0;
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        return q != NULL ? (uint32_t)(q->used >> 32) : 0;
    default:
        return 0;
    }
}

static void sd_set_lo(uint64_t *p, uint32_t v)
{
    *p = (*p & 0xFFFFFFFF00000000ull) | v;
}

static void sd_set_hi(uint64_t *p, uint32_t v)
{
    *p = (*p & 0xFFFFFFFFull) | ((uint64_t)v << 32);
}

static void sd_common_write(struct simdev *dev, uint32_t off, uint8_t width, uint32_t val,
                            struct sd_irqs *irqs)
{
    struct sd_queue *q = sd_selq(dev);

    if (off >= VIRTIO_PCI_COMMON_CFG_SIZE || (off & (width - 1u)) != 0 ||
        width != sd_common_width(off)) {
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "common cfg write off 0x%x width %u", off, width);
        return;
    }
    if (off >= VIRTIO_PCI_COMMON_Q_SIZE && off != VIRTIO_PCI_COMMON_Q_NOFF) {
        if (q == NULL)
            return; /* writes to a non-existent queue are ignored */
        sd_queue_prog_check(dev);
    }
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT:
        dev->dfsel = val;
        break;
    case VIRTIO_PCI_COMMON_GFSELECT:
        dev->gfsel = val;
        break;
    case VIRTIO_PCI_COMMON_GF:
        sd_write_features(dev, dev->gfsel, val);
        break;
    case VIRTIO_PCI_COMMON_MSIX:
        dev->config_vector = sd_vector_accept(dev, val);
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        sd_set_status(dev, (uint8_t)val, false, irqs);
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT:
        dev->qsel = (uint16_t)val;
        break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (val == 0 || val > q->max || (val & (val - 1)) != 0)
            sd_violation(dev, SIMDEV_V_QUEUE_CFG, "queue size %u (max %u)", val, q->max);
        q->size = (uint16_t)val;
        break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        q->vector = sd_vector_accept(dev, val);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (val != 1)
            sd_violation(dev, SIMDEV_V_QUEUE_CFG, "queue_enable written with %u (4.1.4.3.2)", val);
        else
            sd_queue_enable(dev, q);
        break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
        sd_set_lo(&q->desc, val);
        break;
    case VIRTIO_PCI_COMMON_Q_DESCHI:
        sd_set_hi(&q->desc, val);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
        sd_set_lo(&q->avail, val);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
        sd_set_hi(&q->avail, val);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDLO:
        sd_set_lo(&q->used, val);
        break;
    case VIRTIO_PCI_COMMON_Q_USEDHI:
        sd_set_hi(&q->used, val);
        break;
    default:
        break; /* read-only fields */
    }
}

/* --- PCI legacy registers (I/O BAR 0) ------------------------------------------------ */

static uint32_t sd_legacy_cfg_base(const struct simdev *dev)
{
    return sd_msix_enabled(dev) ? VIRTIO_PCI_LEG_CONFIG_MSIX : VIRTIO_PCI_LEG_CONFIG_NOMSIX;
}

static uint32_t sd_legacy_read(struct simdev *dev, uint32_t off, uint8_t width)
{
    struct sd_queue *q = sd_selq(dev);
    uint32_t cb = sd_legacy_cfg_base(dev);

    if (off >= cb)
        return sd_netcfg_read(dev, off - cb, width);
    switch (off) {
    case VIRTIO_PCI_LEG_HOST_FEATURES:
        return (uint32_t)dev->dev_features;
    case VIRTIO_PCI_LEG_GUEST_FEATURES:
        return (uint32_t)dev->drv_features;
    case VIRTIO_PCI_LEG_QUEUE_PFN:
        return q != NULL ? q->pfn : 0;
    case VIRTIO_PCI_LEG_QUEUE_NUM:
        return q != NULL ? q->max : 0;
    case VIRTIO_PCI_LEG_QUEUE_SEL:
        return dev->qsel;
    case VIRTIO_PCI_LEG_STATUS:
        return dev->status;
    case VIRTIO_PCI_LEG_ISR: {
        uint8_t v = dev->isr;

        dev->isr = 0; /* reading acknowledges (4.1.4.5) */
        dev->st.isr_reads++;
        return v;
    }
    case VIRTIO_PCI_LEG_CONFIG_VECTOR:
        return dev->config_vector;
    case VIRTIO_PCI_LEG_QUEUE_VECTOR:
        return q != NULL ? q->vector : VIRTIO_PCI_NO_VECTOR;
    default:
        return 0;
    }
}

static void sd_legacy_write(struct simdev *dev, uint32_t off, uint8_t width, uint32_t val,
                            struct sd_irqs *irqs)
{
    struct sd_queue *q = sd_selq(dev);
    uint32_t cb = sd_legacy_cfg_base(dev);

    (void)width;
    if (off >= cb)
        return; /* virtio-net config is read-only for us */
    switch (off) {
    case VIRTIO_PCI_LEG_GUEST_FEATURES:
        dev->drv_features = val;
        break;
    case VIRTIO_PCI_LEG_QUEUE_PFN:
        if (q != NULL) {
            q->size = q->max; /* fixed size in the legacy PCI interface */
            sd_queue_legacy_pfn(dev, q, val, 1u << VIRTIO_PCI_LEG_PFN_SHIFT, VIRTIO_PCI_LEG_ALIGN);
        }
        break;
    case VIRTIO_PCI_LEG_QUEUE_SEL:
        dev->qsel = (uint16_t)val;
        break;
    case VIRTIO_PCI_LEG_QUEUE_NOTIFY:
        sd_notify(dev, val, irqs);
        break;
    case VIRTIO_PCI_LEG_STATUS:
        sd_set_status(dev, (uint8_t)val, true, irqs);
        break;
    case VIRTIO_PCI_LEG_CONFIG_VECTOR:
        if (sd_msix_enabled(dev))
            dev->config_vector = sd_vector_accept(dev, val);
        break;
    case VIRTIO_PCI_LEG_QUEUE_VECTOR:
        if (sd_msix_enabled(dev) && q != NULL)
            q->vector = sd_vector_accept(dev, val);
        break;
    default:
        break;
    }
}

/* --- PCI bus interface ----------------------------------------------------------------- */

static uint32_t sd_pci_cfg_read(void *ctx, uint16_t off, uint8_t width)
{
    struct simdev *dev = ctx;
    uint32_t v = 0;

    if (width != 1 && width != 2 && width != 4)
        return 0xFFFFFFFFu;
    if ((uint32_t)off + width > PCI_CFG_SPACE_SIZE)
        return width == 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1u;
    pthread_mutex_lock(&dev->lock);
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)dev->pcfg[off + i] << (8 * i);
    pthread_mutex_unlock(&dev->lock);
    return v;
}

static void sd_cfg_store(struct simdev *dev, uint16_t off, uint8_t width, uint32_t val)
{
    for (unsigned i = 0; i < width && off + i < PCI_CFG_SPACE_SIZE; i++)
        dev->pcfg[off + i] = (uint8_t)(val >> (8 * i));
}

static void sd_pci_cfg_write(void *ctx, uint16_t off, uint8_t width, uint32_t val)
{
    struct simdev *dev = ctx;

    pthread_mutex_lock(&dev->lock);
    if (off == PCI_CFG_COMMAND && width >= 2) {
        sd_cfg_store(dev, off, 2, val & 0x0007u); /* IO, MEM, bus master */
    } else if (off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 24 && width == 4 && (off & 3) == 0) {
        unsigned bar = (off - PCI_CFG_BAR0) / 4u;
        uint32_t size = dev->bar_size[bar], cur = dev->bar_reg[bar], nv;

        if (size == 0) {
            nv = bar == 5 && dev->has_modern ? val : 0; /* upper half of the 64-bit BAR4 */
        } else if (cur & PCI_BAR_IO) {
            nv = (val & ~(size - 1u) & PCI_BAR_IO_MASK) | (cur & ~PCI_BAR_IO_MASK);
        } else {
            nv = (val & ~(size - 1u) & PCI_BAR_MEM_MASK) | (cur & ~PCI_BAR_MEM_MASK);
        }
        dev->bar_reg[bar] = nv;
        sd_cfg_store(dev, off, 4, nv);
    } else if (off == SD_CAP_MSIX + PCI_MSIX_CTRL && width == 2) {
        uint16_t ctrl;

        memcpy(&ctrl, &dev->pcfg[off], 2);
        ctrl = (uint16_t)((ctrl & ~(PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL)) |
                          (val & (PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL)));
        sd_cfg_store(dev, off, 2, ctrl);
    }
    pthread_mutex_unlock(&dev->lock);
}

static uint32_t sd_pci_bar_read(void *ctx, uint8_t bar, uint32_t off, uint8_t width)
{
    struct simdev *dev = ctx;
    uint32_t v = 0;

    pthread_mutex_lock(&dev->lock);
    if (bar == 0 && dev->has_legacy && off + width <= SD_BAR0_SIZE) {
        v = sd_legacy_read(dev, off, width);
    } else if (bar == SD_MODERN_BAR && dev->has_modern) {
        if (off < SD_COMMON_OFF + VIRTIO_PCI_COMMON_CFG_SIZE) {
            v = sd_common_read(dev, off - SD_COMMON_OFF, width);
        } else if (off == SD_ISR_OFF && width == 1) {
            v = dev->isr;
            dev->isr = 0; /* reading acknowledges (4.1.4.5) */
            dev->st.isr_reads++;
        } else if (off >= SD_DEVCFG_OFF && off < SD_DEVCFG_OFF + SD_NET_CFG_LEN) {
            v = sd_netcfg_read(dev, off - SD_DEVCFG_OFF, width);
        } else {
            sd_violation(dev, SIMDEV_V_BAD_ACCESS, "BAR4 read off 0x%x width %u", off, width);
        }
    } else {
        v = 0xFFFFFFFFu;
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "read of BAR %u off 0x%x", bar, off);
    }
    pthread_mutex_unlock(&dev->lock);
    return v;
}

static void sd_pci_bar_write(void *ctx, uint8_t bar, uint32_t off, uint8_t width, uint32_t val)
{
    struct simdev *dev = ctx;
    struct sd_irqs irqs = {0};

    pthread_mutex_lock(&dev->lock);
    if (bar == 0 && dev->has_legacy && off + width <= SD_BAR0_SIZE) {
        sd_legacy_write(dev, off, width, val, &irqs);
    } else if (bar == SD_MODERN_BAR && dev->has_modern) {
        if (off < SD_COMMON_OFF + VIRTIO_PCI_COMMON_CFG_SIZE) {
            sd_common_write(dev, off - SD_COMMON_OFF, width, val, &irqs);
        } else if (off >= SD_NOTIFY_OFF && off < SD_NOTIFY_OFF + SD_NOTIFY_LEN) {
            uint32_t qi = (off - SD_NOTIFY_OFF) / SD_NOTIFY_MULT;

            if (width != 2 || val != qi)
                sd_violation(dev, SIMDEV_V_BAD_ACCESS,
                             "notify at off 0x%x width %u value %u (queue %u)", off, width, val,
                             qi);
            sd_notify(dev, qi, &irqs);
        } else {
            sd_violation(dev, SIMDEV_V_BAD_ACCESS, "BAR4 write off 0x%x width %u", off, width);
        }
    } else {
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "write of BAR %u off 0x%x", bar, off);
    }
    sd_unlock_raise(dev, &irqs);
}

/* --- MMIO bus interface ---------------------------------------------------------------- */

static uint32_t sd_mmio_read(void *ctx, uint32_t off, uint8_t width)
{
    struct simdev *dev = ctx;
    bool v1 = dev->cfg.transport == SIMDEV_MMIO_V1;
    struct sd_queue *q;
    uint32_t v = 0;

    pthread_mutex_lock(&dev->lock);
    q = sd_selq(dev);
    if (off >= VIRTIO_MMIO_CONFIG) {
        v = sd_netcfg_read(dev, off - VIRTIO_MMIO_CONFIG, width);
        goto out;
    }
    if (width != 4 || (off & 3) != 0) {
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "MMIO register 0x%x read with width %u", off, width);
        goto out;
    }
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        v = VIRTIO_MMIO_MAGIC;
        break;
    case VIRTIO_MMIO_VERSION:
        v = v1 ? 1 : 2;
        break;
    case VIRTIO_MMIO_DEVICE_ID:
        v = 1; /* network card */
        break;
    case VIRTIO_MMIO_VENDOR_ID:
        v = 0x554D4551u; /* "QEMU" */
        break;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        v = sd_read_features(dev, dev->dfsel);
        break;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        v = q != NULL ? q->max : 0;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        v = !v1 && q != NULL && q->enabled;
        break;
    case VIRTIO_MMIO_QUEUE_PFN:
        v = v1 && q != NULL ? q->pfn : 0;
        break;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        v = dev->isr;
        break;
    case VIRTIO_MMIO_STATUS:
        v = dev->status;
        break;
    case VIRTIO_MMIO_CONFIG_GENERATION:
        v = v1 ? 0 : sd_cfg_generation(dev);
        break;
    default:
        break;
    }
out:
    pthread_mutex_unlock(&dev->lock);
    return v;
}

static void sd_mmio_write(void *ctx, uint32_t off, uint8_t width, uint32_t val)
{
    struct simdev *dev = ctx;
    bool v1 = dev->cfg.transport == SIMDEV_MMIO_V1;
    struct sd_irqs irqs = {0};
    struct sd_queue *q;

    pthread_mutex_lock(&dev->lock);
    q = sd_selq(dev);
    if (width != 4 || (off & 3) != 0 || off >= VIRTIO_MMIO_CONFIG) {
        sd_violation(dev, SIMDEV_V_BAD_ACCESS, "MMIO write 0x%x width %u", off, width);
        goto out;
    }
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        dev->dfsel = val;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        sd_write_features(dev, dev->gfsel, val);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        dev->gfsel = val;
        break;
    case VIRTIO_MMIO_GUEST_PAGE_SIZE:
        if (v1)
            dev->mmio_page_size = val;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        dev->qsel = (uint16_t)val;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (q != NULL) {
            sd_queue_prog_check(dev);
            if (val == 0 || val > q->max || (val & (val - 1)) != 0)
                sd_violation(dev, SIMDEV_V_QUEUE_CFG, "QueueNum %u (max %u)", val, q->max);
            q->size = (uint16_t)val;
        }
        break;
    case VIRTIO_MMIO_QUEUE_ALIGN:
        if (v1)
            dev->mmio_align = val;
        break;
    case VIRTIO_MMIO_QUEUE_PFN:
        if (v1 && q != NULL) {
            if (dev->mmio_page_size == 0 || (dev->mmio_page_size & (dev->mmio_page_size - 1)))
                sd_violation(dev, SIMDEV_V_QUEUE_CFG, "QueuePFN before a valid GuestPageSize");
            else
                sd_queue_legacy_pfn(dev, q, val, dev->mmio_page_size, dev->mmio_align);
        }
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (!v1 && q != NULL) {
            sd_queue_prog_check(dev);
            if (val == 1)
                sd_queue_enable(dev, q);
            else
                q->enabled = false;
        }
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        sd_notify(dev, val, &irqs);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        dev->isr &= (uint8_t)~val;
        dev->st.isr_reads++;
        break;
    case VIRTIO_MMIO_STATUS:
        sd_set_status(dev, (uint8_t)val, v1, &irqs);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if (!v1 && q != NULL) {
            uint64_t *p = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW   ? &q->desc
                          : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->avail
                                                               : &q->used;
            sd_queue_prog_check(dev);
            if (off & 4)
                sd_set_hi(p, val);
            else
                sd_set_lo(p, val);
        }
        break;
    default:
        break;
    }
out:
    sd_unlock_raise(dev, &irqs);
}

/* --- device thread: RX generator and deferred TX --------------------------------------- */

static uint32_t sd_rand(struct simdev *dev)
{
    uint32_t x = dev->gen_rng;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    dev->gen_rng = x;
    return x;
}

static void sd_gen_finish(struct simdev *dev)
{
    dev->gen_active = false;
    pthread_cond_broadcast(&dev->cond);
}

/* wait_for_buffers: no frame delivered for stall_ms (the generator then gives up). */
static bool sd_gen_stalled(const struct simdev *dev, uint64_t now)
{
    return now - dev->gen_progress_ns > (uint64_t)dev->gen.stall_ms * 1000000u;
}

/*
 * Deliver up to one batch of generator frames (lock held). Returns the time in ns the
 * thread may sleep before the next step (0: call again at once).
 */
static uint64_t sd_gen_step(struct simdev *dev, uint8_t *frame, struct sd_irqs *irqs)
{
    const struct simdev_rx_gen *g = &dev->gen;
    uint64_t now = sd_now_ns();
    struct sd_ring r;
    uint16_t old;
    unsigned batch = g->batch != 0 ? g->batch : 1;

    if (dev->gen_sent_or_dropped >= g->count) {
        sd_gen_finish(dev);
        return 1000000;
    }
    if (g->wait_for_buffers && g->kick_only && dev->gen_wait_kick) {
        if (sd_gen_stalled(dev, now))
            sd_gen_finish(dev);
        return 1000000;
    }
    if (g->pps != 0) {
        uint64_t due = (now - dev->gen_start_ns) * g->pps / 1000000000u + 1;

        if (dev->gen_sent_or_dropped >= due)
            return 1000000000u / g->pps;
        if (due - dev->gen_sent_or_dropped < batch)
            batch = (unsigned)(due - dev->gen_sent_or_dropped);
    }
    if (!sd_queue_live(dev, SD_RXQ) || !sd_ring_map(dev, SD_RXQ, &r)) {
        if (g->wait_for_buffers) {
            dev->gen_wait_kick = g->kick_only;
            if (sd_gen_stalled(dev, now))
                sd_gen_finish(dev);
            return 1000000;
        }
        dev->st.rx_no_buffer++;
        dev->gen_sent_or_dropped++;
        dev->gen_seq++;
        return 0;
    }
    old = dev->q[SD_RXQ].used_idx;
    for (unsigned b = 0; b < batch && dev->gen_sent_or_dropped < g->count; b++) {
        size_t len = g->min_len;
        int rc;

        if (g->max_len > g->min_len)
            len += sd_rand(dev) % (unsigned)(g->max_len - g->min_len + 1);
        simdev_frame_build(frame, len, (uint32_t)dev->gen_seq, g->dst_mac);
        rc = sd_rx_one(dev, &r, frame, len, NULL, irqs);
        if (rc == SIMDEV_OK) {
            dev->gen_seq++;
            dev->gen_sent_or_dropped++;
            dev->st.rx_gen_sent++;
            dev->gen_progress_ns = now;
            continue;
        }
        if (dev->halted)
            break;
        if (g->wait_for_buffers) {
            /* Undo the no-buffer count: this frame is retried, not lost. */
            if (rc == SIMDEV_E_NOBUF) {
                dev->st.rx_no_buffer--;
                dev->gen_wait_kick = g->kick_only;
            }
            if (sd_gen_stalled(dev, now))
                sd_gen_finish(dev);
            if (!dev->halted)
                sd_maybe_irq(dev, SD_RXQ, &r, old, irqs);
            return 200000; /* a kick wakes us earlier */
        }
        dev->gen_seq++;
        dev->gen_sent_or_dropped++;
    }
    if (!dev->halted)
        sd_maybe_irq(dev, SD_RXQ, &r, old, irqs);
    return 0;
}

static void *sd_thread(void *arg)
{
    struct simdev *dev = arg;
    uint8_t *frame = malloc(SD_MAX_FRAME);

    pthread_mutex_lock(&dev->lock);
    while (!dev->stop && frame != NULL) {
        struct sd_irqs irqs = {0};
        uint64_t sleep_ns = 1000000;

        if (dev->tx_pending) {
            dev->tx_pending = false;
            if (!dev->cfg.tx_hold) /* held: only simdev_tx_complete() completes TX */
                sd_tx_run(dev, &irqs);
            sleep_ns = 0;
        }
        if (dev->gen_active) {
            uint64_t s = sd_gen_step(dev, frame, &irqs);

            if (s < sleep_ns)
                sleep_ns = s;
        }
        if (irqs.mask != 0) {
            sd_unlock_raise(dev, &irqs);
            pthread_mutex_lock(&dev->lock);
            continue;
        }
        if (sleep_ns != 0) {
            struct timespec ts;

            if (sleep_ns > 1000000)
                sleep_ns = 1000000;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += (long)sleep_ns;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&dev->cond, &dev->lock, &ts);
        }
    }
    pthread_mutex_unlock(&dev->lock);
    free(frame);
    return NULL;
}

int simdev_rx_gen_start(struct simdev *dev, const struct simdev_rx_gen *gen)
{
    static const uint8_t zero[6];

    if (dev == NULL || gen == NULL)
        return SIMDEV_E_INVAL;
    pthread_mutex_lock(&dev->lock);
    dev->gen = *gen;
    if (dev->gen.min_len == 0 && dev->gen.max_len == 0) {
        dev->gen.min_len = 60;
        dev->gen.max_len = 1514;
    }
    if (dev->gen.min_len < SIMDEV_FRAME_MIN || dev->gen.max_len < dev->gen.min_len) {
        pthread_mutex_unlock(&dev->lock);
        return SIMDEV_E_INVAL;
    }
    if (dev->gen.stall_ms == 0)
        dev->gen.stall_ms = 2000;
    if (memcmp(dev->gen.dst_mac, zero, 6) == 0)
        memcpy(dev->gen.dst_mac, dev->cfg.mac, 6);
    dev->gen_seq = 0;
    dev->gen_sent_or_dropped = 0;
    dev->gen_start_ns = dev->gen_progress_ns = sd_now_ns();
    dev->gen_wait_kick = false;
    dev->gen_active = true;
    pthread_cond_broadcast(&dev->cond);
    pthread_mutex_unlock(&dev->lock);
    return SIMDEV_OK;
}

int simdev_rx_gen_wait(struct simdev *dev, uint32_t timeout_ms)
{
    struct timespec ts;
    int rc = SIMDEV_OK;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000u;
    ts.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&dev->lock);
    while (dev->gen_active && rc == SIMDEV_OK)
        if (pthread_cond_timedwait(&dev->cond, &dev->lock, &ts) == ETIMEDOUT)
            rc = SIMDEV_E_TIMEOUT;
    if (rc == SIMDEV_OK && dev->gen_sent_or_dropped < dev->gen.count)
        rc = SIMDEV_E_TIMEOUT; /* stalled: waited for buffers that never came */
    pthread_mutex_unlock(&dev->lock);
    return rc;
}

void simdev_rx_gen_stop(struct simdev *dev)
{
    pthread_mutex_lock(&dev->lock);
    dev->gen_active = false;
    pthread_cond_broadcast(&dev->cond);
    pthread_mutex_unlock(&dev->lock);
}

/* --- creation ------------------------------------------------------------------------- */

static void sd_cap(struct simdev *dev, uint8_t at, uint8_t next, uint8_t type, uint32_t off,
                   uint32_t len, uint8_t cap_len)
{
    dev->pcfg[at] = PCI_CAP_ID_VENDOR;
    dev->pcfg[at + 1] = next;
    dev->pcfg[at + 2] = cap_len;
    dev->pcfg[at + 3] = type;
    dev->pcfg[at + 4] = SD_MODERN_BAR;
    sd_cfg_store(dev, at + 8, 4, off);
    sd_cfg_store(dev, at + 12, 4, len);
}

static void sd_build_pci(struct simdev *dev)
{
    bool modern_only = dev->cfg.transport == SIMDEV_PCI_MODERN;

    sd_cfg_store(dev, PCI_CFG_VENDOR_ID, 2, VIRTIO_PCI_VENDOR);
    sd_cfg_store(dev, PCI_CFG_DEVICE_ID, 2,
                 modern_only ? VIRTIO_PCI_DEVICE_MODERN_BASE + 1u : VIRTIO_PCI_DEVICE_TRANS_MIN);
    sd_cfg_store(dev, PCI_CFG_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    sd_cfg_store(dev, PCI_CFG_STATUS, 2, PCI_STATUS_CAP_LIST);
    dev->pcfg[PCI_CFG_REVISION] = modern_only ? 1 : 0;
    dev->pcfg[0x0B] = 0x02; /* class: network controller */
    sd_cfg_store(dev, PCI_CFG_SUBSYS_VENDOR, 2, VIRTIO_PCI_VENDOR);
    sd_cfg_store(dev, PCI_CFG_SUBSYS_ID, 2, 1); /* transitional: virtio device type */
    dev->pcfg[PCI_CFG_CAP_PTR] = SD_CAP_MSIX;

    if (dev->has_legacy) {
        dev->bar_size[0] = SD_BAR0_SIZE;
        dev->bar_reg[0] = 0xC000u | PCI_BAR_IO;
    }
    dev->bar_size[1] = SD_BAR1_SIZE;
    dev->bar_reg[1] = 0xFEB00000u;
    if (dev->has_modern) {
        dev->bar_size[4] = SD_BAR4_SIZE;
        dev->bar_reg[4] = 0xFE000000u | PCI_BAR_MEM_TYPE_64;
        dev->bar_reg[5] = 0;
    }
    for (unsigned b = 0; b < 6; b++)
        sd_cfg_store(dev, (uint16_t)(PCI_CFG_BAR0 + 4 * b), 4, dev->bar_reg[b]);

    /* MSI-X: table and PBA in BAR 1 (the "board", i.e. this config, enables it). */
    dev->pcfg[SD_CAP_MSIX] = PCI_CAP_ID_MSIX;
    dev->pcfg[SD_CAP_MSIX + 1] = dev->has_modern ? SD_CAP_COMMON : 0;
    sd_cfg_store(dev, SD_CAP_MSIX + PCI_MSIX_CTRL, 2,
                 (uint32_t)(dev->cfg.msix_vectors - 1u) |
                     (dev->cfg.irq_mode == SIMDEV_IRQ_MSIX ? PCI_MSIX_CTRL_ENABLE : 0));
    sd_cfg_store(dev, SD_CAP_MSIX + PCI_MSIX_TABLE, 4, 1u);
    sd_cfg_store(dev, SD_CAP_MSIX + PCI_MSIX_PBA, 4, 0x800u | 1u);

    if (dev->has_modern) {
        sd_cap(dev, SD_CAP_COMMON, SD_CAP_ISR, VIRTIO_PCI_CAP_COMMON_CFG, SD_COMMON_OFF,
               VIRTIO_PCI_COMMON_CFG_SIZE, 16);
        sd_cap(dev, SD_CAP_ISR, SD_CAP_DEVCFG, VIRTIO_PCI_CAP_ISR_CFG, SD_ISR_OFF, 4, 16);
        sd_cap(dev, SD_CAP_DEVCFG, SD_CAP_NOTIFY, VIRTIO_PCI_CAP_DEVICE_CFG, SD_DEVCFG_OFF,
               SD_NET_CFG_LEN, 16);
        sd_cap(dev, SD_CAP_NOTIFY, 0, VIRTIO_PCI_CAP_NOTIFY_CFG, SD_NOTIFY_OFF, SD_NOTIFY_LEN, 20);
        sd_cfg_store(dev, SD_CAP_NOTIFY + 16, 4, SD_NOTIFY_MULT);
    }
}

static void sd_netcfg_link(struct simdev *dev, bool up)
{
    dev->netcfg[6] = up ? SD_LINK_UP : 0;
    dev->netcfg[7] = 0;
}

int simdev_create(struct simdev **out, const struct simdev_config *cfg)
{
    static const uint8_t zero[6];
    static const uint8_t defmac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    struct simdev *dev;
    pthread_condattr_t ca;

    if (out == NULL || cfg == NULL || cfg->transport > SIMDEV_MMIO_V1)
        return SIMDEV_E_INVAL;
    dev = calloc(1, sizeof(*dev));
    if (dev == NULL)
        return SIMDEV_E_NOMEM;
    dev->cfg = *cfg;
    if (dev->cfg.msix_vectors == 0)
        dev->cfg.msix_vectors = 3;
    if (dev->cfg.rx_queue_size == 0)
        dev->cfg.rx_queue_size = 256;
    if (dev->cfg.tx_queue_size == 0)
        dev->cfg.tx_queue_size = 256;
    if (dev->cfg.keep_tx_max == 0)
        dev->cfg.keep_tx_max = 1024;
    if (dev->cfg.mtu == 0)
        dev->cfg.mtu = 1500;
    if (memcmp(dev->cfg.mac, zero, 6) == 0)
        memcpy(dev->cfg.mac, defmac, 6);
    if ((dev->cfg.rx_queue_size & (dev->cfg.rx_queue_size - 1)) != 0 ||
        (dev->cfg.tx_queue_size & (dev->cfg.tx_queue_size - 1)) != 0 ||
        dev->cfg.rx_queue_size > 32768 || dev->cfg.tx_queue_size > 32768 ||
        dev->cfg.msix_vectors > 2048 || dev->cfg.irq_base + 1u + dev->cfg.msix_vectors > 64) {
        free(dev);
        return SIMDEV_E_INVAL;
    }
    dev->is_pci = cfg->transport <= SIMDEV_PCI_LEGACY;
    dev->is_mmio = !dev->is_pci;
    dev->has_modern =
        cfg->transport == SIMDEV_PCI_MODERN || cfg->transport == SIMDEV_PCI_TRANSITIONAL;
    dev->has_legacy =
        cfg->transport == SIMDEV_PCI_TRANSITIONAL || cfg->transport == SIMDEV_PCI_LEGACY;
    dev->legacy_mode = cfg->transport == SIMDEV_PCI_LEGACY || cfg->transport == SIMDEV_MMIO_V1;
    dev->dev_features = cfg->features != 0 ? cfg->features : SIMDEV_DEFAULT_FEATURES;
    if (cfg->features == 0 && dev->legacy_mode)
        dev->dev_features &= ~SIMDEV_F_VERSION_1;

    memcpy(dev->netcfg, dev->cfg.mac, 6);
    sd_netcfg_link(dev, !cfg->link_down);
    dev->netcfg[8] = 1; /* max_virtqueue_pairs */
    dev->netcfg[10] = (uint8_t)dev->cfg.mtu;
    dev->netcfg[11] = (uint8_t)(dev->cfg.mtu >> 8);
    dev->q[SD_RXQ].max = dev->cfg.rx_queue_size;
    dev->q[SD_TXQ].max = dev->cfg.tx_queue_size;
    sd_reset(dev);
    if (dev->is_pci)
        sd_build_pci(dev);
    dev->gen_rng = 0x12345678u;

    dev->pci_bus = (struct virtio_pci_bus){.ctx = dev,
                                           .cfg_read = sd_pci_cfg_read,
                                           .cfg_write = sd_pci_cfg_write,
                                           .bar_read = sd_pci_bar_read,
                                           .bar_write = sd_pci_bar_write,
                                           .bar_map = NULL};
    dev->mmio_bus =
        (struct virtio_mmio_bus){.ctx = dev, .read = sd_mmio_read, .write = sd_mmio_write};

    dev->kept = calloc(dev->cfg.keep_tx_max, sizeof(*dev->kept));
    dev->txbuf = malloc(SD_MAX_FRAME + SD_HDR_MAX);
    if (dev->kept == NULL || dev->txbuf == NULL)
        goto fail;
    pthread_mutex_init(&dev->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&dev->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&dev->thread, NULL, sd_thread, dev) != 0) {
        pthread_cond_destroy(&dev->cond);
        pthread_mutex_destroy(&dev->lock);
        goto fail;
    }
    *out = dev;
    return SIMDEV_OK;

fail:
    free(dev->kept);
    free(dev->txbuf);
    free(dev);
    return SIMDEV_E_NOMEM;
}

void simdev_destroy(struct simdev *dev)
{
    if (dev == NULL)
        return;
    pthread_mutex_lock(&dev->lock);
    dev->stop = true;
    pthread_cond_broadcast(&dev->cond);
    pthread_mutex_unlock(&dev->lock);
    pthread_join(dev->thread, NULL);
    while (dev->kept_n > 0) {
        free(dev->kept[dev->kept_head].data);
        dev->kept_head = (dev->kept_head + 1) % dev->cfg.keep_tx_max;
        dev->kept_n--;
    }
    free(dev->kept);
    free(dev->txbuf);
    pthread_cond_destroy(&dev->cond);
    pthread_mutex_destroy(&dev->lock);
    free(dev);
}

const struct virtio_pci_bus *simdev_pci_bus(struct simdev *dev)
{
    return dev->is_pci ? &dev->pci_bus : NULL;
}

const struct virtio_mmio_bus *simdev_mmio_bus(struct simdev *dev)
{
    return dev->is_mmio ? &dev->mmio_bus : NULL;
}

unsigned simdev_irq_shared(const struct simdev *dev)
{
    return dev->cfg.irq_base;
}

unsigned simdev_irq_vector(const struct simdev *dev, uint16_t vector)
{
    return dev->cfg.irq_base + 1u + vector;
}

/* --- control and observation ------------------------------------------------------------ */

void simdev_set_link(struct simdev *dev, bool up)
{
    struct sd_irqs irqs = {0};

    pthread_mutex_lock(&dev->lock);
    sd_netcfg_link(dev, up);
    dev->cfg_gen++;
    sd_config_irq(dev, &irqs);
    sd_unlock_raise(dev, &irqs);
}

void simdev_set_start_idx(struct simdev *dev, unsigned queue, uint16_t start)
{
    pthread_mutex_lock(&dev->lock);
    if (queue < SD_NQ) {
        dev->q[queue].start_idx = start;
        if (!dev->q[queue].enabled)
            dev->q[queue].last_avail = dev->q[queue].used_idx = dev->q[queue].seen_idx = start;
    }
    pthread_mutex_unlock(&dev->lock);
}

void simdev_pci_cfg_poke(struct simdev *dev, uint16_t off, uint8_t width, uint32_t val)
{
    pthread_mutex_lock(&dev->lock);
    sd_cfg_store(dev, off, width, val);
    if (off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 24 && width == 4)
        dev->bar_reg[(off - PCI_CFG_BAR0) / 4u] = val;
    pthread_mutex_unlock(&dev->lock);
}

void simdev_misbehave(struct simdev *dev, enum simdev_fault fault, unsigned queue, uint32_t arg)
{
    struct sd_irqs irqs = {0};

    pthread_mutex_lock(&dev->lock);
    switch (fault) {
    case SIMDEV_FAULT_NONE:
        dev->f_reset_refused = dev->f_fok_cleared = false;
        dev->f_msix_refused = dev->f_gen_unstable = false;
        for (unsigned i = 0; i < SD_NQ; i++)
            dev->q[i].oneshot = SIMDEV_FAULT_NONE;
        break;
    case SIMDEV_FAULT_BAD_USED_ID:
    case SIMDEV_FAULT_BAD_USED_LEN:
    case SIMDEV_FAULT_DUP_USED:
    case SIMDEV_FAULT_USED_IDX_JUMP:
        if (queue < SD_NQ) {
            dev->q[queue].oneshot = fault;
            dev->q[queue].oneshot_arg = arg;
        }
        break;
    case SIMDEV_FAULT_NEEDS_RESET:
        sd_needs_reset(dev, &irqs);
        break;
    case SIMDEV_FAULT_RESET_REFUSED:
        dev->f_reset_refused = true;
        break;
    case SIMDEV_FAULT_FEATURES_OK_CLEARED:
        dev->f_fok_cleared = true;
        break;
    case SIMDEV_FAULT_MSIX_REFUSED:
        dev->f_msix_refused = true;
        break;
    case SIMDEV_FAULT_CFG_GEN_UNSTABLE:
        dev->f_gen_unstable = true;
        break;
    }
    sd_unlock_raise(dev, &irqs);
}

uint32_t simdev_violations(const struct simdev *dev)
{
    struct simdev *d = (struct simdev *)(uintptr_t)dev;
    uint32_t v;

    pthread_mutex_lock(&d->lock);
    v = d->violations;
    pthread_mutex_unlock(&d->lock);
    return v;
}

uint64_t simdev_violation_count(const struct simdev *dev, uint32_t bit)
{
    struct simdev *d = (struct simdev *)(uintptr_t)dev;
    uint64_t n = 0;

    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < SIMDEV_V_COUNT; i++)
        if (bit == (1u << i))
            n = d->vcount[i];
    pthread_mutex_unlock(&d->lock);
    return n;
}

void simdev_last_violation(const struct simdev *dev, char *buf, size_t cap)
{
    struct simdev *d = (struct simdev *)(uintptr_t)dev;

    if (cap == 0)
        return;
    pthread_mutex_lock(&d->lock);
    snprintf(buf, cap, "%s", d->last_violation);
    pthread_mutex_unlock(&d->lock);
}

void simdev_clear_violations(struct simdev *dev)
{
    pthread_mutex_lock(&dev->lock);
    dev->violations = 0;
    memset(dev->vcount, 0, sizeof(dev->vcount));
    dev->last_violation[0] = '\0';
    pthread_mutex_unlock(&dev->lock);
}

int simdev_check_kicks(struct simdev *dev)
{
    int missed = 0;

    pthread_mutex_lock(&dev->lock);
    for (unsigned i = 0; i < SD_NQ; i++) {
        struct sd_queue *q = &dev->q[i];
        struct sd_ring r;
        uint16_t cur;
        bool wanted;

        if (!sd_queue_live(dev, i) || !sd_ring_map(dev, i, &r))
            continue;
        cur = VNET_READ_ONCE(r.avail->idx);
        if (cur == q->seen_idx)
            continue;
        if (dev->drv_features & SIMDEV_F_EVENT_IDX)
            wanted = virtq_need_event(*virtq_avail_event_ptr(r.used, q->size), cur, q->seen_idx);
        else
            wanted = !(r.used->flags & VIRTQ_USED_F_NO_NOTIFY);
        if (wanted) {
            sd_violation(dev, SIMDEV_V_MISSED_KICK,
                         "queue %u: avail %u published past %u without a kick", i, cur,
                         q->seen_idx);
            missed++;
        }
    }
    pthread_mutex_unlock(&dev->lock);
    return missed;
}

void simdev_get_stats(const struct simdev *dev, struct simdev_stats *out)
{
    struct simdev *d = (struct simdev *)(uintptr_t)dev;

    pthread_mutex_lock(&d->lock);
    *out = d->st;
    pthread_mutex_unlock(&d->lock);
}

#define SD_GETTER(type, name, expr)                                                                \
    type name                                                                                      \
    {                                                                                              \
        struct simdev *d = (struct simdev *)(uintptr_t)dev;                                        \
        type v;                                                                                    \
        pthread_mutex_lock(&d->lock);                                                              \
        v = (expr);                                                                                \
        pthread_mutex_unlock(&d->lock);                                                            \
        return v;                                                                                  \
    }

SD_GETTER(uint8_t, simdev_status(const struct simdev *dev), d->status)
SD_GETTER(uint64_t, simdev_driver_features(const struct simdev *dev), d->drv_features)
SD_GETTER(uint16_t, simdev_queue_size(const struct simdev *dev, unsigned queue),
          queue < SD_NQ && d->q[queue].enabled ? d->q[queue].size : 0)
SD_GETTER(uint16_t, simdev_queue_vector(const struct simdev *dev, unsigned queue),
          queue < SD_NQ ? d->q[queue].vector : VIRTIO_PCI_NO_VECTOR)
SD_GETTER(uint16_t, simdev_config_vector(const struct simdev *dev), d->config_vector)
SD_GETTER(uint16_t, simdev_used_idx(const struct simdev *dev, unsigned queue),
          queue < SD_NQ ? d->q[queue].used_idx : 0)
