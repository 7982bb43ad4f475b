/*
 * Router firmware: start-up, NIC wiring and the small tasks.
 *
 * Start-up task (ROUTER_PRIO_STARTUP, deletes itself at the end):
 *   tick, statistics task, heap for the OS port, stack, then for each side in PCI order
 *   (first virtio-net function = LAN, second = WAN): transport, driver attach, interrupts
 *   (MSI-X entries 0 = config and 1 = RX when the function has MSI-X, else its INTx line
 *   through the IOAPIC), initialize, stack interface with the device's MAC; then both
 *   interfaces up (gratuitous ARP), the tick and shell tasks, and the line "router: ready".
 *
 * Data path per NIC: the driver's RX task calls router_rx() for each frame (into
 * net_process_received_packet) and router_rx_batch() after each batch (net_rx_batch_end,
 * which flushes the TX kicks, the round robin between the RX tasks, the fairness
 * yield). The stack transmits through
 * router_output() = virtio_net_send_wait(..., VIRTIO_NET_SEND_MORE while a batch lasts),
 * which waits for TX space instead of dropping (backpressure), and
 * router_flush() = virtio_net_flush(). A forwarded frame (the stack's NET_TX_RXBUF) goes
 * through virtio_net_forward() instead: its software ring slot is posted on the other
 * NIC's TX ring as it is, without the copy into a TX buffer (ROUTER_RX_LEND spares).
 *
 * Offloads (kernel command line word "offloads=on"): the drivers negotiate receive
 * offloads (router_rx_hdr() gets every frame with its virtio-net header, GSO frames up to
 * 64 KiB, into net_process_received_packet_hdr) and transmit offloads (the stack's
 * output_meta is router_output_meta() = virtio_net_send_wait with the header, or
 * virtio_net_forward for a forwarded frame), so TCP GSO frames cross the
 * router whole. Without the word everything is as before: no header, no offload.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bsp.h"
#ifndef BSP_HAS_VIRTIO_MMIO
#include "bsp_pci.h"
#endif
#include "bsp_vnet.h"
#include "osal_port.h"
#include "router.h"
#include "ucos_ii.h"
#include "vnet/virtio_transport.h"
#include "vnet/vnet_err.h"
#include "net/net_csum.h"

/* MSI-X table entries the router gives the device (virtio msix_config / RX queue / TX
 * queue). TX completions are reclaimed on the send path; the TX vector only delivers the
 * TX space event that wakes a forwarding task waiting for ring space. */
#define ROUTER_MSIX_ENTRY_CONFIG 0u
#define ROUTER_MSIX_ENTRY_RX     1u
#define ROUTER_MSIX_ENTRY_TX     2u

/* ROUTER_LAN_IP is "a, b, c, d": one more expansion step splits it into four arguments. */
#define ROUTER_IP4_(a, b, c, d) NET_IP4(a, b, c, d)
#define ROUTER_IP4(parts)       ROUTER_IP4_(parts)

/* Stacks in OS_STK entries (64-bit words on this port). The shell formats into buffers on
 * its stack; the RX tasks build ICMP errors on theirs (through the stack). */
#define ROUTER_STARTUP_STK  2048u
#define ROUTER_TICK_STK     1024u
#define ROUTER_SHELL_STK    4096u
#define ROUTER_RX_STK_BYTES 16384u

static OS_STK router_startup_stk[ROUTER_STARTUP_STK];
static OS_STK router_tick_stk[ROUTER_TICK_STK];
static OS_STK router_shell_stk[ROUTER_SHELL_STK];

/* The stack mirrors the virtio-net header's values (net_stack.h): the glue copies fields. */
_Static_assert(NET_META_F_NEEDS_CSUM == VIRTIO_NET_HDR_F_NEEDS_CSUM &&
                   NET_META_F_DATA_VALID == VIRTIO_NET_HDR_F_DATA_VALID &&
                   NET_META_GSO_NONE == VIRTIO_NET_HDR_GSO_NONE &&
                   NET_META_GSO_TCPV4 == VIRTIO_NET_HDR_GSO_TCPV4 &&
                   NET_META_GSO_TCPV6 == VIRTIO_NET_HDR_GSO_TCPV6 &&
                   NET_META_GSO_ECN == VIRTIO_NET_HDR_GSO_ECN,
               "net_pkt_meta values must equal the virtio-net header's");
_Static_assert(NET_GSO_FRAME_MAX == VIRTIO_NET_GSO_MAX_FRAME, "GSO frame limits differ");
_Static_assert(NET_E_UNSUPP == VNET_E_UNSUPP && NET_E_BUSY == VNET_E_BUSY,
               "output results pass unchanged");

bool router_offloads;

struct router_nic router_nics[ROUTER_NSIDES] = {
    {.name = "lan", .rx_prio = ROUTER_PRIO_RX_LAN},
    {.name = "wan", .rx_prio = ROUTER_PRIO_RX_WAN},
};

/* ---- console ------------------------------------------------------------------------- */

