/*
 * virtio-net RX task (virtio_net_rx_task): delivers frames from the software ring to
 * rx_fn/rx_hdr_fn, handles link changes, writes refill notifications the ISR left, and
 * re-enables RX interrupts with the handshake of docs/rx-handshake.md (disable -> drain ->
 * enable -> full barrier -> re-check).
 *
 * Owns: the consumer side of dev->sw (sw.tail, lock-free: one writer) and the
 * task_active flag. Context: the RX task only. Shared flags are read and written under
 * osal_crit; the RX notification is written under dev->tx.lock (ordered against halt).
 */
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

#ifdef VIRTIO_NET_TEST_HOOKS
void (*virtio_net_test_hook)(struct virtio_net_dev *dev, enum virtio_net_hook_point p);
#endif

/*
 * Deliver up to `budget` frames from the software ring to rx_fn. Consumer side.
 *
 * No critical section per frame: sw_tail has one writer (this task) and is one aligned
 * 32-bit store; sw_head is read once and re-read only when the cached copy is used up.
 * Halt cannot pull the ring away meanwhile: it frees nothing until this task has parked
 * (task_active), and the state check below makes the task notice a halt within one
 * frame. The counters are added once per call (profiling showed the two critical
 * sections per frame at a few percent of the task's cycles under TCG).
 */
static unsigned vnet_rx_drain(struct virtio_net_dev *dev, unsigned budget)
{
    unsigned n = 0;
    uint64_t bytes = 0;
    uint32_t tail = dev->sw.tail;
    uint32_t head = VNET_READ_ONCE(dev->sw.head);
    while (n < budget) {
        if (VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING)
            break;
        if (head == tail) {
            head = VNET_READ_ONCE(dev->sw.head);
            if (head == tail)
                break;
        }
        struct virtio_net_rx_sw_packet *e = &dev->sw.slot[tail & dev->sw.mask];
        /* Head index before the slot's len and bytes (pairs with the producer's wmb). */
        vnet_smp_rmb();
        uint32_t len = VNET_READ_ONCE(e->len);
        /* A published slot without a length is a producer bug, never a device input: skip
         * it (breaking out would leave the backlog non-empty and the task spinning). */
        if (len == 0)
            osal_log("virtio-net: software ring slot published empty, skipped");
        else if (dev->cfg.rx_hdr_fn != NULL)
            dev->cfg.rx_hdr_fn(dev->cfg.rx_arg, &e->hdr, e->data, len);
        else
            dev->cfg.rx_fn(dev->cfg.rx_arg, e->data, len);
        VNET_WRITE_ONCE(e->len, 0u);
        /* rx_fn's reads of the slot and the len clear complete before the tail hands the
         * slot back to the producer (a full barrier: loads must not pass the store). */
        vnet_smp_mb();
        tail++;
        VNET_WRITE_ONCE(dev->sw.tail, tail);
        n++;
        bytes += len;
    }
    if (n != 0) {
        osal_crit_t c = osal_crit_enter();
        dev->stats.rx_packets += n;
        dev->stats.rx_bytes += bytes;
        osal_crit_exit(c);
    }
    return n;
}

static void vnet_handle_link(struct virtio_net_dev *dev)
{
    osal_crit_t c = osal_crit_enter();
    bool ev = dev->link_event && dev->state == VIRTIO_NET_ST_RUNNING;
    dev->link_event = false;
    osal_crit_exit(c);
    if (!ev)
        return;
    if (virtio_tr_get_status(dev->tr) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        /* Spec 2.1.1: the device needs a reset; nothing it does is trustworthy until the
         * application runs virtio_net_halt() + virtio_net_initialize(). */
        c = osal_crit_enter();
        dev->stats.broken |= VNET_BROKEN_RX | VNET_BROKEN_TX;
        osal_crit_exit(c);
        osal_log("virtio-net: device set DEVICE_NEEDS_RESET");
        return;
    }
    if (!(dev->features & VIRTIO_NET_F_STATUS))
        return;
    uint16_t st = 0;
    if (virtio_tr_read_config(dev->tr, VIRTIO_NET_CFG_STATUS, &st, sizeof(st)) != VNET_OK)
        return;
    bool up = (st & VIRTIO_NET_S_LINK_UP) != 0;
    if (up != dev->link_up) {
        VNET_WRITE_ONCE(dev->link_up, up);
        if (dev->cfg.link_fn != NULL)
            dev->cfg.link_fn(dev->cfg.link_arg, up);
    }
}

/*
 * Write a refill notification taken under the critical section (the ISR's or this task's
 * service pass's), with interrupts on: it may wait for the emulator. Halt changes the
 * state under tx_lock and then resets the device, so checking the state under the same
 * lock keeps this write off a device being reset (as for TX kicks). Task context.
 */
static void vnet_rx_task_notify(struct virtio_net_dev *dev)
{
    VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_NOTIFY);
    osal_lock_acquire(&dev->tx.lock);
    if (VNET_READ_ONCE(dev->state) == VIRTIO_NET_ST_RUNNING)
        virtio_tr_notify(dev->tr, VIRTIO_NET_RXQ);
    osal_lock_release(&dev->tx.lock);
}

/*
 * Process until the backlog is gone and interrupts are safely re-armed. Entered with
 * task_active set; returns with task_active cleared (parked), ready to block.
 */
