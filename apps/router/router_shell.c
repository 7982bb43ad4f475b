/*
 * Router firmware: the console shell on the board's serial port.
 *
 * Protocol (scripts/lib/vnet_harness/console.py relies on it): the prompt "vnet> " is
 * printed at the start of a line; a command line ends with CR or LF (CR LF counts once);
 * the shell echoes what it reads; a command's output ends when the next prompt appears;
 * `stats -k` prints one key=value per line. Backspace/DEL erase, Ctrl-U/Ctrl-C drop the
 * line. Between commands the shell may print a link-change line ("router: lan: link
 * down"), followed by a new prompt and the partly typed line.
 *
 * The shell runs at the lowest application priority: it polls the UART every
 * ROUTER_SHELL_POLL_MS and sleeps in between, so it costs nothing under load; under an
 * RX flood it still runs because the RX tasks yield (router_main.c, router_rx_batch).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bsp.h"
#include "router.h"
#include "ucos_ii.h"
#include "vnet/vnet_err.h"

#define SHELL_PROMPT   "vnet> "
#define SHELL_MAX_ARGS 8

struct shell_cmd {
    const char *name;
    const char *args;
    const char *help;
    void (*fn)(int argc, char **argv);
};

static const struct shell_cmd shell_cmds[];

/* ---- small helpers ------------------------------------------------------------------ */

static void shell_ip(char *buf, size_t size, uint32_t ip)
{
    (void)bsp_snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16) & 255u,
                       (unsigned)(ip >> 8) & 255u, (unsigned)ip & 255u);
}

static void shell_mac(char *buf, size_t size, const uint8_t m[6])
{
    (void)bsp_snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                       m[5]);
}

/* NIC by console name; NULL (after printing why) if unknown or absent. */
static struct router_nic *shell_nic(const char *name)
{
    for (unsigned i = 0; i < ROUTER_NSIDES; i++) {
        if (strcmp(router_nics[i].name, name) == 0) {
            if (router_nics[i].dev == NULL) {
                router_printf("%s: no device\n", name);
                return NULL;
            }
            return &router_nics[i];
        }
    }
    router_printf("unknown interface '%s' (lan or wan)\n", name);
    return NULL;
}

static uint64_t shell_isr_avg(const struct virtio_net_stats *st)
{
    return st->interrupts != 0 ? st->isr_cycles_total / st->interrupts : 0;
}

/* Upper bound (cycles) of the log2 histogram bucket holding the pct-th percentile of ISR
 * durations since the last clear; 0 without interrupts. */
static uint64_t shell_isr_pct(const struct virtio_net_stats *st, unsigned pct)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < VIRTIO_NET_ISR_HIST_BUCKETS; i++)
        total += st->isr_hist[i];
    if (total == 0)
        return 0;
    uint64_t acc = 0;
    for (unsigned i = 0; i < VIRTIO_NET_ISR_HIST_BUCKETS; i++) {
        acc += st->isr_hist[i];
        if (acc * 100u >= total * pct)
            return 2ull << i;
    }
    return 2ull << (VIRTIO_NET_ISR_HIST_BUCKETS - 1u);
}

/* ---- stats -k: one key=value per line ----------------------------------------------- */

static void kv_print(const char *prefix, const char *name, uint64_t v)
{
    router_printf("%s%s=%llu\n", prefix, name, (unsigned long long)v);
}

static void kv_visit(void *arg, const char *name, uint64_t v)
{
    kv_print(arg, name, v);
}

/* Stack counters: "drop_<reason>" becomes "drop.<reason>" (stack.drop.ttl_exceeded). */
static void kv_visit_stack(void *arg, const char *name, uint64_t v)
{
    if (strncmp(name, "drop_", 5) == 0) {
        router_printf("%sdrop.%s=%llu\n", (const char *)arg, name + 5, (unsigned long long)v);
        return;
    }
    kv_print(arg, name, v);
}