void router_write(const char *s, size_t len)
{
    /* Terminals want CR LF; the board's console writes bytes as given. Chunked so that
     * each bsp_puts() (which runs with interrupts off) stays short. */
    char buf[130];
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            buf[k++] = '\r';
        buf[k++] = s[i];
        if (k >= sizeof(buf) - 2u) {
            buf[k] = '\0';
            bsp_puts(buf);
            k = 0;
        }
    }
    if (k > 0) {
        buf[k] = '\0';
        bsp_puts(buf);
    }
}

void router_puts(const char *s)
{
    router_write(s, strlen(s));
}

void router_printf(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = bsp_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1u;
    router_write(buf, len);
}

int router_getc(void)
{
    return bsp_getc();
}

/* Driver diagnostics (osal_log): may come from an ISR; bsp_printf is safe there. */
static void router_log(const char *msg)
{
    bsp_printf("vnet: %s\r\n", msg);
}

uint32_t router_uptime_ms(void)
{
    /* From the 64-bit TSC clock: the truncation wraps cleanly every 49.7 days, which
     * net_tick's clock arithmetic expects; OSTimeGet()'s 32-bit tick count would jump. */
    return (uint32_t)(bsp_time_ns() / 1000000u);
}

static INT32U router_ms_to_ticks(uint32_t ms)
{
    INT32U t = (INT32U)(((uint64_t)ms * OS_TICKS_PER_SEC + 999u) / 1000u);
    return t != 0 ? t : 1u;
}

void router_heap_get(struct router_heap *h)
{
    struct osal_ucos2_heap_stats st;
    osal_ucos2_heap_get_stats(&st);
    h->total = st.total;
    h->free_bytes = st.free_bytes;
    h->used = st.total - st.free_bytes;
    h->largest = st.largest;
    h->used_blocks = st.used_blocks;
    h->free_blocks = st.free_blocks;
}

void router_os_get(struct router_os *o)
{
#if OS_TASK_STAT_EN > 0
    o->cpu_usage_pct = OSCPUUsage;
#else
    o->cpu_usage_pct = 0;
#endif
    o->ticks = OSTimeGet();
    o->ctx_switches = OSCtxSwCtr;
#ifdef OS_CPU_HAS_IDLE_CYCLES
    o->idle_cycles = OS_CPU_IdleCycles();
#else
    o->idle_cycles = 0u;
#endif
}

/* ---- stack <-> driver glue ----------------------------------------------------------- */

/* Stack lock hooks: the stack's shared state is touched only by tasks, so locking the
 * scheduler excludes every other user without a kernel object (and ISRs stay enabled). */
static void router_lock(void *arg)
{
    (void)arg;
    OSSchedLock();
}

static void router_unlock(void *arg)
{
    (void)arg;
    OSSchedUnlock();
}

/*
 * Backpressure instead of drops: a full TX ring makes the sending task wait for the TX
 * space event (docs/tx-handshake.md), at most ROUTER_TX_WAIT_MS per wait. The forwarding
 * RX task then stops draining its software ring; frames wait there and in the RX
 * virtqueue, and once that is full the device stops taking frames from its backend, so
 * the pressure reaches the sender. Only a TX ring that makes no progress for that long
 * (a stalled device) still drops, counted as tx_busy.
 */
/*
 * The NIC whose receive callback is running on this task (the one that delivered a frame
 * the stack now forwards), or NULL. Each NIC's RX task has its own priority, so the
 * running task tells; a lower-priority RX task preempted inside its callback is not the
 * running one.
 */
#if ROUTER_RX_ONE_TASK
static struct router_nic *router_rx_cur; /* the NIC router_rx_one_task is polling */
#endif

static struct virtio_net_dev *router_rx_dev_here(void)
{
#if ROUTER_RX_ONE_TASK
    if (router_rx_cur != NULL && OSPrioCur == ROUTER_PRIO_RX_LAN)
        return router_rx_cur->dev;
#endif
    for (unsigned i = 0; i < ROUTER_NSIDES; i++)
        if (router_nics[i].dev != NULL && router_nics[i].rx_prio == OSPrioCur)
            return router_nics[i].dev;
    return NULL;
}

static int router_output(void *drv, const uint8_t *frame, size_t len, unsigned flags)
{
    unsigned vf = (flags & NET_TX_MORE) ? VIRTIO_NET_SEND_MORE : 0u;
    /* NET_E_BUSY == VNET_E_BUSY (net_stack.h), so the driver's result passes unchanged;
     * VNET_E_TIMEOUT counts as tx_error. A forwarded frame's receive slot goes out as it
     * is (NET_TX_RXBUF: the stack is done with it; the slot is the driver's, writable). */
    if (flags & NET_TX_RXBUF)
        return virtio_net_forward(drv, router_rx_dev_here(), NULL, (void *)(uintptr_t)frame, len,
                                  vf, ROUTER_TX_WAIT_MS);
    return virtio_net_send_wait(drv, NULL, frame, len, vf, ROUTER_TX_WAIT_MS);
}

