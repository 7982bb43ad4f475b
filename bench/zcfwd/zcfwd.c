/*
 * zcfwd.c - bench-only: the zero-copy minimal forwarder (issue 14, "bench honesty").
 *
 * The limit row of the benchmarks: the least a guest can do per forwarded frame on this
 * VM. No virtio-net driver, no software ring, no stack: the virtqueue core and the PCI
 * transport drive both NICs directly, and a received buffer is handed to the other NIC's
 * TX ring as it is (the virtio-net header zeroed, the MACs rewritten, TTL and IPv4
 * checksum updated in place). When the TX ring returns it, the buffer goes back to the
 * RX ring it came from. One task does everything; the interrupt handlers only count and
 * post a semaphore. A full TX ring stops the RX side of the other NIC (the frames wait in
 * its RX virtqueue and the tap), so nothing is dropped for lack of TX space.
 *
 * What it does not do: IP options, fragmentation, ICMP errors, anything addressed to the
 * router itself except ARP. Every frame it does not forward is counted by reason under
 * stack.<nic>.drop.<reason>, the same keys the router uses, so the bench's drop columns
 * read it unchanged. ARP: answers requests for its own address, learns from every ARP
 * frame, and asks (rate-limited) for a next hop it does not know; that frame is dropped.
 *
 * ZC_RX_COPY=1 builds router-zcfwd-copy.elf: the same forwarder with the one copy per
 * frame that the seed's receive design makes. Each received buffer is copied into a spare
 * buffer from the receiving NIC's pool and goes back to the RX ring at once, as the
 * driver's ISR does with the software ring; the copy is what is forwarded, and it returns
 * to the pool when the TX ring has sent it. An empty pool stops the RX side like a full TX
 * ring. Between this row and the zero-copy one lies the cost of that copy alone; between
 * it and the router, the cost of the driver's task design and of the stack
 * (docs/performance.md).
 *
 * Console: "router: ready", then a shell at "vnet> " with `stats -k` (key=value lines in
 * the router's names: lan./wan. rx_packets, tx_packets, interrupts, kicks, wake-ups,
 * fastpath_fwd) and `help`. Board: QEMU x86_64, virtio-net-pci (modern interface), the
 * LAN NIC first in PCI order.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bsp.h"
#include "bsp_pci.h"
#include "net/net_csum.h"
#include "net/virtio_net_hdr.h"
#include "net_wire.h"
#include "osal.h"
#include "osal_port.h"
#include "ucos_ii.h"
#include "virtio/virtio_transport.h"
#include "virtio/virtq.h"
#include "vnet/virtio_transport.h"

#ifndef ZC_RX_COPY
#define ZC_RX_COPY 0 /* 1: router-zcfwd-copy.elf, one copy per received frame */
#endif

#define ZC_NSIDES     2u
#define ZC_BUF_BYTES  2048u /* header + 1514-byte frame + VLAN tag, rounded */
#define ZC_RX_BUDGET  64u   /* frames per NIC per round of the loop */
#define ZC_ARP_SLOTS  8u
#define ZC_ARP_GAP_MS 100u /* at most one ARP request per NIC per this */
#define ZC_BUSY_MS    10u  /* continuous work before the task sleeps one tick */
#define ZC_PRIO_START 5u
#define ZC_PRIO_FWD   10u
#define ZC_PRIO_SHELL 20u
#define ZC_STK        2048u
#define ZC_LINE_MAX   64u

#define ZC_ETH_HLEN 14u
#define ZC_ETH_MIN  60u
#define ZC_ARP_LEN  42u
#define ZC_ETH_IPV4 0x0800u
#define ZC_ETH_ARP  0x0806u
#define ZC_MSIX_CFG 0u
#define ZC_MSIX_RX  1u
#define ZC_MSIX_TX  2u

