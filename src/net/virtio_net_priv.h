/*
 * virtio-net driver internals: the device structure with its per-queue parts (dev->rx,
 * dev->sw, dev->tx), the pure helpers (feature negotiation, MTU check, MAC fallback) that
 * white-box tests call, and the interface between the driver's files (the .c files of src/net), one
 * contract line per function: context, lock held. Nothing here is public API;
 * applications use include/vnet/virtio_net.h.
 *
 * Prefixes: virtio_net_ (driver entry points, the seed's names), vnet_rx_ / vnet_tx_ /
 * vnet_ (internal, by queue); a _locked suffix means "caller holds what the contract
 * line says" (osal_crit for RX and device state, dev->tx.lock for TX).
 */
#ifndef VNET_SRC_VIRTIO_NET_PRIV_H
#define VNET_SRC_VIRTIO_NET_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include "osal.h"
#include "vnet/virtio_net.h"
#include "virtio/virtq.h"
#include "virtio/virtio_transport.h"
#include "net/virtio_net_hdr.h"

/* Features this driver handles. Anything else the device offers is declined. */
#define VIRTIO_NET_DRIVER_FEATURES                                                                 \
    (VIRTIO_F_VERSION_1 | VIRTIO_F_ANY_LAYOUT | VIRTIO_RING_F_EVENT_IDX | VIRTIO_NET_F_MAC |       \
     VIRTIO_NET_F_STATUS | VIRTIO_NET_F_MTU)
/* Receive offloads, added only with cfg.rx_hdr_fn (GUEST_TSO* only with MRG_RXBUF). */
#define VIRTIO_NET_RX_OFFLOAD_FEATURES                                                             \
    (VIRTIO_NET_F_GUEST_CSUM | VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6 |                 \
     VIRTIO_NET_F_MRG_RXBUF)
/* Transmit offloads, added only with cfg.tx_offloads. */
#define VIRTIO_NET_TX_OFFLOAD_FEATURES                                                             \
    (VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6)
/* virtio_net_negotiate_offloads() `offloads` flags. */
#define VIRTIO_NET_OFFLOAD_RX 0x1u
#define VIRTIO_NET_OFFLOAD_TX 0x2u

#define VIRTIO_NET_DEVICE_ID       1u /* virtio device type of a network card (spec 5.1) */
#define VIRTIO_NET_SW_RING_DEFAULT 64u
#define VIRTIO_NET_BUDGET_DEFAULT  64u
/* ISR copy bound in bytes when cfg.isr_budget_bytes is 0: one largest GSO frame. Without
 * offloads 64 entries of 1.5 KB stay below it, so it changes nothing there. */
#define VIRTIO_NET_ISR_BUDGET_BYTES_DEFAULT 65536u
/* rx_posted / tx_slots: 0 takes the device's queue size up to QUEUE_DEFAULT_MAX (QEMU's
 * rx_queue_size goes up to 1024; a larger device ring is used only when asked for, as each
 * entry costs a buffer); an explicit value may go up to the split ring's limit (spec 2.7). */
#define VIRTIO_NET_QUEUE_DEFAULT_MAX 1024u
#define VIRTIO_NET_QUEUE_MAX_USED    32768u

/*
 * Each software ring slot is cache-line aligned; the frame starts VIRTIO_NET_RX_PAD bytes
 * into it so that the IP header behind the 14-byte Ethernet header lands 16-byte aligned
 * (the stack may then read IP/UDP fields through aligned struct pointers), and so that a
 * virtio-net header (at most 12 bytes) fits in front of the frame: virtio_net_forward()
 * can then post the slot itself as one TX descriptor (header + frame).
 */
#define VIRTIO_NET_RX_SLOT_ALIGN 64u
#define VIRTIO_NET_RX_PAD        18u
_Static_assert(VIRTIO_NET_RX_PAD >= VIRTIO_NET_HDR_LEN_V1 && (VIRTIO_NET_RX_PAD + 14u) % 16u == 0,
               "slot headroom: a header in front, the IP header 16-byte aligned");
/* Devices one device's lent slots may be out on at once (virtio_net_forward). */
#define VIRTIO_NET_LEND_PEERS 4u

/*
 * With MRG_RXBUF each RX buffer holds cfg.rx_mrg_buf_bytes, header included; a larger
 * frame spans several (spec 5.1.6.4). Default 8 KiB, measured (bench/perf/ab.sh
 * --offloads on, TCG, TCP 1 stream, 2 rounds): 2 KiB 5.70-5.76 Gbit/s with 0.16 RX refill
 * kicks per frame, 4 KiB 6.79-6.95 (0.027), 8 KiB 6.87-7.13 (0.001).
 */
