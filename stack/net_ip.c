/*
 * IPv4 input, forwarding and ICMP (RFC 791, 792, 1812).
 *
 * Forwarding hot path: validate the header without the lock, then one lock region that
 * counts the frame, classifies the destination, looks the route up (per-ingress cache,
 * else the table), checks TTL and MTU, decrements the TTL (RFC 1624 incremental
 * checksum) and resolves the next hop (per-egress cache, else the ARP table). The
 * counters for a successful send are taken optimistically in that region; the rare
 * failed send is corrected in a second one. The frame is rewritten and sent in place.
 */
#include <string.h>
#include "net_priv.h"
#include "net_wire.h"
#include "net/net_csum.h"

/* ICMP types that are queries; every other type, known or not, is treated as an error
   so that the router never answers an error with an error (RFC 1812 4.3.2.7). */
static bool net_icmp_is_query(uint8_t type)
{
    switch (type) {
    case 0:  /* echo reply */
    case 8:  /* echo request */
    case 9:  /* router advertisement */
    case 10: /* router solicitation */
    case 13: /* timestamp */
    case 14: /* timestamp reply */
    case 15: /* information request */
    case 16: /* information reply */
    case 17: /* address mask request */
    case 18: /* address mask reply */
        return true;
    default:
        return false;
    }
}

/*
 * May the router send an ICMP error about this (validated) datagram? RFC 1812 4.3.2.7:
 * not about an ICMP error, a datagram sent to a broadcast/multicast address or as a
 * link-layer broadcast, a non-initial fragment, or one whose source is not a unicast
 * host (the caller has dropped those as ip_bad_src already).
 */
static bool net_icmp_error_allowed(const uint8_t *ip, size_t tot, bool l2_bcast)
{
    unsigned ihl = (ip[IP_O_VIHL] & 0xfu) * 4u;
    uint32_t dst = net_get32(ip + IP_O_DST);

    if (l2_bcast || net_ip_is_mcast(dst) || dst == 0xffffffffu)
        return false;
    if ((net_get16(ip + IP_O_FRAG) & IP_OFF_MASK) != 0)
        return false;
    if (ip[IP_O_PROTO] == IP_PROTO_ICMP && (tot <= ihl || !net_icmp_is_query(ip[ihl])))
        return false;
    return true;
}

/*
 * Send an ICMP error about the datagram in `frame` (trimmed to its total length) back
 * to the station it came from on `in`, from `in`'s address (RFC 1812 4.3.2.4), quoting
 * its header and up to NET_ICMP_QUOTE_DATA bytes of its data. Rate-limited.
 */
