/*
 * Router stack internals shared by net_core.c, net_arp.c, net_ip.c and net_route.c.
 *
 * Locking: `net_g` is the single instance. Fields marked [L] are read and written only
 * between net_lock() and net_unlock(); fields marked [C] are set at configuration time
 * (net_stack_init/net_if_add, before the RX tasks run) and read without the lock;
 * fields marked [T] belong to the RX task of their interface alone.
 */
#ifndef NET_PRIV_H
#define NET_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "net/net_stack.h"

/* Per-interface counters: one list gives the struct fields and their console names. */
#define NET_IF_COUNTERS(X)                                                                         \
    X(rx_frames)                                                                                   \
    X(rx_bytes)                                                                                    \
    X(fwd_frames)                                                                                  \
    X(fwd_gso)                                                                                     \
    X(csum_sw)                                                                                     \
    X(local_frames)                                                                                \
    X(tx_frames)                                                                                   \
    X(tx_bytes)                                                                                    \
    X(tx_own_failed)                                                                               \
    X(arp_req_rx)                                                                                  \
    X(arp_reply_rx)                                                                                \
    X(arp_req_tx)                                                                                  \
    X(arp_reply_tx)                                                                                \
    X(icmp_echo_rx)                                                                                \
    X(icmp_err_tx)                                                                                 \
    X(icmp_ratelimited)                                                                            \
    X(frag_tx)

struct net_if_ctrs {
#define NET_CTR_FIELD_(n) uint64_t n;
    NET_IF_COUNTERS(NET_CTR_FIELD_)
#undef NET_CTR_FIELD_
    uint64_t drop[NET_DROP_COUNT];
};

#define NET_NO_SLOT 0xffu /* end of a pending-frame list */

struct net_if {
    /* [C] configuration */
    const char *nif_name;
    uint8_t nif_mac[6];
    uint8_t nif_idx;
    uint8_t nif_plen;
    uint32_t nif_ip, nif_mask, nif_bcast;
    uint16_t nif_mtu;
    bool nif_used;
    net_output_fn nif_output;
    net_flush_fn nif_flush;
    net_output_meta_fn nif_output_meta; /* NULL: no offload metadata on output */
    void *nif_drv;
    /* [L] administrative state */
    bool nif_up;
    /* [T] egress interfaces (bit = index) this interface's RX path sent to with
       NET_TX_MORE since its last net_rx_batch_end */
    uint32_t nif_flush_mask;
    /* [L] last forwarding decision made for a frame received here: valid while
       nif_dc_gen equals net_g.route_gen */
    uint32_t nif_dc_dst, nif_dc_nh, nif_dc_gen;
    struct net_if *nif_dc_out;
    /* [L] last next hop resolved for frames sent out of here: valid while nif_nc_gen
       equals net_g.arp_gen (bumped whenever an entry is freed or changes MAC) */
    uint32_t nif_nc_ip, nif_nc_gen;
    uint8_t nif_nc_mac[6];
    uint8_t nif_nc_arp;
    /* [L] */
    struct net_if_ctrs nif_ctr;
};

struct net_route {
    uint32_t rt_dest, rt_mask, rt_gw;
    uint8_t rt_plen;
    uint8_t rt_if;
    uint8_t rt_flags;
};

enum { NET_ARP_FREE = 0 };

struct net_arp_entry {
    uint32_t ae_ip;
    uint32_t ae_stamp; /* ms: last confirmation, or first request while incomplete */
    uint32_t ae_next;  /* ms: when the next request is due (incomplete, stale) */
    uint8_t ae_mac[6];
    uint8_t ae_state; /* NET_ARP_FREE or enum net_arp_state */
    uint8_t ae_if;
    uint8_t ae_tries;
    uint8_t ae_npend;
    uint8_t ae_head, ae_tail; /* pending FIFO of pool slots */
    bool ae_used;             /* forwarded through since the last confirmation */
};

struct net_pend {
    uint16_t pd_len;
    uint8_t pd_next; /* next slot in a FIFO or in the free list */
    uint8_t pd_in;   /* ingress interface (for counting and ICMP errors) */
    uint8_t pd_frame[NET_FRAME_MAX];
};

struct net_stack {
    bool inited;                               /* [C] */
    void (*lock)(void *);                      /* [C] */
    void (*unlock)(void *);                    /* [C] */
    void *lock_arg;                            /* [C] */
    uint32_t now_ms;                           /* [L] time of the last net_tick */
    uint32_t icmp_credit;                      /* [L] ICMP error tokens x 1000 */
    uint16_t ip_id;                            /* [L] identification of originated datagrams */
    unsigned n_ifs;                            /* [C] */
    struct net_if ifs[NET_MAX_IFS];            /* [C]/[L]/[T] per field */
    unsigned n_routes;                         /* [L] */
    uint32_t route_gen;                        /* [L] */
    struct net_route routes[NET_MAX_ROUTES];   /* [L] longest prefix first */
    uint32_t arp_gen;                          /* [L] */
    struct net_arp_entry arp[NET_ARP_ENTRIES]; /* [L] */
    uint8_t pool_free;                         /* [L] head of the free slot list */
    unsigned pool_used;                        /* [L] */
    struct net_pend pool[NET_ARP_POOL_FRAMES]; /* [L] links; a detached slot's frame
                                                  belongs to whoever detached it */
};

extern struct net_stack net_g;

static inline void net_lock(void)
{
    if (net_g.lock)
        net_g.lock(net_g.lock_arg);
}

static inline void net_unlock(void)
{
    if (net_g.unlock)
        net_g.unlock(net_g.lock_arg);
}

