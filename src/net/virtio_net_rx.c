/*
 * virtio-net receive: servicing the RX virtqueue. Takes used entries, validates what the
 * device wrote, copies each frame (single buffer, or MRG_RXBUF buffers assembled) into
 * the software ring, and re-posts the buffers at once (the seed's design, see
 * docs/driver.md "Why copy on receive").
 *
 * Owns: dev->rx and the producer side of dev->sw, on behalf of the queue's current owner
 * (docs/rx-handshake.md "Ownership"): the ISR while the RX task is not scheduled (it runs
 * under osal_crit), or the RX task / the poller while it is, with interrupts ON: nothing
 * here writes dev->stats or another field the ISR reads; a pass tallies into its struct
 * vnet_rx_pass and the caller adds the tally with vnet_rx_pass_commit_locked(), a short
 * constant critical section. The consumer side of the software ring is in
 * virtio_net_rx_task.c.
 */
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

#ifdef VIRTIO_NET_TEST_HOOKS
uint64_t virtio_net_test_task_copies, virtio_net_test_copies_in_task_crit;
/* A frame copy: counted when it runs in task context, and again when that task holds one
 * of its own critical sections (which must never happen: tests/net/test_owner.c). */
#define VNET_COPY_CHECK(dev)                                                                       \
    do {                                                                                           \
        if (!osal_in_isr()) {                                                                      \
            __atomic_fetch_add(&virtio_net_test_task_copies, 1u, __ATOMIC_RELAXED);                \
            if ((dev)->task_in_crit)                                                               \
                __atomic_fetch_add(&virtio_net_test_copies_in_task_crit, 1u, __ATOMIC_RELAXED);    \
        }                                                                                          \
    } while (0)
#else
#define VNET_COPY_CHECK(dev) ((void)0)
#endif

/* Next free software ring slot, or NULL when the ring is full. Producer side. */
static struct virtio_net_rx_sw_packet *vnet_rx_slot(struct virtio_net_dev *dev)
{
    /* sw_tail is written by the consumer outside any critical section (vnet_rx_drain). */
    if (dev->sw.head - VNET_READ_ONCE(dev->sw.tail) > dev->sw.mask)
        return NULL;
    /* The tail before the entry's data pointer, which the consumer may have swapped for a
     * spare (virtio_net_forward) before its tail store: pairs with its full barrier. */
    vnet_smp_rmb();
    return &dev->sw.slot[dev->sw.head & dev->sw.mask];
}

