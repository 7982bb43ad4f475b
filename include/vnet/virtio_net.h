/*
 * vnet-rtos virtio-net driver: public API.
 *
 * Receive path (the NAPI-style design of the user's system; the names in it are the
 * driver's internals, src/net/virtio_net_priv.h):
 *   - The interrupt handler only acknowledges, calls virtio_net_service_rx_ring() which
 *     copies each received frame into the device's software ring (virtio_net_rx_sw_packet
 *     entries) and recycles the descriptor to the device at once, then disables RX
 *     interrupts and posts the RX task's semaphore if the task is not already scheduled.
 *   - virtio_net_rx_task (created by virtio_net_attach) drains the software ring into the
 *     configured receive callback
 *     (the router wires it to net_process_received_packet()), services leftover used
 *     descriptors itself while interrupts are off, and re-enables RX interrupts only when
 *     the backlog is gone, with a full barrier and a re-check (docs/rx-handshake.md).
 *   - A full software ring drops the frame, counts it in rx_queue_drops, still recycles
 *     the descriptor and wakes the task.
 * Transmit: frames are copied into driver-owned TX buffers; completions are reclaimed on
 * the send path (TX interrupts stay off while there is space). A full ring returns
 * VNET_E_BUSY and arms one TX completion event for when space has returned: it calls
 * cfg.tx_space_fn (ISR context) and wakes senders blocked in virtio_net_send_wait()
 * (docs/tx-handshake.md).
 *
 * Context rules are stated per function: "task" = RTOS task context only (may block),
 * "ISR" = safe from interrupt context (never blocks).
 */
#ifndef VNET_VIRTIO_NET_H
#define VNET_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vnet/vnet_err.h"
#include "vnet/virtio_transport.h"

struct virtio_net_dev; /* opaque */

/*
 * Receive callback, called from virtio_net_rx_task for each frame, in order. `frame` is
 * the Ethernet frame (no virtio-net header), writable, owned by the callee only for the
 * duration of the call (the slot is reused afterwards).
 */
typedef void (*virtio_net_rx_fn)(void *arg, uint8_t *frame, size_t len);
/*
 * The virtio-net header of a frame (spec 5.1.6), as received and as sent with offloads.
 * Fields in CPU order (the library runs on little-endian CPUs only).
 */
struct virtio_net_hdr {
    uint8_t flags;        /* VIRTIO_NET_HDR_F_* */
    uint8_t gso_type;     /* VIRTIO_NET_HDR_GSO_* (ECN bit may be or-ed in) */
    uint16_t hdr_len;     /* Ethernet + IP + TCP header bytes of a GSO frame (a hint) */
    uint16_t gso_size;    /* payload bytes per segment of a GSO frame */
    uint16_t csum_start;  /* NEEDS_CSUM: checksum covers frame[csum_start..len) */
    uint16_t csum_offset; /* NEEDS_CSUM: the 16-bit sum goes at csum_start + csum_offset */
    uint16_t num_buffers; /* RX with MRG_RXBUF: buffers the frame used; 0 on TX */
};
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 0x1u /* L4 checksum is partial (pseudo-header only) */
#define VIRTIO_NET_HDR_F_DATA_VALID 0x2u /* RX: checksum already validated by the host */
#define VIRTIO_NET_HDR_GSO_NONE     0x00u
#define VIRTIO_NET_HDR_GSO_TCPV4    0x01u
#define VIRTIO_NET_HDR_GSO_TCPV6    0x04u
#define VIRTIO_NET_HDR_GSO_ECN      0x80u
/* Largest frame (Ethernet header included) the driver accepts with GSO offloads. */
#define VIRTIO_NET_GSO_MAX_FRAME 65550u

/*
 * Receive callback with the frame's virtio-net header (offloads on, see rx_hdr_fn in
 * struct virtio_net_config). A GSO frame (hdr->gso_type != NONE) may be up to
 * VIRTIO_NET_GSO_MAX_FRAME bytes; with NEEDS_CSUM its L4 checksum field holds only the
 * pseudo-header sum. Same context and ownership rules as virtio_net_rx_fn.
 */
