/*
 * vnet-rtos router stack: public API.
 *
 * A portable IPv4 router (Ethernet II, ARP, IPv4 forwarding, ICMP) with no OS, driver or
 * board dependency. The application wires it up through function pointers:
 *   - per interface, an output function (the driver's send) and a flush function (the
 *     driver's kick for frames sent with NET_TX_MORE);
 *   - once, lock/unlock hooks around the stack's shared state (ARP cache, routes,
 *     counters). The firmware maps them to OSSchedLock()/OSSchedUnlock().
 * Each NIC's RX task calls net_process_received_packet() per frame and net_rx_batch_end()
 * after each batch; a periodic task calls net_tick().
 *
 * Contexts: every function here is task-level only, never callable from an ISR. None
 * blocks by itself: they take the lock hook for a short, bounded region and call
 * output/flush with the lock released (an output function may wait for TX space). Several tasks may
 * call concurrently; the lock hooks serialise them.
 *
 * Addresses in this API are IPv4 addresses in host byte order (NET_IP4(198,18,0,1)).
 * See docs/stack.md for behaviour, drop reasons and RFC references.
 */
#ifndef NET_STACK_H
#define NET_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "net/net_opts.h"

/*
 * Errors: 0 success, distinct negatives. NET_E_INVAL, NET_E_NOMEM and NET_E_BUSY have the
 * values of VNET_E_INVAL, VNET_E_NOMEM and VNET_E_BUSY (include/vnet/vnet_err.h) so that
 * a driver's send result can be returned from an output function unchanged; the stack
 * itself does not include the driver's header.
 */
#define NET_OK      0
#define NET_E_INVAL (-1)  /* bad argument (NULL, out of range, host bits in a prefix) */
#define NET_E_NOMEM (-2)  /* a static table is full (interfaces, routes) */
#define NET_E_BUSY  (-3)  /* output: transmit ring full, frame not taken */
#define NET_E_EXIST (-20) /* route or interface already present */
#define NET_E_NOENT (-21) /* no such route / index past the end of a table */
#define NET_E_PERM  (-22) /* operation refused (deleting a connected route) */
#define NET_E_STATE (-23) /* stack not initialised */
/* output_meta: the egress cannot send this offload (e.g. a GSO type it did not
   negotiate); same value as VNET_E_UNSUPP. */
#define NET_E_UNSUPP (-16)

/* Build a host-order IPv4 address from its dotted-quad parts. */
#define NET_IP4(a, b, c, d)                                                                        \
    ((uint32_t)(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) |             \
                (uint32_t)(d)))

/* Flags for the output function. Same value as VIRTIO_NET_SEND_MORE. */
#define NET_TX_MORE                                                                                \
    0x1u /* more frames follow in this batch: the driver may defer its kick                        \
            until the next send without the flag or until flush() */

/* The frame is the received frame being forwarded, inside the receive buffer the driver
   delivered to net_process_received_packet(), and the stack neither reads nor writes it
   after an output call that returns 0: the output may keep the buffer instead of copying
   it (the firmware's does, virtio_net_forward). Never set for frames the stack builds. */
#define NET_TX_RXBUF 0x2u

/*
 * Output function: transmit one Ethernet frame (no FCS). `frame` is valid only during
 * the call; the callee must copy it or finish with it before returning (with NET_TX_RXBUF:
 * or keep the receive buffer it lies in). Returns 0, or
 * NET_E_BUSY (ring full), or another negative error. The stack never retries: a failure
 * is counted (drop reason tx_busy or tx_error for forwarded frames). An output function
 * may block for a bounded time waiting for ring space (the firmware's does: backpressure
 * onto the calling RX task, docs/tx-handshake.md); the stack calls it with its lock
 * released, so that only delays the calling task.
 */
typedef int (*net_output_fn)(void *drv, const uint8_t *frame, size_t len, unsigned flags);
/* Kick the device for frames given with NET_TX_MORE. */
typedef void (*net_flush_fn)(void *drv);