static int router_output_meta(void *drv, const struct net_pkt_meta *meta, const uint8_t *frame,
                              size_t len, unsigned flags)
{
    struct virtio_net_hdr h = {.flags = meta->flags,
                               .gso_type = meta->gso_type,
                               .hdr_len = meta->hdr_len,
                               .gso_size = meta->gso_size,
                               .csum_start = meta->csum_start,
                               .csum_offset = meta->csum_offset,
                               .num_buffers = 0};
    /* VNET_E_UNSUPP (the egress did not negotiate this GSO type) == NET_E_UNSUPP: the
     * stack drops the frame as gso_unsupported. */
    unsigned vf = (flags & NET_TX_MORE) ? VIRTIO_NET_SEND_MORE : 0u;
    if (flags & NET_TX_RXBUF)
        return virtio_net_forward(drv, router_rx_dev_here(), &h, (void *)(uintptr_t)frame, len, vf,
                                  ROUTER_TX_WAIT_MS);
    return virtio_net_send_wait(drv, &h, frame, len, vf, ROUTER_TX_WAIT_MS);
}

static void router_flush(void *drv)
{
    (void)virtio_net_flush(drv);
}

#if ROUTER_MINFWD
/*
 * Bench-only minimal forwarder (router-minfwd.elf): the bench's limit row (bench/, issue
 * 14). IPv4 frames for the other side's subnet skip the stack: the Ethernet addresses are
 * rewritten in place (next hop's MAC from the stack's ARP table, cached here per side),
 * the TTL decremented with an incremental checksum update (RFC 1624), and the frame
 * handed to the other NIC's TX ring. Everything else (ARP, ICMP to the router, unresolved
 * next hops, TTL <= 1, options) takes the normal stack path.
 *
 * The copy left, and why (docs/performance.md, "Bench honesty"): one per frame, in the
 * driver's receive service (the ISR, or the RX task while it owns the queue), which copies
 * the device's RX buffer into the software ring and recycles the descriptor at once (the
 * seed's receive design). The slot then goes to the other NIC's TX ring without a second
 * copy (virtio_net_forward, as the router's stack does).
 * So this row is the router's driver and task design without the stack: between it and
 * the zero-copy limit (bench/zcfwd) lies what the seed's design costs, between it and the
 * router what the stack costs.
 *
 * Like the router, it waits for TX space instead of dropping (backpressure); a send that
 * still fails (a ring stalled for ROUTER_TX_WAIT_MS, a halted device) is counted in drop,
 * not in fwd.
 */
struct router_fastpath {
    uint32_t net, mask; /* the other side's connected subnet */
    uint32_t ip;        /* cached next hop (0: none) */
    uint8_t mac[6];
    uint8_t out_mac[6];
    uint32_t sent; /* frames sent in the current batch (flush at batch end) */
    uint64_t ctr[ROUTER_FP_NCOUNTERS];
};
static struct router_fastpath router_fp[ROUTER_NSIDES];

static uint32_t router_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool router_fp_lookup(struct router_fastpath *fp, uint32_t dst)
{
    if (fp->ip == dst)
        return true;
    struct net_arp_info ai;
    for (unsigned i = 0; net_arp_get(i, &ai) == NET_OK; i++) {
        if (ai.ip == dst && ai.state != NET_ARP_INCOMPLETE) {
            fp->ip = dst;
            memcpy(fp->mac, ai.mac, 6);
            return true;
        }
    }
    return false;
}

/* true: forwarded (or counted as dropped) here; false: the stack must handle the frame. */
static bool router_fastpath(struct router_nic *n, uint8_t *f, size_t len)
{
    unsigned in = (unsigned)(n - router_nics);
    unsigned out = in ^ 1u;
    struct router_fastpath *fp = &router_fp[in];
    struct router_nic *o = &router_nics[out];
    if (o->dev == NULL || fp->mask == 0 || len < 34u || f[12] != 0x08 || f[13] != 0x00 ||
        f[14] != 0x45 || f[22] <= 1u)
        return false;
    uint32_t dst = router_be32(f + 30);
    if ((dst & fp->mask) != fp->net || !router_fp_lookup(fp, dst))
        return false;
    memcpy(f, fp->mac, 6);
    memcpy(f + 6, fp->out_mac, 6);
    uint16_t old = (uint16_t)(f[22] << 8 | f[23]);
    f[22]--;
    uint16_t neww = (uint16_t)(f[22] << 8 | f[23]);
    uint16_t ck = net_csum_update16((uint16_t)(f[24] << 8 | f[25]), old, neww);
    f[24] = (uint8_t)(ck >> 8);
    f[25] = (uint8_t)ck;
    /* The slot goes out as it is, as the stack's forwarded frames do (router_output); the
     * kick is left to the batch end (router_rx_batch), as the stack's transmits. */
    if (virtio_net_forward(o->dev, n->dev, NULL, f, len, VIRTIO_NET_SEND_MORE, ROUTER_TX_WAIT_MS) !=
        VNET_OK) {
        fp->ctr[ROUTER_FP_DROP]++;
        return true;
    }
    fp->sent++;
    fp->ctr[ROUTER_FP_FWD]++;
    return true;
}

