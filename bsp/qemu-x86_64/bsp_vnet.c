/*
 * bsp_vnet.c - virtio-net interrupt glue of the QEMU x86_64 board (see bsp_vnet.h). Runs at
 * task level; the three adapters run in interrupt context, inside the board's
 * OSIntEnter()/OSIntExit() bracket (cpu.c).
 */
#include "bsp_vnet.h"

/* bsp_isr_t takes void *; these adapt without casting function pointer types. */
static void bsp_vnet_isr_shared(void *arg)
{
    virtio_net_isr(arg);
}

static void bsp_vnet_isr_rx(void *arg)
{
    virtio_net_rx_isr(arg);
}

static void bsp_vnet_isr_tx(void *arg)
{
    virtio_net_tx_isr(arg);
}

static void bsp_vnet_isr_config(void *arg)
{
    virtio_net_config_isr(arg);
}

/* The TX entry if the function's table has it, else none. */
static uint16_t bsp_vnet_tx_entry(const struct bsp_pci_func *f, const struct bsp_vnet_msix *e)
{
    return e->tx != VIRTIO_PCI_NO_VECTOR && f->msix_table_size > e->tx ? e->tx
                                                                       : VIRTIO_PCI_NO_VECTOR;
}

vnet_err_t bsp_vnet_irq_select(const struct bsp_pci_func *f, struct virtio_transport *tr,
                               const struct bsp_vnet_msix *e, bool *msix)
{
    const uint16_t qv[] = {e->rx, bsp_vnet_tx_entry(f, e)}; /* virtqueue 0 = RX, 1 = TX */
    uint16_t top = e->cfg > e->rx ? e->cfg : e->rx;

    *msix = f->msix_cap != 0u && f->msix_table_size > top;
    return *msix ? virtio_transport_use_msix(tr, e->cfg, qv, 2u) : VNET_OK;
}

int bsp_vnet_irq_attach(struct bsp_pci_func *f, struct virtio_net_dev *dev, bool msix,
                        const struct bsp_vnet_msix *e, uint8_t *vector)
{
    int b;
    uint8_t v;

    if (msix) {
        uint16_t tx = bsp_vnet_tx_entry(f, e);
        b = bsp_pci_msix_attach(f, e->cfg, bsp_vnet_isr_config, dev);
        if (b == BSP_OK) {
            b = bsp_pci_msix_attach(f, e->rx, bsp_vnet_isr_rx, dev);
        }
        if (b == BSP_OK && tx != VIRTIO_PCI_NO_VECTOR) {
            b = bsp_pci_msix_attach(f, tx, bsp_vnet_isr_tx, dev);
        }
        if (b == BSP_OK) {
            b = bsp_pci_msix_enable(f);
        }
        v = e->rx < BSP_PCI_MAX_MSIX ? f->msix_vector[e->rx] : 0u;
    } else {
        b = bsp_pci_intx_attach(f, bsp_vnet_isr_shared, dev);
        v = f->intx_vector;
    }
    if (b == BSP_OK && vector != NULL) {
        *vector = v;
    }
    return b;
}
