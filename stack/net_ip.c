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

/* Datagram for one of the router's own addresses. rx_frames is already counted. */
static void net_ip_local(struct net_if *in, uint8_t *frame, size_t len, bool l2_bcast,
                         uint32_t *fmask)
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
    } else if (ilen < ICMP_HLEN || net_csum(icmp, ilen) != 0) {
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

void net_ip_input(struct net_if *in, uint8_t *frame, size_t len, bool l2_bcast, uint32_t *fmask)
{
    uint8_t *ip = frame + ETH_HLEN;
    size_t avail = len - ETH_HLEN, ihl, tot;
    uint32_t src, dst, nh = 0;
    struct net_if *out = NULL;
    enum net_drop_reason why = NET_DROP_COUNT;
    enum net_arp_res res = NET_ARP_RES_NOENTRY;
    uint8_t icmp_type = 0, icmp_code = 0, mac[ETH_ALEN];
    uint16_t csum;
    bool local = false;
    size_t rxlen = len;

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
        } else if (tot > out->nif_mtu && (net_get16(ip + IP_O_FRAG) & IP_F_DF)) {
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
            res = net_arp_resolve_locked(out, nh, mac, frame, len, in);
            if (res == NET_ARP_RES_OK && tot <= out->nif_mtu) {
                in->nif_ctr.fwd_frames++;
                out->nif_ctr.tx_frames++;
                out->nif_ctr.tx_bytes += len;
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
        net_ip_local(in, frame, len, l2_bcast, fmask);
        return;
    }
    if (why != NET_DROP_COUNT) {
        if (icmp_type != 0 && net_icmp_error_allowed(ip, tot, l2_bcast))
            net_icmp_error(in, frame, len, icmp_type, icmp_code, out != NULL ? out->nif_mtu : 0,
                           fmask);
        return;
    }
    if (res == NET_ARP_RES_QUEUED_REQ) {
        net_arp_send_request(out, nh, fmask);
        return;
    }
    if (res != NET_ARP_RES_OK)
        return;
    if (tot > out->nif_mtu) {
        net_ip_emit(in, out, mac, frame, len, fmask);
        return;
    }
    memcpy(frame + ETH_O_DST, mac, ETH_ALEN);
    memcpy(frame + ETH_O_SRC, out->nif_mac, ETH_ALEN);
    {
        int err = net_output(out, frame, len, fmask);
        if (err != 0) {
            net_lock();
            in->nif_ctr.fwd_frames--;
            out->nif_ctr.tx_frames--;
            out->nif_ctr.tx_bytes -= len;
            out->nif_ctr.drop[net_tx_reason(err)]++;
            net_unlock();
        }
    }
}
