/*
 * virtio-net receive: servicing the RX virtqueue. Takes used entries, validates what the
 * device wrote, copies each frame (single buffer, or MRG_RXBUF buffers assembled) into
 * the software ring, and re-posts the buffers at once (the seed's design, see
 * docs/driver.md "Why copy on receive").
 *
 * Owns: dev->rx and the producer side of dev->sw. Runs in the ISR (virtio_net_isr.c), or
 * in a task with osal_crit held (the RX task's leftover pass; virtio_net_service_rx_ring,
 * which enters it itself): every other function here expects osal_crit held. The consumer
 * side of the software ring is in virtio_net_rx_task.c.
 */
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

/* Next free software ring slot, or NULL when the ring is full. Producer side. */
static struct virtio_net_rx_sw_packet *vnet_rx_slot_locked(struct virtio_net_dev *dev)
{
    /* sw_tail is written by the task outside the critical section (vnet_rx_drain). */
    if (dev->sw.head - VNET_READ_ONCE(dev->sw.tail) > dev->sw.mask)
        return NULL;
    return &dev->sw.slot[dev->sw.head & dev->sw.mask];
}

/* Hand the filled slot at sw_head to the task. Producer side. */
static void vnet_rx_publish_locked(struct virtio_net_dev *dev, struct virtio_net_rx_sw_packet *e,
                                   uint32_t len)
{
    uint32_t head = dev->sw.head;
    /* Frame bytes (and header) before len: the task treats len != 0 as "complete". */
    vnet_smp_wmb();
    VNET_WRITE_ONCE(e->len, len);
    /* Slot contents before the head index that hands it to the task. */
    vnet_smp_wmb();
    VNET_WRITE_ONCE(dev->sw.head, head + 1u);
    uint32_t count = head + 1u - VNET_READ_ONCE(dev->sw.tail);
    if (count > dev->stats.rx_queue_hwm)
        dev->stats.rx_queue_hwm = count;
}

/* The header in front of a received buffer (legacy ones lack num_buffers: 1). */
static void vnet_rx_read_hdr(const struct virtio_net_dev *dev, const uint8_t *p,
                             struct virtio_net_hdr *h)
{
    memset(h, 0, sizeof(*h));
    memcpy(h, p, dev->hdr_len);
    if (!dev->rx.mrg)
        h->num_buffers = 1;
}

/*
 * Is a complete received frame with header `h` one the driver may hand to rx_hdr_fn?
 * Device input: only offloads that were negotiated, GSO with a segment size, a partial
 * checksum whose field lies inside the frame, a non-GSO frame no longer than the MTU
 * allows. Counts the reason and returns false otherwise.
 */
