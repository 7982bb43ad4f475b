/*
 * virtio-net interrupt entry points: virtio_net_isr (shared line), virtio_net_rx_isr and
 * virtio_net_config_isr (MSI-X vectors). An RX interrupt turns RX callbacks off, services
 * the queue (virtio_net_rx.c) and hands the frames to the RX task, or re-arms when it found
 * nothing (docs/rx-handshake.md, "ISR re-arm"); a config interrupt leaves the link check to
 * the task. Also the per-interrupt cycle accounting.
 *
 * Context: interrupt only (or a test standing in for one). Everything runs under osal_crit.
 */
#include "net/virtio_net_priv.h"

/* RX work of an interrupt. Returns true when it found something to do. */
static bool vnet_rx_irq_locked(struct virtio_net_dev *dev)
{
#ifndef VIRTIO_NET_RX_IN_ISR
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
#endif
    /* isr_budget_bytes bounds the copy work (GSO frames are up to 64 KiB each). */
    bool hit = false;
    int n = vnet_rx_service_locked(dev, dev->cfg.isr_budget, dev->cfg.isr_budget_bytes, &hit);
    if (n > 0 && hit && virtq_has_used(dev->rx.vq))
        dev->stats.isr_budget_exhausted++;
    bool staged = dev->sw.head != dev->sw.tail;
    vnet_rx_handoff_locked(dev);
#ifndef VIRTIO_NET_RX_IN_ISR
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
#endif
#ifndef VIRTIO_NET_RX_IN_ISR
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
#endif
        vnet_rx_notify_locked(dev);
#ifdef VIRTIO_NET_RX_IN_ISR
    /* Old design: this ISR's frames are the batch. Without it the stack's transmits
     * (posted with SEND_MORE until the batch ends) were never kicked and nothing was
     * forwarded, since the task that normally calls batch_fn never runs in this build. */
    if (n > 0 && dev->cfg.batch_fn != NULL)
        dev->cfg.batch_fn(dev->cfg.batch_arg);
#endif
    /* Work done: frames consumed (copied or dropped) or staged ones handed off. */
    return n > 0 || staged;
}

/* floor(log2(d)) clamped to the histogram (0 -> bucket 0): one bsr, cheap in an ISR. */
static inline unsigned vnet_log2_bucket(uint64_t d)
{
    if (d == 0)
        return 0;
    unsigned b = 63u - (unsigned)__builtin_clzll(d);
    return b < VIRTIO_NET_ISR_HIST_BUCKETS ? b : VIRTIO_NET_ISR_HIST_BUCKETS - 1u;
}

static void vnet_isr_account_locked(struct virtio_net_dev *dev, uint64_t t0, bool did)
{
    uint64_t d = osal_cycles() - t0;
    if (!did)
        dev->stats.spurious_interrupts++;
    if (dev->stats.interrupts == 1 || d < dev->stats.isr_cycles_min)
        dev->stats.isr_cycles_min = d;
    if (d > dev->stats.isr_cycles_max)
        dev->stats.isr_cycles_max = d;
    dev->stats.isr_cycles_total += d;
    dev->stats.isr_hist[vnet_log2_bucket(d)]++;
}

static void vnet_config_irq_locked(struct virtio_net_dev *dev)
{
    dev->stats.config_interrupts++;
    /* Config space is read by the task (transport reads are task context). */
    dev->link_event = true;
    vnet_schedule_task_locked(dev);
}

void virtio_net_isr(struct virtio_net_dev *dev)
{
    uint64_t t0 = osal_cycles();
    osal_crit_t c = osal_crit_enter();
    dev->stats.interrupts++;
    /* Reading ISR status acknowledges it and deasserts a level-triggered line (spec
     * 4.1.4.5); do it even when halted so a stray interrupt cannot storm. */
    uint8_t isr = virtio_tr_isr_status(dev->tr);
    bool did = false;
    if (dev->state == VIRTIO_NET_ST_RUNNING) {
        if (isr & VIRTIO_ISR_CONFIG) {
            vnet_config_irq_locked(dev);
            did = true;
        }
        if (isr & VIRTIO_ISR_QUEUE)
            did = vnet_rx_irq_locked(dev) || did;
    }
    vnet_isr_account_locked(dev, t0, did);
    osal_crit_exit(c);
}

void virtio_net_rx_isr(struct virtio_net_dev *dev)
{
    uint64_t t0 = osal_cycles();
    osal_crit_t c = osal_crit_enter();
    dev->stats.interrupts++;
    bool did = dev->state == VIRTIO_NET_ST_RUNNING && vnet_rx_irq_locked(dev);
    vnet_isr_account_locked(dev, t0, did);
    osal_crit_exit(c);
}

void virtio_net_config_isr(struct virtio_net_dev *dev)
{
    uint64_t t0 = osal_cycles();
    osal_crit_t c = osal_crit_enter();
    dev->stats.interrupts++;
    bool did = false;
    if (dev->state == VIRTIO_NET_ST_RUNNING) {
        vnet_config_irq_locked(dev);
        did = true;
    }
    vnet_isr_account_locked(dev, t0, did);
    osal_crit_exit(c);
}
