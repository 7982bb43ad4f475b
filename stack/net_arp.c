/*
 * ARP (RFC 826) for Ethernet/IPv4: answers requests for our addresses, resolves next
 * hops with a bounded pending queue per unresolved entry, and ages the cache.
 *
 * Entry life: INCOMPLETE (requests every NET_ARP_RETRY_MS, at most NET_ARP_MAX_TRIES,
 * frames queued) -> REACHABLE on an answer -> after NET_ARP_REACHABLE_MS without
 * confirmation: freed if unused, else STALE (still used while being re-confirmed, so a
 * long flow does not stall on a cache refresh, as Linux's neighbour STALE/PROBE states)
 * -> REACHABLE on an answer, or freed after NET_ARP_MAX_TRIES unanswered requests.
 */
#include <string.h>
#include "net_priv.h"
#include "net_wire.h"

void net_arp_init_locked(void)
{
    unsigned i;

    for (i = 0; i < NET_ARP_POOL_FRAMES; i++)
        net_g.pool[i].pd_next = (uint8_t)(i + 1 < NET_ARP_POOL_FRAMES ? i + 1 : NET_NO_SLOT);
    net_g.pool_free = 0;
    net_g.pool_used = 0;
}

static void net_pool_free_locked(uint8_t slot)
{
    net_g.pool[slot].pd_next = net_g.pool_free;
    net_g.pool_free = slot;
    net_g.pool_used--;
}

static struct net_arp_entry *net_arp_find_locked(const struct net_if *nif, uint32_t ip)
{
    unsigned i;

    for (i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *ae = &net_g.arp[i];
        if (ae->ae_state != NET_ARP_FREE && ae->ae_ip == ip && ae->ae_if == nif->nif_idx)
            return ae;
    }
    return NULL;
}

/* Free an entry; its pending frames are dropped as arp_timeout on its interface. */
static void net_arp_free_locked(struct net_arp_entry *ae)
{
    struct net_if *nif = &net_g.ifs[ae->ae_if];
    uint8_t slot = ae->ae_head;

    while (slot != NET_NO_SLOT) {
        uint8_t next = net_g.pool[slot].pd_next;
        nif->nif_ctr.drop[NET_DROP_arp_timeout]++;
        net_pool_free_locked(slot);
        slot = next;
    }
    memset(ae, 0, sizeof(*ae));
    ae->ae_head = ae->ae_tail = NET_NO_SLOT;
    net_g.arp_gen++;
}

/*
 * A free entry, or one to recycle: the oldest unused resolved entry, else the oldest
 * resolved one. Incomplete entries are never evicted (their queued frames and retry
 * schedule would be lost for a newcomer that is no more deserving).
 */
static struct net_arp_entry *net_arp_alloc_locked(void)
{
    struct net_arp_entry *best = NULL;
    unsigned i;

    for (i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *ae = &net_g.arp[i];
        if (ae->ae_state == NET_ARP_FREE) {
            ae->ae_head = ae->ae_tail = NET_NO_SLOT;
            return ae;
        }
        if (ae->ae_state == NET_ARP_INCOMPLETE)
            continue;
        if (best == NULL || (best->ae_used && !ae->ae_used) ||
            (best->ae_used == ae->ae_used && net_ms_diff(ae->ae_stamp, best->ae_stamp) < 0))
            best = ae;
    }
    if (best != NULL)
        net_arp_free_locked(best);
    return best;
}

static bool net_arp_enqueue_locked(struct net_arp_entry *ae, const uint8_t *frame, size_t len,
                                   const struct net_if *in, const struct net_pkt_meta *meta)
{
    struct net_pend *pd;
    uint8_t slot;

    if (ae->ae_npend >= NET_ARP_PENDING_MAX || net_g.pool_free == NET_NO_SLOT ||
        len > NET_FRAME_MAX)
        return false;
    slot = net_g.pool_free;
    pd = &net_g.pool[slot];
    net_g.pool_free = pd->pd_next;
    net_g.pool_used++;
    /* Copied under the lock: at most NET_FRAME_MAX bytes, only on a cache miss. */
    memcpy(pd->pd_frame, frame, len);
    /* The frame leaves later without its metadata: a partial checksum is completed now
       (the TTL decrement before does not touch the L4 checksum's coverage). */
    if (meta != NULL && (meta->flags & NET_META_F_NEEDS_CSUM))
        net_meta_csum_complete(pd->pd_frame, len, meta);
    pd->pd_len = (uint16_t)len;
    pd->pd_in = in->nif_idx;
    pd->pd_next = NET_NO_SLOT;
    if (ae->ae_tail == NET_NO_SLOT)
        ae->ae_head = slot;
    else
        net_g.pool[ae->ae_tail].pd_next = slot;
    ae->ae_tail = slot;
    ae->ae_npend++;
    return true;
}