typedef void (*virtio_net_rx_hdr_fn)(void *arg, const struct virtio_net_hdr *hdr, uint8_t *frame,
                                     size_t len);
/* Called by the RX task after each batch of received frames (flush point for TX kicks). */
typedef void (*virtio_net_batch_fn)(void *arg);
/*
 * TX space event: called from the TX interrupt path (ISR context: it may only signal, e.g.
 * post a semaphore; never send from here) once after a send returned VNET_E_BUSY, when
 * the device has completed enough of the ring for sending to be worth retrying.
 */
typedef void (*virtio_net_tx_space_fn)(void *arg);
/* Called from the RX task when the link state changed (VIRTIO_NET_F_STATUS). */
typedef void (*virtio_net_link_fn)(void *arg, bool up);
/*
 * Poll mode's wake-up (cfg.rx_wake_fn): called from the interrupt path (ISR context: it may
 * only signal, e.g. post a semaphore) once after virtio_net_poll_arm() armed the device,
 * when it has completed a receive buffer or its link changed. One task can then serve
 * several devices, as a super-loop or a NAPI poll list does.
 */
typedef void (*virtio_net_wake_fn)(void *arg);

struct virtio_net_config {
    struct virtio_transport *transport; /* required; owned by the caller */
    const char *name;                   /* for logs and the RX task name; may be NULL */

    /* Software RX ring (virtio_net_rx_sw_packet entries): power of two; 0 -> 64. */
    uint16_t rx_sw_ring_entries;
    /* Spare software ring slots for zero-copy forwarding (virtio_net_forward()): how many
     * of this device's received frames may be out on TX rings at once. Each costs one slot
     * of memory (a frame's size; 64 KiB with receive offloads). 0 = no lending (default):
     * virtio_net_forward() then copies, as virtio_net_send_wait(). 1..32768. */
    uint16_t rx_lend_bufs;
    /* RX descriptors kept posted to the device (each with a buffer); 0 -> the device's
     * queue size, at most 1024; explicit values 1..32768 (the ring is the smaller of this,
     * rounded down to a power of two, and the device's maximum). */
    uint16_t rx_posted;
    /* TX descriptors (driver-owned copy buffers); 0 -> the device's queue size, at most
     * 1024; explicit values 1..32768. */
    uint16_t tx_slots;
    /* Byte limit of the TX ring, like Linux's byte queue limits: a send waits (or is
     * refused with VNET_E_BUSY, the TX space event armed) while the frames posted and not
     * yet completed hold at least this many bytes, so a ring of 64 KiB GSO frames holds no
     * more delay than one of MTU frames. The frame that crosses the limit is accepted.
     * 0 -> no byte limit (tx_slots bounds the ring). */
    uint32_t tx_max_bytes;
    /* Max used entries the ISR moves per invocation before leaving the rest to the task;
     * 0 -> 64. Bounds interrupt latency under load. */
    uint16_t isr_budget;
    /* Bytes (as the device wrote them, headers included) the ISR copies per invocation
     * before leaving the rest to the task; 0 -> 65536 (the ISR's copy work is bounded in
     * every configuration). A frame once started is always finished. Bounds ISR time
     * when frames are up to 64 KiB (receive offloads). */
    uint32_t isr_budget_bytes;
    /* With MRG_RXBUF (receive offloads): bytes per posted RX buffer, header included,
     * rounded up to 64; 0 -> 8192. A 64 KiB GSO frame spans 9 buffers of 8 KiB (33 of
     * 2 KiB): fewer, larger buffers mean the device runs dry less often (each time it
     * waits for a refill kick) and less per-buffer work on both sides. Smaller values save
     * memory (rx_posted buffers are allocated); 128..65536, else VNET_E_INVAL. */
    uint32_t rx_mrg_buf_bytes;
    /* Frames the task delivers per batch before calling batch_fn and re-checking the
     * device; 0 -> 64. */
    uint16_t rx_budget;
    /* Interrupt deferral under load (the idea of Linux's napi_defer_hard_irqs): when the
     * task, since its wake-up, has delivered at least rx_defer_min_frames frames and the
     * backlog runs dry, it sleeps rx_defer_ms with RX interrupts still off and polls
     * again instead of re-arming at once; it re-arms only after a poll period that brought
     * fewer frames. Under sustained load: one wake-up per period, no interrupts; at light
     * load (small wake-ups) nothing changes, so no latency is added. rx_defer_ms 0 = off
     * (default); rx_defer_min_frames 0 -> rx_budget. Frames arriving during the sleep wait
     * in the device ring (rx_posted of them; more are dropped by the device). */
    uint16_t rx_defer_ms;
    uint16_t rx_defer_min_frames;

