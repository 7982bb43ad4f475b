/* Transport-independent entry points of include/vnet/virtio_transport.h. */
#include <stddef.h>
#include "virtio_transport.h"

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
