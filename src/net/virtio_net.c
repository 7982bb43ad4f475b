/*
 * virtio-net driver (virtio 1.x spec 5.1) with the NAPI-style receive path of the user's
 * design: the ISR copies frames into a software ring and recycles descriptors at once;
 * virtio_net_rx_task delivers them and re-enables interrupts with the handshake described
 * in docs/rx-handshake.md. docs/driver.md describes the API, contexts and counters.
 *
 * Freestanding: only <string.h> (memcpy/memset) and the OS contract (osal.h).
 */
#include <string.h>
#include "net/virtio_net_priv.h"
#include "virtio/virtio_barrier.h"

#ifdef VIRTIO_NET_TEST_HOOKS
void (*virtio_net_test_hook)(struct virtio_net_dev *dev, enum virtio_net_hook_point p);
#define VNET_HOOK(dev, p)                                                                          \
    do {                                                                                           \
        if (virtio_net_test_hook != NULL)                                                          \
            virtio_net_test_hook((dev), (p));                                                      \
    } while (0)
#else
#define VNET_HOOK(dev, p)                                                                          \
    do {                                                                                           \
    } while (0)
#endif

#define VNET_BROKEN_RX 0x1u
#define VNET_BROKEN_TX 0x2u

static inline uint32_t vnet_align_up(uint32_t v, uint32_t a)
{
    return (v + a - 1u) & ~(a - 1u);
}

static inline bool vnet_is_pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1u)) == 0;
}

static uint16_t vnet_pow2_floor(uint32_t v)
{
    uint32_t p = 1;
    while (p * 2u <= v && p < 32768u)
        p *= 2u;
    return (uint16_t)p;
}

/* ---------------------------------------------------------------------------------- */
/* Pure helpers: features, MTU, MAC                                                    */
/* ---------------------------------------------------------------------------------- */

/* Spec 5.1.3.1: a feature may only be accepted together with one of its prerequisites. */
static const struct {
    uint64_t feature;
    uint64_t needs_any;
} vnet_feature_deps[] = {
    {VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM},
    {VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM},
    {VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_CSUM},
    {VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6},
    {VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM},
    {VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM},
    {VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_CSUM},
    {VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6},
    {VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_F_CTRL_VQ},
    {VIRTIO_NET_F_RSS, VIRTIO_NET_F_CTRL_VQ},
};

uint64_t virtio_net_apply_feature_deps(uint64_t f)
{
    /* Dropping one feature can orphan another (ECN after TSO), so iterate to a fixed
     * point; each pass removes at least one bit or stops, so the table size bounds it. */
    for (size_t pass = 0; pass <= sizeof(vnet_feature_deps) / sizeof(vnet_feature_deps[0]);
         pass++) {
        uint64_t before = f;
        for (size_t i = 0; i < sizeof(vnet_feature_deps) / sizeof(vnet_feature_deps[0]); i++) {
            if ((f & vnet_feature_deps[i].feature) && !(f & vnet_feature_deps[i].needs_any))
                f &= ~vnet_feature_deps[i].feature;
        }
        if (f == before)
            break;
    }
    return f;
}

vnet_err_t virtio_net_negotiate(uint64_t device, uint64_t allow, bool legacy, uint64_t *out)
{
    return virtio_net_negotiate_offloads(device, allow, legacy, 0, out);
}

vnet_err_t virtio_net_negotiate_offloads(uint64_t device, uint64_t allow, bool legacy,
                                         unsigned offloads, uint64_t *out)
{
    /* Offload bits are considered only when the application asked for them, so a user
     * with feature_allow 0 and no offload configured negotiates exactly the base set. */
    uint64_t supported = VIRTIO_NET_DRIVER_FEATURES;
    if (offloads & VIRTIO_NET_OFFLOAD_RX)
        supported |= VIRTIO_NET_RX_OFFLOAD_FEATURES;
    if (offloads & VIRTIO_NET_OFFLOAD_TX)
        supported |= VIRTIO_NET_TX_OFFLOAD_FEATURES;
    uint64_t f = device & supported;
    if (allow != 0)
        f &= allow;
    if (legacy) {
        /* The legacy interface has one 32-bit feature word and no VERSION_1 (spec 4.1.4.8
         * legacy notes); ANY_LAYOUT is what lets the header share a descriptor. */
        f &= 0xffffffffull;
        /* A merged or GSO buffer carries the header in front of its data; without
         * ANY_LAYOUT the legacy header needs its own descriptor: no offloads then. */
        if (!(f & VIRTIO_F_ANY_LAYOUT))
            f &= ~(VIRTIO_NET_RX_OFFLOAD_FEATURES | VIRTIO_NET_TX_OFFLOAD_FEATURES);
    } else {
        /* Spec 6.1: a driver using the modern interface MUST accept VERSION_1; without it
         * the header layout and endianness would be the legacy ones. */
        if (!(f & VIRTIO_F_VERSION_1))
            return VNET_E_FEATURES;
    }
    /* Without MRG_RXBUF a GSO frame would need 64 KiB RX buffers (spec 5.1.6.3.1); the
     * driver posts small ones, so receive GSO comes only with merged buffers. */
    if (!(f & VIRTIO_NET_F_MRG_RXBUF))
        f &= ~(VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6);
    *out = virtio_net_apply_feature_deps(f);
    return VNET_OK;
}

vnet_err_t virtio_net_check_mtu(uint16_t mtu)
{
    return (mtu >= VIRTIO_NET_MTU_MIN && mtu <= VIRTIO_NET_MTU_MAX) ? VNET_OK : VNET_E_RANGE;
}

void virtio_net_fallback_mac(const uint8_t fallback[6], uint8_t mac[6])
{
    static const uint8_t zero[6];
    if (memcmp(fallback, zero, 6) != 0) {
        memcpy(mac, fallback, 6);
        return;
    }
    uint32_t a = osal_random32();
    uint32_t b = osal_random32();
    mac[0] = (uint8_t)a;
    mac[1] = (uint8_t)(a >> 8);
    mac[2] = (uint8_t)(a >> 16);
    mac[3] = (uint8_t)(a >> 24);
    mac[4] = (uint8_t)b;
    mac[5] = (uint8_t)(b >> 8);
    /* IEEE 802: bit 0 of the first octet = group, bit 1 = locally administered. */
    mac[0] = (uint8_t)((mac[0] & 0xfeu) | 0x02u);
}

/* ---------------------------------------------------------------------------------- */
/* Statistics                                                                          */
/* ---------------------------------------------------------------------------------- */

#define VNET_STAT(f)                                                                               \
    {                                                                                              \
#f, offsetof(struct virtio_net_stats, f), sizeof(((struct virtio_net_stats *)0)->f)        \
    }
static const struct {
    const char *name;
    size_t off;
    size_t size;
} vnet_stat_table[] = {
    VNET_STAT(rx_queue_count),
    VNET_STAT(rx_queue_hwm),
    VNET_STAT(rx_queue_drops),
    VNET_STAT(rx_packets),
    VNET_STAT(rx_bytes),
    VNET_STAT(rx_bad_len),
    VNET_STAT(rx_bad_hdr),
    VNET_STAT(rx_gso_packets),
    VNET_STAT(tx_packets),
    VNET_STAT(tx_bytes),
    VNET_STAT(tx_ring_full),
    VNET_STAT(tx_errors),
    VNET_STAT(tx_gso_packets),
    VNET_STAT(tx_gso_refused),
    VNET_STAT(tx_csum_sw),
    VNET_STAT(interrupts),
    VNET_STAT(spurious_interrupts),
    VNET_STAT(config_interrupts),
    VNET_STAT(rx_kicks),
    VNET_STAT(tx_kicks),
    VNET_STAT(rx_kicks_deferred),
    VNET_STAT(rx_task_wakeups),
    VNET_STAT(rx_task_batches),
    VNET_STAT(recheck_hits),
    VNET_STAT(rx_defers),
    VNET_STAT(task_serviced),
    VNET_STAT(isr_budget_exhausted),
    VNET_STAT(bad_used),
    VNET_STAT(resets),
    VNET_STAT(broken),
    VNET_STAT(isr_cycles_min),
    VNET_STAT(isr_cycles_max),
    VNET_STAT(isr_cycles_total),
    VNET_STAT(rx_task_cycles),
    VNET_STAT(rx_fn_cycles),
};
#undef VNET_STAT

/* Key names of the histogram buckets: literals, so a visitor may keep the pointer. */
static const char *const vnet_hist_names[VIRTIO_NET_ISR_HIST_BUCKETS] = {
    "isr_hist_0",  "isr_hist_1",  "isr_hist_2",  "isr_hist_3",  "isr_hist_4",  "isr_hist_5",
    "isr_hist_6",  "isr_hist_7",  "isr_hist_8",  "isr_hist_9",  "isr_hist_10", "isr_hist_11",
    "isr_hist_12", "isr_hist_13", "isr_hist_14", "isr_hist_15", "isr_hist_16", "isr_hist_17",
    "isr_hist_18", "isr_hist_19", "isr_hist_20", "isr_hist_21", "isr_hist_22", "isr_hist_23",
    "isr_hist_24", "isr_hist_25", "isr_hist_26", "isr_hist_27", "isr_hist_28", "isr_hist_29",
    "isr_hist_30", "isr_hist_31",
};

unsigned virtio_net_stat_count(void)
{
    return (unsigned)(sizeof(vnet_stat_table) / sizeof(vnet_stat_table[0])) +
           VIRTIO_NET_ISR_HIST_BUCKETS;
}

/* Clear everything but the lifetime reset count. Caller holds the critical section. */
static void vnet_stats_clear_locked(struct virtio_net_dev *dev)
{
    uint64_t resets = dev->stats.resets;
    memset(&dev->stats, 0, sizeof(dev->stats));
    dev->stats.resets = resets;
}

vnet_err_t virtio_net_get_stats(const struct virtio_net_dev *dev, struct virtio_net_stats *out)
{
    if (dev == NULL || out == NULL)
        return VNET_E_INVAL;
    osal_crit_t c = osal_crit_enter();
    *out = dev->stats;
    out->rx_queue_count = dev->sw_head - VNET_READ_ONCE(dev->sw_tail);
    osal_crit_exit(c);
    return VNET_OK;
}

