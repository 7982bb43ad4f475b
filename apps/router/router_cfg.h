/*
 * Router firmware: build-time settings. Each has a default here and a CMake cache
 * variable of the same name (apps/router/CMakeLists.txt) that overrides it with -D.
 * docs/router.md lists them.
 */
#ifndef ROUTER_CFG_H
#define ROUTER_CFG_H

/* Addresses as four dotted-quad parts (host order is built with NET_IP4). */
#ifndef ROUTER_LAN_IP
#define ROUTER_LAN_IP 198, 18, 0, 1
#endif
#ifndef ROUTER_LAN_PREFIX
#define ROUTER_LAN_PREFIX 24
#endif
#ifndef ROUTER_WAN_IP
#define ROUTER_WAN_IP 198, 19, 0, 1
#endif
#ifndef ROUTER_WAN_PREFIX
#define ROUTER_WAN_PREFIX 24
#endif
/* Interface MTUs used by the stack (a smaller WAN MTU makes a test image for frag-needed).
 * 0 takes the device's MTU (1500 unless VIRTIO_NET_F_MTU says otherwise). */
#ifndef ROUTER_LAN_MTU
#define ROUTER_LAN_MTU 0
#endif
#ifndef ROUTER_WAN_MTU
#define ROUTER_WAN_MTU 0
#endif

/*
 * Task priorities (uC/OS-II: lower number = more urgent, each unique). The startup task
 * runs first and deletes itself; the RX tasks come next so forwarding preempts the
 * housekeeping; the tick task is above the shell so ARP aging never waits for a long
 * console print; the shell is last before the statistics and idle tasks.
 */
#ifndef ROUTER_PRIO_STARTUP
#define ROUTER_PRIO_STARTUP 4
#endif
#ifndef ROUTER_PRIO_RX_LAN
#define ROUTER_PRIO_RX_LAN 10
#endif
#ifndef ROUTER_PRIO_RX_WAN
#define ROUTER_PRIO_RX_WAN 11
#endif
#ifndef ROUTER_PRIO_TICK
#define ROUTER_PRIO_TICK 20
#endif
#ifndef ROUTER_PRIO_SHELL
#define ROUTER_PRIO_SHELL 30
#endif

/*
 * Driver sizing (0 = the driver's default, see include/vnet/virtio_net.h). The build sets
 * these from apps/router/CMakeLists.txt (whose values win over the defaults here).
 *
 * Software ring: 256 entries rather than the design's 64 (its "raise the queue length"
 * tip). Measured 2026-11-24 under QEMU TCG (iperf3 TCP LAN->WAN 5 s): ring 64 lost ~30 k
 * frames to rx_queue_drops (as many TCP retransmits), ring 256 ~4 k. Cost: 256 frame slots
 * per NIC from the heap.
 *
 * ISR budget: 16 used entries per interrupt; the RX task, which services leftovers before
 * it runs the stack, takes the rest. Measured 2026-11-24 (bench/perf/ab.sh, TCP 1 stream,
 * 2 rounds, QEMU TCG): ISR p99 < 2^18 cycles vs < 2^20 with a budget of 256, for 4-6 % of
 * throughput.
 */
#ifndef ROUTER_RX_SW_RING
#define ROUTER_RX_SW_RING 256
#endif
#ifndef ROUTER_ISR_BUDGET
#define ROUTER_ISR_BUDGET 16
#endif
#ifndef ROUTER_RX_BUDGET
#define ROUTER_RX_BUDGET 64
#endif

/*
 * RX-task fairness: after this many consecutive batches that each used the whole
 * ROUTER_RX_BUDGET (a backlog that does not go away), the RX task sleeps one OS tick so
 * that the other NIC's RX task, the tick task and the shell run. 0 disables the yield.
 */
/*
 * RX-task round robin: after a batch that used the whole ROUTER_RX_BUDGET, an RX task
 * whose peer NIC's RX task (lower priority) is ready to run hands it the CPU for one batch
 * of its own, as Linux's softirq loop takes its NAPI instances in turn. Without it the
 * LAN task (higher priority) ran until its backlog was gone or for ROUTER_RX_YIELD_MS, so
 * the WAN side's frames, the ACKs of a LAN->WAN TCP flow, reached the sender in bursts
 * of up to 10 ms; a sender that paces from its ACK rate (BBR, the host's default here)
 * took the bursts for a larger pipe and queued ~1,200 frames in the host's LAN tap,
 * which overflowed (measured 2026-12-05, QEMU TCG: `ss -ti` cwnd 1,246 vs 344-410 with a
 * Linux router; every retransmit was a LAN tap tx_dropped). 0 disables it.
 */
