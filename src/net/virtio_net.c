/*
 * virtio-net lifecycle and control: attach (device structure, semaphore, TX lock, RX
 * task), initialize (spec 3.1.1 bring-up: reset, features, config, queues, buffers,
 * DRIVER_OK), halt (reset, wait for the RX task to park, free), detach, and the small
 * accessors (MAC, link, features, MTU, running).
 *
 * Owns: dev->state transitions (queues and buffers: virtio_net_setup.c). Context: any
 * task but the device's own RX task; initialize/halt/detach are serialised by
 * dev->ctl_sem. State
 * changes are made under osal_crit, and halt's under dev->tx.lock too, so the ISR, the
 * RX task and senders see them in order.
 */
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

static void vnet_ctl_take(struct virtio_net_dev *dev)
{
    while (osal_sem_wait(&dev->ctl_sem, 0u) == VNET_E_TIMEOUT) {
    }
}

static bool vnet_ctl_context_ok(const struct virtio_net_dev *dev)
{
    if (osal_in_isr())
        return false;
    osal_crit_t c = osal_crit_enter();
    bool own = dev->rx_task_id != 0 && dev->rx_task_id == osal_task_self();
    osal_crit_exit(c);
    return !own;
}

static vnet_err_t vnet_halt_ctl(struct virtio_net_dev *dev);

/* initialize and halt: the argument and context checks, then body under ctl_sem. */
static vnet_err_t vnet_ctl_call(struct virtio_net_dev *dev,
                                vnet_err_t (*body)(struct virtio_net_dev *dev))
{
    if (dev == NULL)
        return VNET_E_INVAL;
    if (!vnet_ctl_context_ok(dev))
        return VNET_E_CONTEXT;
    vnet_ctl_take(dev);
    vnet_err_t err = body(dev);
    (void)osal_sem_post(&dev->ctl_sem);
    return err;
}

vnet_err_t vnet_wait_bounded(struct virtio_net_dev *dev, bool (*done)(struct virtio_net_dev *dev))
{
    for (uint32_t waited = 0; !done(dev); waited++) {
        if (waited >= VIRTIO_NET_HALT_WAIT_MS)
            return VNET_E_TIMEOUT;
        osal_sleep_ms(1);
    }
    return VNET_OK;
}

/* halt: the RX task is not inside a callback (it parks once it sees HALTING). */
static bool vnet_rx_task_parked(struct virtio_net_dev *dev)
{
    osal_crit_t c = osal_crit_enter();
    bool active = dev->task_active;
    osal_crit_exit(c);
    return !active;
}

