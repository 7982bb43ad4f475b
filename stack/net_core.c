/*
 * Router stack core: configuration, the Ethernet receive entry point, output batching,
 * the periodic tick and the console introspection.
 */
#include <string.h>
#include "net_priv.h"
#include "net_wire.h"

struct net_stack net_g;

/* net_stack_counters adds the counters word by word. */
_Static_assert(sizeof(struct net_if_ctrs) ==
                   sizeof(uint64_t) *
                       (offsetof(struct net_if_ctrs, drop) / sizeof(uint64_t) + NET_DROP_COUNT),
               "struct net_if_ctrs must be uint64_t counters only, without padding");

static const char *const net_drop_names[NET_DROP_COUNT] = {
#define NET_DROP_NAME_(n) #n,
    NET_DROP_REASONS(NET_DROP_NAME_)
#undef NET_DROP_NAME_
};

const char *net_drop_reason_name(enum net_drop_reason r)
{
    if ((unsigned)r >= NET_DROP_COUNT)
        return "?";
    return net_drop_names[r];
}

int net_stack_init(const struct net_stack_config *cfg)
{
    if (cfg == NULL || (cfg->lock == NULL) != (cfg->unlock == NULL))
        return NET_E_INVAL;
    memset(&net_g, 0, sizeof(net_g));
    net_g.lock = cfg->lock;
    net_g.unlock = cfg->unlock;
    net_g.lock_arg = cfg->lock_arg;
    net_g.now_ms = cfg->now_ms;
    net_g.icmp_credit = NET_ICMP_BURST * 1000u;
    /* Generations start at 1 so that a zeroed cache in a new interface never matches. */
    net_g.route_gen = 1;
    net_g.arp_gen = 1;
    net_arp_init_locked();
    net_g.inited = true;
    return NET_OK;
}

static bool net_name_eq(const char *a, const char *b)
{
    size_t i;

    for (i = 0; a[i] != '\0' || b[i] != '\0'; i++) {
        if (a[i] != b[i])
            return false;
    }
    return true;
}

int net_if_add(const struct net_if_config *cfg, struct net_if **out)
{
    struct net_if *nif;
    uint16_t mtu;
    unsigned i;
    int err;

    if (!net_g.inited)
        return NET_E_STATE;
    if (cfg == NULL || out == NULL || cfg->name == NULL || cfg->output == NULL)
        return NET_E_INVAL;
    mtu = cfg->mtu ? cfg->mtu : 1500;
    if (mtu < 68 || mtu > NET_FRAME_MAX - ETH_HLEN || cfg->prefix_len > 30)
        return NET_E_INVAL;
    if (net_mac_is_group(cfg->mac) || net_mac_is_zero(cfg->mac) || net_ip_is_martian(cfg->ip))
        return NET_E_INVAL;
    net_lock();
    for (i = 0; i < net_g.n_ifs; i++) {
        if (net_name_eq(net_g.ifs[i].nif_name, cfg->name)) {
            net_unlock();
            return NET_E_EXIST;
        }
    }
    if (net_g.n_ifs >= NET_MAX_IFS) {
        net_unlock();
        return NET_E_NOMEM;
    }
    nif = &net_g.ifs[net_g.n_ifs];
    memset(nif, 0, sizeof(*nif));
    nif->nif_name = cfg->name;
    memcpy(nif->nif_mac, cfg->mac, 6);
    nif->nif_idx = (uint8_t)net_g.n_ifs;
    nif->nif_plen = cfg->prefix_len;
    nif->nif_ip = cfg->ip;
    nif->nif_mask = net_prefix_mask(cfg->prefix_len);
    nif->nif_bcast = cfg->ip | ~nif->nif_mask;
    nif->nif_mtu = mtu;
    nif->nif_output = cfg->output;
    nif->nif_flush = cfg->flush;
    nif->nif_output_meta = cfg->output_meta;
    nif->nif_drv = cfg->drv;
    nif->nif_used = true;
    err = net_route_add_locked(cfg->ip & nif->nif_mask, cfg->prefix_len, 0, nif,
                               NET_ROUTE_F_CONNECTED);
    if (err != NET_OK) {
        memset(nif, 0, sizeof(*nif));
        net_unlock();
        return err == NET_E_EXIST ? NET_E_EXIST : NET_E_NOMEM;
    }
    net_g.n_ifs++;
    net_unlock();
    *out = nif;
    return NET_OK;
}

