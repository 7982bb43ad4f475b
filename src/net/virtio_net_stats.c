/*
 * virtio-net: counters (struct virtio_net_stats), their name table for
 * virtio_net_stats_foreach, and the debug snapshot of the queues.
 *
 * Owns: the name/offset table. Readers run in task context and copy dev->stats under
 * osal_crit (the ISR writes counters under it); the debug snapshot also takes
 * dev->tx.lock for the TX queue's state.
 */
#include <stddef.h>
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

#define VNET_STAT(f)                                                                               \
    {                                                                                              \
#f, offsetof(struct virtio_net_stats, f), sizeof(((struct virtio_net_stats *)0)->f)        \
    }
static const struct {
    const char *name;
    size_t off;
    size_t size;
} vnet_stat_table[] = {
    VNET_STAT(rx_queue_count),
    VNET_STAT(rx_queue_hwm),
    VNET_STAT(rx_queue_drops),
    VNET_STAT(rx_packets),
    VNET_STAT(rx_bytes),
    VNET_STAT(rx_bad_len),
    VNET_STAT(rx_bad_hdr),
    VNET_STAT(rx_gso_packets),
    VNET_STAT(tx_packets),
    VNET_STAT(tx_bytes),
    VNET_STAT(tx_ring_full),
    VNET_STAT(tx_bytes_full),
    VNET_STAT(tx_errors),
    VNET_STAT(tx_gso_packets),
    VNET_STAT(tx_gso_refused),
    VNET_STAT(tx_csum_sw),
    VNET_STAT(tx_space_arms),
    VNET_STAT(tx_space_events),
    VNET_STAT(tx_waits),
    VNET_STAT(tx_wait_timeouts),
    VNET_STAT(tx_zc_packets),
    VNET_STAT(tx_zc_copies),
    VNET_STAT(rx_lent),
    VNET_STAT(interrupts),
    VNET_STAT(spurious_interrupts),
    VNET_STAT(config_interrupts),
    VNET_STAT(rx_kicks),
    VNET_STAT(tx_kicks),
    VNET_STAT(rx_kicks_deferred),
    VNET_STAT(rx_task_wakeups),
    VNET_STAT(rx_task_batches),
    VNET_STAT(recheck_hits),
    VNET_STAT(rx_defers),
    VNET_STAT(task_serviced),
    VNET_STAT(isr_budget_exhausted),
    VNET_STAT(bad_used),
    VNET_STAT(resets),
    VNET_STAT(broken),
    VNET_STAT(isr_cycles_min),
    VNET_STAT(isr_cycles_max),
    VNET_STAT(isr_cycles_total),
    VNET_STAT(rx_task_cycles),
    VNET_STAT(rx_fn_cycles),
    VNET_STAT(rx_irq_owned),
    VNET_STAT(irqoff_isr_cycles_max),
    VNET_STAT(irqoff_task_cycles_max),
};
#undef VNET_STAT

/* Key names of the histogram buckets: literals, so a visitor may keep the pointer. */
static const char *const vnet_hist_names[VIRTIO_NET_ISR_HIST_BUCKETS] = {
    "isr_hist_0",  "isr_hist_1",  "isr_hist_2",  "isr_hist_3",  "isr_hist_4",  "isr_hist_5",
    "isr_hist_6",  "isr_hist_7",  "isr_hist_8",  "isr_hist_9",  "isr_hist_10", "isr_hist_11",
    "isr_hist_12", "isr_hist_13", "isr_hist_14", "isr_hist_15", "isr_hist_16", "isr_hist_17",
    "isr_hist_18", "isr_hist_19", "isr_hist_20", "isr_hist_21", "isr_hist_22", "isr_hist_23",
    "isr_hist_24", "isr_hist_25", "isr_hist_26", "isr_hist_27", "isr_hist_28", "isr_hist_29",
    "isr_hist_30", "isr_hist_31",
};

unsigned virtio_net_stat_count(void)
{
    return (unsigned)(sizeof(vnet_stat_table) / sizeof(vnet_stat_table[0])) +
           VIRTIO_NET_ISR_HIST_BUCKETS;
}