/* Body of virtio_net_initialize; caller holds ctl_sem. */
static vnet_err_t vnet_initialize_ctl(struct virtio_net_dev *dev)
{
    osal_crit_t c = osal_crit_enter();
    enum virtio_net_state st = dev->state;
    osal_crit_exit(c);
    if (st != VIRTIO_NET_ST_HALTED)
        return VNET_E_STATE;

    struct virtio_transport *tr = dev->tr;
    bool legacy = virtio_tr_is_legacy(tr);
    bool programmed = false;
    vnet_err_t err;

    /* A shared line that never fires (MSI-X enabled on the function) is a wiring error of
     * the board/application, refused before the device is touched. */
    err = virtio_tr_check_irq_wiring(tr);
    if (err != VNET_OK)
        return err;

    /* Spec 3.1.1 step 1: reset, bounded (the transport polls with a limit). */
    err = virtio_tr_reset(tr);
    if (err != VNET_OK) {
        err = VNET_E_TIMEOUT;
        goto fail;
    }
    /* Steps 2-3. */
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER);

    /* Step 4: the subset we handle, with dependencies. */
    uint64_t f;
    unsigned offloads = 0;
    /* (A design that hands the DMA buffer itself to rx_fn, one buffer per frame, keeps no
     * header: no receive offload there. Only the benchmark-only old design does.) */
    if (dev->cfg.rx_hdr_fn != NULL && vnet_rx_design.keeps_hdr)
        offloads |= VIRTIO_NET_OFFLOAD_RX;
    if (dev->cfg.tx_offloads)
        offloads |= VIRTIO_NET_OFFLOAD_TX;
    err = virtio_net_negotiate_offloads(virtio_tr_get_features(tr), dev->cfg.feature_allow, legacy,
                                        offloads, &f);
    if (err != VNET_OK)
        goto fail;
    /* Step 4 also allows reading config before accepting: an MTU above what we size
     * buffers for is legal (68..65535, 5.1.4.1) but unsupported, so decline the feature
     * and run at 1500 rather than fail; below 68 the device is broken (step 7 fails). */
    if (f & VIRTIO_NET_F_MTU) {
        uint16_t mtu = 0;
        if (virtio_tr_read_config(tr, VIRTIO_NET_CFG_MTU, &mtu, sizeof(mtu)) == VNET_OK &&
            mtu > VIRTIO_NET_MTU_MAX)
            f &= ~VIRTIO_NET_F_MTU;
    }
    virtio_tr_set_features(tr, f);
    dev->features = f;
    if (!legacy) {
        /* Steps 5-6: legacy devices have no FEATURES_OK (spec 3.1.2). */
        virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
        if (!(virtio_tr_get_status(tr) & VIRTIO_STATUS_FEATURES_OK)) {
            err = VNET_E_FEATURES;
            goto fail;
        }
    }

    /* Step 7: device-specific setup. */
    err = vnet_read_device_config(dev, f);
    if (err != VNET_OK)
        goto fail;
    uint16_t nseg = dev->hdr_separate ? 2 : 1;

    /* Queues: RX = 0, TX = 1 (spec 5.1.2). */
    uint16_t rxsize, txsize;
    uint32_t rx_want = dev->cfg.rx_posted ? dev->cfg.rx_posted : VIRTIO_NET_QUEUE_DEFAULT_MAX;
    uint32_t tx_want = dev->cfg.tx_slots ? dev->cfg.tx_slots : VIRTIO_NET_QUEUE_DEFAULT_MAX;
    err = vnet_queue_size(dev, VIRTIO_NET_RXQ, rx_want * nseg, &rxsize);
    if (err == VNET_OK)
        err = vnet_queue_size(dev, VIRTIO_NET_TXQ, tx_want * nseg, &txsize);
    if (err != VNET_OK)
        goto fail;
    if (rxsize < nseg || txsize < nseg) {
        err = VNET_E_RANGE;
        goto fail;
    }
    dev->rx.count = (uint16_t)(rxsize / nseg < rx_want ? rxsize / nseg : rx_want);
    dev->tx.count = (uint16_t)(txsize / nseg < tx_want ? txsize / nseg : tx_want);

    /* Interrupts as the board wired them on the transport (MSI-X table entries or the
     * shared line): config changes and RX interrupt. */
    programmed = true;
    err = virtio_tr_config_irq_setup(tr);
    if (err != VNET_OK) {
        err = VNET_E_IO;
        goto fail;
    }
    err = vnet_setup_queue(dev, VIRTIO_NET_RXQ, rxsize, &dev->rx.vq, true);
    if (err != VNET_OK)
        goto fail;
    /* TX completions are reclaimed on the send path, callbacks off; the TX interrupt only
     * delivers the TX space event (docs/tx-handshake.md), through the shared line or the
     * TX queue's MSI-X entry when the board gave it one. */
    err = vnet_setup_queue(dev, VIRTIO_NET_TXQ, txsize, &dev->tx.vq, true);
    if (err != VNET_OK)
        goto fail;
    virtq_disable_cb(dev->tx.vq);
    dev->tx.irq = virtio_tr_queue_irq(tr, VIRTIO_NET_TXQ);
    dev->tx.space_armed = false;

    err = vnet_alloc_rings(dev);
    if (err != VNET_OK)
        goto fail;

    for (uint16_t i = 0; i < dev->rx.count; i++) {
        err = vnet_rx_post(dev, &dev->rx.bufs[i]);
        if (err != VNET_OK) {
            err = VNET_E_IO;
            goto fail;
        }
    }
    /* Publish the RX buffers now; the notification waits for DRIVER_OK (spec 3.1.1
     * step 8: the device may not be notified before it is live). */
    (void)virtq_kick_prepare(dev->rx.vq);

    c = osal_crit_enter();
    vnet_stats_clear_locked(dev);
    dev->link_event = false;
    /* The ISR must see RUNNING before the device can interrupt (after DRIVER_OK). */
    VNET_WRITE_ONCE(dev->state, VIRTIO_NET_ST_RUNNING);
    osal_crit_exit(c);

    if (dev->cfg.rx_poll) {
        /* The poller owns the queue (until virtio_net_poll_arm hands it to the ISR):
         * callbacks off, an interrupt only counted. */
        c = osal_crit_enter();
        virtq_disable_cb(dev->rx.vq);
        dev->task_scheduled = true;
        osal_crit_exit(c);
    }
    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER_OK);
    if (virtio_tr_get_status(tr) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        /* Live already (the ISR and task may run): unwind through halt, which waits for
         * them, then give up on the device. */
        vnet_err_t herr = vnet_halt_ctl(dev);
        if (herr != VNET_OK)
            return herr; /* still HALTING: the caller must call halt again */
        virtio_tr_add_status(tr, VIRTIO_STATUS_FAILED);
        return VNET_E_IO;
    }
    virtio_tr_notify(tr, VIRTIO_NET_RXQ);
    c = osal_crit_enter();
    dev->stats.rx_kicks++;
    osal_crit_exit(c);
    return VNET_OK;