static void net_icmp_error(struct net_if *in, const uint8_t *frame, size_t len, uint8_t type,
                           uint8_t code, uint16_t mtu, uint32_t *fmask)
{
    uint8_t buf[ETH_HLEN + IP_HLEN_MIN + ICMP_HLEN + IP_HLEN_MAX + NET_ICMP_QUOTE_DATA];
    const uint8_t *oip = frame + ETH_HLEN;
    uint8_t *ip = buf + ETH_HLEN;
    uint8_t *icmp = ip + IP_HLEN_MIN;
    size_t ihl = (oip[IP_O_VIHL] & 0xfu) * 4u;
    size_t tot = len - ETH_HLEN;
    size_t quote, ilen;
    uint16_t id;

    quote = tot - ihl;
    if (quote > NET_ICMP_QUOTE_DATA)
        quote = NET_ICMP_QUOTE_DATA;
    quote += ihl;
    ilen = ICMP_HLEN + quote;

    net_lock();
    if (net_g.icmp_credit < 1000u) {
        in->nif_ctr.icmp_ratelimited++;
        net_unlock();
        return;
    }
    net_g.icmp_credit -= 1000u;
    id = net_g.ip_id++;
    net_unlock();

    memcpy(buf + ETH_O_DST, frame + ETH_O_SRC, ETH_ALEN);
    memcpy(buf + ETH_O_SRC, in->nif_mac, ETH_ALEN);
    net_put16(buf + ETH_O_TYPE, ETH_P_IPV4);
    ip[IP_O_VIHL] = 0x45;
    ip[IP_O_TOS] = oip[IP_O_TOS]; /* RFC 1812 4.3.2.5: keep the precedence/TOS */
    net_put16(ip + IP_O_LEN, (uint16_t)(IP_HLEN_MIN + ilen));
    net_put16(ip + IP_O_ID, id);
    net_put16(ip + IP_O_FRAG, 0);
    ip[IP_O_TTL] = NET_IP_DEFAULT_TTL;
    ip[IP_O_PROTO] = IP_PROTO_ICMP;
    net_put16(ip + IP_O_CSUM, 0);
    net_put32(ip + IP_O_SRC, in->nif_ip);
    memcpy(ip + IP_O_DST, oip + IP_O_SRC, 4);
    net_put16(ip + IP_O_CSUM, net_csum(ip, IP_HLEN_MIN));
    icmp[ICMP_O_TYPE] = type;
    icmp[ICMP_O_CODE] = code;
    net_put16(icmp + ICMP_O_CSUM, 0);
    net_put32(icmp + 4, 0);
    if (type == ICMP_DEST_UNREACH && code == ICMP_UNREACH_FRAG)
        net_put16(icmp + ICMP_O_MTU, mtu); /* RFC 1191 section 4 */
    memcpy(icmp + ICMP_HLEN, oip, quote);
    net_put16(icmp + ICMP_O_CSUM, net_csum(icmp, ilen));
    (void)net_tx_own(in, buf, ETH_HLEN + IP_HLEN_MIN + ilen, fmask, &in->nif_ctr.icmp_err_tx);
}

void net_ip_host_unreach(struct net_if *in, uint8_t *frame, size_t len, uint32_t *fmask)
{
    if (net_icmp_error_allowed(frame + ETH_HLEN, len - ETH_HLEN, false))
        net_icmp_error(in, frame, len, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, 0, fmask);
}

/* Header for the second and later fragments: only options with the "copied" flag
   (RFC 791 section 3.1), padded with end-of-list to a multiple of 4 bytes. */
static size_t net_ip_frag_header(const uint8_t *hdr, size_t ihl, uint8_t *out)
{
    size_t i = IP_HLEN_MIN, n = IP_HLEN_MIN;

    memcpy(out, hdr, IP_HLEN_MIN);
    while (i < ihl) {
        uint8_t t = hdr[i], olen;
        if (t == 0) /* end of option list */
            break;
        if (t == 1) { /* no-operation */
            i++;
            continue;
        }
        if (i + 1 >= ihl)
            break;
        olen = hdr[i + 1];
        if (olen < 2 || i + olen > ihl)
            break; /* malformed: copy nothing further */
        if (t & 0x80u) {
            memcpy(out + n, hdr + i, olen);
            n += olen;
        }
        i += olen;
    }
    while (n & 3u)
        out[n++] = 0;
    out[IP_O_VIHL] = (uint8_t)(0x40u | (n / 4u));
    return n;
}

/*
 * Fragment (RFC 791 section 3.2, RFC 1812 5.2.6) in place: fragment k's Ethernet and IP
 * headers are written just before its data, over the tail of data already sent; the
 * output contract (the callee is done with the frame when it returns) makes that safe.
 * Returns 0 or the first output error; *nfrag gets the fragments sent.
 */
