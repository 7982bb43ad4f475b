/*
 * Internal transport interface: what the device drivers (src/net) call to reach a device,
 * independent of PCI modern, PCI legacy or MMIO. Implemented by virtio_pci_modern.c,
 * virtio_pci_legacy.c and virtio_mmio.c (prefixes virtio_pci_, virtio_mmio_).
 *
 * The virtqueue core (virtq.c) knows nothing of transports; the device driver glues a
 * queue's ring addresses to virtio_tr_queue_setup() and calls virtio_tr_notify() when
 * virtq_kick_prepare() says so.
 *
 * Context: everything is task context (init/halt) except notify, isr_status and
 * status reads, which are ISR-safe.
 */
#ifndef VNET_SRC_VIRTIO_TRANSPORT_H
#define VNET_SRC_VIRTIO_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "vnet/virtio_transport.h"

/* Device status bits (spec 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        0x01u
#define VIRTIO_STATUS_DRIVER             0x02u
#define VIRTIO_STATUS_DRIVER_OK          0x04u
#define VIRTIO_STATUS_FEATURES_OK        0x08u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED             0x80u

/* ISR status bits (spec 4.1.4.5). */
#define VIRTIO_ISR_QUEUE  0x1u
#define VIRTIO_ISR_CONFIG 0x2u

/* Transport-level feature bits (as masks). */
#define VIRTIO_F_NOTIFY_ON_EMPTY    (1ull << 24)
#define VIRTIO_F_ANY_LAYOUT         (1ull << 27)
#define VIRTIO_RING_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_RING_F_EVENT_IDX     (1ull << 29)
#define VIRTIO_F_VERSION_1          (1ull << 32)
#define VIRTIO_F_ACCESS_PLATFORM    (1ull << 33)
#define VIRTIO_F_RING_PACKED        (1ull << 34)

struct virtio_transport_ops {
    /* Write 0 to status and poll (bounded, sleeping between polls) until it reads 0.
     * VNET_OK or VNET_E_TIMEOUT. */
    vnet_err_t (*reset)(struct virtio_transport *t);
    uint8_t (*get_status)(struct virtio_transport *t);
    void (*set_status)(struct virtio_transport *t, uint8_t status);      /* writes as given */
    uint64_t (*get_features)(struct virtio_transport *t);                /* device features */
    void (*set_features)(struct virtio_transport *t, uint64_t features); /* driver's */
    /* Read `len` bytes of device-specific config at `off` into buf (device byte order as
     * the spec defines for the field: the caller converts). Modern transports retry until
     * config_generation is stable (bounded). VNET_OK, VNET_E_RANGE, VNET_E_TIMEOUT. */
    vnet_err_t (*read_config)(struct virtio_transport *t, uint32_t off, void *buf, uint32_t len);
    /* Max queue size of queue `idx`, 0 if the queue does not exist. */
    uint16_t (*queue_max)(struct virtio_transport *t, uint16_t idx);
    /* Whether the driver may choose a smaller queue size than queue_max (false for legacy
     * PCI and MMIO v1: the queue must then have exactly queue_max entries). */
    bool (*queue_size_settable)(struct virtio_transport *t);
    /* Program and enable queue `idx` with `size` entries at the given DMA addresses and
     * MSI-X table entry (VIRTIO_PCI_NO_VECTOR for none; ignored by MMIO). Legacy
     * transports require the rings contiguous in the legacy layout (virtq.h flag
     * VIRTQ_LEGACY_LAYOUT) and take only the descriptor address.
     * VNET_OK, VNET_E_IO (device refused the vector or address), VNET_E_RANGE. */
    vnet_err_t (*queue_setup)(struct virtio_transport *t, uint16_t idx, uint16_t size,
                              uint64_t desc, uint64_t avail, uint64_t used, uint16_t vector);
    /* Notify the device that queue `idx` has new available buffers. ISR-safe. */
    void (*notify)(struct virtio_transport *t, uint16_t idx);
    /* Read and thereby acknowledge the ISR status (VIRTIO_ISR_*). ISR-safe. MMIO acks by
     * writing InterruptACK. */
    uint8_t (*isr_status)(struct virtio_transport *t);
    /* Set the MSI-X table entry for config changes; VNET_OK or VNET_E_IO if the device did
     * not accept it; VNET_OK no-op where MSI-X does not exist. */
    vnet_err_t (*set_config_vector)(struct virtio_transport *t, uint16_t vector);
    /* Whether the device uses the legacy (pre-1.0) interface: guest-endian fields,
     * legacy ring layout, fixed queue size. */
    bool (*is_legacy)(struct virtio_transport *t);
    /* Optional (NULL = false): whether MSI-X is enabled on the function, i.e. the device
     * signals only through MSI-X messages and the shared line is dead. */
    bool (*msix_enabled)(struct virtio_transport *t);
    void (*destroy)(struct virtio_transport *t);
};

/* Common head of every transport object; each transport embeds it first (zeroed). */
struct virtio_transport {
    const struct virtio_transport_ops *ops;
    enum virtio_transport_kind kind;
    uint32_t device_id;
    /* Interrupt wiring the board chose (virtio_transport_use_msix); false: shared line. */
    bool msix;
    uint16_t msix_config;                              /* table entry, config changes */
    uint16_t msix_queue[VIRTIO_TRANSPORT_MSIX_QUEUES]; /* per queue, or NO_VECTOR */
};

/*
 * For transports: read one device-config field of `len` bytes at `off` into buf with the
 * access width the spec requires (4.1.3.1, 4.2.2.2: 8-bit fields with 8-bit accesses,
 * 16-bit with 16, 32-bit with 32; 64-bit fields may be two 32-bit accesses). Callers read
 * one field at a time, so the width follows from len: 1, 2 and 4 as one access, 8 as two
 * 32-bit accesses, anything else (byte arrays such as the MAC) byte by byte. `rd` performs
 * one access of the given width at a config offset and returns the value in CPU order.
 */
