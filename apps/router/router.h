/*
 * Router firmware: what the startup code (router_main.c) and the console shell
 * (router_shell.c) share. Only router_main.c talks to the board; the shell reaches the
 * console and the NICs through the functions declared here.
 */
#ifndef ROUTER_H
#define ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "router_cfg.h"
#include "vnet/virtio_net.h"
#include "net/net_stack.h"

enum router_side {
    ROUTER_LAN = 0, /* first virtio-net PCI function in bus/device/function order */
    ROUTER_WAN = 1, /* second one */
    ROUTER_NSIDES = 2,
};

/* One NIC of the router: the driver instance, its stack interface and the RX-task policy
 * state. Written by router_main.c during startup; afterwards the shell reads it and only
 * `reinit` changes the device state (through the driver's own API). */
struct router_nic {
    const char *name; /* "lan" / "wan": console names and stack interface names */
    struct virtio_transport *tr;
    struct virtio_net_dev *dev;
    struct net_if *nif;
    bool found;        /* a virtio-net function was found for this side */
    bool msix;         /* interrupts arrive as MSI-X vectors (else shared INTx) */
    unsigned irq_info; /* MSI-X: first CPU vector; INTx: IOAPIC input (for ifconfig) */
    unsigned pci_bdf;  /* bus << 8 | dev << 3 | fn */
    unsigned rx_prio;  /* RX task priority */

    /* RX-task fairness (see router_rx_batch): owned by this NIC's RX task. */
    uint32_t batch_frames; /* frames delivered in the current batch */
    uint32_t full_streak;  /* consecutive batches that used the whole budget */
    uint32_t streak_start; /* OS tick at the first batch of that streak */
    uint64_t rx_yields;    /* times the RX task slept to let lower priorities run */
    void *turn;            /* OS_EVENT semaphore: the peer's RX task hands the CPU back */
    bool turn_wait;        /* this RX task waits on `turn` (set and cleared by itself) */
    uint64_t rx_handoffs;  /* batches after which this RX task handed the CPU to the peer */
    uint64_t reinits;      /* successful reinit commands */
    uint64_t link_events;  /* link state changes reported by the driver */
    int last_reinit_err;   /* result of the last initialize (0 = none or success) */
};

extern struct router_nic router_nics[ROUTER_NSIDES];

/* Offloads on (kernel command line "offloads=on"): set once at start-up. */
extern bool router_offloads;

/* Software RX ring entries per NIC with offloads on (slots of up to 64 KiB each). */
#ifndef ROUTER_RX_SW_RING_OFFL
#define ROUTER_RX_SW_RING_OFFL 128
#endif
#if ROUTER_RX_SW_RING_OFFL < 2 || (ROUTER_RX_SW_RING_OFFL & (ROUTER_RX_SW_RING_OFFL - 1)) != 0
#error "ROUTER_RX_SW_RING_OFFL must be a power of two"
#endif

/* Console output (blocking, task context). */
void router_write(const char *s, size_t len);
void router_puts(const char *s);
void router_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Console input: next received character, or -1 when none is waiting. Task context. */
int router_getc(void);

/* Milliseconds since boot (from the OS tick). */
uint32_t router_uptime_ms(void);

/* halt + initialize of one NIC, then re-announce its address. Writes the results of both
 * steps to *halt_err / *init_err. Returns the initialize result (or the halt result when
 * the halt failed in a way that makes initialize pointless). Task context. */
int router_reinit(enum router_side side, int *halt_err, int *init_err);

#if ROUTER_MINFWD
/* Bench-only minimal forwarder (router_main.c): per RX side, frames forwarded by the fast
 * path, handed to the stack, or dropped by the fast path (the TX send failed). */
enum router_fp_counter { ROUTER_FP_FWD, ROUTER_FP_SLOW, ROUTER_FP_DROP, ROUTER_FP_NCOUNTERS };
uint64_t router_fastpath_count(unsigned side, enum router_fp_counter c);
#endif

/* Heap figures for the shell (used = total - free, headers included). */
struct router_heap {
    size_t total, used, free_bytes, largest;
    unsigned used_blocks, free_blocks;
};
void router_heap_get(struct router_heap *h);

/* OS figures for the shell. */
struct router_os {
    unsigned cpu_usage_pct; /* statistics task, 0 if not enabled */
    uint32_t ticks;
    uint32_t ctx_switches;
    uint64_t idle_cycles; /* cycles the idle task ran since boot (0: the port cannot say) */
};
void router_os_get(struct router_os *o);

/* The console shell task body (router_shell.c). */
void router_shell_task(void *arg);

#endif /* ROUTER_H */