/* Clear everything but the lifetime reset count. Caller holds the critical section. */
void vnet_stats_clear_locked(struct virtio_net_dev *dev)
{
    uint64_t resets = dev->stats.resets;
    memset(&dev->stats, 0, sizeof(dev->stats));
    dev->stats.resets = resets;
}

vnet_err_t virtio_net_get_stats(const struct virtio_net_dev *dev, struct virtio_net_stats *out)
{
    if (dev == NULL || out == NULL)
        return VNET_E_INVAL;
    osal_crit_t c = osal_crit_enter();
    *out = dev->stats;
    /* head may be written by the queue owner outside the critical section (the task or
     * poller staging with interrupts on): read it once, as the tail. */
    out->rx_queue_count = VNET_READ_ONCE(dev->sw.head) - VNET_READ_ONCE(dev->sw.tail);
    out->rx_lent = vnet_lent_locked(dev);
    osal_crit_exit(c);
    return VNET_OK;
}

void virtio_net_stats_foreach(const struct virtio_net_dev *dev, virtio_net_stat_visit_fn fn,
                              void *arg)
{
    struct virtio_net_stats s;
    if (fn == NULL || virtio_net_get_stats(dev, &s) != VNET_OK)
        return;
    for (unsigned i = 0; i < sizeof(vnet_stat_table) / sizeof(vnet_stat_table[0]); i++) {
        const unsigned char *p = (const unsigned char *)&s + vnet_stat_table[i].off;
        uint64_t v;
        if (vnet_stat_table[i].size == sizeof(uint32_t)) {
            uint32_t v32;
            memcpy(&v32, p, sizeof(v32));
            v = v32;
        } else {
            memcpy(&v, p, sizeof(v));
        }
        fn(arg, vnet_stat_table[i].name, v);
    }
    for (unsigned i = 0; i < VIRTIO_NET_ISR_HIST_BUCKETS; i++)
        fn(arg, vnet_hist_names[i], s.isr_hist[i]);
}

static void vnet_queue_state(const struct virtq *vq, struct virtio_net_queue_state *o)
{
    struct virtq_state st;
    virtq_get_state(vq, &st);
    *o = (struct virtio_net_queue_state){
        .size = st.size,
        .num_free = st.num_free,
        .avail_idx = st.avail_idx,
        .published = st.published,
        .last_used = st.last_used,
        .used_idx = st.used_idx,
        .used_event = st.used_event,
        .avail_event = st.avail_event,
        .avail_flags = st.avail_flags,
        .used_flags = st.used_flags,
        .cb_disabled = st.cb_disabled,
        .event_idx = st.event_idx,
        .broken = st.broken,
    };
}

vnet_err_t virtio_net_get_debug_state(struct virtio_net_dev *dev,
                                      struct virtio_net_debug_state *out)
{
    if (dev == NULL || out == NULL)
        return VNET_E_INVAL;
    memset(out, 0, sizeof(*out));
    osal_lock_acquire(&dev->tx.lock);
    osal_crit_t c = osal_crit_enter();
    out->running = dev->state == VIRTIO_NET_ST_RUNNING;
    out->task_scheduled = dev->task_scheduled;
    out->task_active = dev->task_active;
    out->link_event = dev->link_event;
    out->sw_head = dev->sw.head;
    out->sw_tail = VNET_READ_ONCE(dev->sw.tail);
    out->sw_size = dev->sw.mask + 1u;
    out->broken = dev->stats.broken;
    if (out->running && dev->rx.vq != NULL)
        vnet_queue_state(dev->rx.vq, &out->rxq);
    osal_crit_exit(c);
    if (out->running && dev->tx.vq != NULL) {
        vnet_queue_state(dev->tx.vq, &out->txq);
        out->tx_free = dev->tx.free_top;
        out->tx_unkicked = dev->tx.unkicked;
    }
    osal_lock_release(&dev->tx.lock);
    return VNET_OK;
}
