/*
 * virtio-net: feature negotiation, MTU and MAC rules, and the software checksum that
 * stands in for a transmit offload the device lacks (spec 5.1.3, 5.1.4, 5.1.6.2).
 *
 * Owns: nothing at run time. Pure functions of their arguments (plus osal_random32 for a
 * fallback MAC), callable from any context; white-box tests call them directly.
 */
#include <stddef.h>
#include <string.h>
#include "net/virtio_net_priv.h"

/* Spec 5.1.3.1: a feature may only be accepted together with one of its prerequisites. */
static const struct {
    uint64_t feature;
    uint64_t needs_any;
} vnet_feature_deps[] = {
    {VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM},
    {VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM},
    {VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_CSUM},
    {VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6},
    {VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM},
    {VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM},
    {VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_CSUM},
    {VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6},
    {VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_RSS, VIRTIO_NET_F_CTRL_VQ},
};

uint64_t virtio_net_apply_feature_deps(uint64_t f)
{
    /* Dropping one feature can orphan another (ECN after TSO), so iterate to a fixed
     * point; each pass removes at least one bit or stops, so the table size bounds it. */
    for (size_t pass = 0; pass <= sizeof(vnet_feature_deps) / sizeof(vnet_feature_deps[0]);
         pass++) {
        uint64_t before = f;
        for (size_t i = 0; i < sizeof(vnet_feature_deps) / sizeof(vnet_feature_deps[0]); i++) {
            if ((f & vnet_feature_deps[i].feature) && !(f & vnet_feature_deps[i].needs_any))
                f &= ~vnet_feature_deps[i].feature;
        }
        if (f == before)
            break;
    }
    return f;
}

vnet_err_t virtio_net_negotiate(uint64_t device, uint64_t allow, bool legacy, uint64_t *out)
{
    return virtio_net_negotiate_offloads(device, allow, legacy, 0, out);
}

vnet_err_t virtio_net_negotiate_offloads(uint64_t device, uint64_t allow, bool legacy,
                                         unsigned offloads, uint64_t *out)
{
    /* Offload bits are considered only when the application asked for them, so a user
     * with feature_allow 0 and no offload configured negotiates exactly the base set. */
    uint64_t supported = VIRTIO_NET_DRIVER_FEATURES;
    if (offloads & VIRTIO_NET_OFFLOAD_RX)
        supported |= VIRTIO_NET_RX_OFFLOAD_FEATURES;
    if (offloads & VIRTIO_NET_OFFLOAD_TX)
        supported |= VIRTIO_NET_TX_OFFLOAD_FEATURES;
    uint64_t f = device & supported;
    if (allow != 0)
        f &= allow;
    if (legacy) {
        /* The legacy interface has one 32-bit feature word and no VERSION_1 (spec 4.1.4.8
         * legacy notes); ANY_LAYOUT is what lets the header share a descriptor. */
        f &= 0xffffffffull;
        /* A merged or GSO buffer carries the header in front of its data; without
         * ANY_LAYOUT the legacy header needs its own descriptor: no offloads then. */
        if (!(f & VIRTIO_F_ANY_LAYOUT))
            f &= ~(VIRTIO_NET_RX_OFFLOAD_FEATURES | VIRTIO_NET_TX_OFFLOAD_FEATURES);
    } else {
        /* Spec 6.1: a driver using the modern interface MUST accept VERSION_1; without it
         * the header layout and endianness would be the legacy ones. */
        if (!(f & VIRTIO_F_VERSION_1))
            return VNET_E_FEATURES;
    }
    /* Without MRG_RXBUF a GSO frame would need 64 KiB RX buffers (spec 5.1.6.3.1); the
     * driver posts small ones, so receive GSO comes only with merged buffers. */
    if (!(f & VIRTIO_NET_F_MRG_RXBUF))
        f &= ~(VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6);
    *out = virtio_net_apply_feature_deps(f);
    return VNET_OK;
}

vnet_err_t virtio_net_check_mtu(uint16_t mtu)
{
    return (mtu >= VIRTIO_NET_MTU_MIN && mtu <= VIRTIO_NET_MTU_MAX) ? VNET_OK : VNET_E_RANGE;
}

void virtio_net_fallback_mac(const uint8_t fallback[6], uint8_t mac[6])
{
    static const uint8_t zero[6];
    if (memcmp(fallback, zero, 6) != 0) {
        memcpy(mac, fallback, 6);
        return;
    }
    uint32_t a = osal_random32();
    uint32_t b = osal_random32();
    mac[0] = (uint8_t)a;
    mac[1] = (uint8_t)(a >> 8);
    mac[2] = (uint8_t)(a >> 16);
    mac[3] = (uint8_t)(a >> 24);
    mac[4] = (uint8_t)b;
    mac[5] = (uint8_t)(b >> 8);
    /* IEEE 802: bit 0 of the first octet = group, bit 1 = locally administered. */
    mac[0] = (uint8_t)((mac[0] & 0xfeu) | 0x02u);
}

