/*
 * Board interface for virtio over MMIO (virtio-mmio version 2 and legacy version 1).
 *
 * The board knows where the register window is and how the interrupt is routed; the MMIO
 * transport reaches the registers only through these 32-bit accessors (the spec says all
 * MMIO registers are accessed as 32-bit little-endian words; device configuration space
 * may be read with 8/16/32-bit width). ISR-safe and non-blocking, like virtio_pci_bus.
 */
#ifndef VNET_VIRTIO_MMIO_BUS_H
#define VNET_VIRTIO_MMIO_BUS_H

#include <stdint.h>

struct virtio_mmio_bus {
    void *ctx;
    /* off is the byte offset in the register window; width 1, 2 or 4; CPU byte order. */
    uint32_t (*read)(void *ctx, uint32_t off, uint8_t width);
    void (*write)(void *ctx, uint32_t off, uint8_t width, uint32_t val);
};

#endif /* VNET_VIRTIO_MMIO_BUS_H */