fail:
    /* The device may hold ring addresses: stop it before freeing what it points at. A
     * reset that times out here leaves it unusable anyway; FAILED tells it we gave up. */
    if (programmed)
        (void)virtio_tr_reset(tr);
    vnet_free_tx(dev);
    vnet_free_rx(dev);
    virtio_tr_add_status(tr, VIRTIO_STATUS_FAILED);
    dev->features = 0;
    c = osal_crit_enter();
    VNET_WRITE_ONCE(dev->state, VIRTIO_NET_ST_HALTED);
    osal_crit_exit(c);
    return err;
}

vnet_err_t virtio_net_initialize(struct virtio_net_dev *dev)
{
    return vnet_ctl_call(dev, vnet_initialize_ctl);
}

/* Body of virtio_net_halt; caller holds ctl_sem. */
static vnet_err_t vnet_halt_ctl(struct virtio_net_dev *dev)
{
    /* Taking the TX lock first means no sender is between its state check and its kick
     * when the state changes, so nothing is posted or notified after the reset below. */
    osal_lock_acquire(&dev->tx.lock);
    osal_crit_t c = osal_crit_enter();
    if (dev->state == VIRTIO_NET_ST_HALTED) {
        osal_crit_exit(c);
        osal_lock_release(&dev->tx.lock);
        return VNET_E_STATE;
    }
    /* From here the ISR and the task leave the queues and the software ring alone; a
     * repeated halt after a timeout resumes here. */
    VNET_WRITE_ONCE(dev->state, VIRTIO_NET_ST_HALTING);
    /* Senders blocked in virtio_net_send_wait wake and see the state. */
    vnet_tx_halt_wake_locked(dev);
    osal_crit_exit(c);
    osal_lock_release(&dev->tx.lock);

    /* Reset first so the device stops writing into buffers we are about to free (spec
     * 2.1.2: after reset it no longer uses the queues). If it does not complete, memory
     * stays allocated: freeing it could let a live device scribble over the heap. */
    if (virtio_tr_reset(dev->tr) != VNET_OK)
        return VNET_E_TIMEOUT;
    /* The reset device reads no chain any more: slots other devices lent to this TX ring
     * go home now, before this halt waits for its own (two devices forwarding to each
     * other, one of them stalled, would otherwise wait for each other forever). */
    osal_lock_acquire(&dev->tx.lock);
    vnet_tx_return_lent_locked(dev);
    osal_lock_release(&dev->tx.lock);

    /* The RX task may be inside rx_fn on a software ring slot: wait until it parks. */
    if (vnet_wait_bounded(dev, vnet_rx_task_parked) != VNET_OK)
        return VNET_E_TIMEOUT;

    /* Slots this device lent to other TX rings come back before its memory goes. */
    if (vnet_lend_collect(dev) != VNET_OK) {
        osal_log("virtio-net: halt: lent slots not returned by a peer's TX ring");
        return VNET_E_TIMEOUT;
    }

    osal_lock_acquire(&dev->tx.lock);
    vnet_free_tx(dev);
    osal_lock_release(&dev->tx.lock);
    vnet_free_rx(dev);

    c = osal_crit_enter();
    if (dev->cfg.rx_poll)
        dev->task_scheduled = false; /* no task: nothing pending */
    vnet_stats_clear_locked(dev);
    dev->stats.resets++;
    dev->features = 0;
    dev->link_event = false;
    VNET_WRITE_ONCE(dev->state, VIRTIO_NET_ST_HALTED);
    osal_crit_exit(c);
    return VNET_OK;
}