void virtio_net_stats_foreach(const struct virtio_net_dev *dev, virtio_net_stat_visit_fn fn,
                              void *arg)
{
    struct virtio_net_stats s;
    if (fn == NULL || virtio_net_get_stats(dev, &s) != VNET_OK)
        return;
    for (unsigned i = 0; i < sizeof(vnet_stat_table) / sizeof(vnet_stat_table[0]); i++) {
        const unsigned char *p = (const unsigned char *)&s + vnet_stat_table[i].off;
        uint64_t v;
        if (vnet_stat_table[i].size == sizeof(uint32_t)) {
            uint32_t v32;
            memcpy(&v32, p, sizeof(v32));
            v = v32;
        } else {
            memcpy(&v, p, sizeof(v));
        }
        fn(arg, vnet_stat_table[i].name, v);
    }
    for (unsigned i = 0; i < VIRTIO_NET_ISR_HIST_BUCKETS; i++)
        fn(arg, vnet_hist_names[i], s.isr_hist[i]);
}

/* ---------------------------------------------------------------------------------- */
/* RX: ISR side                                                                        */
/* ---------------------------------------------------------------------------------- */

static void vnet_rx_segs(const struct virtio_net_dev *dev, const struct virtio_net_buf *b,
                         struct virtq_seg *segs, uint16_t *n)
{
    if (dev->hdr_separate) {
        /* Legacy device without ANY_LAYOUT: the header must be alone in the first
         * descriptor (spec 5.1.6.6 legacy note). */
        segs[0] = (struct virtq_seg){b->dma, dev->hdr_len, true};
        segs[1] = (struct virtq_seg){b->dma + dev->hdr_len, dev->rx_buf_len - dev->hdr_len, true};
        *n = 2;
    } else {
        segs[0] = (struct virtq_seg){b->dma, dev->rx_buf_len, true};
        *n = 1;
    }
}

static void vnet_rx_mark_broken_locked(struct virtio_net_dev *dev)
{
    dev->stats.bad_used++;
    dev->stats.broken |= VNET_BROKEN_RX;
    osal_log("virtio-net: RX queue broken by the device (bad used entry)");
}

/* Next free software ring slot, or NULL when the ring is full. Producer side. */
static struct virtio_net_rx_sw_packet *vnet_rx_slot_locked(struct virtio_net_dev *dev)
{
    /* sw_tail is written by the task outside the critical section (vnet_rx_drain). */
    if (dev->sw_head - VNET_READ_ONCE(dev->sw_tail) > dev->sw_mask)
        return NULL;
    return &dev->sw[dev->sw_head & dev->sw_mask];
}

/* Hand the filled slot at sw_head to the task. Producer side. */
static void vnet_rx_publish_locked(struct virtio_net_dev *dev, struct virtio_net_rx_sw_packet *e,
                                   uint32_t len)
{
    uint32_t head = dev->sw_head;
    /* Frame bytes (and header) before len: the task treats len != 0 as "complete". */
    vnet_smp_wmb();
    VNET_WRITE_ONCE(e->len, len);
    /* Slot contents before the head index that hands it to the task. */
    vnet_smp_wmb();
    VNET_WRITE_ONCE(dev->sw_head, head + 1u);
    uint32_t count = head + 1u - VNET_READ_ONCE(dev->sw_tail);
    if (count > dev->stats.rx_queue_hwm)
        dev->stats.rx_queue_hwm = count;
}

/* The header in front of a received buffer (legacy ones lack num_buffers: 1). */
static void vnet_rx_read_hdr(const struct virtio_net_dev *dev, const uint8_t *p,
                             struct virtio_net_hdr *h)
{
    memset(h, 0, sizeof(*h));
    memcpy(h, p, dev->hdr_len);
    if (!dev->rx_mrg)
        h->num_buffers = 1;
}

/*
 * Is a complete received frame with header `h` one the driver may hand to rx_hdr_fn?
 * Device input: only offloads that were negotiated, GSO with a segment size, a partial
 * checksum whose field lies inside the frame, a non-GSO frame no longer than the MTU
 * allows. Counts the reason and returns false otherwise.
 */