    /* RX task: priority in the OS's numbering (uC/OS-II: lower = more urgent). The stack
     * may be NULL (the port allocates) with stack_bytes 0 -> port default. */
    unsigned rx_task_prio;
    void *rx_task_stack;
    size_t rx_task_stack_bytes;

    virtio_net_rx_fn rx_fn; /* required */
    void *rx_arg;
    /* Optional receive offloads: when set, the driver negotiates GUEST_CSUM, GUEST_TSO4,
     * GUEST_TSO6 and MRG_RXBUF (each only if the device offers it and feature_allow
     * permits; GUEST_TSO* only together with MRG_RXBUF) and delivers every frame to
     * rx_hdr_fn (with rx_arg) instead of rx_fn. NULL: no receive offload is negotiated. */
    virtio_net_rx_hdr_fn rx_hdr_fn;
    /* Transmit offloads: negotiate CSUM, HOST_TSO4 and HOST_TSO6 (as offered/allowed), so
     * virtio_net_send_hdr() can pass partial checksums and GSO frames to the device. */
    bool tx_offloads;
    /* Poll mode (bare metal, a super-loop, a stack that polls): no RX task is created, RX
     * interrupts stay off, and the application calls virtio_net_poll(). Same counters and
     * guarantees as the task (no frame dropped for lack of software ring space). */
    bool rx_poll;
    /* Poll mode with wake-ups (needs rx_poll; else attach returns VNET_E_INVAL): after
     * virtio_net_poll_arm() the RX interrupt is on, and the ISR (which then copies and
     * recycles as in the task design) calls rx_wake_fn(rx_wake_arg) once. NULL: the
     * poller is never woken; interrupts stay off. */
    virtio_net_wake_fn rx_wake_fn;
    void *rx_wake_arg;
    virtio_net_batch_fn batch_fn; /* optional */
    void *batch_arg;
    virtio_net_link_fn link_fn; /* optional */
    void *link_arg;
    /* Optional TX space event (docs/tx-handshake.md). Needs a TX interrupt: the shared
     * line, or with MSI-X a table entry for queue 1 (virtio_transport_use_msix) routed to
     * virtio_net_tx_isr(). */
    virtio_net_tx_space_fn tx_space_fn;
    void *tx_space_arg;

    /* Feature bits (masks, VIRTIO_NET_F_* as 1ull << bit) the application allows the
     * driver to negotiate; 0 -> everything the driver supports. The driver never accepts
     * a feature it does not handle, whatever this says. */
    uint64_t feature_allow;

    /* MAC to use when the device offers none (no VIRTIO_NET_F_MAC). All-zero -> a random
     * locally administered unicast address. */
    uint8_t fallback_mac[6];
    /* Interrupts: wired by the board on the transport (virtio_transport_use_msix, or
     * the shared line by default); see the interrupt entry points below. With MSI-X and
     * no table entry for the TX queue (1), no TX interrupt arrives: virtio_net_send_wait()
     * then polls once per millisecond and tx_space_fn is never called. */
};

/* Buckets of virtio_net_stats.isr_hist: 2^32 cycles (~1 s at 4 GHz) tops any ISR. */
#define VIRTIO_NET_ISR_HIST_BUCKETS 32

/* Counters. Cleared by virtio_net_halt() except `resets`, which counts the device's
 * lifetime resets (halts and recoveries). docs/driver.md describes each. */
