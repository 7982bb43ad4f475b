/*
 * Virtio over PCI, modern interface (virtio 1.x spec 4.1.4): structures located by
 * vendor capabilities, common configuration for status/features/queues, per-queue notify
 * addresses, ISR status byte, device configuration with generation retry.
 */
#include <string.h>
#include "osal.h"
#include "virtio_barrier.h"
#include "virtio_pci_priv.h"
#include "virtio_pci_regs.h"

static struct virtio_pci *to_vp(struct virtio_transport *t)
{
    return (struct virtio_pci *)t;
}

/*
 * The only place common-config registers are touched: one access of the field's natural
 * width (4.1.3.1: the driver MUST access each field with its own width), values in CPU
 * order (the board converts to the bus's little-endian).
 */
static uint32_t vpm_rd(struct virtio_pci *vp, const struct virtio_pci_region *r, uint32_t off,
                       uint8_t width)
{
    return vp->vp_bus.bar_read(vp->vp_bus.ctx, r->bar, r->off + off, width);
}

static void vpm_wr(struct virtio_pci *vp, const struct virtio_pci_region *r, uint32_t off,
                   uint8_t width, uint32_t val)
{
    vp->vp_bus.bar_write(vp->vp_bus.ctx, r->bar, r->off + off, width, val);
}

#define COMMON_RD8(vp, o)     ((uint8_t)vpm_rd((vp), &(vp)->vp_common, (o), 1))
#define COMMON_RD16(vp, o)    ((uint16_t)vpm_rd((vp), &(vp)->vp_common, (o), 2))
#define COMMON_RD32(vp, o)    vpm_rd((vp), &(vp)->vp_common, (o), 4)
#define COMMON_WR8(vp, o, v)  vpm_wr((vp), &(vp)->vp_common, (o), 1, (v))
#define COMMON_WR16(vp, o, v) vpm_wr((vp), &(vp)->vp_common, (o), 2, (v))
#define COMMON_WR32(vp, o, v) vpm_wr((vp), &(vp)->vp_common, (o), 4, (v))

/* 64-bit fields as two 32-bit halves, low first (4.1.3.1 allows this; some devices only
 * accept 32-bit accesses). */
static void common_wr64(struct virtio_pci *vp, uint32_t lo_off, uint64_t v)
{
    COMMON_WR32(vp, lo_off, (uint32_t)v);
    COMMON_WR32(vp, lo_off + 4, (uint32_t)(v >> 32));
}

static vnet_err_t vpm_reset(struct virtio_transport *t)
{
    COMMON_WR8(to_vp(t), VIRTIO_PCI_COMMON_STATUS, 0);
    return virtio_pci_wait_reset(t);
}

static uint8_t vpm_get_status(struct virtio_transport *t)
{
    return COMMON_RD8(to_vp(t), VIRTIO_PCI_COMMON_STATUS);
}

static void vpm_set_status(struct virtio_transport *t, uint8_t status)
{
    COMMON_WR8(to_vp(t), VIRTIO_PCI_COMMON_STATUS, status);
}

static uint64_t vpm_get_features(struct virtio_transport *t)
{
    struct virtio_pci *vp = to_vp(t);
    uint64_t f;

    COMMON_WR32(vp, VIRTIO_PCI_COMMON_DFSELECT, 0);
    f = COMMON_RD32(vp, VIRTIO_PCI_COMMON_DF);
    COMMON_WR32(vp, VIRTIO_PCI_COMMON_DFSELECT, 1);
    f |= (uint64_t)COMMON_RD32(vp, VIRTIO_PCI_COMMON_DF) << 32;
    return f;
}

static void vpm_set_features(struct virtio_transport *t, uint64_t features)
{
    struct virtio_pci *vp = to_vp(t);

    COMMON_WR32(vp, VIRTIO_PCI_COMMON_GFSELECT, 0);
    COMMON_WR32(vp, VIRTIO_PCI_COMMON_GF, (uint32_t)features);
    COMMON_WR32(vp, VIRTIO_PCI_COMMON_GFSELECT, 1);
    COMMON_WR32(vp, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> 32));
}

/* One device-config access for virtio_cfg_read_field(). */
static uint32_t vpm_cfg_rd(void *ctx, uint32_t off, uint8_t width)
{
    struct virtio_pci *vp = ctx;

    return vpm_rd(vp, &vp->vp_device, off, width);
}

/* 4.1.4.3.1: config_generation, for virtio_cfg_read_stable(). */
static uint32_t vpm_cfg_gen(void *ctx)
{
    struct virtio_pci *vp = ctx;

    return COMMON_RD8(vp, VIRTIO_PCI_COMMON_CFGGEN);
}

static vnet_err_t vpm_read_config(struct virtio_transport *t, uint32_t off, void *buf, uint32_t len)
{
    struct virtio_pci *vp = to_vp(t);

    if (!vp->vp_device.present || len == 0 || off > vp->vp_device.len ||
        len > vp->vp_device.len - off)
        return VNET_E_RANGE;
    return virtio_cfg_read_stable(vpm_cfg_rd, vpm_cfg_gen, vp, off, buf, len);
}

