/* How the fast path (fast_path.bpf.c) rewrites a carried datagram in place: new Ethernet,
 * IP and UDP headers in front of the data, the ChannelData header put in (to the client)
 * or taken out (to the peer), the IPv4 header checksum recomputed and the UDP checksum
 * updated from the old one (RFC 1624). Included by the program only. */
#ifndef HEARTH_XDP_FAST_PATH_REWRITE_BPF_H
#define HEARTH_XDP_FAST_PATH_REWRITE_BPF_H

#define CHANNEL_DATA_HEADER 4 /* RFC 8656 §12.4: channel number, length */
#define RELAY_TTL 64          /* hearthd re-originates the datagram, as its send does */
#define IPV4_HEADERS (ETH_HLEN + 20 + 8)
#define IPV6_HEADERS (ETH_HLEN + 40 + 8)

/* Where a carried datagram goes, and how. */
struct rewrite {
    __u8 src[16];
    __u8 dst[16];
    __be16 src_port;
    __be16 dst_port;
    __be16 channel; /* wrapping: the ChannelData channel number */
    __u16 data;     /* the application data's bytes (no ChannelData header) */
    int forward;    /* 1: the fib found a neighbour; set the MACs and send it out */
    __u32 ifindex;  /* ...through this interface */
    __u8 smac[ETH_ALEN];
    __u8 dmac[ETH_ALEN];
};

static __always_inline __u32 fold(__u32 sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    return (sum & 0xffff) + (sum >> 16);
}

/* The ones' complement sum of `words` 16-bit words, as they lie in memory (RFC 1071: the
 * sum is byte-order independent as long as it is stored back the same way). */
static __always_inline __u32 sum_words(const void* bytes, const int words) {
    const __u8* p = bytes;
    __u32 sum = 0;
#pragma unroll
    for (int i = 0; i < words; i++)
        sum += (__u32)p[2 * i] | ((__u32)p[2 * i + 1] << 8);
    return sum;
}

/* The UDP checksum after the addresses, ports and length changed and the ChannelData header
 * went in or out, from the old one (RFC 1624 eqn. 3): HC' = ~(~HC + ~m + m'). */
static __always_inline __u16 updated_udp_check(__u16 check, __u32 removed, __u32 added,
                                               const int v6) {
    if (check == 0 && !v6)
        return 0; /* RFC 768: no checksum, and none is made up */
    __u32 sum = (__u16)~check + (__u16)~fold(removed) + fold(added);
    __u16 result = ~fold(sum);
    return result == 0 ? 0xffff : result; /* RFC 768: a computed zero goes as all ones */
}

/* The new Ethernet, IP and UDP headers, written in front of the data after the ChannelData
 * header went in (wrap) or out (strip). Returns nonzero, the packet unchanged, if there is
 * no room. */
static __noinline int rewrite_ipv4(struct xdp_md* ctx, const struct rewrite* r, const int wrap) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    if (data + IPV4_HEADERS > end)
        return -1;
    struct ethhdr eth;
    struct iphdr ip;
    struct udphdr udp;
    __u8 old_channel_data[CHANNEL_DATA_HEADER];
    __builtin_memcpy(&eth, data, ETH_HLEN);
    __builtin_memcpy(&ip, data + ETH_HLEN, sizeof(ip));
    __builtin_memcpy(&udp, data + ETH_HLEN + sizeof(ip), sizeof(udp));
    __builtin_memset(old_channel_data, 0, CHANNEL_DATA_HEADER);
    if (!wrap) {
        if (data + IPV4_HEADERS + CHANNEL_DATA_HEADER > end)
            return -1;
        __builtin_memcpy(old_channel_data, data + IPV4_HEADERS, CHANNEL_DATA_HEADER);
    }
    __u16 length = 8 + r->data + (wrap ? CHANNEL_DATA_HEADER : 0);
    __be16 channel_data[2] = {r->channel, bpf_htons(r->data)};
    /* Pseudo-header addresses and length, ports, UDP length, the ChannelData header. */
    __u32 removed = sum_words(&ip.saddr, 4) + sum_words(&udp, 3) + udp.len;
    if (!wrap)
        removed += sum_words(old_channel_data, 2);
    __u32 added = sum_words(r->src, 2) + sum_words(r->dst, 2) + r->src_port + r->dst_port +
                  2 * (__u32)bpf_htons(length);
    if (wrap)
        added += sum_words(channel_data, 2);
    __builtin_memcpy(&ip.saddr, r->src, 4);
    __builtin_memcpy(&ip.daddr, r->dst, 4);
    ip.ttl = RELAY_TTL;
    ip.tot_len = bpf_htons(20 + length);
    ip.check = 0;
    ip.check = ~fold(sum_words(&ip, 10));
    udp.source = r->src_port;
    udp.dest = r->dst_port;
    udp.len = bpf_htons(length);
    udp.check = updated_udp_check(udp.check, removed, added, 0);
    /* On lo a datagram never crosses a wire, and one sent there has no checksum yet: the
     * stack leaves it to "hardware" that never computes it (CHECKSUM_PARTIAL), so there is
     * nothing to update, and the stack finds where to fill one in by an offset the rewrite
     * has just moved. RFC 768's "no checksum" is the honest value. IPv6 has no such value:
     * on lo the fast path carries IPv4 (fast_path.bpf.c, route). */
    if (ctx->ingress_ifindex == LOOPBACK_IFINDEX)
        udp.check = 0;
    if (r->forward) {
        __builtin_memcpy(eth.h_source, r->smac, ETH_ALEN);
        __builtin_memcpy(eth.h_dest, r->dmac, ETH_ALEN);
    }
    if (bpf_xdp_adjust_head(ctx, wrap ? -CHANNEL_DATA_HEADER : CHANNEL_DATA_HEADER))
        return -1;
    data = (void*)(long)ctx->data;
    end = (void*)(long)ctx->data_end;
    /* A stripped datagram may carry less than a ChannelData header's worth of data. */
    if (data + IPV4_HEADERS > end || (wrap && data + IPV4_HEADERS + CHANNEL_DATA_HEADER > end))
        return -1; /* cannot be: there was room before */
    __builtin_memcpy(data, &eth, ETH_HLEN);
    __builtin_memcpy(data + ETH_HLEN, &ip, sizeof(ip));
    __builtin_memcpy(data + ETH_HLEN + sizeof(ip), &udp, sizeof(udp));
    if (wrap)
        __builtin_memcpy(data + IPV4_HEADERS, channel_data, CHANNEL_DATA_HEADER);
    return 0;
}