struct virtio_net_stats {
    uint32_t rx_queue_count;       /* frames waiting in the software ring now */
    uint32_t rx_queue_hwm;         /* highest rx_queue_count seen */
    uint64_t rx_queue_drops;       /* frames dropped because the software ring was full */
    uint64_t rx_packets, rx_bytes; /* frames/bytes delivered to rx_fn */
    uint64_t rx_bad_len;           /* used len shorter than the header or > max frame */
    uint64_t rx_bad_hdr;           /* offloads: malformed header (num_buffers, gso, csum offsets) */
    uint64_t rx_gso_packets;       /* offloads: GSO frames delivered to rx_hdr_fn */
    uint64_t tx_packets, tx_bytes; /* frames/bytes handed to the device */
    uint64_t tx_ring_full;         /* sends refused with VNET_E_BUSY */
    uint64_t tx_bytes_full;        /* ... of them because of tx_max_bytes (slots were free) */
    uint64_t tx_errors;            /* sends refused for other reasons (too big, state) */
    uint64_t tx_gso_packets;       /* GSO frames handed to the device (send_hdr) */
    uint64_t tx_gso_refused;       /* send_hdr GSO frames refused with VNET_E_UNSUPP */
    uint64_t tx_csum_sw;           /* NEEDS_CSUM checksums completed by the driver */
    uint64_t tx_space_arms;        /* ring full: a TX completion event was armed */
    uint64_t tx_space_events;      /* armed TX completion events delivered (ISR) */
    uint64_t tx_waits;             /* virtio_net_send_wait() blocked for space */
    uint64_t tx_wait_timeouts;     /* virtio_net_send_wait() gave up (VNET_E_TIMEOUT) */
    uint64_t tx_zc_packets;        /* virtio_net_forward(): sent from the received slot */
    uint64_t tx_zc_copies;         /* virtio_net_forward(): could not lend, copied instead */
    uint32_t rx_lent;              /* this device's slots out on TX rings now */
    uint64_t interrupts;           /* ISR invocations (any vector) */
    uint64_t spurious_interrupts;  /* invocations with nothing to do */
    uint64_t config_interrupts;    /* config-change notifications */
    uint64_t rx_kicks, tx_kicks;   /* device notifications actually written */
    uint64_t rx_kicks_deferred;    /* ISRs that left an RX refill notification to the task */
    uint64_t rx_task_wakeups;      /* semaphore posts that scheduled the RX task */
    uint64_t rx_task_batches;      /* batches delivered by the task */
    uint64_t recheck_hits;         /* re-enable found work already pending */
    uint64_t rx_defers;            /* re-arms deferred by a poll period (rx_defer_ms) */
    uint64_t task_serviced;        /* used RX entries serviced by the task, not the ISR */
    uint64_t isr_budget_exhausted; /* ISR left work to the task (isr_budget or _bytes) */
    uint64_t bad_used;             /* device-written used entries rejected (id/len/idx) */
    uint64_t resets;               /* device resets, lifetime (not cleared by halt) */
    uint32_t broken;               /* bit 0: RX queue broken, bit 1: TX queue broken */
    uint64_t isr_cycles_min, isr_cycles_max, isr_cycles_total; /* osal_cycles() units */
    /* Profile of the task side, osal_cycles() units, read per batch (not per frame):
     * rx_task_cycles = from the task's wake-up to its park (drain, leftover servicing,
     * handshake, rx_fn and batch_fn included); rx_fn_cycles = inside rx_fn and batch_fn
     * (for the router: the stack and its transmits). */
    uint64_t rx_task_cycles, rx_fn_cycles;
    /* RX interrupts taken while the RX task (or the poller) owned the queue: acknowledged
     * and counted only, the ring left to the owner (docs/rx-handshake.md "Ownership"). */
    uint64_t rx_irq_owned;
    /* Longest interrupts-off section, osal_cycles() units, per path: the ISR's (its whole
     * body), and the RX task's / poller's (constant work only: flags, indices, counters). */
    uint64_t irqoff_isr_cycles_max, irqoff_task_cycles_max;
    /* ISR duration histogram, log2 buckets: isr_hist[i] counts interrupts that lasted
     * [2^i, 2^(i+1)) osal_cycles() units (bucket 0 also holds 0; the last bucket is open
     * upwards). Exported as isr_hist_<i>; a percentile is read from the cumulative
     * counts (its upper bound is 2^(i+1)). */
    uint64_t isr_hist[VIRTIO_NET_ISR_HIST_BUCKETS];
};