enum net_arp_res net_arp_resolve_locked(struct net_if *out, uint32_t nh, uint8_t *mac,
                                        const uint8_t *frame, size_t len, struct net_if *in,
                                        const struct net_pkt_meta *meta)
{
    struct net_arp_entry *ae;

    /* Hot path: the last next hop used on this egress. */
    if (out->nif_nc_ip == nh && out->nif_nc_gen == net_g.arp_gen) {
        memcpy(mac, out->nif_nc_mac, 6);
        net_g.arp[out->nif_nc_arp].ae_used = true;
        return NET_ARP_RES_OK;
    }
    ae = net_arp_find_locked(out, nh);
    if (ae != NULL && ae->ae_state != NET_ARP_INCOMPLETE) {
        memcpy(mac, ae->ae_mac, 6);
        ae->ae_used = true;
        out->nif_nc_ip = nh;
        out->nif_nc_gen = net_g.arp_gen;
        memcpy(out->nif_nc_mac, ae->ae_mac, 6);
        out->nif_nc_arp = (uint8_t)(ae - net_g.arp);
        return NET_ARP_RES_OK;
    }
    if (ae != NULL && frame == NULL)
        return NET_ARP_RES_UNQUEUED;
    if (ae != NULL)
        return net_arp_enqueue_locked(ae, frame, len, in, meta) ? NET_ARP_RES_QUEUED
                                                                : NET_ARP_RES_FULL;
    ae = net_arp_alloc_locked();
    if (ae == NULL)
        return NET_ARP_RES_NOENTRY;
    if (frame != NULL && (net_g.pool_free == NET_NO_SLOT || len > NET_FRAME_MAX))
        return NET_ARP_RES_FULL; /* entry stays free: nothing to wait for */
    ae->ae_ip = nh;
    ae->ae_if = out->nif_idx;
    ae->ae_state = NET_ARP_INCOMPLETE;
    ae->ae_stamp = net_g.now_ms;
    ae->ae_next = net_g.now_ms + NET_ARP_RETRY_MS;
    ae->ae_tries = 1; /* the caller sends the first request now */
    /* A GSO frame cannot wait (it would not fit a slot), but the flow's next frames
       will find the neighbour resolved: start the resolution anyway. */
    if (frame == NULL)
        return NET_ARP_RES_UNQUEUED_REQ;
    (void)net_arp_enqueue_locked(ae, frame, len, in, meta);
    return NET_ARP_RES_QUEUED_REQ;
}

static void net_arp_build(uint8_t *f, const struct net_if *nif, uint16_t op, const uint8_t *eth_dst,
                          const uint8_t *tha, uint32_t tpa)
{
    uint8_t *a = f + ETH_HLEN;

    memset(f, 0, ETH_MIN_FRAME);
    memcpy(f + ETH_O_DST, eth_dst, 6);
    memcpy(f + ETH_O_SRC, nif->nif_mac, 6);
    net_put16(f + ETH_O_TYPE, ETH_P_ARP);
    net_put16(a + ARP_O_HTYPE, ARP_HTYPE_ETH);
    net_put16(a + ARP_O_PTYPE, ETH_P_IPV4);
    a[ARP_O_HLEN] = 6;
    a[ARP_O_PLEN] = 4;
    net_put16(a + ARP_O_OP, op);
    memcpy(a + ARP_O_SHA, nif->nif_mac, 6);
    net_put32(a + ARP_O_SPA, nif->nif_ip);
    memcpy(a + ARP_O_THA, tha, 6);
    net_put32(a + ARP_O_TPA, tpa);
}

void net_arp_send_request(struct net_if *nif, uint32_t target, uint32_t *fmask)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t zero[6] = {0};
    uint8_t f[ETH_MIN_FRAME];

    net_arp_build(f, nif, ARP_OP_REQUEST, bcast, zero, target);
    (void)net_tx_own(nif, f, sizeof(f), fmask, &nif->nif_ctr.arp_req_tx);
}