static void stats_kv(void)
{
    char prefix[24];
    for (unsigned i = 0; i < ROUTER_NSIDES; i++) {
        struct router_nic *n = &router_nics[i];
        (void)bsp_snprintf(prefix, sizeof(prefix), "%s.", n->name);
        kv_print(prefix, "present", n->dev != NULL);
        if (n->dev == NULL)
            continue;
        struct virtio_net_stats st;
        if (virtio_net_get_stats(n->dev, &st) == VNET_OK)
            kv_print(prefix, "isr_cycles_avg", shell_isr_avg(&st));
        virtio_net_stats_foreach(n->dev, kv_visit, prefix);
        kv_print(prefix, "running", virtio_net_is_running(n->dev));
        kv_print(prefix, "link_up", (uint64_t)(virtio_net_link_up(n->dev) > 0));
        kv_print(prefix, "mtu", virtio_net_mtu(n->dev));
        kv_print(prefix, "features", virtio_net_features(n->dev));
        kv_print(prefix, "msix", n->msix);
        kv_print(prefix, "rx_yields", n->rx_yields);
        kv_print(prefix, "rx_handoffs", n->rx_handoffs);
        kv_print(prefix, "reinits", n->reinits);
        kv_print(prefix, "link_events", n->link_events);
#if ROUTER_MINFWD
        kv_print(prefix, "fastpath_fwd", router_fastpath_count(i, ROUTER_FP_FWD));
        kv_print(prefix, "fastpath_slow", router_fastpath_count(i, ROUTER_FP_SLOW));
        kv_print(prefix, "fastpath_drop", router_fastpath_count(i, ROUTER_FP_DROP));
#endif
    }
    for (unsigned i = 0; i < ROUTER_NSIDES; i++) {
        struct router_nic *n = &router_nics[i];
        if (n->nif == NULL)
            continue;
        (void)bsp_snprintf(prefix, sizeof(prefix), "stack.%s.", n->name);
        (void)net_if_counters(n->nif, kv_visit_stack, prefix);
    }
    net_stack_counters(kv_visit_stack, "stack.");

    struct router_heap h;
    router_heap_get(&h);
    kv_print("heap.", "total_bytes", h.total);
    kv_print("heap.", "used_bytes", h.used);
    kv_print("heap.", "free_bytes", h.free_bytes);
    kv_print("heap.", "largest_free", h.largest);
    kv_print("heap.", "used_blocks", h.used_blocks);
    kv_print("heap.", "free_blocks", h.free_blocks);

    struct router_os os;
    router_os_get(&os);
    kv_print("os.", "cpu_usage_pct", os.cpu_usage_pct);
    kv_print("os.", "ticks", os.ticks);
    kv_print("os.", "ctx_switches", os.ctx_switches);
    /* Busy share of an interval = 1 - delta idle_cycles / (delta uptime x tsc_hz). */
    kv_print("os.", "idle_cycles", os.idle_cycles);
    kv_print("os.", "uptime_ms", router_uptime_ms());
    /* Converts the drivers' cycle counters to time (bench/perf/summarise.py). */
    kv_print("os.", "tsc_hz", bsp_tsc_hz());
}

/* ---- stats: for people -------------------------------------------------------------
 * A health summary: per NIC traffic, drops by reason (non-zero only), queue high-water
 * marks and where the CPU time went; then the stack and the OS. scripts/run.sh prints
 * exactly this after its iperf3 run. `stats -k` has every counter. */

/* "name count" items of one line, comma separated; "none" when nothing was printed. */
struct items {
    unsigned n;
};

static void items_put(struct items *it, const char *name, uint64_t v)
{
    if (v == 0)
        return;
    router_printf("%s %s %llu", it->n++ == 0 ? "" : ",", name, (unsigned long long)v);
}

static void items_end(struct items *it)
{
    router_puts(it->n == 0 ? " none\n" : "\n");
    it->n = 0;
}

/* Stack counters: the non-zero drop reasons ("drop_<reason>"). */
static void items_visit_drops(void *arg, const char *name, uint64_t v)
{
    if (strncmp(name, "drop_", 5) == 0)
        items_put(arg, name + 5, v);
}

/* Stack counters wanted by name. */
struct stack_pick {
    uint64_t fwd, local, drops;
};

static void pick_visit(void *arg, const char *name, uint64_t v)
{
    struct stack_pick *p = arg;
    if (strcmp(name, "fwd_frames") == 0)
        p->fwd = v;
    else if (strcmp(name, "local_frames") == 0)
        p->local = v;
    else if (strcmp(name, "rx_drops") == 0)
        p->drops = v;
}