/* Flags for virtio_net_send(). */
#define VIRTIO_NET_SEND_MORE                                                                       \
    0x1u /* more frames follow: defer the kick to a later send                                     \
            without this flag or to virtio_net_flush() */

/*
 * Allocate the driver instance, its semaphore and RX task (which waits, idle, until the
 * device is initialized). Touches no device register. Task context.
 * Returns VNET_OK, VNET_E_INVAL (missing transport/rx_fn, bad ring size), VNET_E_UNSUPP
 * (the transport's device is not a network device: its type is logged), VNET_E_NOMEM,
 * VNET_E_OS.
 */
vnet_err_t virtio_net_attach(struct virtio_net_dev **out, const struct virtio_net_config *cfg);

/* Halt if running, stop the RX task and wait for it to exit, free everything. Any task
 * but the device's own RX task (its callbacks): from there, or from an ISR, returns
 * VNET_E_CONTEXT at once. Serialised with initialize/halt; no call on the handle may
 * follow or overlap it. Unhook the device's interrupt handlers first (the handle is
 * freed). */
vnet_err_t virtio_net_detach(struct virtio_net_dev *dev);

/*
 * Bring the device up: reset (bounded wait), ACKNOWLEDGE, DRIVER, negotiate features,
 * FEATURES_OK check, queues, post RX buffers, DRIVER_OK. Clears the software ring and
 * stats. Any failure writes FAILED to the device status and returns a distinct error:
 * VNET_E_INVAL (interrupt wiring inconsistent, before the device is touched),
 * VNET_E_TIMEOUT (reset never completed), VNET_E_FEATURES, VNET_E_NOMEM, VNET_E_IO
 * (queue setup refused, e.g. MSI-X vector not accepted), VNET_E_RANGE (bad MTU/queue
 * size), VNET_E_STATE (already running). Context: any task, at any time (concurrent
 * initialize/halt calls are serialised by a control lock); from an ISR or from this
 * device's own callbacks (rx_fn, rx_hdr_fn, batch_fn, link_fn) VNET_E_CONTEXT at once.
 */
vnet_err_t virtio_net_initialize(struct virtio_net_dev *dev);

/*
 * Reset the device, reclaim every buffer, free the queues, clear the software ring and
 * stats (except `resets`). Safe while frames are arriving; the RX task stays parked.
 * virtio_net_initialize() may be called again afterwards. VNET_E_STATE when already
 * halted. Context as virtio_net_initialize() (VNET_E_CONTEXT from an ISR or this device's
 * callbacks: halt waits for the RX task to park, so it would wait for itself).
 */
vnet_err_t virtio_net_halt(struct virtio_net_dev *dev);

/*
 * Copy one Ethernet frame (no virtio-net header) into a TX slot and post it. Reclaims
 * completed slots first. Kicks the device unless VIRTIO_NET_SEND_MORE is given.
 * Returns VNET_OK, VNET_E_BUSY (ring full: retry later), VNET_E_TOOBIG, VNET_E_INVAL,
 * VNET_E_STATE (not initialized), VNET_E_BROKEN. Task context (several tasks may send to
 * one device concurrently).
 */
vnet_err_t virtio_net_send(struct virtio_net_dev *dev, const void *frame, size_t len,
                           unsigned flags);

/*
 * virtio_net_send() with a virtio-net header (hdr NULL: same as virtio_net_send). The
 * header is validated and passed to the device unchanged (num_buffers written as 0):
 *  - GSO frame: its gso_type must have been negotiated on this device (HOST_TSO4/6),
 *    gso_size != 0 and len <= VIRTIO_NET_GSO_MAX_FRAME; else VNET_E_UNSUPP (counted in
 *    tx_gso_refused) so the caller can segment or drop it.
 *  - NEEDS_CSUM without VIRTIO_NET_F_CSUM negotiated: the driver completes the checksum
 *    in software and sends the frame without the flag.
 *  - csum_start/csum_offset outside the frame, or another malformed header: VNET_E_INVAL
 *    (counted in tx_errors). Never sends a frame the header does not describe.
 * Other returns as virtio_net_send(). Task context.
 */
vnet_err_t virtio_net_send_hdr(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                               const void *frame, size_t len, unsigned flags);