/*
 * Offload metadata of a received frame: the fields of the virtio-net header (virtio 1.2
 * section 5.1.6) the stack needs, with the same meanings and values, so that the glue
 * copies them field by field. The stack does not include the driver's header.
 */
struct net_pkt_meta {
    uint8_t flags;        /* NET_META_F_* */
    uint8_t gso_type;     /* NET_META_GSO_*, NET_META_GSO_ECN may be or-ed in */
    uint16_t hdr_len;     /* Ethernet + IP + TCP header bytes of a GSO frame (a hint) */
    uint16_t gso_size;    /* payload bytes per segment of a GSO frame */
    uint16_t csum_start;  /* NEEDS_CSUM: the L4 checksum covers frame[csum_start..end) */
    uint16_t csum_offset; /* NEEDS_CSUM: the sum goes at csum_start + csum_offset */
};
#define NET_META_F_NEEDS_CSUM 0x1u /* L4 checksum field holds only the pseudo-header sum */
#define NET_META_F_DATA_VALID 0x2u /* receive: the host has validated the L4 checksum */
#define NET_META_GSO_NONE     0x00u
#define NET_META_GSO_TCPV4    0x01u
#define NET_META_GSO_TCPV6    0x04u
#define NET_META_GSO_ECN      0x80u
/* Largest GSO frame accepted (Ethernet header included), as VIRTIO_NET_GSO_MAX_FRAME. */
#define NET_GSO_FRAME_MAX 65550u

/*
 * Output with offload metadata (optional per interface): send `frame` with `meta`, which
 * is a NEEDS_CSUM frame or a GSO frame (flags hold only NET_META_F_NEEDS_CSUM). Same
 * contract as net_output_fn, plus NET_E_UNSUPP when the egress cannot take that offload:
 * the stack then drops the frame (gso_unsupported); it never sends a GSO frame without
 * its metadata.
 */
typedef int (*net_output_meta_fn)(void *drv, const struct net_pkt_meta *meta, const uint8_t *frame,
                                  size_t len, unsigned flags);

struct net_if; /* opaque: created by net_if_add, lives in a static table */

struct net_if_config {
    const char *name; /* e.g. "lan", "wan"; the pointer is kept, so it must stay valid */
    uint8_t mac[6];
    uint32_t ip;          /* host order */
    uint8_t prefix_len;   /* 0..30 (a /31 or /32 leaves no neighbour to route to) */
    uint16_t mtu;         /* 0 -> 1500; 68..NET_FRAME_MAX-14 */
    net_output_fn output; /* required */
    net_flush_fn flush;   /* optional (NULL if the driver kicks on every frame) */
    void *drv;            /* first argument of output, output_meta and flush */
    /* Optional: output with offload metadata. NULL: GSO frames routed out of this
       interface are dropped (gso_unsupported) and partial checksums are completed in
       software before output. */
    net_output_meta_fn output_meta;
};

struct net_stack_config {
    /*
     * Task-level lock around the stack's shared state. Must exclude the other tasks that
     * call into the stack; need not exclude ISRs (the stack is never called from one).
     * Not recursive: the stack never nests it. NULL for single-task use.
     */
    void (*lock)(void *arg);
    void (*unlock)(void *arg);
    void *lock_arg;
    uint32_t now_ms; /* initial time for net_tick's clock */
};

/*
 * Initialise (or reset) the stack: no interfaces, no routes, empty ARP cache, zero
 * counters. Must be called before anything else and while no other task uses the stack.
 */
int net_stack_init(const struct net_stack_config *cfg);

/*
 * Create an interface (administratively down) and its connected route. Start-up only:
 * call before any RX task runs (interface slots are read without the lock afterwards).
 * Returns NET_OK and
 * the handle in *out, or NET_E_INVAL (bad config), NET_E_NOMEM (no slot or route),
 * NET_E_EXIST (name already used).
 */
int net_if_add(const struct net_if_config *cfg, struct net_if **out);

/*
 * Bring an interface up: it accepts frames and routes through it become usable. Sends a
 * gratuitous ARP request announcing its address (RFC 5227 2.3). Calling it again repeats
 * the announcement (e.g. on link up).
 */