#define VIRTIO_NET_RX_MRG_BUF     8192u
#define VIRTIO_NET_RX_MRG_BUF_MIN 128u
#define VIRTIO_NET_RX_MRG_BUF_MAX 65536u

/* Bounded waits: reset (transport polls), halt waiting for the RX task to park, for lent
 * slots to come back and for TX waiters to leave. */
#define VIRTIO_NET_HALT_WAIT_MS 10000u

/*
 * One entry of the software RX ring (the seed's name). `len` is 0 while the slot is free;
 * the ISR writes the frame into `data`, then vnet_smp_wmb(), then `len`, then advances the
 * head under the critical section. The task clears `len` after delivery and only then
 * advances the tail, so the ISR never writes into a frame the task is still reading.
 */
struct virtio_net_rx_sw_packet {
    uint32_t len;
    uint8_t *data; /* VIRTIO_NET_RX_PAD bytes into a VIRTIO_NET_RX_SLOT_ALIGN-aligned slot */
    /* The frame's virtio-net header, kept only when cfg.rx_hdr_fn is set (written with
     * the frame bytes, before len). */
    struct virtio_net_hdr hdr;
};

/* Driver-private shadow of one posted RX or TX buffer (the virtq cookie). */
struct virtio_net_buf {
    uint8_t *cpu;  /* header at cpu[0], frame at cpu[hdr_len] */
    uint64_t dma;  /* device address of cpu[0] */
    uint32_t len;  /* TX: frame bytes posted (for tx.inflight_bytes) */
    uint16_t slot; /* index in its array */
    /* TX, virtio_net_forward(): the chain posted a software ring slot of `lent_dev`
     * (lent = the slot's start) instead of this buffer; returned to lent_dev when the
     * chain is reclaimed, or when this queue is freed. NULL otherwise. */
    uint8_t *lent;
    struct virtio_net_dev *lent_dev;
};

enum virtio_net_state {
    VIRTIO_NET_ST_HALTED = 0, /* attached, device untouched or reset */
    VIRTIO_NET_ST_RUNNING,    /* initialized: ISR and task may touch the queues */
    VIRTIO_NET_ST_HALTING,    /* halt in progress: ISR and task keep off */
};

#ifdef VIRTIO_NET_TEST_HOOKS
/* Step boundaries of the RX task's interrupt re-enable handshake (docs/rx-handshake.md). */
enum virtio_net_hook_point {
    VIRTIO_NET_HOOK_BACKLOG_EMPTY = 0, /* ring and used queue seen empty, flag still set */
    VIRTIO_NET_HOOK_AFTER_CLEAR,       /* task_scheduled cleared, callbacks still off */
    VIRTIO_NET_HOOK_AFTER_ENABLE,      /* virtq_enable_cb returned (flag, barrier, re-check) */
    VIRTIO_NET_HOOK_AFTER_DECIDE,      /* decided under the critical section: go round/block */
    VIRTIO_NET_HOOK_BEFORE_BLOCK,      /* about to wait on the semaphore */
    VIRTIO_NET_HOOK_AFTER_DRAIN,       /* a batch was delivered, before batch_fn */
    VIRTIO_NET_HOOK_ISR_REARM,         /* ISR staged nothing: about to re-arm (in the ISR) */
    VIRTIO_NET_HOOK_BEFORE_DEFER,      /* under load: about to sleep rx_defer_ms, irqs off */
    VIRTIO_NET_HOOK_BEFORE_NOTIFY,     /* task: about to write a refill notification */
    VIRTIO_NET_HOOK_COUNT
};
/* Called (when non-NULL) at each point, from the RX task, outside critical sections. */
extern void (*virtio_net_test_hook)(struct virtio_net_dev *dev, enum virtio_net_hook_point p);
#define VNET_HOOK(dev, p)                                                                          \
    do {                                                                                           \
        void (*hook_)(struct virtio_net_dev *, enum virtio_net_hook_point) =                       \
            __atomic_load_n(&virtio_net_test_hook, __ATOMIC_ACQUIRE);                              \
        if (hook_ != NULL)                                                                         \
            hook_((dev), (p));                                                                     \
    } while (0)
