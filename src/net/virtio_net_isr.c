/*
 * virtio-net interrupt entry points: virtio_net_isr (shared line), virtio_net_rx_isr,
 * virtio_net_tx_isr and virtio_net_config_isr (MSI-X vectors). The TX part only delivers
 * the TX space event (vnet_tx_irq_locked, virtio_net_tx.c). The RX part of an interrupt is the
 * receive design's (vnet_rx_irq_locked, virtio_net_rx_irq.c); a config interrupt leaves the link
 * check to the task. Also the per-interrupt accounting (count, cycles, histogram).
 *
 * Context: interrupt only (or a test standing in for one). Everything runs under osal_crit.
 */
#include "net/virtio_net_priv.h"

/* floor(log2(d)) clamped to the histogram (0 -> bucket 0): one bsr, cheap in an ISR. */
static inline unsigned vnet_log2_bucket(uint64_t d)
{
    if (d == 0)
        return 0;
    unsigned b = 63u - (unsigned)__builtin_clzll(d);
    return b < VIRTIO_NET_ISR_HIST_BUCKETS ? b : VIRTIO_NET_ISR_HIST_BUCKETS - 1u;
}

/* t0: the ISR's start; tk: when it masked interrupts (its critical section). */
static void vnet_isr_account_locked(struct virtio_net_dev *dev, uint64_t t0, uint64_t tk, bool did)
{
    uint64_t now = osal_cycles();
    uint64_t d = now - t0;
    if (now - tk > dev->stats.irqoff_isr_cycles_max)
        dev->stats.irqoff_isr_cycles_max = now - tk;
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

/*
 * One interrupt: counted, timed and accounted around `work` (true: there was work), all
 * under one critical section. Inline with a constant `work`, so each entry point is
 * compiled as if written out.
 */
static inline void vnet_isr_run(struct virtio_net_dev *dev,
                                bool (*work)(struct virtio_net_dev *dev))
{
    uint64_t t0 = osal_cycles();
    osal_crit_t c = osal_crit_enter();
    uint64_t tk = osal_cycles();
    dev->stats.interrupts++;
    bool did = work(dev);
    vnet_isr_account_locked(dev, t0, tk, did);
    osal_crit_exit(c);
}

static bool vnet_shared_work_locked(struct virtio_net_dev *dev)
{
    /* Reading ISR status acknowledges it and deasserts a level-triggered line (spec
     * 4.1.4.5); do it even when halted so a stray interrupt cannot storm. */
    uint8_t isr = virtio_tr_isr_status(dev->tr);
    bool did = false;
    if (dev->state == VIRTIO_NET_ST_RUNNING) {
        if (isr & VIRTIO_ISR_CONFIG) {
            vnet_config_irq_locked(dev);
            did = true;
        }
        if (isr & VIRTIO_ISR_QUEUE) {
            /* The bit does not say which queue: both look (TX only delivers its event). */
            did = vnet_rx_irq_locked(dev) || did;
            did = vnet_tx_irq_locked(dev) || did;
        }
    }
    return did;
}

static bool vnet_rx_work_locked(struct virtio_net_dev *dev)
{
    return dev->state == VIRTIO_NET_ST_RUNNING && vnet_rx_irq_locked(dev);
}

static bool vnet_config_work_locked(struct virtio_net_dev *dev)
{
    if (dev->state != VIRTIO_NET_ST_RUNNING)
        return false;
    vnet_config_irq_locked(dev);
    return true;
}

void virtio_net_isr(struct virtio_net_dev *dev)
{
    vnet_isr_run(dev, vnet_shared_work_locked);
}

void virtio_net_rx_isr(struct virtio_net_dev *dev)
{
    vnet_isr_run(dev, vnet_rx_work_locked);
}

void virtio_net_tx_isr(struct virtio_net_dev *dev)
{
    vnet_isr_run(dev, vnet_tx_irq_locked);
}

void virtio_net_config_isr(struct virtio_net_dev *dev)
{
    vnet_isr_run(dev, vnet_config_work_locked);
}
