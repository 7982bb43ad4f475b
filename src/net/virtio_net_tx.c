/*
 * virtio-net transmit: virtio_net_send/virtio_net_send_hdr copy a frame into a free TX
 * slot (header validated against what was negotiated, checksum completed in software when
 * the device has no CSUM), post it, and kick unless SEND_MORE; completed slots are
 * reclaimed on the send path (TX interrupts stay off while there is space);
 * virtio_net_flush kicks what SEND_MORE deferred. A send that finds the ring full arms a
 * TX completion event (virtio_net_send_wait blocks on it); the TX interrupt only delivers
 * the event (docs/tx-handshake.md). vnet_tx_send(_wait) also post a lent software-ring slot
 * as it is for virtio_net_forward (virtio_net_lend.c).
 *
 * Owns: dev->tx. Context: tasks, except vnet_tx_irq_locked (ISR). The send path runs
 * under dev->tx.lock, counters included; the event state (tx.space_armed, tx.waiters)
 * and its counters are touched under osal_crit only, which is all the ISR touches.
 */
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

#ifdef VIRTIO_NET_TEST_HOOKS
void (*virtio_net_tx_test_hook)(struct virtio_net_dev *dev, enum virtio_net_tx_hook_point p);
#endif

void vnet_tx_reclaim_locked(struct virtio_net_dev *dev)
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
        struct virtio_net_buf *b = cookie;
        if (b->lent != NULL) {
            vnet_lend_put(b->lent_dev, dev, b->lent);
            b->lent = NULL;
        }
        dev->tx.free[dev->tx.free_top++] = b->slot;
        dev->tx.inflight_bytes -= b->len;
    }
}

void vnet_tx_reclaim(struct virtio_net_dev *dev)
{
    osal_lock_acquire(&dev->tx.lock);
    if (dev->tx.vq != NULL && VNET_READ_ONCE(dev->state) == VIRTIO_NET_ST_RUNNING)
        vnet_tx_reclaim_locked(dev);
    osal_lock_release(&dev->tx.lock);
}

/* No room for another frame: no free slot, or the byte limit reached (with something in
 * flight, so a completion will come; a frame alone may exceed the limit). Caller holds
 * tx_lock. */
