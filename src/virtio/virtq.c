/*
 * Split virtqueue, driver side. Contract: virtq.h. Design notes: docs/virtqueue.md.
 *
 * Ownership: descriptors on the private free list and chains not yet published belong to
 * the driver; published chains belong to the device until their head comes back through
 * the used ring. All bookkeeping (free list links, chain length and tail, cookie,
 * writable length, per-descriptor state) lives in driver-private memory; the rings are
 * only written (desc, avail) or read and validated (used), never trusted.
 */
#include <string.h>
#include "osal.h"
#include "virtio_barrier.h"
#include "virtio_ring.h"
#include "virtq.h"
#include "virtq_test.h"

#ifdef VIRTQ_TEST_HOOKS
/*
 * Barrier verification (test builds only; tests/unit/test_barriers.c). Each queue models
 * its CPU's store buffer with two flags: a store to a field the device reads for its
 * notification decisions (avail->idx, avail->flags, used_event) sets vq_ord_store, an
 * avail ring entry sets vq_ord_ring; the barriers below clear them, exactly where the
 * code calls them (redefined here so that deleting a call deletes its effect). The loads
 * that must come after a full barrier (the re-checks), and the avail->idx store that
 * must come after the publish barrier, count a violation when their flag is still set.
 */
struct virtq_order_stats virtq_test_order;
#define VQ_ORD_COUNT(f, site) __atomic_fetch_add(&virtq_test_order.f[site], 1u, __ATOMIC_RELAXED)
#define VQ_ORD_CHECK(vq, flag, site)                                                               \
    do {                                                                                           \
        VQ_ORD_COUNT(checks, site);                                                                \
        if ((vq)->flag)                                                                            \
            VQ_ORD_COUNT(violations, site);                                                        \
    } while (0)
#define VQ_ORD_MARK(vq, flag) ((vq)->flag = true)
static inline void vq_real_mb(void)
{
    vnet_mb();
}
static inline void vq_real_wmb(void)
{
    vnet_wmb();
}
#undef vnet_mb
#define vnet_mb()                                                                                  \
    do {                                                                                           \
        vq_real_mb();                                                                              \
        vq->vq_ord_store = false;                                                                  \
        vq->vq_ord_ring = false;                                                                   \
    } while (0)
#undef vnet_wmb
#define vnet_wmb()                                                                                 \
    do {                                                                                           \
        vq_real_wmb();                                                                             \
        vq->vq_ord_ring = false;                                                                   \
    } while (0)
#else
#define VQ_ORD_CHECK(vq, flag, site) ((void)0)
#define VQ_ORD_MARK(vq, flag)        ((void)0)
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtq.c: ring fields are little-endian; add byte swapping for big-endian CPUs"
#endif

/* Per-descriptor private state. */
enum virtq_dstate {
    VQ_D_FREE = 0, /* on the free list, never was a completed head since last use */
    VQ_D_HEAD,     /* head of an outstanding chain, published to the device */
    VQ_D_UNPUB,    /* head added to the avail ring, avail->idx not yet moved past it */
    VQ_D_MEMBER,   /* non-head descriptor of an outstanding chain */
    VQ_D_DONE,     /* on the free list; was the head of a chain that completed */
};

struct virtq_slot {
    void *cookie;   /* HEAD only */
    uint32_t wlen;  /* HEAD only: total device-writable bytes of the chain */
    uint16_t ndesc; /* HEAD only */
    uint16_t tail;  /* HEAD only: last descriptor of the chain */
    uint16_t next;  /* free-list / chain link (private copy of desc.next) */
    uint8_t state;
};

struct virtq {
    uint16_t vq_index;
    uint16_t vq_size;
    uint16_t vq_mask;
    unsigned vq_flags;

    void *vq_mem; /* one DMA block holding the three rings */
    size_t vq_mem_bytes;
    uint64_t vq_mem_dma;
    struct virtq_desc *vq_desc;
    struct virtq_avail *vq_avail;
    struct virtq_used *vq_used;
    volatile uint16_t *vq_used_event;  /* driver-written, in the avail ring tail */
    volatile uint16_t *vq_avail_event; /* device-written, in the used ring tail */
    uint64_t vq_desc_dma, vq_avail_dma, vq_used_dma;

