/*
 * Wire formats: Ethernet II (IEEE 802.3 clause 3.2.6), ARP (RFC 826), IPv4 (RFC 791),
 * ICMP (RFC 792). Frames arrive at any alignment, so fields are read and written byte by
 * byte at the offsets below rather than through packed structs.
 */
#ifndef NET_WIRE_H
#define NET_WIRE_H

#include <stdint.h>
#include <string.h>

#define ETH_HLEN      14
#define ETH_ALEN      6
#define ETH_O_DST     0
#define ETH_O_SRC     6
#define ETH_O_TYPE    12
#define ETH_MIN_FRAME 60     /* without FCS; shorter own frames are zero-padded */
#define ETH_TYPE_MIN  0x0600 /* below: an 802.3 length field, not an EtherType */
#define ETH_P_IPV4    0x0800
#define ETH_P_ARP     0x0806

#define ARP_LEN        28
#define ARP_O_HTYPE    0
#define ARP_O_PTYPE    2
#define ARP_O_HLEN     4
#define ARP_O_PLEN     5
#define ARP_O_OP       6
#define ARP_O_SHA      8
#define ARP_O_SPA      14
#define ARP_O_THA      18
#define ARP_O_TPA      24
#define ARP_HTYPE_ETH  1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

#define IP_HLEN_MIN   20
#define IP_HLEN_MAX   60
#define IP_O_VIHL     0
#define IP_O_TOS      1
#define IP_O_LEN      2
#define IP_O_ID       4
#define IP_O_FRAG     6
#define IP_O_TTL      8
#define IP_O_PROTO    9
#define IP_O_CSUM     10
#define IP_O_SRC      12
#define IP_O_DST      16
#define IP_F_DF       0x4000
#define IP_F_MF       0x2000
#define IP_OFF_MASK   0x1fff
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP  6
#define IP_PROTO_UDP  17

#define TCP_HLEN_MIN 20
#define TCP_O_OFF    12 /* data offset: high nibble, in 32-bit words */
#define TCP_O_CSUM   16

#define ICMP_HLEN          8
#define ICMP_O_TYPE        0
#define ICMP_O_CODE        1
#define ICMP_O_CSUM        2
#define ICMP_O_MTU         6 /* next-hop MTU of "fragmentation needed" (RFC 1191) */
#define ICMP_ECHO_REPLY    0
#define ICMP_DEST_UNREACH  3
#define ICMP_ECHO_REQUEST  8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_UNREACH_NET   0
#define ICMP_UNREACH_HOST  1
#define ICMP_UNREACH_PROTO 2
#define ICMP_UNREACH_PORT  3
#define ICMP_UNREACH_FRAG  4

static inline uint16_t net_get16(const uint8_t *p)
{
    return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static inline uint32_t net_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void net_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void net_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Group bit of the first octet: multicast or broadcast destination. */
static inline int net_mac_is_group(const uint8_t *mac)
{
    return mac[0] & 1u;
}

static inline int net_mac_is_bcast(const uint8_t *mac)
{
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xffu;
}

/* Two MAC addresses equal: one 4-byte and one 2-byte compare (constant-size copies the
 * compiler turns into loads), where memcmp is a byte loop behind a call on a freestanding
 * board. Every received frame's destination goes through this. */
static inline int net_mac_eq(const uint8_t *a, const uint8_t *b)
{
    uint32_t a4, b4;
    uint16_t a2, b2;
    memcpy(&a4, a, 4);
    memcpy(&b4, b, 4);
    memcpy(&a2, a + 4, 2);
    memcpy(&b2, b + 4, 2);
    return ((a4 ^ b4) | (uint32_t)(a2 ^ b2)) == 0u;
}

static inline int net_mac_is_zero(const uint8_t *mac)
{
    return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

/* 224.0.0.0/4 (RFC 1112) */
static inline int net_ip_is_mcast(uint32_t a)
{
    return (a >> 28) == 0xeu;
}

/*
 * Addresses that never identify a single host as a source (RFC 1812 4.2.2.11 and
 * 5.3.7): 0/8 ("this network"), 127/8 loopback, 224/4 multicast, 240/4 reserved,
 * which includes the limited broadcast 255.255.255.255.
 */
static inline int net_ip_is_martian(uint32_t a)
{
    uint32_t top = a >> 24;
    return top == 0 || top == 127 || top >= 224;
}

#endif /* NET_WIRE_H */
