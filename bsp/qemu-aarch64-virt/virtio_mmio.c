/*
 * virtio_mmio.c - the virt machine's 32 virtio-mmio slots (0x0a00_0000 + 0x200 n, SPI 16 + n
 * = INTID 48 + n): probe every slot's magic, version and device id at boot (QEMU fills them
 * from the top down unless bus=virtio-mmio-bus.N pins a device, so position says nothing),
 * report what is there, and hand network devices (id 1) to the application with the
 * register accessors of include/vnet/virtio_mmio_bus.h. Devices of any other type are
 * only read during the probe (magic/version/ids) and then left alone.
 */
#include "bsp_priv.h"
#include "vnet/virtio_mmio_bus.h"

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u /* "virt" */
#define VIRTIO_ID_NET           1u

static struct bsp_virtio_mmio_slot slots[BSP_VIRTIO_MMIO_SLOTS];
static unsigned nslots;
static unsigned net_idx[BSP_VIRTIO_MMIO_SLOTS];
static unsigned nnet;
static struct virtio_mmio_bus net_bus[BSP_VIRTIO_MMIO_SLOTS];

static const char *dev_name(uint32_t id)
{
    switch (id) {
    case 1u:
        return "network";
    case 2u:
        return "block";
    case 3u:
        return "console";
    case 4u:
        return "entropy";
    case 5u:
        return "balloon";
    case 9u:
        return "9p";
    case 16u:
        return "gpu";
    case 18u:
        return "input";
    case 19u:
        return "vsock";
    default:
        return "other";
    }
}

/* Accessors: one access of the requested width each (the spec's 32-bit registers, and
 * 8/16/32-bit device config reads), on the Device-nGnRE mapping. */
static uint32_t slot_read(void *ctx, uint32_t off, uint8_t width)
{
    uintptr_t a = (uintptr_t)((const struct bsp_virtio_mmio_slot *)ctx)->base + off;

    if (off >= BSP_VIRTIO_MMIO_STRIDE) {
        return 0xFFFFFFFFu;
    }
    return bsp_mmio_read(a, width);
}

static void slot_write(void *ctx, uint32_t off, uint8_t width, uint32_t val)
{
    uintptr_t a = (uintptr_t)((const struct bsp_virtio_mmio_slot *)ctx)->base + off;

    if (off >= BSP_VIRTIO_MMIO_STRIDE) {
        return;
    }
    bsp_mmio_write(a, width, val);
}

void bsp_virtio_mmio_probe(void)
{
    unsigned n;

    for (n = 0u; n < BSP_VIRTIO_MMIO_SLOTS; n++) {
        uintptr_t base = BSP_VIRTIO_MMIO_BASE + n * BSP_VIRTIO_MMIO_STRIDE;
        uint32_t magic = mmio_read32(base + 0x000u);
        uint32_t version = mmio_read32(base + 0x004u);
        uint32_t id = mmio_read32(base + 0x008u);
        struct bsp_virtio_mmio_slot *s;

        if (magic != VIRTIO_MMIO_MAGIC_VALUE || id == 0u) {
            continue; /* no transport, or an empty slot (device id 0) */
        }
        s = &slots[nslots++];
        s->slot = n;
        s->base = base;
        s->intid = BSP_INTID_VIRTIO0 + n;
        s->version = version;
        s->device_id = id;
        s->vendor_id = mmio_read32(base + 0x00Cu);
        if (id == VIRTIO_ID_NET && (version == 1u || version == 2u)) {
            net_bus[nnet].ctx = s;
            net_bus[nnet].read = slot_read;
            net_bus[nnet].write = slot_write;
            net_idx[nnet++] = nslots - 1u;
            bsp_printf("bsp: virtio-mmio slot %u @0x%lx intid %u: %s device (id 1), %s "
                       "(version %u), net%u\n",
                       n, (uint64_t)base, (unsigned)s->intid, dev_name(id),
                       version == 1u ? "legacy" : "modern", (unsigned)version, nnet - 1u);
        } else {
            bsp_printf("bsp: virtio-mmio slot %u @0x%lx intid %u: %s device (id %u), version "
                       "%u: not a network device, left alone\n",
                       n, (uint64_t)base, (unsigned)s->intid, dev_name(id), (unsigned)id,
                       (unsigned)version);
        }
    }
    bsp_printf("bsp: virtio-mmio %u of %u slots in use, %u network device(s)\n", nslots,
               BSP_VIRTIO_MMIO_SLOTS, nnet);
}

unsigned bsp_virtio_mmio_count(void)
{
    return nslots;
}

const struct bsp_virtio_mmio_slot *bsp_virtio_mmio_get(unsigned i)
{
    return i < nslots ? &slots[i] : NULL;
}

unsigned bsp_virtio_net_count(void)
{
    return nnet;
}

const struct bsp_virtio_mmio_slot *bsp_virtio_net_slot(unsigned i)
{
    return i < nnet ? &slots[net_idx[i]] : NULL;
}

const struct virtio_mmio_bus *bsp_virtio_net_mmio_bus(unsigned i)
{
    return i < nnet ? &net_bus[i] : NULL;
}
