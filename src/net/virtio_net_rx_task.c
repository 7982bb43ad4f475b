/*
 * virtio-net RX task (virtio_net_rx_task) and its poll-mode stand-ins (virtio_net_poll,
 * virtio_net_poll_arm: the application's task as the queue owner): delivers frames from
 * the software ring to rx_fn/rx_hdr_fn, handles link changes, writes refill notifications
 * the ISR left, and re-enables RX interrupts with the handshake of docs/rx-handshake.md
 * (disable -> drain -> enable -> full barrier -> re-check).
 *
 * Owns: the consumer side of dev->sw (sw.tail, lock-free: one writer) and the
 * task_active flag. Context: the queue owner (the RX task or the poller) only. Shared
 * flags are read and written under osal_crit; the RX notification is written under
 * dev->tx.lock (ordered against halt).
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
        if (len == 0) {
            osal_log("virtio-net: software ring slot published empty, skipped");
        } else {
            /* The entry virtio_net_forward() may lend (it swaps e->data for a spare). */
            dev->sw.cur = e;
            if (dev->cfg.rx_hdr_fn != NULL)
                dev->cfg.rx_hdr_fn(dev->cfg.rx_arg, &e->hdr, e->data, len);
            else
                dev->cfg.rx_fn(dev->cfg.rx_arg, e->data, len);
            dev->sw.cur = NULL;
        }
        VNET_WRITE_ONCE(e->len, 0u);
        /* rx_fn's reads of the slot, the len clear and a lent entry's new data pointer
         * complete before the tail hands the entry back to the producer (a full barrier:
         * loads must not pass the store). */
        vnet_smp_mb();
        tail++;
        VNET_WRITE_ONCE(dev->sw.tail, tail);
        n++;
        bytes += len;
    }
    if (n != 0) {
        struct vnet_crit k;
        vnet_task_crit_enter(dev, &k);
        dev->stats.rx_packets += n;
        dev->stats.rx_bytes += bytes;
        vnet_task_crit_exit(dev, &k);
    }
    return n;
}

static void vnet_handle_link(struct virtio_net_dev *dev)
{
    struct vnet_crit k;
    vnet_task_crit_enter(dev, &k);
    bool ev = dev->link_event && dev->state == VIRTIO_NET_ST_RUNNING;
    dev->link_event = false;
    vnet_task_crit_exit(dev, &k);
    if (!ev)
        return;
    if (virtio_tr_get_status(dev->tr) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        /* Spec 2.1.1: the device needs a reset; nothing it does is trustworthy until the
         * application runs virtio_net_halt() + virtio_net_initialize(). */
        vnet_task_crit_enter(dev, &k);
        dev->stats.broken |= VNET_BROKEN_RX | VNET_BROKEN_TX;
        vnet_task_crit_exit(dev, &k);
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
 * One pass of the queue's owner (the RX task, or virtio_net_poll's caller), interrupts
 * on except for short constant sections: link event, leftover used entries (serviced
 * first, so the device gets its buffers back before the stack runs a batch; never more
 * than the software ring can take, the rest stays in the used ring), a pending refill
 * notification, then up to `budget` frames delivered and batch_fn. Returns false when the
 * device is not running (the caller parks), else true with *work = the pass found
 * anything (the backlog may not be empty yet) and *delivered = frames delivered.
 */
bool vnet_rx_owner_pass(struct virtio_net_dev *dev, unsigned budget, bool *work,
                        unsigned *delivered)
{
    vnet_handle_link(dev);
    if (VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING)
        return false;
    /* The ISR leaves the queue alone while we own it (task_scheduled), and halt frees
     * nothing until we have parked, so the copy needs no critical section. */
    struct vnet_rx_pass p = {.budget = budget, .byte_budget = UINT32_MAX, .stage_or_leave = true};
    int s = vnet_rx_service(dev, &p);
    struct vnet_crit k;
    vnet_task_crit_enter(dev, &k);
    vnet_rx_pass_commit_locked(dev, &p);
    dev->stats.task_serviced += p.consumed;
    /* This pass's notification or one an ISR left: a device waiting for one waits no
     * longer than this. One set later is seen before parking (step H1). */
    bool notify = vnet_rx_take_notify_locked(dev);
    vnet_task_crit_exit(dev, &k);
    if (notify)
        vnet_rx_task_notify(dev);

    uint64_t t_fn = osal_cycles();
    unsigned n = vnet_rx_drain(dev, budget);
    if (n != 0) {
        VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_DRAIN);
        if (dev->cfg.batch_fn != NULL)
            dev->cfg.batch_fn(dev->cfg.batch_arg);
    }
    /* Includes a batch_fn sleep (the router's fairness yield): an upper bound. */
    t_fn = osal_cycles() - t_fn;

    vnet_task_crit_enter(dev, &k);
    if (n != 0)
        dev->stats.rx_task_batches++;
    dev->stats.rx_fn_cycles += t_fn;
    *work = s > 0 || n != 0 || dev->sw.head != dev->sw.tail || dev->link_event ||
            dev->rx.notify_pending;
    vnet_task_crit_exit(dev, &k);
    *delivered = n;
    return true;
}

