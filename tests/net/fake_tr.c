/* Scripted transport for bring-up tests (fake_tr.h). */
#include <string.h>
#include "fake_tr.h"
#include "vnet/virtio_pci_bus.h"

static struct fake_tr *ft(struct virtio_transport *t)
{
    return (struct fake_tr *)t;
}

static vnet_err_t f_reset(struct virtio_transport *t)
{
    struct fake_tr *f = ft(t);
    f->resets++;
    if (f->reset_hangs)
        return VNET_E_TIMEOUT;
    f->status = 0;
    return VNET_OK;
}

static uint8_t f_get_status(struct virtio_transport *t)
{
    return ft(t)->status;
}

static void f_set_status(struct virtio_transport *t, uint8_t s)
{
    struct fake_tr *f = ft(t);
    if (f->status_writes < (int)sizeof(f->status_log))
        f->status_log[f->status_writes] = s;
    f->status_writes++;
    if (f->refuse_features_ok)
        s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
    if (f->needs_reset_at_driver_ok && (s & VIRTIO_STATUS_DRIVER_OK))
        s |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    f->status = s;
}

static uint64_t f_get_features(struct virtio_transport *t)
{
    struct fake_tr *f = ft(t);
    return f->legacy ? (f->device_features & 0xffffffffull) : f->device_features;
}

static void f_set_features(struct virtio_transport *t, uint64_t v)
{
    ft(t)->driver_features = v;
    ft(t)->features_writes++;
}

static vnet_err_t f_read_config(struct virtio_transport *t, uint32_t off, void *buf, uint32_t len)
{
    if (off + len > sizeof(ft(t)->cfg))
        return VNET_E_RANGE;
    memcpy(buf, ft(t)->cfg + off, len);
    return VNET_OK;
}

static uint16_t f_queue_max(struct virtio_transport *t, uint16_t idx)
{
    return idx < 2 ? ft(t)->qmax : 0;
}

static bool f_settable(struct virtio_transport *t)
{
    return ft(t)->size_settable;
}

static vnet_err_t f_queue_setup(struct virtio_transport *t, uint16_t idx, uint16_t size,
                                uint64_t desc, uint64_t avail, uint64_t used, uint16_t vector)
{
    struct fake_tr *f = ft(t);
    (void)desc;
    (void)avail;
    (void)used;
    if (f->refuse_vector && vector != VIRTIO_PCI_NO_VECTOR)
        return VNET_E_IO;
    if (idx < 2) {
        f->qsize[idx] = size;
        f->qvector[idx] = vector;
    }
    f->queues_setup++;
    return VNET_OK;
}

static void f_notify(struct virtio_transport *t, uint16_t idx)
{
    (void)idx;
    ft(t)->notifies++;
}

static uint8_t f_isr_status(struct virtio_transport *t)
{
    (void)t;
    return 0;
}

static vnet_err_t f_set_config_vector(struct virtio_transport *t, uint16_t v)
{
    if (ft(t)->refuse_vector && v != VIRTIO_PCI_NO_VECTOR)
        return VNET_E_IO;
    ft(t)->config_vector = v;
    return VNET_OK;
}

static bool f_is_legacy(struct virtio_transport *t)
{
    return ft(t)->legacy;
}

static bool f_msix_enabled(struct virtio_transport *t)
{
    return ft(t)->msix_on;
}

static void f_destroy(struct virtio_transport *t)
{
    (void)t;
}

static const struct virtio_transport_ops fake_ops = {
    .reset = f_reset,
    .get_status = f_get_status,
    .set_status = f_set_status,
    .get_features = f_get_features,
    .set_features = f_set_features,
    .read_config = f_read_config,
    .queue_max = f_queue_max,
    .queue_size_settable = f_settable,
    .queue_setup = f_queue_setup,
    .notify = f_notify,
    .isr_status = f_isr_status,
    .set_config_vector = f_set_config_vector,
    .is_legacy = f_is_legacy,
    .msix_enabled = f_msix_enabled,
    .destroy = f_destroy,
};

void fake_tr_init(struct fake_tr *f, bool legacy, uint64_t device_features)
{
    memset(f, 0, sizeof(*f));
    f->base.ops = &fake_ops;
    f->base.kind = legacy ? VIRTIO_TRANSPORT_PCI_LEGACY : VIRTIO_TRANSPORT_PCI_MODERN;
    f->base.device_id = 1;
    f->config_vector = VIRTIO_PCI_NO_VECTOR;
    f->legacy = legacy;
    f->device_features = device_features;
    f->qmax = 256;
    f->size_settable = !legacy;
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(f->cfg, mac, 6);
    f->cfg[6] = 1; /* status: link up */
    f->cfg[10] = 1500 & 0xff;
    f->cfg[11] = 1500 >> 8;
}

bool fake_tr_status_written(const struct fake_tr *f, uint8_t bit)
{
    for (int i = 0; i < f->status_writes && i < (int)sizeof(f->status_log); i++)
        if (f->status_log[i] & bit)
            return true;
    return false;
}