/* part / whole in tenths of a percent, as "12.3%". */
static void shell_pct(char *buf, size_t size, uint64_t part, uint64_t whole)
{
    uint64_t t = whole != 0 ? part * 1000u / whole : 0;
    (void)bsp_snprintf(buf, size, "%llu.%llu%%", (unsigned long long)(t / 10u),
                       (unsigned long long)(t % 10u));
}

/* Bytes as "845.5 MB" (decimal units, one decimal). */
static void shell_bytes(char *buf, size_t size, uint64_t b)
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
    unsigned u = 0;
    uint64_t tenths = b * 10u;
    while (tenths >= 10000u && u + 1u < sizeof(unit) / sizeof(unit[0])) {
        tenths /= 1000u;
        u++;
    }
    if (u == 0)
        (void)bsp_snprintf(buf, size, "%llu B", (unsigned long long)b);
    else
        (void)bsp_snprintf(buf, size, "%llu.%llu %s", (unsigned long long)(tenths / 10u),
                           (unsigned long long)(tenths % 10u), unit[u]);
}

static void stats_nic(const struct router_nic *n, uint64_t elapsed_cycles)
{
    struct virtio_net_stats st;
    if (virtio_net_get_stats(n->dev, &st) != VNET_OK)
        memset(&st, 0, sizeof(st));
    char rxb[16], txb[16];
    shell_bytes(rxb, sizeof(rxb), st.rx_bytes);
    shell_bytes(txb, sizeof(txb), st.tx_bytes);
    router_printf("%s: link %s, %s, %s; rx %llu frames (%s), tx %llu frames (%s)\n", n->name,
                  virtio_net_link_up(n->dev) > 0 ? "up" : "down", n->msix ? "MSI-X" : "INTx",
                  virtio_net_is_running(n->dev) ? "running" : "halted",
                  (unsigned long long)st.rx_packets, rxb, (unsigned long long)st.tx_packets, txb);
    struct items it = {0};
    router_puts("  drops:");
    items_put(&it, "sw_ring_full", st.rx_queue_drops);
    items_put(&it, "bad_len", st.rx_bad_len);
    items_put(&it, "bad_hdr", st.rx_bad_hdr);
    items_put(&it, "bad_used", st.bad_used);
    items_put(&it, "tx_errors", st.tx_errors);
    items_put(&it, "tx_gso_refused", st.tx_gso_refused);
    if (n->nif != NULL)
        (void)net_if_counters(n->nif, items_visit_drops, &it);
    items_end(&it);
    unsigned ring = router_offloads ? ROUTER_RX_SW_RING_OFFL : ROUTER_RX_SW_RING;
    router_printf("  queues: software ring high-water %u of %u, tx ring full %llu times%s\n",
                  (unsigned)st.rx_queue_hwm, ring, (unsigned long long)st.tx_ring_full,
                  st.broken != 0 ? ", QUEUE BROKEN (see `queues`)" : "");
    char isr[16], task[16], fn[16];
    shell_pct(isr, sizeof(isr), st.isr_cycles_total, elapsed_cycles);
    shell_pct(task, sizeof(task), st.rx_task_cycles, elapsed_cycles);
    shell_pct(fn, sizeof(fn), st.rx_fn_cycles, elapsed_cycles);
    router_printf("  time: ISR %s, RX task %s (stack %s); %llu interrupts, ISR p99 < %llu "
                  "cycles\n",
                  isr, task, fn, (unsigned long long)st.interrupts,
                  (unsigned long long)shell_isr_pct(&st, 99));
}

static void stats_human(void)
{
    uint32_t up_ms = router_uptime_ms();
    uint64_t elapsed = bsp_tsc_hz() / 1000u * up_ms;
    for (unsigned i = 0; i < ROUTER_NSIDES; i++) {
        const struct router_nic *n = &router_nics[i];
        if (n->dev == NULL)
            router_printf("%s: no device\n", n->name);
        else
            stats_nic(n, elapsed);
    }
    struct stack_pick sp = {0, 0, 0};
    net_stack_counters(pick_visit, &sp);
    router_printf("stack: forwarded %llu, to the router %llu, dropped %llu\n",
                  (unsigned long long)sp.fwd, (unsigned long long)sp.local,
                  (unsigned long long)sp.drops);
    struct router_heap h;
    router_heap_get(&h);
    struct router_os os;
    router_os_get(&os);
    char used[16], total[16];
    shell_bytes(used, sizeof(used), h.used);
    shell_bytes(total, sizeof(total), h.total);
    router_printf("os: uptime %lu.%lu s (the time shares above are of it), cpu now %u%%, "
                  "heap %s of %s used\n",
                  (unsigned long)(up_ms / 1000u), (unsigned long)(up_ms % 1000u / 100u),
                  os.cpu_usage_pct, used, total);
}