void virtio_net_csum_complete(uint8_t *frame, size_t len, uint16_t start, uint16_t offset)
{
    /* RFC 1071: the ones-complement sum is byte-order independent, so sum little-endian
     * 32-bit words (the library runs on little-endian CPUs only) and swap once at the
     * end. The field at start + offset holds the pseudo-header sum: it is the seed. */
    const uint8_t *p = frame + start;
    size_t n = len - start;
    uint64_t sum = 0;
    for (; n >= 4; p += 4, n -= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        sum += w;
    }
    if (n >= 2) {
        uint16_t w;
        memcpy(&w, p, sizeof(w));
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n != 0)
        sum += p[0]; /* odd length: the last byte is the high half of a zero-padded word */
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    uint16_t c = (uint16_t)~__builtin_bswap16((uint16_t)sum);
    /* 0 and 0xffff are the same ones-complement value; a UDP checksum of 0 would mean
     * "none" (RFC 768), so send 0xffff, as Linux does (CSUM_MANGLED_0). */
    if (c == 0)
        c = 0xffffu;
    frame[(size_t)start + offset] = (uint8_t)(c >> 8);
    frame[(size_t)start + offset + 1u] = (uint8_t)c;
}

#define VNET_CFG(f, lo, hi, d)                                                                     \
    {                                                                                              \
#f, offsetof(struct virtio_net_config, f), sizeof(((struct virtio_net_config *)0)->f), lo, \
            hi, d                                                                                  \
    }
const struct vnet_cfg_range vnet_cfg_ranges[] = {
    /* power of two as well (checked in vnet_cfg_apply) */
    VNET_CFG(rx_sw_ring_entries, 2u, 32768u, VIRTIO_NET_SW_RING_DEFAULT),
    VNET_CFG(rx_lend_bufs, 1u, 32768u, 0u), /* 0: no lending */
    VNET_CFG(rx_posted, 1u, VIRTIO_NET_QUEUE_MAX_USED, 0u),
    VNET_CFG(tx_slots, 1u, VIRTIO_NET_QUEUE_MAX_USED, 0u),
    VNET_CFG(tx_max_bytes, 1u, UINT32_MAX, 0u), /* 0: no byte limit */
    VNET_CFG(isr_budget, 1u, 65535u, VIRTIO_NET_BUDGET_DEFAULT),
    VNET_CFG(isr_budget_bytes, 1u, UINT32_MAX, VIRTIO_NET_ISR_BUDGET_BYTES_DEFAULT),
    VNET_CFG(rx_mrg_buf_bytes, VIRTIO_NET_RX_MRG_BUF_MIN, VIRTIO_NET_RX_MRG_BUF_MAX,
             VIRTIO_NET_RX_MRG_BUF),
    VNET_CFG(rx_budget, 1u, 65535u, VIRTIO_NET_BUDGET_DEFAULT),
    VNET_CFG(rx_defer_ms, 1u, 1000u, 0u),
    VNET_CFG(rx_defer_min_frames, 1u, 65535u, 0u), /* 0 -> rx_budget */
};
#undef VNET_CFG
const unsigned vnet_cfg_range_count = sizeof(vnet_cfg_ranges) / sizeof(vnet_cfg_ranges[0]);

vnet_err_t vnet_cfg_apply(struct virtio_net_config *cfg)
{
    for (unsigned i = 0; i < vnet_cfg_range_count; i++) {
        const struct vnet_cfg_range *r = &vnet_cfg_ranges[i];
        unsigned char *p = (unsigned char *)cfg + r->off;
        uint32_t v;
        if (r->size == sizeof(uint16_t)) {
            uint16_t v16;
            memcpy(&v16, p, sizeof(v16));
            v = v16;
        } else {
            memcpy(&v, p, sizeof(v));
        }
        if (v == 0)
            v = r->def;
        else if (v < r->min || v > r->max)
            return VNET_E_INVAL;
        if (r->size == sizeof(uint16_t)) {
            uint16_t v16 = (uint16_t)v;
            memcpy(p, &v16, sizeof(v16));
        } else {
            memcpy(p, &v, sizeof(v));
        }
    }
    if (!vnet_is_pow2(cfg->rx_sw_ring_entries))
        return VNET_E_INVAL;
    if (cfg->rx_defer_min_frames == 0)
        cfg->rx_defer_min_frames = cfg->rx_budget;
    return VNET_OK;
}