/* Why a received frame was not forwarded (stack.<nic>.drop.<name>). */
enum zc_drop {
    ZC_DROP_MULTICAST,  /* group address other than an ARP broadcast (IPv6 ND, mDNS...) */
    ZC_DROP_NOT_US,     /* unicast to another MAC */
    ZC_DROP_ETHERTYPE,  /* neither IPv4 nor ARP */
    ZC_DROP_BAD_LEN,    /* shorter than its headers say */
    ZC_DROP_IP_HDR,     /* not version 4 with a 20-byte header (options are not handled) */
    ZC_DROP_TTL,        /* TTL would reach 0 (no ICMP here) */
    ZC_DROP_NO_ROUTE,   /* destination in neither attached subnet */
    ZC_DROP_LOCAL,      /* IPv4 to the forwarder itself: it has no stack */
    ZC_DROP_UNRESOLVED, /* next hop's MAC unknown: ARP asked, frame dropped */
    ZC_DROP_ARP,        /* ARP not for us or malformed */
    ZC_DROP_TX_FULL,    /* an ARP answer found its own TX ring full */
    ZC_DROP_N
};

static const char *const zc_drop_name[ZC_DROP_N] = {
    "eth_multicast", "not_for_us", "ethertype",  "bad_len",   "ip_hdr",      "ttl",
    "no_route",      "local",      "unresolved", "arp_other", "arp_tx_full",
};

struct zc_buf {
    uint8_t *p; /* header, then the frame */
    uint64_t dma;
    uint8_t home; /* NIC whose RX ring it belongs to; ZC_NSIDES + NIC: that NIC's pool */
};

struct zc_arp {
    uint8_t ip[4];
    uint8_t mac[6];
    bool used;
};

struct zc_nic {
    const char *name;
    struct bsp_pci_func *pci;
    struct virtio_transport *tr;
    struct virtq *rx, *tx;
    struct zc_buf *bufs;
    uint16_t nbufs;
    struct zc_buf **pool; /* ZC_RX_COPY: free copy buffers, pool_n of them */
    uint16_t pool_n;
    uint16_t hdr_len;
    bool msix;
    uint8_t mac[6];
    uint8_t ip[4];
    struct zc_arp arp[ZC_ARP_SLOTS];
    unsigned arp_next;  /* replacement slot */
    uint64_t arp_asked; /* bsp_time_ns of the last request */
    bool rx_added, tx_added;
    /* Counters: the ISR writes `interrupts` only; the forwarding task all others. */
    volatile uint64_t interrupts;
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rx_kicks, tx_kicks, bad_used;
    uint64_t fastpath_fwd, fastpath_slow, fastpath_drop, arp_requests;
    uint64_t drop[ZC_DROP_N];
};

static struct zc_nic zc_nics[ZC_NSIDES] = {
    {.name = "lan", .ip = {198, 18, 0, 1}},
    {.name = "wan", .ip = {198, 19, 0, 1}},
};
static OS_EVENT *zc_wake;
static uint64_t zc_wakeups; /* semaphore waits that ended: the RX task's wake-ups */
static OS_STK zc_start_stk[ZC_STK], zc_fwd_stk[ZC_STK], zc_shell_stk[ZC_STK];

/* ---- interrupts: count and wake, never touch a ring ----------------------------------- */

static void zc_isr_msix(void *arg)
{
    struct zc_nic *n = arg;
    n->interrupts++;
    (void)OSSemPost(zc_wake);
}

static void zc_isr_intx(void *arg)
{
    struct zc_nic *n = arg;
    /* Reading the ISR status acknowledges and lowers the level-triggered line. */
    if (virtio_tr_isr_status(n->tr) != 0u) {
        n->interrupts++;
        (void)OSSemPost(zc_wake);
    }
}

/* ---- bring-up (spec 3.1.1) ------------------------------------------------------------ */

static bool zc_rx_post(struct zc_nic *n, struct zc_buf *b)
{
    struct virtq_seg seg = {.addr = b->dma, .len = ZC_BUF_BYTES, .device_writes = true};
    osal_dma_sync_for_device(b->p, ZC_BUF_BYTES);
    if (virtq_add(n->rx, &seg, 1, b) != VNET_OK)
        return false;
    n->rx_added = true;
    return true;
}

static vnet_err_t zc_queue(struct zc_nic *n, uint16_t idx, uint64_t feat, struct virtq **vq)
{
    uint16_t max = virtio_tr_queue_max(n->tr, idx);
    uint16_t size = 1;
    while ((uint32_t)size * 2u <= max && size < 256u)
        size = (uint16_t)(size * 2u);
    if (max == 0u || (!virtio_tr_queue_size_settable(n->tr) && size != max))
        return VNET_E_RANGE;
    vnet_err_t err =
        virtq_create(vq, idx, size, (feat & VIRTIO_RING_F_EVENT_IDX) ? VIRTQ_EVENT_IDX : 0u);
    if (err != VNET_OK)
        return err;
    uint64_t d, a, u;
    virtq_ring_addrs(*vq, &d, &a, &u);
    return virtio_tr_queue_enable(n->tr, idx, size, d, a, u, true);
}