static void cmd_stats(int argc, char **argv)
{
    if (argc == 1) {
        stats_human();
        return;
    }
    if (argc == 2 && strcmp(argv[1], "-k") == 0) {
        stats_kv();
        return;
    }
    router_puts("usage: stats [-k]\n");
}

/* ---- ifconfig, route, arp ------------------------------------------------------------ */

static const char *shell_transport_name(const struct virtio_transport *t)
{
    switch (virtio_transport_kind(t)) {
    case VIRTIO_TRANSPORT_PCI_MODERN:
        return "pci-modern";
    case VIRTIO_TRANSPORT_PCI_LEGACY:
        return "pci-legacy";
    case VIRTIO_TRANSPORT_MMIO_V2:
        return "mmio";
    case VIRTIO_TRANSPORT_MMIO_V1:
        return "mmio-legacy";
    }
    return "?";
}

static void cmd_ifconfig(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (unsigned i = 0; i < ROUTER_NSIDES; i++) {
        struct router_nic *n = &router_nics[i];
        if (n->dev == NULL || n->nif == NULL) {
            router_printf("%s: no device\n", n->name);
            continue;
        }
        struct net_if_info info;
        if (net_if_get_info(n->nif, &info) != NET_OK)
            continue;
        char ip[16], mac[18];
        shell_ip(ip, sizeof(ip), info.ip);
        shell_mac(mac, sizeof(mac), info.mac);
        router_printf("%s: %s/%u mtu %u ether %s %s link %s\n", n->name, ip,
                      (unsigned)info.prefix_len, (unsigned)info.mtu, mac, info.up ? "UP" : "DOWN",
                      virtio_net_link_up(n->dev) > 0 ? "up" : "down");
#ifdef BSP_HAS_VIRTIO_MMIO
        enum virtio_transport_kind kind = virtio_transport_kind(n->tr);
        if (kind == VIRTIO_TRANSPORT_MMIO_V1 || kind == VIRTIO_TRANSPORT_MMIO_V2)
            router_printf("     slot %u %s gic intid %u, driver %s, features 0x%llx\n", n->pci_bdf,
                          shell_transport_name(n->tr), n->irq_info,
                          virtio_net_is_running(n->dev) ? "running" : "halted",
                          (unsigned long long)virtio_net_features(n->dev));
        else
            router_printf("     pci %02x:%02x.%u %s %s gic intid %u, driver %s, features "
                          "0x%llx\n",
                          n->pci_bdf >> 8, (n->pci_bdf >> 3) & 31u, n->pci_bdf & 7u,
                          shell_transport_name(n->tr), n->msix ? "msix rx" : "intx", n->irq_info,
                          virtio_net_is_running(n->dev) ? "running" : "halted",
                          (unsigned long long)virtio_net_features(n->dev));
#else
        router_printf("     pci %02x:%02x.%u %s %s %u, driver %s, features 0x%llx\n",
                      n->pci_bdf >> 8, (n->pci_bdf >> 3) & 31u, n->pci_bdf & 7u,
                      shell_transport_name(n->tr), n->msix ? "msix vector" : "intx ioapic pin",
                      n->irq_info, virtio_net_is_running(n->dev) ? "running" : "halted",
                      (unsigned long long)virtio_net_features(n->dev));
#endif
    }
}

