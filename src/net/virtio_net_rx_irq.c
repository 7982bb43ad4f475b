/*
 * virtio-net: what an RX interrupt does in the driver's receive design (the seed's
 * NAPI-style one): RX callbacks off, service the queue into the software ring
 * (virtio_net_rx.c), hand the frames to the RX task, or re-arm with a re-check when there
 * were none; the refill notification is left to a scheduled task. vnet_rx_poll_locked (what
 * virtio_net_service_rx_ring runs) does the same work from a task.
 *
 * This is the one unit a receive design replaces: the benchmark-only old design
 * (bench/in-isr/) links its own file in place of this one, against the same internal
 * interface. Context: the ISR (virtio_net_isr.c), or a task; all under osal_crit.
 */
#include "net/virtio_net_priv.h"

const struct vnet_rx_design vnet_rx_design = {
    .name = "napi (software ring + RX task)",
    .keeps_hdr = true,
    .delivers_in_isr = false,
};

/*
 * Hand staged frames to the RX task: callbacks off, task scheduled (once). Called after
 * every service pass outside the task, including one that stopped because the queue
 * broke: frames already copied must still be delivered. Caller holds the critical section.
 */
static void vnet_rx_handoff_locked(struct virtio_net_dev *dev)
{
    if (dev->state != VIRTIO_NET_ST_RUNNING || dev->sw.head == dev->sw.tail)
        return;
    /* Interrupts stay off until the task has drained the backlog; the task re-enables
     * them with the handshake. */
    virtq_disable_cb(dev->rx.vq);
    vnet_schedule_task_locked(dev);
}

/*
 * The ISR's pass over the queue it owns: callbacks off, service within the ISR budgets,
 * tallies committed, staged frames handed to the task. Caller holds the critical section
 * and checked that the task does not own the queue.
 */
static int vnet_rx_isr_pass_locked(struct virtio_net_dev *dev, unsigned budget, uint32_t bytes,
                                   bool *hit)
{
    struct vnet_rx_pass p = {.budget = budget, .byte_budget = bytes};
    int n = vnet_rx_service(dev, &p);
    vnet_rx_pass_commit_locked(dev, &p);
    *hit = p.budget_hit;
    /* Frames this pass staged reach the task even when no interrupt follows (a caller
     * outside the ISR: the pending interrupt then finds the used ring empty). Also after
     * a pass that stopped because the queue broke: frames copied must be delivered. */
    vnet_rx_handoff_locked(dev);
    return n;
}

int vnet_rx_poll_locked(struct virtio_net_dev *dev, unsigned budget)
{
    /* One owner at a time: while the RX task (or the poller) owns the queue this pass
     * leaves it alone, as the ISR does (a broken queue is reported either way). */
    if (!vnet_rx_queue_ok_locked(dev) && dev->state == VIRTIO_NET_ST_RUNNING && dev->rx.vq != NULL)
        return VNET_E_BROKEN;
    if (dev->task_scheduled)
        return 0;
    bool hit;
    int n = vnet_rx_isr_pass_locked(dev, budget, dev->cfg.isr_budget_bytes, &hit);
    vnet_rx_notify_locked(dev);
    return n;
}

/* RX work of an interrupt. Returns true when it found something to do. */
bool vnet_rx_irq_locked(struct virtio_net_dev *dev)
{
    if (dev->task_scheduled) {
        /* The task owns the queue (scheduled or running): acknowledge and count, never
         * walk the ring. Its callbacks are off, so this is the device interrupting anyway
         * (suppression is advisory, spec 2.7.7) or a line shared with others. */
        dev->stats.rx_irq_owned++;
        return false;
    }
    /*
     * Callbacks off before servicing, not after. With EVENT_IDX an enabled queue has
     * virtq_get() move used_event along with every entry taken, so the device, refilling
     * the buffers this ISR recycles, raised a fresh interrupt per entry it added
     * meanwhile; latched, it ran right after this ISR, before the task had drained
     * anything, and overflowed the software ring (bench/perf: 193 such interrupts and
     * 9,317 rx_queue_drops in a 5 s TCP run, TCG). Off also spares virtq_get() its
     * per-entry device barrier, which under TCG is a port read (osal_device_mb).
     */
    bool own = vnet_rx_queue_ok_locked(dev);
    if (own)
        virtq_disable_cb(dev->rx.vq);
    /* isr_budget_bytes bounds the copy work (GSO frames are up to 64 KiB each). */
    bool hit = false;
    int n = vnet_rx_isr_pass_locked(dev, dev->cfg.isr_budget, dev->cfg.isr_budget_bytes, &hit);
    if (n > 0 && hit && virtq_has_used(dev->rx.vq))
        dev->stats.isr_budget_exhausted++;
    bool staged = dev->sw.head != dev->sw.tail;
    if (own && !dev->task_scheduled && vnet_rx_queue_ok_locked(dev)) {
        /* Nothing handed to the task (a stray interrupt): nobody else would re-enable, so
         * re-arm here with the task's re-check (docs/rx-handshake.md, "ISR re-arm");
         * work the re-check finds goes to the task, callbacks off again. */
        VNET_HOOK(dev, VIRTIO_NET_HOOK_ISR_REARM);
        if (virtq_enable_cb(dev->rx.vq)) {
            dev->stats.recheck_hits++;
            virtq_disable_cb(dev->rx.vq);
            vnet_schedule_task_locked(dev);
            staged = true;
        }
    }
    /*
     * A refill notification is an emulated register write; under QEMU TCG it waits for
     * the emulator's global mutex, which the I/O thread may hold for a whole batch. When
     * the task is scheduled it runs right after this ISR and writes it after its first
     * service pass (it cannot park while one is pending); the device already sees the
     * buffers. Otherwise nobody else would: write it now.
     */
    if (dev->rx.notify_pending && dev->task_scheduled)
        dev->stats.rx_kicks_deferred++;
    else
        vnet_rx_notify_locked(dev);
    /* Work done: frames consumed (copied or dropped) or staged ones handed off. */
    return n > 0 || staged;
}
