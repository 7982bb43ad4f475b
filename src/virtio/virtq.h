/*
 * Split virtqueue, driver side (virtio 1.x spec 2.7; legacy layout 2.7.2 / 4.1.5.1.x).
 *
 * The queue owns its rings (DMA memory from osal_dma_alloc) and a driver-private shadow of
 * every posted chain (cookie, descriptor count, writable length), so nothing the driver
 * relies on is ever read back from memory the device can write. Every used entry is
 * validated; a violation marks the queue broken (sticky until virtq_destroy), counts the
 * reason, and makes every later call fail fast with VNET_E_BROKEN — never an assert.
 *
 * Concurrency: a virtqueue has no lock. The caller serialises all calls that modify one
 * queue (the net driver: RX queue touched by the ISR, or by the task only while RX
 * interrupts are disabled and inside a critical section; TX queue under the TX lock).
 *
 * Little-endian CPUs only (ring fields are little-endian for 1.x devices and native for
 * legacy ones; on LE both are the same). virtq.c has an #error for big-endian.
 */
#ifndef VNET_SRC_VIRTQ_H
#define VNET_SRC_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include "vnet/vnet_err.h"

struct virtq; /* opaque */

/* virtq_create() flags */
#define VIRTQ_EVENT_IDX     0x1u /* VIRTIO_RING_F_EVENT_IDX negotiated */
#define VIRTQ_LEGACY_LAYOUT 0x2u /* one contiguous area, used ring 4096-aligned (legacy) */

/* Why a queue was marked broken (virtq_broken_reason). */
enum virtq_broken_reason {
    VIRTQ_OK = 0,
    VIRTQ_BAD_ID,    /* used id out of range or not the head of an outstanding chain */
    VIRTQ_BAD_LEN,   /* used len larger than the writable length posted */
    VIRTQ_BAD_IDX,   /* used->idx moved by more than the number of outstanding chains */
    VIRTQ_DUPLICATE, /* the same chain completed twice */
};

struct virtq_stats {
    uint64_t added;                               /* chains posted */
    uint64_t completed;                           /* used entries accepted */
    uint64_t bad_id, bad_len, bad_idx, duplicate; /* rejected used entries, by reason */
    uint64_t notify_needed, notify_suppressed;    /* kick decisions */
    uint64_t ignored_len; /* legacy queue: non-zero used len on a read-only chain */
};

/* One segment of a chain: DMA address (as returned by osal_dma_alloc), length, direction. */
struct virtq_seg {
    uint64_t addr;
    uint32_t len;
    bool device_writes; /* true: device-writable (VIRTQ_DESC_F_WRITE) */
};

/*
 * Allocate a queue of `size` entries (power of two, 1..32768) with rings in DMA memory.
 * `index` is the device's queue number (kept for the caller's notify). Returns VNET_OK,
 * VNET_E_INVAL (size), VNET_E_NOMEM. Task.
 */
vnet_err_t virtq_create(struct virtq **out, uint16_t index, uint16_t size, unsigned flags);
/* Free the queue and its rings. The device must be reset or the queue released. */
void virtq_destroy(struct virtq *vq);

uint16_t virtq_index(const struct virtq *vq);
uint16_t virtq_size(const struct virtq *vq);
uint16_t virtq_num_free(const struct virtq *vq); /* free descriptors */
/* DMA addresses of the descriptor table, available ring and used ring. */
void virtq_ring_addrs(const struct virtq *vq, uint64_t *desc, uint64_t *avail, uint64_t *used);

/*
 * Post a chain of `n` segments (device-readable ones first, then device-writable, as the
 * spec requires) with an opaque non-NULL `cookie` returned on completion. The entry is
 * written to the avail ring but not yet published: call virtq_kick_prepare().
 * VNET_OK, VNET_E_NOSPC (not enough free descriptors), VNET_E_INVAL, VNET_E_BROKEN.
 */
