/*
 * bsp_vnet.h - the board's interrupt glue for the virtio-net driver: attaches a driver
 * instance's ISR entry points (include/vnet/virtio_net.h) to a PCI function's MSI-X entries
 * or to its INTx line, the way every application on this board needs it.
 *
 * It sits above both the board (bsp_pci.h) and the driver, so it is its own library
 * (target bsp_vnet): the board itself stays free of driver headers.
 */
#ifndef BSP_VNET_H
#define BSP_VNET_H

#include <stdbool.h>
#include <stdint.h>
#include "bsp_pci.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"

/* Table entries a NIC's interrupts use with MSI-X. tx: VIRTIO_PCI_NO_VECTOR for none (TX
 * space events then have no interrupt, docs/tx-handshake.md); an entry beyond the
 * function's table is dropped the same way. */
struct bsp_vnet_msix {
    uint16_t cfg, rx, tx;
};

/*
 * Choose the interrupt wiring of one NIC and tell its transport: MSI-X when the function's
 * table has the cfg and rx entries (configuration changes, virtqueue 0 = RX; virtqueue 1 =
 * TX too if its entry fits), else the shared INTx line. *msix says which. VNET_OK, or the
 * transport's error (virtio_transport_use_msix). Task, before virtio_net_initialize().
 */
vnet_err_t bsp_vnet_irq_select(const struct bsp_pci_func *f, struct virtio_transport *tr,
                               const struct bsp_vnet_msix *e, bool *msix);

/*
 * Route the device's interrupts to `dev`, between virtio_net_attach() and
 * virtio_net_initialize() (the device may interrupt as soon as RX buffers are posted):
 *   msix: entry e->cfg -> virtio_net_config_isr(), e->rx -> virtio_net_rx_isr(), e->tx (if
 *         it fits) -> virtio_net_tx_isr(), then MSI-X enabled (before the transport
 *         programs the entries into the device);
 *   else: INTx -> virtio_net_isr() (bsp_pci_intx_attach(): machines pc and q35).
 * BSP_OK with the RX interrupt's vector in *vector (may be NULL), or the board's error.
 * Task.
 */
int bsp_vnet_irq_attach(struct bsp_pci_func *f, struct virtio_net_dev *dev, bool msix,
                        const struct bsp_vnet_msix *e, uint8_t *vector);

#endif /* BSP_VNET_H */