/* Step boundaries of the TX space handshake (docs/tx-handshake.md), in the sender. */
enum virtio_net_tx_hook_point {
    VIRTIO_NET_TX_HOOK_FULL = 0,    /* reclaim found no free slot, event not yet armed */
    VIRTIO_NET_TX_HOOK_ARMED,       /* armed and re-checked: nothing pending, BUSY next */
    VIRTIO_NET_TX_HOOK_BEFORE_WAIT, /* send_wait: about to block on the space semaphore */
    VIRTIO_NET_TX_HOOK_COUNT
};
/* Called (when non-NULL) at each point, from the sender, outside critical sections
 * (FULL and ARMED with dev->tx.lock held). */
extern void (*virtio_net_tx_test_hook)(struct virtio_net_dev *dev, enum virtio_net_tx_hook_point p);
#define VNET_TX_HOOK(dev, p)                                                                       \
    do {                                                                                           \
        if (virtio_net_tx_test_hook != NULL)                                                       \
            virtio_net_tx_test_hook((dev), (p));                                                   \
    } while (0)
#else
#define VNET_TX_HOOK(dev, p)                                                                       \
    do {                                                                                           \
    } while (0)
#define VNET_HOOK(dev, p)                                                                          \
    do {                                                                                           \
    } while (0)
#endif

/*
 * RX queue (virtqueue 0) and the buffers posted on it. Touched only by the ISR, or by the
 * task inside a critical section (producer side of the software ring).
 */
struct virtio_net_rxq {
    struct virtq *vq;
    uint16_t count;              /* buffers posted (each 1 or 2 descriptors) */
    struct virtio_net_buf *bufs; /* private shadows, `count` of them */
    uint8_t *dma;                /* one block, `count` * buf_stride bytes */
    size_t dma_bytes;
    uint32_t buf_len;    /* writable bytes posted per buffer (header included) */
    uint32_t buf_stride; /* bytes per buffer in `dma` */
    uint32_t frame_max;  /* largest frame (all buffers of it) accepted */
    bool mrg;            /* MRG_RXBUF: a frame spans hdr.num_buffers used entries */
    /* Buffers were published and the device asked for a notification that has not been
     * written yet: the ISR leaves it to the scheduled task (docs/rx-handshake.md). */
    bool notify_pending;
};

/*
 * Software RX ring: single producer (ISR / task while callbacks are off, under crit),
 * single consumer (task, lock-free: see vnet_rx_drain). Free-running 32-bit counters,
 * masked to an index.
 */
struct virtio_net_sw_ring {
    struct virtio_net_rx_sw_packet *slot; /* mask + 1 entries */
    uint8_t *data;                        /* frame storage behind slot[i].data (DMA buffers) */
    size_t data_bytes;
    uint64_t data_dma; /* device address of data[0] */
    uint32_t mask;
    uint32_t stride; /* bytes per frame slot in `data` */
    uint32_t head;   /* next slot the producer fills (written under crit) */
    uint32_t tail;   /* next slot the consumer delivers (written by the task only) */
    /*
     * Lending (cfg.rx_lend_bufs, virtio_net_forward): `data` holds mask + 1 + that many
     * slots. A slot lent to a TX ring leaves its entry, which takes a spare in its place;
     * the TX reclaim gives the lent one back as a spare. `spare`, `spare_top` and `peer`
     * are read and written under osal_crit (constant work); `cur` only by the
     * consumer: the entry being delivered, NULL between callbacks.
     */
    uint8_t **spare; /* rx_lend_bufs slot starts; those below spare_top are free */
    uint16_t spare_top;
    struct {
        struct virtio_net_dev *dev; /* NULL: free entry */
        uint16_t lent;              /* this device's slots on dev's TX ring */
    } peer[VIRTIO_NET_LEND_PEERS];
    struct virtio_net_rx_sw_packet *cur;
};

/* TX queue (virtqueue 1) and its buffers: touched only under `lock`. */
struct virtio_net_txq {
    osal_lock_t lock; /* also orders halt against senders and the task's RX notify */
    struct virtq *vq;
    uint16_t count;              /* TX slots (each 1 or 2 descriptors) */
    struct virtio_net_buf *bufs; /* private shadows, `count` of them */
    uint16_t *free;              /* stack of free slot indices */
    uint16_t free_top;
    uint16_t unkicked;       /* posted with SEND_MORE, not yet kicked */
    uint32_t inflight_bytes; /* frame bytes posted and not yet reclaimed (cfg.tx_max_bytes) */
    uint8_t *dma;            /* one block, `count` * stride bytes */
    size_t dma_bytes;
    uint32_t stride;    /* bytes per TX DMA buffer */
    uint32_t frame_max; /* largest frame accepted by send (GSO with HOST_TSO*) */
    /* TX space event (docs/tx-handshake.md). `space_armed` and `waiters` are read and
     * written under osal_crit only (the ISR delivers the event); `irq` is set by
     * initialize before RUNNING and read-only afterwards. */
    bool irq;             /* TX interrupts reach the driver (shared line or a TX vector) */
    bool space_armed;     /* a TX completion event is armed and not yet delivered */
    uint16_t waiters;     /* senders inside virtio_net_send_wait */
    osal_sem_t space_sem; /* their wake-ups: each event posts one token per waiter */
};