static bool vnet_rx_hdr_ok_locked(struct virtio_net_dev *dev, const struct virtio_net_hdr *h,
                                  uint32_t len)
{
    unsigned gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (len < VIRTIO_NET_ETH_HLEN || (gso == VIRTIO_NET_HDR_GSO_NONE && len > dev->frame_max)) {
        dev->stats.rx_bad_len++;
        return false;
    }
    bool ok = (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) == 0;
    if (h->flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
        ok = ok && (dev->features & VIRTIO_NET_F_GUEST_CSUM);
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        ok = ok && (uint32_t)h->csum_start + h->csum_offset + 2u <= len;
    if (gso == VIRTIO_NET_HDR_GSO_NONE)
        ok = ok && h->gso_type == VIRTIO_NET_HDR_GSO_NONE;
    else if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
        ok = ok && (dev->features & VIRTIO_NET_F_GUEST_TSO4) && h->gso_size != 0;
    else if (gso == VIRTIO_NET_HDR_GSO_TCPV6)
        ok = ok && (dev->features & VIRTIO_NET_F_GUEST_TSO6) && h->gso_size != 0;
    else
        ok = false; /* UFO/USO were never negotiated */
    if (!ok) {
        dev->stats.rx_bad_hdr++;
        return false;
    }
    return true;
}

/*
 * Copy one received single-buffer frame (header at buf[0], hdr_len + len bytes) into the
 * software ring. Producer side: only the ISR, or the task with interrupts excluded, ever
 * runs this (caller holds the critical section).
 */
static void vnet_rx_stage_locked(struct virtio_net_dev *dev, uint8_t *buf, uint32_t len)
{
#ifdef VIRTIO_NET_RX_IN_ISR
    /* Benchmark-only OLD design: the stack runs inside the ISR on the DMA buffer. */
    dev->stats.rx_packets++;
    dev->stats.rx_bytes += len;
    dev->cfg.rx_fn(dev->cfg.rx_arg, buf + dev->hdr_len, len);
#else
    struct virtio_net_hdr h;
    if (dev->cfg.rx_hdr_fn != NULL) {
        vnet_rx_read_hdr(dev, buf, &h);
        if (!vnet_rx_hdr_ok_locked(dev, &h, len))
            return;
    }
    struct virtio_net_rx_sw_packet *e = vnet_rx_slot_locked(dev);
    if (e == NULL) {
        /* Ring full: drop, but the descriptor is still recycled by the caller, and the
         * task is woken by the ISR epilogue so the backlog drains fast. */
        dev->stats.rx_queue_drops++;
        return;
    }
    memcpy(e->data, buf + dev->hdr_len, len);
    if (dev->cfg.rx_hdr_fn != NULL)
        e->hdr = h;
    vnet_rx_publish_locked(dev, e, len);
#endif
}

/*
 * A frame being assembled from MRG_RXBUF buffers (spec 5.1.6.4): the first buffer holds
 * the header and says how many buffers the frame used; their bytes are copied straight
 * into the software ring slot at sw_head, which the task cannot see until it is published.
 * Lives for one service pass: the device publishes all buffers of a frame with one used
 * index update (QEMU's virtqueue_flush, vhost's add_used_n), so a frame whose buffers are
 * not all there is malformed, not early (Linux drops it too: "rx error: buffers missing").
 */
struct vnet_rx_frame {
    struct virtio_net_rx_sw_packet *slot; /* NULL: ring full, bytes not kept */
    uint32_t len;                         /* frame bytes so far */
    uint16_t left;                        /* buffers of this frame still to take */
    bool bad;                             /* malformed (counted): the rest is discarded */
    struct virtio_net_hdr hdr;
};

/* Take one used MRG_RXBUF buffer of `len` bytes. Producer side, critical section held. */
static void vnet_rx_mrg_buf_locked(struct virtio_net_dev *dev, struct vnet_rx_frame *fr,
                                   const uint8_t *buf, uint32_t len)
{
    if (fr->left == 0) {
        /* First buffer of a frame. */
        if (len < dev->hdr_len) {
            dev->stats.rx_bad_len++;
            return;
        }
        vnet_rx_read_hdr(dev, buf, &fr->hdr);
        if (fr->hdr.num_buffers == 0 || fr->hdr.num_buffers > dev->rx_count) {
            /* No frame can be described so: drop this buffer alone, so that the next
             * entries are still read as frames of their own. */
            dev->stats.rx_bad_hdr++;
            return;
        }
        fr->left = fr->hdr.num_buffers;
        fr->len = 0;
        fr->bad = false;
        fr->slot = vnet_rx_slot_locked(dev);
        buf += dev->hdr_len;
        len -= dev->hdr_len;
    }
    fr->left--;
    if (!fr->bad) {
        if (len > dev->rx_frame_max - fr->len) {
            /* Too long: keep taking (and recycling) the buffers it claims. */
            fr->bad = true;
            dev->stats.rx_bad_len++;
        } else {
            if (fr->slot != NULL)
                memcpy(fr->slot->data + fr->len, buf, len);
            fr->len += len;
        }
    }
    if (fr->left != 0 || fr->bad || !vnet_rx_hdr_ok_locked(dev, &fr->hdr, fr->len))
        return;
    if (fr->slot == NULL) {
        dev->stats.rx_queue_drops++;
        return;
    }
    fr->slot->hdr = fr->hdr;
    if ((fr->hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE)
        dev->stats.rx_gso_packets++;
    vnet_rx_publish_locked(dev, fr->slot, fr->len);
}

/*
 * Body of virtio_net_service_rx_ring(); caller holds the critical section.
 *
 * Used entries are taken in chunks and the chunk's buffers re-posted only after the chunk
 * was read (as Linux refills after its poll loop): re-posting each buffer at once would
 * make it outstanding again before a duplicate completion of it further down the used
 * ring is read, and the duplicate would pass as a fresh completion of stale data.
 */
#define VNET_RX_CHUNK 32u
static int vnet_rx_service_locked(struct virtio_net_dev *dev, unsigned budget, uint32_t byte_budget,
                                  bool *budget_hit)
{
    uint64_t bytes = 0; /* bytes the device wrote into the buffers taken (copy work) */
    if (dev->state != VIRTIO_NET_ST_RUNNING || dev->rxq == NULL)
        return 0;
    /* Broken by a bad used entry (virtq) or by DEVICE_NEEDS_RESET (driver flag): silent
     * until halt + initialize. */
    if (virtq_is_broken(dev->rxq) || (dev->stats.broken & VNET_BROKEN_RX))
        return VNET_E_BROKEN;
    struct virtio_net_buf *done[VNET_RX_CHUNK];
    struct vnet_rx_frame fr;
    memset(&fr, 0, sizeof(fr));
    unsigned consumed = 0;
    unsigned reposted = 0;
    bool broke = false;
    /* A merged frame is finished even past the budget: its buffers are all published
     * already, and leaving half of it would split it across passes (so one pass moves
     * at most budget + rx_count entries). Its buffers may span chunks: every buffer is
     * copied out when read, and re-posted buffers are published (able to complete again)
     * only by the kick_prepare after the loop, so a duplicate is still caught. */
    while (((consumed < budget && bytes < byte_budget) || fr.left != 0) && !broke) {
        unsigned k = 0;
        while (k < VNET_RX_CHUNK && ((consumed < budget && bytes < byte_budget) || fr.left != 0)) {
            void *cookie;
            uint32_t len;
            int r = virtq_get(dev->rxq, &cookie, &len);
            if (r == 0)
                break;
            if (r < 0) {
                vnet_rx_mark_broken_locked(dev);
                broke = true;
                break;
            }
            consumed++;
            bytes += len;
            struct virtio_net_buf *b = cookie;
            /* virtq_get bounded len by what was posted (else the queue breaks); here the
             * frame must at least hold the header and an Ethernet header. */
            if (dev->rx_mrg)
                vnet_rx_mrg_buf_locked(dev, &fr, b->cpu, len);
            else if (len < dev->hdr_len + VIRTIO_NET_ETH_HLEN ||
                     len - dev->hdr_len > dev->frame_max)
                dev->stats.rx_bad_len++;
            else
                vnet_rx_stage_locked(dev, b->cpu, len - dev->hdr_len);
            done[k++] = b;
        }
        /* Recycle at once (per chunk): the device never runs dry because the task is
         * slow; the software ring absorbs (or drops) instead. A broken queue gets nothing
         * back: it is silent until halt, which reclaims every buffer anyway. */
        for (unsigned i = 0; i < k && !broke; i++) {
            struct virtq_seg segs[2];
            uint16_t nseg;
            vnet_rx_segs(dev, done[i], segs, &nseg);
            if (virtq_add(dev->rxq, segs, nseg, done[i]) != VNET_OK) {
                /* Cannot happen on a healthy queue: virtq_get freed these descriptors. */
                vnet_rx_mark_broken_locked(dev);
                broke = true;
                break;
            }
            reposted++;
        }
        if (k < VNET_RX_CHUNK)
            break;
    }
    if (fr.left != 0 && !broke && !fr.bad) {
        /* Fewer buffers published than num_buffers said: dropped, its buffers recycled
         * (the slot was never published, so it is simply reused). */
        dev->stats.rx_bad_len++;
    }
    /* Publish the buffers; one notification per batch, only if the device asked for it
     * (spec 2.7.10). The caller writes it: now, or (ISR) left to the task. */
    if (reposted != 0 && !broke && virtq_kick_prepare(dev->rxq))
        dev->rx_notify_pending = true;
    if (budget_hit != NULL)
        *budget_hit = consumed >= budget || bytes >= byte_budget;
    return broke ? VNET_E_BROKEN : (int)consumed;
}

static void vnet_rx_handoff_locked(struct virtio_net_dev *dev);

/* Take (clear and count) a pending RX refill notification; true if there was one, which
 * the caller must then write. Caller holds the critical section. */
static bool vnet_rx_take_notify_locked(struct virtio_net_dev *dev)
{
    if (!dev->rx_notify_pending)
        return false;
    dev->rx_notify_pending = false;
    dev->stats.rx_kicks++;
    return true;
}

/* Write a pending RX refill notification now. Caller holds the critical section. */
static void vnet_rx_notify_locked(struct virtio_net_dev *dev)
{
    if (vnet_rx_take_notify_locked(dev))
        virtio_tr_notify(dev->tr, VIRTIO_NET_RXQ);
}

int virtio_net_service_rx_ring(struct virtio_net_dev *dev, unsigned budget)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    if (budget == 0)
        budget = dev->cfg.isr_budget;
    osal_crit_t c = osal_crit_enter();
    int n = vnet_rx_service_locked(dev, budget, UINT32_MAX, NULL);
    /* Frames this call staged must reach the task even though no interrupt will follow
     * (the ISR that may be pending finds the used ring empty): hand them off exactly as
     * the ISR does. Regression: review finding "service_rx_ring from a task". */
    vnet_rx_handoff_locked(dev);
    vnet_rx_notify_locked(dev);
    osal_crit_exit(c);
    return n;
}

/*
 * Schedule the RX task unless it already is. Caller holds the critical section. The flag
 * makes the post happen once per false->true transition, so the semaphore count is at
 * most 1 (docs/rx-handshake.md, "semaphore bound").
 */
static void vnet_schedule_task_locked(struct virtio_net_dev *dev)
{
    if (dev->task_scheduled)
        return;
    dev->task_scheduled = true;
    dev->stats.rx_task_wakeups++;
    (void)osal_sem_post(&dev->sem);
}

/* RX work of an interrupt. Returns true when it found something to do. */
/*
 * Hand staged frames to the RX task: callbacks off, task scheduled (once). Called after
 * every service pass outside the task, including one that stopped because the queue
 * broke: frames already copied must still be delivered. Caller holds the critical section.
 */
static void vnet_rx_handoff_locked(struct virtio_net_dev *dev)
{
#ifndef VIRTIO_NET_RX_IN_ISR
    if (dev->state != VIRTIO_NET_ST_RUNNING || dev->sw_head == dev->sw_tail)
        return;
    /* Interrupts stay off until the task has drained the backlog; the task re-enables
     * them with the handshake. */
    virtq_disable_cb(dev->rxq);
    vnet_schedule_task_locked(dev);
#else
    (void)dev;
#endif
}

/* The RX queue may be serviced and re-armed: running, and not broken by either path. */
static bool vnet_rx_queue_ok_locked(const struct virtio_net_dev *dev)
{
    return dev->state == VIRTIO_NET_ST_RUNNING && dev->rxq != NULL && !virtq_is_broken(dev->rxq) &&
           !(dev->stats.broken & VNET_BROKEN_RX);
}

static bool vnet_rx_irq_locked(struct virtio_net_dev *dev)
{
#ifndef VIRTIO_NET_RX_IN_ISR
    /*
     * Callbacks off before servicing, not after. With EVENT_IDX an enabled queue has
     * virtq_get() move used_event along with every entry taken, so the device, refilling
     * the buffers this ISR recycles, raised a fresh interrupt per entry it added
     * meanwhile; latched, it ran right after this ISR, before the task had drained
     * anything, and overflowed the software ring (bench/perf: 193 such interrupts and
     * 9,317 rx_queue_drops in a 5 s TCP run, TCG). Off also spares virtq_get() its
     * per-entry device barrier, which under TCG is a port read (osal_device_mb).
     */
    bool own = vnet_rx_queue_ok_locked(dev);
    if (own)
        virtq_disable_cb(dev->rxq);
#endif
    /* isr_budget_bytes bounds the copy work (GSO frames are up to 64 KiB each). */
    bool hit = false;
    int n = vnet_rx_service_locked(dev, dev->cfg.isr_budget, dev->cfg.isr_budget_bytes, &hit);
    if (n > 0 && hit && virtq_has_used(dev->rxq))
        dev->stats.isr_budget_exhausted++;
    bool staged = dev->sw_head != dev->sw_tail;
    vnet_rx_handoff_locked(dev);
#ifndef VIRTIO_NET_RX_IN_ISR
    if (own && !dev->task_scheduled && vnet_rx_queue_ok_locked(dev)) {
        /* Nothing handed to the task (a stray interrupt): nobody else would re-enable, so
         * re-arm here with the task's re-check (docs/rx-handshake.md, "ISR re-arm");
         * work the re-check finds goes to the task, callbacks off again. */
        VNET_HOOK(dev, VIRTIO_NET_HOOK_ISR_REARM);
        if (virtq_enable_cb(dev->rxq)) {
            dev->stats.recheck_hits++;
            virtq_disable_cb(dev->rxq);
            vnet_schedule_task_locked(dev);
            staged = true;
        }
    }
#endif
#ifndef VIRTIO_NET_RX_IN_ISR
    /*
     * A refill notification is an emulated register write; under QEMU TCG it waits for
     * the emulator's global mutex, which the I/O thread may hold for a whole batch. When
     * the task is scheduled it runs right after this ISR and writes it after its first
     * service pass (it cannot park while one is pending); the device already sees the
     * buffers. Otherwise nobody else would: write it now.
     */
    if (dev->rx_notify_pending && dev->task_scheduled)
        dev->stats.rx_kicks_deferred++;
    else
#endif
        vnet_rx_notify_locked(dev);
#ifdef VIRTIO_NET_RX_IN_ISR
    /* Old design: this ISR's frames are the batch. Without it the stack's transmits
     * (posted with SEND_MORE until the batch ends) were never kicked and nothing was
     * forwarded, since the task that normally calls batch_fn never runs in this build. */
    if (n > 0 && dev->cfg.batch_fn != NULL)
        dev->cfg.batch_fn(dev->cfg.batch_arg);
#endif
    /* Work done: frames consumed (copied or dropped) or staged ones handed off. */
    return n > 0 || staged;
}

/* floor(log2(d)) clamped to the histogram (0 -> bucket 0): one bsr, cheap in an ISR. */
static inline unsigned vnet_log2_bucket(uint64_t d)
{
    if (d == 0)
        return 0;
    unsigned b = 63u - (unsigned)__builtin_clzll(d);
    return b < VIRTIO_NET_ISR_HIST_BUCKETS ? b : VIRTIO_NET_ISR_HIST_BUCKETS - 1u;
}

static void vnet_isr_account_locked(struct virtio_net_dev *dev, uint64_t t0, bool did)
{
    uint64_t d = osal_cycles() - t0;
    if (!did)
        dev->stats.spurious_interrupts++;
    if (dev->stats.interrupts == 1 || d < dev->stats.isr_cycles_min)
        dev->stats.isr_cycles_min = d;
    if (d > dev->stats.isr_cycles_max)
        dev->stats.isr_cycles_max = d;
    dev->stats.isr_cycles_total += d;
    dev->stats.isr_hist[vnet_log2_bucket(d)]++;
}

static void vnet_config_irq_locked(struct virtio_net_dev *dev)
{
    dev->stats.config_interrupts++;
    /* Config space is read by the task (transport reads are task context). */
    dev->link_event = true;
    vnet_schedule_task_locked(dev);
}

void virtio_net_isr(struct virtio_net_dev *dev)
{
    uint64_t t0 = osal_cycles();
    osal_crit_t c = osal_crit_enter();
    dev->stats.interrupts++;
    /* Reading ISR status acknowledges it and deasserts a level-triggered line (spec
     * 4.1.4.5); do it even when halted so a stray interrupt cannot storm. */
    uint8_t isr = virtio_tr_isr_status(dev->tr);
    bool did = false;
    if (dev->state == VIRTIO_NET_ST_RUNNING) {
        if (isr & VIRTIO_ISR_CONFIG) {
            vnet_config_irq_locked(dev);
            did = true;
        }
        if (isr & VIRTIO_ISR_QUEUE)
            did = vnet_rx_irq_locked(dev) || did;
    }
    vnet_isr_account_locked(dev, t0, did);
    osal_crit_exit(c);
}

void virtio_net_rx_isr(struct virtio_net_dev *dev)
{
    uint64_t t0 = osal_cycles();
    osal_crit_t c = osal_crit_enter();
    dev->stats.interrupts++;
    bool did = dev->state == VIRTIO_NET_ST_RUNNING && vnet_rx_irq_locked(dev);
    vnet_isr_account_locked(dev, t0, did);
    osal_crit_exit(c);
}

void virtio_net_config_isr(struct virtio_net_dev *dev)
{
    uint64_t t0 = osal_cycles();
    osal_crit_t c = osal_crit_enter();
    dev->stats.interrupts++;
    bool did = false;
    if (dev->state == VIRTIO_NET_ST_RUNNING) {
        vnet_config_irq_locked(dev);
        did = true;
    }
    vnet_isr_account_locked(dev, t0, did);
    osal_crit_exit(c);
}

/* ---------------------------------------------------------------------------------- */
/* RX: task side                                                                       */
/* ---------------------------------------------------------------------------------- */

/*
 * Deliver up to `budget` frames from the software ring to rx_fn. Consumer side.
 *
 * No critical section per frame: sw_tail has one writer (this task) and is one aligned
 * 32-bit store; sw_head is read once and re-read only when the cached copy is used up.
 * Halt cannot pull the ring away meanwhile: it frees nothing until this task has parked
 * (task_active), and the state check below makes the task notice a halt within one
 * frame. The counters are added once per call (profiling showed the two critical
 * sections per frame at a few percent of the task's cycles under TCG).
 */
static unsigned vnet_rx_drain(struct virtio_net_dev *dev, unsigned budget)
{
    unsigned n = 0;
    uint64_t bytes = 0;
    uint32_t tail = dev->sw_tail;
    uint32_t head = VNET_READ_ONCE(dev->sw_head);
    while (n < budget) {
        if (VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING)
            break;
        if (head == tail) {
            head = VNET_READ_ONCE(dev->sw_head);
            if (head == tail)
                break;
        }
        struct virtio_net_rx_sw_packet *e = &dev->sw[tail & dev->sw_mask];
        /* Head index before the slot's len and bytes (pairs with the producer's wmb). */
        vnet_smp_rmb();
        uint32_t len = VNET_READ_ONCE(e->len);
        /* A published slot without a length is a producer bug, never a device input: skip
         * it (breaking out would leave the backlog non-empty and the task spinning). */
        if (len == 0)
            osal_log("virtio-net: software ring slot published empty, skipped");
        else if (dev->cfg.rx_hdr_fn != NULL)
            dev->cfg.rx_hdr_fn(dev->cfg.rx_arg, &e->hdr, e->data, len);
        else
            dev->cfg.rx_fn(dev->cfg.rx_arg, e->data, len);
        VNET_WRITE_ONCE(e->len, 0u);
        /* rx_fn's reads of the slot and the len clear complete before the tail hands the
         * slot back to the producer (a full barrier: loads must not pass the store). */
        vnet_smp_mb();
        tail++;
        VNET_WRITE_ONCE(dev->sw_tail, tail);
        n++;
        bytes += len;
    }
    if (n != 0) {
        osal_crit_t c = osal_crit_enter();
        dev->stats.rx_packets += n;
        dev->stats.rx_bytes += bytes;
        osal_crit_exit(c);
    }
    return n;
}

static void vnet_handle_link(struct virtio_net_dev *dev)
{
    osal_crit_t c = osal_crit_enter();
    bool ev = dev->link_event && dev->state == VIRTIO_NET_ST_RUNNING;
    dev->link_event = false;
    osal_crit_exit(c);
    if (!ev)
        return;
    if (virtio_tr_get_status(dev->tr) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        /* Spec 2.1.1: the device needs a reset; nothing it does is trustworthy until the
         * application runs virtio_net_halt() + virtio_net_initialize(). */
        c = osal_crit_enter();
        dev->stats.broken |= VNET_BROKEN_RX | VNET_BROKEN_TX;
        osal_crit_exit(c);
        osal_log("virtio-net: device set DEVICE_NEEDS_RESET");
        return;
    }
    if (!(dev->features & VIRTIO_NET_F_STATUS))
        return;
    uint16_t st = 0;
    if (virtio_tr_read_config(dev->tr, VIRTIO_NET_CFG_STATUS, &st, sizeof(st)) != VNET_OK)
        return;
    bool up = (st & VIRTIO_NET_S_LINK_UP) != 0;
    if (up != dev->link_up) {
        VNET_WRITE_ONCE(dev->link_up, up);
        if (dev->cfg.link_fn != NULL)
            dev->cfg.link_fn(dev->cfg.link_arg, up);
    }
}

/*
 * Write a refill notification taken under the critical section (the ISR's or this task's
 * service pass's), with interrupts on: it may wait for the emulator. Halt changes the
 * state under tx_lock and then resets the device, so checking the state under the same
 * lock keeps this write off a device being reset (as for TX kicks). Task context.
 */
static void vnet_rx_task_notify(struct virtio_net_dev *dev)
{
    VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_NOTIFY);
    osal_lock_acquire(&dev->tx_lock);
    if (VNET_READ_ONCE(dev->state) == VIRTIO_NET_ST_RUNNING)
        virtio_tr_notify(dev->tr, VIRTIO_NET_RXQ);
    osal_lock_release(&dev->tx_lock);
}

