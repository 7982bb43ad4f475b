/*
 * virtio-net zero-copy forwarding (virtio_net_forward, docs/driver.md "Zero-copy
 * forwarding"): a frame being delivered from a software ring slot is posted on another
 * device's TX ring as it is; the ring entry takes a spare slot (cfg.rx_lend_bufs), and the
 * TX reclaim gives the lent slot back as a spare. Here: the lend decision, the spare stack
 * and peer table, the slots' return on reclaim and on halt.
 *
 * Owns: dev->sw.spare, spare_top and peer (under osal_crit, constant work). Context:
 * tasks: the lending device's RX task (virtio_net_forward, inside its receive callback),
 * any sender reclaiming a TX ring (vnet_lend_put), halt.
 */
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

/* Constant work under osal_crit: the lending task pops spares under it, and any sender
 * may be the one reclaiming. Also undoes a vnet_lend_take whose send failed. */
void vnet_lend_put(struct virtio_net_dev *in, struct virtio_net_dev *out, uint8_t *slot)
{
    osal_crit_t c = osal_crit_enter();
    in->sw.spare[in->sw.spare_top++] = slot;
    for (unsigned i = 0; i < VIRTIO_NET_LEND_PEERS; i++) {
        if (in->sw.peer[i].dev == out) {
            if (--in->sw.peer[i].lent == 0)
                in->sw.peer[i].dev = NULL;
            break;
        }
    }
    osal_crit_exit(c);
}

void vnet_tx_return_lent_locked(struct virtio_net_dev *dev)
{
    for (uint16_t i = 0; dev->tx.bufs != NULL && i < dev->tx.count; i++) {
        struct virtio_net_buf *b = &dev->tx.bufs[i];
        if (b->lent != NULL) {
            vnet_lend_put(b->lent_dev, dev, b->lent);
            b->lent = NULL;
        }
    }
}

/*
 * Can `in` lend the slot behind frame[0..len) to `out` now? From in's consumer only: the
 * entry being delivered (sw.cur), the frame inside its slot with room for out's header in
 * front. Reads only what in's consumer itself writes, plus out's negotiated layout
 * (fixed while out runs; vnet_tx_send re-checks out's state under its lock).
 */
static uint8_t *vnet_lend_slot(const struct virtio_net_dev *out, const struct virtio_net_dev *in,
                               const uint8_t *frame, size_t len)
{
    const struct virtio_net_rx_sw_packet *e = in->sw.cur;
    if (e == NULL || in->sw.spare == NULL || VNET_READ_ONCE(out->state) != VIRTIO_NET_ST_RUNNING ||
        out->hdr_separate)
        return NULL;
    uint8_t *slot = e->data - VIRTIO_NET_RX_PAD;
    if ((uintptr_t)frame < (uintptr_t)slot + out->hdr_len ||
        (uintptr_t)frame > (uintptr_t)slot + in->sw.stride ||
        len > (size_t)((uintptr_t)slot + in->sw.stride - (uintptr_t)frame))
        return NULL;
    return slot;
}

/* A spare of `in` to take a lent slot's place, counted on out's entry in in's peer table,
 * or NULL (none left, or no free peer entry). Constant work under osal_crit. */
static uint8_t *vnet_lend_take(struct virtio_net_dev *in, struct virtio_net_dev *out)
{
    uint8_t *spare = NULL;
    unsigned p = VIRTIO_NET_LEND_PEERS;
    osal_crit_t c = osal_crit_enter();
    for (unsigned i = 0; i < VIRTIO_NET_LEND_PEERS && p == VIRTIO_NET_LEND_PEERS; i++)
        if (in->sw.peer[i].dev == out)
            p = i;
    for (unsigned i = 0; i < VIRTIO_NET_LEND_PEERS && p == VIRTIO_NET_LEND_PEERS; i++)
        if (in->sw.peer[i].dev == NULL)
            p = i;
    if (in->sw.spare_top != 0 && p != VIRTIO_NET_LEND_PEERS) {
        spare = in->sw.spare[--in->sw.spare_top];
        in->sw.peer[p].dev = out;
        in->sw.peer[p].lent++;
    }
    osal_crit_exit(c);
    return spare;
}

vnet_err_t virtio_net_forward(struct virtio_net_dev *out, struct virtio_net_dev *in,
                              const struct virtio_net_hdr *hdr, void *frame, size_t len,
                              unsigned flags, uint32_t timeout_ms)
{
    if (out == NULL || frame == NULL)
        return VNET_E_INVAL;
    struct virtio_net_rx_sw_packet *e = in != NULL ? in->sw.cur : NULL;
    uint8_t *slot = in != NULL ? vnet_lend_slot(out, in, frame, len) : NULL;
    uint8_t *spare = NULL;
    if (slot != NULL) {
        spare = vnet_lend_take(in, out);
        if (spare == NULL) {
            /* No spare: out's ring may hold completed chains with slots of ours, which its
             * send would reclaim only after the spare was needed. Reclaim, then retry. */
            vnet_tx_reclaim(out);
            spare = vnet_lend_take(in, out);
        }
    }
    if (spare == NULL) {
        const struct vnet_lend copy = {in, NULL};
        return vnet_tx_send_wait(out, hdr, frame, len, flags, timeout_ms, &copy);
    }
    const struct vnet_lend ld = {in, slot};
    vnet_err_t err = vnet_tx_send_wait(out, hdr, frame, len, flags, timeout_ms, &ld);
    if (err == VNET_OK) {
        /* The entry takes the spare; the consumer hands the entry back to the producer
         * only after this (its full barrier before the tail store orders the pointer). */
        e->data = spare + VIRTIO_NET_RX_PAD;
    } else {
        vnet_lend_put(in, out, spare); /* nothing was lent: the spare goes back */
    }
    return err;
}

/* halt's wait for lent slots: done when none is out; else reclaim the peers' rings once. */
static bool vnet_lend_all_home(struct virtio_net_dev *dev)
{
    struct virtio_net_dev *peers[VIRTIO_NET_LEND_PEERS];
    osal_crit_t c = osal_crit_enter();
    uint16_t lent = vnet_lent_locked(dev);
    for (unsigned i = 0; i < VIRTIO_NET_LEND_PEERS; i++)
        peers[i] = dev->sw.peer[i].dev;
    osal_crit_exit(c);
    if (lent == 0)
        return true;
    /* A peer with slots of ours holds them until its chains are reclaimed, which
     * otherwise happens only on its next send. (A peer halting meanwhile gives them back
     * itself; devices that forward to each other are halted one at a time. Slots on this
     * device's own ring, a frame sent back out of the NIC it came in on, came back when
     * halt reset it, and this device is not running: no reclaim here.) */
    for (unsigned i = 0; i < VIRTIO_NET_LEND_PEERS; i++)
        if (peers[i] != NULL)
            vnet_tx_reclaim(peers[i]);
    return false;
}

vnet_err_t vnet_lend_collect(struct virtio_net_dev *dev)
{
    return vnet_wait_bounded(dev, vnet_lend_all_home);
}
