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

static void bsp_vnet_isr_config(void *arg)
{
    virtio_net_config_isr(arg);
}

vnet_err_t bsp_vnet_irq_select(const struct bsp_pci_func *f, struct virtio_transport *tr,
                               uint16_t cfg_entry, uint16_t rx_entry, bool *msix)
{
    const uint16_t qv[] = {rx_entry}; /* virtqueue 0 = RX */
    uint16_t top = cfg_entry > rx_entry ? cfg_entry : rx_entry;

    *msix = f->msix_cap != 0u && f->msix_table_size > top;
    return *msix ? virtio_transport_use_msix(tr, cfg_entry, qv, 1u) : VNET_OK;
}

int bsp_vnet_irq_attach(struct bsp_pci_func *f, struct virtio_net_dev *dev, bool msix,
                        uint16_t cfg_entry, uint16_t rx_entry, uint8_t *vector)
{
    int b;
    uint8_t v;

    if (msix) {
        b = bsp_pci_msix_attach(f, cfg_entry, bsp_vnet_isr_config, dev);
        if (b == BSP_OK) {
            b = bsp_pci_msix_attach(f, rx_entry, bsp_vnet_isr_rx, dev);
        }
        if (b == BSP_OK) {
            b = bsp_pci_msix_enable(f);
        }
        v = rx_entry < BSP_PCI_MAX_MSIX ? f->msix_vector[rx_entry] : 0u;
    } else {
        b = bsp_pci_intx_attach(f, bsp_vnet_isr_shared, dev);
        v = f->intx_vector;
    }
    if (b == BSP_OK && vector != NULL) {
        *vector = v;
    }
    return b;
}