static uint16_t vpm_queue_max(struct virtio_transport *t, uint16_t idx)
{
    struct virtio_pci *vp = to_vp(t);

    if (idx >= vp->vp_num_queues)
        return 0;
    COMMON_WR16(vp, VIRTIO_PCI_COMMON_Q_SELECT, idx);
    return COMMON_RD16(vp, VIRTIO_PCI_COMMON_Q_SIZE);
}

static bool vpm_queue_size_settable(struct virtio_transport *t)
{
    (void)t;
    return true;
}

static vnet_err_t vpm_queue_setup(struct virtio_transport *t, uint16_t idx, uint16_t size,
                                  uint64_t desc, uint64_t avail, uint64_t used, uint16_t vector)
{
    struct virtio_pci *vp = to_vp(t);
    uint16_t max, noff;
    uint64_t byte_off;

    if (idx >= vp->vp_num_queues)
        return VNET_E_RANGE;
    COMMON_WR16(vp, VIRTIO_PCI_COMMON_Q_SELECT, idx);
    max = COMMON_RD16(vp, VIRTIO_PCI_COMMON_Q_SIZE);
    if (size == 0 || size > max || (size & (size - 1)) != 0)
        return VNET_E_RANGE;
    if (COMMON_RD16(vp, VIRTIO_PCI_COMMON_Q_ENABLE) != 0)
        return VNET_E_IO; /* already enabled: the device was not reset */
    COMMON_WR16(vp, VIRTIO_PCI_COMMON_Q_SIZE, size);
    /* 4.1.4.3 / 4.1.5.1.2: the device answers NO_VECTOR when it cannot map the vector. */
    COMMON_WR16(vp, VIRTIO_PCI_COMMON_Q_MSIX, vector);
    if (vector != VIRTIO_PCI_NO_VECTOR && COMMON_RD16(vp, VIRTIO_PCI_COMMON_Q_MSIX) != vector)
        return VNET_E_IO;
    common_wr64(vp, VIRTIO_PCI_COMMON_Q_DESCLO, desc);
    common_wr64(vp, VIRTIO_PCI_COMMON_Q_AVAILLO, avail);
    common_wr64(vp, VIRTIO_PCI_COMMON_Q_USEDLO, used);
    /* 4.1.4.4: notify address = cap.offset + queue_notify_off * notify_off_multiplier. */
    noff = COMMON_RD16(vp, VIRTIO_PCI_COMMON_Q_NOFF);
    byte_off = (uint64_t)noff * vp->vp_notify_mult;
    if (byte_off + 2 > vp->vp_notify.len)
        return VNET_E_IO;
    vp->vp_notify_off[idx] = (uint32_t)byte_off;
    COMMON_WR16(vp, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    return VNET_OK;
}

static void vpm_notify(struct virtio_transport *t, uint16_t idx)
{
    struct virtio_pci *vp = to_vp(t);
    uint32_t off;

    if (idx >= vp->vp_num_queues)
        return;
    off = vp->vp_notify_off[idx];
    /* 4.1.5.2: write the 16-bit queue index at the queue's notify address. */
    if (vp->vp_notify.map != NULL)
        *(volatile uint16_t *)(volatile void *)(vp->vp_notify.map + off) = idx;
    else
        vpm_wr(vp, &vp->vp_notify, off, 2, idx);
}

static uint8_t vpm_isr_status(struct virtio_transport *t)
{
    struct virtio_pci *vp = to_vp(t);

    /* 4.1.4.5: reading the ISR byte returns and clears it (acknowledges INTx). */
    if (vp->vp_isr.map != NULL)
        return *vp->vp_isr.map;
    return (uint8_t)vpm_rd(vp, &vp->vp_isr, 0, 1);
}

static vnet_err_t vpm_set_config_vector(struct virtio_transport *t, uint16_t vector)
{
    struct virtio_pci *vp = to_vp(t);

    COMMON_WR16(vp, VIRTIO_PCI_COMMON_MSIX, vector);
    if (vector != VIRTIO_PCI_NO_VECTOR && COMMON_RD16(vp, VIRTIO_PCI_COMMON_MSIX) != vector)
        return VNET_E_IO;
    return VNET_OK;
}

static bool vpm_is_legacy(struct virtio_transport *t)
{
    (void)t;
    return false;
}

static void vpm_destroy(struct virtio_transport *t)
{
    struct virtio_pci *vp = to_vp(t);

    osal_mem_free(vp->vp_notify_off);
    osal_mem_free(vp);
}

static bool vpm_msix_enabled(struct virtio_transport *t)
{
    return virtio_pci_msix_enabled(to_vp(t));
}

static const struct virtio_transport_ops virtio_pci_modern_ops = {
    .reset = vpm_reset,
    .get_status = vpm_get_status,
    .set_status = vpm_set_status,
    .get_features = vpm_get_features,
    .set_features = vpm_set_features,
    .read_config = vpm_read_config,
    .queue_max = vpm_queue_max,
    .queue_size_settable = vpm_queue_size_settable,
    .queue_setup = vpm_queue_setup,
    .notify = vpm_notify,
    .isr_status = vpm_isr_status,
    .set_config_vector = vpm_set_config_vector,
    .is_legacy = vpm_is_legacy,
    .msix_enabled = vpm_msix_enabled,
    .destroy = vpm_destroy,
};

/* Minimum window each structure needs to be usable. */
static uint32_t vpm_min_len(uint8_t type)
{
    switch (type) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
        return VIRTIO_PCI_COMMON_CFG_SIZE;
    case VIRTIO_PCI_CAP_NOTIFY_CFG:
        return 2;
    case VIRTIO_PCI_CAP_ISR_CFG:
        return 1;
    default:
        return 1;
    }
}

