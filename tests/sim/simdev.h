/*
 * Simulated virtio-net device for host tests (test-only library `vnet_simdev`).
 *
 * The model sits behind the board bus interfaces (struct virtio_pci_bus for PCI modern,
 * transitional and legacy; struct virtio_mmio_bus for MMIO v2 and v1), so the production
 * transports and driver run unchanged against it. It walks the REAL rings in host memory
 * through osal_posix_dma_ptr(): an address outside every live DMA allocation is a driver
 * bug, recorded as a violation (the device then sets DEVICE_NEEDS_RESET and stops, as
 * QEMU does on a malformed ring).
 *
 * Threads: every function here is thread-safe (one internal mutex). Interrupts are raised
 * with osal_posix_irq_raise() AFTER that mutex is dropped, so ISRs may call back into the
 * device. IRQ numbering on the POSIX port:
 *   irq_base          the shared line (PCI INTx with ISR status, or the MMIO interrupt)
 *   irq_base + 1 + v  MSI-X table entry v (PCI with irq_mode SIMDEV_IRQ_MSIX)
 *
 * Queues: 0 = receiveq1, 1 = transmitq1 (no control queue, one pair).
 * Virtio-net header: 12 bytes with VERSION_1 or MRG_RXBUF negotiated, else 10; the device
 * writes a zero header (or the one given to simdev_rx_inject_ex; num_buffers set) in front
 * of each RX frame, and checks (SIMDEV_V_TX_HDR) and keeps the header of each TX frame.
 */
#ifndef VNET_TESTS_SIMDEV_H
#define VNET_TESTS_SIMDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vnet/virtio_mmio_bus.h"
#include "vnet/virtio_net.h"
#include "vnet/virtio_pci_bus.h"

struct simdev;

/* Return codes (negative = failure). */
#define SIMDEV_OK         0
#define SIMDEV_E_NOBUF    (-1) /* no RX buffer posted: frame not delivered (counted) */
#define SIMDEV_E_NOTREADY (-2) /* driver not DRIVER_OK, queue not enabled, or NEEDS_RESET */
#define SIMDEV_E_TOOSMALL (-3) /* posted buffer too small for header + frame (violation) */
#define SIMDEV_E_INVAL    (-4)
#define SIMDEV_E_NOMEM    (-5)
#define SIMDEV_E_TIMEOUT  (-6)

enum simdev_transport {
    SIMDEV_PCI_MODERN = 0,   /* device id 0x1041, virtio capabilities only */
    SIMDEV_PCI_TRANSITIONAL, /* device id 0x1000: capabilities and legacy I/O BAR 0 */
    SIMDEV_PCI_LEGACY,       /* device id 0x1000, I/O BAR 0 only (no VERSION_1) */
    SIMDEV_MMIO_V2,
    SIMDEV_MMIO_V1, /* legacy MMIO: GuestPageSize, QueueAlign, QueuePFN */
};

enum simdev_irq_mode {
    SIMDEV_IRQ_SHARED = 0, /* PCI: MSI-X capability present but disabled; ISR status */
    SIMDEV_IRQ_MSIX = 1,   /* PCI only: MSI-X enabled by the "board" (this config) */
};

enum simdev_tx_mode {
    SIMDEV_TX_SYNC = 0, /* TX processed inside the notify call, on the notifier's thread */
    SIMDEV_TX_THREAD,   /* notify wakes the device thread, which processes TX */
};

/* virtio-net feature masks the model knows (spec 5.1.3). */
#define SIMDEV_F_CSUM       (1ull << 0)
#define SIMDEV_F_GUEST_CSUM (1ull << 1)
#define SIMDEV_F_MTU        (1ull << 3)
#define SIMDEV_F_MAC        (1ull << 5)
#define SIMDEV_F_GUEST_TSO4 (1ull << 7)
#define SIMDEV_F_GUEST_TSO6 (1ull << 8)
#define SIMDEV_F_GUEST_ECN  (1ull << 9)
#define SIMDEV_F_GUEST_UFO  (1ull << 10)
#define SIMDEV_F_HOST_TSO4  (1ull << 11)
#define SIMDEV_F_HOST_TSO6  (1ull << 12)
#define SIMDEV_F_HOST_ECN   (1ull << 13)
#define SIMDEV_F_HOST_UFO   (1ull << 14)
#define SIMDEV_F_MRG_RXBUF  (1ull << 15)
#define SIMDEV_F_STATUS     (1ull << 16)
#define SIMDEV_F_EVENT_IDX  (1ull << 29)
#define SIMDEV_F_VERSION_1  (1ull << 32)
/* Offered when simdev_config.features is 0 (VERSION_1 dropped for SIMDEV_PCI_LEGACY and
 * SIMDEV_MMIO_V1, which cannot negotiate it). */