struct virtio_net_dev {
    struct virtio_net_config cfg; /* copy, defaults applied */
    struct virtio_transport *tr;

    /* --- state shared by ISR and task: read/written under osal_crit --- */
    enum virtio_net_state state;
    bool task_scheduled; /* RX task posted or running; see docs/rx-handshake.md */
    bool task_active;    /* task is between a wake-up and parking (touches queues) */
    bool task_stop;      /* detach: the task returns */
    bool link_event;     /* config change seen by the ISR, handled by the task */
    bool task_in_crit;   /* the RX task (or poller) is inside vnet_task_crit_enter/exit */

    /* Negotiated configuration (valid while RUNNING). */
    uint64_t features;
    uint16_t mtu;
    uint16_t hdr_len;   /* 10 or 12 */
    bool hdr_separate;  /* legacy without ANY_LAYOUT: header in its own descriptor */
    uint32_t frame_max; /* largest non-GSO Ethernet frame accepted on RX and TX */
    uint8_t mac[6];
    bool link_up;

    struct virtio_net_rxq rx;
    struct virtio_net_sw_ring sw;
    struct virtio_net_txq tx;

    osal_sem_t sem;
    osal_task_t task;
    /* Serialises initialize/halt/detach (any tasks, any time): a binary semaphore, not an
     * osal_lock, because halt sleeps while it holds it (the uC/OS-II port's osal_lock is
     * the scheduler lock, under which OSTimeDly does not sleep and no task can run). */
    osal_sem_t ctl_sem;
    uintptr_t rx_task_id; /* osal_task_self() of the RX task, once it runs (crit) */
    struct virtio_net_stats stats;
};

/*
 * Feature negotiation as a pure function: from what the device offers, the application
 * allows (0 = all the driver supports) and the transport kind, the subset to write.
 * Applies dependency rules (a feature whose prerequisite is absent is dropped). Returns
 * VNET_OK with *out, or VNET_E_FEATURES (modern transport without VERSION_1).
 */
vnet_err_t virtio_net_negotiate(uint64_t device, uint64_t allow, bool legacy, uint64_t *out);
/*
 * The same, plus the offloads asked for (VIRTIO_NET_OFFLOAD_RX: rx_hdr_fn set,
 * VIRTIO_NET_OFFLOAD_TX: tx_offloads set): RX adds GUEST_CSUM, MRG_RXBUF and GUEST_TSO4/6
 * (the latter only together with MRG_RXBUF, so a GSO frame never needs a 64 KiB buffer);
 * TX adds CSUM and HOST_TSO4/6. Offloads need a header that shares the frame's descriptor
 * (VERSION_1 or ANY_LAYOUT). virtio_net_negotiate() = this with offloads 0.
 */
vnet_err_t virtio_net_negotiate_offloads(uint64_t device, uint64_t allow, bool legacy,
                                         unsigned offloads, uint64_t *out);
/*
 * Complete a partial Internet checksum (RFC 1071) in place: the ones-complement sum of
 * frame[start..len), seeded with the pseudo-header sum already stored at start + offset,
 * folded, complemented (0 sent as 0xffff) and stored big-endian at start + offset.
 * The caller checked start + offset + 2 <= len.
 */
void virtio_net_csum_complete(uint8_t *frame, size_t len, uint16_t start, uint16_t offset);
/* Drop every feature whose prerequisite (spec 5.1.3.1) is missing, until stable. */
uint64_t virtio_net_apply_feature_deps(uint64_t f);
/* VNET_OK when 68 <= mtu <= 9000, else VNET_E_RANGE. */
vnet_err_t virtio_net_check_mtu(uint16_t mtu);
/* Fill `mac` from `fallback` or, when that is all zero, with a random locally
 * administered unicast address. */