/*
 * Poll mode (cfg.rx_poll): service the RX queue and deliver up to `budget` frames (0 ->
 * rx_budget) to the receive callbacks on the calling task, handle a link change, write a
 * pending refill notification. Returns the frames delivered (>= 0), VNET_E_STATE (not
 * running, or not in poll mode), VNET_E_BUSY (another poll is running on this device),
 * VNET_E_CONTEXT (from an ISR). Task context; callbacks run inside it, and must not call
 * it again. Interrupts stay off: call it often enough for the traffic (frames beyond the
 * posted buffers are dropped by the device, never by the driver).
 */
int virtio_net_poll(struct virtio_net_dev *dev, unsigned budget);

/*
 * Poll mode with wake-ups (cfg.rx_wake_fn): call when virtio_net_poll() has drained the
 * backlog (it delivered fewer frames than the budget), before the calling task blocks.
 * Runs the RX task's re-enable handshake (docs/rx-handshake.md: interrupts on, full
 * barrier, re-check). Returns 0 when the device is armed: the ISR calls rx_wake_fn once
 * when there is work (or already has), so the caller may block until then; 1 when work
 * arrived meanwhile: interrupts stay off, poll again. 0 also when already armed. The next
 * virtio_net_poll() takes the queue back from the ISR, woken or not. VNET_E_STATE (not
 * running, not in poll mode, or no rx_wake_fn), VNET_E_BUSY (a poll of this device is
 * running), VNET_E_CONTEXT (from an ISR), VNET_E_INVAL (NULL). Task context.
 */
int virtio_net_poll_arm(struct virtio_net_dev *dev);

/*
 * virtio_net_send_hdr() that waits for TX space instead of returning VNET_E_BUSY: when
 * the ring is full it kicks what SEND_MORE deferred, arms a TX completion event and
 * blocks on it (osal_sem_wait), then retries. timeout_ms bounds each wait for space (0 =
 * forever): VNET_E_TIMEOUT when no space returned for that long (a stalled device).
 * VNET_E_STATE when the device is halted meanwhile (the sender is woken at once; nothing
 * of the frame stays with the driver). Other returns as virtio_net_send_hdr(). Task
 * context (blocks); several senders may wait on one device. From an ISR it never blocks:
 * one attempt, exactly virtio_net_send_hdr().
 */
vnet_err_t virtio_net_send_wait(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                                const void *frame, size_t len, unsigned flags, uint32_t timeout_ms);

/*
 * Zero-copy forwarding: virtio_net_send_wait() on `out` of a frame that `in` is
 * delivering, without copying it. Call it from in's rx_fn/rx_hdr_fn with `frame` inside
 * the delivered frame's slot (the frame as delivered, or moved or shortened within its
 * slot). The slot itself goes on out's TX ring (its header written in the headroom in
 * front of the frame) and stays there until the device has sent it; in's software ring
 * takes a spare slot in its place (cfg.rx_lend_bufs of in). After VNET_OK the caller must
 * not write the frame any more (reading it is fine until the callback returns); on any
 * other return nothing was lent and the frame is the caller's, as before.
 *
 * When the frame cannot be lent it is copied, exactly virtio_net_send_wait(), counted in
 * out's tx_zc_copies: `in` NULL or not lending (rx_lend_bufs 0), no spare slot left, the
 * call not from in's callback or `frame` not in the delivered slot, out a legacy device
 * without ANY_LAYOUT (its header needs a descriptor of its own), or lent frames of `in`
 * already on VIRTIO_NET_LEND_PEERS other devices. Returns as virtio_net_send_wait().
 *
 * Lent slots come back when out's chains are reclaimed (on out's next sends), or when out
 * is halted. Halting `in` first takes back its lent slots (reclaiming out's TX ring; on
 * VNET_E_TIMEOUT, out's device never completed them and in's memory stays allocated until
 * a repeated halt succeeds). Halts and detaches of devices that forward to each other
 * must not run concurrently with each other. Task context (in's RX task or poller).
 */
vnet_err_t virtio_net_forward(struct virtio_net_dev *out, struct virtio_net_dev *in,
                              const struct virtio_net_hdr *hdr, void *frame, size_t len,
                              unsigned flags, uint32_t timeout_ms);