/* After both interfaces exist: each side's fast path forwards into the other's subnet. */
static void router_fastpath_init(void)
{
    for (unsigned s = 0; s < ROUTER_NSIDES; s++) {
        struct net_if_info info;
        struct router_nic *o = &router_nics[s ^ 1u];
        if (o->nif == NULL || net_if_get_info(o->nif, &info) != NET_OK)
            continue;
        /* mask last: non-zero turns the fast path on, so everything else is set first. */
        uint32_t mask = info.prefix_len == 0 ? 0 : ~0u << (32u - info.prefix_len);
        (void)virtio_net_get_mac(o->dev, router_fp[s].out_mac);
        router_fp[s].net = info.ip & mask;
        router_fp[s].mask = mask;
    }
}

uint64_t router_fastpath_count(unsigned side, enum router_fp_counter c)
{
    return side < ROUTER_NSIDES && (unsigned)c < ROUTER_FP_NCOUNTERS ? router_fp[side].ctr[c] : 0;
}
#endif

static void router_rx(void *arg, uint8_t *frame, size_t len)
{
    struct router_nic *n = arg;
    n->batch_frames++;
#if ROUTER_MINFWD
    if (router_fastpath(n, frame, len))
        return;
    router_fp[n - router_nics].ctr[ROUTER_FP_SLOW]++;
#endif
    struct net_if *nif = n->nif;
    /* NULL only between initialize and net_if_add at start-up, before "router: ready". */
    if (nif != NULL)
        net_process_received_packet(nif, frame, len);
}

/* Offloads on: every frame comes with its virtio-net header. The bench-only fast path is
 * not taken here: it would send a GSO frame without its header. */
static void router_rx_hdr(void *arg, const struct virtio_net_hdr *hdr, uint8_t *frame, size_t len)
{
    struct router_nic *n = arg;
    n->batch_frames++;
    if (n->nif == NULL)
        return;
    struct net_pkt_meta m = {.flags = hdr->flags,
                             .gso_type = hdr->gso_type,
                             .hdr_len = hdr->hdr_len,
                             .gso_size = hdr->gso_size,
                             .csum_start = hdr->csum_start,
                             .csum_offset = hdr->csum_offset};
    net_process_received_packet_hdr(n->nif, &m, frame, len);
}

#if ROUTER_RX_HANDOFF
/* A task at `prio` is ready to run: not pending, not delayed, not suspended. */
static bool router_task_ready(unsigned prio)
{
    OS_TCB t;
    return OSTaskQuery((INT8U)prio, &t) == OS_ERR_NONE && t.OSTCBStat == OS_STAT_RDY &&
           t.OSTCBDly == 0u;
}

/*
 * Round robin between the two RX tasks (ROUTER_RX_HANDOFF, router_cfg.h). On one CPU only
 * the higher-priority task can find its peer ready (a ready higher-priority peer would be
 * running), so only it ever waits: on its `turn` semaphore, posted by the peer at the end
 * of the peer's next batch, whether that batch was full or its last. The 1-tick timeout
 * bounds the wait when the peer blocks mid-batch (a TX space wait) or is halted.
 */
static void router_rx_handoff(struct router_nic *n, bool full)
{
    struct router_nic *peer = &router_nics[(unsigned)(n - router_nics) ^ 1u];
    if (peer->turn_wait && peer->turn != NULL) {
        peer->turn_wait = false;
        (void)OSSemPost(peer->turn);
    }
    /* The in-ISR bench build calls batch_fn from its ISR: nothing to hand over there. */
    if (!full || OSIntNesting > 0u || n->turn == NULL || peer->dev == NULL ||
        peer->rx_prio <= n->rx_prio || !router_task_ready(peer->rx_prio))
        return;
    INT8U err;
    (void)OSSemAccept(n->turn); /* a post that came after an earlier timeout */
    n->turn_wait = true;
    n->rx_handoffs++;
    OSSemPend(n->turn, 1u, &err);
    n->turn_wait = false;
}
#endif

/* Kick every NIC this batch transmitted on (net_rx_batch_end; the fast path's own). */
static void router_rx_flush(struct router_nic *n)
{
    if (n->nif != NULL)
        net_rx_batch_end(n->nif);
#if ROUTER_MINFWD
    struct router_fastpath *fp = &router_fp[n - router_nics];
    if (fp->sent != 0) {
        fp->sent = 0;
        (void)virtio_net_flush(router_nics[(unsigned)(n - router_nics) ^ 1u].dev);
    }
#endif
}

/*
 * End of an RX batch: the kicks (router_rx_flush), the round robin, then fairness. The
 * driver's RX task loops while a backlog remains, and it outranks the other NIC's RX
 * task, the tick task and the shell, so a flood at line rate would starve them for as
 * long as it lasts. After ROUTER_RX_YIELD_BATCHES consecutive full batches the task
 * sleeps one tick; the backlog meanwhile stays in the device ring and the software ring
 * (and overflows into rx_queue_drops, which is what an overload should show).
 */