static int net_ip_fragment(struct net_if *out, uint8_t *frame, size_t len, uint32_t *fmask,
                           unsigned *nfrag, size_t *bytes)
{
    uint8_t eth[ETH_HLEN], hdr1[IP_HLEN_MAX], hdrn[IP_HLEN_MAX];
    const uint8_t *ip = frame + ETH_HLEN;
    size_t ihl = (ip[IP_O_VIHL] & 0xfu) * 4u;
    size_t payload = len - ETH_HLEN - ihl;
    size_t ihln, pos = 0;
    uint16_t frag = net_get16(ip + IP_O_FRAG);
    size_t base = (size_t)(frag & IP_OFF_MASK) * 8u;

    *nfrag = 0;
    *bytes = 0;
    if (base + payload > 0xffffu)
        return NET_E_INVAL; /* offsets would not fit the 13-bit field */
    memcpy(eth, frame, ETH_HLEN);
    memcpy(hdr1, ip, ihl);
    ihln = net_ip_frag_header(hdr1, ihl, hdrn);
    while (pos < payload) {
        const uint8_t *h = pos == 0 ? hdr1 : hdrn;
        size_t hl = pos == 0 ? ihl : ihln;
        size_t n = payload - pos, maxd = (out->nif_mtu - hl) & ~(size_t)7u;
        bool last = true;
        uint8_t *e, *fip;
        uint16_t f;
        int err;

        if (n > maxd) {
            n = maxd;
            last = false;
        }
        e = frame + ETH_HLEN + ihl + pos - hl - ETH_HLEN;
        fip = e + ETH_HLEN;
        memmove(e, eth, ETH_HLEN);
        memmove(fip, h, hl);
        net_put16(fip + IP_O_LEN, (uint16_t)(hl + n));
        /* The last fragment keeps the original MF: the datagram may itself be a
           non-final fragment. */
        f = (uint16_t)((base + pos) / 8u);
        f |= last ? (frag & IP_F_MF) : IP_F_MF;
        net_put16(fip + IP_O_FRAG, f);
        net_put16(fip + IP_O_CSUM, 0);
        net_put16(fip + IP_O_CSUM, net_csum(fip, hl));
        err = net_output(out, e, ETH_HLEN + hl + n, fmask);
        if (err != 0)
            return err;
        (*nfrag)++;
        *bytes += ETH_HLEN + hl + n;
        pos += n;
    }
    return 0;
}

static enum net_drop_reason net_tx_reason(int err)
{
    return err == NET_E_BUSY ? NET_DROP_tx_busy : NET_DROP_tx_error;
}

void net_ip_emit(struct net_if *in, struct net_if *out, const uint8_t *mac, uint8_t *frame,
                 size_t len, uint32_t *fmask)
{
    bool fragmented = len - ETH_HLEN > out->nif_mtu;
    unsigned nsent = 0;
    size_t bytes = 0;
    int err;

    memcpy(frame + ETH_O_DST, mac, ETH_ALEN);
    memcpy(frame + ETH_O_SRC, out->nif_mac, ETH_ALEN);
    if (!fragmented) {
        err = net_output(out, frame, len, fmask);
        if (err == 0) {
            nsent = 1;
            bytes = len;
        }
    } else {
        err = net_ip_fragment(out, frame, len, fmask, &nsent, &bytes);
    }
    net_lock();
    /* Fragments that did leave are counted as sent even when a later one failed; the
       datagram then counts as dropped (the receiver cannot reassemble it). */
    out->nif_ctr.tx_frames += nsent;
    out->nif_ctr.tx_bytes += bytes;
    if (fragmented)
        out->nif_ctr.frag_tx += nsent;
    if (err == 0)
        in->nif_ctr.fwd_frames++;
    else
        out->nif_ctr.drop[net_tx_reason(err)]++;
    net_unlock();
}

void net_meta_csum_complete(uint8_t *frame, size_t len, const struct net_pkt_meta *meta)
{
    uint8_t *field = frame + meta->csum_start + meta->csum_offset;
    uint16_t sum;

    /* The field holds the pseudo-header sum and is covered by the sum: the result is
       the final checksum (0 is sent as 0xffff, as Linux's skb_checksum_help does). */
    sum = net_csum(frame + meta->csum_start, len - meta->csum_start);
    net_put16(field, sum != 0 ? sum : 0xffffu);
}

/*
 * Does the metadata describe this datagram (header validated, `tot` within the frame)?
 * NET_DROP_COUNT if so, with *seg = the L3 length of each segment of a GSO frame.
 * NEEDS_CSUM must point into the L4 data; GSO is TCP over IPv4 only, never a fragment,
 * with NEEDS_CSUM on the TCP checksum (virtio 1.2 5.1.6.2: a driver sending GSO must set
 * it) so that the egress device fills in each segment's checksum where it belongs.
 */
