/*
 * virtio-net resources: ring sizes, the queues, the RX/TX buffers, the TX free-slot stack
 * and the software ring, and the device config they are sized from (spec 3.1.1 step 7);
 * and their release. virtio_net.c's initialize, halt and detach call these in the spec's
 * order and own the state machine around them.
 *
 * Context: the control path only (dev->ctl_sem held), the device reset or not yet live.
 */
#include <string.h>
#include "net/virtio_net_priv.h"

static uint16_t vnet_pow2_floor(uint32_t v)
{
    uint32_t p = 1;
    while (p * 2u <= v && p < 32768u)
        p *= 2u;
    return (uint16_t)p;
}

/*
 * Free queues and buffers. The device must be reset (or never told the queue): reset
 * already returns every queue register to its initial state (spec 2.1.2, 4.1.4.3.1,
 * 4.2.2.1), so nothing is written to the device here; writing queue registers of a reset
 * device is what the spec's init order forbids (queues are set up after FEATURES_OK).
 */
static void vnet_free_queue(struct virtq **vq, uint8_t **dma, size_t dma_bytes,
                            struct virtio_net_buf **bufs)
{
    if (*vq != NULL) {
        while (virtq_detach_unused(*vq) != NULL)
            ;
        virtq_destroy(*vq);
        *vq = NULL;
    }
    if (*dma != NULL)
        osal_dma_buf_free(*dma, dma_bytes);
    *dma = NULL;
    osal_mem_free(*bufs);
    *bufs = NULL;
}

void vnet_free_rx(struct virtio_net_dev *dev)
{
    vnet_free_queue(&dev->rx.vq, &dev->rx.dma, dev->rx.dma_bytes, &dev->rx.bufs);
    osal_mem_free(dev->sw.slot);
    dev->sw.slot = NULL;
    if (dev->sw.data != NULL)
        osal_dma_buf_free(dev->sw.data, dev->sw.data_bytes);
    dev->sw.data = NULL;
    osal_mem_free(dev->sw.spare);
    dev->sw.spare = NULL;
    dev->sw.spare_top = 0;
    dev->sw.cur = NULL;
    /* Frames staged but not delivered are discarded with the ring (halt clears it). */
    dev->sw.head = 0;
    dev->sw.tail = 0;
    dev->rx.count = 0;
}

void vnet_free_tx(struct virtio_net_dev *dev)
{
    vnet_free_queue(&dev->tx.vq, &dev->tx.dma, dev->tx.dma_bytes, &dev->tx.bufs);
    osal_mem_free(dev->tx.free);
    dev->tx.free = NULL;
    dev->tx.count = 0;
    dev->tx.free_top = 0;
    dev->tx.unkicked = 0;
    dev->tx.inflight_bytes = 0;
}

/* Ring size for queue `idx`: the device's fixed size, or the smaller of its maximum and
 * what we need, as a power of two (split rings, spec 2.7). */
vnet_err_t vnet_queue_size(struct virtio_net_dev *dev, uint16_t idx, uint32_t want, uint16_t *out)
{
    uint16_t qmax = virtio_tr_queue_max(dev->tr, idx);
    if (qmax == 0)
        return VNET_E_RANGE;
    if (!virtio_tr_queue_size_settable(dev->tr)) {
        if (!vnet_is_pow2(qmax))
            return VNET_E_RANGE;
        *out = qmax;
        return VNET_OK;
    }
    *out = vnet_pow2_floor(want < qmax ? want : qmax);
    return VNET_OK;
}

/*
 * Allocate `count` DMA buffers of `stride` bytes in one block, with private shadows.
 * Buffer memory (os/osal.h): possibly cached, so every hand-over syncs it; each buffer
 * starts on a 64-byte line (stride is a multiple of VIRTIO_NET_RX_SLOT_ALIGN). The device
 * is given only addresses derived from `dma`, never a CPU pointer.
 */
static vnet_err_t vnet_alloc_bufs(uint32_t stride, uint16_t count, uint8_t **dma_blk, size_t *bytes,
                                  struct virtio_net_buf **bufs)
{
    uint64_t dma = 0;
    *bytes = (size_t)count * stride;
    *dma_blk = osal_dma_buf_alloc(*bytes, VIRTIO_NET_RX_SLOT_ALIGN, &dma);
    if (*dma_blk == NULL)
        return VNET_E_NOMEM;
    *bufs = osal_mem_alloc(sizeof(**bufs) * count);
    if (*bufs == NULL)
        return VNET_E_NOMEM;
    for (uint16_t i = 0; i < count; i++) {
        (*bufs)[i].cpu = *dma_blk + (size_t)i * stride;
        (*bufs)[i].dma = dma + (uint64_t)i * stride;
        (*bufs)[i].slot = i;
        (*bufs)[i].lent = NULL;
        (*bufs)[i].lent_dev = NULL;
    }
    return VNET_OK;
}

