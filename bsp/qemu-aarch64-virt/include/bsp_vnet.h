/*
 * bsp_vnet.h - the aarch64 virt board's interrupt glue for virtio-net on PCIe: attaches a
 * driver instance's ISR entry points (include/vnet/virtio_net.h) to a PCIe function's MSI-X
 * entries (GICv2m, gic-version=2) or to its INTx line, with the same calls as the x86_64
 * board's bsp_vnet.h (the function type is this board's struct bsp_pcie_func, the
 * interrupt a GIC INTID). NICs on the virtio-mmio slots have one level line each and need
 * none of this (bsp_irq_attach).
 *
 * It sits above both the board (bsp.h) and the driver, so it is its own library (target
 * bsp_vnet): the board itself stays free of driver headers.
 */
#ifndef BSP_VNET_H
#define BSP_VNET_H

#include <stdbool.h>
#include <stdint.h>
#include "bsp.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"

/* Table entries a NIC's interrupts use with MSI-X. tx: VIRTIO_PCI_NO_VECTOR for none (TX
 * space events then have no interrupt, docs/tx-handshake.md); an entry beyond the
 * function's table is dropped the same way. */
struct bsp_vnet_msix {
    uint16_t cfg, rx, tx;
};

/*
 * Choose the interrupt wiring of one NIC and tell its transport: MSI-X when the GIC has
 * MSI (bsp_msi_count(): a GICv2m frame) for all the entries and the function's table has
 * the cfg and rx entries (virtqueue 0 = RX; virtqueue 1 = TX too if its entry fits), else
 * the shared INTx line. *msix says which. VNET_OK, or the transport's error
 * (virtio_transport_use_msix). Task, before virtio_net_initialize().
 */
vnet_err_t bsp_vnet_irq_select(const struct bsp_pcie_func *f, struct virtio_transport *tr,
                               const struct bsp_vnet_msix *e, bool *msix);

/*
 * Route the device's interrupts to `dev`, between virtio_net_attach() and
 * virtio_net_initialize():
 *   msix: entry e->cfg -> virtio_net_config_isr(), e->rx -> virtio_net_rx_isr(), e->tx (if
 *         it fits) -> virtio_net_tx_isr(), each on its own edge-triggered MSI SPI, then
 *         MSI-X enabled (before the transport programs the entries into the device);
 *   else: the INTx line (level) -> virtio_net_isr().
 * BSP_OK with the RX interrupt's GIC INTID in *intid (may be NULL), or the board's error.
 * Task.
 */
int bsp_vnet_irq_attach(const struct bsp_pcie_func *f, struct virtio_net_dev *dev, bool msix,
                        const struct bsp_vnet_msix *e, uint32_t *intid);

#endif /* BSP_VNET_H */
