/*
 * Virtio over PCI, legacy interface of transitional devices (virtio 1.x spec 4.1.4.8 and
 * the legacy notes of 2.7.2): registers in I/O BAR 0, 32 feature bits, fixed queue size,
 * rings in one 4096-aligned area given as a page number, guest-endian fields (our CPUs
 * are little-endian, so no conversion).
 */
#include <string.h>
#include "osal.h"
#include "virtio_pci_priv.h"
#include "virtio_pci_regs.h"
#include "virtio_ring.h"

static struct virtio_pci *to_vp(struct virtio_transport *t)
{
    return (struct virtio_pci *)t;
}

static uint32_t vpl_rd(struct virtio_pci *vp, uint32_t off, uint8_t width)
{
    return vp->vp_bus.bar_read(vp->vp_bus.ctx, 0, off, width);
}

static void vpl_wr(struct virtio_pci *vp, uint32_t off, uint8_t width, uint32_t val)
{
    vp->vp_bus.bar_write(vp->vp_bus.ctx, 0, off, width, val);
}

/* Device config moves by 4 bytes when MSI-X is enabled (the two vector registers). */
static uint32_t vpl_cfg_base(struct virtio_pci *vp)
{
    return virtio_pci_msix_enabled(vp) ? VIRTIO_PCI_LEG_CONFIG_MSIX : VIRTIO_PCI_LEG_CONFIG_NOMSIX;
}

static vnet_err_t vpl_reset(struct virtio_transport *t)
{
    vpl_wr(to_vp(t), VIRTIO_PCI_LEG_STATUS, 1, 0);
    return virtio_pci_wait_reset(t);
}

static uint8_t vpl_get_status(struct virtio_transport *t)
{
    return (uint8_t)vpl_rd(to_vp(t), VIRTIO_PCI_LEG_STATUS, 1);
}

static void vpl_set_status(struct virtio_transport *t, uint8_t status)
{
    vpl_wr(to_vp(t), VIRTIO_PCI_LEG_STATUS, 1, status);
}

static uint64_t vpl_get_features(struct virtio_transport *t)
{
    return vpl_rd(to_vp(t), VIRTIO_PCI_LEG_HOST_FEATURES, 4);
}

static void vpl_set_features(struct virtio_transport *t, uint64_t features)
{
    /* Only 32 feature bits exist in the legacy interface. */
    vpl_wr(to_vp(t), VIRTIO_PCI_LEG_GUEST_FEATURES, 4, (uint32_t)features);
}

static vnet_err_t vpl_read_config(struct virtio_transport *t, uint32_t off, void *buf, uint32_t len)
{
    struct virtio_pci *vp = to_vp(t);
    uint32_t base = vpl_cfg_base(vp);
    uint8_t *b = buf;

    if (len == 0 || base + off < base || base + off > vp->vp_io_size ||
        len > vp->vp_io_size - (base + off))
        return VNET_E_RANGE;
    /* No generation counter in the legacy interface: byte reads, as legacy drivers do. */
    for (uint32_t i = 0; i < len; i++)
        b[i] = (uint8_t)vpl_rd(vp, base + off + i, 1);
    return VNET_OK;
}

static uint16_t vpl_queue_max(struct virtio_transport *t, uint16_t idx)
{
    struct virtio_pci *vp = to_vp(t);

    vpl_wr(vp, VIRTIO_PCI_LEG_QUEUE_SEL, 2, idx);
    return (uint16_t)vpl_rd(vp, VIRTIO_PCI_LEG_QUEUE_NUM, 2);
}

static bool vpl_queue_size_settable(struct virtio_transport *t)
{
    (void)t;
    return false;
}

