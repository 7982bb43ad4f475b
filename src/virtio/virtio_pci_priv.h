/*
 * Internal to the PCI transports (virtio_pci_common.c, _modern.c, _legacy.c): the
 * transport object and the helpers they share. Not for device drivers.
 */
#ifndef VNET_SRC_VIRTIO_PCI_PRIV_H
#define VNET_SRC_VIRTIO_PCI_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include "virtio_transport.h"
#include "vnet/virtio_pci_bus.h"

/* One structure window inside a BAR (from a virtio vendor capability). */
struct virtio_pci_region {
    uint8_t bar;
    uint32_t off; /* within the BAR */
    uint32_t len;
    volatile uint8_t *map; /* board mapping of the window, or NULL: use bar_read/write */
    bool present;
};

struct virtio_pci {
    struct virtio_transport vp_tr; /* first: the driver's handle */
    struct virtio_pci_bus vp_bus;
    uint8_t vp_msix_cap; /* config offset of the MSI-X capability, 0 if none */
    /* modern */
    struct virtio_pci_region vp_common, vp_notify, vp_isr, vp_device;
    uint32_t vp_notify_mult;
    uint16_t vp_num_queues;
    uint32_t *vp_notify_off; /* per queue: byte offset in the notify window */
    /* legacy */
    uint32_t vp_io_size; /* size of I/O BAR 0 */
};

/* Reset poll bound: spec 2.4.1 gives no time; QEMU resets synchronously, real devices
 * within milliseconds. 1000 polls x 1 ms ~ 1 s. */
#define VIRTIO_RESET_POLLS   1000u
#define VIRTIO_RESET_POLL_MS 1u

/* Walk the capability list from `start` (0: from the header's pointer) for capability
 * `id`. Returns its offset or 0. Bounded (at most 48 entries, offsets >= 0x40). */
uint8_t virtio_pci_find_cap(const struct virtio_pci_bus *bus, uint8_t id, uint8_t start);
/* Size of BAR `bar` by the standard all-ones probe (decode disabled meanwhile); 0 when
 * the BAR is not implemented. *is_io tells an I/O BAR. */
uint64_t virtio_pci_bar_size(const struct virtio_pci_bus *bus, uint8_t bar, bool *is_io);
bool virtio_pci_msix_enabled(const struct virtio_pci *vp);
/* Poll status until 0 (bounded). */
vnet_err_t virtio_pci_wait_reset(struct virtio_transport *t);

vnet_err_t virtio_pci_modern_probe(struct virtio_pci *vp);
vnet_err_t virtio_pci_legacy_probe(struct virtio_pci *vp);

#endif /* VNET_SRC_VIRTIO_PCI_PRIV_H */
