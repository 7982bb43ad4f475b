/*
 * virtio-net wire and configuration layouts (virtio 1.x spec 5.1).
 *
 * Only what the driver reads or writes. Feature bits are masks (1ull << bit), never bit
 * numbers, so they can be or-ed and tested directly against the 64-bit feature words.
 */
#ifndef VNET_SRC_VIRTIO_NET_HDR_H
#define VNET_SRC_VIRTIO_NET_HDR_H

#include <stddef.h>
#include <stdint.h>
#include "vnet/virtio_net.h"

/* Device feature bits (spec 5.1.3). */
#define VIRTIO_NET_F_CSUM                (1ull << 0)
#define VIRTIO_NET_F_GUEST_CSUM          (1ull << 1)
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS (1ull << 2)
#define VIRTIO_NET_F_MTU                 (1ull << 3)
#define VIRTIO_NET_F_MAC                 (1ull << 5)
#define VIRTIO_NET_F_GSO                 (1ull << 6) /* legacy only */
#define VIRTIO_NET_F_GUEST_TSO4          (1ull << 7)
#define VIRTIO_NET_F_GUEST_TSO6          (1ull << 8)
#define VIRTIO_NET_F_GUEST_ECN           (1ull << 9)
#define VIRTIO_NET_F_GUEST_UFO           (1ull << 10)
#define VIRTIO_NET_F_HOST_TSO4           (1ull << 11)
#define VIRTIO_NET_F_HOST_TSO6           (1ull << 12)
#define VIRTIO_NET_F_HOST_ECN            (1ull << 13)
#define VIRTIO_NET_F_HOST_UFO            (1ull << 14)
#define VIRTIO_NET_F_MRG_RXBUF           (1ull << 15)
#define VIRTIO_NET_F_STATUS              (1ull << 16)
#define VIRTIO_NET_F_CTRL_VQ             (1ull << 17)
#define VIRTIO_NET_F_CTRL_RX             (1ull << 18)
#define VIRTIO_NET_F_CTRL_VLAN           (1ull << 19)
#define VIRTIO_NET_F_GUEST_ANNOUNCE      (1ull << 21)
#define VIRTIO_NET_F_MQ                  (1ull << 22)
#define VIRTIO_NET_F_CTRL_MAC_ADDR       (1ull << 23)
#define VIRTIO_NET_F_RSS                 (1ull << 60)
#define VIRTIO_NET_F_SPEED_DUPLEX        (1ull << 63)

/* Config space `status` field bits (spec 5.1.4). */
#define VIRTIO_NET_S_LINK_UP  0x1u
#define VIRTIO_NET_S_ANNOUNCE 0x2u

/*
 * Device configuration layout (spec 5.1.4). Offsets are fixed by the spec; fields are
 * little-endian for 1.x devices and guest-endian for legacy ones (both LE on our targets).
 */
struct virtio_net_config_layout {
    uint8_t mac[6];
    uint16_t status;              /* valid with VIRTIO_NET_F_STATUS */
    uint16_t max_virtqueue_pairs; /* valid with VIRTIO_NET_F_MQ */
    uint16_t mtu;                 /* valid with VIRTIO_NET_F_MTU */
};
_Static_assert(offsetof(struct virtio_net_config_layout, mac) == 0, "mac at 0");
_Static_assert(offsetof(struct virtio_net_config_layout, status) == 6, "status at 6");
_Static_assert(offsetof(struct virtio_net_config_layout, max_virtqueue_pairs) == 8, "mq at 8");
_Static_assert(offsetof(struct virtio_net_config_layout, mtu) == 10, "mtu at 10");

#define VIRTIO_NET_CFG_MAC    ((uint32_t)offsetof(struct virtio_net_config_layout, mac))
#define VIRTIO_NET_CFG_STATUS ((uint32_t)offsetof(struct virtio_net_config_layout, status))
#define VIRTIO_NET_CFG_MTU    ((uint32_t)offsetof(struct virtio_net_config_layout, mtu))

/* Per-packet header in front of every frame (spec 5.1.6): struct virtio_net_hdr in
 * include/vnet/virtio_net.h. Legacy devices without VIRTIO_NET_F_MRG_RXBUF use its first
 * 10 bytes only; VERSION_1 always has num_buffers (12 bytes). */
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr with num_buffers is 12");
_Static_assert(offsetof(struct virtio_net_hdr, num_buffers) == 10, "legacy header is 10");

#define VIRTIO_NET_HDR_LEN_LEGACY 10u
#define VIRTIO_NET_HDR_LEN_V1     12u

/* Ethernet sizes the driver sizes buffers with (no FCS: virtio frames carry none). */
#define VIRTIO_NET_ETH_HLEN    14u
#define VIRTIO_NET_VLAN_HLEN   4u
#define VIRTIO_NET_MTU_MIN     68u   /* IPv4 minimum (RFC 791) */
#define VIRTIO_NET_MTU_MAX     9000u /* jumbo frames; larger needs MRG_RXBUF, not handled */
#define VIRTIO_NET_MTU_DEFAULT 1500u

/* Queue numbers of the single queue pair (spec 5.1.2). */
#define VIRTIO_NET_RXQ 0u
#define VIRTIO_NET_TXQ 1u

#endif /* VNET_SRC_VIRTIO_NET_HDR_H */