void virtio_net_fallback_mac(const uint8_t fallback[6], uint8_t mac[6]);
/*
 * Valid ranges and defaults of the numeric struct virtio_net_config fields: the one place
 * both attach (vnet_cfg_apply) and docs/driver.md's configuration table follow
 * (test_unit cross-checks the doc). A field left 0 takes `def` (0 = decided at
 * initialize from the device: rx_posted, tx_slots; rx_defer_min_frames follows
 * rx_budget); any other value outside [min, max] is VNET_E_INVAL.
 */
struct vnet_cfg_range {
    const char *name;
    size_t off;
    uint8_t size; /* 2 or 4 bytes */
    uint32_t min, max, def;
};
extern const struct vnet_cfg_range vnet_cfg_ranges[];
extern const unsigned vnet_cfg_range_count;
/* Check every ranged field of `cfg` and fill in defaults: VNET_OK or VNET_E_INVAL. */
vnet_err_t vnet_cfg_apply(struct virtio_net_config *cfg);

/* Name/offset table behind virtio_net_stats_foreach (exposed for the doc/test cross-check). */
unsigned virtio_net_stat_count(void);

/*
 * [ISR, or task] Move used RX descriptors into the software ring and recycle them to the
 * device (one kick per batch), at most `budget` entries (0 = the configured isr_budget),
 * and hand what it staged to the RX task as the ISR does. Returns the number of used
 * entries consumed (frames copied + frames dropped), or VNET_E_BROKEN. The interrupt path
 * and tests call it; an application never needs to (the seed's name, kept).
 */
int virtio_net_service_rx_ring(struct virtio_net_dev *dev, unsigned budget);

/* [task] The RX task body, created by virtio_net_attach(); `arg` is the device. Never
 * called by an application (the seed's name, kept for tracing and profiles). */
void virtio_net_rx_task(void *arg);

/* ---------------------------------------------------------------------------------- */
/* Internal interface between the driver's files                                       */
/*                                                                                      */
/* Contract line of each function: [context] who may call it; "crit" = caller holds    */
/* osal_crit (excludes the device ISRs), "tx lock" = caller holds dev->tx.lock.        */
/* ---------------------------------------------------------------------------------- */

/* dev->stats.broken bits: a queue stopped by the driver (bad used entry seen here, or
 * DEVICE_NEEDS_RESET), silent until virtio_net_halt() + virtio_net_initialize(). */
#define VNET_BROKEN_RX 0x1u
#define VNET_BROKEN_TX 0x2u

/* --- virtio_net_rx.c: RX queue servicing, the software ring's producer side --- */

/*
 * One service pass over the RX used ring, by the queue's owner (docs/rx-handshake.md
 * "Ownership"): the ISR (task not scheduled, under osal_crit), or the RX task / the
 * poller (task_scheduled set, interrupts on). Limits in; tallies out, added to dev->stats
 * by vnet_rx_pass_commit_locked() so that the pass itself writes nothing the ISR or a
 * stats reader touches.
 */
struct vnet_rx_pass {
    unsigned budget;      /* used entries (a merged frame once started is finished) */
    uint32_t byte_budget; /* bytes as the device wrote them */
    bool stage_or_leave;  /* task/poller: take no frame the software ring cannot hold */
    /* out */
    unsigned consumed;              /* used entries taken (staged, dropped or bad) */
    uint32_t bad_len, bad_hdr, gso; /* -> rx_bad_len, rx_bad_hdr, rx_gso_packets */
    uint32_t drops;                 /* -> rx_queue_drops (never with stage_or_leave) */
    uint32_t hwm;                   /* highest software ring fill seen */
    uint32_t bad_used;              /* protocol violations: the queue is now broken */
    bool budget_hit;                /* a budget ran out */
    bool ring_full;                 /* stage_or_leave stopped at a full software ring */
    bool notify;                    /* buffers published, device wants a notification */
};
/*
 * [queue owner] Take used RX entries within p's budgets, stage each frame into the
 * software ring (or count its drop), re-post the buffers. Returns entries consumed, 0
 * when not RUNNING, VNET_E_BROKEN when the queue is (or just became) broken.
 */
int vnet_rx_service(struct virtio_net_dev *dev, struct vnet_rx_pass *p);
/* [crit] Add a pass's tallies to dev->stats; mark the queue broken and set
 * rx.notify_pending as the pass found. Constant time. */
