/*
 * virtio-net transmit: virtio_net_send/virtio_net_send_hdr copy a frame into a free TX
 * slot (header validated against what was negotiated, checksum completed in software when
 * the device has no CSUM), post it, and kick unless SEND_MORE; completed slots are
 * reclaimed on the send path (TX interrupts stay off); virtio_net_flush kicks what
 * SEND_MORE deferred.
 *
 * Owns: dev->tx. Context: tasks only (the calls may block on dev->tx.lock); everything
 * here runs under dev->tx.lock, counters included (the ISR never writes TX counters).
 */
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

/* Take back completed TX slots. Caller holds tx_lock. */
static void vnet_tx_reclaim_locked(struct virtio_net_dev *dev)
{
    for (unsigned i = 0; i < dev->tx.count; i++) {
        void *cookie;
        uint32_t len;
        int r = virtq_get(dev->tx.vq, &cookie, &len);
        if (r == 0)
            return;
        if (r < 0) {
            osal_crit_t c = osal_crit_enter();
            vnet_mark_broken_locked(dev, VNET_BROKEN_TX);
            osal_crit_exit(c);
            return;
        }
        const struct virtio_net_buf *b = cookie;
        dev->tx.free[dev->tx.free_top++] = b->slot;
    }
}

static void vnet_tx_kick_locked(struct virtio_net_dev *dev)
{
    dev->tx.unkicked = 0;
    if (virtq_kick_prepare(dev->tx.vq)) {
        virtio_tr_notify(dev->tr, VIRTIO_NET_TXQ);
        dev->stats.tx_kicks++;
    }
}

/*
 * Check a send header against what this device negotiated (virtio_net_send_hdr's
 * contract; spec 5.1.6.2.1). *sw_csum: NEEDS_CSUM without CSUM, the driver completes it.
 */
static vnet_err_t vnet_tx_check_hdr(const struct virtio_net_dev *dev,
                                    const struct virtio_net_hdr *h, size_t len, bool *sw_csum)
{
    *sw_csum = false;
    /* DATA_VALID is an RX flag (a forwarded frame carries it): ignored here. */
    if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
        return VNET_E_INVAL;
    unsigned gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (gso != VIRTIO_NET_HDR_GSO_NONE) {
        uint64_t need = gso == VIRTIO_NET_HDR_GSO_TCPV4   ? VIRTIO_NET_F_HOST_TSO4
                        : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? VIRTIO_NET_F_HOST_TSO6
                                                          : 0;
        if (need == 0 || !(dev->features & need) || h->gso_size == 0 ||
            len > VIRTIO_NET_GSO_MAX_FRAME || len > dev->tx.frame_max ||
            ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(dev->features & VIRTIO_NET_F_HOST_ECN)))
            return VNET_E_UNSUPP;
        /* 5.1.6.2.1: a GSO frame must ask for the checksum (each segment gets its own). */
        if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
            return VNET_E_INVAL;
    } else {
        if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
            return VNET_E_INVAL; /* the ECN bit alone */
        if (len > dev->frame_max)
            return VNET_E_TOOBIG;
    }
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if ((size_t)h->csum_start + h->csum_offset + 2u > len)
            return VNET_E_INVAL;
        *sw_csum = !(dev->features & VIRTIO_NET_F_CSUM);
    }
    return VNET_OK;
}

vnet_err_t virtio_net_send(struct virtio_net_dev *dev, const void *frame, size_t len,
                           unsigned flags)
{
    return virtio_net_send_hdr(dev, NULL, frame, len, flags);
}

