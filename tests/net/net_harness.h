/*
 * Shared set-up for the simulated-device driver tests: one simulated device, the real
 * transport for its bus, the driver attached with its interrupt wired through the POSIX
 * port, and a receive callback that checks every frame's integrity and order.
 */
#ifndef VNET_TESTS_NET_HARNESS_H
#define VNET_TESTS_NET_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "simdev.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_transport.h"
#include "osal.h"

struct nh_opts {
    enum simdev_transport transport;
    enum simdev_irq_mode irq_mode;
    enum simdev_tx_mode tx_mode;
    uint64_t device_features; /* 0 -> simulator default */
    uint64_t feature_allow;   /* 0 -> everything the driver supports */
    uint16_t queue_size;      /* 0 -> 256 */
    uint16_t rx_sw_ring_entries, rx_posted, tx_slots, isr_budget, rx_budget;
    uint16_t rx_defer_ms, rx_defer_min_frames; /* cfg fields of the same names */
    uint32_t isr_budget_bytes;                 /* cfg field of the same name */
    uint32_t rx_mrg_buf_bytes;                 /* cfg field of the same name */
    uint32_t tx_max_bytes;                     /* cfg field of the same name */
    bool keep_tx_frames;
    bool rx_hdr;      /* configure rx_hdr_fn (receive offloads) instead of rx_fn delivery */
    bool tx_offloads; /* cfg.tx_offloads */
    bool no_init;     /* attach only; the test calls virtio_net_initialize itself */
    bool rx_poll;     /* cfg.rx_poll: no RX task, the test calls virtio_net_poll */
    /* With rx_poll: cfg.rx_wake_fn posts this semaphore (several devices may share one)
     * and counts the call in nh.rx_wake_calls; NULL: no wake-up (interrupts stay off). */
    osal_sem_t *rx_wake_sem;
    bool tx_vector; /* MSI-X: TX queue on vector 2, routed to virtio_net_tx_isr */
    bool tx_hold;   /* simdev tx_hold: TX chains complete only through simdev_tx_complete */
    /* cfg field of the same name (spare slots for virtio_net_forward) */
    uint16_t rx_lend_bufs;
    /* For several devices open at once, each needs its own of both: the POSIX port IRQ
     * numbers start at irq_base (simdev_config.irq_base, 4 apart at least); 0 -> 8. The
     * RX task priority (cfg field, unique per task on the POSIX port as on uC/OS-II);
     * 0 -> 5. */
    unsigned irq_base;
    unsigned rx_task_prio;
};

/* Receive bookkeeping, written by rx_fn (RX task), read by the test thread. */
struct nh_rx {
    uint64_t frames, bytes;
    uint64_t corrupt;      /* failed simdev_frame_check */
    uint64_t out_of_order; /* seq not greater than the previous one */
    uint64_t gaps;         /* sum of (seq - previous - 1): frames never delivered */
    uint64_t batches;      /* batch_fn calls */
    uint32_t last_seq;
    bool any;
    uint64_t link_events;
    bool link_up;
    uint64_t hdr_frames;            /* frames delivered through rx_hdr_fn */
    struct virtio_net_hdr last_hdr; /* header of the last of them */
};

struct nh {
    struct simdev *sim;
    struct virtio_transport *tr;
    struct virtio_net_dev *dev;
    struct nh_opts opts;
    unsigned irq_shared, irq_cfg, irq_rx, irq_tx;
    /* cfg.tx_space_fn calls (ISR context), read with __atomic loads. */
    unsigned tx_space_calls;
    /* cfg.rx_wake_fn calls (ISR context), read with __atomic loads. */
    unsigned rx_wake_calls;
    struct nh_rx rx;
    /* Optional extra per-frame action in rx_fn (e.g. a gate that blocks the task). */
    void (*on_rx)(struct nh *h, const uint8_t *frame, size_t len);
    /* With rx_hdr: called first with the header (then the rx_fn checks run as usual). */
    void (*on_rx_hdr)(struct nh *h, const struct virtio_net_hdr *hdr, uint8_t *frame, size_t len);
    /* Checks run by rx_fn are off (frames are not simdev_frame_build frames). */
    bool raw_frames;
};

/* VNET_OK or the first failing step's error (printed). */
int nh_open(struct nh *h, const struct nh_opts *o);
/* Halt, detach, destroy; returns true when nothing leaked and the device saw no protocol
 * violation (both printed otherwise). */
bool nh_close(struct nh *h);
/* With several devices open: nh_close without the process-wide leak check (the others
 * still hold memory), then nh_no_leaks() once the last one is closed. */
bool nh_close_one(struct nh *h);
/* True when no DMA or heap block of the POSIX port is outstanding (printed otherwise). */
bool nh_no_leaks(void);

/* Build a simdev_frame_build frame (seq, dst) in buf and inject it on h's device, with
 * the virtio-net header hdr (NULL: a zero one). Returns simdev_rx_inject_ex's result. */
int nh_inject_built(struct nh *h, uint8_t *buf, size_t len, uint32_t seq, const uint8_t dst[6],
                    const struct virtio_net_hdr *hdr);

/* Consistent copy of the receive bookkeeping. */
void nh_rx_snapshot(struct nh *h, struct nh_rx *out);
/* Wait until rx.frames >= n (true) or timeout_ms passed (false). */
bool nh_wait_frames(struct nh *h, uint64_t n, uint32_t timeout_ms);
/* Wait until rx.frames + the driver's rx_queue_drops >= n (every frame the device
 * delivered is accounted for), true, or timeout_ms passed, false. */
bool nh_wait_accounted(struct nh *h, uint64_t n, uint32_t timeout_ms);
/* Wait until the RX task is idle: software ring empty and task parked (bounded). */
bool nh_wait_idle(struct nh *h, uint32_t timeout_ms);
/* Current token count of the driver's semaphore (white-box, POSIX port). */
unsigned nh_sem_count(struct nh *h);
/* Count of a POSIX-port semaphore (the poller's wake semaphore). */
unsigned nh_osal_sem_count(osal_sem_t *sem);

/*
 * One thread serving several poll-mode devices with wake-ups (rx_poll + rx_wake_sem), as
 * an application's single network task would: virtio_net_poll() each device, and when
 * none had a full batch, virtio_net_poll_arm() each; block on `sem` only when every one
 * is armed. The wait is bounded at 30 s, so a lost wake-up shows as frames that do not
 * arrive within a test's seconds, not as a hang.
 */
#define NH_POLLER_MAX 4
struct nh_poller {
    struct nh *devs[NH_POLLER_MAX];
    unsigned n;
    osal_sem_t *sem;
    unsigned budget;
    int stop;                           /* __atomic */
    uint64_t passes, arms_again, waits; /* written by the poller, read after stop */
    uint64_t errors;                    /* negative returns of poll/poll_arm */
    pthread_t th;
};
int nh_poller_start(struct nh_poller *p);
void nh_poller_stop(struct nh_poller *p);
void nh_sleep_ms(unsigned ms);
uint64_t nh_now_ms(void);

#endif