static bool vnet_rx_hdr_ok_locked(struct virtio_net_dev *dev, const struct virtio_net_hdr *h,
                                  uint32_t len)
{
    unsigned gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (len < VIRTIO_NET_ETH_HLEN || (gso == VIRTIO_NET_HDR_GSO_NONE && len > dev->frame_max)) {
        dev->stats.rx_bad_len++;
        return false;
    }
    bool ok = (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) == 0;
    if (h->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
        ok = ok && (dev->features & VIRTIO_NET_F_GUEST_CSUM);
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        ok = ok && (uint32_t)h->csum_start + h->csum_offset + 2u <= len;
    if (gso == VIRTIO_NET_HDR_GSO_NONE)
        ok = ok && h->gso_type == VIRTIO_NET_HDR_GSO_NONE;
    else if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
        ok = ok && (dev->features & VIRTIO_NET_F_GUEST_TSO4) && h->gso_size != 0;
    else if (gso == VIRTIO_NET_HDR_GSO_TCPV6)
        ok = ok && (dev->features & VIRTIO_NET_F_GUEST_TSO6) && h->gso_size != 0;
    else
        ok = false; /* UFO/USO were never negotiated */
    if (!ok) {
        dev->stats.rx_bad_hdr++;
        return false;
    }
    return true;
}

/*
 * Copy one received single-buffer frame (header at buf[0], hdr_len + len bytes) into the
 * software ring. Producer side: only the ISR, or the task with interrupts excluded, ever
 * runs this (caller holds the critical section).
 */
static void vnet_rx_stage_locked(struct virtio_net_dev *dev, uint8_t *buf, uint32_t len)
{
    struct virtio_net_hdr h;
    if (dev->cfg.rx_hdr_fn != NULL) {
        vnet_rx_read_hdr(dev, buf, &h);
        if (!vnet_rx_hdr_ok_locked(dev, &h, len))
            return;
    }
    struct virtio_net_rx_sw_packet *e = vnet_rx_slot_locked(dev);
    if (e == NULL) {
        /* Ring full: drop, but the descriptor is still recycled by the caller, and the
         * task is woken by the ISR epilogue so the backlog drains fast. */
        dev->stats.rx_queue_drops++;
        return;
    }
    memcpy(e->data, buf + dev->hdr_len, len);
    if (dev->cfg.rx_hdr_fn != NULL)
        e->hdr = h;
    vnet_rx_publish_locked(dev, e, len);
}

/*
 * A frame being assembled from MRG_RXBUF buffers (spec 5.1.6.4): the first buffer holds
 * the header and says how many buffers the frame used; their bytes are copied straight
 * into the software ring slot at sw_head, which the task cannot see until it is published.
 * Lives for one service pass: the device publishes all buffers of a frame with one used
 * index update (QEMU's virtqueue_flush, vhost's add_used_n), so a frame whose buffers are
 * not all there is malformed, not early (Linux drops it too: "rx error: buffers missing").
 */
struct vnet_rx_frame {
    struct virtio_net_rx_sw_packet *slot; /* NULL: ring full, bytes not kept */
    uint32_t len;                         /* frame bytes so far */
    uint16_t left;                        /* buffers of this frame still to take */
    bool bad;                             /* malformed (counted): the rest is discarded */
    struct virtio_net_hdr hdr;
};

/* Take one used MRG_RXBUF buffer of `len` bytes. Producer side, critical section held. */
static void vnet_rx_mrg_buf_locked(struct virtio_net_dev *dev, struct vnet_rx_frame *fr,
                                   const uint8_t *buf, uint32_t len)
{
    if (fr->left == 0) {
        /* First buffer of a frame. */
        if (len < dev->hdr_len) {
            dev->stats.rx_bad_len++;
            return;
        }
        vnet_rx_read_hdr(dev, buf, &fr->hdr);
        if (fr->hdr.num_buffers == 0 || fr->hdr.num_buffers > dev->rx.count) {
            /* No frame can be described so: drop this buffer alone, so that the next
             * entries are still read as frames of their own. */
            dev->stats.rx_bad_hdr++;
            return;
        }
        fr->left = fr->hdr.num_buffers;
        fr->len = 0;
        fr->bad = false;
        fr->slot = vnet_rx_slot_locked(dev);
        buf += dev->hdr_len;
        len -= dev->hdr_len;
    }
    fr->left--;
    if (!fr->bad) {
        if (len > dev->rx.frame_max - fr->len) {
            /* Too long: keep taking (and recycling) the buffers it claims. */
            fr->bad = true;
            dev->stats.rx_bad_len++;
        } else {
            if (fr->slot != NULL)
                memcpy(fr->slot->data + fr->len, buf, len);
            fr->len += len;
        }
    }
    if (fr->left != 0 || fr->bad || !vnet_rx_hdr_ok_locked(dev, &fr->hdr, fr->len))
        return;
    if (fr->slot == NULL) {
        dev->stats.rx_queue_drops++;
        return;
    }
    fr->slot->hdr = fr->hdr;
    if ((fr->hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE)
        dev->stats.rx_gso_packets++;
    vnet_rx_publish_locked(dev, fr->slot, fr->len);
}

bool vnet_rx_repost_locked(struct virtio_net_dev *dev, struct virtio_net_buf *const *bufs,
                           unsigned n, unsigned *reposted)
{
    for (unsigned i = 0; i < n; i++) {
        struct virtq_seg segs[2];
        uint16_t nseg;
        vnet_rx_segs(dev, bufs[i], segs, &nseg);
        if (virtq_add(dev->rx.vq, segs, nseg, bufs[i]) != VNET_OK) {
            /* Cannot happen on a healthy queue: virtq_get freed these descriptors. */
            vnet_mark_broken_locked(dev, VNET_BROKEN_RX);
            return false;
        }
        (*reposted)++;
    }
    return true;
}

/*
 * Body of virtio_net_service_rx_ring(); caller holds the critical section.
 *
 * Used entries are taken in chunks and the chunk's buffers re-posted only after the chunk
 * was read (as Linux refills after its poll loop): re-posting each buffer at once would
 * make it outstanding again before a duplicate completion of it further down the used
 * ring is read, and the duplicate would pass as a fresh completion of stale data.
 */
#define VNET_RX_CHUNK 32u
int vnet_rx_service_locked(struct virtio_net_dev *dev, unsigned budget, uint32_t byte_budget,
                           bool *budget_hit)
{
    uint64_t bytes = 0; /* bytes the device wrote into the buffers taken (copy work) */
    if (dev->state != VIRTIO_NET_ST_RUNNING || dev->rx.vq == NULL)
        return 0;
    /* Broken by a bad used entry (virtq) or by DEVICE_NEEDS_RESET (driver flag): silent
     * until halt + initialize. */
    if (virtq_is_broken(dev->rx.vq) || (dev->stats.broken & VNET_BROKEN_RX))
        return VNET_E_BROKEN;
    struct virtio_net_buf *done[VNET_RX_CHUNK];
    struct vnet_rx_frame fr;
    memset(&fr, 0, sizeof(fr));
    unsigned consumed = 0;
    unsigned reposted = 0;
    bool broke = false;
    /* A merged frame is finished even past the budget: its buffers are all published
     * already, and leaving half of it would split it across passes (so one pass moves
     * at most budget + rx_count entries). Its buffers may span chunks: every buffer is
     * copied out when read, and re-posted buffers are published (able to complete again)
     * only by the kick_prepare after the loop, so a duplicate is still caught. */
    while (((consumed < budget && bytes < byte_budget) || fr.left != 0) && !broke) {
        unsigned k = 0;
        while (k < VNET_RX_CHUNK && ((consumed < budget && bytes < byte_budget) || fr.left != 0)) {
            struct virtio_net_buf *b;
            uint32_t len;
            int r = vnet_rx_take_locked(dev, &b, &len);
            if (r <= 0) {
                broke = r < 0;
                break;
            }
            consumed++;
            bytes += len;
            /* virtq_get bounded len by what was posted (else the queue breaks); here the
             * frame must at least hold the header and an Ethernet header. */
            if (dev->rx.mrg)
                vnet_rx_mrg_buf_locked(dev, &fr, b->cpu, len);
            else if (len < dev->hdr_len + VIRTIO_NET_ETH_HLEN ||
                     len - dev->hdr_len > dev->frame_max)
                dev->stats.rx_bad_len++;
            else
                vnet_rx_stage_locked(dev, b->cpu, len - dev->hdr_len);
            done[k++] = b;
        }
        /* Recycle at once (per chunk): the device never runs dry because the task is
         * slow; the software ring absorbs (or drops) instead. A broken queue gets nothing
         * back: it is silent until halt, which reclaims every buffer anyway. */
        if (!broke && !vnet_rx_repost_locked(dev, done, k, &reposted))
            broke = true;
        if (k < VNET_RX_CHUNK)
            break;
    }
    if (fr.left != 0 && !broke && !fr.bad) {
        /* Fewer buffers published than num_buffers said: dropped, its buffers recycled
         * (the slot was never published, so it is simply reused). */
        dev->stats.rx_bad_len++;
    }
    /* Publish the buffers; one notification per batch, only if the device asked for it
     * (spec 2.7.10). The caller writes it: now, or (ISR) left to the task. */
    if (reposted != 0 && !broke && virtq_kick_prepare(dev->rx.vq))
        dev->rx.notify_pending = true;
    if (budget_hit != NULL)
        *budget_hit = consumed >= budget || bytes >= byte_budget;
    return broke ? VNET_E_BROKEN : (int)consumed;
}

int virtio_net_service_rx_ring(struct virtio_net_dev *dev, unsigned budget)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    if (budget == 0)
        budget = dev->cfg.isr_budget;
    osal_crit_t c = osal_crit_enter();
    int n = vnet_rx_poll_locked(dev, budget);
    vnet_rx_notify_locked(dev);
    osal_crit_exit(c);
    return n;
}