static vnet_err_t zc_irq_setup(struct zc_nic *n)
{
    struct bsp_pci_func *f = n->pci;
    n->msix = f->msix_cap != 0u && f->msix_table_size > ZC_MSIX_TX;
    if (!n->msix)
        return bsp_pci_intx_attach(f, zc_isr_intx, n) == BSP_OK ? VNET_OK : VNET_E_IO;
    const uint16_t qv[2] = {ZC_MSIX_RX, ZC_MSIX_TX};
    vnet_err_t err = virtio_transport_use_msix(n->tr, ZC_MSIX_CFG, qv, 2u);
    if (err != VNET_OK)
        return err;
    for (uint16_t e = ZC_MSIX_CFG; e <= ZC_MSIX_TX; e++)
        if (bsp_pci_msix_attach(f, e, zc_isr_msix, n) != BSP_OK)
            return VNET_E_IO;
    return bsp_pci_msix_enable(f) == BSP_OK ? VNET_OK : VNET_E_IO;
}

/* `count` frame buffers of ZC_BUF_BYTES in one DMA allocation, each with its `home`. */
static struct zc_buf *zc_bufs_alloc(uint16_t count, uint8_t home)
{
    uint64_t dma;
    uint8_t *mem = osal_dma_buf_alloc((size_t)count * ZC_BUF_BYTES, 64, &dma);
    struct zc_buf *bufs = osal_mem_alloc(sizeof(*bufs) * count);
    if (mem == NULL || bufs == NULL)
        return NULL;
    for (uint16_t i = 0; i < count; i++) {
        bufs[i].p = mem + (size_t)i * ZC_BUF_BYTES;
        bufs[i].dma = dma + (uint64_t)i * ZC_BUF_BYTES;
        bufs[i].home = home;
    }
    return bufs;
}

static vnet_err_t zc_nic_up(struct zc_nic *n, unsigned pci_idx)
{
    n->pci = bsp_virtio_net_func(pci_idx);
    const struct virtio_pci_bus *bus = bsp_virtio_net_bus(pci_idx);
    if (n->pci == NULL || bus == NULL)
        return VNET_E_NODEV;
    vnet_err_t err = virtio_pci_transport_create(&n->tr, bus, VIRTIO_PCI_FORCE_MODERN);
    if (err == VNET_OK)
        err = zc_irq_setup(n);
    if (err == VNET_OK)
        err = virtio_tr_check_irq_wiring(n->tr);
    if (err == VNET_OK)
        err = virtio_tr_reset(n->tr);
    if (err != VNET_OK)
        return err;
    struct virtio_transport *tr = n->tr;
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER);
    uint64_t feat = virtio_tr_get_features(tr) &
                    (VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_RING_F_EVENT_IDX);
    if (!(feat & VIRTIO_F_VERSION_1) || !(feat & VIRTIO_NET_F_MAC))
        return VNET_E_FEATURES;
    virtio_tr_set_features(tr, feat);
    virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
    if (!(virtio_tr_get_status(tr) & VIRTIO_STATUS_FEATURES_OK))
        return VNET_E_FEATURES;
    n->hdr_len = VIRTIO_NET_HDR_LEN_V1;
    err = virtio_tr_read_config(tr, VIRTIO_NET_CFG_MAC, n->mac, sizeof(n->mac));
    if (err == VNET_OK)
        err = virtio_tr_config_irq_setup(tr);
    if (err == VNET_OK)
        err = zc_queue(n, VIRTIO_NET_RXQ, feat, &n->rx);
    if (err == VNET_OK)
        err = zc_queue(n, VIRTIO_NET_TXQ, feat, &n->tx);
    if (err != VNET_OK)
        return err;

    n->nbufs = virtq_size(n->rx);
    n->bufs = zc_bufs_alloc(n->nbufs, (uint8_t)(n - zc_nics));
    if (n->bufs == NULL)
        return VNET_E_NOMEM;
    for (uint16_t i = 0; i < n->nbufs; i++)
        if (!zc_rx_post(n, &n->bufs[i]))
            return VNET_E_IO;