/* Hand the filled slot at sw_head to the task. Producer side. */
static void vnet_rx_publish(struct virtio_net_dev *dev, struct vnet_rx_pass *p,
                            struct virtio_net_rx_sw_packet *e, uint32_t len)
{
    uint32_t head = dev->sw.head;
    /* Frame bytes (and header) before len: the task treats len != 0 as "complete". */
    vnet_smp_wmb();
    VNET_WRITE_ONCE(e->len, len);
    /* Slot contents before the head index that hands it to the task. */
    vnet_smp_wmb();
    VNET_WRITE_ONCE(dev->sw.head, head + 1u);
    uint32_t count = head + 1u - VNET_READ_ONCE(dev->sw.tail);
    if (count > p->hwm)
        p->hwm = count;
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
static bool vnet_rx_hdr_ok(const struct virtio_net_dev *dev, struct vnet_rx_pass *p,
                           const struct virtio_net_hdr *h, uint32_t len)
{
    unsigned gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (len < VIRTIO_NET_ETH_HLEN || (gso == VIRTIO_NET_HDR_GSO_NONE && len > dev->frame_max)) {
        p->bad_len++;
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
        p->bad_hdr++;
        return false;
    }
    return true;
}

/*
 * Copy one received single-buffer frame (header at buf[0], hdr_len + len bytes) into the
 * software ring. Producer side: the queue's owner only.
 */
static void vnet_rx_stage(struct virtio_net_dev *dev, struct vnet_rx_pass *p, uint8_t *buf,
                          uint32_t len)
{
    struct virtio_net_hdr h;
    if (dev->cfg.rx_hdr_fn != NULL) {
        vnet_rx_read_hdr(dev, buf, &h);
        if (!vnet_rx_hdr_ok(dev, p, &h, len))
            return;
    }
    struct virtio_net_rx_sw_packet *e = vnet_rx_slot(dev);
    if (e == NULL) {
        /* Ring full (the ISR only: the task stops before a frame it cannot stage):
         * drop, but the descriptor is still recycled by the caller, and the task is woken
         * by the ISR epilogue so the backlog drains fast. */
        p->drops++;
        return;
    }
    VNET_COPY_CHECK(dev);
    memcpy(e->data, buf + dev->hdr_len, len);
    if (dev->cfg.rx_hdr_fn != NULL)
        e->hdr = h;
    vnet_rx_publish(dev, p, e, len);
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

/* Take one used MRG_RXBUF buffer of `len` bytes. Producer side (the queue's owner). */
static void vnet_rx_mrg_buf(struct virtio_net_dev *dev, struct vnet_rx_pass *p,
                            struct vnet_rx_frame *fr, const uint8_t *buf, uint32_t len)
{
    if (fr->left == 0) {
        /* First buffer of a frame. */
        if (len < dev->hdr_len) {
            p->bad_len++;
            return;
        }
        vnet_rx_read_hdr(dev, buf, &fr->hdr);
        if (fr->hdr.num_buffers == 0 || fr->hdr.num_buffers > dev->rx.count) {
            /* No frame can be described so: drop this buffer alone, so that the next
             * entries are still read as frames of their own. */
            p->bad_hdr++;
            return;
        }
        fr->left = fr->hdr.num_buffers;
        fr->len = 0;
        fr->bad = false;
        fr->slot = vnet_rx_slot(dev);
        buf += dev->hdr_len;
        len -= dev->hdr_len;
    }
    fr->left--;
    if (!fr->bad) {
        if (len > dev->rx.frame_max - fr->len) {
            /* Too long: keep taking (and recycling) the buffers it claims. */
            fr->bad = true;
            p->bad_len++;
        } else {
            if (fr->slot != NULL) {
                VNET_COPY_CHECK(dev);
                memcpy(fr->slot->data + fr->len, buf, len);
            }
            fr->len += len;
        }
    }
    if (fr->left != 0 || fr->bad || !vnet_rx_hdr_ok(dev, p, &fr->hdr, fr->len))
        return;
    if (fr->slot == NULL) {
        p->drops++;
        return;
    }
    fr->slot->hdr = fr->hdr;
    if ((fr->hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE)
        p->gso++;
    vnet_rx_publish(dev, p, fr->slot, fr->len);
}

bool vnet_rx_repost(struct virtio_net_dev *dev, struct virtio_net_buf *const *bufs, unsigned n,
                    unsigned *reposted)
{
    for (unsigned i = 0; i < n; i++) {
        if (vnet_rx_post(dev, bufs[i]) != VNET_OK) {
            /* Cannot happen on a healthy queue: virtq_get freed these descriptors. */
            return false;
        }
        (*reposted)++;
    }
    return true;
}

/*
 * One pass over the used ring (see struct vnet_rx_pass). Caller: the queue's owner.
 *
 * Used entries are taken in chunks and the chunk's buffers re-posted only after the chunk
 * was read (as Linux refills after its poll loop): re-posting each buffer at once would
 * make it outstanding again before a duplicate completion of it further down the used
 * ring is read, and the duplicate would pass as a fresh completion of stale data.
 */
#define VNET_RX_CHUNK 32u
int vnet_rx_service(struct virtio_net_dev *dev, struct vnet_rx_pass *p)
{
    uint64_t bytes = 0; /* bytes the device wrote into the buffers taken (copy work) */
    p->consumed = 0;
    if (VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING || dev->rx.vq == NULL)
        return 0;
    /* Broken by a bad used entry (virtq) or by DEVICE_NEEDS_RESET (driver flag): silent
     * until halt + initialize. */
    if (virtq_is_broken(dev->rx.vq) || (VNET_READ_ONCE(dev->stats.broken) & VNET_BROKEN_RX))
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
#define VNET_RX_MORE() ((consumed < p->budget && bytes < p->byte_budget) || fr.left != 0)
    while (VNET_RX_MORE() && !broke) {
        unsigned k = 0;
        while (k < VNET_RX_CHUNK && VNET_RX_MORE()) {
            /* The task leaves a frame it could not stage in the used ring for its next
             * pass instead of dropping it (issue 15 finding 5): checked before the first
             * buffer of each frame, so a started merged frame always has its slot. */
            if (p->stage_or_leave && fr.left == 0 && vnet_rx_slot(dev) == NULL) {
                p->ring_full = true;
                break;
            }
            void *cookie;
            uint32_t len;
            int r = virtq_get(dev->rx.vq, &cookie, &len);
            if (r == 0)
                break;
            if (r < 0) {
                p->bad_used++;
                broke = true;
                break;
            }
            consumed++;
            bytes += len;
            struct virtio_net_buf *b = cookie;
            /* The device wrote `len` bytes (bounded by what was posted): take them back
             * from it before reading a byte, header included (os/osal.h; after
             * virtq_get's read barrier, which ordered the used entry before this). */
            osal_dma_sync_for_cpu(b->cpu, len);
            /* virtq_get bounded len by what was posted (else the queue breaks); here the
             * frame must at least hold the header and an Ethernet header. */
            if (dev->rx.mrg)
                vnet_rx_mrg_buf(dev, p, &fr, b->cpu, len);
            else if (len < dev->hdr_len + VIRTIO_NET_ETH_HLEN ||
                     len - dev->hdr_len > dev->frame_max)
                p->bad_len++;
            else
                vnet_rx_stage(dev, p, b->cpu, len - dev->hdr_len);
            done[k++] = b;
        }
        /* Recycle at once (per chunk): the device never runs dry because the task is
         * slow; the software ring absorbs (or drops) instead. A broken queue gets nothing
         * back: it is silent until halt, which reclaims every buffer anyway. */
        if (!broke && !vnet_rx_repost(dev, done, k, &reposted)) {
            p->bad_used++;
            broke = true;
        }
        if (k < VNET_RX_CHUNK || p->ring_full)
            break;
    }
#undef VNET_RX_MORE
    if (fr.left != 0 && !broke && !fr.bad) {
        /* Fewer buffers published than num_buffers said: dropped, its buffers recycled
         * (the slot was never published, so it is simply reused). */
        p->bad_len++;
    }
    /* Publish the buffers; one notification per batch, only if the device asked for it
     * (spec 2.7.10). The caller writes it: now, or (ISR) left to the task. */
    if (reposted != 0 && !broke && virtq_kick_prepare(dev->rx.vq))
        p->notify = true;
    p->budget_hit = consumed >= p->budget || bytes >= p->byte_budget;
    p->consumed = consumed;
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
    osal_crit_exit(c);
    return n;
}

void vnet_rx_pass_commit_locked(struct virtio_net_dev *dev, const struct vnet_rx_pass *p)
{
    dev->stats.rx_bad_len += p->bad_len;
    dev->stats.rx_bad_hdr += p->bad_hdr;
    dev->stats.rx_queue_drops += p->drops;
    dev->stats.rx_gso_packets += p->gso;
    if (p->hwm > dev->stats.rx_queue_hwm)
        dev->stats.rx_queue_hwm = p->hwm;
    if (p->bad_used != 0) {
        dev->stats.bad_used += p->bad_used - 1u; /* and one more by the marking: */
        vnet_mark_broken_locked(dev, VNET_BROKEN_RX);
    }
    if (p->notify)
        dev->rx.notify_pending = true;
}