int net_if_up(struct net_if *nif);
/* Bring an interface down: frames received on it are dropped (if_down), routes through it
   are skipped, ARP entries on it and their queued frames are discarded. */
int net_if_down(struct net_if *nif);

/*
 * Entry point of a NIC's RX task for each received Ethernet frame (no FCS). `frame` is
 * writable and valid only during the call: the router rewrites it in place and forwards
 * the same buffer. Task context only; frames sent from here carry NET_TX_MORE, so the
 * caller must call net_rx_batch_end() after its batch.
 */
void net_process_received_packet(struct net_if *nif, uint8_t *frame, size_t len);

/*
 * The same for a frame received with offload metadata (meta NULL: exactly
 * net_process_received_packet). A GSO frame (gso_type != NONE) may be up to
 * NET_GSO_FRAME_MAX bytes; it is forwarded whole, with its metadata, through the egress's
 * output_meta when each of its segments fits the egress MTU, and never fragmented. A
 * NEEDS_CSUM frame is forwarded with its metadata too; for the router itself its partial
 * checksum is completed, and DATA_VALID skips the L4 checksum check. Metadata that does
 * not describe the frame is dropped as meta_bad. `meta` is read during the call only.
 */
void net_process_received_packet_hdr(struct net_if *nif, const struct net_pkt_meta *meta,
                                     uint8_t *frame, size_t len);

/* End of an RX batch on `nif`: flush every interface this RX path sent to since the last
   call. Call from the same task that called net_process_received_packet for `nif`. */
void net_rx_batch_end(struct net_if *nif);

/* Adapters with the driver's callback shapes (virtio_net_rx_fn, virtio_net_batch_fn):
   `arg` is the struct net_if *. */
void net_if_rx_cb(void *arg, uint8_t *frame, size_t len);
void net_if_batch_cb(void *arg);

/*
 * Periodic work: ARP aging, retries and pending-queue timeouts; ICMP rate-limit refill.
 * Call every 100 ms or so with a free-running millisecond clock (wrap-around is fine).
 * Frames it sends (ARP requests, ICMP host unreachable) are flushed before it returns.
 */
void net_tick(uint32_t now_ms);

/* Routes. `gateway` 0 means on-link (directly reachable on `nif`). dest must have no bits
   set beyond prefix_len. Returns NET_E_EXIST for an existing dest/prefix, NET_E_NOMEM when
   full, NET_E_INVAL for bad arguments. */
int net_route_add(uint32_t dest, uint8_t prefix_len, uint32_t gateway, struct net_if *nif);
/* Delete a static route; NET_E_NOENT if absent, NET_E_PERM for a connected route. */
int net_route_del(uint32_t dest, uint8_t prefix_len);

/* ---- Introspection (console). Index-based: each call holds the lock briefly; an entry
   may be missed or repeated if the table changes between calls. ---- */

struct net_if_info {
    const char *name;
    uint8_t mac[6];
    uint32_t ip;
    uint8_t prefix_len;
    uint16_t mtu;
    bool up;
};

#define NET_ROUTE_F_CONNECTED 0x1u

struct net_route_info {
    uint32_t dest;
    uint8_t prefix_len;
    uint32_t gateway; /* 0: on-link */
    const char *ifname;
    unsigned flags; /* NET_ROUTE_F_* */
};

enum net_arp_state {
    NET_ARP_INCOMPLETE = 1, /* request sent, no answer yet; frames may be queued */
    NET_ARP_REACHABLE = 2,  /* confirmed within NET_ARP_REACHABLE_MS */
    NET_ARP_STALE = 3,      /* aged out but in use: still used while being re-confirmed */
};

struct net_arp_info {
    uint32_t ip;
    uint8_t mac[6]; /* zero while incomplete */
    const char *ifname;
    enum net_arp_state state;
    uint32_t age_ms;  /* since last confirmation (or first request while incomplete) */
    unsigned pending; /* frames queued waiting for resolution */
    unsigned tries;   /* requests sent in the current resolution */
};