static void vnet_rx_task_run(struct virtio_net_dev *dev)
{
    unsigned budget = dev->cfg.rx_budget;
    unsigned woke_frames = 0; /* delivered since the wake-up or the last deferral */
    for (;;) {
        vnet_handle_link(dev);

        /* Leftover used entries first: RX interrupts are off, so nobody else will move
         * them, and servicing them before the stack runs hands the device its buffers
         * back at once instead of after a whole batch (a device out of buffers stops
         * receiving). Inside the critical section so it never interleaves with an ISR
         * that the device may still raise (disabling is only advisory, spec 2.7.7). */
        osal_crit_t c = osal_crit_enter();
        if (dev->state != VIRTIO_NET_ST_RUNNING) {
            /* Halt under way: we own the token we woke with, so clear the flag. */
            dev->task_scheduled = false;
            dev->task_active = false;
            osal_crit_exit(c);
            return;
        }
        int s = vnet_rx_service_locked(dev, budget, UINT32_MAX, NULL);
        if (s > 0)
            dev->stats.task_serviced += (uint64_t)s;
        /* This pass's notification or one an ISR left: a device waiting for one waits no
         * longer than this. One set later is seen before parking (step 1). */
        bool notify = vnet_rx_take_notify_locked(dev);
        osal_crit_exit(c);
        if (notify)
            vnet_rx_task_notify(dev);

        uint64_t t_fn = osal_cycles();
        unsigned delivered = vnet_rx_drain(dev, budget);
        woke_frames += delivered;
        if (delivered != 0) {
            VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_DRAIN);
            if (dev->cfg.batch_fn != NULL)
                dev->cfg.batch_fn(dev->cfg.batch_arg);
        }
        /* Includes a batch_fn sleep (the router's fairness yield): an upper bound. */
        t_fn = osal_cycles() - t_fn;

        c = osal_crit_enter();
        if (delivered != 0)
            dev->stats.rx_task_batches++;
        dev->stats.rx_fn_cycles += t_fn;
        bool backlog = s > 0 || delivered != 0 || dev->sw.head != dev->sw.tail || dev->link_event ||
                       dev->rx.notify_pending;
        osal_crit_exit(c);
        if (backlog)
            continue;

        /* Under load, poll once more after a period instead of re-arming at once (see
         * rx_defer_ms). Interrupts stay off and task_scheduled stays set, so nothing can
         * be lost meanwhile: the next pass services whatever the device completed. */
        if (dev->cfg.rx_defer_ms != 0 && woke_frames >= dev->cfg.rx_defer_min_frames) {
            woke_frames = 0;
            c = osal_crit_enter();
            dev->stats.rx_defers++;
            osal_crit_exit(c);
            VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_DEFER);
            osal_sleep_ms(dev->cfg.rx_defer_ms);
            continue;
        }

        /* --- Handshake (docs/rx-handshake.md). Step 1: nothing left anywhere. --- */
        VNET_HOOK(dev, VIRTIO_NET_HOOK_BACKLOG_EMPTY);
        c = osal_crit_enter();
        if (dev->state != VIRTIO_NET_ST_RUNNING) {
            dev->task_scheduled = false;
            dev->task_active = false;
            osal_crit_exit(c);
            return;
        }
        if (dev->sw.head != dev->sw.tail || dev->link_event || dev->rx.notify_pending) {
            /* An ISR staged work, or left a notification, since the check above
             * (interrupts are advisory-off). */
            osal_crit_exit(c);
            continue;
        }
        /* Step 2: from here an ISR must post again, because we may block. */
        dev->task_scheduled = false;
        osal_crit_exit(c);
        VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_CLEAR);

        /* Step 3: re-arm, full barrier, re-check used->idx (inside virtq_enable_cb). A
         * completion the device wrote before it saw the re-arm may never interrupt, so
         * the re-check result decides, not the hope of an interrupt. */
        bool go_round = false;
        c = osal_crit_enter();
        if (vnet_rx_queue_ok_locked(dev)) {
            bool pending = virtq_enable_cb(dev->rx.vq);
            if (pending) {
                dev->stats.recheck_hits++;
                if (!dev->task_scheduled) {
                    /* Nobody posted: keep the work ourselves, interrupts off again. No
                     * post, so the semaphore stays at 0. */
                    dev->task_scheduled = true;
                    virtq_disable_cb(dev->rx.vq);
                    go_round = true;
                }
                /* else an ISR ran after step 2 and posted: the token wakes us at once;
                 * going round without taking it would let the count reach 2. */
            }
        }
        if (!go_round) {
            /* Parked: halt may now free what the task uses. If the state is no longer
             * RUNNING, task_scheduled is left alone: it is true only when a token is
             * pending, which the next wait consumes. */
            dev->task_active = false;
        }
        osal_crit_exit(c);
        VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_ENABLE);
        VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_DECIDE);
        if (go_round)
            continue;
        VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_BLOCK);
        return;
    }
}

void virtio_net_rx_task(void *arg)
{
    struct virtio_net_dev *dev = arg;
    for (;;) {
        vnet_err_t err = osal_sem_wait(&dev->sem, 0);
        if (err != VNET_OK) {
            /* Not expected with an infinite wait; back off instead of spinning. */
            osal_sleep_ms(1);
            continue;
        }
        osal_crit_t c = osal_crit_enter();
        if (dev->task_stop) {
            dev->task_scheduled = false;
            osal_crit_exit(c);
            return;
        }
        if (dev->state != VIRTIO_NET_ST_RUNNING) {
            /* Woken for a device that has been halted meanwhile: token consumed. */
            dev->task_scheduled = false;
            osal_crit_exit(c);
            continue;
        }
        dev->task_active = true;
        osal_crit_exit(c);
        uint64_t t0 = osal_cycles();
        vnet_rx_task_run(dev);
        t0 = osal_cycles() - t0;
        /* Parked: halt may have cleared the stats meanwhile; a late add is harmless. */
        c = osal_crit_enter();
        dev->stats.rx_task_cycles += t0;
        osal_crit_exit(c);
    }
}