#define SIMDEV_DEFAULT_FEATURES                                                                    \
    (SIMDEV_F_MAC | SIMDEV_F_STATUS | SIMDEV_F_MTU | SIMDEV_F_EVENT_IDX | SIMDEV_F_VERSION_1)
/* What QEMU's virtio-net-pci on a tap backend offers for offloads (add to the above). */
#define SIMDEV_OFFLOAD_FEATURES                                                                    \
    (SIMDEV_F_CSUM | SIMDEV_F_GUEST_CSUM | SIMDEV_F_GUEST_TSO4 | SIMDEV_F_GUEST_TSO6 |             \
     SIMDEV_F_GUEST_ECN | SIMDEV_F_GUEST_UFO | SIMDEV_F_HOST_TSO4 | SIMDEV_F_HOST_TSO6 |           \
     SIMDEV_F_HOST_ECN | SIMDEV_F_HOST_UFO | SIMDEV_F_MRG_RXBUF)
/* Largest frame the model delivers or accepts (above VIRTIO_NET_GSO_MAX_FRAME, so tests
 * can offer an oversized one). */
#define SIMDEV_MAX_FRAME 70000u

struct simdev_config {
    enum simdev_transport transport;
    uint64_t features;                     /* offered feature masks; 0 -> SIMDEV_DEFAULT_FEATURES */
    uint8_t mac[6];                        /* all-zero -> 52:54:00:12:34:56 */
    uint16_t mtu;                          /* config-space MTU (with SIMDEV_F_MTU); 0 -> 1500 */
    bool link_down;                        /* initial link state; up by default */
    uint16_t rx_queue_size, tx_queue_size; /* max sizes (powers of two); 0 -> 256 */
    enum simdev_irq_mode irq_mode;
    unsigned irq_base;     /* see the header comment; must leave room for the vectors */
    uint16_t msix_vectors; /* MSI-X table size; 0 -> 3 */
    enum simdev_tx_mode tx_mode;
    bool keep_tx_frames; /* keep copies of transmitted frames for simdev_tx_pop() */
    size_t keep_tx_max;  /* max kept copies (oldest dropped beyond); 0 -> 1024 */
    bool tx_hold;        /* TX notifications are counted but process nothing: the test
                            completes TX chains itself with simdev_tx_complete() */
};

/* Create / destroy. create: SIMDEV_OK, SIMDEV_E_INVAL, SIMDEV_E_NOMEM. The device thread
 * starts at once (idle until needed). destroy stops it; the driver must be detached. */
int simdev_create(struct simdev **out, const struct simdev_config *cfg);
void simdev_destroy(struct simdev *dev);

/* Bus tables to hand to virtio_pci_transport_create() / virtio_mmio_transport_create().
 * NULL if the device is not of that bus kind. Valid until simdev_destroy(). */
const struct virtio_pci_bus *simdev_pci_bus(struct simdev *dev);
const struct virtio_mmio_bus *simdev_mmio_bus(struct simdev *dev);
/* The IRQ number of the shared line and of MSI-X table entry v (POSIX port numbering). */
unsigned simdev_irq_shared(const struct simdev *dev);
unsigned simdev_irq_vector(const struct simdev *dev, uint16_t vector);

/* --- receive (device -> driver) ------------------------------------------------------ */

/* Deliver one frame (no virtio-net header) now, on the calling thread; the interrupt (if
 * the driver did not suppress it) is raised before returning. SIMDEV_OK, SIMDEV_E_NOBUF,
 * SIMDEV_E_NOTREADY, SIMDEV_E_TOOSMALL, SIMDEV_E_INVAL (len 0 or > SIMDEV_MAX_FRAME).
 * With MRG_RXBUF the frame spans as many posted buffers as it needs, all published with
 * one used->idx update (as QEMU does). */
int simdev_rx_inject(struct simdev *dev, const void *frame, size_t len);

/* Options of simdev_rx_inject_ex(): the header to write, and malformed headers/lengths. */
struct simdev_rx_opts {
    const struct virtio_net_hdr *hdr; /* written in front of the frame (num_buffers replaced
                                         by the real count); NULL: all zero */
    bool set_num_buffers;             /* write num_buffers below instead of the real count */
    uint16_t num_buffers;
    bool set_first_len; /* report first_len (capped at the buffer) as the first used len */
    uint32_t first_len;
};
int simdev_rx_inject_ex(struct simdev *dev, const void *frame, size_t len,
                        const struct simdev_rx_opts *o);

/* Background RX generator on the device thread: frames built by simdev_frame_build()
 * with consecutive sequence numbers from 0. */