    struct virtq_slot *vq_slots;
    uint16_t *vq_avail_heads; /* private copy of what we wrote to avail->ring[] */
    uint16_t vq_free_head;
    uint16_t vq_num_free;
    uint16_t vq_avail_idx;  /* next avail index to fill (private) */
    uint16_t vq_published;  /* avail->idx as last written */
    uint16_t vq_last_used;  /* next used index to consume */
    uint16_t vq_detach_pos; /* scan cursor of virtq_detach_unused */
    bool vq_cb_disabled;
    bool vq_any_added;
#ifdef VIRTQ_TEST_HOOKS
    bool vq_ord_store; /* barrier check: a notification store not yet fenced by vnet_mb */
    bool vq_ord_ring;  /* barrier check: ring entries not yet fenced by vnet_wmb/vnet_mb */
#endif

    enum virtq_broken_reason vq_broken;
    struct virtq_stats vq_stats;
};

vnet_err_t virtq_create(struct virtq **out, uint16_t index, uint16_t size, unsigned flags)
{
    struct virtq *vq;
    size_t used_off;

    if (out == NULL || size == 0 || size > 32768u || (size & (size - 1)) != 0 ||
        (flags & ~(VIRTQ_EVENT_IDX | VIRTQ_LEGACY_LAYOUT)) != 0)
        return VNET_E_INVAL;
    *out = NULL;
    vq = osal_mem_alloc(sizeof(*vq));
    if (vq == NULL)
        return VNET_E_NOMEM;
    memset(vq, 0, sizeof(*vq));
    vq->vq_index = index;
    vq->vq_size = size;
    vq->vq_mask = (uint16_t)(size - 1);
    vq->vq_flags = flags;

    /* One allocation for the slot shadow and the private avail-ring copy behind it. */
    vq->vq_slots = osal_mem_alloc((sizeof(*vq->vq_slots) + sizeof(uint16_t)) * size);
    if (vq->vq_slots == NULL)
        goto fail;
    memset(vq->vq_slots, 0, (sizeof(*vq->vq_slots) + sizeof(uint16_t)) * size);
    vq->vq_avail_heads = (uint16_t *)(void *)(vq->vq_slots + size);

    if (flags & VIRTQ_LEGACY_LAYOUT) {
        /* Legacy: one contiguous area, used ring on the next 4096 boundary (2.7.2), the
         * device derives every part from the descriptor table's page number. */
        used_off = virtq_legacy_used_offset(size);
        vq->vq_mem_bytes = virtq_legacy_bytes(size);
    } else {
        used_off = virtq_desc_bytes(size) + virtq_avail_bytes(size);
        used_off = (used_off + VIRTQ_USED_ALIGN - 1) & ~(size_t)(VIRTQ_USED_ALIGN - 1);
        vq->vq_mem_bytes = used_off + virtq_used_bytes(size);
    }
    vq->vq_mem = osal_dma_alloc(vq->vq_mem_bytes, VIRTQ_LEGACY_ALIGN, &vq->vq_mem_dma);
    if (vq->vq_mem == NULL)
        goto fail;
    vq->vq_desc = vq->vq_mem;
    vq->vq_avail = (struct virtq_avail *)(void *)((uint8_t *)vq->vq_mem + virtq_desc_bytes(size));
    vq->vq_used = (struct virtq_used *)(void *)((uint8_t *)vq->vq_mem + used_off);
    vq->vq_used_event = virtq_used_event_ptr(vq->vq_avail, size);
    vq->vq_avail_event = virtq_avail_event_ptr(vq->vq_used, size);
    vq->vq_desc_dma = vq->vq_mem_dma;
    vq->vq_avail_dma = vq->vq_mem_dma + virtq_desc_bytes(size);
    vq->vq_used_dma = vq->vq_mem_dma + used_off;

    for (uint16_t i = 0; i < size; i++)
        vq->vq_slots[i].next = (uint16_t)(i + 1); /* last link (== size) is never followed */
    vq->vq_free_head = 0;
    vq->vq_num_free = size;
    /* Interrupts start enabled: flags 0 and used_event 0 (== last_used) in zeroed memory. */
    *out = vq;
    return VNET_OK;

fail:
    osal_mem_free(vq->vq_slots);
    osal_mem_free(vq);
    return VNET_E_NOMEM;
}

void virtq_destroy(struct virtq *vq)
{
    if (vq == NULL)
        return;
    osal_dma_free(vq->vq_mem, vq->vq_mem_bytes);
    osal_mem_free(vq->vq_slots);
    osal_mem_free(vq);
}

