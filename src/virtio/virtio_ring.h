/*
 * Split virtqueue wire layout (virtio 1.x spec 2.7; legacy layout 2.7.2 and the legacy
 * interface notes). Shared by the driver's virtqueue core and the simulated device, so
 * both agree byte for byte. All fields are little-endian (legacy: guest-native, which on
 * the little-endian CPUs this library supports is the same).
 */
#ifndef VNET_SRC_VIRTIO_RING_H
#define VNET_SRC_VIRTIO_RING_H

#include <stddef.h>
#include <stdint.h>

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT     1u /* chain continues in `next` */
#define VIRTQ_DESC_F_WRITE    2u /* device-writable (otherwise device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4u /* buffer holds a table of descriptors (not used here) */

/* avail->flags (2.7.7): driver asks the device not to interrupt (no EVENT_IDX only). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
/* used->flags (2.7.10): device asks the driver not to notify (no EVENT_IDX only). */
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* Alignment requirements (2.7, table "Virtqueue Part Alignment"). */
#define VIRTQ_DESC_ALIGN  16u
#define VIRTQ_AVAIL_ALIGN 2u
#define VIRTQ_USED_ALIGN  4u
/* Legacy interfaces place the used ring at the next 4096-byte boundary (2.7.2). */
#define VIRTQ_LEGACY_ALIGN 4096u

struct virtq_desc {
    uint64_t addr; /* device (DMA) address */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* [size], then uint16_t used_event (EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id; /* head of the completed chain (32 bits on the wire, < queue size) */
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* [size], then uint16_t avail_event (EVENT_IDX) */
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes (2.7.5)");
_Static_assert(offsetof(struct virtq_desc, len) == 8, "virtq_desc.len at 8");
_Static_assert(offsetof(struct virtq_desc, flags) == 12, "virtq_desc.flags at 12");
_Static_assert(offsetof(struct virtq_desc, next) == 14, "virtq_desc.next at 14");
_Static_assert(sizeof(struct virtq_avail) == 4, "avail header is 4 bytes (2.7.6)");
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "avail ring at 4");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "used elem is 8 bytes (2.7.8)");
_Static_assert(sizeof(struct virtq_used) == 4, "used header is 4 bytes (2.7.8)");
_Static_assert(offsetof(struct virtq_used, ring) == 4, "used ring at 4");

/* Byte sizes of each part for a queue of `n` entries, including the event-index tail. */
static inline size_t virtq_desc_bytes(unsigned n)
{
    return (size_t)16 * n;
}
static inline size_t virtq_avail_bytes(unsigned n)
{
    return 4 + (size_t)2 * n + 2;
}
static inline size_t virtq_used_bytes(unsigned n)
{
    return 4 + (size_t)8 * n + 2;
}
/* Offset of the used ring in the legacy single-area layout: desc | avail | pad to 4096. */
static inline size_t virtq_legacy_used_offset(unsigned n)
{
    size_t a = virtq_desc_bytes(n) + virtq_avail_bytes(n);

    return (a + VIRTQ_LEGACY_ALIGN - 1) & ~(size_t)(VIRTQ_LEGACY_ALIGN - 1);
}
static inline size_t virtq_legacy_bytes(unsigned n)
{
    return virtq_legacy_used_offset(n) + virtq_used_bytes(n);
}

/* The event-index words sit right after each ring (2.7.6, 2.7.8). */
static inline volatile uint16_t *virtq_used_event_ptr(struct virtq_avail *a, unsigned n)
{
    return &a->ring[n];
}
static inline volatile uint16_t *virtq_avail_event_ptr(struct virtq_used *u, unsigned n)
{
    return (volatile uint16_t *)(void *)&u->ring[n];
}

#endif /* VNET_SRC_VIRTIO_RING_H */
