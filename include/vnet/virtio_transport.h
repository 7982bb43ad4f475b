/*
 * Public handle for a virtio transport (how the driver reaches one device).
 *
 * The board creates a transport for each device it found and hands it to the device
 * driver's configuration. The transport's internals (the ops table the driver calls)
 * live in src/virtio/virtio_transport.h; applications never see them.
 *
 * Creation only checks that a usable virtio device answers (capability walk, magic,
 * version); it does not reset the device or negotiate anything: that is the device
 * driver's initialize step. All functions here are task-context only and may allocate.
 */
#ifndef VNET_VIRTIO_TRANSPORT_H
#define VNET_VIRTIO_TRANSPORT_H

#include <stdint.h>
#include "vnet/vnet_err.h"
#include "vnet/virtio_pci_bus.h"
#include "vnet/virtio_mmio_bus.h"

struct virtio_transport;

enum virtio_transport_kind {
    VIRTIO_TRANSPORT_PCI_MODERN = 1,
    VIRTIO_TRANSPORT_PCI_LEGACY = 2,
    VIRTIO_TRANSPORT_MMIO_V2 = 3,
    VIRTIO_TRANSPORT_MMIO_V1 = 4, /* legacy MMIO */
};

/* Flags for virtio_pci_transport_create(). */
#define VIRTIO_PCI_PREFER_LEGACY 0x1u /* transitional device: use the legacy interface */
#define VIRTIO_PCI_FORCE_MODERN  0x2u /* fail with VNET_E_NODEV rather than fall back */

/*
 * Create a PCI transport for one function. Uses the modern interface (virtio vendor
 * capabilities: common, notify, ISR, device config) when present, else the legacy I/O
 * BAR 0 interface of a transitional device, unless flags say otherwise. `bus` is copied.
 * Returns VNET_OK and *out, VNET_E_NODEV (not virtio, or required capability missing),
 * VNET_E_INVAL, VNET_E_NOMEM.
 */
vnet_err_t virtio_pci_transport_create(struct virtio_transport **out,
                                       const struct virtio_pci_bus *bus, unsigned flags);

/*
 * Create an MMIO transport: checks magic "virt", version 1 or 2 and a non-zero device id.
 * Returns VNET_OK, VNET_E_NODEV, VNET_E_INVAL, VNET_E_NOMEM.
 */
vnet_err_t virtio_mmio_transport_create(struct virtio_transport **out,
                                        const struct virtio_mmio_bus *bus);

/* Most virtqueues virtio_transport_use_msix() assigns table entries to. */
#define VIRTIO_TRANSPORT_MSIX_QUEUES 4u

/*
 * Interrupt wiring, board side. By default a device signals on its one shared line (PCI
 * INTx, MMIO) and the board calls the device driver's shared-line entry point
 * (virtio_net_isr). With MSI-X the board programs the function's table entries for its
 * interrupt controller, enables MSI-X on the function, says here which table entry each
 * event uses, and calls the driver's per-event entry points (virtio_net_config_isr,
 * virtio_net_rx_isr):
 *   config_vector     table entry for configuration changes;
 *   queue_vectors[i]  table entry for virtqueue i, i < n; VIRTIO_PCI_NO_VECTOR (or i >= n):
 *                     that queue never interrupts.
 * The device driver decides which of its queues interrupt at all (virtio-net: RX only, TX
 * completions are reclaimed on the send path); the entries are written to the device at
 * the driver's initialize (VNET_E_IO there if the device refuses one).
 * Task context, while the device driver is halted. VNET_OK, or VNET_E_INVAL (NULL with
 * n != 0, n > VIRTIO_TRANSPORT_MSIX_QUEUES, or not a PCI transport).
 */
vnet_err_t virtio_transport_use_msix(struct virtio_transport *t, uint16_t config_vector,
                                     const uint16_t *queue_vectors, unsigned n);

/* Free a transport. The device must already be reset (driver halted). NULL is ignored. */
void virtio_transport_destroy(struct virtio_transport *t);

enum virtio_transport_kind virtio_transport_kind(const struct virtio_transport *t);

/* virtio device type (1 = network) as reported by the transport. */
uint32_t virtio_transport_device_id(const struct virtio_transport *t);

#endif /* VNET_VIRTIO_TRANSPORT_H */