/* Kick the device for frames posted with VIRTIO_NET_SEND_MORE. Task context. */
vnet_err_t virtio_net_flush(struct virtio_net_dev *dev);

/*
 * Interrupt entry points, called by the board between OSIntEnter()/OSIntExit(). ISR.
 * virtio_net_isr: shared line (reads/acks ISR status, then RX, TX event and config work).
 * virtio_net_rx_isr / virtio_net_config_isr / virtio_net_tx_isr: MSI-X, for the table
 * entries the board gave virtqueue 0 (RX), configuration changes and (optionally)
 * virtqueue 1 (TX) with virtio_transport_use_msix(). initialize refuses (VNET_E_INVAL) a
 * transport left on its shared line whose function has MSI-X enabled.
 */
void virtio_net_isr(struct virtio_net_dev *dev);
void virtio_net_rx_isr(struct virtio_net_dev *dev);
void virtio_net_config_isr(struct virtio_net_dev *dev);
/* MSI-X entry of the TX queue (virtio_transport_use_msix, queue 1): delivers the armed TX
 * completion event (tx_space_fn, wakes virtio_net_send_wait); never reclaims
 * (docs/tx-handshake.md). */
void virtio_net_tx_isr(struct virtio_net_dev *dev);

/* Snapshot of the counters (consistent per field, not across fields). Task or ISR. */
vnet_err_t virtio_net_get_stats(const struct virtio_net_dev *dev, struct virtio_net_stats *out);

/* Visit every counter as (name, value), names as in struct virtio_net_stats, for shells
 * and `key=value` output. Task. */
typedef void (*virtio_net_stat_visit_fn)(void *arg, const char *name, uint64_t value);
void virtio_net_stats_foreach(const struct virtio_net_dev *dev, virtio_net_stat_visit_fn fn,
                              void *arg);

/* One virtqueue's indices, for diagnosing a stalled queue (see docs/driver.md). */
struct virtio_net_queue_state {
    uint16_t size, num_free;
    uint16_t avail_idx, published;    /* next slot to fill; avail->idx last written */
    uint16_t last_used, used_idx;     /* next used entry to take; used->idx from the device */
    uint16_t used_event, avail_event; /* EVENT_IDX fields (driver-, device-written) */
    uint16_t avail_flags, used_flags;
    bool cb_disabled, event_idx;
    uint8_t broken; /* 0, or why the queue was marked broken */
};

/* Driver state behind the RX hand-off and the TX ring, for diagnostics. */
struct virtio_net_debug_state {
    bool running;
    bool task_scheduled; /* RX task posted or running */
    bool task_active;    /* RX task between wake-up and parking */
    bool link_event;
    uint32_t sw_head, sw_tail, sw_size;     /* software ring (free-running indices) */
    uint16_t tx_free, tx_unkicked;          /* free TX slots; posted with SEND_MORE, unkicked */
    uint32_t broken;                        /* VNET_BROKEN_* bits */
    struct virtio_net_queue_state rxq, txq; /* zero while not running */
};

/* Snapshot of the hand-off and ring state (RX under the critical section, TX under the
 * TX lock). VNET_E_INVAL for NULL arguments. Task. */
vnet_err_t virtio_net_get_debug_state(struct virtio_net_dev *dev,
                                      struct virtio_net_debug_state *out);

vnet_err_t virtio_net_get_mac(const struct virtio_net_dev *dev, uint8_t mac[6]);
/* true up, false down (VIRTIO_NET_F_STATUS negotiated), true if the device has no link
 * status; false for NULL. */
bool virtio_net_link_up(const struct virtio_net_dev *dev);
/* Negotiated feature bits (masks); 0 when not initialized. */
uint64_t virtio_net_features(const struct virtio_net_dev *dev);
/* MTU in use (device's VIRTIO_NET_F_MTU value when negotiated, else 1500). */
uint16_t virtio_net_mtu(const struct virtio_net_dev *dev);
/* True while initialized (between a successful initialize and halt). */
bool virtio_net_is_running(const struct virtio_net_dev *dev);

#endif /* VNET_VIRTIO_NET_H */