vnet_err_t vnet_setup_queue(struct virtio_net_dev *dev, uint16_t idx, uint16_t size,
                            struct virtq **vq, bool irq)
{
    unsigned flags = 0;
    if (dev->features & VIRTIO_RING_F_EVENT_IDX)
        flags |= VIRTQ_EVENT_IDX;
    if (virtio_tr_is_legacy(dev->tr))
        flags |= VIRTQ_LEGACY_LAYOUT;
    vnet_err_t err = virtq_create(vq, idx, size, flags);
    if (err != VNET_OK)
        return err == VNET_E_INVAL ? VNET_E_RANGE : err;
    uint64_t d, a, u;
    virtq_ring_addrs(*vq, &d, &a, &u);
    err = virtio_tr_queue_enable(dev->tr, idx, size, d, a, u, irq);
    return err == VNET_OK ? VNET_OK : (err == VNET_E_RANGE ? VNET_E_RANGE : VNET_E_IO);
}

static vnet_err_t vnet_alloc_sw_ring(struct virtio_net_dev *dev)
{
    uint32_t entries = dev->cfg.rx_sw_ring_entries;
    dev->sw.stride = vnet_align_up(VIRTIO_NET_RX_PAD + dev->rx.frame_max, VIRTIO_NET_RX_SLOT_ALIGN);
    uint32_t spares = dev->cfg.rx_lend_bufs;
    dev->sw.slot = osal_mem_alloc(sizeof(*dev->sw.slot) * entries);
    /* Packet buffer memory (os/osal.h): virtio_net_forward() may hand a slot to a device
     * as it is, so the block has a device address; slots start on 64-byte lines. */
    dev->sw.data_bytes = (size_t)(entries + spares) * dev->sw.stride;
    dev->sw.data =
        osal_dma_buf_alloc(dev->sw.data_bytes, VIRTIO_NET_RX_SLOT_ALIGN, &dev->sw.data_dma);
    if (spares != 0)
        dev->sw.spare = osal_mem_alloc(sizeof(*dev->sw.spare) * spares);
    if (dev->sw.slot == NULL || dev->sw.data == NULL || (spares != 0 && dev->sw.spare == NULL))
        return VNET_E_NOMEM;
    for (uint32_t i = 0; i < entries; i++) {
        dev->sw.slot[i].len = 0;
        dev->sw.slot[i].data = dev->sw.data + (size_t)i * dev->sw.stride + VIRTIO_NET_RX_PAD;
    }
    for (uint32_t i = 0; i < spares; i++)
        dev->sw.spare[i] = dev->sw.data + (size_t)(entries + i) * dev->sw.stride;
    dev->sw.spare_top = (uint16_t)spares;
    memset(dev->sw.peer, 0, sizeof(dev->sw.peer));
    dev->sw.cur = NULL;
    dev->sw.mask = entries - 1u;
    dev->sw.head = 0;
    dev->sw.tail = 0;
    return VNET_OK;
}

/*
 * Control calls may come from any task, but not from an ISR (they block) nor from the
 * device's own RX task, i.e. its rx_fn/rx_hdr_fn/batch_fn/link_fn (halt waits for that
 * task to park: it would wait for itself). Refused at once, never a timeout.
 */
/* Take the control semaphore (forever: a control call in progress ends in bounded time). */
/* Spec 3.1.1 step 7, the device-specific part: MTU, MAC and link state from config space
 * (features f accepted), then the header layout and the buffer geometry they imply. */