#if ZC_RX_COPY
    struct zc_buf *pbufs = zc_bufs_alloc(n->nbufs, (uint8_t)(ZC_NSIDES + (unsigned)(n - zc_nics)));
    n->pool = osal_mem_alloc(sizeof(*n->pool) * n->nbufs);
    if (pbufs == NULL || n->pool == NULL)
        return VNET_E_NOMEM;
    for (uint16_t i = 0; i < n->nbufs; i++)
        n->pool[i] = &pbufs[i];
    n->pool_n = n->nbufs;
#endif
    (void)virtq_kick_prepare(n->rx); /* publish; notify only after DRIVER_OK */
    n->rx_added = false;
    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER_OK);
    if (virtio_tr_get_status(tr) & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
        return VNET_E_IO;
    virtq_disable_cb(n->tx);
    virtio_tr_notify(tr, VIRTIO_NET_RXQ);
    n->rx_kicks++;
    return VNET_OK;
}

/* ---- frames ---------------------------------------------------------------------------- */

static bool zc_same_subnet(const uint8_t *a, const uint8_t *b) /* /24, the bench's */
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static const uint8_t *zc_arp_find(struct zc_nic *n, const uint8_t *ip)
{
    for (unsigned i = 0; i < ZC_ARP_SLOTS; i++)
        if (n->arp[i].used && memcmp(n->arp[i].ip, ip, 4) == 0)
            return n->arp[i].mac;
    return NULL;
}

static void zc_arp_learn(struct zc_nic *n, const uint8_t *ip, const uint8_t *mac)
{
    if (!zc_same_subnet(ip, n->ip) || memcmp(ip, n->ip, 4) == 0 || (mac[0] & 1u))
        return;
    struct zc_arp *e = NULL;
    for (unsigned i = 0; i < ZC_ARP_SLOTS && e == NULL; i++)
        if (n->arp[i].used && memcmp(n->arp[i].ip, ip, 4) == 0)
            e = &n->arp[i];
    if (e == NULL) {
        e = &n->arp[n->arp_next];
        n->arp_next = (n->arp_next + 1u) % ZC_ARP_SLOTS;
    }
    memcpy(e->ip, ip, 4);
    memcpy(e->mac, mac, 6);
    e->used = true;
}

/* An ARP frame (op, sender, target) from `n` into f; returns its length. */
static uint32_t zc_arp_build(struct zc_nic *n, uint8_t *f, uint16_t op, const uint8_t *dst_mac,
                             const uint8_t *tha, const uint8_t *tpa)
{
    static const uint8_t arp_eth_ipv4[6] = {0, 1, 8, 0, 6, 4};
    uint8_t t_mac[6], t_ip[4];
    memcpy(t_mac, tha, 6); /* tha/tpa may point into f */
    memcpy(t_ip, tpa, 4);
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, n->mac, 6);
    net_put16(f + 12, ZC_ETH_ARP);
    memcpy(f + 14, arp_eth_ipv4, 6);
    net_put16(f + 20, op);
    memcpy(f + 22, n->mac, 6);
    memcpy(f + 28, n->ip, 4);
    memcpy(f + 32, t_mac, 6);
    memcpy(f + 38, t_ip, 4);
    memset(f + ZC_ARP_LEN, 0, ZC_ETH_MIN - ZC_ARP_LEN);
    return ZC_ETH_MIN;
}

enum zc_action { ZC_FORWARD, ZC_REPLY, ZC_CONSUMED, ZC_DROP };

/* ARP received on `in`: learn, answer requests for our address in place. */
static enum zc_action zc_arp_in(struct zc_nic *in, uint8_t *f, uint32_t len, uint32_t *out_len,
                                enum zc_drop *why)
{
    static const uint8_t arp_eth_ipv4[6] = {0, 1, 8, 0, 6, 4};
    if (len < ZC_ARP_LEN || memcmp(f + 14, arp_eth_ipv4, 6) != 0) {
        *why = ZC_DROP_ARP;
        return ZC_DROP;
    }
    uint16_t op = net_get16(f + 20);
    zc_arp_learn(in, f + 28, f + 22);
    if (op == 1u && memcmp(f + 38, in->ip, 4) == 0) {
        uint8_t sha[6];
        memcpy(sha, f + 22, 6);
        *out_len = zc_arp_build(in, f, 2u, sha, sha, f + 28);
        return ZC_REPLY;
    }
    if (op == 2u && memcmp(f + 38, in->ip, 4) == 0)
        return ZC_CONSUMED; /* an answer to our request: learned above */
    *why = ZC_DROP_ARP;
    return ZC_DROP;
}