/* [task] Park: halt may now free what the task uses. Caller holds the task's crit. */
static void vnet_rx_task_park_locked(struct virtio_net_dev *dev, bool own_token)
{
    /* With own_token (halt under way, we run on the token we woke with) the flag is ours
     * to clear; otherwise it is true only when a token is pending, which the next wait
     * consumes, and is left alone. */
    if (own_token)
        dev->task_scheduled = false;
    dev->task_active = false;
}

/*
 * The re-enable handshake of docs/rx-handshake.md (disable -> drain -> enable -> full
 * barrier -> re-check), run by the queue's owner once a pass found nothing: H0 the backlog
 * is gone, H1 the queue is the ISR's again (task_scheduled cleared), H2 callbacks on with
 * the re-check inside virtq_enable_cb, H3 a completion the re-check found takes the queue
 * back without a token. VNET_REARM_AGAIN: the owner still owns the queue and goes round;
 * VNET_REARM_ARMED: an interrupt (or the token an ISR already posted) brings the next
 * wake-up; VNET_REARM_STOPPED: not running. With `task` (the RX task) the task parks in
 * the deciding critical section; a poller (virtio_net_poll_arm) clears its own flag.
 */
enum vnet_rearm vnet_rx_rearm(struct virtio_net_dev *dev, bool task)
{
    struct vnet_crit k;
    VNET_HOOK(dev, VIRTIO_NET_HOOK_BACKLOG_EMPTY);
    vnet_task_crit_enter(dev, &k);
    if (dev->state != VIRTIO_NET_ST_RUNNING) {
        if (task)
            vnet_rx_task_park_locked(dev, true);
        vnet_task_crit_exit(dev, &k);
        return VNET_REARM_STOPPED;
    }
    if (dev->sw.head != dev->sw.tail || dev->link_event || dev->rx.notify_pending) {
        /* A config interrupt or a notification arrived since the owner's last pass. */
        vnet_task_crit_exit(dev, &k);
        return VNET_REARM_AGAIN;
    }
    /* H1: from here the queue is the ISR's again, and an ISR must post (or wake the
     * poller), because the owner may block. */
    dev->task_scheduled = false;
    vnet_task_crit_exit(dev, &k);
    VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_CLEAR);

    /* H2: re-arm, full barrier, re-check used->idx (inside virtq_enable_cb). A completion
     * the device wrote before it saw the re-arm may never interrupt, so the re-check
     * result decides, not the hope of an interrupt. */
    bool go_round = false;
    vnet_task_crit_enter(dev, &k);
    if (vnet_rx_queue_ok_locked(dev)) {
        bool pending = virtq_enable_cb(dev->rx.vq);
        if (pending) {
            dev->stats.recheck_hits++;
            if (!dev->task_scheduled) {
                /* H3: nobody posted: take the queue back ourselves. No post, so the
                 * semaphore stays at 0. */
                dev->task_scheduled = true;
                go_round = true;
            }
            /* else an ISR ran after H1 and posted: the token wakes us at once; going
             * round without taking it would let the count reach 2. */
        }
        /* Owned again (by going round, or by the pending token): callbacks off, so the
         * device does not interrupt for every completion meanwhile. */
        if (dev->task_scheduled)
            virtq_disable_cb(dev->rx.vq);
    }
    if (!go_round && task)
        vnet_rx_task_park_locked(dev, false);
    vnet_task_crit_exit(dev, &k);
    VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_ENABLE);
    VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_DECIDE);
    return go_round ? VNET_REARM_AGAIN : VNET_REARM_ARMED;
}

/*
 * Process until the backlog is gone and interrupts are safely re-armed. Entered with
 * task_active set; returns with task_active cleared (parked), ready to block.
 */
static void vnet_rx_task_run(struct virtio_net_dev *dev)
{
    unsigned budget = dev->cfg.rx_budget;
    unsigned woke_frames = 0; /* delivered since the wake-up or the last deferral */
    struct vnet_crit k;
    for (;;) {
        bool work;
        unsigned delivered;
        if (!vnet_rx_owner_pass(dev, budget, &work, &delivered)) {
            vnet_task_crit_enter(dev, &k);
            vnet_rx_task_park_locked(dev, true);
            vnet_task_crit_exit(dev, &k);
            return;
        }
        woke_frames += delivered;
        if (work)
            continue;

        /* Under load, poll once more after a period instead of re-arming at once (see
         * rx_defer_ms). Interrupts stay off and task_scheduled stays set, so nothing can
         * be lost meanwhile: the next pass services whatever the device completed. */
        if (dev->cfg.rx_defer_ms != 0 && woke_frames >= dev->cfg.rx_defer_min_frames) {
            woke_frames = 0;
            vnet_task_crit_enter(dev, &k);
            dev->stats.rx_defers++;
            vnet_task_crit_exit(dev, &k);
            VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_DEFER);
            osal_sleep_ms(dev->cfg.rx_defer_ms);
            continue;
        }

        enum vnet_rearm r = vnet_rx_rearm(dev, true);
        if (r == VNET_REARM_AGAIN)
            continue;
        if (r == VNET_REARM_ARMED)
            VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_BLOCK);
        return;
    }
}

