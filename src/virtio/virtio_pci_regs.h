/*
 * Virtio over PCI: configuration-space and register layouts (virtio 1.x spec 4.1).
 * Shared by the PCI transports and the simulated device. Offsets are bytes; multi-byte
 * fields are little-endian on the bus.
 */
#ifndef VNET_SRC_VIRTIO_PCI_REGS_H
#define VNET_SRC_VIRTIO_PCI_REGS_H

#include <stddef.h>
#include <stdint.h>

/* --- standard PCI configuration header (type 0) ----------------------------------- */
#define PCI_CFG_VENDOR_ID     0x00u
#define PCI_CFG_DEVICE_ID     0x02u
#define PCI_CFG_COMMAND       0x04u
#define PCI_CFG_STATUS        0x06u
#define PCI_CFG_REVISION      0x08u
#define PCI_CFG_BAR0          0x10u /* BARn at 0x10 + 4n, n = 0..5 */
#define PCI_CFG_SUBSYS_VENDOR 0x2Cu
#define PCI_CFG_SUBSYS_ID     0x2Eu
#define PCI_CFG_CAP_PTR       0x34u
#define PCI_CFG_SPACE_SIZE    256u

#define PCI_COMMAND_IO      0x0001u
#define PCI_COMMAND_MEMORY  0x0002u
#define PCI_STATUS_CAP_LIST 0x0010u

#define PCI_BAR_IO          0x1u /* bit 0: I/O space */
#define PCI_BAR_MEM_TYPE_64 0x4u /* bits 2:1 == 10b: 64-bit memory BAR */
#define PCI_BAR_MEM_MASK    0xFFFFFFF0u
#define PCI_BAR_IO_MASK     0xFFFFFFFCu

/* Capability IDs. */
#define PCI_CAP_ID_MSIX   0x11u
#define PCI_CAP_ID_VENDOR 0x09u

/* MSI-X capability (PCI 3.0 6.8.2): Message Control at +2. */
#define PCI_MSIX_CTRL          2u
#define PCI_MSIX_CTRL_ENABLE   0x8000u
#define PCI_MSIX_CTRL_MASKALL  0x4000u
#define PCI_MSIX_CTRL_TBL_SIZE 0x07FFu /* table size - 1 */
#define PCI_MSIX_TABLE         4u      /* BIR (bits 2:0) | offset */
#define PCI_MSIX_PBA           8u

/* Virtio PCI vendor IDs (4.1.2). */
#define VIRTIO_PCI_VENDOR             0x1AF4u
#define VIRTIO_PCI_DEVICE_MODERN_BASE 0x1040u /* 0x1040 + virtio device type */
#define VIRTIO_PCI_DEVICE_TRANS_MIN   0x1000u /* transitional: 0x1000..0x103F */
#define VIRTIO_PCI_DEVICE_TRANS_MAX   0x103Fu

/* --- virtio vendor capability (4.1.4) ---------------------------------------------- */
struct virtio_pci_cap {
    uint8_t cap_vndr; /* PCI_CAP_ID_VENDOR */
    uint8_t cap_next;
    uint8_t cap_len;
    uint8_t cfg_type; /* VIRTIO_PCI_CAP_* */
    uint8_t bar;
    uint8_t id;
    uint8_t padding[2];
    uint32_t offset; /* within the BAR */
    uint32_t length;
};

struct virtio_pci_notify_cap {
    struct virtio_pci_cap cap;
    uint32_t notify_off_multiplier;
};

_Static_assert(sizeof(struct virtio_pci_cap) == 16, "virtio_pci_cap is 16 bytes (4.1.4)");
_Static_assert(offsetof(struct virtio_pci_cap, cfg_type) == 3, "cfg_type at 3");
_Static_assert(offsetof(struct virtio_pci_cap, bar) == 4, "bar at 4");
_Static_assert(offsetof(struct virtio_pci_cap, offset) == 8, "offset at 8");
_Static_assert(offsetof(struct virtio_pci_cap, length) == 12, "length at 12");
_Static_assert(offsetof(struct virtio_pci_notify_cap, notify_off_multiplier) == 16,
               "notify_off_multiplier at 16 (4.1.4.4)");

#define VIRTIO_PCI_CAP_COMMON_CFG 1u
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2u
#define VIRTIO_PCI_CAP_ISR_CFG    3u
#define VIRTIO_PCI_CAP_DEVICE_CFG 4u
#define VIRTIO_PCI_CAP_PCI_CFG    5u