/*
 * Decide what happens to the frame f (len bytes, header stripped) received on `in`:
 * ZC_FORWARD (rewritten in place for `out`), ZC_REPLY (an answer for in's TX ring, in
 * place), ZC_CONSUMED, or ZC_DROP with *why. *out_len is the length to transmit.
 */
static enum zc_action zc_decide(struct zc_nic *in, struct zc_nic *out, uint8_t *f, uint32_t len,
                                uint32_t *out_len, enum zc_drop *why)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    *out_len = len;
    if (len < ZC_ETH_HLEN) {
        *why = ZC_DROP_BAD_LEN;
        return ZC_DROP;
    }
    uint16_t type = net_get16(f + 12);
    if (f[0] & 1u) {
        if (type == ZC_ETH_ARP && memcmp(f, bcast, 6) == 0)
            return zc_arp_in(in, f, len, out_len, why);
        *why = ZC_DROP_MULTICAST;
        return ZC_DROP;
    }
    if (memcmp(f, in->mac, 6) != 0) {
        *why = ZC_DROP_NOT_US;
        return ZC_DROP;
    }
    if (type == ZC_ETH_ARP)
        return zc_arp_in(in, f, len, out_len, why);
    if (type != ZC_ETH_IPV4) {
        *why = ZC_DROP_ETHERTYPE;
        return ZC_DROP;
    }
    uint8_t *ip = f + ZC_ETH_HLEN;
    if (len < ZC_ETH_HLEN + 20u) {
        *why = ZC_DROP_BAD_LEN;
        return ZC_DROP;
    }
    if (ip[0] != 0x45u) {
        *why = ZC_DROP_IP_HDR;
        return ZC_DROP;
    }
    uint16_t tot = net_get16(ip + 2);
    if (tot < 20u || tot > len - ZC_ETH_HLEN) {
        *why = ZC_DROP_BAD_LEN;
        return ZC_DROP;
    }
    const uint8_t *dst = ip + 16;
    if (memcmp(dst, in->ip, 4) == 0 || memcmp(dst, out->ip, 4) == 0) {
        *why = ZC_DROP_LOCAL;
        return ZC_DROP;
    }
    if (!zc_same_subnet(dst, out->ip)) {
        *why = ZC_DROP_NO_ROUTE;
        return ZC_DROP;
    }
    if (ip[8] <= 1u) {
        *why = ZC_DROP_TTL;
        return ZC_DROP;
    }
    const uint8_t *mac = zc_arp_find(out, dst);
    if (mac == NULL) {
        *why = ZC_DROP_UNRESOLVED;
        return ZC_DROP;
    }
    memcpy(f, mac, 6);
    memcpy(f + 6, out->mac, 6);
    /* TTL is the high byte of the TTL/protocol word: the router stack's RFC 1624 update. */
    uint16_t old_word = net_get16(ip + 8);
    ip[8]--;
    net_put16(ip + 10, net_csum_update16(net_get16(ip + 10), old_word, net_get16(ip + 8)));
    *out_len = ZC_ETH_HLEN + tot < ZC_ETH_MIN ? len : ZC_ETH_HLEN + tot; /* strip padding */
    return ZC_FORWARD;
}

/* ---- the forwarding task ---------------------------------------------------------------- */

static bool zc_tx_post(struct zc_nic *n, struct zc_buf *b, uint32_t frame_len)
{
    memset(b->p, 0, n->hdr_len); /* no offload requested */
    uint32_t len = n->hdr_len + frame_len;
    struct virtq_seg seg = {.addr = b->dma, .len = len, .device_writes = false};
    osal_dma_sync_for_device(b->p, len);
    if (virtq_add(n->tx, &seg, 1, b) != VNET_OK)
        return false;
    n->tx_added = true;
    n->tx_packets++;
    n->tx_bytes += frame_len;
    return true;
}

/* A buffer the forwarder is done with: back to the RX ring, or the pool, it came from. */
static void zc_release(struct zc_buf *b)
{
    if (b->home >= ZC_NSIDES) {
        struct zc_nic *n = &zc_nics[b->home - ZC_NSIDES];
        n->pool[n->pool_n++] = b;
        return;
    }
    (void)zc_rx_post(&zc_nics[b->home], b);
}