void vnet_rx_pass_commit_locked(struct virtio_net_dev *dev, const struct vnet_rx_pass *p);
/*
 * [queue owner] Re-post `n` used RX buffers (a chunk already read). False when the queue
 * refused one (a protocol violation: the caller counts it and the queue breaks);
 * *reposted counts the buffers posted. Shared by both receive designs.
 */
bool vnet_rx_repost(struct virtio_net_dev *dev, struct virtio_net_buf *const *bufs, unsigned n,
                    unsigned *reposted);

/* --- virtio_net_rx_task.c --- */

/* [queue owner: RX task, or virtio_net_poll] One pass: link, service, notify, deliver
 * (see the definition). false: the device is not running. */
bool vnet_rx_owner_pass(struct virtio_net_dev *dev, unsigned budget, bool *work,
                        unsigned *delivered);

/* What the re-enable handshake decided (vnet_rx_rearm). */
enum vnet_rearm {
    VNET_REARM_AGAIN,   /* work arrived: the owner keeps the queue and goes round */
    VNET_REARM_ARMED,   /* the ISR's: an interrupt (or a token already posted) wakes */
    VNET_REARM_STOPPED, /* not running */
};
/* [queue owner] H0-H3 of docs/rx-handshake.md; task: the RX task (it parks inside). */
enum vnet_rearm vnet_rx_rearm(struct virtio_net_dev *dev, bool task);

#ifdef VIRTIO_NET_TEST_HOOKS
/* Frame copies made in task context, and those of them made while the task held one of
 * its own critical sections (tests/net/test_owner.c asserts 0). */
extern uint64_t virtio_net_test_task_copies, virtio_net_test_copies_in_task_crit;
#endif

/* --- virtio_net_rx_irq.c: the RX work of an interrupt (the one unit a receive design
 *     replaces: bench/in-isr/ links the benchmark-only old design in its place) --- */

/* [any] What the linked receive design is. */
struct vnet_rx_design {
    const char *name;     /* for benchmark reports */
    bool keeps_hdr;       /* frames reach rx_hdr_fn with their header: RX offloads possible */
    bool delivers_in_isr; /* rx_fn runs inside the ISR (no software ring, no task path) */
};
extern const struct vnet_rx_design vnet_rx_design;
/*
 * [ISR, crit] The RX part of an interrupt: service the queue and deliver or hand off
 * what it found. Returns true when there was work (false counts as spurious).
 */
bool vnet_rx_irq_locked(struct virtio_net_dev *dev);
/*
 * [task or ISR, crit] The design's service pass outside an interrupt (what
 * virtio_net_service_rx_ring runs): up to `budget` used entries, frames delivered or
 * handed on as the design does it, a pending refill notification written. Returns entries
 * consumed (0 while the RX task owns the queue) or VNET_E_BROKEN.
 */
int vnet_rx_poll_locked(struct virtio_net_dev *dev, unsigned budget);

/* --- virtio_net_tx.c: the TX space event's parts outside the send path --- */

/* [task, tx lock] Take back completed TX chains (a lent slot goes back to its owner). */
void vnet_tx_reclaim_locked(struct virtio_net_dev *dev);
/* [task] The same taking the TX lock, when the device is running (else nothing). */
void vnet_tx_reclaim(struct virtio_net_dev *dev);
/*
 * A send of virtio_net_forward: `slot` (its start, VIRTIO_NET_RX_PAD headroom included) of
 * `in`'s software ring, posted where it is, a spare already taken for its entry; or, with
 * `slot` NULL, a forward that could not lend: copied, and counted tx_zc_copies.
 */
struct vnet_lend {
    struct virtio_net_dev *in;
    uint8_t *slot;
};
/* [task] virtio_net_send_wait, with `ld` (NULL: exactly virtio_net_send_wait). */
vnet_err_t vnet_tx_send_wait(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                             const void *frame, size_t len, unsigned flags, uint32_t timeout_ms,
                             const struct vnet_lend *ld);

/* --- virtio_net_lend.c: software-ring slots lent to TX rings (virtio_net_forward) --- */

/* [task, tx lock of the ring the slot was on] A lent slot of `in` comes back from `out`'s
 * TX ring: one of in's spares again. Constant work under osal_crit. */
void vnet_lend_put(struct virtio_net_dev *in, struct virtio_net_dev *out, uint8_t *slot);
/* [task, tx lock] halt, right after the reset: give every slot this TX ring's chains hold
 * back to the lending device (the device no longer reads them). */