uint16_t virtq_index(const struct virtq *vq)
{
    return vq->vq_index;
}

uint16_t virtq_size(const struct virtq *vq)
{
    return vq->vq_size;
}

uint16_t virtq_num_free(const struct virtq *vq)
{
    return vq->vq_num_free;
}

void virtq_ring_addrs(const struct virtq *vq, uint64_t *desc, uint64_t *avail, uint64_t *used)
{
    if (desc != NULL)
        *desc = vq->vq_desc_dma;
    if (avail != NULL)
        *avail = vq->vq_avail_dma;
    if (used != NULL)
        *used = vq->vq_used_dma;
}

bool virtq_is_broken(const struct virtq *vq)
{
    return vq->vq_broken != VIRTQ_OK;
}

enum virtq_broken_reason virtq_broken_reason(const struct virtq *vq)
{
    return vq->vq_broken;
}

void virtq_get_stats(const struct virtq *vq, struct virtq_stats *out)
{
    *out = vq->vq_stats;
}

void virtq_get_state(const struct virtq *vq, struct virtq_state *out)
{
    out->size = vq->vq_size;
    out->num_free = vq->vq_num_free;
    out->avail_idx = vq->vq_avail_idx;
    out->published = vq->vq_published;
    out->last_used = vq->vq_last_used;
    out->used_idx = VNET_READ_ONCE(vq->vq_used->idx);
    out->used_event = VNET_READ_ONCE(*vq->vq_used_event);
    out->avail_event = VNET_READ_ONCE(*vq->vq_avail_event);
    out->avail_flags = VNET_READ_ONCE(vq->vq_avail->flags);
    out->used_flags = VNET_READ_ONCE(vq->vq_used->flags);
    out->cb_disabled = vq->vq_cb_disabled;
    out->event_idx = (vq->vq_flags & VIRTQ_EVENT_IDX) != 0;
    out->broken = (uint8_t)vq->vq_broken;
}

