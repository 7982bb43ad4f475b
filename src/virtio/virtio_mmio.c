/*
 * Virtio over MMIO (virtio 1.x spec 4.2): version 2 (QueueReady, 64-bit ring addresses,
 * settable queue size, config generation) and legacy version 1 (4.2.4: GuestPageSize,
 * QueueAlign, QueuePFN). Registers are 32-bit; device config may be read 8/16/32-bit.
 */
#include <string.h>
#include "osal.h"
#include "virtio_mmio_regs.h"
#include "virtio_ring.h"
#include "virtio_transport.h"

/* Same bounds as the PCI transports (see virtio_pci_priv.h). */
#define VIRTIO_MMIO_RESET_POLLS   1000u
#define VIRTIO_MMIO_RESET_POLL_MS 1u
/* Device config window: from 0x100 to the end of the (at least 0x200-byte) window. */
#define VIRTIO_MMIO_CONFIG_MAX (VIRTIO_MMIO_WINDOW_SIZE - VIRTIO_MMIO_CONFIG)

struct virtio_mmio {
    struct virtio_transport vm_tr; /* first: the driver's handle */
    struct virtio_mmio_bus vm_bus;
    uint32_t vm_version;
};

static struct virtio_mmio *to_vm(struct virtio_transport *t)
{
    return (struct virtio_mmio *)t;
}

static uint32_t vm_rd(struct virtio_mmio *vm, uint32_t off)
{
    return vm->vm_bus.read(vm->vm_bus.ctx, off, 4);
}

static void vm_wr(struct virtio_mmio *vm, uint32_t off, uint32_t val)
{
    vm->vm_bus.write(vm->vm_bus.ctx, off, 4, val);
}

static uint8_t vm_get_status(struct virtio_transport *t)
{
    return (uint8_t)vm_rd(to_vm(t), VIRTIO_MMIO_STATUS);
}

static void vm_set_status(struct virtio_transport *t, uint8_t status)
{
    vm_wr(to_vm(t), VIRTIO_MMIO_STATUS, status);
}

static vnet_err_t vm_reset(struct virtio_transport *t)
{
    vm_wr(to_vm(t), VIRTIO_MMIO_STATUS, 0);
    /* 4.2.3.1: wait for Status to read 0 (bounded, sleeping between polls). */
    for (unsigned i = 0; i < VIRTIO_MMIO_RESET_POLLS; i++) {
        if (vm_get_status(t) == 0)
            return VNET_OK;
        osal_sleep_ms(VIRTIO_MMIO_RESET_POLL_MS);
    }
    return VNET_E_TIMEOUT;
}