vnet_err_t virtio_net_halt(struct virtio_net_dev *dev)
{
    return vnet_ctl_call(dev, vnet_halt_ctl);
}

/* Log "virtio-net: device type N is not a network device" (no printf in firmware). */
static void vnet_log_wrong_type(uint32_t id)
{
    static const char pre[] = "virtio-net: device type ";
    static const char post[] = " is not a network device (1)";
    char msg[sizeof(pre) + 10 + sizeof(post)];
    char digits[10];
    unsigned nd = 0;
    do {
        digits[nd++] = (char)('0' + id % 10u);
        id /= 10u;
    } while (id != 0 && nd < sizeof(digits));
    size_t n = 0;
    memcpy(msg, pre, sizeof(pre) - 1u);
    n = sizeof(pre) - 1u;
    while (nd != 0)
        msg[n++] = digits[--nd];
    memcpy(msg + n, post, sizeof(post)); /* with its NUL */
    osal_log(msg);
}

vnet_err_t virtio_net_attach(struct virtio_net_dev **out, const struct virtio_net_config *cfg)
{
    if (out == NULL || cfg == NULL || cfg->transport == NULL || cfg->rx_fn == NULL)
        return VNET_E_INVAL;
    /* Spec 5.1: device type 1. Anything else (a block device found on a scanned bus) is
     * refused before it is touched, and what was found is reported. */
    uint32_t id = virtio_transport_device_id(cfg->transport);
    if (id != VIRTIO_NET_DEVICE_ID) {
        vnet_log_wrong_type(id);
        return VNET_E_UNSUPP;
    }
    /* Ranges and defaults: one table (vnet_cfg_ranges), out of range = VNET_E_INVAL. */
    struct virtio_net_config c = *cfg;
    if (vnet_cfg_apply(&c) != VNET_OK || (c.rx_wake_fn != NULL && !c.rx_poll))
        return VNET_E_INVAL;

    struct virtio_net_dev *dev = osal_mem_alloc(sizeof(*dev));
    if (dev == NULL)
        return VNET_E_NOMEM;
    memset(dev, 0, sizeof(*dev));
    dev->cfg = c;
    if (dev->cfg.name == NULL)
        dev->cfg.name = "vnet_rx";
    /* Decided once so the address survives halt/initialize cycles. */
    virtio_net_fallback_mac(cfg->fallback_mac, dev->cfg.fallback_mac);
    dev->tr = cfg->transport;
    VNET_WRITE_ONCE(dev->state, VIRTIO_NET_ST_HALTED);

    vnet_err_t err = osal_sem_init(&dev->sem, 0);
    if (err != VNET_OK)
        goto fail_sem;
    err = osal_lock_init(&dev->tx.lock);
    if (err != VNET_OK)
        goto fail_lock;
    err = osal_sem_init(&dev->ctl_sem, 1u);
    if (err != VNET_OK)
        goto fail_ctl;
    err = vnet_tx_attach(dev);
    if (err != VNET_OK)
        goto fail_txsem;
    if (cfg->rx_poll) {
        *out = dev; /* no RX task: virtio_net_poll() is the owner */
        return VNET_OK;
    }
    struct osal_task_params tp = {
        .name = dev->cfg.name,
        .entry = virtio_net_rx_task,
        .arg = dev,
        .prio = dev->cfg.rx_task_prio,
        .stack = dev->cfg.rx_task_stack,
        .stack_bytes = dev->cfg.rx_task_stack_bytes,
    };
    err = osal_task_create(&dev->task, &tp);
    if (err != VNET_OK)
        goto fail_task;
    *out = dev;
    return VNET_OK;

fail_task:
    (void)vnet_tx_detach(dev);
fail_txsem:
    osal_sem_destroy(&dev->ctl_sem);
fail_ctl:
    osal_lock_destroy(&dev->tx.lock);
fail_lock:
    osal_sem_destroy(&dev->sem);
fail_sem:
    osal_mem_free(dev);
    return err == VNET_E_NOMEM || err == VNET_E_INVAL ? err : VNET_E_OS;
}