vnet_err_t virtq_add(struct virtq *vq, const struct virtq_seg *segs, uint16_t n, void *cookie);

/*
 * Publish everything added since the last call (vnet_wmb before avail->idx), then decide
 * with a full barrier whether the device wants a notification (VIRTQ_EVENT_IDX:
 * vring_need_event over avail_event; otherwise !(used->flags & NO_NOTIFY)). Returns true
 * when the caller must notify the device. Nothing added -> false.
 */
bool virtq_kick_prepare(struct virtq *vq);

/*
 * Take the next used entry: *cookie and *len (bytes the device wrote). Returns 1 when an
 * entry was taken, 0 when none is pending, VNET_E_BROKEN when the queue is (or has just
 * been marked) broken. The chain's descriptors are freed before returning.
 */
int virtq_get(struct virtq *vq, void **cookie, uint32_t *len);

/* True when used entries are pending (reads used->idx; for polling). */
bool virtq_has_used(const struct virtq *vq);

/* Ask the device not to interrupt for this queue (flag, or stale used_event). Advisory:
 * the device may still interrupt once. */
void virtq_disable_cb(struct virtq *vq);

/*
 * Re-arm interrupts for used buffers, then full barrier, then re-check used->idx.
 * Returns false when nothing is pending: an interrupt will come for the next completion.
 * Returns true when completions are ALREADY pending (they raced in before the re-arm took
 * effect, and may never interrupt): the caller must service them (and normally
 * disable_cb + go round again). Never returns true "by accident" for a broken queue:
 * a broken queue returns false and stays silent.
 */
bool virtq_enable_cb(struct virtq *vq);

/*
 * virtq_enable_cb() for a queue whose completions are worth handling in bulk (TX space):
 * with VIRTQ_EVENT_IDX, used_event is placed three quarters of the way through the
 * chains now outstanding, so the one interrupt comes when that much has completed (the
 * idea of Linux's virtqueue_enable_cb_delayed); without it the flag is cleared (the next
 * completion interrupts). Then the same full barrier and re-check as virtq_enable_cb():
 * returns true when used entries are ALREADY pending (take them instead of waiting: an
 * interrupt may or may not follow), false when nothing is pending and an interrupt will
 * come. A broken queue returns false.
 */
bool virtq_enable_cb_delayed(struct virtq *vq);

/*
 * After the device was reset: return, one per call, the cookie of every chain still
 * posted (never completed), freeing its descriptors. NULL when none is left. Works on a
 * broken queue too, so halt can always reclaim every buffer.
 */
void *virtq_detach_unused(struct virtq *vq);

bool virtq_is_broken(const struct virtq *vq);
enum virtq_broken_reason virtq_broken_reason(const struct virtq *vq);
void virtq_get_stats(const struct virtq *vq, struct virtq_stats *out);

/* Ring indices for diagnostics (a snapshot; device-written fields read once each). */
struct virtq_state {
    uint16_t size, num_free;
    uint16_t avail_idx;   /* next avail slot to fill (private) */
    uint16_t published;   /* avail->idx as last written */
    uint16_t last_used;   /* next used entry to consume */
    uint16_t used_idx;    /* used->idx as the device last wrote it */
    uint16_t used_event;  /* driver-written (EVENT_IDX) */
    uint16_t avail_event; /* device-written (EVENT_IDX) */
    uint16_t avail_flags; /* driver-written */
    uint16_t used_flags;  /* device-written */
    bool cb_disabled;
    bool event_idx;
    uint8_t broken; /* enum virtq_broken_reason */
};
void virtq_get_state(const struct virtq *vq, struct virtq_state *out);

/* Wrap-safe "does the device want an event" test (spec 2.7.10.1, vring_need_event):
 * true when event_idx lies in [old_idx, new_idx) modulo 2^16. Exposed for unit tests. */
static inline bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#endif /* VNET_SRC_VIRTQ_H */