/* Send queued frames of a just-resolved entry, in arrival order. Lock not held. */
static void net_arp_send_pending(struct net_if *out, uint8_t slot, const uint8_t *mac,
                                 uint32_t *fmask)
{
    while (slot != NET_NO_SLOT) {
        struct net_pend *pd = &net_g.pool[slot];
        uint8_t next = pd->pd_next; /* detached list: only this task walks it */

        net_ip_emit(&net_g.ifs[pd->pd_in], out, mac, pd->pd_frame, pd->pd_len, fmask);
        net_lock();
        net_pool_free_locked(slot);
        net_unlock();
        slot = next;
    }
}

void net_arp_input(struct net_if *nif, uint8_t *frame, size_t len, uint32_t *fmask)
{
    uint8_t *a = frame + ETH_HLEN;
    struct net_arp_entry *ae;
    uint8_t sha[6], mac[6];
    uint32_t spa, tpa;
    uint16_t op;
    uint8_t pend = NET_NO_SLOT;
    bool for_us, reply = false, consumed = false;

    if (len < ETH_HLEN + ARP_LEN || net_get16(a + ARP_O_HTYPE) != ARP_HTYPE_ETH ||
        net_get16(a + ARP_O_PTYPE) != ETH_P_IPV4 || a[ARP_O_HLEN] != 6 || a[ARP_O_PLEN] != 4) {
        net_count_rx_drop(nif, NET_DROP_arp_bad, len);
        return;
    }
    op = net_get16(a + ARP_O_OP);
    memcpy(sha, a + ARP_O_SHA, 6);
    spa = net_get32(a + ARP_O_SPA);
    tpa = net_get32(a + ARP_O_TPA);
    /*
     * The sender must be a single station: no group or zero MAC; its protocol address a
     * host address (0.0.0.0 is allowed: an RFC 5227 probe) and not ours (a conflict or
     * our own announcement looped back: never learn it).
     */
    if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) || net_mac_is_group(sha) ||
        net_mac_is_zero(sha) || (spa != 0 && net_ip_is_martian(spa)) || spa == nif->nif_bcast ||
        spa == nif->nif_ip || net_mac_eq(sha, nif->nif_mac)) {
        net_count_rx_drop(nif, NET_DROP_arp_bad, len);
        return;
    }
    for_us = tpa == nif->nif_ip;

    net_lock();
    nif->nif_ctr.rx_frames++;
    nif->nif_ctr.rx_bytes += len;
    if (op == ARP_OP_REQUEST)
        nif->nif_ctr.arp_req_rx++;
    else
        nif->nif_ctr.arp_reply_rx++;
    ae = spa != 0 ? net_arp_find_locked(nif, spa) : NULL;
    /* RFC 826 "merge": any ARP packet from a known sender refreshes its entry; an entry
       is created only when the packet is addressed to us and the sender is on-link. */
    if (ae == NULL && for_us && spa != 0 && (spa & nif->nif_mask) == (nif->nif_ip & nif->nif_mask))
        ae = net_arp_alloc_locked();
    if (ae != NULL) {
        if (ae->ae_state == NET_ARP_INCOMPLETE) {
            pend = ae->ae_head;
            ae->ae_head = ae->ae_tail = NET_NO_SLOT;
            ae->ae_npend = 0;
        } else if (ae->ae_state != NET_ARP_FREE && !net_mac_eq(ae->ae_mac, sha)) {
            net_g.arp_gen++; /* the MAC moved: next-hop caches must not keep the old one */
        }
        ae->ae_ip = spa;
        ae->ae_if = nif->nif_idx;
        memcpy(ae->ae_mac, sha, 6);
        ae->ae_state = NET_ARP_REACHABLE;
        ae->ae_stamp = net_g.now_ms;
        ae->ae_tries = 0;
        ae->ae_used = false;
        consumed = true;
    }
    if (for_us && op == ARP_OP_REQUEST) {
        reply = true;
        consumed = true;
    }
    if (consumed)
        nif->nif_ctr.local_frames++;
    else
        nif->nif_ctr.drop[NET_DROP_arp_not_for_us]++;
    net_unlock();

    if (reply) {
        uint8_t f[ETH_MIN_FRAME];
        net_arp_build(f, nif, ARP_OP_REPLY, sha, sha, spa);
        (void)net_tx_own(nif, f, sizeof(f), fmask, &nif->nif_ctr.arp_reply_tx);
    }
    if (pend != NET_NO_SLOT) {
        memcpy(mac, sha, 6);
        net_arp_send_pending(nif, pend, mac, fmask);
    }
}