/* TX ring byte limits (cfg.tx_max_bytes), without and with offloads; 0 = none. */
#ifndef ROUTER_TX_MAX_BYTES
#define ROUTER_TX_MAX_BYTES 0u
#endif
#ifndef ROUTER_TX_MAX_BYTES_OFFL
#define ROUTER_TX_MAX_BYTES_OFFL 262144u
#endif
/* Zero-copy forwarding (cfg.rx_lend_bufs, virtio_net_forward): spare software ring slots
 * per NIC, without and with offloads. Without offloads, as many as the other NIC's TX
 * ring has slots (256): every frame in flight there can be a lent one. With offloads a
 * slot is 64 KiB; 16 of them cover four times the TX byte limit (4 GSO frames), and the
 * small frames beyond that (ACKs) are copied. 0 = copy every frame. */
#ifndef ROUTER_RX_LEND
#define ROUTER_RX_LEND 256u
#endif
#ifndef ROUTER_RX_LEND_OFFL
#define ROUTER_RX_LEND_OFFL 16u
#endif

/* Bench-only (router-onetask.elf): 1 = both NICs in poll mode with wake-ups
 * (cfg.rx_wake_fn, virtio_net_poll_arm), served by one task at ROUTER_PRIO_RX_LAN that
 * polls both and kicks both after both batches, as the limit row's loop does; no RX task
 * per NIC, so no round robin between them. */
#ifndef ROUTER_RX_ONE_TASK
#define ROUTER_RX_ONE_TASK 0
#endif
#if ROUTER_RX_ONE_TASK
#undef ROUTER_RX_HANDOFF
#define ROUTER_RX_HANDOFF 0
#endif
#ifndef ROUTER_RX_HANDOFF
#define ROUTER_RX_HANDOFF 1
#endif
/* Longest wait for TX ring space per forwarded frame (router_output): TX completions of
 * a live device come within microseconds; this only bounds a stalled one. */
#ifndef ROUTER_TX_WAIT_MS
#define ROUTER_TX_WAIT_MS 50
#endif

#ifndef ROUTER_RX_YIELD_BATCHES
#define ROUTER_RX_YIELD_BATCHES 4
#endif
/* ... and only once that streak has lasted this many ms (docs/performance.md: yielding
 * after every 4 batches cost ~25% of forwarding time under TCG). */
#ifndef ROUTER_RX_YIELD_MS
#define ROUTER_RX_YIELD_MS 10
#endif

/* Bench-only minimal forwarder (router-minfwd.elf): 1 = IPv4 frames between the two
 * connected subnets bypass the stack (router_main.c, docs/performance.md). */
#ifndef ROUTER_MINFWD
#define ROUTER_MINFWD 0
#endif

/* Period of net_tick() in ms. */
#ifndef ROUTER_TICK_MS
#define ROUTER_TICK_MS 100
#endif

/* Shell: input poll period (ms) and longest command line. */
#ifndef ROUTER_SHELL_POLL_MS
#define ROUTER_SHELL_POLL_MS 5
#endif
#ifndef ROUTER_SHELL_LINE_MAX
#define ROUTER_SHELL_LINE_MAX 128
#endif
/* Link changes are logged on the console by the shell task (so the line never lands in
 * the middle of a command's output): at most one line per NIC per this many ms; changes
 * in between are counted in the next line. */
#ifndef ROUTER_LINK_LOG_MS
#define ROUTER_LINK_LOG_MS 1000
#endif

#if ROUTER_PRIO_RX_LAN >= ROUTER_PRIO_SHELL || ROUTER_PRIO_RX_WAN >= ROUTER_PRIO_SHELL ||          \
    ROUTER_PRIO_RX_LAN >= ROUTER_PRIO_TICK || ROUTER_PRIO_RX_WAN >= ROUTER_PRIO_TICK
#error "RX tasks must be more urgent than the tick and shell tasks"
#endif
#if ROUTER_PRIO_STARTUP >= ROUTER_PRIO_RX_LAN || ROUTER_PRIO_STARTUP >= ROUTER_PRIO_RX_WAN
#error "the startup task must be more urgent than the RX tasks it creates"
#endif
#if ROUTER_SHELL_LINE_MAX < 16
#error "ROUTER_SHELL_LINE_MAX is too small for the commands"
#endif

#endif /* ROUTER_CFG_H */