static void router_rx_batch(void *arg)
{
    struct router_nic *n = arg;
    bool full = n->batch_frames >= ROUTER_RX_BUDGET;
    n->batch_frames = 0;
#if ROUTER_RX_HANDOFF
    /*
     * Kick order. The higher-priority task (the only one that waits for its turn) kicks
     * after its turn, the other one before it posts that turn: the peer's batch (the
     * other direction, under TCP the ACKs) and its kick then run first, and both NICs'
     * kicks come back to back, as the limit row's do. Kicking before the turn made the
     * peer's kick wait for QEMU's global mutex while the I/O thread sent this batch
     * (docs/performance.md, "Issue 14", "Kick order": TCP LAN->WAN +4 to +14 % and ping
     * under load 0.5-0.8 ms lower in three interleaved runs, QEMU TCG). The held frames
     * wait at most the turn's 1-tick timeout.
     */
    struct router_nic *peer = &router_nics[(unsigned)(n - router_nics) ^ 1u];
    if (peer->rx_prio > n->rx_prio) {
        router_rx_handoff(n, full);
        router_rx_flush(n);
    } else {
        router_rx_flush(n);
        router_rx_handoff(n, full);
    }
#elif !ROUTER_RX_ONE_TASK /* there the loop kicks both NICs after both batches */
    router_rx_flush(n);
#endif
#if ROUTER_RX_YIELD_BATCHES > 0
    if (!full) {
        n->full_streak = 0;
        return;
    }
    uint32_t now = OSTimeGet();
    if (n->full_streak++ == 0)
        n->streak_start = now;
    /* Both a batch count and a busy time: under TCG 4 full batches take ~3 ms, and a
     * 1-tick sleep after each such stretch cost a quarter of the task's time (measured:
     * ~1000 yields in a 5 s TCP run, bench/perf). The tick task and the shell need
     * milliseconds every few tens of ms, not one in four. */
    if (n->full_streak >= ROUTER_RX_YIELD_BATCHES &&
        (uint32_t)(now - n->streak_start) * 1000u / OS_TICKS_PER_SEC >= ROUTER_RX_YIELD_MS) {
        n->full_streak = 0;
        n->rx_yields++;
        OSTimeDly(1);
    }
#else
    (void)full;
#endif
}

#if ROUTER_RX_ONE_TASK
static OS_EVENT *router_rx_wake_sem;
static OS_STK router_rx_stk[ROUTER_RX_STK_BYTES / sizeof(OS_STK)];

/* cfg.rx_wake_fn, ISR context: either NIC has work for the one RX task. */
static void router_rx_wake(void *arg)
{
    (void)arg;
    (void)OSSemPost(router_rx_wake_sem);
}

/*
 * The one RX task: poll both NICs (each delivers up to ROUTER_RX_BUDGET frames and calls
 * router_rx_batch), kick both, and when neither had a full batch arm both
 * (virtio_net_poll_arm: the RX handshake) and block until an ISR wakes it.
 */
static void router_rx_one_task(void *arg)
{
    (void)arg;
    for (;;) {
        bool more = false;
        for (unsigned s = 0; s < ROUTER_NSIDES; s++) {
            struct router_nic *n = &router_nics[s];
            if (n->dev == NULL)
                continue;
            router_rx_cur = n;
            int r = virtio_net_poll(n->dev, ROUTER_RX_BUDGET);
            router_rx_cur = NULL;
            if (r >= (int)ROUTER_RX_BUDGET)
                more = true;
        }
        for (unsigned s = 0; s < ROUTER_NSIDES; s++)
            router_rx_flush(&router_nics[s]);
        if (more)
            continue;
        bool again = false;
        for (unsigned s = 0; s < ROUTER_NSIDES; s++)
            if (router_nics[s].dev != NULL && virtio_net_poll_arm(router_nics[s].dev) == 1)
                again = true;
        if (again)
            continue;
        INT8U err;
        OSSemPend(router_rx_wake_sem, 0, &err);
        /* Every device is polled next anyway: the tokens of the others are spent too. */
        while (OSSemAccept(router_rx_wake_sem) > 0u) {
        }
    }
}
#endif

/* Link state change (VIRTIO_NET_F_STATUS), from the NIC's RX task. On link up the
 * interface announces itself again: a peer that flushed its neighbour cache while the
 * cable was out learns the MAC at once (RFC 5227 2.3). */
static void router_link(void *arg, bool up)
{
    struct router_nic *n = arg;
    n->link_events++;
    if (up && n->nif != NULL)
        (void)net_if_up(n->nif);
}

/* ---- interrupts ---------------------------------------------------------------------- */

#ifdef BSP_HAS_VIRTIO_MMIO /* PCI boards route through bsp_vnet (bsp_vnet.h) */
/* bsp_isr_t takes void *; this adapts without casting function pointer types. */
static void router_isr_shared(void *arg)
{
    virtio_net_isr(arg);
}
#endif

/* ---- bring-up ------------------------------------------------------------------------ */

#ifdef BSP_HAS_VIRTIO_MMIO
/* NICs on PCIe instead of the virtio-mmio slots (decided once at start-up). */
static bool router_on_pcie;
#endif