void vnet_tx_return_lent_locked(struct virtio_net_dev *dev);
/* [task] halt of a lending device, after its own ring returned what it held and its RX task
 * parked: take back every slot lent to other devices' TX rings, reclaiming those rings,
 * bounded. VNET_OK or VNET_E_TIMEOUT (a peer's TX ring never completed them: the slots stay
 * allocated). */
vnet_err_t vnet_lend_collect(struct virtio_net_dev *dev);
/* [any, crit] Slots of this device out on TX rings now. */
static inline uint16_t vnet_lent_locked(const struct virtio_net_dev *dev)
{
    return dev->sw.spare != NULL ? (uint16_t)(dev->cfg.rx_lend_bufs - dev->sw.spare_top) : 0u;
}
/* [task] The one bounded wait of halt and detach: call done(dev) every millisecond until it
 * returns true, VIRTIO_NET_HALT_WAIT_MS times at most. done may also do work that brings
 * the condition about (reclaiming a peer's ring). VNET_OK, or VNET_E_TIMEOUT. */
vnet_err_t vnet_wait_bounded(struct virtio_net_dev *dev, bool (*done)(struct virtio_net_dev *dev));
/* [task] attach: the space semaphore. VNET_OK or the OS error. */
vnet_err_t vnet_tx_attach(struct virtio_net_dev *dev);
/* [task] detach: wait (bounded) until no sender waits any more, destroy the semaphore.
 * VNET_OK or VNET_E_TIMEOUT (a sender never left: nothing is freed then). */
vnet_err_t vnet_tx_detach(struct virtio_net_dev *dev);
/* [task, crit] halt, once state is HALTING: disarm and wake every waiting sender (each
 * then returns VNET_E_STATE from virtio_net_send_wait). */
void vnet_tx_halt_wake_locked(struct virtio_net_dev *dev);
/* [ISR, crit] The TX part of an interrupt: callbacks off; an armed event is delivered
 * (waiters woken, tx_space_fn called). Never reclaims. True when an event was armed. */
bool vnet_tx_irq_locked(struct virtio_net_dev *dev);

/* --- virtio_net_setup.c (control path, ctl_sem held) --- */

/* Release the RX queue, its buffers and the software ring / the TX queue, its buffers and
 * the free-slot stack. The device must be reset or never told the queue. */
void vnet_free_rx(struct virtio_net_dev *dev);
void vnet_free_tx(struct virtio_net_dev *dev);
/* Ring size for queue idx: the device's fixed size, or the smaller of its maximum and
 * `want`, as a power of two. VNET_OK or VNET_E_RANGE. */
vnet_err_t vnet_queue_size(struct virtio_net_dev *dev, uint16_t idx, uint32_t want, uint16_t *out);
/* Create queue idx of `size` entries and tell the transport its ring addresses. */
vnet_err_t vnet_setup_queue(struct virtio_net_dev *dev, uint16_t idx, uint16_t size,
                            struct virtq **vq, bool irq);
/* Spec 3.1.1 step 7 with features f accepted: MTU, MAC, link; header layout, buffer sizes. */
vnet_err_t vnet_read_device_config(struct virtio_net_dev *dev, uint64_t f);
/* RX/TX buffers, TX free-slot stack, software ring; the caller frees on failure. */
vnet_err_t vnet_alloc_rings(struct virtio_net_dev *dev);

/* --- virtio_net_stats.c --- */

/* [task, crit] Clear every counter but the lifetime reset count. */
void vnet_stats_clear_locked(struct virtio_net_dev *dev);

/* --- small helpers used by several files (inline: some run per frame or per ISR) --- */

static inline uint32_t vnet_align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1u) & ~(a - 1u);
}

static inline bool vnet_is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1u)) == 0;
}

/* [any] The descriptor segments that post RX buffer `b` (1, or 2 for a separate legacy
 * header). */
static inline void vnet_rx_segs(const struct virtio_net_dev *dev, const struct virtio_net_buf *b,
                                struct virtq_seg *segs, uint16_t *n)
{
    if (dev->hdr_separate) {
        /* Legacy device without ANY_LAYOUT: the header must be alone in the first
         * descriptor (spec 5.1.6.6 legacy note). */
        segs[0] = (struct virtq_seg){b->dma, dev->hdr_len, true};
        segs[1] = (struct virtq_seg){b->dma + dev->hdr_len, dev->rx.buf_len - dev->hdr_len, true};
        *n = 2;
    } else {
        segs[0] = (struct virtq_seg){b->dma, dev->rx.buf_len, true};
        *n = 1;
    }
}