vnet_err_t virtio_net_detach(struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    if (!vnet_ctl_context_ok(dev))
        return VNET_E_CONTEXT;
    vnet_ctl_take(dev);
    osal_crit_t c = osal_crit_enter();
    bool halted = dev->state == VIRTIO_NET_ST_HALTED;
    osal_crit_exit(c);
    if (!halted) {
        vnet_err_t err = vnet_halt_ctl(dev);
        if (err != VNET_OK) {
            (void)osal_sem_post(&dev->ctl_sem);
            return err;
        }
    }
    if (dev->cfg.rx_poll) {
        (void)osal_sem_post(&dev->ctl_sem);
        vnet_err_t err = vnet_tx_detach(dev);
        if (err != VNET_OK)
            return err;
        osal_sem_destroy(&dev->ctl_sem);
        osal_lock_destroy(&dev->tx.lock);
        osal_sem_destroy(&dev->sem);
        osal_mem_free(dev);
        return VNET_OK;
    }
    c = osal_crit_enter();
    dev->task_stop = true;
    /* Same rule as the ISR: post only on the false->true transition. A pending token
     * wakes the task anyway, and it checks task_stop first. The post itself happens after
     * the critical section: from a task it may switch to the RX task at once. */
    bool post = !dev->task_scheduled;
    dev->task_scheduled = true;
    osal_crit_exit(c);
    if (post)
        (void)osal_sem_post(&dev->sem);
    vnet_err_t err = osal_task_join(&dev->task);
    (void)osal_sem_post(&dev->ctl_sem);
    if (err != VNET_OK)
        return err;
    err = vnet_tx_detach(dev);
    if (err != VNET_OK)
        return err;
    osal_sem_destroy(&dev->ctl_sem);
    osal_lock_destroy(&dev->tx.lock);
    osal_sem_destroy(&dev->sem);
    osal_mem_free(dev);
    return VNET_OK;
}

vnet_err_t virtio_net_get_mac(const struct virtio_net_dev *dev, uint8_t mac[6])
{
    if (dev == NULL || mac == NULL)
        return VNET_E_INVAL;
    if (VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING) {
        memcpy(mac, dev->cfg.fallback_mac, 6);
        return VNET_E_STATE;
    }
    memcpy(mac, dev->mac, 6);
    return VNET_OK;
}

bool virtio_net_link_up(const struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return false;
    if (!(dev->features & VIRTIO_NET_F_STATUS))
        return true;
    return VNET_READ_ONCE(dev->link_up);
}

uint64_t virtio_net_features(const struct virtio_net_dev *dev)
{
    return dev == NULL ? 0 : dev->features;
}

uint16_t virtio_net_mtu(const struct virtio_net_dev *dev)
{
    return (dev == NULL || dev->features == 0) ? VIRTIO_NET_MTU_DEFAULT : dev->mtu;
}

bool virtio_net_is_running(const struct virtio_net_dev *dev)
{
    return dev != NULL && VNET_READ_ONCE(dev->state) == VIRTIO_NET_ST_RUNNING;
}