/*
 * Process until the backlog is gone and interrupts are safely re-armed. Entered with
 * task_active set; returns with task_active cleared (parked), ready to block.
 */
static void vnet_rx_task_run(struct virtio_net_dev *dev)
{
    unsigned budget = dev->cfg.rx_budget;
    unsigned woke_frames = 0; /* delivered since the wake-up or the last deferral */
    for (;;) {
        vnet_handle_link(dev);

        /* Leftover used entries first: RX interrupts are off, so nobody else will move
         * them, and servicing them before the stack runs hands the device its buffers
         * back at once instead of after a whole batch (a device out of buffers stops
         * receiving). Inside the critical section so it never interleaves with an ISR
         * that the device may still raise (disabling is only advisory, spec 2.7.7). */
        osal_crit_t c = osal_crit_enter();
        if (dev->state != VIRTIO_NET_ST_RUNNING) {
            /* Halt under way: we own the token we woke with, so clear the flag. */
            dev->task_scheduled = false;
            dev->task_active = false;
            osal_crit_exit(c);
            return;
        }
        int s = vnet_rx_service_locked(dev, budget, UINT32_MAX, NULL);
        if (s > 0)
            dev->stats.task_serviced += (uint64_t)s;
        /* This pass's notification or one an ISR left: a device waiting for one waits no
         * longer than this. One set later is seen before parking (step 1). */
        bool notify = vnet_rx_take_notify_locked(dev);
        osal_crit_exit(c);
        if (notify)
            vnet_rx_task_notify(dev);

        uint64_t t_fn = osal_cycles();
        unsigned delivered = vnet_rx_drain(dev, budget);
        woke_frames += delivered;
        if (delivered != 0) {
            VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_DRAIN);
            if (dev->cfg.batch_fn != NULL)
                dev->cfg.batch_fn(dev->cfg.batch_arg);
        }
        /* Includes a batch_fn sleep (the router's fairness yield): an upper bound. */
        t_fn = osal_cycles() - t_fn;

        c = osal_crit_enter();
        if (delivered != 0)
            dev->stats.rx_task_batches++;
        dev->stats.rx_fn_cycles += t_fn;
        bool backlog = s > 0 || delivered != 0 || dev->sw_head != dev->sw_tail || dev->link_event ||
                       dev->rx_notify_pending;
        osal_crit_exit(c);
        if (backlog)
            continue;

        /* Under load, poll once more after a period instead of re-arming at once (see
         * rx_defer_ms). Interrupts stay off and task_scheduled stays set, so nothing can
         * be lost meanwhile: the next pass services whatever the device completed. */
        if (dev->cfg.rx_defer_ms != 0 && woke_frames >= dev->cfg.rx_defer_min_frames) {
            woke_frames = 0;
            c = osal_crit_enter();
            dev->stats.rx_defers++;
            osal_crit_exit(c);
            VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_DEFER);
            osal_sleep_ms(dev->cfg.rx_defer_ms);
            continue;
        }

        /* --- Handshake (docs/rx-handshake.md). Step 1: nothing left anywhere. --- */
        VNET_HOOK(dev, VIRTIO_NET_HOOK_BACKLOG_EMPTY);
        c = osal_crit_enter();
        if (dev->state != VIRTIO_NET_ST_RUNNING) {
            dev->task_scheduled = false;
            dev->task_active = false;
            osal_crit_exit(c);
            return;
        }
        if (dev->sw_head != dev->sw_tail || dev->link_event || dev->rx_notify_pending) {
            /* An ISR staged work, or left a notification, since the check above
             * (interrupts are advisory-off). */
            osal_crit_exit(c);
            continue;
        }
        /* Step 2: from here an ISR must post again, because we may block. */
        dev->task_scheduled = false;
        osal_crit_exit(c);
        VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_CLEAR);

        /* Step 3: re-arm, full barrier, re-check used->idx (inside virtq_enable_cb). A
         * completion the device wrote before it saw the re-arm may never interrupt, so
         * the re-check result decides, not the hope of an interrupt. */
        bool go_round = false;
        c = osal_crit_enter();
        if (vnet_rx_queue_ok_locked(dev)) {
            bool pending = virtq_enable_cb(dev->rxq);
            if (pending) {
                dev->stats.recheck_hits++;
                if (!dev->task_scheduled) {
                    /* Nobody posted: keep the work ourselves, interrupts off again. No
                     * post, so the semaphore stays at 0. */
                    dev->task_scheduled = true;
                    virtq_disable_cb(dev->rxq);
                    go_round = true;
                }
                /* else an ISR ran after step 2 and posted: the token wakes us at once;
                 * going round without taking it would let the count reach 2. */
            }
        }
        if (!go_round) {
            /* Parked: halt may now free what the task uses. If the state is no longer
             * RUNNING, task_scheduled is left alone: it is true only when a token is
             * pending, which the next wait consumes. */
            dev->task_active = false;
        }
        osal_crit_exit(c);
        VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_ENABLE);
        VNET_HOOK(dev, VIRTIO_NET_HOOK_AFTER_DECIDE);
        if (go_round)
            continue;
        VNET_HOOK(dev, VIRTIO_NET_HOOK_BEFORE_BLOCK);
        return;
    }
}