static vnet_err_t vpl_queue_setup(struct virtio_transport *t, uint16_t idx, uint16_t size,
                                  uint64_t desc, uint64_t avail, uint64_t used, uint16_t vector)
{
    struct virtio_pci *vp = to_vp(t);
    uint16_t num;

    vpl_wr(vp, VIRTIO_PCI_LEG_QUEUE_SEL, 2, idx);
    num = (uint16_t)vpl_rd(vp, VIRTIO_PCI_LEG_QUEUE_NUM, 2);
    if (num == 0 || size != num)
        return VNET_E_RANGE;
    /* The device derives avail and used from the page number alone (2.7.2 legacy
     * layout), so the rings must sit exactly where it will look. */
    if ((desc & (VIRTIO_PCI_LEG_ALIGN - 1)) != 0 || avail != desc + virtq_desc_bytes(size) ||
        used != desc + virtq_legacy_used_offset(size) ||
        (desc >> VIRTIO_PCI_LEG_PFN_SHIFT) > 0xFFFFFFFFull || desc == 0)
        return VNET_E_RANGE;
    if (virtio_pci_msix_enabled(vp)) {
        vpl_wr(vp, VIRTIO_PCI_LEG_QUEUE_VECTOR, 2, vector);
        if (vector != VIRTIO_PCI_NO_VECTOR &&
            (uint16_t)vpl_rd(vp, VIRTIO_PCI_LEG_QUEUE_VECTOR, 2) != vector)
            return VNET_E_IO;
    } else if (vector != VIRTIO_PCI_NO_VECTOR) {
        return VNET_E_IO; /* no MSI-X: the device cannot honour a vector */
    }
    vpl_wr(vp, VIRTIO_PCI_LEG_QUEUE_PFN, 4, (uint32_t)(desc >> VIRTIO_PCI_LEG_PFN_SHIFT));
    return VNET_OK;
}

static void vpl_notify(struct virtio_transport *t, uint16_t idx)
{
    vpl_wr(to_vp(t), VIRTIO_PCI_LEG_QUEUE_NOTIFY, 2, idx);
}

static uint8_t vpl_isr_status(struct virtio_transport *t)
{
    return (uint8_t)vpl_rd(to_vp(t), VIRTIO_PCI_LEG_ISR, 1); /* read clears */
}

static vnet_err_t vpl_set_config_vector(struct virtio_transport *t, uint16_t vector)
{
    struct virtio_pci *vp = to_vp(t);

    if (!virtio_pci_msix_enabled(vp))
        return vector == VIRTIO_PCI_NO_VECTOR ? VNET_OK : VNET_E_IO;
    vpl_wr(vp, VIRTIO_PCI_LEG_CONFIG_VECTOR, 2, vector);
    if (vector != VIRTIO_PCI_NO_VECTOR &&
        (uint16_t)vpl_rd(vp, VIRTIO_PCI_LEG_CONFIG_VECTOR, 2) != vector)
        return VNET_E_IO;
    return VNET_OK;
}

static bool vpl_is_legacy(struct virtio_transport *t)
{
    (void)t;
    return true;
}

static void vpl_destroy(struct virtio_transport *t)
{
    osal_mem_free(to_vp(t));
}

static bool vpl_msix_enabled(struct virtio_transport *t)
{
    return virtio_pci_msix_enabled(to_vp(t));
}

static const struct virtio_transport_ops virtio_pci_legacy_ops = {
    .reset = vpl_reset,
    .get_status = vpl_get_status,
    .set_status = vpl_set_status,
    .get_features = vpl_get_features,
    .set_features = vpl_set_features,
    .read_config = vpl_read_config,
    .queue_max = vpl_queue_max,
    .queue_size_settable = vpl_queue_size_settable,
    .queue_setup = vpl_queue_setup,
    .notify = vpl_notify,
    .isr_status = vpl_isr_status,
    .set_config_vector = vpl_set_config_vector,
    .is_legacy = vpl_is_legacy,
    .msix_enabled = vpl_msix_enabled,
    .destroy = vpl_destroy,
};

vnet_err_t virtio_pci_legacy_probe(struct virtio_pci *vp)
{
    bool is_io = false;
    uint64_t size = virtio_pci_bar_size(&vp->vp_bus, 0, &is_io);

    /* 4.1.4.8: the legacy registers live in an I/O BAR 0 at least 0x14 bytes long. */
    if (!is_io || size < VIRTIO_PCI_LEG_CONFIG_NOMSIX)
        return VNET_E_NODEV;
    vp->vp_io_size = (uint32_t)size;
    memset(&vp->vp_common, 0, sizeof(vp->vp_common));
    vp->vp_tr.ops = &virtio_pci_legacy_ops;
    vp->vp_tr.kind = VIRTIO_TRANSPORT_PCI_LEGACY;
    return VNET_OK;
}