vnet_err_t virtq_add(struct virtq *vq, const struct virtq_seg *segs, uint16_t n, void *cookie)
{
    uint64_t wlen = 0;
    bool seen_write = false;
    uint16_t head, i, last = 0;

    if (vq->vq_broken != VIRTQ_OK)
        return VNET_E_BROKEN;
    if (segs == NULL || n == 0 || n > vq->vq_size || cookie == NULL)
        return VNET_E_INVAL;
    for (uint16_t s = 0; s < n; s++) {
        if (segs[s].len == 0)
            return VNET_E_INVAL;
        /* 2.7.4.2: device-readable descriptors come before device-writable ones. */
        if (segs[s].device_writes) {
            seen_write = true;
            wlen += segs[s].len;
        } else if (seen_write) {
            return VNET_E_INVAL;
        }
    }
    if (wlen > UINT32_MAX)
        return VNET_E_INVAL; /* used.len is 32 bits: the device could not report it */
    if (n > vq->vq_num_free)
        return VNET_E_NOSPC;

    head = vq->vq_free_head;
    i = head;
    for (uint16_t s = 0; s < n; s++) {
        struct virtq_slot *sl = &vq->vq_slots[i];
        struct virtq_desc *d = &vq->vq_desc[i];
        bool more = s + 1 < n;

        d->addr = segs[s].addr;
        d->len = segs[s].len;
        d->flags = (uint16_t)((segs[s].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                              (more ? VIRTQ_DESC_F_NEXT : 0));
        d->next = more ? sl->next : 0;
        sl->state = s == 0 ? VQ_D_UNPUB : VQ_D_MEMBER;
        last = i;
        i = sl->next;
    }
    vq->vq_free_head = i;
    vq->vq_num_free = (uint16_t)(vq->vq_num_free - n);
    vq->vq_slots[head].cookie = cookie;
    vq->vq_slots[head].wlen = (uint32_t)wlen;
    vq->vq_slots[head].ndesc = n;
    vq->vq_slots[head].tail = last;

    /* Not visible to the device until virtq_kick_prepare() moves avail->idx past it. */
    vq->vq_avail->ring[vq->vq_avail_idx & vq->vq_mask] = head;
    VQ_ORD_MARK(vq, vq_ord_ring);
    vq->vq_avail_heads[vq->vq_avail_idx & vq->vq_mask] = head;
    vq->vq_avail_idx++;
    vq->vq_any_added = true;
    vq->vq_stats.added++;
    return VNET_OK;
}

bool virtq_kick_prepare(struct virtq *vq)
{
    uint16_t old = vq->vq_published, new_idx = vq->vq_avail_idx;
    bool need;

    if (vq->vq_broken != VIRTQ_OK || old == new_idx)
        return false;
    /* 2.7.13.2/2.7.13.3: descriptor table and avail ring entries must be visible to the
     * device before the avail->idx that publishes them. */
    vnet_wmb();
    VQ_ORD_CHECK(vq, vq_ord_ring, VIRTQ_ORD_PUBLISH);
    VNET_WRITE_ONCE(vq->vq_avail->idx, new_idx);
    VQ_ORD_MARK(vq, vq_ord_store);
    vq->vq_published = new_idx;
    /* From here the device may complete these heads (private copy: the avail ring is
     * shared memory and never read back). */
    for (uint16_t pos = old; pos != new_idx; pos++)
        vq->vq_slots[vq->vq_avail_heads[pos & vq->vq_mask]].state = VQ_D_HEAD;
    /* 2.7.13.4 (and 2.7.10): the idx store must be ordered before the load of the
     * device's suppression state, or a device that just went idle and reads the old idx
     * is never notified (store->load: full barrier). */
    vnet_mb();
    VQ_ORD_CHECK(vq, vq_ord_store, VIRTQ_ORD_KICK);
    if (vq->vq_flags & VIRTQ_EVENT_IDX)
        need = virtq_need_event(VNET_READ_ONCE(*vq->vq_avail_event), new_idx, old);
    else
        need = (VNET_READ_ONCE(vq->vq_used->flags) & VIRTQ_USED_F_NO_NOTIFY) == 0;
    if (need)
        vq->vq_stats.notify_needed++;
    else
        vq->vq_stats.notify_suppressed++;
    return need;
}

/* Mark the queue broken (sticky) and count why. Always returns VNET_E_BROKEN. */
static int virtq_mark_broken(struct virtq *vq, enum virtq_broken_reason why)
{
    switch (why) {
    case VIRTQ_BAD_ID:
        vq->vq_stats.bad_id++;
        break;
    case VIRTQ_BAD_LEN:
        vq->vq_stats.bad_len++;
        break;
    case VIRTQ_BAD_IDX:
        vq->vq_stats.bad_idx++;
        break;
    case VIRTQ_DUPLICATE:
        vq->vq_stats.duplicate++;
        break;
    case VIRTQ_OK:
        break;
    }
    if (vq->vq_broken == VIRTQ_OK)
        vq->vq_broken = why;
    return VNET_E_BROKEN;
}

/* Return a chain's descriptors to the free list; the head remembers it completed. */
static void virtq_free_chain(struct virtq *vq, uint16_t head, uint8_t head_state)
{
    struct virtq_slot *h = &vq->vq_slots[head];
    uint16_t i = head;

    for (uint16_t s = 0; s < h->ndesc; s++) {
        vq->vq_slots[i].state = VQ_D_FREE;
        if (s + 1 < h->ndesc)
            i = vq->vq_slots[i].next;
    }
    h->state = head_state;
    vq->vq_slots[h->tail].next = vq->vq_free_head;
    vq->vq_free_head = head;
    vq->vq_num_free = (uint16_t)(vq->vq_num_free + h->ndesc);
    h->cookie = NULL;
    h->ndesc = 0;
    h->wlen = 0;
}

int virtq_get(struct virtq *vq, void **cookie, uint32_t *len)
{
    uint16_t used_idx, pending, in_flight;
    struct virtq_slot *sl;
    uint32_t id, ulen;

    if (vq->vq_broken != VIRTQ_OK)
        return VNET_E_BROKEN;
    /* With callbacks on and EVENT_IDX, this load is the re-check after the previous
     * call's used_event store. */
    if (!vq->vq_cb_disabled && (vq->vq_flags & VIRTQ_EVENT_IDX))
        VQ_ORD_CHECK(vq, vq_ord_store, VIRTQ_ORD_GET_EVENT);
    used_idx = VNET_READ_ONCE(vq->vq_used->idx);
    if (used_idx == vq->vq_last_used)
        return 0;
    /* The device can only complete what was published: more used entries than chains in
     * flight means a corrupted index (wrap-safe 16-bit distances). */
    pending = (uint16_t)(used_idx - vq->vq_last_used);
    in_flight = (uint16_t)(vq->vq_published - vq->vq_last_used);
    if (pending > in_flight)
        return virtq_mark_broken(vq, VIRTQ_BAD_IDX);
    /* 2.7.14: read used->idx before the used ring entries it covers. */
    vnet_rmb();
    id = VNET_READ_ONCE(vq->vq_used->ring[vq->vq_last_used & vq->vq_mask].id);
    ulen = VNET_READ_ONCE(vq->vq_used->ring[vq->vq_last_used & vq->vq_mask].len);
    if (id >= vq->vq_size)
        return virtq_mark_broken(vq, VIRTQ_BAD_ID);
    sl = &vq->vq_slots[id];
    /* DONE: completed before and not re-added. UNPUB: completed before, re-added, but
     * not yet published, so the device cannot be completing the new posting. */
    if (sl->state == VQ_D_DONE || sl->state == VQ_D_UNPUB)
        return virtq_mark_broken(vq, VIRTQ_DUPLICATE);
    if (sl->state != VQ_D_HEAD)
        return virtq_mark_broken(vq, VIRTQ_BAD_ID);
    /* 2.7.8.2: len is what the device wrote, never more than the writable space. Only on
     * a legacy queue, a chain with nothing device-writable (TX) gets len ignored: some
     * pre-1.0 devices report the bytes they READ there (Linux relaxed its check for
     * them); counted in ignored_len. A 1.x device is held to the spec. */
    if (sl->wlen == 0u && (vq->vq_flags & VIRTQ_LEGACY_LAYOUT)) {
        if (ulen != 0u)
            vq->vq_stats.ignored_len++;
        ulen = 0u;
    } else if (ulen > sl->wlen) {
        return virtq_mark_broken(vq, VIRTQ_BAD_LEN);
    }

    *cookie = sl->cookie;
    if (len != NULL)
        *len = ulen;
    virtq_free_chain(vq, (uint16_t)id, VQ_D_DONE);
    vq->vq_last_used++;
    vq->vq_stats.completed++;

    if (vq->vq_flags & VIRTQ_EVENT_IDX) {
        if (!vq->vq_cb_disabled) {
            /* 2.7.10: interrupts stay enabled, so ask for one at the next completion.
             * The store must be ordered before our next used->idx load, or a
             * completion the device did not interrupt for (it read the old
             * used_event) could also be missed by that load (store->load). */
            VNET_WRITE_ONCE(*vq->vq_used_event, vq->vq_last_used);
            VQ_ORD_MARK(vq, vq_ord_store);
            vnet_mb();
        } else {
            /* Keep the suppressing value just behind the device so it never matches. */
            VNET_WRITE_ONCE(*vq->vq_used_event, (uint16_t)(vq->vq_last_used - 1));
        }
    }
    return 1;
}

bool virtq_has_used(const struct virtq *vq)
{
    if (vq->vq_broken != VIRTQ_OK)
        return false;
    return VNET_READ_ONCE(vq->vq_used->idx) != vq->vq_last_used;
}

void virtq_disable_cb(struct virtq *vq)
{
    vq->vq_cb_disabled = true;
    if (vq->vq_flags & VIRTQ_EVENT_IDX) {
        /* 2.7.7.1: with EVENT_IDX avail->flags must stay 0; suppress with a used_event
         * the device's used index has already passed. */
        VNET_WRITE_ONCE(*vq->vq_used_event, (uint16_t)(vq->vq_last_used - 1));
    } else {
        VNET_WRITE_ONCE(vq->vq_avail->flags, (uint16_t)VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
}

#ifdef VIRTQ_TEST_HOOKS
void (*virtq_test_enable_hook)(struct virtq *vq, enum virtq_enable_step step);
#define VQ_ENABLE_STEP(vq, step)                                                                   \
    do {                                                                                           \
        void (*hook_)(struct virtq *, enum virtq_enable_step) =                                    \
            __atomic_load_n(&virtq_test_enable_hook, __ATOMIC_ACQUIRE);                            \
        if (hook_ != NULL)                                                                         \
            hook_((vq), (step));                                                                   \
    } while (0)
#else
#define VQ_ENABLE_STEP(vq, step) ((void)0)
#endif

bool virtq_enable_cb(struct virtq *vq)
{
    if (vq->vq_broken != VIRTQ_OK)
        return false;
    vq->vq_cb_disabled = false;
    if (vq->vq_flags & VIRTQ_EVENT_IDX)
        VNET_WRITE_ONCE(*vq->vq_used_event, vq->vq_last_used);
    else
        VNET_WRITE_ONCE(vq->vq_avail->flags, (uint16_t)0);
    VQ_ORD_MARK(vq, vq_ord_store);
    VQ_ENABLE_STEP(vq, VIRTQ_ENABLE_AFTER_REARM);
    /* The re-arm store must be ordered before the re-check load: a device that completed
     * just before seeing the re-arm did not interrupt, and we must see its used->idx
     * instead (store->load, 2.7.10 / 2.7.14). */
    vnet_mb();
    VQ_ENABLE_STEP(vq, VIRTQ_ENABLE_AFTER_BARRIER);
    VQ_ORD_CHECK(vq, vq_ord_store, VIRTQ_ORD_ENABLE);
    return VNET_READ_ONCE(vq->vq_used->idx) != vq->vq_last_used;
}

bool virtq_enable_cb_delayed(struct virtq *vq)
{
    if (vq->vq_broken != VIRTQ_OK)
        return false;
    vq->vq_cb_disabled = false;
    if (vq->vq_flags & VIRTQ_EVENT_IDX) {
        /* 2.7.10: the device interrupts when used->idx moves past used_event. Chains in
         * flight (wrap-safe 16-bit distance) never exceed the queue size, so the 3/4
         * point lies in [last_used, published) and is crossed exactly once; 0 in flight
         * puts it at last_used (the next completion), as virtq_enable_cb() does. */
        uint16_t in_flight = (uint16_t)(vq->vq_published - vq->vq_last_used);
        uint16_t ahead = (uint16_t)((uint32_t)in_flight * 3u / 4u);
        VNET_WRITE_ONCE(*vq->vq_used_event, (uint16_t)(vq->vq_last_used + ahead));
    } else {
        VNET_WRITE_ONCE(vq->vq_avail->flags, (uint16_t)0);
    }
    VQ_ORD_MARK(vq, vq_ord_store);
    VQ_ENABLE_STEP(vq, VIRTQ_ENABLE_AFTER_REARM);
    /* Same store->load ordering as virtq_enable_cb(): a completion the device made before
     * it could see the new used_event/flag is seen by this load instead. */
    vnet_mb();
    VQ_ENABLE_STEP(vq, VIRTQ_ENABLE_AFTER_BARRIER);
    VQ_ORD_CHECK(vq, vq_ord_store, VIRTQ_ORD_ENABLE_DELAYED);
    return VNET_READ_ONCE(vq->vq_used->idx) != vq->vq_last_used;
}

void *virtq_detach_unused(struct virtq *vq)
{
    while (vq->vq_detach_pos < vq->vq_size) {
        uint16_t i = vq->vq_detach_pos++;
        struct virtq_slot *sl = &vq->vq_slots[i];

        if (sl->state == VQ_D_HEAD || sl->state == VQ_D_UNPUB) {
            void *cookie = sl->cookie;

            /* Not "DONE": the device never completed it, so a late used entry naming it
             * is still reported as a bad id rather than a duplicate. */
            virtq_free_chain(vq, i, VQ_D_FREE);
            return cookie;
        }
    }
    vq->vq_detach_pos = 0;
    return NULL;
}

vnet_err_t virtq_test_set_indices(struct virtq *vq, uint16_t start)
{
    if (vq->vq_any_added)
        return VNET_E_STATE;
    vq->vq_avail_idx = start;
    vq->vq_published = start;
    vq->vq_last_used = start;
    vq->vq_avail->idx = start;
    vq->vq_used->idx = start; /* as a device told the same start would have it */
    if (vq->vq_flags & VIRTQ_EVENT_IDX)
        *vq->vq_used_event = vq->vq_cb_disabled ? (uint16_t)(start - 1) : start;
    return VNET_OK;
}

void virtq_test_indices(const struct virtq *vq, uint16_t *avail_idx, uint16_t *published,
                        uint16_t *last_used)
{
    if (avail_idx != NULL)
        *avail_idx = vq->vq_avail_idx;
    if (published != NULL)
        *published = vq->vq_published;
    if (last_used != NULL)
        *last_used = vq->vq_last_used;
}