/* TX buffers the device is done with go back to where they came from. */
static bool zc_reclaim(struct zc_nic *n)
{
    bool any = false;
    void *ck;
    uint32_t len;
    int r;
    while ((r = virtq_get(n->tx, &ck, &len)) > 0) {
        zc_release(ck);
        any = true;
    }
    if (r < 0)
        n->bad_used++;
    return any;
}

/* Turn an unresolvable frame into an ARP request for its next hop, rate-limited. */
static bool zc_ask(struct zc_nic *out, struct zc_buf *b, uint8_t *f)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t zero[6] = {0};
    uint64_t now = bsp_time_ns();
    if (now - out->arp_asked < (uint64_t)ZC_ARP_GAP_MS * 1000000u || virtq_num_free(out->tx) == 0u)
        return false;
    uint8_t tpa[4];
    memcpy(tpa, f + ZC_ETH_HLEN + 16, 4);
    uint32_t len = zc_arp_build(out, f, 1u, bcast, zero, tpa);
    out->arp_asked = now;
    out->arp_requests++;
    return zc_tx_post(out, b, len);
}

static bool zc_rx(struct zc_nic *in, struct zc_nic *out)
{
    unsigned done = 0;
    while (done < ZC_RX_BUDGET && virtq_num_free(out->tx) > 0u &&
           (!ZC_RX_COPY || in->pool_n > 0u)) {
        void *ck;
        uint32_t len;
        int r = virtq_get(in->rx, &ck, &len);
        if (r <= 0) {
            if (r < 0)
                in->bad_used++;
            break;
        }
        done++;
        in->rx_packets++; /* every buffer: rx_packets = fwd + slow + fastpath_drop + drops */
        struct zc_buf *b = ck;
        if (len < in->hdr_len) {
            in->drop[ZC_DROP_BAD_LEN]++;
            (void)zc_rx_post(in, b);
            continue;
        }
        osal_dma_sync_for_cpu(b->p, len);
#if ZC_RX_COPY
        struct zc_buf *c = in->pool[--in->pool_n];
        memcpy(c->p, b->p, len);
        (void)zc_rx_post(in, b);
        b = c;
#endif
        uint8_t *f = b->p + in->hdr_len;
        uint32_t flen = len - in->hdr_len, olen;
        enum zc_drop why = ZC_DROP_N;
        in->rx_bytes += flen;
        enum zc_action a = zc_decide(in, out, f, flen, &olen, &why);
        bool sent = false;
        if (a == ZC_FORWARD) {
            sent = zc_tx_post(out, b, olen);
            if (sent)
                in->fastpath_fwd++;
            else
                in->fastpath_drop++;
        } else if (a == ZC_REPLY) {
            sent = virtq_num_free(in->tx) > 0u && zc_tx_post(in, b, olen);
            if (sent)
                in->fastpath_slow++;
            else
                in->drop[ZC_DROP_TX_FULL]++;
        } else if (a == ZC_CONSUMED) {
            in->fastpath_slow++;
        } else {
            in->drop[why]++;
            if (why == ZC_DROP_UNRESOLVED)
                sent = zc_ask(out, b, f);
        }
        if (!sent)
            zc_release(b);
    }
    return done > 0u;
}

static void zc_kick(struct zc_nic *n)
{
    if (n->rx_added && virtq_kick_prepare(n->rx)) {
        virtio_tr_notify(n->tr, VIRTIO_NET_RXQ);
        n->rx_kicks++;
    }
    if (n->tx_added && virtq_kick_prepare(n->tx)) {
        virtio_tr_notify(n->tr, VIRTIO_NET_TXQ);
        n->tx_kicks++;
    }
    n->rx_added = n->tx_added = false;
}

/*
 * Interrupts on, the re-arm handshake of docs/ (enable, full barrier, re-check inside
 * virtq_enable_cb*): RX of a NIC only while the other's TX ring has room (a full ring is
 * the backpressure, its completion interrupt the wake-up), TX only while it holds buffers.
 * True when completions raced in: the caller goes round again.
 */