void virtio_net_rx_task(void *arg)
{
    struct virtio_net_dev *dev = arg;
    /* Control calls from this task (its callbacks) are refused: they would wait for it. */
    osal_crit_t c = osal_crit_enter();
    dev->rx_task_id = osal_task_self();
    osal_crit_exit(c);
    for (;;) {
        vnet_err_t err = osal_sem_wait(&dev->sem, 0);
        if (err != VNET_OK) {
            /* Not expected with an infinite wait; back off instead of spinning. */
            osal_sleep_ms(1);
            continue;
        }
        struct vnet_crit k;
        vnet_task_crit_enter(dev, &k);
        if (dev->task_stop) {
            dev->task_scheduled = false;
            vnet_task_crit_exit(dev, &k);
            return;
        }
        if (dev->state != VIRTIO_NET_ST_RUNNING) {
            /* Woken for a device that has been halted meanwhile: token consumed. */
            dev->task_scheduled = false;
            vnet_task_crit_exit(dev, &k);
            continue;
        }
        dev->task_active = true;
        vnet_task_crit_exit(dev, &k);
        uint64_t t0 = osal_cycles();
        vnet_rx_task_run(dev);
        t0 = osal_cycles() - t0;
        /* Parked: halt may have cleared the stats meanwhile; a late add is harmless. */
        vnet_task_crit_enter(dev, &k);
        dev->stats.rx_task_cycles += t0;
        vnet_task_crit_exit(dev, &k);
    }
}

/* --- Poll mode: the application's task is the queue owner --- */

/*
 * Become the queue's owner for one poll-mode call. 0: claimed (task_active set: halt
 * waits, a concurrent call is refused; rx_task_id set: control calls from callbacks are
 * refused). An armed queue (virtio_net_poll_arm, not woken) is taken back from the ISR
 * with take_back (callbacks off first; an interrupt from then on is only counted), else
 * left armed: 1, not claimed. VNET_E_STATE (not running), VNET_E_BUSY (another call owns).
 */
static int vnet_poll_claim(struct virtio_net_dev *dev, bool take_back)
{
    osal_crit_t c = osal_crit_enter();
    int r = 0;
    if (dev->state != VIRTIO_NET_ST_RUNNING)
        r = VNET_E_STATE;
    else if (dev->task_active)
        r = VNET_E_BUSY;
    else if (!dev->task_scheduled && !take_back)
        r = 1;
    else {
        if (!dev->task_scheduled) {
            virtq_disable_cb(dev->rx.vq);
            dev->task_scheduled = true;
        }
        dev->task_active = true;
        dev->rx_task_id = osal_task_self();
    }
    osal_crit_exit(c);
    return r;
}

static void vnet_poll_release(struct virtio_net_dev *dev)
{
    osal_crit_t c = osal_crit_enter();
    dev->rx_task_id = 0;
    dev->task_active = false;
    osal_crit_exit(c);
}

int virtio_net_poll(struct virtio_net_dev *dev, unsigned budget)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    if (osal_in_isr())
        return VNET_E_CONTEXT;
    if (!dev->cfg.rx_poll)
        return VNET_E_STATE;
    int r = vnet_poll_claim(dev, true);
    if (r != 0)
        return r;
    bool work;
    unsigned delivered = 0;
    (void)vnet_rx_owner_pass(dev, budget != 0 ? budget : dev->cfg.rx_budget, &work, &delivered);
    vnet_poll_release(dev);
    return (int)delivered;
}

int virtio_net_poll_arm(struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    if (osal_in_isr())
        return VNET_E_CONTEXT;
    if (!dev->cfg.rx_poll || dev->cfg.rx_wake_fn == NULL)
        return VNET_E_STATE;
    int r = vnet_poll_claim(dev, false);
    if (r == 1)
        return 0; /* armed already: the ISR owns the queue and calls rx_wake_fn on work */
    if (r != 0)
        return r;
    enum vnet_rearm d = vnet_rx_rearm(dev, false);
    vnet_poll_release(dev);
    return d == VNET_REARM_ARMED ? 0 : d == VNET_REARM_AGAIN ? 1 : VNET_E_STATE;
}