/* --- common configuration structure (4.1.4.3) --------------------------------------- */
struct virtio_pci_common_cfg {
    uint32_t device_feature_select;
    uint32_t device_feature;
    uint32_t driver_feature_select;
    uint32_t driver_feature;
    uint16_t config_msix_vector;
    uint16_t num_queues;
    uint8_t device_status;
    uint8_t config_generation;
    uint16_t queue_select;
    uint16_t queue_size;
    uint16_t queue_msix_vector;
    uint16_t queue_enable;
    uint16_t queue_notify_off;
    uint32_t queue_desc_lo, queue_desc_hi;
    uint32_t queue_driver_lo, queue_driver_hi;
    uint32_t queue_device_lo, queue_device_hi;
};

#define VIRTIO_PCI_COMMON_DFSELECT  0x00u
#define VIRTIO_PCI_COMMON_DF        0x04u
#define VIRTIO_PCI_COMMON_GFSELECT  0x08u
#define VIRTIO_PCI_COMMON_GF        0x0Cu
#define VIRTIO_PCI_COMMON_MSIX      0x10u
#define VIRTIO_PCI_COMMON_NUMQ      0x12u
#define VIRTIO_PCI_COMMON_STATUS    0x14u
#define VIRTIO_PCI_COMMON_CFGGEN    0x15u
#define VIRTIO_PCI_COMMON_Q_SELECT  0x16u
#define VIRTIO_PCI_COMMON_Q_SIZE    0x18u
#define VIRTIO_PCI_COMMON_Q_MSIX    0x1Au
#define VIRTIO_PCI_COMMON_Q_ENABLE  0x1Cu
#define VIRTIO_PCI_COMMON_Q_NOFF    0x1Eu
#define VIRTIO_PCI_COMMON_Q_DESCLO  0x20u
#define VIRTIO_PCI_COMMON_Q_DESCHI  0x24u
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28u
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2Cu
#define VIRTIO_PCI_COMMON_Q_USEDLO  0x30u
#define VIRTIO_PCI_COMMON_Q_USEDHI  0x34u
#define VIRTIO_PCI_COMMON_CFG_SIZE  0x38u

_Static_assert(offsetof(struct virtio_pci_common_cfg, config_msix_vector) == VIRTIO_PCI_COMMON_MSIX,
               "common cfg msix");
_Static_assert(offsetof(struct virtio_pci_common_cfg, device_status) == VIRTIO_PCI_COMMON_STATUS,
               "common cfg status");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_select) == VIRTIO_PCI_COMMON_Q_SELECT,
               "common cfg queue_select");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_notify_off) == VIRTIO_PCI_COMMON_Q_NOFF,
               "common cfg queue_notify_off");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_desc_lo) == VIRTIO_PCI_COMMON_Q_DESCLO,
               "common cfg queue_desc");
_Static_assert(offsetof(struct virtio_pci_common_cfg, queue_device_hi) ==
                   VIRTIO_PCI_COMMON_Q_USEDHI,
               "common cfg queue_device");
_Static_assert(sizeof(struct virtio_pci_common_cfg) == VIRTIO_PCI_COMMON_CFG_SIZE,
               "common cfg is 56 bytes (1.0/1.1 layout)");

/* --- legacy interface: I/O BAR 0 (4.1.4.8) ----------------------------------------- */
#define VIRTIO_PCI_LEG_HOST_FEATURES  0x00u /* 32, RO */
#define VIRTIO_PCI_LEG_GUEST_FEATURES 0x04u /* 32, RW */
#define VIRTIO_PCI_LEG_QUEUE_PFN      0x08u /* 32, RW: ring address >> 12 */
#define VIRTIO_PCI_LEG_QUEUE_NUM      0x0Cu /* 16, RO: queue size */
#define VIRTIO_PCI_LEG_QUEUE_SEL      0x0Eu /* 16, RW */
#define VIRTIO_PCI_LEG_QUEUE_NOTIFY   0x10u /* 16, RW */
#define VIRTIO_PCI_LEG_STATUS         0x12u /* 8, RW */
#define VIRTIO_PCI_LEG_ISR            0x13u /* 8, RO, read clears */
#define VIRTIO_PCI_LEG_CONFIG_VECTOR  0x14u /* 16, only when MSI-X is enabled */
#define VIRTIO_PCI_LEG_QUEUE_VECTOR   0x16u /* 16, only when MSI-X is enabled */
#define VIRTIO_PCI_LEG_CONFIG_NOMSIX  0x14u /* device config without MSI-X */
#define VIRTIO_PCI_LEG_CONFIG_MSIX    0x18u /* device config with MSI-X enabled */
#define VIRTIO_PCI_LEG_PFN_SHIFT      12u
#define VIRTIO_PCI_LEG_ALIGN          4096u

#endif /* VNET_SRC_VIRTIO_PCI_REGS_H */
