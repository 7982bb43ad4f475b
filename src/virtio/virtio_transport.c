/* Transport-independent entry points of include/vnet/virtio_transport.h. */
#include <stddef.h>
#include "virtio_transport.h"

void virtio_cfg_read_field(virtio_cfg_rd_fn rd, void *ctx, uint32_t off, uint8_t *buf, uint32_t len)
{
    uint8_t w = 1;

    if ((len == 2 || len == 4) && (off & (len - 1)) == 0)
        w = (uint8_t)len;
    else if (len == 8 && (off & 3) == 0)
        w = 4;
    while (len > 0) {
        uint32_t v = rd(ctx, off, w);

        for (uint8_t i = 0; i < w; i++)
            buf[i] = (uint8_t)(v >> (8 * i)); /* config fields are little-endian bytes */
        buf += w;
        off += w;
        len -= w;
    }
}

vnet_err_t virtio_transport_use_msix(struct virtio_transport *t, uint16_t config_vector,
                                     const uint16_t *queue_vectors, unsigned n)
{
    if (t == NULL || (queue_vectors == NULL && n != 0) || n > VIRTIO_TRANSPORT_MSIX_QUEUES)
        return VNET_E_INVAL;
    if (t->kind != VIRTIO_TRANSPORT_PCI_MODERN && t->kind != VIRTIO_TRANSPORT_PCI_LEGACY)
        return VNET_E_INVAL; /* MMIO has one interrupt line and no vectors */
    t->msix = true;
    t->msix_config = config_vector;
    for (unsigned i = 0; i < VIRTIO_TRANSPORT_MSIX_QUEUES; i++)
        t->msix_queue[i] = i < n ? queue_vectors[i] : VIRTIO_PCI_NO_VECTOR;
    return VNET_OK;
}

vnet_err_t virtio_cfg_read_stable(virtio_cfg_rd_fn rd, virtio_cfg_gen_fn gen, void *ctx,
                                  uint32_t off, uint8_t *buf, uint32_t len)
{
    if (gen == NULL) {
        virtio_cfg_read_field(rd, ctx, off, buf, len);
        return VNET_OK;
    }
    for (unsigned tries = 0; tries < VIRTIO_CFG_GEN_TRIES; tries++) {
        uint32_t g0 = gen(ctx);

        virtio_cfg_read_field(rd, ctx, off, buf, len);
        if (gen(ctx) == g0)
            return VNET_OK;
    }
    return VNET_E_TIMEOUT;
}

void virtio_transport_destroy(struct virtio_transport *t)
{
    if (t != NULL)
        t->ops->destroy(t);
}

enum virtio_transport_kind virtio_transport_kind(const struct virtio_transport *t)
{
    return t->kind;
}

uint32_t virtio_transport_device_id(const struct virtio_transport *t)
{
    return t->device_id;
}