vnet_err_t virtio_pci_modern_probe(struct virtio_pci *vp)
{
    const struct virtio_pci_bus *bus = &vp->vp_bus;
    uint64_t bar_sizes[6];
    bool bar_io[6], bar_sized[6] = {false};
    unsigned guard = 0;

    for (uint8_t pos = virtio_pci_find_cap(bus, PCI_CAP_ID_VENDOR, 0); pos != 0 && guard < 48;
         pos = virtio_pci_find_cap(bus, PCI_CAP_ID_VENDOR, pos), guard++) {
        uint8_t cap_len = (uint8_t)bus->cfg_read(bus->ctx, (uint16_t)(pos + 2), 1);
        /* The capability must lie inside the 256-byte config space before any of its
         * fields is read (a cap near 0xFC would otherwise read past the end). */
        if ((unsigned)pos + cap_len > 256u || (unsigned)pos + sizeof(struct virtio_pci_cap) > 256u)
            continue;
        uint8_t type = (uint8_t)bus->cfg_read(bus->ctx, (uint16_t)(pos + 3), 1);
        uint8_t bar = (uint8_t)bus->cfg_read(bus->ctx, (uint16_t)(pos + 4), 1);
        uint32_t off = bus->cfg_read(bus->ctx, (uint16_t)(pos + 8), 4);
        uint32_t len = bus->cfg_read(bus->ctx, (uint16_t)(pos + 12), 4);
        struct virtio_pci_region *r;

        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            r = &vp->vp_common;
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            r = &vp->vp_notify;
            break;
        case VIRTIO_PCI_CAP_ISR_CFG:
            r = &vp->vp_isr;
            break;
        case VIRTIO_PCI_CAP_DEVICE_CFG:
            r = &vp->vp_device;
            break;
        default:
            continue; /* PCI cfg access, shared memory, vendor: not used */
        }
        /* 4.1.4.1: use the first capability of each type that is usable; skip bad ones
         * (reserved BAR numbers, windows outside their BAR, short caps). */
        if (r->present || bar > 5 || cap_len < sizeof(struct virtio_pci_cap) ||
            len < vpm_min_len(type))
            continue;
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && cap_len < sizeof(struct virtio_pci_notify_cap))
            continue;
        if (!bar_sized[bar]) {
            bar_sizes[bar] = virtio_pci_bar_size(bus, bar, &bar_io[bar]);
            bar_sized[bar] = true;
        }
        if ((uint64_t)off + len > bar_sizes[bar])
            continue;
        r->bar = bar;
        r->off = off;
        r->len = len;
        r->present = true;
        r->map = NULL;
        if (bus->bar_map != NULL && !bar_io[bar]) {
            volatile uint8_t *base = (volatile uint8_t *)bus->bar_map(bus->ctx, bar);

            if (base != NULL)
                r->map = base + off;
        }
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
            vp->vp_notify_mult = bus->cfg_read(bus->ctx, (uint16_t)(pos + 16), 4);
    }
    if (!vp->vp_common.present || !vp->vp_notify.present || !vp->vp_isr.present)
        return VNET_E_NODEV;
    /* Only notify and ISR use the board's mapping (hot path); common and device config
     * stay on the accessors. */
    vp->vp_common.map = NULL;
    vp->vp_device.map = NULL;

    vp->vp_num_queues = COMMON_RD16(vp, VIRTIO_PCI_COMMON_NUMQ);
    if (vp->vp_num_queues == 0)
        return VNET_E_NODEV;
    vp->vp_notify_off = osal_mem_alloc(sizeof(uint32_t) * vp->vp_num_queues);
    if (vp->vp_notify_off == NULL)
        return VNET_E_NOMEM;
    memset(vp->vp_notify_off, 0, sizeof(uint32_t) * vp->vp_num_queues);
    vp->vp_tr.ops = &virtio_pci_modern_ops;
    vp->vp_tr.kind = VIRTIO_TRANSPORT_PCI_MODERN;
    return VNET_OK;
}