static enum net_drop_reason net_ip_meta_check(const struct net_pkt_meta *m, const uint8_t *ip,
                                              size_t ihl, size_t tot, size_t *seg)
{
    unsigned gso = m->gso_type & ~NET_META_GSO_ECN;
    size_t l4 = ETH_HLEN + ihl, thl;

    *seg = 0;
    if ((m->flags & ~(NET_META_F_NEEDS_CSUM | NET_META_F_DATA_VALID)) != 0)
        return NET_DROP_meta_bad;
    if ((m->flags & NET_META_F_NEEDS_CSUM) &&
        (m->csum_start < l4 || (size_t)m->csum_start + m->csum_offset + 2u > ETH_HLEN + tot))
        return NET_DROP_meta_bad;
    if (m->gso_type == NET_META_GSO_NONE)
        return NET_DROP_COUNT;
    if (gso != NET_META_GSO_TCPV4 || m->gso_size == 0 || !(m->flags & NET_META_F_NEEDS_CSUM))
        return NET_DROP_meta_bad; /* TCPv6 on IPv4, ECN alone, UDP, unknown types */
    if (ip[IP_O_PROTO] != IP_PROTO_TCP || (net_get16(ip + IP_O_FRAG) & (IP_F_MF | IP_OFF_MASK)))
        return NET_DROP_meta_bad;
    if (tot < ihl + TCP_HLEN_MIN)
        return NET_DROP_meta_bad;
    thl = (size_t)(ip[ihl + TCP_O_OFF] >> 4) * 4u;
    if (thl < TCP_HLEN_MIN || ihl + thl > tot || m->csum_start != l4 ||
        m->csum_offset != TCP_O_CSUM)
        return NET_DROP_meta_bad;
    *seg = ihl + thl + m->gso_size;
    return NET_DROP_COUNT;
}