static int router_nic_attach(enum router_side side, unsigned pci_idx)
{
    struct router_nic *n = &router_nics[side];
#ifdef BSP_HAS_VIRTIO_MMIO
    /* Boards with virtio-mmio slots (qemu-aarch64-virt): the i-th network device in slot
     * order, one level-triggered interrupt line per slot (pci_bdf holds the slot number);
     * with no NIC on the slots, the i-th virtio-net function on PCIe bus 0, through
     * bsp_vnet: MSI-X where the GIC has MSI (GICv2m), else its INTx line. */
    uint32_t intid = 0;
    const struct bsp_pcie_func *pf = NULL;
    static const struct bsp_vnet_msix ents = {
        .cfg = ROUTER_MSIX_ENTRY_CONFIG, .rx = ROUTER_MSIX_ENTRY_RX, .tx = ROUTER_MSIX_ENTRY_TX};
    int err;
    if (!router_on_pcie) {
        const struct bsp_virtio_mmio_slot *sl = bsp_virtio_net_slot(pci_idx);
        const struct virtio_mmio_bus *mbus = bsp_virtio_net_mmio_bus(pci_idx);
        if (sl == NULL || mbus == NULL)
            return VNET_E_NODEV;
        n->pci_bdf = sl->slot;
        intid = sl->intid;
        err = virtio_mmio_transport_create(&n->tr, mbus);
    } else {
        pf = bsp_pcie_virtio_net_func(pci_idx);
        const struct virtio_pci_bus *pbus = bsp_pcie_virtio_net_bus(pci_idx);
        if (pf == NULL || pbus == NULL)
            return VNET_E_NODEV;
        n->pci_bdf = (unsigned)pf->bus << 8 | (unsigned)pf->dev << 3 | pf->fn;
        err = virtio_pci_transport_create(&n->tr, pbus, 0);
    }
    if (err != VNET_OK) {
        bsp_printf("router: %s: transport: %s\r\n", n->name, vnet_strerror(err));
        return err;
    }
    n->msix = false;
    if (pf != NULL) {
        err = bsp_vnet_irq_select(pf, n->tr, &ents, &n->msix);
        if (err != VNET_OK)
            return err;
    }
#else
    struct bsp_pci_func *f = bsp_virtio_net_func(pci_idx);
    const struct virtio_pci_bus *bus = bsp_virtio_net_bus(pci_idx);
    if (f == NULL || bus == NULL)
        return VNET_E_NODEV;
    n->pci_bdf = (unsigned)f->bus << 8 | (unsigned)f->dev << 3 | f->fn;

    int err = virtio_pci_transport_create(&n->tr, bus, 0);
    if (err != VNET_OK) {
        bsp_printf("router: %s: transport: %s\r\n", n->name, vnet_strerror(err));
        return err;
    }
    /* QEMU's virtio-net-pci has 3 entries (vectors=3); with fewer the TX space event has
     * no route and send_wait polls each millisecond. */
    static const struct bsp_vnet_msix ents = {
        .cfg = ROUTER_MSIX_ENTRY_CONFIG, .rx = ROUTER_MSIX_ENTRY_RX, .tx = ROUTER_MSIX_ENTRY_TX};
    err = bsp_vnet_irq_select(f, n->tr, &ents, &n->msix);
    if (err != VNET_OK)
        return err;
#endif

    struct virtio_net_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.transport = n->tr;
    cfg.name = side == ROUTER_LAN ? "rx_lan" : "rx_wan";
    /* Offloads: slots hold up to 64 KiB (a GSO frame), so fewer of them. */
    cfg.rx_sw_ring_entries = router_offloads ? ROUTER_RX_SW_RING_OFFL : ROUTER_RX_SW_RING;
    cfg.isr_budget = ROUTER_ISR_BUDGET;
    /* GSO frames are up to 64 KiB: bound the ISR's copy work in bytes too. */
    cfg.isr_budget_bytes = router_offloads ? ROUTER_ISR_BUDGET_BYTES_OFFL : 0u;
    cfg.rx_budget = ROUTER_RX_BUDGET;
    cfg.rx_defer_ms = ROUTER_RX_DEFER_MS;
    cfg.tx_max_bytes = router_offloads ? ROUTER_TX_MAX_BYTES_OFFL : ROUTER_TX_MAX_BYTES;
    cfg.rx_lend_bufs = router_offloads ? ROUTER_RX_LEND_OFFL : ROUTER_RX_LEND;
    cfg.rx_task_prio = n->rx_prio;
    cfg.rx_task_stack_bytes = ROUTER_RX_STK_BYTES;
    cfg.rx_fn = router_rx;
    cfg.rx_arg = n;
    if (router_offloads) {
        cfg.rx_hdr_fn = router_rx_hdr;
        cfg.tx_offloads = true;
    }
    cfg.batch_fn = router_rx_batch;
    cfg.batch_arg = n;
#if ROUTER_RX_ONE_TASK
    if (router_rx_wake_sem == NULL)
        router_rx_wake_sem = OSSemCreate(0);
    cfg.rx_poll = true;
    cfg.rx_wake_fn = router_rx_wake;
#endif
#if ROUTER_RX_HANDOFF
    if (n->turn == NULL)
        n->turn = OSSemCreate(0); /* NULL (no event left): the hand-off is skipped */
#endif
    cfg.link_fn = router_link;
    cfg.link_arg = n;
    err = virtio_net_attach(&n->dev, &cfg);
    if (err != VNET_OK) {
        bsp_printf("router: %s: attach: %s\r\n", n->name, vnet_strerror(err));
        n->dev = NULL;
        return err;
    }

    /* Interrupt routes before initialize: the device may interrupt as soon as the RX
     * buffers are posted. MSI-X must be enabled before the transport programs vectors. */
    int b;
#ifdef BSP_HAS_VIRTIO_MMIO
    if (pf != NULL)
        b = bsp_vnet_irq_attach(pf, n->dev, n->msix, &ents, &intid);
    else
        b = bsp_irq_attach(intid, 0, router_isr_shared, n->dev);
    n->irq_info = intid;
#else
    uint8_t vector = 0;
    b = bsp_vnet_irq_attach(f, n->dev, n->msix, &ents, &vector);
    n->irq_info = n->msix ? vector : f->intx_gsi;
#endif
    if (b < 0) {
        bsp_printf("router: %s: interrupt setup failed (%d)\r\n", n->name, b);
        return VNET_E_IO;
    }

    err = virtio_net_initialize(n->dev);
    if (err != VNET_OK) {
        bsp_printf("router: %s: initialize: %s\r\n", n->name, vnet_strerror(err));
        return err;
    }
    n->found = true;
    return VNET_OK;
}

