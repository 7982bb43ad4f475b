/*
 * vnet-rtos router stack: compile-time options.
 *
 * Every table is a static array sized here; nothing is allocated at run time. Override a
 * value with -D on the compiler command line (the firmware and the host tests use the
 * defaults). Impossible combinations stop the build with #error rather than misbehave.
 */
#ifndef NET_OPTS_H
#define NET_OPTS_H

/* Interfaces the stack can hold (the router has two: lan, wan). */
#ifndef NET_MAX_IFS
#define NET_MAX_IFS 4
#endif

/* Routing table entries, connected routes included (one per interface). */
#ifndef NET_MAX_ROUTES
#define NET_MAX_ROUTES 32
#endif

/* ARP cache entries, resolved and incomplete together. */
#ifndef NET_ARP_ENTRIES
#define NET_ARP_ENTRIES 32
#endif

/*
 * Largest Ethernet frame handled, without FCS: 14-byte header + the largest MTU any
 * interface may be configured with. Frames waiting for ARP are copied into slots of
 * this size, and an interface MTU above NET_FRAME_MAX - 14 is refused.
 */
#ifndef NET_FRAME_MAX
#define NET_FRAME_MAX 1514
#endif

/* Pool of frame slots shared by all unresolved next hops (NET_FRAME_MAX bytes each). */
#ifndef NET_ARP_POOL_FRAMES
#define NET_ARP_POOL_FRAMES 16
#endif

/* Frames one unresolved next hop may hold; more are dropped as arp_pending_full. */
#ifndef NET_ARP_PENDING_MAX
#define NET_ARP_PENDING_MAX 4
#endif

/* How long a confirmed ARP entry is used without re-confirmation, in ms (5 minutes). */
#ifndef NET_ARP_REACHABLE_MS
#define NET_ARP_REACHABLE_MS 300000u
#endif

/* Interval between ARP requests for one next hop, in ms. */
#ifndef NET_ARP_RETRY_MS
#define NET_ARP_RETRY_MS 1000u
#endif

/* Requests sent for one next hop before it is declared unreachable. */
#ifndef NET_ARP_MAX_TRIES
#define NET_ARP_MAX_TRIES 3
#endif

/* ICMP error rate limit: tokens per second and bucket depth (burst). */
#ifndef NET_ICMP_RATE_PER_S
#define NET_ICMP_RATE_PER_S 100u
#endif
#ifndef NET_ICMP_BURST
#define NET_ICMP_BURST 10u
#endif

/*
 * Bytes of the offending datagram quoted in an ICMP error beyond its IP header. RFC 792
 * asks for 8; RFC 1812 4.3.2.3 allows more (up to 576 bytes in all). The error is built
 * in a buffer on the calling task's stack, so the default stays small.
 */
#ifndef NET_ICMP_QUOTE_DATA
#define NET_ICMP_QUOTE_DATA 64
#endif

/* TTL of datagrams the router originates (ICMP replies and errors). */
#ifndef NET_IP_DEFAULT_TTL
#define NET_IP_DEFAULT_TTL 64
#endif

#if NET_MAX_IFS < 1 || NET_MAX_IFS > 32
#error "NET_MAX_IFS must be 1..32 (interface masks are 32-bit)"
#endif
#if NET_MAX_ROUTES < NET_MAX_IFS
#error "NET_MAX_ROUTES must hold at least one connected route per interface"
#endif
#if NET_ARP_ENTRIES < 1 || NET_ARP_ENTRIES > 255
#error "NET_ARP_ENTRIES must be 1..255"
#endif
#if NET_FRAME_MAX < 14 + 68 || NET_FRAME_MAX > 14 + 9000
#error "NET_FRAME_MAX must allow an MTU between 68 (RFC 791 minimum) and 9000"
#endif
#if NET_ARP_POOL_FRAMES < 1 || NET_ARP_POOL_FRAMES > 255
#error "NET_ARP_POOL_FRAMES must be 1..255 (slot indices are 8-bit)"
#endif
#if NET_ARP_PENDING_MAX < 1 || NET_ARP_PENDING_MAX > NET_ARP_POOL_FRAMES
#error "NET_ARP_PENDING_MAX must be 1..NET_ARP_POOL_FRAMES"
#endif
#if NET_ARP_MAX_TRIES < 1
#error "NET_ARP_MAX_TRIES must be at least 1"
#endif
#if NET_ICMP_QUOTE_DATA < 8 || NET_ICMP_QUOTE_DATA > 576 - 20 - 8 - 60
#error "NET_ICMP_QUOTE_DATA must be 8..488 (RFC 792 minimum, RFC 1812 576-byte maximum)"
#endif
#if NET_ICMP_BURST < 1
#error "NET_ICMP_BURST must be at least 1"
#endif
#if NET_IP_DEFAULT_TTL < 1 || NET_IP_DEFAULT_TTL > 255
#error "NET_IP_DEFAULT_TTL must be 1..255"
#endif

#endif /* NET_OPTS_H */
