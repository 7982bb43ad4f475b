/*
 * Virtio over MMIO register layout (virtio 1.x spec 4.2.2; legacy version 1: 4.2.4).
 * Shared by the MMIO transport and the simulated device. All registers are 32-bit
 * little-endian; device configuration starts at VIRTIO_MMIO_CONFIG.
 */
#ifndef VNET_SRC_VIRTIO_MMIO_REGS_H
#define VNET_SRC_VIRTIO_MMIO_REGS_H

#include <stddef.h>
#include <stdint.h>

#define VIRTIO_MMIO_MAGIC_VALUE         0x000u /* "virt" */
#define VIRTIO_MMIO_VERSION             0x004u /* 2 modern, 1 legacy */
#define VIRTIO_MMIO_DEVICE_ID           0x008u
#define VIRTIO_MMIO_VENDOR_ID           0x00Cu
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010u
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014u
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020u
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024u
#define VIRTIO_MMIO_GUEST_PAGE_SIZE     0x028u /* v1 only */
#define VIRTIO_MMIO_QUEUE_SEL           0x030u
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034u
#define VIRTIO_MMIO_QUEUE_NUM           0x038u
#define VIRTIO_MMIO_QUEUE_ALIGN         0x03Cu /* v1 only */
#define VIRTIO_MMIO_QUEUE_PFN           0x040u /* v1 only */
#define VIRTIO_MMIO_QUEUE_READY         0x044u /* v2 only */
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050u
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060u
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064u
#define VIRTIO_MMIO_STATUS              0x070u
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080u /* v2 only from here */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084u
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090u
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094u
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0A0u
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0A4u
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0FCu
#define VIRTIO_MMIO_CONFIG              0x100u
#define VIRTIO_MMIO_WINDOW_SIZE         0x200u /* registers + room for device config */

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" read as a little-endian word */

/* InterruptStatus / InterruptACK bits (4.2.2). */
#define VIRTIO_MMIO_INT_VRING  0x1u
#define VIRTIO_MMIO_INT_CONFIG 0x2u

/* Legacy page size and ring alignment the driver programs (4.2.4). */
#define VIRTIO_MMIO_V1_PAGE_SIZE 4096u
#define VIRTIO_MMIO_V1_ALIGN     4096u

/* The register map as a struct, only to check the offsets against the spec's table. */
struct virtio_mmio_regs_layout {
    uint32_t magic, version, device_id, vendor_id;
    uint32_t device_features, device_features_sel, rsvd0[2];
    uint32_t driver_features, driver_features_sel, guest_page_size, rsvd1;
    uint32_t queue_sel, queue_num_max, queue_num, queue_align;
    uint32_t queue_pfn, queue_ready, rsvd2[2];
    uint32_t queue_notify, rsvd3[3];
    uint32_t interrupt_status, interrupt_ack, rsvd4[2];
    uint32_t status, rsvd5[3];
    uint32_t queue_desc_low, queue_desc_high, rsvd6[2];
    uint32_t queue_driver_low, queue_driver_high, rsvd7[2];
    uint32_t queue_device_low, queue_device_high, rsvd8[21];
    uint32_t config_generation;
};
_Static_assert(offsetof(struct virtio_mmio_regs_layout, queue_pfn) == VIRTIO_MMIO_QUEUE_PFN,
               "QueuePFN");
_Static_assert(offsetof(struct virtio_mmio_regs_layout, queue_ready) == VIRTIO_MMIO_QUEUE_READY,
               "QueueReady");
_Static_assert(offsetof(struct virtio_mmio_regs_layout, queue_notify) == VIRTIO_MMIO_QUEUE_NOTIFY,
               "QueueNotify");
_Static_assert(offsetof(struct virtio_mmio_regs_layout, interrupt_status) ==
                   VIRTIO_MMIO_INTERRUPT_STATUS,
               "InterruptStatus");
_Static_assert(offsetof(struct virtio_mmio_regs_layout, status) == VIRTIO_MMIO_STATUS, "Status");
_Static_assert(offsetof(struct virtio_mmio_regs_layout, queue_desc_low) ==
                   VIRTIO_MMIO_QUEUE_DESC_LOW,
               "QueueDescLow");
_Static_assert(offsetof(struct virtio_mmio_regs_layout, queue_device_high) ==
                   VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
               "QueueDeviceHigh");
_Static_assert(offsetof(struct virtio_mmio_regs_layout, config_generation) ==
                   VIRTIO_MMIO_CONFIG_GENERATION,
               "ConfigGeneration");
_Static_assert(sizeof(struct virtio_mmio_regs_layout) == VIRTIO_MMIO_CONFIG, "config at 0x100");

#endif /* VNET_SRC_VIRTIO_MMIO_REGS_H */