static int router_if_add(enum router_side side)
{
    struct router_nic *n = &router_nics[side];
    struct net_if_config c;
    memset(&c, 0, sizeof(c));
    c.name = n->name;
    (void)virtio_net_get_mac(n->dev, c.mac);
    if (side == ROUTER_LAN) {
        c.ip = ROUTER_IP4(ROUTER_LAN_IP);
        c.prefix_len = ROUTER_LAN_PREFIX;
        c.mtu = ROUTER_LAN_MTU;
    } else {
        c.ip = ROUTER_IP4(ROUTER_WAN_IP);
        c.prefix_len = ROUTER_WAN_PREFIX;
        c.mtu = ROUTER_WAN_MTU;
    }
    if (c.mtu == 0)
        c.mtu = virtio_net_mtu(n->dev);
    c.output = router_output;
    c.flush = router_flush;
    c.drv = n->dev;
    c.output_meta = router_offloads ? router_output_meta : NULL;
    struct net_if *nif = NULL;
    int err = net_if_add(&c, &nif);
    if (err != NET_OK) {
        bsp_printf("router: %s: net_if_add: %d\r\n", n->name, err);
        return err;
    }
    n->nif = nif;
    return NET_OK;
}

int router_reinit(enum router_side side, int *halt_err, int *init_err)
{
    struct router_nic *n = &router_nics[side];
    *halt_err = VNET_OK;
    *init_err = VNET_OK;
    if (n->dev == NULL)
        return VNET_E_NODEV;
    int h = virtio_net_halt(n->dev);
    *halt_err = h;
    /* VNET_E_STATE: already halted (an earlier initialize failed): initialize anyway. A
     * halt that timed out left the device's memory allocated on purpose; initialize
     * would refuse with VNET_E_STATE, so report the halt. */
    if (h != VNET_OK && h != VNET_E_STATE)
        return h;
    int i = virtio_net_initialize(n->dev);
    *init_err = i;
    n->last_reinit_err = i;
    if (i != VNET_OK)
        return i;
    n->reinits++;
#if ROUTER_RX_ONE_TASK
    (void)OSSemPost(router_rx_wake_sem); /* initialize left the queue to the poller */
#endif
    /* The device came back with empty rings: announce ourselves again so neighbours
     * that dropped us meanwhile re-learn the MAC at once (RFC 5227 2.3). */
    if (n->nif != NULL)
        (void)net_if_up(n->nif);
    return VNET_OK;
}

static void router_tick_task(void *arg)
{
    (void)arg;
    const INT32U period = router_ms_to_ticks(ROUTER_TICK_MS);
    for (;;) {
        OSTimeDly(period);
        net_tick(router_uptime_ms());
    }
}

static bool router_task(void (*fn)(void *), OS_STK *stk, size_t entries, INT8U prio,
                        const char *name)
{
    INT8U e = OSTaskCreateExt(fn, NULL, &stk[entries - 1u], prio, prio, &stk[0], (INT32U)entries,
                              NULL, OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR);
    if (e != OS_ERR_NONE) {
        bsp_printf("router: cannot create task %s (%u)\r\n", name, (unsigned)e);
        return false;
    }
    INT8U nerr;
    OSTaskNameSet(prio, (INT8U *)(uintptr_t)name, &nerr);
    return true;
}