vnet_err_t virtio_net_send_hdr(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                               const void *frame, size_t len, unsigned flags)
{
    if (dev == NULL || frame == NULL || len < VIRTIO_NET_ETH_HLEN)
        return VNET_E_INVAL;
    vnet_err_t err = VNET_OK;
    osal_lock_acquire(&dev->tx.lock);
    if (dev->tx.vq == NULL || VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING) {
        dev->stats.tx_errors++;
        err = VNET_E_STATE;
        goto out;
    }
    if (virtq_is_broken(dev->tx.vq) || (VNET_READ_ONCE(dev->stats.broken) & VNET_BROKEN_TX)) {
        dev->stats.tx_errors++;
        err = VNET_E_BROKEN;
        goto out;
    }
    bool sw_csum = false;
    if (hdr == NULL) {
        if (len > dev->frame_max)
            err = VNET_E_TOOBIG;
    } else {
        err = vnet_tx_check_hdr(dev, hdr, len, &sw_csum);
    }
    if (err != VNET_OK) {
        if (err == VNET_E_UNSUPP)
            dev->stats.tx_gso_refused++;
        else
            dev->stats.tx_errors++;
        goto out;
    }
    vnet_tx_reclaim_locked(dev);
    if (dev->tx.free_top == 0) {
        /* Frames deferred with SEND_MORE fill the ring without a kick; the device would
         * never drain them, so kick before reporting busy. */
        if (dev->tx.unkicked != 0)
            vnet_tx_kick_locked(dev);
        dev->stats.tx_ring_full++;
        err = VNET_E_BUSY;
        goto out;
    }
    uint16_t slot = dev->tx.free[--dev->tx.free_top];
    struct virtio_net_buf *b = &dev->tx.bufs[slot];
    bool gso = false;
    if (hdr == NULL) {
        /* An all-zero header means "complete frame, no GSO". Always the full 12-byte
         * struct (a constant size the compiler turns into two stores, where hdr_len
         * needed a call): with a 10-byte header the last two zeros land where the frame
         * copy below writes next. */
        static const struct virtio_net_hdr zero_hdr;
        _Static_assert(sizeof(zero_hdr) == VIRTIO_NET_HDR_LEN_V1, "12-byte header");
        memcpy(b->cpu, &zero_hdr, sizeof(zero_hdr));
        memcpy(b->cpu + dev->hdr_len, frame, len);
    } else {
        /* The header as given (validated above), num_buffers 0 (spec 5.1.6.2), the RX
         * flag DATA_VALID dropped; a checksum completed here is no longer partial. */
        struct virtio_net_hdr w = *hdr;
        w.flags = sw_csum ? 0u : (uint8_t)(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
        w.num_buffers = 0;
        if (sw_csum) {
            w.csum_start = 0;
            w.csum_offset = 0;
        }
        memcpy(b->cpu, &w, dev->hdr_len);
        /* One copy into the DMA buffer; only a frame to checksum is read a second time. */
        memcpy(b->cpu + dev->hdr_len, frame, len);
        if (sw_csum) {
            virtio_net_csum_complete(b->cpu + dev->hdr_len, len, hdr->csum_start, hdr->csum_offset);
        }
        gso = (hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
    }
    struct virtq_seg segs[2];
    uint16_t nseg;
    if (dev->hdr_separate) {
        segs[0] = (struct virtq_seg){b->dma, dev->hdr_len, false};
        segs[1] = (struct virtq_seg){b->dma + dev->hdr_len, (uint32_t)len, false};
        nseg = 2;
    } else {
        segs[0] = (struct virtq_seg){b->dma, (uint32_t)(dev->hdr_len + len), false};
        nseg = 1;
    }
    err = virtq_add(dev->tx.vq, segs, nseg, b);
    if (err != VNET_OK) {
        dev->tx.free[dev->tx.free_top++] = slot;
        if (err == VNET_E_BROKEN) {
            dev->stats.tx_errors++;
        } else {
            dev->stats.tx_ring_full++;
            err = VNET_E_BUSY;
        }
        goto out;
    }
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
    if (gso)
        dev->stats.tx_gso_packets++;
    if (sw_csum)
        dev->stats.tx_csum_sw++;
    dev->tx.unkicked++;
    if (!(flags & VIRTIO_NET_SEND_MORE))
        vnet_tx_kick_locked(dev);
out:
    osal_lock_release(&dev->tx.lock);
    return err;
}

vnet_err_t virtio_net_flush(struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    vnet_err_t err = VNET_OK;
    osal_lock_acquire(&dev->tx.lock);
    if (dev->tx.vq == NULL || VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING)
        err = VNET_E_STATE;
    else if (dev->tx.unkicked != 0)
        vnet_tx_kick_locked(dev);
    osal_lock_release(&dev->tx.lock);
    return err;
}