void virtio_net_rx_task(void *arg)
{
    struct virtio_net_dev *dev = arg;
    for (;;) {
        vnet_err_t err = osal_sem_wait(&dev->sem, 0);
        if (err != VNET_OK) {
            /* Not expected with an infinite wait; back off instead of spinning. */
            osal_sleep_ms(1);
            continue;
        }
        osal_crit_t c = osal_crit_enter();
        if (dev->task_stop) {
            dev->task_scheduled = false;
            osal_crit_exit(c);
            return;
        }
        if (dev->state != VIRTIO_NET_ST_RUNNING) {
            /* Woken for a device that has been halted meanwhile: token consumed. */
            dev->task_scheduled = false;
            osal_crit_exit(c);
            continue;
        }
        dev->task_active = true;
        osal_crit_exit(c);
        uint64_t t0 = osal_cycles();
        vnet_rx_task_run(dev);
        t0 = osal_cycles() - t0;
        /* Parked: halt may have cleared the stats meanwhile; a late add is harmless. */
        c = osal_crit_enter();
        dev->stats.rx_task_cycles += t0;
        osal_crit_exit(c);
    }
}

/* ---------------------------------------------------------------------------------- */
/* TX                                                                                  */
/* ---------------------------------------------------------------------------------- */

/* Take back completed TX slots. Caller holds tx_lock. */
static void vnet_tx_reclaim_locked(struct virtio_net_dev *dev)
{
    for (unsigned i = 0; i < dev->tx_count; i++) {
        void *cookie;
        uint32_t len;
        int r = virtq_get(dev->txq, &cookie, &len);
        if (r == 0)
            return;
        if (r < 0) {
            osal_crit_t c = osal_crit_enter();
            dev->stats.bad_used++;
            dev->stats.broken |= VNET_BROKEN_TX;
            osal_crit_exit(c);
            osal_log("virtio-net: TX queue broken by the device (bad used entry)");
            return;
        }
        const struct virtio_net_buf *b = cookie;
        dev->tx_free[dev->tx_free_top++] = b->slot;
    }
}

static void vnet_tx_kick_locked(struct virtio_net_dev *dev)
{
    dev->tx_unkicked = 0;
    if (virtq_kick_prepare(dev->txq)) {
        virtio_tr_notify(dev->tr, VIRTIO_NET_TXQ);
        dev->stats.tx_kicks++;
    }
}

void virtio_net_csum_complete(uint8_t *frame, size_t len, uint16_t start, uint16_t offset)
{
    /* RFC 1071: the ones-complement sum is byte-order independent, so sum little-endian
     * 32-bit words (the library runs on little-endian CPUs only) and swap once at the
     * end. The field at start + offset holds the pseudo-header sum: it is the seed. */
    const uint8_t *p = frame + start;
    size_t n = len - start;
    uint64_t sum = 0;
    for (; n >= 4; p += 4, n -= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        sum += w;
    }
    if (n >= 2) {
        uint16_t w;
        memcpy(&w, p, sizeof(w));
        sum += w;
        p += 2;
        n -= 2;
    }
    if (n != 0)
        sum += p[0]; /* odd length: the last byte is the high half of a zero-padded word */
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    uint16_t c = (uint16_t)~__builtin_bswap16((uint16_t)sum);
    /* 0 and 0xffff are the same ones-complement value; a UDP checksum of 0 would mean
     * "none" (RFC 768), so send 0xffff, as Linux does (CSUM_MANGLED_0). */
    if (c == 0)
        c = 0xffffu;
    frame[(size_t)start + offset] = (uint8_t)(c >> 8);
    frame[(size_t)start + offset + 1u] = (uint8_t)c;
}

/*
 * Check a send header against what this device negotiated (virtio_net_send_hdr's
 * contract; spec 5.1.6.2.1). *sw_csum: NEEDS_CSUM without CSUM, the driver completes it.
 */
static vnet_err_t vnet_tx_check_hdr(const struct virtio_net_dev *dev,
                                    const struct virtio_net_hdr *h, size_t len, bool *sw_csum)
{
    *sw_csum = false;
    /* DATA_VALID is an RX flag (a forwarded frame carries it): ignored here. */
    if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
        return VNET_E_INVAL;
    unsigned gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (gso != VIRTIO_NET_HDR_GSO_NONE) {
        uint64_t need = gso == VIRTIO_NET_HDR_GSO_TCPV4   ? VIRTIO_NET_F_HOST_TSO4
                        : gso == VIRTIO_NET_HDR_GSO_TCPV6 ? VIRTIO_NET_F_HOST_TSO6
                                                          : 0;
        if (need == 0 || !(dev->features & need) || h->gso_size == 0 ||
            len > VIRTIO_NET_GSO_MAX_FRAME || len > dev->tx_frame_max ||
            ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(dev->features & VIRTIO_NET_F_HOST_ECN)))
            return VNET_E_UNSUPP;
        /* 5.1.6.2.1: a GSO frame must ask for the checksum (each segment gets its own). */
        if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
            return VNET_E_INVAL;
    } else {
        if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
            return VNET_E_INVAL; /* the ECN bit alone */
        if (len > dev->frame_max)
            return VNET_E_TOOBIG;
    }
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if ((size_t)h->csum_start + h->csum_offset + 2u > len)
            return VNET_E_INVAL;
        *sw_csum = !(dev->features & VIRTIO_NET_F_CSUM);
    }
    return VNET_OK;
}

vnet_err_t virtio_net_send(struct virtio_net_dev *dev, const void *frame, size_t len,
                           unsigned flags)
{
    return virtio_net_send_hdr(dev, NULL, frame, len, flags);
}