static void router_startup_task(void *arg)
{
    (void)arg;
    bool ok = true;

    bsp_tick_start();
#if OS_TASK_STAT_EN > 0
    OSStatInit();
#endif
    void *heap;
    size_t heap_len;
    bsp_free_ram(&heap, &heap_len);
    if (osal_ucos2_heap_init(heap, heap_len) != VNET_OK) {
        bsp_printf("router: no heap (%zu bytes at %p)\r\n", heap_len, heap);
        ok = false;
    }
    osal_ucos2_log = router_log;

    struct net_stack_config sc = {.lock = router_lock,
                                  .unlock = router_unlock,
                                  .lock_arg = NULL,
                                  .now_ms = router_uptime_ms()};
    if (net_stack_init(&sc) != NET_OK) {
        bsp_printf("router: net_stack_init failed\r\n");
        ok = false;
    }

    char word[8];
    router_offloads =
        bsp_cmdline_get("offloads", word, sizeof(word)) > 0 && strcmp(word, "on") == 0;
    bsp_printf("router: offloads %s (kernel command line offloads=on|off)\r\n",
               router_offloads ? "on" : "off");

    unsigned count = bsp_virtio_net_count();
#ifdef BSP_HAS_VIRTIO_MMIO
    router_on_pcie = count == 0u && bsp_pcie_virtio_net_count() > 0u;
    if (router_on_pcie)
        count = bsp_pcie_virtio_net_count();
    bsp_printf("router: %u virtio-net device(s); lan = first, wan = second in %s order\r\n", count,
               router_on_pcie ? "PCIe slot" : "virtio-mmio slot");
#else
    bsp_printf("router: %u virtio-net function(s); lan = first, wan = second in PCI order\r\n",
               count);
#endif
    for (unsigned s = 0; ok && s < ROUTER_NSIDES; s++) {
        if (s >= count) {
            bsp_printf("router: %s: no virtio-net function\r\n", router_nics[s].name);
            ok = false;
            break;
        }
        if (router_nic_attach((enum router_side)s, s) != VNET_OK ||
            router_if_add((enum router_side)s) != NET_OK)
            ok = false;
    }
    for (unsigned s = 0; ok && s < ROUTER_NSIDES; s++) {
        if (net_if_up(router_nics[s].nif) != NET_OK)
            ok = false;
    }
#if ROUTER_MINFWD
    if (ok)
        router_fastpath_init();
#endif
#if ROUTER_RX_ONE_TASK
    if (ok)
        ok =
            router_task(router_rx_one_task, router_rx_stk,
                        sizeof(router_rx_stk) / sizeof(router_rx_stk[0]), ROUTER_PRIO_RX_LAN, "rx");
#endif
    if (ok)
        ok = router_task(router_tick_task, router_tick_stk, ROUTER_TICK_STK, ROUTER_PRIO_TICK,
                         "tick");
    /* The shell starts even after a failure: its ifconfig/stats show what came up. */
    (void)router_task(router_shell_task, router_shell_stk, ROUTER_SHELL_STK, ROUTER_PRIO_SHELL,
                      "shell");

    for (unsigned s = 0; s < ROUTER_NSIDES; s++) {
        struct router_nic *n = &router_nics[s];
        if (n->dev == NULL)
            continue;
        uint8_t mac[6] = {0};
        (void)virtio_net_get_mac(n->dev, mac);
#ifdef BSP_HAS_VIRTIO_MMIO
        if (router_on_pcie)
            bsp_printf("router: %s %02x:%02x:%02x:%02x:%02x:%02x pci %02x:%02x.%u %s intid %u, "
                       "rx prio %u\r\n",
                       n->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], n->pci_bdf >> 8,
                       (n->pci_bdf >> 3) & 31u, n->pci_bdf & 7u, n->msix ? "msix" : "intx",
                       (unsigned)n->irq_info, n->rx_prio);
        else
            bsp_printf("router: %s %02x:%02x:%02x:%02x:%02x:%02x virtio-mmio slot %u intid %u, "
                       "rx prio %u\r\n",
                       n->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], n->pci_bdf,
                       (unsigned)n->irq_info, n->rx_prio);
#else
        bsp_printf("router: %s %02x:%02x:%02x:%02x:%02x:%02x pci %02x:%02x.%u %s, rx prio %u\r\n",
                   n->name, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], n->pci_bdf >> 8,
                   (n->pci_bdf >> 3) & 31u, n->pci_bdf & 7u, n->msix ? "msix" : "intx", n->rx_prio);
#endif
    }
    /* The harness waits for exactly this line; print it only when everything is up. */
    bsp_puts(ok ? "router: ready\r\n" : "router: start-up FAILED\r\n");
    (void)OSTaskDel(OS_PRIO_SELF);
    for (;;)
        OSTimeDly(OS_TICKS_PER_SEC);
}

int main(void)
{
    OSInit();
    if (!router_task(router_startup_task, router_startup_stk, ROUTER_STARTUP_STK,
                     ROUTER_PRIO_STARTUP, "startup"))
        bsp_exit(BSP_EXIT_FAIL);
    OSStart();
    return 0;
}