void net_arp_flush_if_locked(struct net_if *nif)
{
    unsigned i;

    for (i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *ae = &net_g.arp[i];
        if (ae->ae_state != NET_ARP_FREE && ae->ae_if == nif->nif_idx)
            net_arp_free_locked(ae);
    }
}

struct net_arp_req {
    uint8_t rq_if;
    uint32_t rq_ip;
};

void net_arp_tick(uint32_t *fmask)
{
    struct net_arp_req reqs[NET_ARP_ENTRIES];
    uint8_t dead[NET_ARP_POOL_FRAMES];
    unsigned nreq = 0, ndead = 0, i;
    uint32_t now;

    net_lock();
    now = net_g.now_ms;
    for (i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *ae = &net_g.arp[i];
        bool send = false;

        switch (ae->ae_state) {
        case NET_ARP_INCOMPLETE:
            if (net_ms_diff(now, ae->ae_next) < 0)
                break;
            if (ae->ae_tries >= NET_ARP_MAX_TRIES) {
                /* Unreachable neighbour: its frames are dropped (counted now, on the
                   egress) and get an ICMP host unreachable below; then forget it. */
                uint8_t slot = ae->ae_head;
                while (slot != NET_NO_SLOT) {
                    dead[ndead++] = slot;
                    net_g.ifs[ae->ae_if].nif_ctr.drop[NET_DROP_arp_timeout]++;
                    slot = net_g.pool[slot].pd_next;
                }
                ae->ae_head = ae->ae_tail = NET_NO_SLOT;
                net_arp_free_locked(ae);
                break;
            }
            send = true;
            break;
        case NET_ARP_REACHABLE:
            if (net_ms_diff(now, ae->ae_stamp) < (int32_t)NET_ARP_REACHABLE_MS)
                break;
            if (!ae->ae_used) {
                net_arp_free_locked(ae);
                break;
            }
            ae->ae_state = NET_ARP_STALE;
            ae->ae_tries = 0;
            send = true;
            break;
        case NET_ARP_STALE:
            if (net_ms_diff(now, ae->ae_next) < 0)
                break;
            if (ae->ae_tries >= NET_ARP_MAX_TRIES) {
                net_arp_free_locked(ae);
                break;
            }
            send = true;
            break;
        default:
            break;
        }
        if (send) {
            ae->ae_tries++;
            ae->ae_next = now + NET_ARP_RETRY_MS;
            reqs[nreq].rq_if = ae->ae_if;
            reqs[nreq].rq_ip = ae->ae_ip;
            nreq++;
        }
    }
    net_unlock();

    for (i = 0; i < nreq; i++)
        net_arp_send_request(&net_g.ifs[reqs[i].rq_if], reqs[i].rq_ip, fmask);
    for (i = 0; i < ndead; i++) {
        struct net_pend *pd = &net_g.pool[dead[i]];
        net_ip_host_unreach(&net_g.ifs[pd->pd_in], pd->pd_frame, pd->pd_len, fmask);
        net_lock();
        net_pool_free_locked(dead[i]);
        net_unlock();
    }
}

int net_arp_get(unsigned idx, struct net_arp_info *out)
{
    unsigned i, n = 0;

    if (out == NULL)
        return NET_E_INVAL;
    net_lock();
    for (i = 0; i < NET_ARP_ENTRIES; i++) {
        const struct net_arp_entry *ae = &net_g.arp[i];
        if (ae->ae_state == NET_ARP_FREE)
            continue;
        if (n++ != idx)
            continue;
        out->ip = ae->ae_ip;
        memcpy(out->mac, ae->ae_mac, 6);
        out->ifname = net_g.ifs[ae->ae_if].nif_name;
        out->state = (enum net_arp_state)ae->ae_state;
        out->age_ms = net_g.now_ms - ae->ae_stamp;
        out->pending = ae->ae_npend;
        out->tries = ae->ae_tries;
        net_unlock();
        return NET_OK;
    }
    net_unlock();
    return NET_E_NOENT;
}