vnet_err_t vnet_read_device_config(struct virtio_net_dev *dev, uint64_t f)
{
    struct virtio_transport *tr = dev->tr;
    bool legacy = virtio_tr_is_legacy(tr);
    vnet_err_t err;

    dev->mtu = VIRTIO_NET_MTU_DEFAULT;
    if (f & VIRTIO_NET_F_MTU) {
        uint16_t mtu = 0;
        err = virtio_tr_read_config(tr, VIRTIO_NET_CFG_MTU, &mtu, sizeof(mtu));
        if (err != VNET_OK)
            return err;
        err = virtio_net_check_mtu(mtu);
        if (err != VNET_OK)
            return err;
        dev->mtu = mtu;
    }
    if (f & VIRTIO_NET_F_MAC) {
        err = virtio_tr_read_config(tr, VIRTIO_NET_CFG_MAC, dev->mac, sizeof(dev->mac));
        if (err != VNET_OK)
            return err;
    } else {
        /* Chosen once at attach so the address stays the same across re-inits. */
        memcpy(dev->mac, dev->cfg.fallback_mac, sizeof(dev->mac));
    }
    dev->link_up = true;
    if (f & VIRTIO_NET_F_STATUS) {
        uint16_t s = 0;
        err = virtio_tr_read_config(tr, VIRTIO_NET_CFG_STATUS, &s, sizeof(s));
        if (err != VNET_OK)
            return err;
        dev->link_up = (s & VIRTIO_NET_S_LINK_UP) != 0;
    }
    /* Spec 5.1.6: num_buffers is there with VERSION_1 or MRG_RXBUF (legacy). */
    dev->hdr_len = (f & (VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MRG_RXBUF)) ? VIRTIO_NET_HDR_LEN_V1
                                                                       : VIRTIO_NET_HDR_LEN_LEGACY;
    dev->hdr_separate = legacy && !(f & VIRTIO_F_ANY_LAYOUT);
    dev->rx.mrg = (f & VIRTIO_NET_F_MRG_RXBUF) != 0;
    /* Spec 5.1.6.3.1: buffers must hold an MTU-sized packet plus the link header; a
     * VLAN tag is allowed for on top. */
    dev->frame_max = (uint32_t)dev->mtu + VIRTIO_NET_ETH_HLEN + VIRTIO_NET_VLAN_HLEN;
    dev->rx.frame_max = (f & (VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6))
                            ? VIRTIO_NET_GSO_MAX_FRAME
                            : dev->frame_max;
    dev->tx.frame_max = (f & (VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6))
                            ? VIRTIO_NET_GSO_MAX_FRAME
                            : dev->frame_max;
    /* Without MRG_RXBUF (and then without receive GSO) one buffer holds one frame;
     * with it the size is chosen once the number of posted buffers is known. */
    dev->rx.buf_len = dev->hdr_len + dev->frame_max;
    dev->rx.buf_stride = vnet_align_up(dev->rx.buf_len, VIRTIO_NET_RX_SLOT_ALIGN);
    dev->tx.stride = vnet_align_up(dev->hdr_len + dev->tx.frame_max, VIRTIO_NET_RX_SLOT_ALIGN);
    return VNET_OK;
}

/* The RX and TX buffers, the TX free-slot stack and the software ring, sized by
 * vnet_read_device_config and the negotiated queue sizes. What is allocated before a
 * failure is released by the caller's vnet_free_rx / vnet_free_tx. */
vnet_err_t vnet_alloc_rings(struct virtio_net_dev *dev)
{
    if (dev->rx.mrg) {
        /* Merged buffers of the configured size, but all posted buffers together must
         * hold the largest frame, or the device could never deliver it and would wait for
         * buffers forever. */
        uint32_t need = dev->hdr_len + dev->rx.frame_max;
        uint32_t per = (need + dev->rx.count - 1u) / dev->rx.count;
        uint32_t want = dev->cfg.rx_mrg_buf_bytes;
        dev->rx.buf_len = vnet_align_up(per > want ? per : want, VIRTIO_NET_RX_SLOT_ALIGN);
        dev->rx.buf_stride = dev->rx.buf_len;
    }
    vnet_err_t err = vnet_alloc_bufs(dev->rx.buf_stride, dev->rx.count, &dev->rx.dma,
                                     &dev->rx.dma_bytes, &dev->rx.bufs);
    if (err == VNET_OK)
        err = vnet_alloc_bufs(dev->tx.stride, dev->tx.count, &dev->tx.dma, &dev->tx.dma_bytes,
                              &dev->tx.bufs);
    if (err == VNET_OK) {
        dev->tx.free = osal_mem_alloc(sizeof(*dev->tx.free) * dev->tx.count);
        if (dev->tx.free == NULL)
            err = VNET_E_NOMEM;
    }
    if (err == VNET_OK)
        err = vnet_alloc_sw_ring(dev);
    if (err != VNET_OK)
        return err;
    for (uint16_t i = 0; i < dev->tx.count; i++)
        dev->tx.free[i] = (uint16_t)(dev->tx.count - 1u - i);
    dev->tx.free_top = dev->tx.count;
    dev->tx.unkicked = 0;
    dev->tx.inflight_bytes = 0;
    return VNET_OK;
}
