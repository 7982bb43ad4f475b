/*
 * PCI transport creation and helpers shared by the modern and legacy interfaces
 * (virtio 1.x spec 4.1.2 discovery, 4.1.4 capabilities).
 */
#include <string.h>
#include "osal.h"
#include "virtio_pci_priv.h"
#include "virtio_pci_regs.h"

uint8_t virtio_pci_find_cap(const struct virtio_pci_bus *bus, uint8_t id, uint8_t start)
{
    uint8_t pos;

    if (start == 0) {
        if (!(bus->cfg_read(bus->ctx, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST))
            return 0;
        pos = (uint8_t)bus->cfg_read(bus->ctx, PCI_CFG_CAP_PTR, 1);
    } else {
        pos = (uint8_t)bus->cfg_read(bus->ctx, (uint16_t)(start + 1), 1);
    }
    /* 48 = (256 - 64) / 4: more entries than that means a loop in the list. */
    for (unsigned n = 0; n < 48; n++) {
        pos &= 0xFCu; /* the low two bits are reserved (PCI 3.0 6.7) */
        if (pos < 0x40u)
            return 0;
        if ((uint8_t)bus->cfg_read(bus->ctx, pos, 1) == id)
            return pos;
        pos = (uint8_t)bus->cfg_read(bus->ctx, (uint16_t)(pos + 1), 1);
    }
    return 0;
}

uint64_t virtio_pci_bar_size(const struct virtio_pci_bus *bus, uint8_t bar, bool *is_io)
{
    uint16_t reg = (uint16_t)(PCI_CFG_BAR0 + 4u * bar);
    uint32_t cmd, orig, probe, orig_hi = 0, probe_hi = 0;
    bool is64;
    uint64_t mask;

    if (bar > 5)
        return 0;
    orig = bus->cfg_read(bus->ctx, reg, 4);
    *is_io = (orig & PCI_BAR_IO) != 0;
    is64 = !*is_io && (orig & 0x6u) == PCI_BAR_MEM_TYPE_64 && bar < 5;
    /* Stop decoding while the BAR holds all-ones, so no access lands there meanwhile. */
    cmd = bus->cfg_read(bus->ctx, PCI_CFG_COMMAND, 2);
    bus->cfg_write(bus->ctx, PCI_CFG_COMMAND, 2,
                   cmd & ~(uint32_t)(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    bus->cfg_write(bus->ctx, reg, 4, 0xFFFFFFFFu);
    probe = bus->cfg_read(bus->ctx, reg, 4);
    bus->cfg_write(bus->ctx, reg, 4, orig);
    if (is64) {
        orig_hi = bus->cfg_read(bus->ctx, (uint16_t)(reg + 4), 4);
        bus->cfg_write(bus->ctx, (uint16_t)(reg + 4), 4, 0xFFFFFFFFu);
        probe_hi = bus->cfg_read(bus->ctx, (uint16_t)(reg + 4), 4);
        bus->cfg_write(bus->ctx, (uint16_t)(reg + 4), 4, orig_hi);
    }
    bus->cfg_write(bus->ctx, PCI_CFG_COMMAND, 2, cmd);

    if (*is_io) {
        mask = probe & PCI_BAR_IO_MASK & 0xFFFFu;
        return mask == 0 ? 0 : ((~mask + 1u) & 0xFFFFu);
    }
    mask = probe & PCI_BAR_MEM_MASK;
    if (is64)
        mask |= (uint64_t)probe_hi << 32;
    else
        mask |= 0xFFFFFFFF00000000ull;
    return mask == 0xFFFFFFFF00000000ull && !is64 ? 0 : (~mask + 1u);
}

bool virtio_pci_msix_enabled(const struct virtio_pci *vp)
{
    uint32_t ctrl;

    if (vp->vp_msix_cap == 0)
        return false;
    ctrl = vp->vp_bus.cfg_read(vp->vp_bus.ctx, (uint16_t)(vp->vp_msix_cap + PCI_MSIX_CTRL), 2);
    return (ctrl & PCI_MSIX_CTRL_ENABLE) != 0;
}

vnet_err_t virtio_pci_wait_reset(struct virtio_transport *t)
{
    /* 2.4.2: the driver must wait for status to read 0 before re-initialising. */
    for (unsigned i = 0; i < VIRTIO_RESET_POLLS; i++) {
        if (t->ops->get_status(t) == 0)
            return VNET_OK;
        osal_sleep_ms(VIRTIO_RESET_POLL_MS);
    }
    return VNET_E_TIMEOUT;
}

vnet_err_t virtio_pci_transport_create(struct virtio_transport **out,
                                       const struct virtio_pci_bus *bus, unsigned flags)
{
    struct virtio_pci *vp;
    uint32_t vendor, devid;
    bool transitional;
    vnet_err_t rc;

    if (out == NULL || bus == NULL || bus->cfg_read == NULL || bus->cfg_write == NULL ||
        bus->bar_read == NULL || bus->bar_write == NULL ||
        (flags & ~(VIRTIO_PCI_PREFER_LEGACY | VIRTIO_PCI_FORCE_MODERN)) != 0 ||
        (flags & (VIRTIO_PCI_PREFER_LEGACY | VIRTIO_PCI_FORCE_MODERN)) ==
            (VIRTIO_PCI_PREFER_LEGACY | VIRTIO_PCI_FORCE_MODERN))
        return VNET_E_INVAL;
    *out = NULL;
    vendor = bus->cfg_read(bus->ctx, PCI_CFG_VENDOR_ID, 2);
    devid = bus->cfg_read(bus->ctx, PCI_CFG_DEVICE_ID, 2);
    /* 4.1.2: 0x1040 + type is a modern device, 0x1000..0x103F transitional. */
    if (vendor != VIRTIO_PCI_VENDOR || devid < VIRTIO_PCI_DEVICE_TRANS_MIN || devid > 0x107Fu)
        return VNET_E_NODEV;
    transitional = devid <= VIRTIO_PCI_DEVICE_TRANS_MAX;

    vp = osal_mem_alloc(sizeof(*vp));
    if (vp == NULL)
        return VNET_E_NOMEM;
    memset(vp, 0, sizeof(*vp));
    vp->vp_bus = *bus;
    vp->vp_msix_cap = virtio_pci_find_cap(bus, PCI_CAP_ID_MSIX, 0);
    /* Transitional devices carry the virtio type in the subsystem id (4.1.2.1). */
    vp->vp_tr.device_id = transitional ? bus->cfg_read(bus->ctx, PCI_CFG_SUBSYS_ID, 2)
                                       : devid - VIRTIO_PCI_DEVICE_MODERN_BASE;
    if (vp->vp_tr.device_id == 0) {
        osal_mem_free(vp);
        return VNET_E_NODEV;
    }

    if (!(flags & VIRTIO_PCI_PREFER_LEGACY) || !transitional) {
        rc = virtio_pci_modern_probe(vp);
        if (rc == VNET_OK || rc == VNET_E_NOMEM || (flags & VIRTIO_PCI_FORCE_MODERN) ||
            !transitional)
            goto done;
    }
    rc = virtio_pci_legacy_probe(vp);
done:
    if (rc != VNET_OK) {
        osal_mem_free(vp);
        return rc;
    }
    *out = &vp->vp_tr;
    return VNET_OK;
}