typedef uint32_t (*virtio_cfg_rd_fn)(void *ctx, uint32_t off, uint8_t width);
void virtio_cfg_read_field(virtio_cfg_rd_fn rd, void *ctx, uint32_t off, uint8_t *buf,
                           uint32_t len);

/* Config generation retries before giving up on a device that keeps changing (2.4.1). */
#define VIRTIO_CFG_GEN_TRIES 16u
/*
 * For transports with a config generation counter (PCI modern 4.1.4.3.1, MMIO v2
 * 4.2.2.2): virtio_cfg_read_field() repeated until the generation `gen` reads is the
 * same before and after (spec 2.4.1), so a read is never torn by a concurrent config
 * change. gen NULL: the transport has no counter (legacy), one read. VNET_OK, or
 * VNET_E_TIMEOUT after VIRTIO_CFG_GEN_TRIES changing reads.
 */
typedef uint32_t (*virtio_cfg_gen_fn)(void *ctx);
vnet_err_t virtio_cfg_read_stable(virtio_cfg_rd_fn rd, virtio_cfg_gen_fn gen, void *ctx,
                                  uint32_t off, uint8_t *buf, uint32_t len);

/* Thin wrappers so device drivers never touch the ops table directly. */
static inline vnet_err_t virtio_tr_reset(struct virtio_transport *t)
{
    return t->ops->reset(t);
}
static inline uint8_t virtio_tr_get_status(struct virtio_transport *t)
{
    return t->ops->get_status(t);
}
/* Add status bits (spec 3.1.1 sets them cumulatively). */
static inline void virtio_tr_add_status(struct virtio_transport *t, uint8_t bits)
{
    t->ops->set_status(t, (uint8_t)(t->ops->get_status(t) | bits));
}
static inline uint64_t virtio_tr_get_features(struct virtio_transport *t)
{
    return t->ops->get_features(t);
}
static inline void virtio_tr_set_features(struct virtio_transport *t, uint64_t f)
{
    t->ops->set_features(t, f);
}
static inline vnet_err_t virtio_tr_read_config(struct virtio_transport *t, uint32_t off, void *buf,
                                               uint32_t len)
{
    return t->ops->read_config(t, off, buf, len);
}
static inline uint16_t virtio_tr_queue_max(struct virtio_transport *t, uint16_t idx)
{
    return t->ops->queue_max(t, idx);
}
static inline bool virtio_tr_queue_size_settable(struct virtio_transport *t)
{
    return t->ops->queue_size_settable(t);
}
static inline vnet_err_t virtio_tr_queue_setup(struct virtio_transport *t, uint16_t idx,
                                               uint16_t size, uint64_t desc, uint64_t avail,
                                               uint64_t used, uint16_t vector)
{
    return t->ops->queue_setup(t, idx, size, desc, avail, used, vector);
}
static inline void virtio_tr_notify(struct virtio_transport *t, uint16_t idx)
{
    t->ops->notify(t, idx);
}
static inline uint8_t virtio_tr_isr_status(struct virtio_transport *t)
{
    return t->ops->isr_status(t);
}
static inline vnet_err_t virtio_tr_set_config_vector(struct virtio_transport *t, uint16_t v)
{
    return t->ops->set_config_vector(t, v);
}
static inline bool virtio_tr_is_legacy(struct virtio_transport *t)
{
    return t->ops->is_legacy(t);
}
static inline bool virtio_tr_msix_enabled(struct virtio_transport *t)
{
    return t->ops->msix_enabled != NULL && t->ops->msix_enabled(t);
}

/*
 * For device drivers, which never see interrupt vectors: the board's wiring
 * (virtio_transport_use_msix) decides them.
 */

/* VNET_E_INVAL when the board left the device on its shared line but enabled MSI-X on
 * the function: the line then never fires (spec 4.1.4.5). Check before touching it. */
static inline vnet_err_t virtio_tr_check_irq_wiring(struct virtio_transport *t)
{
    return !t->msix && virtio_tr_msix_enabled(t) ? VNET_E_INVAL : VNET_OK;
}
/* Route configuration-change interrupts as wired (nothing to write on a shared line).
 * VNET_OK, VNET_E_IO (the device refused the table entry). */
static inline vnet_err_t virtio_tr_config_irq_setup(struct virtio_transport *t)
{
    return t->msix ? virtio_tr_set_config_vector(t, t->msix_config) : VNET_OK;
}
/* Whether queue idx's interrupts reach the driver as wired: always on the shared line,
 * with MSI-X only when the board gave the queue a table entry. */
static inline bool virtio_tr_queue_irq(const struct virtio_transport *t, uint16_t idx)
{
    return !t->msix ||
           (idx < VIRTIO_TRANSPORT_MSIX_QUEUES && t->msix_queue[idx] != VIRTIO_PCI_NO_VECTOR);
}
/* virtio_tr_queue_setup() with the queue's interrupt as wired when `irq`, none otherwise. */
static inline vnet_err_t virtio_tr_queue_enable(struct virtio_transport *t, uint16_t idx,
                                                uint16_t size, uint64_t desc, uint64_t avail,
                                                uint64_t used, bool irq)
{
    uint16_t v = VIRTIO_PCI_NO_VECTOR;
    if (irq && t->msix && idx < VIRTIO_TRANSPORT_MSIX_QUEUES)
        v = t->msix_queue[idx];
    return virtio_tr_queue_setup(t, idx, size, desc, avail, used, v);
}

#endif /* VNET_SRC_VIRTIO_TRANSPORT_H */