/* [RX queue owner; initialize before RUNNING] Post RX buffer `b`: hand all of it to the device
 * (cache maintenance, os/osal.h: no dirty line may later be written back over what the device
 * writes), then add its descriptors. The caller publishes them (virtq_kick_prepare). VNET_OK or
 * virtq_add's error. */
static inline vnet_err_t vnet_rx_post(struct virtio_net_dev *dev, struct virtio_net_buf *b)
{
    struct virtq_seg segs[2];
    uint16_t n;
    osal_dma_sync_for_device(b->cpu, dev->rx.buf_len);
    vnet_rx_segs(dev, b, segs, &n);
    return virtq_add(dev->rx.vq, segs, n, b);
}

/*
 * Critical sections of the RX task and the poller: measured (longest one kept in
 * irqoff_task_cycles_max) and marked, so a test can check that no frame is copied inside
 * one. Everything done between enter and exit must be constant work (flags, indices,
 * counters), independent of budgets and frame sizes.
 */
struct vnet_crit {
    osal_crit_t saved;
    uint64_t t0;
};
static inline void vnet_task_crit_enter(struct virtio_net_dev *dev, struct vnet_crit *k)
{
    k->saved = osal_crit_enter();
    k->t0 = osal_cycles();
    dev->task_in_crit = true;
}
static inline void vnet_task_crit_exit(struct virtio_net_dev *dev, struct vnet_crit *k)
{
    uint64_t d = osal_cycles() - k->t0;
    if (d > dev->stats.irqoff_task_cycles_max)
        dev->stats.irqoff_task_cycles_max = d;
    dev->task_in_crit = false;
    osal_crit_exit(k->saved);
}

/* Take (clear and count) a pending RX refill notification; true if there was one, which
 * the caller must then write. Caller holds the critical section. */
static inline bool vnet_rx_take_notify_locked(struct virtio_net_dev *dev)
{
    if (!dev->rx.notify_pending)
        return false;
    dev->rx.notify_pending = false;
    dev->stats.rx_kicks++;
    return true;
}

/* Write a pending RX refill notification now. Caller holds the critical section. */
static inline void vnet_rx_notify_locked(struct virtio_net_dev *dev)
{
    if (vnet_rx_take_notify_locked(dev))
        virtio_tr_notify(dev->tr, VIRTIO_NET_RXQ);
}

/*
 * Schedule the RX task unless it already is. Caller holds the critical section. The flag
 * makes the post happen once per false->true transition, so the semaphore count is at
 * most 1 (docs/rx-handshake.md, "semaphore bound").
 */
static inline void vnet_schedule_task_locked(struct virtio_net_dev *dev)
{
    if (dev->task_scheduled)
        return;
    /* The queue changes owner: callbacks stay off while the task owns it (an interrupt
     * meanwhile would only be counted, rx_irq_owned). */
    if (dev->state == VIRTIO_NET_ST_RUNNING && dev->rx.vq != NULL)
        virtq_disable_cb(dev->rx.vq);
    dev->task_scheduled = true;
    dev->stats.rx_task_wakeups++;
    /* Poll mode: the poller armed the device (virtio_net_poll_arm); no task to post. */
    if (!dev->cfg.rx_poll)
        (void)osal_sem_post(&dev->sem);
    else if (dev->cfg.rx_wake_fn != NULL)
        dev->cfg.rx_wake_fn(dev->cfg.rx_wake_arg);
}

/* The RX queue may be serviced and re-armed: running, and not broken by either path. */
static inline bool vnet_rx_queue_ok_locked(const struct virtio_net_dev *dev)
{
    return dev->state == VIRTIO_NET_ST_RUNNING && dev->rx.vq != NULL &&
           !virtq_is_broken(dev->rx.vq) && !(dev->stats.broken & VNET_BROKEN_RX);
}

/* [ISR or task, crit] The device wrote a used entry that breaks the protocol: the queue
 * (VNET_BROKEN_RX or _TX) is silent from now until halt + initialize. */
static inline void vnet_mark_broken_locked(struct virtio_net_dev *dev, uint32_t queue_bit)
{
    dev->stats.bad_used++;
    dev->stats.broken |= queue_bit;
    osal_log(queue_bit == VNET_BROKEN_RX
                 ? "virtio-net: RX queue broken by the device (bad used entry)"
                 : "virtio-net: TX queue broken by the device (bad used entry)");
}

#endif /* VNET_SRC_VIRTIO_NET_PRIV_H */
