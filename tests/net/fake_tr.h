/*
 * A scripted transport for bring-up tests: no rings are walked, every register access is
 * recorded, and each step of spec 3.1.1 can be made to misbehave. Traffic tests use the
 * simulated device (tests/sim) instead.
 */
#ifndef VNET_TESTS_NET_FAKE_TR_H
#define VNET_TESTS_NET_FAKE_TR_H

#include <stdbool.h>
#include <stdint.h>
#include "virtio/virtio_transport.h"

struct fake_tr {
    struct virtio_transport base; /* first: the driver sees only this */
    bool legacy;
    uint64_t device_features;
    uint64_t driver_features; /* last written */
    int features_writes;
    uint8_t status;
    uint8_t status_log[32]; /* every status write, in order */
    int status_writes;
    bool refuse_features_ok; /* clears FEATURES_OK on write */
    bool reset_hangs;        /* reset returns VNET_E_TIMEOUT */
    bool refuse_vector;      /* queue_setup / set_config_vector with a vector -> VNET_E_IO */
    bool needs_reset_at_driver_ok;
    bool msix_on;    /* MSI-X enabled on the (pretend) PCI function */
    uint8_t cfg[16]; /* virtio_net_config_layout bytes */
    uint16_t qmax;
    bool size_settable;
    int queues_setup, notifies, resets;
    uint16_t qsize[2];
    uint16_t qvector[2];    /* vector of the last queue_setup per queue */
    uint16_t config_vector; /* last set_config_vector, VIRTIO_PCI_NO_VECTOR if never */
};

void fake_tr_init(struct fake_tr *f, bool legacy, uint64_t device_features);
/* True when `bit` was ever written to status. */
bool fake_tr_status_written(const struct fake_tr *f, uint8_t bit);

#endif