int net_if_up(struct net_if *nif)
{
    if (nif == NULL || !nif->nif_used)
        return NET_E_INVAL;
    net_lock();
    nif->nif_up = true;
    net_g.route_gen++;
    net_unlock();
    /* Gratuitous ARP (RFC 5227 2.3 announcement): neighbours with a stale entry for
       our address learn the new MAC at once. Sent unbatched: no flush will follow. */
    net_arp_send_request(nif, nif->nif_ip, NULL);
    return NET_OK;
}

int net_if_down(struct net_if *nif)
{
    if (nif == NULL || !nif->nif_used)
        return NET_E_INVAL;
    net_lock();
    nif->nif_up = false;
    net_g.route_gen++;
    net_arp_flush_if_locked(nif);
    net_unlock();
    return NET_OK;
}

void net_count_rx_drop_locked(struct net_if *nif, enum net_drop_reason r, size_t len)
{
    nif->nif_ctr.rx_frames++;
    nif->nif_ctr.rx_bytes += len;
    nif->nif_ctr.drop[r]++;
}

void net_count_rx_drop(struct net_if *nif, enum net_drop_reason r, size_t len)
{
    net_lock();
    net_count_rx_drop_locked(nif, r, len);
    net_unlock();
}

int net_output(struct net_if *nif, const uint8_t *frame, size_t len, uint32_t *fmask)
{
    return net_output_x(nif, frame, len, fmask, 0u);
}

int net_output_x(struct net_if *nif, const uint8_t *frame, size_t len, uint32_t *fmask,
                 unsigned xflags)
{
    int err;

    err = nif->nif_output(nif->nif_drv, frame, len, (fmask != NULL ? NET_TX_MORE : 0u) | xflags);
    /*
     * Mark the interface for flushing only after the frame is posted: were the bit set
     * first, another path could clear it, flush, and leave this frame unkicked.
     */
    if (err == 0 && fmask != NULL)
        *fmask |= 1u << nif->nif_idx;
    return err;
}

int net_output_meta(struct net_if *nif, const struct net_pkt_meta *meta, const uint8_t *frame,
                    size_t len, uint32_t *fmask, unsigned xflags)
{
    int err;

    err = nif->nif_output_meta(nif->nif_drv, meta, frame, len,
                               (fmask != NULL ? NET_TX_MORE : 0u) | xflags);
    if (err == 0 && fmask != NULL)
        *fmask |= 1u << nif->nif_idx; /* after the post, as in net_output */
    return err;
}

int net_tx_own(struct net_if *nif, const uint8_t *frame, size_t len, uint32_t *fmask,
               uint64_t *ok_ctr)
{
    int err = net_output(nif, frame, len, fmask);

    net_lock();
    if (err == 0) {
        nif->nif_ctr.tx_frames++;
        nif->nif_ctr.tx_bytes += len;
        if (ok_ctr != NULL)
            (*ok_ctr)++;
    } else {
        nif->nif_ctr.tx_own_failed++;
    }
    net_unlock();
    return err;
}

void net_flush_mask(uint32_t mask)
{
    unsigned i;

    for (i = 0; i < NET_MAX_IFS && mask != 0; i++, mask >>= 1) {
        struct net_if *nif = &net_g.ifs[i];
        if ((mask & 1u) && nif->nif_flush != NULL)
            nif->nif_flush(nif->nif_drv);
    }
}

bool net_is_local_addr_locked(uint32_t ip)
{
    unsigned i;

    for (i = 0; i < net_g.n_ifs; i++) {
        if (net_g.ifs[i].nif_ip == ip && net_g.ifs[i].nif_up)
            return true;
    }
    return false;
}

