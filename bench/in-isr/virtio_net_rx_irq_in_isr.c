/*
 * BENCHMARK ONLY - never link this into a product.
 *
 * The receive design the seed replaced, kept so bench/ can measure the NAPI-style design
 * against it: the stack runs inside the ISR, on the DMA buffer itself (no software ring,
 * no copy, no RX task on the data path), and the buffer is re-posted after the stack
 * returned. Built by `-DVNET_RX_IN_ISR=ON` (src/CMakeLists.txt) and bench/host/run.sh in
 * place of src/net/virtio_net_rx_irq.c, against the same internal interface
 * (src/net/virtio_net_priv.h); everything else of the driver is the production code.
 *
 * Differences from the production unit, all of them the old design's:
 *   - callbacks are never turned off: the device interrupts whenever it wants to;
 *   - no receive offload (vnet_rx_design.keeps_hdr false: one buffer per frame, no
 *     header kept), so never MRG_RXBUF;
 *   - the refill notification is written at once, and this ISR's frames are the batch:
 *     batch_fn runs here (the stack's transmits, posted with SEND_MORE until the batch
 *     ends, would otherwise never be kicked).
 * The RX task still exists for link changes; frames it finds on such a wake-up take the
 * production path (software ring), which no benchmark measures.
 *
 * Context: the ISR, or a task (vnet_rx_poll_locked, from virtio_net_service_rx_ring); all
 * under osal_crit.
 */
#include "net/virtio_net_priv.h"

const struct vnet_rx_design vnet_rx_design = {
    .name = "rx-in-isr (old design, benchmark only)",
    .keeps_hdr = false,
    .delivers_in_isr = true,
};

/* [ISR, or task with crit] Take the next used RX entry: 1 (*b and *len set), 0 when none
 * is pending, VNET_E_BROKEN when the queue broke (counted and marked here). */
static inline int inisr_take_locked(struct virtio_net_dev *dev, struct virtio_net_buf **b,
                                    uint32_t *len)
{
    void *cookie;
    int r = virtq_get(dev->rx.vq, &cookie, len);
    if (r < 0) {
        vnet_mark_broken_locked(dev, VNET_BROKEN_RX);
        return VNET_E_BROKEN;
    }
    if (r > 0)
        *b = cookie;
    return r > 0 ? 1 : 0;
}

/* The frame of one used buffer goes to the stack where it lies. */
static void inisr_deliver_locked(struct virtio_net_dev *dev, struct virtio_net_buf *b, uint32_t len)
{
    /* virtq_get bounded len by what was posted; the frame must hold an Ethernet header. */
    if (len < dev->hdr_len + VIRTIO_NET_ETH_HLEN || len - dev->hdr_len > dev->frame_max) {
        dev->stats.rx_bad_len++;
        return;
    }
    len -= dev->hdr_len;
    dev->stats.rx_packets++;
    dev->stats.rx_bytes += len;
    dev->cfg.rx_fn(dev->cfg.rx_arg, b->cpu + dev->hdr_len, len);
}

/*
 * Deliver up to `budget` used entries (`byte_budget` bytes), re-posting them in chunks
 * after each chunk was read, as the production unit does (a buffer re-posted at once
 * could complete again before a duplicate of it further down the used ring is read).
 */
#define INISR_CHUNK 32u
static int inisr_service_locked(struct virtio_net_dev *dev, unsigned budget, uint32_t byte_budget,
                                bool *budget_hit)
{
    if (dev->state != VIRTIO_NET_ST_RUNNING || dev->rx.vq == NULL)
        return 0;
    if (virtq_is_broken(dev->rx.vq) || (dev->stats.broken & VNET_BROKEN_RX))
        return VNET_E_BROKEN;
    struct virtio_net_buf *done[INISR_CHUNK];
    uint64_t bytes = 0;
    unsigned consumed = 0;
    unsigned reposted = 0;
    bool broke = false;
    while (consumed < budget && bytes < byte_budget && !broke) {
        unsigned k = 0;
        for (; k < INISR_CHUNK && consumed < budget && bytes < byte_budget; k++) {
            uint32_t len;
            int r = inisr_take_locked(dev, &done[k], &len);
            if (r <= 0) {
                broke = r < 0;
                break;
            }
            consumed++;
            bytes += len;
            inisr_deliver_locked(dev, done[k], len);
        }
        if (!broke && !vnet_rx_repost(dev, done, k, &reposted)) {
            vnet_mark_broken_locked(dev, VNET_BROKEN_RX);
            broke = true;
        }
        if (k < INISR_CHUNK)
            break;
    }
    if (reposted != 0 && !broke && virtq_kick_prepare(dev->rx.vq))
        dev->rx.notify_pending = true;
    if (budget_hit != NULL)
        *budget_hit = consumed >= budget || bytes >= byte_budget;
    return broke ? VNET_E_BROKEN : (int)consumed;
}

int vnet_rx_poll_locked(struct virtio_net_dev *dev, unsigned budget)
{
    int n = inisr_service_locked(dev, budget, UINT32_MAX, NULL);
    vnet_rx_notify_locked(dev);
    return n;
}

bool vnet_rx_irq_locked(struct virtio_net_dev *dev)
{
    bool hit = false;
    /*
     * No byte budget here: the old design copies nothing, and nobody else takes what an
     * ISR leaves (callbacks stay on, no task is scheduled), while with EVENT_IDX the device
     * interrupts only when it passes used_event, which virtq_get() left behind the entries
     * still in the ring: those waited for an unrelated interrupt. Applying the driver's
     * default byte budget (65536 since 27e9ddf) so stranded ~43 frames per interrupt and
     * the router forwarded ~150 frames per 5 s (QEMU TCG). isr_budget (entries) stays.
     */
    int n = inisr_service_locked(dev, dev->cfg.isr_budget, UINT32_MAX, &hit);
    if (n > 0 && hit && virtq_has_used(dev->rx.vq))
        dev->stats.isr_budget_exhausted++;
    vnet_rx_notify_locked(dev);
    if (n > 0 && dev->cfg.batch_fn != NULL)
        dev->cfg.batch_fn(dev->cfg.batch_arg);
    return n > 0;
}