struct simdev_rx_gen {
    uint64_t count;            /* frames to generate */
    uint32_t pps;              /* frames per second; 0 = as fast as buffers allow */
    uint16_t min_len, max_len; /* frame length range (>= SIMDEV_FRAME_MIN); 0 -> 60..1514 */
    uint16_t batch;            /* frames delivered per interrupt decision; 0 -> 1 */
    bool wait_for_buffers;     /* true: wait (for a kick, bounded) instead of dropping */
    uint32_t stall_ms;         /* wait_for_buffers: give up after this long without progress;
                                  0 -> 2000 */
    bool kick_only;            /* wait_for_buffers: once out of buffers, look again only
                                  after an RX notification (as QEMU stops reading its
                                  backend until the kick), never on a timer: a lost
                                  notification stalls until stall_ms (rx_no_buffer) */
    uint8_t dst_mac[6];        /* destination MAC written into frames; zero -> the device MAC */
};
int simdev_rx_gen_start(struct simdev *dev, const struct simdev_rx_gen *gen);
/* Wait until the generator finished (SIMDEV_OK) or timeout (SIMDEV_E_TIMEOUT). */
int simdev_rx_gen_wait(struct simdev *dev, uint32_t timeout_ms);
void simdev_rx_gen_stop(struct simdev *dev);

/* --- transmit (driver -> device) ----------------------------------------------------- */

/* Process the TX ring now (as a notify would, but without counting a kick). Returns the
 * number of frames consumed. Useful in SIMDEV_TX_THREAD mode tests and for polling. */
int simdev_tx_process(struct simdev *dev);
/* Consume at most `max` published TX chains (0: all) and make the interrupt decision
 * for them as a device would (2.7.10), on the calling thread. Returns chains consumed.
 * With tx_hold this is the only way TX chains complete. */
int simdev_tx_complete(struct simdev *dev, unsigned max);
/* Pop the oldest kept TX frame (keep_tx_frames): copies at most cap bytes into buf and
 * sets *len to the frame's full length. SIMDEV_OK or SIMDEV_E_NOBUF (none kept). */
int simdev_tx_pop(struct simdev *dev, void *buf, size_t cap, size_t *len);
/* The same, with the frame's virtio-net header as the driver wrote it (hdr may be NULL). */
int simdev_tx_pop_hdr(struct simdev *dev, struct virtio_net_hdr *hdr, void *buf, size_t cap,
                      size_t *len);

/* --- frames with sequence numbers ---------------------------------------------------- */

#define SIMDEV_FRAME_MIN 60u
#define SIMDEV_ETHERTYPE 0x88B5u /* IEEE local experimental */
/* Build an integrity-checked frame of `len` bytes (>= SIMDEV_FRAME_MIN) into buf:
 * dst, src 02:00:00:00:00:01, ethertype 0x88B5, magic, seq, length, pattern, checksum. */
void simdev_frame_build(uint8_t *buf, size_t len, uint32_t seq, const uint8_t dst[6]);
/* 0 when buf holds an intact frame built by simdev_frame_build (seq stored), else -1. */
int simdev_frame_check(const uint8_t *buf, size_t len, uint32_t *seq);

/* --- link and configuration ---------------------------------------------------------- */

/* Change the link state in config space, bump config generation and raise a config
 * change interrupt (when DRIVER_OK). */
void simdev_set_link(struct simdev *dev, bool up);

/*
 * Start the device's ring indices for `queue` at `start` (match virtq_test_set_indices).
 * Applies from the next time the queue is enabled; persists across resets.
 */
void simdev_set_start_idx(struct simdev *dev, unsigned queue, uint16_t start);

/* Raw write into PCI configuration space, bypassing write masks (tests corrupt the
 * capability list with it). Width 1, 2 or 4. */
void simdev_pci_cfg_poke(struct simdev *dev, uint16_t off, uint8_t width, uint32_t val);

/* --- misbehaviour on request --------------------------------------------------------- */

enum simdev_fault {
    SIMDEV_FAULT_NONE = 0, /* clear every persistent fault */
    /* One-shot, at the next completion on `queue`: */
    SIMDEV_FAULT_BAD_USED_ID,   /* used id = queue size + arg */
    SIMDEV_FAULT_BAD_USED_LEN,  /* used len = posted writable length + 1 + arg */
    SIMDEV_FAULT_DUP_USED,      /* the completion is written twice */
    SIMDEV_FAULT_USED_IDX_JUMP, /* used idx advanced by queue size + 1 extra */
    /* Immediate: */
    SIMDEV_FAULT_NEEDS_RESET, /* set DEVICE_NEEDS_RESET, raise config interrupt, stop */
    /* Persistent until SIMDEV_FAULT_NONE: */
    SIMDEV_FAULT_RESET_REFUSED,       /* writing status 0 is ignored (never reads 0) */
    SIMDEV_FAULT_FEATURES_OK_CLEARED, /* FEATURES_OK never sticks */
    SIMDEV_FAULT_MSIX_REFUSED,        /* every MSI-X vector write reads back NO_VECTOR */
    SIMDEV_FAULT_CFG_GEN_UNSTABLE,    /* config generation changes on every read */
};
void simdev_misbehave(struct simdev *dev, enum simdev_fault fault, unsigned queue, uint32_t arg);

