/*
 * bsp_vnet.c - virtio-net interrupt glue of the aarch64 virt board (see bsp_vnet.h). Runs
 * at task level; the adapters run in interrupt context, inside the board's
 * OSIntEnter()/OSIntExit() bracket (gic.c).
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

/* The TX entry if the function's table (and the board) has it, else none. */
static uint16_t bsp_vnet_tx_entry(const struct bsp_pcie_func *f, const struct bsp_vnet_msix *e)
{
    return e->tx != VIRTIO_PCI_NO_VECTOR && f->msix_table_size > e->tx && e->tx < BSP_PCIE_MAX_MSIX
               ? e->tx
               : VIRTIO_PCI_NO_VECTOR;
}

vnet_err_t bsp_vnet_irq_select(const struct bsp_pcie_func *f, struct virtio_transport *tr,
                               const struct bsp_vnet_msix *e, bool *msix)
{
    const uint16_t qv[] = {e->rx, bsp_vnet_tx_entry(f, e)}; /* virtqueue 0 = RX, 1 = TX */
    uint16_t top = e->cfg > e->rx ? e->cfg : e->rx;
    unsigned need = qv[1] != VIRTIO_PCI_NO_VECTOR ? 3u : 2u;

    /* bsp_msi_count() is the frame's total: a frame too small for one NIC leaves it on
     * INTx; one used up by earlier NICs makes bsp_vnet_irq_attach fail (BSP_E_NOSPACE). */
    *msix = f->msix_cap != 0u && f->msix_table_size > top && top < BSP_PCIE_MAX_MSIX &&
            bsp_msi_count() >= need;
    return *msix ? virtio_transport_use_msix(tr, e->cfg, qv, 2u) : VNET_OK;
}

int bsp_vnet_irq_attach(const struct bsp_pcie_func *f, struct virtio_net_dev *dev, bool msix,
                        const struct bsp_vnet_msix *e, uint32_t *intid)
{
    int b;
    uint32_t id;

    if (msix) {
        uint16_t tx = bsp_vnet_tx_entry(f, e);
        b = bsp_pcie_msix_attach(f, e->cfg, bsp_vnet_isr_config, dev);
        if (b == BSP_OK) {
            b = bsp_pcie_msix_attach(f, e->rx, bsp_vnet_isr_rx, dev);
        }
        if (b == BSP_OK && tx != VIRTIO_PCI_NO_VECTOR) {
            b = bsp_pcie_msix_attach(f, tx, bsp_vnet_isr_tx, dev);
        }
        if (b == BSP_OK) {
            b = bsp_pcie_msix_enable(f);
        }
        id = f->msix_intid[e->rx];
    } else {
        b = bsp_irq_attach(f->intid, 0, bsp_vnet_isr_shared, dev);
        id = f->intid;
    }
    if (b == BSP_OK && intid != NULL) {
        *intid = id;
    }
    return b;
}
