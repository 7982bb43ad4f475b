/*
 * Board interface for virtio over PCI.
 *
 * PCI configuration access, BAR mapping and MSI-X table programming belong to the board
 * (they depend on the platform's host bridge, address map and interrupt controller).
 * The PCI transports (modern and legacy) reach a function only through this table, so
 * the same transport code runs on the QEMU board, on another BSP, and against the
 * simulated device of the host tests.
 *
 * All accessors are called from task context during initialize/halt; bar_read/bar_write
 * (and a pointer from bar_map) are also used from interrupt context (ISR status read,
 * queue notify), so they must be ISR-safe and must not block.
 *
 * Values are in CPU byte order: the board performs the bus access with the given width,
 * and the transport converts between little-endian device layout and CPU order.
 */
#ifndef VNET_VIRTIO_PCI_BUS_H
#define VNET_VIRTIO_PCI_BUS_H

#include <stdint.h>

struct virtio_pci_bus {
    void *ctx; /* board's handle for one PCI function, passed back to every call */

    /* Configuration space access; width is 1, 2 or 4 bytes and off is naturally aligned. */
    uint32_t (*cfg_read)(void *ctx, uint16_t off, uint8_t width);
    void (*cfg_write)(void *ctx, uint16_t off, uint8_t width, uint32_t val);

    /*
     * Access to BAR `bar` (0..5) at byte offset `off`, width 1, 2 or 4. Works for memory
     * BARs and for I/O BARs (the legacy transport uses I/O BAR 0); the board knows which
     * it is from the BAR's type bit. Device memory ordering: each call is one access,
     * completed in program order with respect to the other calls.
     */
    uint32_t (*bar_read)(void *ctx, uint8_t bar, uint32_t off, uint8_t width);
    void (*bar_write)(void *ctx, uint8_t bar, uint32_t off, uint8_t width, uint32_t val);

    /*
     * Optional (may be NULL, or return NULL): a CPU pointer to a memory BAR mapped as
     * uncached device memory, for the hot path (notify, ISR status) to use volatile
     * accesses directly instead of calling bar_read/bar_write. Never used for I/O BARs.
     */
    volatile void *(*bar_map)(void *ctx, uint8_t bar);
};

/*
 * MSI-X: the board programs the table entries (message address/data for its interrupt
 * controller) and enables the capability before the driver is initialized; the driver
 * only tells the device which table entry each event uses (msix_config,
 * queue_msix_vector). The transport detects whether MSI-X is enabled from the
 * capability's Message Control enable bit, because the legacy register layout depends
 * on it.
 */
#define VIRTIO_PCI_NO_VECTOR 0xFFFFu

#endif /* VNET_VIRTIO_PCI_BUS_H */
