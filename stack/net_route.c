/*
 * Routing table: a small array kept sorted by prefix length, longest first, so the first
 * match is the longest-prefix match (RFC 1812 5.2.4.3). Lookups on the forwarding path
 * mostly hit the per-ingress cache in net_ip.c; this scan runs on a miss, bounded by
 * NET_MAX_ROUTES.
 */
#include <string.h>
#include "net_priv.h"

int net_route_add_locked(uint32_t dest, uint8_t plen, uint32_t gw, struct net_if *nif,
                         uint8_t flags)
{
    uint32_t mask = net_prefix_mask(plen);
    unsigned i, pos;

    for (i = 0; i < net_g.n_routes; i++) {
        if (net_g.routes[i].rt_dest == dest && net_g.routes[i].rt_plen == plen)
            return NET_E_EXIST;
    }
    if (net_g.n_routes >= NET_MAX_ROUTES)
        return NET_E_NOMEM;
    /* After every longer-or-equal prefix: stable, and longest first. */
    for (pos = 0; pos < net_g.n_routes; pos++) {
        if (net_g.routes[pos].rt_plen < plen)
            break;
    }
    memmove(&net_g.routes[pos + 1], &net_g.routes[pos],
            (net_g.n_routes - pos) * sizeof(net_g.routes[0]));
    net_g.routes[pos].rt_dest = dest;
    net_g.routes[pos].rt_mask = mask;
    net_g.routes[pos].rt_gw = gw;
    net_g.routes[pos].rt_plen = plen;
    net_g.routes[pos].rt_if = nif->nif_idx;
    net_g.routes[pos].rt_flags = flags;
    net_g.n_routes++;
    net_g.route_gen++;
    return NET_OK;
}

int net_route_add(uint32_t dest, uint8_t prefix_len, uint32_t gateway, struct net_if *nif)
{
    int err;

    if (!net_g.inited)
        return NET_E_STATE;
    if (nif == NULL || !nif->nif_used || prefix_len > 32)
        return NET_E_INVAL;
    if ((dest & ~net_prefix_mask(prefix_len)) != 0)
        return NET_E_INVAL;
    /* A gateway must be a neighbour on the egress interface's subnet (RFC 1812 5.2.2:
       the next hop is reached directly); not one of our own addresses. */
    if (gateway != 0 &&
        ((gateway & nif->nif_mask) != (nif->nif_ip & nif->nif_mask) || gateway == nif->nif_ip ||
         gateway == nif->nif_bcast || gateway == (nif->nif_ip & nif->nif_mask)))
        return NET_E_INVAL;
    net_lock();
    err = net_route_add_locked(dest, prefix_len, gateway, nif, 0);
    net_unlock();
    return err;
}

int net_route_del(uint32_t dest, uint8_t prefix_len)
{
    unsigned i;

    if (!net_g.inited)
        return NET_E_STATE;
    net_lock();
    for (i = 0; i < net_g.n_routes; i++) {
        if (net_g.routes[i].rt_dest == dest && net_g.routes[i].rt_plen == prefix_len)
            break;
    }
    if (i == net_g.n_routes) {
        net_unlock();
        return NET_E_NOENT;
    }
    if (net_g.routes[i].rt_flags & NET_ROUTE_F_CONNECTED) {
        net_unlock();
        return NET_E_PERM;
    }
    memmove(&net_g.routes[i], &net_g.routes[i + 1],
            (net_g.n_routes - i - 1) * sizeof(net_g.routes[0]));
    net_g.n_routes--;
    net_g.route_gen++;
    net_unlock();
    return NET_OK;
}

struct net_if *net_route_lookup_locked(uint32_t dst, uint32_t *nh)
{
    unsigned i;

    for (i = 0; i < net_g.n_routes; i++) {
        const struct net_route *rt = &net_g.routes[i];
        if ((dst & rt->rt_mask) != rt->rt_dest)
            continue;
        /* A route through a down interface is unusable; a shorter one may still do. */
        if (!net_g.ifs[rt->rt_if].nif_up)
            continue;
        *nh = rt->rt_gw != 0 ? rt->rt_gw : dst;
        return &net_g.ifs[rt->rt_if];
    }
    return NULL;
}

int net_route_get(unsigned idx, struct net_route_info *out)
{
    const struct net_route *rt;

    if (out == NULL)
        return NET_E_INVAL;
    net_lock();
    if (idx >= net_g.n_routes) {
        net_unlock();
        return NET_E_NOENT;
    }
    rt = &net_g.routes[idx];
    out->dest = rt->rt_dest;
    out->prefix_len = rt->rt_plen;
    out->gateway = rt->rt_gw;
    out->ifname = net_g.ifs[rt->rt_if].nif_name;
    out->flags = rt->rt_flags;
    net_unlock();
    return NET_OK;
}