static bool zc_arm(void)
{
    bool pending = false;
    for (unsigned s = 0; s < ZC_NSIDES; s++) {
        struct zc_nic *n = &zc_nics[s], *o = &zc_nics[s ^ 1u];
        if (virtq_num_free(o->tx) > 0u)
            pending |= virtq_enable_cb(n->rx);
        if (virtq_num_free(n->tx) < virtq_size(n->tx))
            pending |= virtq_enable_cb_delayed(n->tx);
    }
    return pending;
}

static void zc_disarm(void)
{
    for (unsigned s = 0; s < ZC_NSIDES; s++) {
        virtq_disable_cb(zc_nics[s].rx);
        virtq_disable_cb(zc_nics[s].tx);
    }
}

static void zc_fwd_task(void *arg)
{
    (void)arg;
    uint64_t busy_since = 0;
    bool busy = false;
    zc_disarm();
    for (;;) {
        bool work = false;
        for (unsigned s = 0; s < ZC_NSIDES; s++)
            work |= zc_reclaim(&zc_nics[s]);
        for (unsigned s = 0; s < ZC_NSIDES; s++)
            work |= zc_rx(&zc_nics[s], &zc_nics[s ^ 1u]);
        for (unsigned s = 0; s < ZC_NSIDES; s++)
            zc_kick(&zc_nics[s]);
        if (work) {
            /* Lower priorities (the shell) get a tick after ZC_BUSY_MS of work. */
            uint64_t now = bsp_time_ns();
            if (!busy) {
                busy = true;
                busy_since = now;
            } else if (now - busy_since >= (uint64_t)ZC_BUSY_MS * 1000000u) {
                OSTimeDly(1);
                busy = false;
            }
            continue;
        }
        busy = false;
        if (zc_arm()) {
            zc_disarm();
            continue;
        }
        INT8U err;
        OSSemPend(zc_wake, 0, &err);
        while (OSSemAccept(zc_wake) > 0u) {
        }
        zc_wakeups++;
        zc_disarm();
    }
}

/* ---- console ----------------------------------------------------------------------------- */

static void zc_kv(const char *prefix, const char *key, uint64_t v)
{
    bsp_printf("%s%s=%llu\r\n", prefix, key, (unsigned long long)v);
}

static void zc_stats_k(void)
{
    char p[24];
    for (unsigned s = 0; s < ZC_NSIDES; s++) {
        const struct zc_nic *n = &zc_nics[s];
        (void)bsp_snprintf(p, sizeof(p), "%s.", n->name);
        zc_kv(p, "rx_packets", n->rx_packets);
        zc_kv(p, "rx_bytes", n->rx_bytes);
        zc_kv(p, "tx_packets", n->tx_packets);
        zc_kv(p, "tx_bytes", n->tx_bytes);
        zc_kv(p, "interrupts", n->interrupts);
        zc_kv(p, "rx_kicks", n->rx_kicks);
        zc_kv(p, "tx_kicks", n->tx_kicks);
        zc_kv(p, "rx_task_wakeups", s == 0u ? zc_wakeups : 0u); /* one task for both */
        zc_kv(p, "bad_used", n->bad_used);
        zc_kv(p, "fastpath_fwd", n->fastpath_fwd);
        zc_kv(p, "fastpath_slow", n->fastpath_slow);
        zc_kv(p, "fastpath_drop", n->fastpath_drop);
        zc_kv(p, "arp_requests", n->arp_requests);
        if (n->rx != NULL) {
            zc_kv(p, "rx_ring_size", virtq_size(n->rx));
            zc_kv(p, "tx_ring_size", virtq_size(n->tx));
            zc_kv(p, "tx_ring_free", virtq_num_free(n->tx));
            if (ZC_RX_COPY)
                zc_kv(p, "copy_pool_free", n->pool_n);
            zc_kv(p, "rx_broken", virtq_is_broken(n->rx));
            zc_kv(p, "tx_broken", virtq_is_broken(n->tx));
        }
    }
    for (unsigned s = 0; s < ZC_NSIDES; s++) {
        (void)bsp_snprintf(p, sizeof(p), "stack.%s.drop.", zc_nics[s].name);
        for (unsigned d = 0; d < ZC_DROP_N; d++)
            zc_kv(p, zc_drop_name[d], zc_nics[s].drop[d]);
    }
    zc_kv("os.", "ctx_switches", OSCtxSwCtr);
    zc_kv("os.", "idle_cycles", OS_CPU_IdleCycles());
    zc_kv("os.", "uptime_ms", bsp_time_ns() / 1000000u);
    zc_kv("os.", "tsc_hz", bsp_tsc_hz());
}