static void cmd_route(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    router_printf("%-18s %-15s %-5s %s\n", "destination", "gateway", "if", "flags");
    for (unsigned i = 0;; i++) {
        struct net_route_info r;
        if (net_route_get(i, &r) != NET_OK)
            break;
        char dst[16], gw[16], net[24];
        shell_ip(dst, sizeof(dst), r.dest);
        (void)bsp_snprintf(net, sizeof(net), "%s/%u", dst, (unsigned)r.prefix_len);
        if (r.gateway != 0)
            shell_ip(gw, sizeof(gw), r.gateway);
        else
            (void)bsp_snprintf(gw, sizeof(gw), "on-link");
        router_printf("%-18s %-15s %-5s %s\n", net, gw, r.ifname,
                      (r.flags & NET_ROUTE_F_CONNECTED) ? "connected" : "static");
    }
}

static const char *shell_arp_state(enum net_arp_state s)
{
    switch (s) {
    case NET_ARP_INCOMPLETE:
        return "incomplete";
    case NET_ARP_REACHABLE:
        return "reachable";
    case NET_ARP_STALE:
        return "stale";
    }
    return "?";
}

static void cmd_arp(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    router_printf("%-15s %-17s %-5s %-10s %10s %7s\n", "address", "hwaddr", "if", "state", "age_ms",
                  "pending");
    unsigned shown = 0;
    for (unsigned i = 0;; i++) {
        struct net_arp_info a;
        if (net_arp_get(i, &a) != NET_OK)
            break;
        char ip[16], mac[18];
        shell_ip(ip, sizeof(ip), a.ip);
        shell_mac(mac, sizeof(mac), a.mac);
        router_printf("%-15s %-17s %-5s %-10s %10lu %7u\n", ip, mac, a.ifname,
                      shell_arp_state(a.state), (unsigned long)a.age_ms, a.pending);
        shown++;
    }
    if (shown == 0)
        router_puts("(empty)\n");
}

/* ---- reinit, mem, help --------------------------------------------------------------- */

static void cmd_reinit(int argc, char **argv)
{
    if (argc != 2) {
        router_puts("usage: reinit <lan|wan>\n");
        return;
    }
    struct router_nic *n = shell_nic(argv[1]);
    if (n == NULL)
        return;
    int herr = VNET_OK, ierr = VNET_OK;
    int r = router_reinit((enum router_side)(n - router_nics), &herr, &ierr);
    router_printf("reinit %s: halt=%s initialize=%s result=%d (%s)\n", n->name, vnet_strerror(herr),
                  vnet_strerror(ierr), r, vnet_strerror(r));
}

static void cmd_mem(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct router_heap h;
    router_heap_get(&h);
    router_printf("heap total %zu used %zu free %zu largest %zu used_blocks %u free_blocks %u\n",
                  h.total, h.used, h.free_bytes, h.largest, h.used_blocks, h.free_blocks);
}

/* Every task with stack checking: the high-water mark tells whether the stack sizes in
 * router_main.c and the driver's RX task stacks have margin (OSTaskStkChk scans for the
 * zero fill of OS_TASK_OPT_STK_CLR). */
static void cmd_tasks(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    router_printf("%-5s %-12s %10s %10s\n", "prio", "name", "used", "size");
    for (unsigned p = 0; p <= OS_LOWEST_PRIO; p++) {
        OS_STK_DATA sd;
        if (OSTaskStkChk((INT8U)p, &sd) != OS_ERR_NONE)
            continue;
        INT8U *name = NULL;
        INT8U err;
        (void)OSTaskNameGet((INT8U)p, &name, &err);
        router_printf("%-5u %-12s %10lu %10lu\n", p,
                      (err == OS_ERR_NONE && name != NULL) ? (const char *)name : "?",
                      (unsigned long)sd.OSUsed, (unsigned long)(sd.OSUsed + sd.OSFree));
    }
}

static void kv_queue(const char *prefix, const char *q, const struct virtio_net_queue_state *s)
{
    router_printf("%s%s.size=%u num_free=%u avail_idx=%u published=%u last_used=%u "
                  "used_idx=%u used_event=%u avail_event=%u avail_flags=%u used_flags=%u "
                  "cb_disabled=%u event_idx=%u broken=%u\n",
                  prefix, q, s->size, s->num_free, s->avail_idx, s->published, s->last_used,
                  s->used_idx, s->used_event, s->avail_event, s->avail_flags, s->used_flags,
                  (unsigned)s->cb_disabled, (unsigned)s->event_idx, (unsigned)s->broken);
}