/* Datagram for one of the router's own addresses. rx_frames is already counted. */
static void net_ip_local(struct net_if *in, uint8_t *frame, size_t len, bool l2_bcast,
                         const struct net_pkt_meta *meta, uint32_t *fmask)
{
    uint8_t *ip = frame + ETH_HLEN;
    size_t ihl = (ip[IP_O_VIHL] & 0xfu) * 4u;
    size_t tot = len - ETH_HLEN;
    uint8_t *icmp = ip + ihl;
    size_t ilen = tot - ihl;
    enum net_drop_reason why;
    uint8_t type = 0, code = 0;
    uint8_t mac[ETH_ALEN];
    uint32_t src;
    uint16_t id;
    bool csum_ok = false, csum_sw = false;

    /* The host's word on the L4 checksum, as Linux takes it (virtio_net_hdr_to_skb):
       NEEDS_CSUM is a partial sum from a local sender, completed here (then it verifies,
       unless csum_offset pointed elsewhere, and the echo reply derives from it);
       DATA_VALID means the host checked it already. */
    if (meta != NULL && ip[IP_O_PROTO] == IP_PROTO_ICMP) {
        if (meta->flags & NET_META_F_NEEDS_CSUM) {
            net_meta_csum_complete(frame, len, meta);
            csum_sw = true;
        } else if (meta->flags & NET_META_F_DATA_VALID) {
            csum_ok = true;
        }
    }
    if (csum_sw) {
        net_lock();
        in->nif_ctr.csum_sw++;
        net_unlock();
    }
    if ((net_get16(ip + IP_O_FRAG) & (IP_F_MF | IP_OFF_MASK)) != 0) {
        why = NET_DROP_ip_frag_local; /* no reassembly: nothing local needs it */
    } else if (ip[IP_O_PROTO] != IP_PROTO_ICMP) {
        why = NET_DROP_ip_proto_unsupported;
        if (ip[IP_O_PROTO] == IP_PROTO_UDP) {
            type = ICMP_DEST_UNREACH; /* what traceroute to the router expects */
            code = ICMP_UNREACH_PORT;
        } else if (ip[IP_O_PROTO] != IP_PROTO_TCP) {
            type = ICMP_DEST_UNREACH;
            code = ICMP_UNREACH_PROTO;
        }
    } else if (ilen < ICMP_HLEN || (!csum_ok && net_csum(icmp, ilen) != 0)) {
        why = NET_DROP_icmp_bad;
    } else if (icmp[ICMP_O_TYPE] != ICMP_ECHO_REQUEST) {
        why = NET_DROP_icmp_unhandled;
    } else {
        net_lock();
        in->nif_ctr.local_frames++;
        in->nif_ctr.icmp_echo_rx++;
        id = net_g.ip_id++;
        net_unlock();
        /* Echo reply (RFC 792) in the request's buffer. IP options are not echoed
           (RFC 1122 3.2.2.6 leaves it open): the ICMP message moves up over them. */
        if (ihl > IP_HLEN_MIN) {
            memmove(ip + IP_HLEN_MIN, icmp, ilen);
            icmp = ip + IP_HLEN_MIN;
            ihl = IP_HLEN_MIN;
            tot = ihl + ilen;
        }
        src = net_get32(ip + IP_O_SRC);
        memcpy(ip + IP_O_SRC, ip + IP_O_DST, 4);
        net_put32(ip + IP_O_DST, src);
        ip[IP_O_VIHL] = 0x45;
        net_put16(ip + IP_O_LEN, (uint16_t)tot);
        net_put16(ip + IP_O_ID, id);
        net_put16(ip + IP_O_FRAG, 0);
        ip[IP_O_TTL] = NET_IP_DEFAULT_TTL;
        net_put16(ip + IP_O_CSUM, 0);
        net_put16(ip + IP_O_CSUM, net_csum(ip, IP_HLEN_MIN));
        icmp[ICMP_O_TYPE] = ICMP_ECHO_REPLY;
        net_put16(icmp + ICMP_O_CSUM,
                  net_csum_update16(net_get16(icmp + ICMP_O_CSUM),
                                    (uint16_t)(ICMP_ECHO_REQUEST << 8 | icmp[ICMP_O_CODE]),
                                    (uint16_t)(ICMP_ECHO_REPLY << 8 | icmp[ICMP_O_CODE])));
        memcpy(mac, frame + ETH_O_SRC, ETH_ALEN);
        memcpy(frame + ETH_O_DST, mac, ETH_ALEN);
        memcpy(frame + ETH_O_SRC, in->nif_mac, ETH_ALEN);
        (void)net_tx_own(in, frame, ETH_HLEN + tot, fmask, NULL);
        return;
    }
    net_lock();
    in->nif_ctr.drop[why]++;
    net_unlock();
    if (type != 0 && net_icmp_error_allowed(ip, tot, l2_bcast))
        net_icmp_error(in, frame, len, type, code, 0, fmask);
}