vnet_err_t virtio_net_send_hdr(struct virtio_net_dev *dev, const struct virtio_net_hdr *hdr,
                               const void *frame, size_t len, unsigned flags)
{
    if (dev == NULL || frame == NULL || len < VIRTIO_NET_ETH_HLEN)
        return VNET_E_INVAL;
    vnet_err_t err = VNET_OK;
    osal_lock_acquire(&dev->tx_lock);
    if (dev->txq == NULL || VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING) {
        dev->stats.tx_errors++;
        err = VNET_E_STATE;
        goto out;
    }
    if (virtq_is_broken(dev->txq) || (VNET_READ_ONCE(dev->stats.broken) & VNET_BROKEN_TX)) {
        dev->stats.tx_errors++;
        err = VNET_E_BROKEN;
        goto out;
    }
    bool sw_csum = false;
    if (hdr == NULL) {
        if (len > dev->frame_max)
            err = VNET_E_TOOBIG;
    } else {
        err = vnet_tx_check_hdr(dev, hdr, len, &sw_csum);
    }
    if (err != VNET_OK) {
        if (err == VNET_E_UNSUPP)
            dev->stats.tx_gso_refused++;
        else
            dev->stats.tx_errors++;
        goto out;
    }
    vnet_tx_reclaim_locked(dev);
    if (dev->tx_free_top == 0) {
        /* Frames deferred with SEND_MORE fill the ring without a kick; the device would
         * never drain them, so kick before reporting busy. */
        if (dev->tx_unkicked != 0)
            vnet_tx_kick_locked(dev);
        dev->stats.tx_ring_full++;
        err = VNET_E_BUSY;
        goto out;
    }
    uint16_t slot = dev->tx_free[--dev->tx_free_top];
    struct virtio_net_buf *b = &dev->tx_bufs[slot];
    bool gso = false;
    if (hdr == NULL) {
        /* An all-zero header means "complete frame, no GSO". Always the full 12-byte
         * struct (a constant size the compiler turns into two stores, where hdr_len
         * needed a call): with a 10-byte header the last two zeros land where the frame
         * copy below writes next. */
        static const struct virtio_net_hdr zero_hdr;
        _Static_assert(sizeof(zero_hdr) == VIRTIO_NET_HDR_LEN_V1, "12-byte header");
        memcpy(b->cpu, &zero_hdr, sizeof(zero_hdr));
        memcpy(b->cpu + dev->hdr_len, frame, len);
    } else {
        /* The header as given (validated above), num_buffers 0 (spec 5.1.6.2), the RX
         * flag DATA_VALID dropped; a checksum completed here is no longer partial. */
        struct virtio_net_hdr w = *hdr;
        w.flags = sw_csum ? 0u : (uint8_t)(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
        w.num_buffers = 0;
        if (sw_csum) {
            w.csum_start = 0;
            w.csum_offset = 0;
        }
        memcpy(b->cpu, &w, dev->hdr_len);
        /* One copy into the DMA buffer; only a frame to checksum is read a second time. */
        memcpy(b->cpu + dev->hdr_len, frame, len);
        if (sw_csum) {
            virtio_net_csum_complete(b->cpu + dev->hdr_len, len, hdr->csum_start, hdr->csum_offset);
        }
        gso = (hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE;
    }
    struct virtq_seg segs[2];
    uint16_t nseg;
    if (dev->hdr_separate) {
        segs[0] = (struct virtq_seg){b->dma, dev->hdr_len, false};
        segs[1] = (struct virtq_seg){b->dma + dev->hdr_len, (uint32_t)len, false};
        nseg = 2;
    } else {
        segs[0] = (struct virtq_seg){b->dma, (uint32_t)(dev->hdr_len + len), false};
        nseg = 1;
    }
    err = virtq_add(dev->txq, segs, nseg, b);
    if (err != VNET_OK) {
        dev->tx_free[dev->tx_free_top++] = slot;
        if (err == VNET_E_BROKEN) {
            dev->stats.tx_errors++;
        } else {
            dev->stats.tx_ring_full++;
            err = VNET_E_BUSY;
        }
        goto out;
    }
    dev->stats.tx_packets++;
    dev->stats.tx_bytes += len;
    if (gso)
        dev->stats.tx_gso_packets++;
    if (sw_csum)
        dev->stats.tx_csum_sw++;
    dev->tx_unkicked++;
    if (!(flags & VIRTIO_NET_SEND_MORE))
        vnet_tx_kick_locked(dev);
out:
    osal_lock_release(&dev->tx_lock);
    return err;
}

vnet_err_t virtio_net_flush(struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    vnet_err_t err = VNET_OK;
    osal_lock_acquire(&dev->tx_lock);
    if (dev->txq == NULL || VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING)
        err = VNET_E_STATE;
    else if (dev->tx_unkicked != 0)
        vnet_tx_kick_locked(dev);
    osal_lock_release(&dev->tx_lock);
    return err;
}

/* ---------------------------------------------------------------------------------- */
/* Bring-up and teardown                                                               */
/* ---------------------------------------------------------------------------------- */

/*
 * Free queues and buffers. The device must be reset (or never told the queue): reset
 * already returns every queue register to its initial state (spec 2.1.2, 4.1.4.3.1,
 * 4.2.2.1), so nothing is written to the device here; writing queue registers of a reset
 * device is what the spec's init order forbids (queues are set up after FEATURES_OK).
 */
static void vnet_free_rx(struct virtio_net_dev *dev)
{
    if (dev->rxq != NULL) {
        while (virtq_detach_unused(dev->rxq) != NULL)
            ;
        virtq_destroy(dev->rxq);
        dev->rxq = NULL;
    }
    if (dev->rx_dma != NULL)
        osal_dma_free(dev->rx_dma, dev->rx_dma_bytes);
    dev->rx_dma = NULL;
    osal_mem_free(dev->rx_bufs);
    dev->rx_bufs = NULL;
    osal_mem_free(dev->sw);
    dev->sw = NULL;
    osal_mem_free(dev->sw_data);
    dev->sw_data = NULL;
    /* Frames staged but not delivered are discarded with the ring (halt clears it). */
    dev->sw_head = 0;
    dev->sw_tail = 0;
    dev->rx_count = 0;
}

static void vnet_free_tx(struct virtio_net_dev *dev)
{
    if (dev->txq != NULL) {
        while (virtq_detach_unused(dev->txq) != NULL)
            ;
        virtq_destroy(dev->txq);
        dev->txq = NULL;
    }
    if (dev->tx_dma != NULL)
        osal_dma_free(dev->tx_dma, dev->tx_dma_bytes);
    dev->tx_dma = NULL;
    osal_mem_free(dev->tx_bufs);
    dev->tx_bufs = NULL;
    osal_mem_free(dev->tx_free);
    dev->tx_free = NULL;
    dev->tx_count = 0;
    dev->tx_free_top = 0;
    dev->tx_unkicked = 0;
}

/* Ring size for queue `idx`: the device's fixed size, or the smaller of its maximum and
 * what we need, as a power of two (split rings, spec 2.7). */
static vnet_err_t vnet_queue_size(struct virtio_net_dev *dev, uint16_t idx, uint32_t want,
                                  uint16_t *out)
{
    uint16_t qmax = virtio_tr_queue_max(dev->tr, idx);
    if (qmax == 0)
        return VNET_E_RANGE;
    if (!virtio_tr_queue_size_settable(dev->tr)) {
        if (!vnet_is_pow2(qmax))
            return VNET_E_RANGE;
        *out = qmax;
        return VNET_OK;
    }
    *out = vnet_pow2_floor(want < qmax ? want : qmax);
    return VNET_OK;
}

/* Allocate `count` DMA buffers of `stride` bytes in one block, with private shadows. */
static vnet_err_t vnet_alloc_bufs(uint32_t stride, uint16_t count, uint8_t **dma_blk, size_t *bytes,
                                  struct virtio_net_buf **bufs)
{
    uint64_t dma = 0;
    *bytes = (size_t)count * stride;
    *dma_blk = osal_dma_alloc(*bytes, VIRTIO_NET_RX_SLOT_ALIGN, &dma);
    if (*dma_blk == NULL)
        return VNET_E_NOMEM;
    *bufs = osal_mem_alloc(sizeof(**bufs) * count);
    if (*bufs == NULL)
        return VNET_E_NOMEM;
    for (uint16_t i = 0; i < count; i++) {
        (*bufs)[i].cpu = *dma_blk + (size_t)i * stride;
        (*bufs)[i].dma = dma + (uint64_t)i * stride;
        (*bufs)[i].slot = i;
    }
    return VNET_OK;
}

static vnet_err_t vnet_setup_queue(struct virtio_net_dev *dev, uint16_t idx, uint16_t size,
                                   struct virtq **vq, uint16_t vector)
{
    unsigned flags = 0;
    if (dev->features & VIRTIO_RING_F_EVENT_IDX)
        flags |= VIRTQ_EVENT_IDX;
    if (virtio_tr_is_legacy(dev->tr))
        flags |= VIRTQ_LEGACY_LAYOUT;
    vnet_err_t err = virtq_create(vq, idx, size, flags);
    if (err != VNET_OK)
        return err == VNET_E_INVAL ? VNET_E_RANGE : err;
    uint64_t d, a, u;
    virtq_ring_addrs(*vq, &d, &a, &u);
    err = virtio_tr_queue_setup(dev->tr, idx, size, d, a, u, vector);
    return err == VNET_OK ? VNET_OK : (err == VNET_E_RANGE ? VNET_E_RANGE : VNET_E_IO);
}

static vnet_err_t vnet_alloc_sw_ring(struct virtio_net_dev *dev)
{
    uint32_t entries = dev->cfg.rx_sw_ring_entries;
    dev->sw_stride = vnet_align_up(VIRTIO_NET_RX_PAD + dev->rx_frame_max, VIRTIO_NET_RX_SLOT_ALIGN);
    dev->sw = osal_mem_alloc(sizeof(*dev->sw) * entries);
    /* osal_mem_alloc promises no cache-line alignment: over-allocate and align here. */
    dev->sw_data = osal_mem_alloc((size_t)entries * dev->sw_stride + VIRTIO_NET_RX_SLOT_ALIGN);
    if (dev->sw == NULL || dev->sw_data == NULL)
        return VNET_E_NOMEM;
    uintptr_t base = ((uintptr_t)dev->sw_data + VIRTIO_NET_RX_SLOT_ALIGN - 1u) &
                     ~(uintptr_t)(VIRTIO_NET_RX_SLOT_ALIGN - 1u);
    for (uint32_t i = 0; i < entries; i++) {
        dev->sw[i].len = 0;
        dev->sw[i].data = (uint8_t *)(base + (uintptr_t)i * dev->sw_stride + VIRTIO_NET_RX_PAD);
    }
    dev->sw_mask = entries - 1u;
    dev->sw_head = 0;
    dev->sw_tail = 0;
    return VNET_OK;
}

vnet_err_t virtio_net_initialize(struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    osal_crit_t c = osal_crit_enter();
    enum virtio_net_state st = dev->state;
    osal_crit_exit(c);
    if (st != VIRTIO_NET_ST_HALTED)
        return VNET_E_STATE;

    struct virtio_transport *tr = dev->tr;
    bool legacy = virtio_tr_is_legacy(tr);
    bool programmed = false;
    vnet_err_t err;

    /* With MSI-X enabled on the function the shared line never fires: a configuration
     * error of the board/application, refused before the device is touched. */
    if (dev->cfg.irq_mode == VIRTIO_NET_IRQ_SHARED && virtio_tr_msix_enabled(tr))
        return VNET_E_INVAL;

    /* Spec 3.1.1 step 1: reset, bounded (the transport polls with a limit). */
    err = virtio_tr_reset(tr);
    if (err != VNET_OK) {
        err = VNET_E_TIMEOUT;
        goto fail;
    }
    /* Steps 2-3. */
    virtio_tr_add_status(tr, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER);

    /* Step 4: the subset we handle, with dependencies. */
    uint64_t f;
    unsigned offloads = 0;
#ifndef VIRTIO_NET_RX_IN_ISR
    /* (The benchmark-only ISR delivery hands the DMA buffer itself to rx_fn: one buffer
     * per frame, no header kept, so no receive offload there.) */
    if (dev->cfg.rx_hdr_fn != NULL)
        offloads |= VIRTIO_NET_OFFLOAD_RX;
#endif
    if (dev->cfg.tx_offloads)
        offloads |= VIRTIO_NET_OFFLOAD_TX;
    err = virtio_net_negotiate_offloads(virtio_tr_get_features(tr), dev->cfg.feature_allow, legacy,
                                        offloads, &f);
    if (err != VNET_OK)
        goto fail;
    /* Step 4 also allows reading config before accepting: an MTU above what we size
     * buffers for is legal (68..65535, 5.1.4.1) but unsupported, so decline the feature
     * and run at 1500 rather than fail; below 68 the device is broken (step 7 fails). */
    if (f & VIRTIO_NET_F_MTU) {
        uint16_t mtu = 0;
        if (virtio_tr_read_config(tr, VIRTIO_NET_CFG_MTU, &mtu, sizeof(mtu)) == VNET_OK &&
            mtu > VIRTIO_NET_MTU_MAX)
            f &= ~VIRTIO_NET_F_MTU;
    }
    virtio_tr_set_features(tr, f);
    dev->features = f;
    if (!legacy) {
        /* Steps 5-6: legacy devices have no FEATURES_OK (spec 3.1.2). */
        virtio_tr_add_status(tr, VIRTIO_STATUS_FEATURES_OK);
        if (!(virtio_tr_get_status(tr) & VIRTIO_STATUS_FEATURES_OK)) {
            err = VNET_E_FEATURES;
            goto fail;
        }
    }

    /* Step 7: device-specific setup. */
    dev->mtu = VIRTIO_NET_MTU_DEFAULT;
    if (f & VIRTIO_NET_F_MTU) {
        uint16_t mtu = 0;
        err = virtio_tr_read_config(tr, VIRTIO_NET_CFG_MTU, &mtu, sizeof(mtu));
        if (err != VNET_OK)
            goto fail;
        err = virtio_net_check_mtu(mtu);
        if (err != VNET_OK)
            goto fail;
        dev->mtu = mtu;
    }
    if (f & VIRTIO_NET_F_MAC) {
        err = virtio_tr_read_config(tr, VIRTIO_NET_CFG_MAC, dev->mac, sizeof(dev->mac));
        if (err != VNET_OK)
            goto fail;
    } else {
        /* Chosen once at attach so the address stays the same across re-inits. */
        memcpy(dev->mac, dev->cfg.fallback_mac, sizeof(dev->mac));
    }
    dev->link_up = true;
    if (f & VIRTIO_NET_F_STATUS) {
        uint16_t s = 0;
        err = virtio_tr_read_config(tr, VIRTIO_NET_CFG_STATUS, &s, sizeof(s));
        if (err != VNET_OK)
            goto fail;
        dev->link_up = (s & VIRTIO_NET_S_LINK_UP) != 0;
    }
    /* Spec 5.1.6: num_buffers is there with VERSION_1 or MRG_RXBUF (legacy). */
    dev->hdr_len = (f & (VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MRG_RXBUF)) ? VIRTIO_NET_HDR_LEN_V1
                                                                       : VIRTIO_NET_HDR_LEN_LEGACY;
    dev->hdr_separate = legacy && !(f & VIRTIO_F_ANY_LAYOUT);
    dev->rx_mrg = (f & VIRTIO_NET_F_MRG_RXBUF) != 0;
    /* Spec 5.1.6.3.1: buffers must hold an MTU-sized packet plus the link header; a
     * VLAN tag is allowed for on top. */
    dev->frame_max = (uint32_t)dev->mtu + VIRTIO_NET_ETH_HLEN + VIRTIO_NET_VLAN_HLEN;
    dev->rx_frame_max = (f & (VIRTIO_NET_F_GUEST_TSO4 | VIRTIO_NET_F_GUEST_TSO6))
                            ? VIRTIO_NET_GSO_MAX_FRAME
                            : dev->frame_max;
    dev->tx_frame_max = (f & (VIRTIO_NET_F_HOST_TSO4 | VIRTIO_NET_F_HOST_TSO6))
                            ? VIRTIO_NET_GSO_MAX_FRAME
                            : dev->frame_max;
    /* Without MRG_RXBUF (and then without receive GSO) one buffer holds one frame;
     * with it the size is chosen once the number of posted buffers is known. */
    dev->rx_buf_len = dev->hdr_len + dev->frame_max;
    dev->buf_stride = vnet_align_up(dev->rx_buf_len, VIRTIO_NET_RX_SLOT_ALIGN);
    dev->tx_stride = vnet_align_up(dev->hdr_len + dev->tx_frame_max, VIRTIO_NET_RX_SLOT_ALIGN);
    uint16_t nseg = dev->hdr_separate ? 2 : 1;

    /* Queues: RX = 0, TX = 1 (spec 5.1.2). */
    uint16_t rxsize, txsize;
    uint32_t rx_want = dev->cfg.rx_posted ? dev->cfg.rx_posted : VIRTIO_NET_QUEUE_MAX_USED;
    uint32_t tx_want = dev->cfg.tx_slots ? dev->cfg.tx_slots : VIRTIO_NET_QUEUE_MAX_USED;
    err = vnet_queue_size(dev, VIRTIO_NET_RXQ, rx_want * nseg, &rxsize);
    if (err == VNET_OK)
        err = vnet_queue_size(dev, VIRTIO_NET_TXQ, tx_want * nseg, &txsize);
    if (err != VNET_OK)
        goto fail;
    if (rxsize < nseg || txsize < nseg) {
        err = VNET_E_RANGE;
        goto fail;
    }
    dev->rx_count = (uint16_t)(rxsize / nseg < rx_want ? rxsize / nseg : rx_want);
    dev->tx_count = (uint16_t)(txsize / nseg < tx_want ? txsize / nseg : tx_want);

    bool msix = dev->cfg.irq_mode == VIRTIO_NET_IRQ_MSIX;
    programmed = true;
    if (msix) {
        err = virtio_tr_set_config_vector(tr, dev->cfg.msix_config_vector);
        if (err != VNET_OK) {
            err = VNET_E_IO;
            goto fail;
        }
    }
    err = vnet_setup_queue(dev, VIRTIO_NET_RXQ, rxsize, &dev->rxq,
                           msix ? dev->cfg.msix_rx_vector : VIRTIO_PCI_NO_VECTOR);
    if (err != VNET_OK)
        goto fail;
    /* TX completions are reclaimed on the send path: no vector, callbacks off. */
    err = vnet_setup_queue(dev, VIRTIO_NET_TXQ, txsize, &dev->txq, VIRTIO_PCI_NO_VECTOR);
    if (err != VNET_OK)
        goto fail;
    virtq_disable_cb(dev->txq);

    if (dev->rx_mrg) {
        /* Merged buffers of the configured size, but all posted buffers together must
         * hold the largest frame, or the device could never deliver it and would wait for
         * buffers forever. */
        uint32_t need = dev->hdr_len + dev->rx_frame_max;
        uint32_t per = (need + dev->rx_count - 1u) / dev->rx_count;
        uint32_t want = dev->cfg.rx_mrg_buf_bytes;
        dev->rx_buf_len = vnet_align_up(per > want ? per : want, VIRTIO_NET_RX_SLOT_ALIGN);
        dev->buf_stride = dev->rx_buf_len;
    }
    err = vnet_alloc_bufs(dev->buf_stride, dev->rx_count, &dev->rx_dma, &dev->rx_dma_bytes,
                          &dev->rx_bufs);
    if (err == VNET_OK)
        err = vnet_alloc_bufs(dev->tx_stride, dev->tx_count, &dev->tx_dma, &dev->tx_dma_bytes,
                              &dev->tx_bufs);
    if (err == VNET_OK) {
        dev->tx_free = osal_mem_alloc(sizeof(*dev->tx_free) * dev->tx_count);
        if (dev->tx_free == NULL)
            err = VNET_E_NOMEM;
    }
    if (err == VNET_OK)
        err = vnet_alloc_sw_ring(dev);
    if (err != VNET_OK)
        goto fail;
    for (uint16_t i = 0; i < dev->tx_count; i++)
        dev->tx_free[i] = (uint16_t)(dev->tx_count - 1u - i);
    dev->tx_free_top = dev->tx_count;
    dev->tx_unkicked = 0;

    for (uint16_t i = 0; i < dev->rx_count; i++) {
        struct virtq_seg segs[2];
        uint16_t n;
        vnet_rx_segs(dev, &dev->rx_bufs[i], segs, &n);
        err = virtq_add(dev->rxq, segs, n, &dev->rx_bufs[i]);
        if (err != VNET_OK) {
            err = VNET_E_IO;
            goto fail;
        }
    }
    /* Publish the RX buffers now; the notification waits for DRIVER_OK (spec 3.1.1
     * step 8: the device may not be notified before it is live). */
    (void)virtq_kick_prepare(dev->rxq);

    c = osal_crit_enter();
    vnet_stats_clear_locked(dev);
    dev->link_event = false;
    /* The ISR must see RUNNING before the device can interrupt (after DRIVER_OK). */
    dev->state = VIRTIO_NET_ST_RUNNING;
    osal_crit_exit(c);

    virtio_tr_add_status(tr, VIRTIO_STATUS_DRIVER_OK);
    if (virtio_tr_get_status(tr) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        /* Live already (the ISR and task may run): unwind through halt, which waits for
         * them, then give up on the device. */
        vnet_err_t herr = virtio_net_halt(dev);
        if (herr != VNET_OK)
            return herr; /* still HALTING: the caller must call halt again */
        virtio_tr_add_status(tr, VIRTIO_STATUS_FAILED);
        return VNET_E_IO;
    }
    virtio_tr_notify(tr, VIRTIO_NET_RXQ);
    c = osal_crit_enter();
    dev->stats.rx_kicks++;
    osal_crit_exit(c);
    return VNET_OK;

fail:
    /* The device may hold ring addresses: stop it before freeing what it points at. A
     * reset that times out here leaves it unusable anyway; FAILED tells it we gave up. */
    if (programmed)
        (void)virtio_tr_reset(tr);
    vnet_free_tx(dev);
    vnet_free_rx(dev);
    virtio_tr_add_status(tr, VIRTIO_STATUS_FAILED);
    dev->features = 0;
    c = osal_crit_enter();
    dev->state = VIRTIO_NET_ST_HALTED;
    osal_crit_exit(c);
    return err;
}

vnet_err_t virtio_net_halt(struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    /* Taking the TX lock first means no sender is between its state check and its kick
     * when the state changes, so nothing is posted or notified after the reset below. */
    osal_lock_acquire(&dev->tx_lock);
    osal_crit_t c = osal_crit_enter();
    if (dev->state == VIRTIO_NET_ST_HALTED) {
        osal_crit_exit(c);
        osal_lock_release(&dev->tx_lock);
        return VNET_E_STATE;
    }
    /* From here the ISR and the task leave the queues and the software ring alone; a
     * repeated halt after a timeout resumes here. */
    dev->state = VIRTIO_NET_ST_HALTING;
    osal_crit_exit(c);
    osal_lock_release(&dev->tx_lock);

    /* Reset first so the device stops writing into buffers we are about to free (spec
     * 2.1.2: after reset it no longer uses the queues). If it does not complete, memory
     * stays allocated: freeing it could let a live device scribble over the heap. */
    if (virtio_tr_reset(dev->tr) != VNET_OK)
        return VNET_E_TIMEOUT;

    /* The RX task may be inside rx_fn on a software ring slot: wait until it parks. */
    for (uint32_t waited = 0;; waited++) {
        c = osal_crit_enter();
        bool active = dev->task_active;
        osal_crit_exit(c);
        if (!active)
            break;
        if (waited >= VIRTIO_NET_HALT_WAIT_MS)
            return VNET_E_TIMEOUT;
        osal_sleep_ms(1);
    }

    osal_lock_acquire(&dev->tx_lock);
    vnet_free_tx(dev);
    osal_lock_release(&dev->tx_lock);
    vnet_free_rx(dev);

    c = osal_crit_enter();
    vnet_stats_clear_locked(dev);
    dev->stats.resets++;
    dev->features = 0;
    dev->link_event = false;
    dev->state = VIRTIO_NET_ST_HALTED;
    osal_crit_exit(c);
    return VNET_OK;
}

vnet_err_t virtio_net_attach(struct virtio_net_dev **out, const struct virtio_net_config *cfg)
{
    if (out == NULL || cfg == NULL || cfg->transport == NULL || cfg->rx_fn == NULL)
        return VNET_E_INVAL;
    uint32_t entries =
        cfg->rx_sw_ring_entries ? cfg->rx_sw_ring_entries : VIRTIO_NET_SW_RING_DEFAULT;
    if (!vnet_is_pow2(entries) || entries > 32768u)
        return VNET_E_INVAL;
    if (cfg->irq_mode != VIRTIO_NET_IRQ_SHARED && cfg->irq_mode != VIRTIO_NET_IRQ_MSIX)
        return VNET_E_INVAL;
    if (cfg->rx_mrg_buf_bytes != 0 && (cfg->rx_mrg_buf_bytes < VIRTIO_NET_RX_MRG_BUF_MIN ||
                                       cfg->rx_mrg_buf_bytes > VIRTIO_NET_RX_MRG_BUF_MAX))
        return VNET_E_INVAL;

    struct virtio_net_dev *dev = osal_mem_alloc(sizeof(*dev));
    if (dev == NULL)
        return VNET_E_NOMEM;
    memset(dev, 0, sizeof(*dev));
    dev->cfg = *cfg;
    dev->cfg.rx_sw_ring_entries = (uint16_t)entries;
    if (dev->cfg.isr_budget == 0)
        dev->cfg.isr_budget = VIRTIO_NET_BUDGET_DEFAULT;
    if (dev->cfg.isr_budget_bytes == 0)
        dev->cfg.isr_budget_bytes = UINT32_MAX; /* no byte limit */
    if (dev->cfg.rx_budget == 0)
        dev->cfg.rx_budget = VIRTIO_NET_BUDGET_DEFAULT;
    if (dev->cfg.rx_mrg_buf_bytes == 0)
        dev->cfg.rx_mrg_buf_bytes = VIRTIO_NET_RX_MRG_BUF;
    if (dev->cfg.rx_defer_min_frames == 0)
        dev->cfg.rx_defer_min_frames = dev->cfg.rx_budget;
    if (dev->cfg.rx_posted > VIRTIO_NET_QUEUE_MAX_USED)
        dev->cfg.rx_posted = VIRTIO_NET_QUEUE_MAX_USED;
    if (dev->cfg.tx_slots > VIRTIO_NET_QUEUE_MAX_USED)
        dev->cfg.tx_slots = VIRTIO_NET_QUEUE_MAX_USED;
    if (dev->cfg.name == NULL)
        dev->cfg.name = "vnet_rx";
    /* Decided once so the address survives halt/initialize cycles. */
    virtio_net_fallback_mac(cfg->fallback_mac, dev->cfg.fallback_mac);
    dev->tr = cfg->transport;
    dev->state = VIRTIO_NET_ST_HALTED;

    vnet_err_t err = osal_sem_init(&dev->sem, 0);
    if (err != VNET_OK)
        goto fail_sem;
    err = osal_lock_init(&dev->tx_lock);
    if (err != VNET_OK)
        goto fail_lock;
    struct osal_task_params tp = {
        .name = dev->cfg.name,
        .entry = virtio_net_rx_task,
        .arg = dev,
        .prio = dev->cfg.rx_task_prio,
        .stack = dev->cfg.rx_task_stack,
        .stack_bytes = dev->cfg.rx_task_stack_bytes,
    };
    err = osal_task_create(&dev->task, &tp);
    if (err != VNET_OK)
        goto fail_task;
    *out = dev;
    return VNET_OK;

fail_task:
    osal_lock_destroy(&dev->tx_lock);
fail_lock:
    osal_sem_destroy(&dev->sem);
fail_sem:
    osal_mem_free(dev);
    return err == VNET_E_NOMEM || err == VNET_E_INVAL ? err : VNET_E_OS;
}

vnet_err_t virtio_net_detach(struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return VNET_E_INVAL;
    osal_crit_t c = osal_crit_enter();
    bool halted = dev->state == VIRTIO_NET_ST_HALTED;
    osal_crit_exit(c);
    if (!halted) {
        vnet_err_t err = virtio_net_halt(dev);
        if (err != VNET_OK)
            return err;
    }
    c = osal_crit_enter();
    dev->task_stop = true;
    /* Same rule as the ISR: post only on the false->true transition. A pending token
     * wakes the task anyway, and it checks task_stop first. The post itself happens after
     * the critical section: from a task it may switch to the RX task at once. */
    bool post = !dev->task_scheduled;
    dev->task_scheduled = true;
    osal_crit_exit(c);
    if (post)
        (void)osal_sem_post(&dev->sem);
    vnet_err_t err = osal_task_join(&dev->task);
    if (err != VNET_OK)
        return err;
    osal_lock_destroy(&dev->tx_lock);
    osal_sem_destroy(&dev->sem);
    osal_mem_free(dev);
    return VNET_OK;
}

/* ---------------------------------------------------------------------------------- */
/* Accessors                                                                           */
/* ---------------------------------------------------------------------------------- */

static void vnet_queue_state(const struct virtq *vq, struct virtio_net_queue_state *o)
{
    struct virtq_state st;
    virtq_get_state(vq, &st);
    *o = (struct virtio_net_queue_state){
        .size = st.size,
        .num_free = st.num_free,
        .avail_idx = st.avail_idx,
        .published = st.published,
        .last_used = st.last_used,
        .used_idx = st.used_idx,
        .used_event = st.used_event,
        .avail_event = st.avail_event,
        .avail_flags = st.avail_flags,
        .used_flags = st.used_flags,
        .cb_disabled = st.cb_disabled,
        .event_idx = st.event_idx,
        .broken = st.broken,
    };
}

vnet_err_t virtio_net_get_debug_state(struct virtio_net_dev *dev,
                                      struct virtio_net_debug_state *out)
{
    if (dev == NULL || out == NULL)
        return VNET_E_INVAL;
    memset(out, 0, sizeof(*out));
    osal_lock_acquire(&dev->tx_lock);
    osal_crit_t c = osal_crit_enter();
    out->running = dev->state == VIRTIO_NET_ST_RUNNING;
    out->task_scheduled = dev->task_scheduled;
    out->task_active = dev->task_active;
    out->link_event = dev->link_event;
    out->sw_head = dev->sw_head;
    out->sw_tail = VNET_READ_ONCE(dev->sw_tail);
    out->sw_size = dev->sw_mask + 1u;
    out->broken = dev->stats.broken;
    if (out->running && dev->rxq != NULL)
        vnet_queue_state(dev->rxq, &out->rxq);
    osal_crit_exit(c);
    if (out->running && dev->txq != NULL) {
        vnet_queue_state(dev->txq, &out->txq);
        out->tx_free = dev->tx_free_top;
        out->tx_unkicked = dev->tx_unkicked;
    }
    osal_lock_release(&dev->tx_lock);
    return VNET_OK;
}

vnet_err_t virtio_net_get_mac(const struct virtio_net_dev *dev, uint8_t mac[6])
{
    if (dev == NULL || mac == NULL)
        return VNET_E_INVAL;
    if (VNET_READ_ONCE(dev->state) != VIRTIO_NET_ST_RUNNING) {
        memcpy(mac, dev->cfg.fallback_mac, 6);
        return VNET_E_STATE;
    }
    memcpy(mac, dev->mac, 6);
    return VNET_OK;
}

int virtio_net_link_up(const struct virtio_net_dev *dev)
{
    if (dev == NULL)
        return 0;
    if (!(dev->features & VIRTIO_NET_F_STATUS))
        return 1;
    return VNET_READ_ONCE(dev->link_up) ? 1 : 0;
}

uint64_t virtio_net_features(const struct virtio_net_dev *dev)
{
    return dev == NULL ? 0 : dev->features;
}

uint16_t virtio_net_mtu(const struct virtio_net_dev *dev)
{
    return (dev == NULL || dev->features == 0) ? VIRTIO_NET_MTU_DEFAULT : dev->mtu;
}

bool virtio_net_is_running(const struct virtio_net_dev *dev)
{
    return dev != NULL && VNET_READ_ONCE(dev->state) == VIRTIO_NET_ST_RUNNING;
}
