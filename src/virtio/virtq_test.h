/*
 * Test-only hooks of the virtqueue core (white-box tests and the simulated device's
 * users). Not for drivers.
 */
#ifndef VNET_SRC_VIRTQ_TEST_H
#define VNET_SRC_VIRTQ_TEST_H

#include <stdint.h>
#include "virtq.h"

/*
 * Start the avail and used indices at `start` instead of 0 (e.g. 0xFFF0, to exercise the
 * 16-bit wrap soon). Only on a fresh queue (nothing added yet), before the device is
 * told about the queue; the device must be told the same start (simdev_set_start_idx).
 * VNET_OK or VNET_E_STATE.
 */
vnet_err_t virtq_test_set_indices(struct virtq *vq, uint16_t start);

/* The driver's private indices: next avail index to fill, last published, last used. */
void virtq_test_indices(const struct virtq *vq, uint16_t *avail_idx, uint16_t *published,
                        uint16_t *last_used);

/*
 * Step boundaries inside virtq_enable_cb(), for the RX handshake test
 * (tests/net/test_handshake.c): a completion injected here lands after the re-arm store
 * but before the barrier, or after the barrier but before the re-check load. Compiled in
 * only when the library is built with VIRTQ_TEST_HOOKS (the tests' hooks build).
 */
enum virtq_enable_step {
    VIRTQ_ENABLE_AFTER_REARM = 0,   /* flag / used_event written, barrier not yet done */
    VIRTQ_ENABLE_AFTER_BARRIER = 1, /* full barrier done, used->idx not yet re-read */
};
#ifdef VIRTQ_TEST_HOOKS
extern void (*virtq_test_enable_hook)(struct virtq *vq, enum virtq_enable_step step);
#endif

/*
 * Barrier verification (builds with VIRTQ_TEST_HOOKS): per site, how often the ordering
 * was checked and how often the required barrier had not run since the store it orders
 * (see virtq.c). Any violation means a barrier is missing.
 */
enum virtq_order_site {
    VIRTQ_ORD_PUBLISH = 0,    /* kick_prepare: ring entries (vnet_wmb) before avail->idx */
    VIRTQ_ORD_KICK,           /* kick_prepare: avail->idx (vnet_mb) before avail_event/flags */
    VIRTQ_ORD_ENABLE,         /* enable_cb: re-arm (vnet_mb) before the used->idx re-check */
    VIRTQ_ORD_GET_EVENT,      /* get with EVENT_IDX, callbacks on: used_event before used->idx */
    VIRTQ_ORD_ENABLE_DELAYED, /* enable_cb_delayed (TX space): re-arm (vnet_mb) before re-check */
    VIRTQ_ORD_SITES
};
struct virtq_order_stats {
    uint64_t checks[VIRTQ_ORD_SITES];
    uint64_t violations[VIRTQ_ORD_SITES];
};
#ifdef VIRTQ_TEST_HOOKS
extern struct virtq_order_stats virtq_test_order;
#endif

#endif /* VNET_SRC_VIRTQ_TEST_H */