static void net_rx(struct net_if *nif, const struct net_pkt_meta *meta, uint8_t *frame, size_t len)
{
    uint16_t type;
    const uint8_t *dst;
    bool bcast;
    size_t max;

    if (nif == NULL || frame == NULL || !nif->nif_used)
        return;
    if (len < ETH_HLEN) {
        net_count_rx_drop(nif, NET_DROP_runt, len);
        return;
    }
    /* Read without the lock: a racing net_if_down lets at most this frame through,
       and everything below takes the lock before touching shared state. */
    if (!nif->nif_up) {
        net_count_rx_drop(nif, NET_DROP_if_down, len);
        return;
    }
    /* A GSO frame stands for several MTU-sized segments; what each segment will be is
       checked once the egress is known. */
    max = (size_t)ETH_HLEN + nif->nif_mtu;
    if (meta != NULL && meta->gso_type != NET_META_GSO_NONE)
        max = NET_GSO_FRAME_MAX;
    if (len > max) {
        net_count_rx_drop(nif, NET_DROP_too_long, len);
        return;
    }
    dst = frame + ETH_O_DST;
    bcast = false;
    if (net_mac_is_group(dst)) {
        bcast = net_mac_is_bcast(dst);
        if (!bcast) {
            net_count_rx_drop(nif, NET_DROP_eth_multicast, len);
            return;
        }
    } else if (!net_mac_eq(dst, nif->nif_mac)) {
        net_count_rx_drop(nif, NET_DROP_not_for_us, len);
        return;
    }
    type = net_get16(frame + ETH_O_TYPE);
    if (type == ETH_P_IPV4) {
        net_ip_input(nif, frame, len, bcast, meta, &nif->nif_flush_mask);
    } else if (type == ETH_P_ARP && meta != NULL &&
               (meta->gso_type != NET_META_GSO_NONE || (meta->flags & NET_META_F_NEEDS_CSUM))) {
        net_count_rx_drop(nif, NET_DROP_meta_bad, len); /* ARP has no L4 checksum */
    } else if (type == ETH_P_ARP) {
        net_arp_input(nif, frame, len, &nif->nif_flush_mask);
    } else if (type < ETH_TYPE_MIN) {
        net_count_rx_drop(nif, NET_DROP_eth_8023, len);
    } else {
        net_count_rx_drop(nif, NET_DROP_bad_ethertype, len);
    }
}

void net_process_received_packet(struct net_if *nif, uint8_t *frame, size_t len)
{
    net_rx(nif, NULL, frame, len);
}

void net_process_received_packet_hdr(struct net_if *nif, const struct net_pkt_meta *meta,
                                     uint8_t *frame, size_t len)
{
    /* Metadata that asks for nothing is no metadata: the plain path, as fast as ever. */
    if (meta != NULL && meta->flags == 0 && meta->gso_type == NET_META_GSO_NONE)
        meta = NULL;
    net_rx(nif, meta, frame, len);
}

void net_rx_batch_end(struct net_if *nif)
{
    uint32_t mask;

    if (nif == NULL || !nif->nif_used)
        return;
    /* [T] only this interface's RX task touches its mask: no lock needed. */
    mask = nif->nif_flush_mask;
    nif->nif_flush_mask = 0;
    net_flush_mask(mask);
}

void net_if_rx_cb(void *arg, uint8_t *frame, size_t len)
{
    net_process_received_packet(arg, frame, len);
}

void net_if_batch_cb(void *arg)
{
    net_rx_batch_end(arg);
}

void net_tick(uint32_t now_ms)
{
    uint32_t mask = 0;
    uint32_t dt, credit;

    if (!net_g.inited)
        return;
    net_lock();
    dt = now_ms - net_g.now_ms;
    /* A clock that jumped backwards (or an absurd gap) only refills the bucket. */
    if (dt > 100000u)
        dt = 100000u;
    net_g.now_ms = now_ms;
    /* Token bucket (RFC 1812 4.3.2.8): NET_ICMP_RATE_PER_S tokens per second, in
       thousandths so that a 100 ms tick at 100/s adds exactly 10 tokens. */
    credit = net_g.icmp_credit + dt * NET_ICMP_RATE_PER_S;
    if (credit > NET_ICMP_BURST * 1000u)
        credit = NET_ICMP_BURST * 1000u;
    net_g.icmp_credit = credit;
    net_unlock();
    net_arp_tick(&mask);
    net_flush_mask(mask);
}