/* Ring indices, hand-off flags, task states and pending interrupts: what to read when a
 * NIC stops moving frames (docs/driver.md, "Diagnosing a stalled NIC"). */
static void cmd_queues(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char prefix[24];
    for (unsigned i = 0; i < ROUTER_NSIDES; i++) {
        struct router_nic *n = &router_nics[i];
        if (n->dev == NULL)
            continue;
        struct virtio_net_debug_state d;
        if (virtio_net_get_debug_state(n->dev, &d) != VNET_OK)
            continue;
        (void)bsp_snprintf(prefix, sizeof(prefix), "%s.", n->name);
        router_printf("%srunning=%u task_scheduled=%u task_active=%u link_event=%u "
                      "sw_head=%lu sw_tail=%lu sw_size=%lu tx_free=%u tx_unkicked=%u "
                      "broken=%lu irq=%u\n",
                      prefix, (unsigned)d.running, (unsigned)d.task_scheduled,
                      (unsigned)d.task_active, (unsigned)d.link_event, (unsigned long)d.sw_head,
                      (unsigned long)d.sw_tail, (unsigned long)d.sw_size, d.tx_free, d.tx_unkicked,
                      (unsigned long)d.broken, n->irq_info);
        kv_queue(prefix, "rxq", &d.rxq);
        kv_queue(prefix, "txq", &d.txq);
    }
    for (unsigned p = 0; p <= OS_LOWEST_PRIO; p++) {
        OS_TCB t;
        if (OSTaskQuery((INT8U)p, &t) != OS_ERR_NONE)
            continue;
        router_printf("task prio=%u stat=0x%02x dly=%lu\n", p, (unsigned)t.OSTCBStat,
                      (unsigned long)t.OSTCBDly);
    }
#ifdef BSP_HAS_VIRTIO_MMIO
    for (unsigned v = 16u; v < BSP_INTID_MAX; v++) {
        uint32_t c = bsp_int_count(v);
        if (c != 0u)
            router_printf("intid %u count=%lu\n", v, (unsigned long)c);
    }
#else
    uint32_t isr[8], irr[8];
    bsp_lapic_pending(isr, irr);
    for (unsigned w = 0; w < 8u; w++) {
        if (isr[w] != 0u || irr[w] != 0u)
            router_printf("lapic vectors %u-%u: isr=0x%08lx irr=0x%08lx\n", w * 32u, w * 32u + 31u,
                          (unsigned long)isr[w], (unsigned long)irr[w]);
    }
    for (unsigned v = 0x20; v < 0x100; v++) {
        uint32_t c = bsp_int_count((uint8_t)v);
        if (c != 0u)
            router_printf("vector 0x%02x count=%lu\n", v, (unsigned long)c);
    }
#endif
}

/* Bench only (bench/perf/sample.sh): the board's tick sampler; empty unless the image was
 * built with VNET_PROF_SAMPLES > 0. */
static void cmd_prof(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "start") == 0) {
        bsp_prof_start();
        return;
    }
    if (argc != 2 || strcmp(argv[1], "stop") != 0) {
        router_printf("usage: prof start|stop\n");
        return;
    }
    bsp_prof_stop_print(router_puts);
}

static void cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (const struct shell_cmd *c = shell_cmds; c->name != NULL; c++)
        router_printf("  %-8s %-12s %s\n", c->name, c->args, c->help);
}

static const struct shell_cmd shell_cmds[] = {
    {"help", "", "this list", cmd_help},
    {"stats", "[-k]", "health: traffic, drops, queues, CPU time (-k: every counter, key=value)",
     cmd_stats},
    {"ifconfig", "", "interfaces: address, MAC, MTU, link, PCI function, interrupts", cmd_ifconfig},
    {"route", "", "routing table in lookup order", cmd_route},
    {"arp", "", "ARP cache", cmd_arp},
    {"reinit", "<lan|wan>", "virtio_net_halt() + virtio_net_initialize() of one NIC", cmd_reinit},
    {"mem", "", "heap usage", cmd_mem},
    {"queues", "", "ring indices, RX hand-off flags, task states, pending interrupts", cmd_queues},
    {"prof", "start|stop", "bench only: tick samples of the interrupted code", cmd_prof},
    {"tasks", "", "tasks: priority, name, stack bytes used (high-water) and size", cmd_tasks},
    {NULL, NULL, NULL, NULL},
};