static bool vnet_tx_full_locked(const struct virtio_net_dev *dev)
{
    return dev->tx.free_top == 0 ||
           (dev->cfg.tx_max_bytes != 0 && dev->tx.inflight_bytes >= dev->cfg.tx_max_bytes);
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
 * The ring is full: arm the TX completion event, the handshake of docs/tx-handshake.md.
 * Callbacks are off (TX interrupts stay off while there is space); the caller has just
 * reclaimed and found no slot. Under the critical section (the ISR cannot run between
 * the flag and the ring's event word): flag armed, enable with used_event 3/4 ahead,
 * full barrier, re-check. Returns true when the event is armed and nothing had completed
 * meanwhile (an interrupt will come: report BUSY); false when completions raced in (the
 * event is withdrawn again, callbacks off: reclaim and retry). Caller holds tx_lock.
 */
static bool vnet_tx_arm_locked(struct virtio_net_dev *dev)
{
    VNET_TX_HOOK(dev, VIRTIO_NET_TX_HOOK_FULL);
    osal_crit_t c = osal_crit_enter();
    dev->tx.space_armed = true;
    dev->stats.tx_space_arms++;
    bool pending = virtq_enable_cb_delayed(dev->tx.vq);
    if (pending) {
        /* Completions are there now; they may or may not interrupt (they happened before
         * the barrier). Taking them here is the sender's job, not the ISR's. */
        virtq_disable_cb(dev->tx.vq);
        dev->tx.space_armed = false;
        dev->stats.tx_space_arms--;
    }
    osal_crit_exit(c);
    if (!pending)
        VNET_TX_HOOK(dev, VIRTIO_NET_TX_HOOK_ARMED);
    return !pending;
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

/*
 * One send attempt: virtio_net_send_hdr, or with `ld` the frame posted where it is (its
 * header written in front of it, a software checksum completed in place) instead of
 * copied into the TX slot's buffer; the chain then keeps the lent slot until reclaimed
 * (priv.h, struct vnet_lend).
 */
static vnet_err_t vnet_tx_send(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                               const void *frame, size_t len, unsigned flags,
                               const struct vnet_lend *ld)
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
    /* Bounded: each failed arm means the device completed chains, which the next reclaim
     * takes; a device that shows completions the reclaim cannot take broke the queue. */
    for (unsigned round = 0; vnet_tx_full_locked(dev); round++) {
        /* Frames deferred with SEND_MORE fill the ring without a kick; the device would
         * never drain them, so kick before waiting for space. */
        if (dev->tx.unkicked != 0)
            vnet_tx_kick_locked(dev);
        if (round == 4 || vnet_tx_arm_locked(dev)) {
            dev->stats.tx_ring_full++;
            if (dev->tx.free_top != 0)
                dev->stats.tx_bytes_full++;
            err = VNET_E_BUSY;
            goto out;
        }
        vnet_tx_reclaim_locked(dev);
        if (virtq_is_broken(dev->tx.vq) || (dev->stats.broken & VNET_BROKEN_TX)) {
            dev->stats.tx_errors++;
            err = VNET_E_BROKEN;
            goto out;
        }
    }
    uint16_t slot = dev->tx.free[--dev->tx.free_top];
    struct virtio_net_buf *b = &dev->tx.bufs[slot];
    bool gso = false;
    /* Where the header and frame go: the TX slot's buffer (the frame copied in), or, lent,
     * the RX slot itself (the frame already there, the header in the headroom before it). */
    bool lend = ld != NULL && ld->slot != NULL;
    uint8_t *cpu = b->cpu;
    uint64_t dma = b->dma;
    if (lend) {
        cpu = (uint8_t *)(uintptr_t)frame - dev->hdr_len;
        dma = ld->in->sw.data_dma + (uint64_t)(cpu - ld->in->sw.data);
    }
    if (hdr == NULL) {
        /* An all-zero header means "complete frame, no GSO". Copying, always the full
         * 12-byte struct (a constant size the compiler turns into two stores, where
         * hdr_len needed a call): with a 10-byte header the last two zeros land where the
         * frame copy below writes next. Lent, exactly hdr_len: the frame follows. */
        static const struct virtio_net_hdr zero_hdr;
        _Static_assert(sizeof(zero_hdr) == VIRTIO_NET_HDR_LEN_V1, "12-byte header");
        if (lend)
            memcpy(cpu, &zero_hdr, dev->hdr_len);
        else
            memcpy(cpu, &zero_hdr, sizeof(zero_hdr));
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
        memcpy(cpu, &w, dev->hdr_len);
        gso = (hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
    }
    /* One copy into the DMA buffer (none when lent); only a frame to checksum is read a
     * second time. */
    if (!lend)
        memcpy(cpu + dev->hdr_len, frame, len);
    if (hdr != NULL && sw_csum)
        virtio_net_csum_complete(cpu + dev->hdr_len, len, hdr->csum_start, hdr->csum_offset);
    /* Header and frame are written: hand them to the device (os/osal.h) before the
     * descriptor naming them can be seen. */
    osal_dma_sync_for_device(cpu, dev->hdr_len + len);
    struct virtq_seg segs[2];
    uint16_t nseg;
    if (dev->hdr_separate) {
        segs[0] = (struct virtq_seg){dma, dev->hdr_len, false};
        segs[1] = (struct virtq_seg){dma + dev->hdr_len, (uint32_t)len, false};
        nseg = 2;
    } else {
        segs[0] = (struct virtq_seg){dma, (uint32_t)(dev->hdr_len + len), false};
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
    b->len = (uint32_t)len;
    if (lend) {
        b->lent = ld->slot;
        b->lent_dev = ld->in;
        dev->stats.tx_zc_packets++;
    } else if (ld != NULL) {
        dev->stats.tx_zc_copies++;
    }
    dev->tx.inflight_bytes += (uint32_t)len;
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

vnet_err_t virtio_net_send_hdr(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                               const void *frame, size_t len, unsigned flags)
{
    return vnet_tx_send(dev, hdr, frame, len, flags, NULL);
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

vnet_err_t vnet_tx_send_wait(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                             const void *frame, size_t len, unsigned flags, uint32_t timeout_ms,
                             const struct vnet_lend *ld)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    /* An ISR cannot block: there this is one attempt, as virtio_net_send_hdr() (a stack
     * that runs inside the interrupt, like the benchmark-only in-ISR design, then sees
     * VNET_E_BUSY on a full ring instead of stalling the interrupt for the timeout). */
    if (osal_in_isr())
        return vnet_tx_send(dev, hdr, frame, len, flags, ld);
    /* Registered before the first attempt: an event delivered between a BUSY result and
     * the wait below leaves its token in the semaphore (no lost wakeup). */
    osal_crit_t c = osal_crit_enter();
    dev->tx.waiters++;
    osal_crit_exit(c);
    vnet_err_t err;
    uint32_t polled_ms = 0;
    bool counted = false;
    for (;;) {
        err = vnet_tx_send(dev, hdr, frame, len, flags, ld);
        if (err != VNET_E_BUSY)
            break;
        if (!counted) {
            c = osal_crit_enter();
            dev->stats.tx_waits++;
            osal_crit_exit(c);
            counted = true;
        }
        if (!VNET_READ_ONCE(dev->tx.irq)) {
            /* No TX interrupt route: the event is armed but never delivered; poll. */
            if (timeout_ms != 0 && polled_ms >= timeout_ms) {
                err = VNET_E_TIMEOUT;
                break;
            }
            osal_sleep_ms(1);
            polled_ms++;
            continue;
        }
        VNET_TX_HOOK(dev, VIRTIO_NET_TX_HOOK_BEFORE_WAIT);
        vnet_err_t w = osal_sem_wait(&dev->tx.space_sem, timeout_ms);
        if (w != VNET_OK) {
            err = w;
            break;
        }
    }
    c = osal_crit_enter();
    dev->tx.waiters--;
    if (err == VNET_E_TIMEOUT)
        dev->stats.tx_wait_timeouts++;
    osal_crit_exit(c);
    return err;
}

vnet_err_t virtio_net_send_wait(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                                const void *frame, size_t len, unsigned flags, uint32_t timeout_ms)
{
    return vnet_tx_send_wait(dev, hdr, frame, len, flags, timeout_ms, NULL);
}

bool vnet_tx_irq_locked(struct virtio_net_dev *dev)
{
    if (dev->state != VIRTIO_NET_ST_RUNNING || dev->tx.vq == NULL)
        return false;
    /* Off again at once, armed or not (a stray one: a reclaim that raced the previous
     * delivery may have moved used_event): TX interrupts stay off while there is space.
     * This touches only the ring's event word and the queue's callback flag, which the
     * sender changes only under this same critical section; the reclaim stays with the
     * sender, under its lock (reclaiming here would race it). */
    virtq_disable_cb(dev->tx.vq);
    if (!dev->tx.space_armed)
        return false;
    dev->tx.space_armed = false;
    dev->stats.tx_space_events++;
    /* One token per registered waiter (each takes at most one per wait): the count stays
     * bounded by the number of senders. */
    for (uint16_t i = 0; i < dev->tx.waiters; i++)
        (void)osal_sem_post(&dev->tx.space_sem);
    if (dev->cfg.tx_space_fn != NULL)
        dev->cfg.tx_space_fn(dev->cfg.tx_space_arg);
    return true;
}

void vnet_tx_halt_wake_locked(struct virtio_net_dev *dev)
{
    dev->tx.space_armed = false;
    for (uint16_t i = 0; i < dev->tx.waiters; i++)
        (void)osal_sem_post(&dev->tx.space_sem);
}

vnet_err_t vnet_tx_attach(struct virtio_net_dev *dev)
{
    return osal_sem_init(&dev->tx.space_sem, 0);
}

/* detach: no sender is inside send_wait any more. */
static bool vnet_tx_no_waiters(struct virtio_net_dev *dev)
{
    osal_crit_t c = osal_crit_enter();
    uint16_t w = dev->tx.waiters;
    osal_crit_exit(c);
    return w == 0;
}

vnet_err_t vnet_tx_detach(struct virtio_net_dev *dev)
{
    /* halt woke every waiter; they only need to run to the end of send_wait (one that
     * arrives later finds the device halted and never blocks). */
    if (vnet_wait_bounded(dev, vnet_tx_no_waiters) != VNET_OK)
        return VNET_E_TIMEOUT;
    osal_sem_destroy(&dev->tx.space_sem);
    return VNET_OK;
}