static __noinline int rewrite_ipv6(struct xdp_md* ctx, const struct rewrite* r, const int wrap) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    if (data + IPV6_HEADERS > end)
        return -1;
    struct ethhdr eth;
    struct ipv6hdr ip;
    struct udphdr udp;
    __u8 old_channel_data[CHANNEL_DATA_HEADER];
    __builtin_memcpy(&eth, data, ETH_HLEN);
    __builtin_memcpy(&ip, data + ETH_HLEN, sizeof(ip));
    __builtin_memcpy(&udp, data + ETH_HLEN + sizeof(ip), sizeof(udp));
    __builtin_memset(old_channel_data, 0, CHANNEL_DATA_HEADER);
    if (!wrap) {
        if (data + IPV6_HEADERS + CHANNEL_DATA_HEADER > end)
            return -1;
        __builtin_memcpy(old_channel_data, data + IPV6_HEADERS, CHANNEL_DATA_HEADER);
    }
    __u16 length = 8 + r->data + (wrap ? CHANNEL_DATA_HEADER : 0);
    __be16 channel_data[2] = {r->channel, bpf_htons(r->data)};
    __u32 removed = sum_words(&ip.saddr, 16) + sum_words(&udp, 3) + udp.len;
    if (!wrap)
        removed += sum_words(old_channel_data, 2);
    __u32 added = sum_words(r->src, 8) + sum_words(r->dst, 8) + r->src_port + r->dst_port +
                  2 * (__u32)bpf_htons(length);
    if (wrap)
        added += sum_words(channel_data, 2);
    __builtin_memcpy(&ip.saddr, r->src, 16);
    __builtin_memcpy(&ip.daddr, r->dst, 16);
    ip.hop_limit = RELAY_TTL;
    ip.payload_len = bpf_htons(length);
    udp.source = r->src_port;
    udp.dest = r->dst_port;
    udp.len = bpf_htons(length);
    udp.check = updated_udp_check(udp.check, removed, added, 1);
    if (r->forward) {
        __builtin_memcpy(eth.h_source, r->smac, ETH_ALEN);
        __builtin_memcpy(eth.h_dest, r->dmac, ETH_ALEN);
    }
    if (bpf_xdp_adjust_head(ctx, wrap ? -CHANNEL_DATA_HEADER : CHANNEL_DATA_HEADER))
        return -1;
    data = (void*)(long)ctx->data;
    end = (void*)(long)ctx->data_end;
    /* A stripped datagram may carry less than a ChannelData header's worth of data. */
    if (data + IPV6_HEADERS > end || (wrap && data + IPV6_HEADERS + CHANNEL_DATA_HEADER > end))
        return -1; /* cannot be: there was room before */
    __builtin_memcpy(data, &eth, ETH_HLEN);
    __builtin_memcpy(data + ETH_HLEN, &ip, sizeof(ip));
    __builtin_memcpy(data + ETH_HLEN + sizeof(ip), &udp, sizeof(udp));
    if (wrap)
        __builtin_memcpy(data + IPV6_HEADERS, channel_data, CHANNEL_DATA_HEADER);
    return 0;
}

static __always_inline int rewrite(struct xdp_md* ctx, const struct rewrite* r, const int v6,
                                   const int wrap) {
    return v6 ? rewrite_ipv6(ctx, r, wrap) : rewrite_ipv4(ctx, r, wrap);
}

#endif