/* ---- line input and dispatch ---------------------------------------------------------- */

/* Split `line` in place at blanks. Returns argc (at most SHELL_MAX_ARGS). */
static int shell_split(char *line, char **argv)
{
    int argc = 0;
    char *p = line;
    while (*p != '\0' && argc < SHELL_MAX_ARGS) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (*p == '\0')
            break;
        argv[argc++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
    }
    return argc;
}

static void shell_execute(char *line)
{
    char *argv[SHELL_MAX_ARGS];
    int argc = shell_split(line, argv);
    if (argc == 0)
        return;
    for (const struct shell_cmd *c = shell_cmds; c->name != NULL; c++) {
        if (strcmp(c->name, argv[0]) == 0) {
            c->fn(argc, argv);
            return;
        }
    }
    router_printf("unknown command '%s' (try help)\n", argv[0]);
}

static uint32_t shell_ms_to_ticks(uint32_t ms)
{
    uint32_t t = (uint32_t)(((uint64_t)ms * OS_TICKS_PER_SEC + 999u) / 1000u);
    return t != 0 ? t : 1u;
}

/* Link changes (counted by the RX tasks in router_nic.link_events): one console line per
 * NIC per ROUTER_LINK_LOG_MS at most, printed here between commands so it never lands
 * inside a command's output; then the prompt and the partly typed line again. */
static void shell_link_log(const char *line, size_t len)
{
    static uint64_t logged[ROUTER_NSIDES];
    static uint32_t last_tick[ROUTER_NSIDES];
    static bool ever[ROUTER_NSIDES];
    const uint32_t gap = shell_ms_to_ticks(ROUTER_LINK_LOG_MS);
    uint32_t now = OSTimeGet();
    bool printed = false;
    for (unsigned i = 0; i < ROUTER_NSIDES; i++) {
        const struct router_nic *n = &router_nics[i];
        uint64_t ev = n->link_events;
        if (n->dev == NULL || ev == logged[i] || (ever[i] && (uint32_t)(now - last_tick[i]) < gap))
            continue;
        uint64_t changes = ev - logged[i];
        router_printf("\nrouter: %s: link %s", n->name,
                      virtio_net_link_up(n->dev) > 0 ? "up" : "down");
        if (changes > 1u)
            router_printf(" (%llu changes since the last line)", (unsigned long long)changes);
        logged[i] = ev;
        last_tick[i] = now;
        ever[i] = true;
        printed = true;
    }
    if (printed) {
        router_puts("\n" SHELL_PROMPT);
        router_write(line, len);
    }
}

void router_shell_task(void *arg)
{
    (void)arg;
    char line[ROUTER_SHELL_LINE_MAX];
    size_t len = 0;
    bool last_cr = false;
    const uint32_t poll = shell_ms_to_ticks(ROUTER_SHELL_POLL_MS);

    router_puts(SHELL_PROMPT);
    for (;;) {
        int ch = router_getc();
        if (ch < 0) {
            shell_link_log(line, len);
            OSTimeDly(poll);
            continue;
        }
        if (ch == '\n' && last_cr) {
            last_cr = false; /* CR LF from a terminal: one end of line */
            continue;
        }
        last_cr = ch == '\r';
        if (ch == '\r' || ch == '\n') {
            router_puts("\n");
            line[len] = '\0';
            shell_execute(line);
            len = 0;
            router_puts(SHELL_PROMPT);
        } else if (ch == '\b' || ch == 0x7f) {
            if (len > 0) {
                len--;
                router_puts("\b \b");
            }
        } else if (ch == 0x15 || ch == 0x03) { /* Ctrl-U, Ctrl-C: drop the line */
            len = 0;
            router_puts("^U\n" SHELL_PROMPT);
        } else if (ch >= 0x20 && ch < 0x7f) {
            if (len + 1u < sizeof(line)) {
                line[len++] = (char)ch;
                char c = (char)ch;
                router_write(&c, 1);
            } else {
                router_puts("\a"); /* line full: refuse the character, audibly */
            }
        }
        /* Other control characters (escape sequences from arrow keys...) are ignored. */
    }
}