static void zc_exec(const char *line)
{
    if (strcmp(line, "stats -k") == 0 || strcmp(line, "stats") == 0)
        zc_stats_k();
    else if (strcmp(line, "prof start") == 0) /* bench/perf/sample.sh */
        bsp_prof_start();
    else if (strcmp(line, "prof stop") == 0)
        bsp_prof_stop_print(bsp_puts);
    else if (strcmp(line, "help") == 0)
        bsp_printf("zcfwd (bench-only %s forwarder): stats [-k], prof start|stop, help\r\n",
                   ZC_RX_COPY ? "one-copy" : "zero-copy");
    else if (line[0] != '\0')
        bsp_printf("unknown command: %s (try help)\r\n", line);
}

static void zc_shell_task(void *arg)
{
    (void)arg;
    char line[ZC_LINE_MAX];
    size_t len = 0;
    bool last_cr = false;
    INT32U poll = OS_TICKS_PER_SEC / 100u ? OS_TICKS_PER_SEC / 100u : 1u;
    bsp_puts("vnet> ");
    for (;;) {
        int ch = bsp_getc();
        if (ch < 0) {
            OSTimeDly(poll);
            continue;
        }
        if (ch == '\n' && last_cr) {
            last_cr = false; /* the LF of a CR LF */
            continue;
        }
        last_cr = ch == '\r';
        if (ch == '\r' || ch == '\n') {
            bsp_puts("\r\n");
            line[len] = '\0';
            zc_exec(line);
            len = 0;
            bsp_puts("vnet> ");
        } else if (ch >= 0x20 && ch < 0x7f && len + 1u < sizeof(line)) {
            line[len++] = (char)ch;
            char echo[2] = {(char)ch, '\0'};
            bsp_puts(echo);
        }
    }
}

/* ---- start-up ---------------------------------------------------------------------------- */

static bool zc_task(void (*fn)(void *), OS_STK *stk, INT8U prio)
{
    return OSTaskCreateExt(fn, NULL, &stk[ZC_STK - 1u], prio, prio, &stk[0], ZC_STK, NULL,
                           OS_TASK_OPT_STK_CHK | OS_TASK_OPT_STK_CLR) == OS_ERR_NONE;
}

static void zc_start_task(void *arg)
{
    (void)arg;
    bool ok = true;
    bsp_tick_start();
    void *heap;
    size_t heap_len;
    bsp_free_ram(&heap, &heap_len);
    zc_wake = OSSemCreate(0);
    if (osal_ucos2_heap_init(heap, heap_len) != VNET_OK || zc_wake == NULL)
        ok = false;
    bsp_printf("zcfwd: bench-only %s forwarder, %u virtio-net function(s)\r\n",
               ZC_RX_COPY ? "one-copy" : "zero-copy", bsp_virtio_net_count());
    for (unsigned s = 0; ok && s < ZC_NSIDES; s++) {
        struct zc_nic *n = &zc_nics[s];
        vnet_err_t err = zc_nic_up(n, s);
        if (err != VNET_OK) {
            bsp_printf("zcfwd: %s: bring-up failed (%d)\r\n", n->name, (int)err);
            ok = false;
            break;
        }
        bsp_printf("zcfwd: %s %02x:%02x:%02x:%02x:%02x:%02x %u.%u.%u.%u/24 %s, rings %u/%u\r\n",
                   n->name, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
                   n->ip[0], n->ip[1], n->ip[2], n->ip[3], n->msix ? "msix" : "intx",
                   virtq_size(n->rx), virtq_size(n->tx));
    }
    if (ok)
        ok = zc_task(zc_fwd_task, zc_fwd_stk, ZC_PRIO_FWD);
    (void)zc_task(zc_shell_task, zc_shell_stk, ZC_PRIO_SHELL);
    bsp_puts(ok ? "router: ready\r\n" : "router: start-up FAILED\r\n");
    (void)OSTaskDel(OS_PRIO_SELF);
    for (;;)
        OSTimeDly(OS_TICKS_PER_SEC);
}

int main(void)
{
    OSInit();
    if (!zc_task(zc_start_task, zc_start_stk, ZC_PRIO_START))
        bsp_exit(BSP_EXIT_FAIL);
    OSStart();
    return 0;
}