static inline uint32_t net_prefix_mask(unsigned plen)
{
    return plen == 0 ? 0 : (uint32_t)0xffffffffu << (32 - plen);
}

/* Signed difference of two wrapping millisecond stamps. */
static inline int32_t net_ms_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* ---- net_core.c ---- */
/* [L] Count one received frame on `nif` as dropped for `r`. */
void net_count_rx_drop_locked(struct net_if *nif, enum net_drop_reason r, size_t len);
/* Same, taking the lock. */
void net_count_rx_drop(struct net_if *nif, enum net_drop_reason r, size_t len);
/*
 * Send a frame the router originated (ARP, ICMP) out of `nif`, counting it. With a
 * non-NULL `fmask` the frame carries NET_TX_MORE and the interface's bit is set in
 * *fmask for a later flush; with NULL it is sent without the flag. Takes the lock to
 * count (tx_frames/tx_bytes and, if not NULL, *ok_ctr on success; tx_own_failed on
 * failure). Returns the output's result.
 */
int net_tx_own(struct net_if *nif, const uint8_t *frame, size_t len, uint32_t *fmask,
               uint64_t *ok_ctr);
/* Output with the batching convention above; no counting. Lock must NOT be held. */
int net_output(struct net_if *nif, const uint8_t *frame, size_t len, uint32_t *fmask);
/* The same with extra output flags (NET_TX_RXBUF for a forwarded frame's last use). */
int net_output_x(struct net_if *nif, const uint8_t *frame, size_t len, uint32_t *fmask,
                 unsigned xflags);
/* The same through the interface's output_meta (which must be set). */
int net_output_meta(struct net_if *nif, const struct net_pkt_meta *meta, const uint8_t *frame,
                    size_t len, uint32_t *fmask, unsigned xflags);
/* Flush every interface in mask. Lock must not be held. */
void net_flush_mask(uint32_t mask);
/* [L] Is `ip` one of the router's addresses on an up interface? */
bool net_is_local_addr_locked(uint32_t ip);

/* ---- net_route.c ---- */
/* [L] Longest-prefix match over up interfaces: egress and next hop, or NULL. */
struct net_if *net_route_lookup_locked(uint32_t dst, uint32_t *nh);
/* [L] Add a route without checking the lock state (used by net_if_add). */
int net_route_add_locked(uint32_t dest, uint8_t plen, uint32_t gw, struct net_if *nif,
                         uint8_t flags);

/* ---- net_arp.c ---- */
enum net_arp_res {
    NET_ARP_RES_OK,           /* MAC returned */
    NET_ARP_RES_QUEUED,       /* frame copied to the pending queue */
    NET_ARP_RES_QUEUED_REQ,   /* queued, and a first request must be sent */
    NET_ARP_RES_FULL,         /* pending queue or pool full: drop arp_pending_full */
    NET_ARP_RES_NOENTRY,      /* ARP table full of incomplete entries: drop arp_table_full */
    NET_ARP_RES_UNQUEUED,     /* frame not queueable (frame NULL): drop gso_arp_miss */
    NET_ARP_RES_UNQUEUED_REQ, /* same, and a first request must be sent */
};
/*
 * [L] Resolve `nh` on `out`; on a miss copy the frame into the pending queue, completing
 * a partial checksum (meta NEEDS_CSUM) in the copy, which leaves as a plain frame. With
 * `frame` NULL (a GSO frame: larger than a pool slot) nothing is queued but a request is
 * still started.
 */
enum net_arp_res net_arp_resolve_locked(struct net_if *out, uint32_t nh, uint8_t *mac,
                                        const uint8_t *frame, size_t len, struct net_if *in,
                                        const struct net_pkt_meta *meta);
void net_arp_input(struct net_if *nif, uint8_t *frame, size_t len, uint32_t *fmask);
/* Broadcast a request for `target` (gratuitous when target is the interface's own). */
void net_arp_send_request(struct net_if *nif, uint32_t target, uint32_t *fmask);
/* [L] Forget every entry on `nif` (interface down); their queued frames are freed and
   counted as arp_timeout. */
void net_arp_flush_if_locked(struct net_if *nif);
/* Aging, retries, timeouts (net_tick). Lock must not be held. */
void net_arp_tick(uint32_t *fmask);
/* [L] Initialise the free slot list. */
void net_arp_init_locked(void);

/* ---- net_ip.c ---- */
/* `meta` NULL for a frame without offload metadata. */
void net_ip_input(struct net_if *nif, uint8_t *frame, size_t len, bool l2_bcast,
                  const struct net_pkt_meta *meta, uint32_t *fmask);
/* Complete a partial L4 checksum (meta NEEDS_CSUM, already validated against the frame)
   in software, as a device with checksum offload would. */
void net_meta_csum_complete(uint8_t *frame, size_t len, const struct net_pkt_meta *meta);
/*
 * Send a frame already validated and TTL-decremented to next hop `mac` on `out`,
 * fragmenting it when it exceeds the MTU (the caller has checked DF). Counts the result
 * on `in` (fwd_frames) or `out` (tx_busy/tx_error). Lock must not be held.
 */
void net_ip_emit(struct net_if *in, struct net_if *out, const uint8_t *mac, uint8_t *frame,
                 size_t len, uint32_t *fmask);
/* ICMP host unreachable for a frame whose next hop never answered (net_tick). */
void net_ip_host_unreach(struct net_if *in, uint8_t *frame, size_t len, uint32_t *fmask);

#endif /* NET_PRIV_H */