static uint64_t vm_get_features(struct virtio_transport *t)
{
    struct virtio_mmio *vm = to_vm(t);
    uint64_t f;

    vm_wr(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    f = vm_rd(vm, VIRTIO_MMIO_DEVICE_FEATURES);
    if (vm->vm_version >= 2) {
        vm_wr(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
        f |= (uint64_t)vm_rd(vm, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    }
    return f;
}

static void vm_set_features(struct virtio_transport *t, uint64_t features)
{
    struct virtio_mmio *vm = to_vm(t);

    vm_wr(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vm_wr(vm, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    if (vm->vm_version >= 2) {
        vm_wr(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
        vm_wr(vm, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
    }
}

/* One device-config access for virtio_cfg_read_field(). */
static uint32_t vm_cfg_rd(void *ctx, uint32_t off, uint8_t width)
{
    struct virtio_mmio *vm = ctx;

    return vm->vm_bus.read(vm->vm_bus.ctx, VIRTIO_MMIO_CONFIG + off, width);
}

static uint32_t vm_cfg_gen(void *ctx)
{
    return vm_rd(ctx, VIRTIO_MMIO_CONFIG_GENERATION);
}

static vnet_err_t vm_read_config(struct virtio_transport *t, uint32_t off, void *buf, uint32_t len)
{
    struct virtio_mmio *vm = to_vm(t);

    if (len == 0 || off > VIRTIO_MMIO_CONFIG_MAX || len > VIRTIO_MMIO_CONFIG_MAX - off)
        return VNET_E_RANGE;
    /* 4.2.2.2: ConfigGeneration exists from version 2 on. */
    return virtio_cfg_read_stable(vm_cfg_rd, vm->vm_version < 2 ? NULL : vm_cfg_gen, vm, off, buf,
                                  len);
}

static uint16_t vm_queue_max(struct virtio_transport *t, uint16_t idx)
{
    struct virtio_mmio *vm = to_vm(t);
    uint32_t max;

    vm_wr(vm, VIRTIO_MMIO_QUEUE_SEL, idx);
    max = vm_rd(vm, VIRTIO_MMIO_QUEUE_NUM_MAX);
    return max > 32768u ? 32768u : (uint16_t)max;
}

static bool vm_queue_size_settable(struct virtio_transport *t)
{
    return to_vm(t)->vm_version >= 2;
}

static vnet_err_t vm_queue_setup(struct virtio_transport *t, uint16_t idx, uint16_t size,
                                 uint64_t desc, uint64_t avail, uint64_t used, uint16_t vector)
{
    struct virtio_mmio *vm = to_vm(t);
    uint32_t max;

    (void)vector; /* MMIO has one interrupt line */
    vm_wr(vm, VIRTIO_MMIO_QUEUE_SEL, idx);
    max = vm_rd(vm, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max == 0 || size == 0 || size > max || (size & (size - 1)) != 0)
        return VNET_E_RANGE;
    if (vm->vm_version < 2) {
        /* 4.2.4: the legacy ring is one area at QueuePFN * GuestPageSize with the used
         * ring at QueueAlign; this transport keeps the fixed size (QueueNumMax). */
        if (size != max || (desc & (VIRTIO_MMIO_V1_PAGE_SIZE - 1)) != 0 ||
            avail != desc + virtq_desc_bytes(size) ||
            used != desc + virtq_legacy_used_offset(size) || desc == 0 ||
            desc / VIRTIO_MMIO_V1_PAGE_SIZE > 0xFFFFFFFFull)
            return VNET_E_RANGE;
        if (vm_rd(vm, VIRTIO_MMIO_QUEUE_PFN) != 0)
            return VNET_E_IO; /* still in use: the device was not reset */
        vm_wr(vm, VIRTIO_MMIO_GUEST_PAGE_SIZE, VIRTIO_MMIO_V1_PAGE_SIZE);
        vm_wr(vm, VIRTIO_MMIO_QUEUE_NUM, size);
        vm_wr(vm, VIRTIO_MMIO_QUEUE_ALIGN, VIRTIO_MMIO_V1_ALIGN);
        vm_wr(vm, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(desc / VIRTIO_MMIO_V1_PAGE_SIZE));
        return VNET_OK;
    }
    if (vm_rd(vm, VIRTIO_MMIO_QUEUE_READY) != 0)
        return VNET_E_IO;
    vm_wr(vm, VIRTIO_MMIO_QUEUE_NUM, size);
    vm_wr(vm, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    vm_wr(vm, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    vm_wr(vm, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    vm_wr(vm, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    vm_wr(vm, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    vm_wr(vm, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    vm_wr(vm, VIRTIO_MMIO_QUEUE_READY, 1);
    return VNET_OK;
}

static void vm_notify(struct virtio_transport *t, uint16_t idx)
{
    vm_wr(to_vm(t), VIRTIO_MMIO_QUEUE_NOTIFY, idx);
}

static uint8_t vm_isr_status(struct virtio_transport *t)
{
    struct virtio_mmio *vm = to_vm(t);
    uint32_t st = vm_rd(vm, VIRTIO_MMIO_INTERRUPT_STATUS);

    /* 4.2.2: MMIO acknowledges by writing the bits back (reading does not clear). */
    if (st != 0)
        vm_wr(vm, VIRTIO_MMIO_INTERRUPT_ACK, st);
    return (uint8_t)st;
}

static vnet_err_t vm_set_config_vector(struct virtio_transport *t, uint16_t vector)
{
    (void)t;
    (void)vector;
    return VNET_OK; /* no MSI-X on MMIO */
}

static bool vm_is_legacy(struct virtio_transport *t)
{
    return to_vm(t)->vm_version < 2;
}

static void vm_destroy(struct virtio_transport *t)
{
    osal_mem_free(to_vm(t));
}

static const struct virtio_transport_ops virtio_mmio_ops = {
    .reset = vm_reset,
    .get_status = vm_get_status,
    .set_status = vm_set_status,
    .get_features = vm_get_features,
    .set_features = vm_set_features,
    .read_config = vm_read_config,
    .queue_max = vm_queue_max,
    .queue_size_settable = vm_queue_size_settable,
    .queue_setup = vm_queue_setup,
    .notify = vm_notify,
    .isr_status = vm_isr_status,
    .set_config_vector = vm_set_config_vector,
    .is_legacy = vm_is_legacy,
    .destroy = vm_destroy,
};

vnet_err_t virtio_mmio_transport_create(struct virtio_transport **out,
                                        const struct virtio_mmio_bus *bus)
{
    struct virtio_mmio *vm;
    uint32_t magic, version, devid;

    if (out == NULL || bus == NULL || bus->read == NULL || bus->write == NULL)
        return VNET_E_INVAL;
    *out = NULL;
    magic = bus->read(bus->ctx, VIRTIO_MMIO_MAGIC_VALUE, 4);
    version = bus->read(bus->ctx, VIRTIO_MMIO_VERSION, 4);
    devid = bus->read(bus->ctx, VIRTIO_MMIO_DEVICE_ID, 4);
    /* 4.2.3.1.1: check magic and version; device id 0 is an empty slot. */
    if (magic != VIRTIO_MMIO_MAGIC || (version != 1 && version != 2) || devid == 0)
        return VNET_E_NODEV;
    vm = osal_mem_alloc(sizeof(*vm));
    if (vm == NULL)
        return VNET_E_NOMEM;
    memset(vm, 0, sizeof(*vm));
    vm->vm_bus = *bus;
    vm->vm_version = version;
    vm->vm_tr.ops = &virtio_mmio_ops;
    vm->vm_tr.kind = version == 2 ? VIRTIO_TRANSPORT_MMIO_V2 : VIRTIO_TRANSPORT_MMIO_V1;
    vm->vm_tr.device_id = devid;
    *out = &vm->vm_tr;
    return VNET_OK;
}