void net_ip_input(struct net_if *in, uint8_t *frame, size_t len, bool l2_bcast,
                  const struct net_pkt_meta *meta, uint32_t *fmask)
{
    uint8_t *ip = frame + ETH_HLEN;
    size_t avail = len - ETH_HLEN, ihl, tot;
    uint32_t src, dst, nh = 0;
    struct net_if *out = NULL;
    enum net_drop_reason why = NET_DROP_COUNT;
    enum net_arp_res res = NET_ARP_RES_NOENTRY;
    uint8_t icmp_type = 0, icmp_code = 0, mac[ETH_ALEN];
    uint16_t csum;
    bool local = false, gso = false, sw_csum = false, out_drop = false;
    size_t rxlen = len, seg = 0;
    int err;

    /* RFC 1812 5.2.2 / RFC 1122 3.2.1: the header checks a router must make. */
    if (avail < IP_HLEN_MIN) {
        net_count_rx_drop(in, NET_DROP_ip_bad_len, len);
        return;
    }
    if ((ip[IP_O_VIHL] >> 4) != 4) {
        net_count_rx_drop(in, NET_DROP_ip_bad_version, len);
        return;
    }
    ihl = (ip[IP_O_VIHL] & 0xfu) * 4u;
    tot = net_get16(ip + IP_O_LEN);
    if (ihl < IP_HLEN_MIN || ihl > tot) {
        net_count_rx_drop(in, NET_DROP_ip_bad_ihl, len);
        return;
    }
    if (tot > avail) {
        net_count_rx_drop(in, NET_DROP_ip_bad_len, len);
        return;
    }
    if (net_csum(ip, ihl) != 0) {
        net_count_rx_drop(in, NET_DROP_ip_bad_csum, len);
        return;
    }
    src = net_get32(ip + IP_O_SRC);
    dst = net_get32(ip + IP_O_DST);
    if (net_ip_is_martian(src) || src == in->nif_bcast) {
        net_count_rx_drop(in, NET_DROP_ip_bad_src, len);
        return;
    }
    /* 0/8, 127/8 and 240/4 (but not the limited broadcast) are never destinations. */
    if ((net_ip_is_martian(dst) && !net_ip_is_mcast(dst) && dst != 0xffffffffu)) {
        net_count_rx_drop(in, NET_DROP_ip_bad_dst, len);
        return;
    }
    if (meta != NULL) {
        why = net_ip_meta_check(meta, ip, ihl, tot, &seg);
        if (why != NET_DROP_COUNT) {
            net_count_rx_drop(in, why, len);
            return;
        }
        gso = meta->gso_type != NET_META_GSO_NONE;
    }
    /* Ethernet pads short frames to 60 bytes: the datagram ends at its total length. */
    len = ETH_HLEN + tot;

    net_lock();
    in->nif_ctr.rx_frames++;
    in->nif_ctr.rx_bytes += rxlen;
    if (net_is_local_addr_locked(src)) {
        why = NET_DROP_ip_bad_src; /* our own address coming back: a loop or a spoof */
    } else if (net_is_local_addr_locked(dst)) {
        local = true;
    } else if (net_ip_is_mcast(dst)) {
        why = NET_DROP_ip_mcast;
    } else if (dst == 0xffffffffu) {
        why = NET_DROP_ip_bcast;
    } else if (l2_bcast) {
        why = NET_DROP_l2_bcast_fwd; /* RFC 1812 5.3.4: never forward these */
    } else {
        /* Route: the decision for the last destination seen on this ingress is cached. */
        if (in->nif_dc_dst == dst && in->nif_dc_gen == net_g.route_gen) {
            out = in->nif_dc_out;
            nh = in->nif_dc_nh;
        } else {
            out = net_route_lookup_locked(dst, &nh);
            in->nif_dc_dst = dst;
            in->nif_dc_out = out;
            in->nif_dc_nh = nh;
            in->nif_dc_gen = net_g.route_gen;
        }
        if (out != NULL && dst == out->nif_bcast &&
            (dst & out->nif_mask) == (out->nif_ip & out->nif_mask)) {
            why = NET_DROP_ip_bcast; /* directed broadcast: not forwarded (RFC 2644) */
        } else if (ip[IP_O_TTL] <= 1) {
            why = NET_DROP_ttl_exceeded;
            icmp_type = ICMP_TIME_EXCEEDED;
            icmp_code = 0;
        } else if (out == NULL) {
            why = NET_DROP_no_route;
            icmp_type = ICMP_DEST_UNREACH;
            icmp_code = ICMP_UNREACH_NET;
        } else if (gso && seg > out->nif_mtu) {
            /* Its segments would not fit. Without DF, Linux would segment and fragment;
               this router does neither. With DF the sender learns the MTU (RFC 1191). */
            why = NET_DROP_gso_too_big;
            if (net_get16(ip + IP_O_FRAG) & IP_F_DF) {
                icmp_type = ICMP_DEST_UNREACH;
                icmp_code = ICMP_UNREACH_FRAG;
            }
        } else if (gso && out->nif_output_meta == NULL) {
            out->nif_ctr.drop[NET_DROP_gso_unsupported]++;
            out_drop = true;
        } else if (!gso && tot > out->nif_mtu && (net_get16(ip + IP_O_FRAG) & IP_F_DF)) {
            why = NET_DROP_frag_needed;
            icmp_type = ICMP_DEST_UNREACH;
            icmp_code = ICMP_UNREACH_FRAG;
        } else {
            /* TTL lives in the high byte of the TTL/protocol word (RFC 1624 eqn. 3). */
            csum = net_get16(ip + IP_O_CSUM);
            csum = net_csum_update16(csum, (uint16_t)(ip[IP_O_TTL] << 8 | ip[IP_O_PROTO]),
                                     (uint16_t)((ip[IP_O_TTL] - 1) << 8 | ip[IP_O_PROTO]));
            ip[IP_O_TTL]--;
            net_put16(ip + IP_O_CSUM, csum);
            res = net_arp_resolve_locked(out, nh, mac, gso ? NULL : frame, len, in, meta);
            /* A partial checksum leaves complete when the frame goes without metadata:
               queued for ARP (done in the copy), fragmented, or no output_meta. */
            sw_csum =
                !gso && meta != NULL && (meta->flags & NET_META_F_NEEDS_CSUM) &&
                (res == NET_ARP_RES_QUEUED || res == NET_ARP_RES_QUEUED_REQ ||
                 (res == NET_ARP_RES_OK && (tot > out->nif_mtu || out->nif_output_meta == NULL)));
            if (sw_csum)
                in->nif_ctr.csum_sw++;
            if (res == NET_ARP_RES_OK && (tot <= out->nif_mtu || gso)) {
                in->nif_ctr.fwd_frames++;
                in->nif_ctr.fwd_gso += gso;
                out->nif_ctr.tx_frames++;
                out->nif_ctr.tx_bytes += len;
            } else if (res == NET_ARP_RES_UNQUEUED || res == NET_ARP_RES_UNQUEUED_REQ) {
                out->nif_ctr.drop[NET_DROP_gso_arp_miss]++;
            } else if (res == NET_ARP_RES_FULL) {
                out->nif_ctr.drop[NET_DROP_arp_pending_full]++;
            } else if (res == NET_ARP_RES_NOENTRY) {
                out->nif_ctr.drop[NET_DROP_arp_table_full]++;
            }
        }
    }
    if (why != NET_DROP_COUNT)
        in->nif_ctr.drop[why]++;
    net_unlock();

    if (local) {
        net_ip_local(in, frame, len, l2_bcast, meta, fmask);
        return;
    }
    if (out_drop)
        return;
    if (why != NET_DROP_COUNT) {
        if (icmp_type != 0 && net_icmp_error_allowed(ip, tot, l2_bcast))
            net_icmp_error(in, frame, len, icmp_type, icmp_code, out != NULL ? out->nif_mtu : 0,
                           fmask);
        return;
    }
    if (res == NET_ARP_RES_QUEUED_REQ || res == NET_ARP_RES_UNQUEUED_REQ) {
        net_arp_send_request(out, nh, fmask);
        return;
    }
    if (res != NET_ARP_RES_OK)
        return;
    if (sw_csum)
        net_meta_csum_complete(frame, len, meta);
    if (!gso && tot > out->nif_mtu) {
        net_ip_emit(in, out, mac, frame, len, fmask);
        return;
    }
    memcpy(frame + ETH_O_DST, mac, ETH_ALEN);
    memcpy(frame + ETH_O_SRC, out->nif_mac, ETH_ALEN);
    if (gso || (meta != NULL && (meta->flags & NET_META_F_NEEDS_CSUM) && !sw_csum)) {
        /* DATA_VALID describes what was received, not what is sent. */
        struct net_pkt_meta m = *meta;
        m.flags &= (uint8_t)~NET_META_F_DATA_VALID;
        err = net_output_meta(out, &m, frame, len, fmask, NET_TX_RXBUF);
    } else {
        /* The frame's last use here: the output may keep the receive buffer. */
        err = net_output_x(out, frame, len, fmask, NET_TX_RXBUF);
    }
    if (err != 0) {
        net_lock();
        in->nif_ctr.fwd_frames--;
        in->nif_ctr.fwd_gso -= gso;
        out->nif_ctr.tx_frames--;
        out->nif_ctr.tx_bytes -= len;
        out->nif_ctr
            .drop[gso && err == NET_E_UNSUPP ? NET_DROP_gso_unsupported : net_tx_reason(err)]++;
        net_unlock();
    }
}
