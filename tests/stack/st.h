/*
 * Host test harness for the router stack: a minimal check framework, fake interfaces
 * that capture every output frame, lock hooks that verify balance and that no output or
 * flush runs under the lock, and builders for crafted frames.
 */
#ifndef ST_H
#define ST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "net/net_stack.h"

extern int st_failures;
extern const char *st_current;

#define ST_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: [%s] check failed: %s\n", __FILE__, __LINE__, st_current,      \
                    #cond);                                                                        \
            st_failures++;                                                                         \
        }                                                                                          \
    } while (0)

#define ST_EQ(a, b)                                                                                \
    do {                                                                                           \
        unsigned long long st_a_ = (unsigned long long)(a), st_b_ = (unsigned long long)(b);       \
        if (st_a_ != st_b_) {                                                                      \
            fprintf(stderr, "%s:%d: [%s] %s == %s failed: %llu != %llu\n", __FILE__, __LINE__,     \
                    st_current, #a, #b, st_a_, st_b_);                                             \
            st_failures++;                                                                         \
        }                                                                                          \
    } while (0)

typedef void (*st_test_fn)(void);
struct st_case {
    const char *name;
    st_test_fn fn;
};
/* Run each case on a freshly initialised stack; returns the process exit status. */
int st_run(const struct st_case *cases, size_t n);

/* ---- fake interfaces ---- */
#define ST_MAX_FRAMES 64
#define ST_FRAME_MAX  2048

struct st_frame {
    uint8_t data[ST_FRAME_MAX]; /* the first ST_FRAME_MAX bytes of a larger (GSO) frame */
    size_t len;
    unsigned flags;
    bool has_meta; /* sent through output_meta, with `meta` */
    struct net_pkt_meta meta;
};

/* Frames longer than ST_FRAME_MAX (GSO) are kept whole only in the NIC's big buffer. */
#define ST_BIG_MAX NET_GSO_FRAME_MAX

struct st_nic {
    const char *name;
    struct net_if *nif;
    struct st_frame frames[ST_MAX_FRAMES];
    unsigned nframes; /* captured since the last st_clear */
    unsigned flushes;
    int fail_next;       /* outputs to refuse from now on... */
    int fail_err;        /* ...with this error */
    unsigned fail_after; /* accept this many outputs before failing */
    uint8_t *big;        /* ST_BIG_MAX bytes: the last frame sent longer than ST_FRAME_MAX */
    size_t big_len;
};

extern struct st_nic st_lan, st_wan;
extern const uint8_t st_lan_mac[6], st_wan_mac[6];
extern const uint8_t st_h1_mac[6], st_h2_mac[6], st_gw_mac[6];
#define ST_LAN_IP NET_IP4(198, 18, 0, 1)
#define ST_WAN_IP NET_IP4(198, 19, 0, 1)
#define ST_H1_IP  NET_IP4(198, 18, 0, 10)  /* host on the LAN */
#define ST_H2_IP  NET_IP4(198, 19, 0, 20)  /* host on the WAN */
#define ST_GW_IP  NET_IP4(198, 19, 0, 254) /* gateway on the WAN */

extern uint32_t st_now;
extern unsigned st_lock_calls, st_unlock_calls, st_lock_errors, st_output_locked;

/* Init the stack with the checking lock hooks, add lan and wan (up), clear captures. */
void st_setup(void);
/* Same, with another MTU on the WAN (0: default). */
void st_setup_wan_mtu(uint16_t wan_mtu);
/* Same, giving the chosen interfaces an output_meta (captured like output). */
void st_setup_meta(uint16_t wan_mtu, bool lan_meta, bool wan_meta);
void st_clear(void);
void st_tick(uint32_t ms); /* advance the clock and call net_tick */
/* Receive a frame on a NIC followed by a batch end. */
void st_rx(struct st_nic *nic, uint8_t *frame, size_t len);
/* Teach the stack a neighbour's MAC via an ARP reply addressed to the router. */
void st_learn(struct st_nic *nic, uint32_t ip, const uint8_t *mac);
uint64_t st_ctr(struct net_if *nif, const char *name);
uint64_t st_gctr(const char *name);
/* Global invariant: every received frame is forwarded, consumed, dropped or queued. */
void st_check_accounting(void);

/* ---- frame builders (return the frame length) ---- */
size_t st_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type);
/* IPv4 datagram with `plen` payload bytes (pattern-filled) after a header of `ihl` bytes
   (options filled with NOPs); valid checksum. `frag` is the flags/offset word. */
size_t st_ip(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src, uint32_t dst,
             uint8_t proto, uint8_t ttl, uint16_t frag, size_t ihl, size_t plen);
/* ICMP echo request (or any type) with `dlen` data bytes; valid checksums. */
size_t st_icmp(uint8_t *f, const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src,
               uint32_t dst, uint8_t ttl, uint8_t type, uint8_t code, size_t dlen);
size_t st_arp(uint8_t *f, const uint8_t *eth_dst, const uint8_t *sha, uint16_t op, uint32_t spa,
              const uint8_t *tha, uint32_t tpa);
/* Check an ICMP error frame: addressing, checksums, type/code and the exact quote of the
   original datagram `orig` (an Ethernet frame). Returns 1 if all checks passed. */
int st_check_icmp_error(const struct st_frame *fr, const uint8_t *to_mac, const uint8_t *from_mac,
                        uint32_t from_ip, uint8_t type, uint8_t code, const uint8_t *orig,
                        size_t orig_len);
/* Reference Internet checksum, independent of the stack's. */
uint16_t st_ref_csum(const uint8_t *p, size_t len);
/* Recompute the IP header checksum after editing a field. */
void st_ip_fix_csum(uint8_t *f);

uint16_t st_get16(const uint8_t *p);
uint32_t st_get32(const uint8_t *p);
void st_put16(uint8_t *p, uint16_t v);
void st_put32(uint8_t *p, uint32_t v);
extern const uint8_t st_bcast[6];
extern const uint8_t st_zero[6];

#endif /* ST_H */