/* ---- introspection ---- */

struct net_if *net_if_get(unsigned idx)
{
    if (idx >= net_g.n_ifs)
        return NULL;
    return &net_g.ifs[idx];
}

struct net_if *net_if_find(const char *name)
{
    unsigned i;

    if (name == NULL)
        return NULL;
    for (i = 0; i < net_g.n_ifs; i++) {
        if (net_name_eq(net_g.ifs[i].nif_name, name))
            return &net_g.ifs[i];
    }
    return NULL;
}

int net_if_get_info(const struct net_if *nif, struct net_if_info *out)
{
    if (nif == NULL || out == NULL || !nif->nif_used)
        return NET_E_INVAL;
    out->name = nif->nif_name;
    memcpy(out->mac, nif->nif_mac, 6);
    out->ip = nif->nif_ip;
    out->prefix_len = nif->nif_plen;
    out->mtu = nif->nif_mtu;
    net_lock();
    out->up = nif->nif_up;
    net_unlock();
    return NET_OK;
}

static void net_visit_ctrs(const struct net_if_ctrs *c, net_counter_fn fn, void *arg)
{
    uint64_t sum = 0;
    unsigned r;

#define NET_CTR_VISIT_(n) fn(arg, #n, c->n);
    NET_IF_COUNTERS(NET_CTR_VISIT_)
#undef NET_CTR_VISIT_
    for (r = 0; r < NET_DROP_COUNT; r++)
        sum += c->drop[r];
    fn(arg, "rx_drops", sum);
    for (r = 0; r < NET_DROP_COUNT; r++) {
        /* "drop_" + the longest reason name fits easily */
        char name[40];
        const char *s = net_drop_names[r];
        size_t n = 0;
        memcpy(name, "drop_", 5);
        while (s[n] != '\0' && n + 6 < sizeof(name)) {
            name[5 + n] = s[n];
            n++;
        }
        name[5 + n] = '\0';
        fn(arg, name, c->drop[r]);
    }
}

int net_if_counters(const struct net_if *nif, net_counter_fn fn, void *arg)
{
    struct net_if_ctrs snap;

    if (nif == NULL || fn == NULL || !nif->nif_used)
        return NET_E_INVAL;
    net_lock();
    snap = nif->nif_ctr;
    net_unlock();
    net_visit_ctrs(&snap, fn, arg);
    return NET_OK;
}

void net_stack_counters(net_counter_fn fn, void *arg)
{
    struct net_if_ctrs sum;
    uint64_t *d, *s;
    unsigned i, k, arp_n = 0, routes, pool, tokens;

    if (fn == NULL)
        return;
    memset(&sum, 0, sizeof(sum));
    net_lock();
    /* The struct is all uint64_t: add it word by word. */
    for (i = 0; i < net_g.n_ifs; i++) {
        d = (uint64_t *)(void *)&sum;
        s = (uint64_t *)(void *)&net_g.ifs[i].nif_ctr;
        for (k = 0; k < sizeof(sum) / sizeof(uint64_t); k++)
            d[k] += s[k];
    }
    for (i = 0; i < NET_ARP_ENTRIES; i++)
        arp_n += net_g.arp[i].ae_state != NET_ARP_FREE;
    routes = net_g.n_routes;
    pool = net_g.pool_used;
    tokens = net_g.icmp_credit / 1000u;
    net_unlock();
    net_visit_ctrs(&sum, fn, arg);
    fn(arg, "routes", routes);
    fn(arg, "arp_entries", arp_n);
    fn(arg, "arp_pool_used", pool);
    fn(arg, "icmp_tokens", tokens);
}