/* --- driver protocol checks ---------------------------------------------------------- */

/* Violations, as bits of simdev_violations(). */
#define SIMDEV_V_STATUS_ORDER        (1u << 0)  /* status bits out of order / dropped */
#define SIMDEV_V_FEATURES_NOT_SUBSET (1u << 1)  /* FEATURES_OK with unoffered features */
#define SIMDEV_V_NO_VERSION_1        (1u << 2)  /* modern interface without VERSION_1 */
#define SIMDEV_V_QUEUE_LATE          (1u << 3)  /* queue programmed after DRIVER_OK */
#define SIMDEV_V_QUEUE_EARLY         (1u << 4)  /* queue programmed before FEATURES_OK */
#define SIMDEV_V_QUEUE_CFG           (1u << 5)  /* bad queue size / alignment / address */
#define SIMDEV_V_BUF_TOO_SMALL       (1u << 6)  /* RX buffer < header + frame, TX < header */
#define SIMDEV_V_BAD_DMA             (1u << 7)  /* address not inside a live allocation */
#define SIMDEV_V_BAD_CHAIN           (1u << 8)  /* loop, next out of range, order, flags */
#define SIMDEV_V_MISSED_KICK         (1u << 9)  /* published, device wanted a kick, none */
#define SIMDEV_V_EARLY_NOTIFY        (1u << 10) /* notify before DRIVER_OK */
#define SIMDEV_V_BAD_ACCESS          (1u << 11) /* register accessed with a wrong width */
#define SIMDEV_V_FEATURES_LATE       (1u << 12) /* features written after FEATURES_OK */
#define SIMDEV_V_TX_HDR              (1u << 13) /* TX header uses an offload not negotiated */
#define SIMDEV_V_COUNT               14

uint32_t simdev_violations(const struct simdev *dev);
uint64_t simdev_violation_count(const struct simdev *dev, uint32_t bit);
/* Copy of the last violation's description ("" if none). */
void simdev_last_violation(const struct simdev *dev, char *buf, size_t cap);
/* Forget recorded violations (e.g. after a test provoked one on purpose). */
void simdev_clear_violations(struct simdev *dev);

/*
 * Missed-kick check at a quiescent point (the driver is idle): for each queue, entries
 * published since the device last looked, which the device's suppression state said it
 * wanted a notification for, but none came. Records SIMDEV_V_MISSED_KICK and returns the
 * number of queues affected.
 */
int simdev_check_kicks(struct simdev *dev);

/* --- observation --------------------------------------------------------------------- */

struct simdev_stats {
    uint64_t kicks[2];           /* notifications received, per queue */
    uint64_t irqs[2];            /* used-buffer interrupts raised, per queue */
    uint64_t irqs_suppressed[2]; /* used-buffer interrupts the driver suppressed */
    uint64_t irqs_no_vector;     /* MSI-X mode, queue without a vector: nothing raised */
    uint64_t config_irqs;
    uint64_t rx_frames, rx_bytes;  /* delivered */
    uint64_t rx_no_buffer;         /* not delivered: no buffer posted */
    uint64_t rx_too_small;         /* not delivered: buffer too small */
    uint64_t rx_gen_sent;          /* generator frames delivered */
    uint64_t tx_frames, tx_bytes;  /* consumed (bytes without virtio-net header) */
    uint64_t tx_valid, tx_invalid; /* TX frames passing / failing simdev_frame_check */
    uint64_t tx_out_of_order;      /* valid TX frames whose seq != previous + 1 */
    uint64_t tx_kept_dropped;      /* kept copies discarded because keep_tx_max hit */
    uint64_t resets;               /* status 0 writes that reset the device */
    uint64_t isr_reads;            /* ISR status reads (PCI) / InterruptACK writes (MMIO) */
};
void simdev_get_stats(const struct simdev *dev, struct simdev_stats *out);

uint8_t simdev_status(const struct simdev *dev);
uint64_t simdev_driver_features(const struct simdev *dev); /* as last written */
/* Negotiated size of `queue` (0 when not enabled), and its MSI-X vector. */
uint16_t simdev_queue_size(const struct simdev *dev, unsigned queue);
uint16_t simdev_queue_vector(const struct simdev *dev, unsigned queue);
uint16_t simdev_config_vector(const struct simdev *dev);
/* The device's used index for `queue` (how far it completed). */
uint16_t simdev_used_idx(const struct simdev *dev, unsigned queue);

#endif /* VNET_TESTS_SIMDEV_H */