/* Interface by index (0..); NULL past the end. */
struct net_if *net_if_get(unsigned idx);
/* Interface by name; NULL if none. */
struct net_if *net_if_find(const char *name);
int net_if_get_info(const struct net_if *nif, struct net_if_info *out);
/* Route / ARP entry by index; NET_E_NOENT past the end. Routes come in lookup order
   (longest prefix first). */
int net_route_get(unsigned idx, struct net_route_info *out);
int net_arp_get(unsigned idx, struct net_arp_info *out);

/*
 * Drop reasons: every frame the stack discards is counted under exactly one of these
 * (docs/stack.md explains each). The names are stable: consoles print them as
 * "drop_<name>".
 */
#define NET_DROP_REASONS(X)                                                                        \
    X(runt)                                                                                        \
    X(too_long)                                                                                    \
    X(if_down)                                                                                     \
    X(not_for_us)                                                                                  \
    X(eth_multicast)                                                                               \
    X(eth_8023)                                                                                    \
    X(bad_ethertype)                                                                               \
    X(arp_bad)                                                                                     \
    X(arp_not_for_us)                                                                              \
    X(arp_table_full)                                                                              \
    X(arp_pending_full)                                                                            \
    X(arp_timeout)                                                                                 \
    X(ip_bad_len)                                                                                  \
    X(ip_bad_version)                                                                              \
    X(ip_bad_ihl)                                                                                  \
    X(ip_bad_csum)                                                                                 \
    X(ip_bad_src)                                                                                  \
    X(ip_bad_dst)                                                                                  \
    X(ip_bcast)                                                                                    \
    X(ip_mcast)                                                                                    \
    X(l2_bcast_fwd)                                                                                \
    X(ip_frag_local)                                                                               \
    X(ip_proto_unsupported)                                                                        \
    X(icmp_bad)                                                                                    \
    X(icmp_unhandled)                                                                              \
    X(ttl_exceeded)                                                                                \
    X(no_route)                                                                                    \
    X(frag_needed)                                                                                 \
    X(tx_busy)                                                                                     \
    X(tx_error)                                                                                    \
    X(meta_bad)                                                                                    \
    X(gso_too_big)                                                                                 \
    X(gso_unsupported)                                                                             \
    X(gso_arp_miss)

enum net_drop_reason {
#define NET_DROP_ENUM_(n) NET_DROP_##n,
    NET_DROP_REASONS(NET_DROP_ENUM_)
#undef NET_DROP_ENUM_
        NET_DROP_COUNT
};

/* Constant name of a drop reason ("ttl_exceeded"); "?" if out of range. */
const char *net_drop_reason_name(enum net_drop_reason r);

/*
 * Counter visitor: called once per counter with a constant name and its value. The
 * stack takes a snapshot under the lock and calls the visitor with the lock released,
 * so the visitor may print slowly.
 */
typedef void (*net_counter_fn)(void *arg, const char *name, uint64_t value);

/*
 * Per-interface counters: rx_frames, rx_bytes, fwd_frames (received here and forwarded),
 * fwd_gso (of those, GSO frames forwarded whole), csum_sw (partial checksums of frames
 * received here completed in software),
 * local_frames (consumed by the router: ARP, ICMP echo, ...), tx_frames, tx_bytes,
 * tx_own_failed (router-originated frames the driver refused), arp_req_rx, arp_reply_rx,
 * arp_req_tx, arp_reply_tx, icmp_echo_rx, icmp_err_tx, icmp_ratelimited (errors not sent
 * for lack of tokens), frag_tx (fragments sent), rx_drops (sum of drops), then
 * drop_<reason> for each reason (drops are counted on the interface where they occur:
 * ingress for receive checks, egress for tx_*, arp_pending_full, arp_timeout).
 */
int net_if_counters(const struct net_if *nif, net_counter_fn fn, void *arg);
/* Stack-wide counters: the per-interface counters summed over interfaces, then gauges:
   routes, arp_entries, arp_pool_used, icmp_tokens. */
void net_stack_counters(net_counter_fn fn, void *arg);

#endif /* NET_STACK_H */
