/* hearth's kernel fast path: ChannelData from a client to a peer, and UDP from a peer to a
 * client, relayed in XDP for channels userspace handed over (fast_path_abi.h). Anything the
 * program is not certain about goes to userspace unchanged (XDP_PASS), which handles it as
 * it always does: the program only ever carries what hearthd would have sent itself.
 *
 * Built with clang -target bpf -mcpu=v3 (atomic compare-and-swap for the allowances). */
/* libbpf's helpers need the kernel's types declared first. */
// clang-format off
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include "relay/xdp/fast_path_abi.h"

/* bpf_fib_lookup is GPL-only. */
char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
/* lo is interface 1 in every network namespace. */
#define LOOPBACK_IFINDEX 1

struct hearth_fp_media_ring {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, HEARTH_FP_MEDIA_RING_BYTES);
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, HEARTH_FP_MAX_CHANNELS);
    __type(key, struct hearth_fp_client_key);
    __type(value, struct hearth_fp_client_entry);
} hearth_fp_clients SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, HEARTH_FP_MAX_CHANNELS);
    __type(key, struct hearth_fp_peer_key);
    __type(value, struct hearth_fp_peer_entry);
} hearth_fp_peers SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, HEARTH_FP_MAX_SLOTS);
    __type(key, __u32);
    __type(value, struct hearth_fp_slot);
} hearth_fp_slots SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, HEARTH_FP_MAX_SLOTS);
    __uint(map_flags, BPF_F_MMAPABLE);
    __type(key, __u32);
    __type(value, struct hearth_fp_allowance);
} hearth_fp_allowances SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, HEARTH_FP_MAX_SLOTS);
    __type(key, __u32);
    __type(value, struct hearth_fp_counters);
} hearth_fp_slot_counters SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, HEARTH_FP_OUTCOMES);
    __type(key, __u32);
    __type(value, __u64);
} hearth_fp_outcomes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, HEARTH_FP_MAX_WORKERS);
    __type(key, __u32);
    __array(values, struct hearth_fp_media_ring);
} hearth_fp_media SEC(".maps");

/* A UDP datagram as the program parsed it; addresses zero-padded as in the map keys. */
struct datagram {
    __u8 src[16];
    __u8 dst[16];
    __be16 src_port;
    __be16 dst_port;
    __u32 payload; /* UDP payload bytes */
};

#include "relay/xdp/fast_path_rewrite.bpf.h"

enum parsed { PARSED, NOT_OURS, CANNOT_PARSE };

static __always_inline void count(__u32 outcome) {
    __u64* counter = bpf_map_lookup_elem(&hearth_fp_outcomes, &outcome);
    if (counter)
        *counter += 1;
}

static __always_inline int is_extension_header(__u8 next) {
    return next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_FRAGMENT ||
           next == IPPROTO_DSTOPTS || next == IPPROTO_AH || next == IPPROTO_MH;
}

/* Ethernet, IPv4 without options or fragments, UDP with a length that agrees with IP's. */
static __always_inline enum parsed parse_ipv4(void* data, void* end, struct datagram* d) {
    struct iphdr* ip = data + ETH_HLEN;
    if ((void*)(ip + 1) > end)
        return CANNOT_PARSE;
    if (ip->version != 4)
        return CANNOT_PARSE;
    if (ip->protocol != IPPROTO_UDP)
        return NOT_OURS;
    if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)) != 0)
        return CANNOT_PARSE; /* options, or a fragment: MF set or an offset */
    struct udphdr* udp = (void*)(ip + 1);
    if ((void*)(udp + 1) > end)
        return CANNOT_PARSE;
    __u32 total = bpf_ntohs(ip->tot_len);
    __u32 frame = end - data;
    if (total < 28 || ETH_HLEN + total > frame || bpf_ntohs(udp->len) != total - 20)
        return CANNOT_PARSE;
    __builtin_memset(d, 0, sizeof(*d));
    __builtin_memcpy(d->src, &ip->saddr, 4);
    __builtin_memcpy(d->dst, &ip->daddr, 4);
    d->src_port = udp->source;
    d->dst_port = udp->dest;
    d->payload = total - 28;
    return PARSED;
}

/* Ethernet, IPv6 with UDP as its next header, UDP with a length that agrees with IP's. */
static __always_inline enum parsed parse_ipv6(void* data, void* end, struct datagram* d) {
    struct ipv6hdr* ip = data + ETH_HLEN;
    if ((void*)(ip + 1) > end)
        return CANNOT_PARSE;
    if (ip->version != 6)
        return CANNOT_PARSE;
    if (ip->nexthdr != IPPROTO_UDP)
        return is_extension_header(ip->nexthdr) ? CANNOT_PARSE : NOT_OURS;
    struct udphdr* udp = (void*)(ip + 1);
    if ((void*)(udp + 1) > end)
        return CANNOT_PARSE;
    __u32 length = bpf_ntohs(ip->payload_len);
    __u32 frame = end - data;
    /* A zero UDP checksum is not allowed over IPv6 (RFC 8200 §8.1): the stack decides. */
    if (length < 8 || ETH_HLEN + 40 + length > frame || bpf_ntohs(udp->len) != length ||
        udp->check == 0)
        return CANNOT_PARSE;
    __builtin_memcpy(d->src, &ip->saddr, 16);
    __builtin_memcpy(d->dst, &ip->daddr, 16);
    d->src_port = udp->source;
    d->dst_port = udp->dest;
    d->payload = length - 8;
    return PARSED;
}

/* The route and the next hop's MAC address, before anything is changed. Returns
 * HEARTH_FP_CARRIED when it may go on (r->forward says how), or the outcome that sends it
 * to userspace unchanged.
 *
 * A lookup as from the ingress interface (no BPF_FIB_LOOKUP_OUTPUT): with OUTPUT the
 * kernel takes ifindex as the only interface the route may leave by, so a peer behind
 * another interface would never be found. Either way the kernel (6.18) answers
 * FWD_DISABLED unless the ingress interface forwards (net.ipv4.conf.IF.forwarding; for
 * IPv6 net.ipv6.conf.IF.forwarding): then everything goes through userspace. NOT_FWDED
 * is a local destination (or no route at all): the stack gets the rewritten datagram. */
static __noinline __u32 route(struct xdp_md* ctx, struct rewrite* r, const int v6, __u32 ip_bytes) {
    /* The kernel answers NOT_FWDED for link-local and multicast IPv6 destinations without
     * looking further; only a local destination may be handed to the stack rewritten. */
    if (v6 && ((r->dst[0] == 0xfe && (r->dst[1] & 0xc0) == 0x80) || r->dst[0] == 0xff))
        return HEARTH_FP_PASS_NO_ROUTE;
    struct bpf_fib_lookup fib;
    __builtin_memset(&fib, 0, sizeof(fib));
    fib.family = v6 ? AF_INET6 : AF_INET;
    fib.l4_protocol = IPPROTO_UDP;
    fib.sport = r->src_port;
    fib.dport = r->dst_port;
    fib.tot_len = ip_bytes;
    fib.ifindex = ctx->ingress_ifindex;
    if (v6) {
        __builtin_memcpy(fib.ipv6_src, r->src, 16);
        __builtin_memcpy(fib.ipv6_dst, r->dst, 16);
    } else {
        __builtin_memcpy(&fib.ipv4_src, r->src, 4);
        __builtin_memcpy(&fib.ipv4_dst, r->dst, 4);
    }
    long result = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
    if (result == BPF_FIB_LKUP_RET_SUCCESS) {
        r->forward = 1;
        r->ifindex = fib.ifindex;
        __builtin_memcpy(r->smac, fib.smac, ETH_ALEN);
        __builtin_memcpy(r->dmac, fib.dmac, ETH_ALEN);
        return HEARTH_FP_CARRIED;
    }
    if (result == BPF_FIB_LKUP_RET_NOT_FWDED) {
        /* A local destination (another allocation's relayed address, a peer on this host).
         * Only on lo may the stack be handed the rewritten datagram: from anywhere else, a
         * datagram from one of the host's own addresses is a martian and dropped. So it
         * goes to userspace unchanged, and on lo only IPv4, whose checksum may be left out
         * (fast_path_rewrite.bpf.h). */
        if (ctx->ingress_ifindex != LOOPBACK_IFINDEX || v6)
            return HEARTH_FP_PASS_LOCAL;
        r->forward = 0;
        return HEARTH_FP_CARRIED;
    }
    return result == BPF_FIB_LKUP_RET_FRAG_NEEDED ? HEARTH_FP_PASS_TOO_BIG
                                                  : HEARTH_FP_PASS_NO_ROUTE;
}

/* Takes `bytes` from a granted allowance, all or nothing, with a compare-and-swap: the
 * allowance never dips below zero, not even for an instant, so what userspace takes back
 * with an exchange (fast_path_channels.cpp) is exactly what was not spent. A few attempts
 * against other CPUs spending the same slot; past them the packet goes to userspace. */
static __always_inline int spend(__s64* allowance, __u32 bytes) {
    __s64 left = *(volatile __s64*)allowance;
    for (int attempt = 0; attempt < 4; attempt++) {
        if (left < (__s64)bytes)
            return 0;
        __s64 seen = __sync_val_compare_and_swap(allowance, left, left - (__s64)bytes);
        if (seen == left)
            return 1;
        left = seen;
    }
    return 0;
}

/* After the rewrite: the allocation's counters, the outcome, and the media record. */
static __always_inline void account(struct xdp_md* ctx, __u32 slot, __u32 worker, __u64 now,
                                    const struct rewrite* r, const int to_client, __u32 offset) {
    struct hearth_fp_counters* counters = bpf_map_lookup_elem(&hearth_fp_slot_counters, &slot);
    if (counters) {
        if (to_client) {
            counters->to_client_packets += 1;
            counters->to_client_bytes += r->data;
        } else {
            counters->to_peer_packets += 1;
            counters->to_peer_bytes += r->data;
        }
    }
    count(HEARTH_FP_CARRIED);
    void* ring = bpf_map_lookup_elem(&hearth_fp_media, &worker);
    struct hearth_fp_media_record* record =
        ring ? bpf_ringbuf_reserve(ring, sizeof(*record), 0) : 0;
    if (!record) {
        count(HEARTH_FP_MEDIA_RING_FULL);
        return;
    }
    __builtin_memset(record, 0, sizeof(*record));
    record->arrival_ns = now;
    record->slot = slot;
    record->payload_bytes = r->data;
    record->direction = to_client ? 1 : 0;
    __u8* p = (void*)(long)ctx->data + offset;
    void* end = (void*)(long)ctx->data_end;
    __u8 taken = 0;
#pragma unroll
    for (int i = 0; i < HEARTH_FP_MEDIA_HEADER_BYTES; i++) {
        if (i >= r->data || (void*)(p + i + 1) > end)
            break;
        record->header[i] = p[i];
        taken = i + 1;
    }
    record->header_bytes = taken;
    bpf_ringbuf_submit(record, BPF_RB_NO_WAKEUP);
}

static __always_inline int send(struct xdp_md* ctx, const struct rewrite* r) {
    if (!r->forward)
        return XDP_PASS;
    if (r->ifindex == ctx->ingress_ifindex)
        return XDP_TX;
    return bpf_redirect(r->ifindex, 0);
}

/* For a wildcard listener, the address the client sent to, as the slot learned it. */
static __always_inline int learned_server_ip(__u32 slot_index, __u8* ip) {
    struct hearth_fp_slot* slot = bpf_map_lookup_elem(&hearth_fp_slots, &slot_index);
    if (!slot)
        return 0;
    bpf_spin_lock(&slot->lock);
    __u32 known = slot->server_ip_known;
    __builtin_memcpy(ip, slot->server_ip, 16);
    bpf_spin_unlock(&slot->lock);
    return known != 0;
}

static __always_inline void learn_server_ip(__u32 slot_index, const __u8* ip) {
    struct hearth_fp_slot* slot = bpf_map_lookup_elem(&hearth_fp_slots, &slot_index);
    if (!slot)
        return;
    __u64 a, b, have_a, have_b;
    __builtin_memcpy(&a, ip, 8);
    __builtin_memcpy(&b, ip + 8, 8);
    __builtin_memcpy(&have_a, slot->server_ip, 8);
    __builtin_memcpy(&have_b, slot->server_ip + 8, 8);
    if (slot->server_ip_known && a == have_a && b == have_b)
        return; /* the usual case: known already, no lock taken */
    bpf_spin_lock(&slot->lock);
    __builtin_memcpy(slot->server_ip, ip, 16);
    slot->server_ip_known = 1;
    bpf_spin_unlock(&slot->lock);
}

static __always_inline int all_zero(const __u8* ip) {
    __u64 a, b;
    __builtin_memcpy(&a, ip, 8);
    __builtin_memcpy(&b, ip + 8, 8);
    return (a | b) == 0;
}

/* Peer -> client: the datagram goes to the client as ChannelData (RFC 8656 §12.4). */
static __always_inline int to_client(struct xdp_md* ctx, const struct datagram* d,
                                     const struct hearth_fp_peer_entry* entry, __u64 now,
                                     const int v6) {
    if (now > entry->expires_ns) {
        count(HEARTH_FP_PASS_EXPIRED);
        return XDP_PASS;
    }
    struct rewrite r;
    __builtin_memset(&r, 0, sizeof(r));
    __u32 slot = entry->slot;
    __builtin_memcpy(r.src, entry->server_ip, 16);
    if (all_zero(r.src) && !learned_server_ip(slot, r.src)) {
        count(HEARTH_FP_PASS_NO_SERVER_IP);
        return XDP_PASS;
    }
    __builtin_memcpy(r.dst, entry->client_ip, 16);
    r.src_port = entry->server_port;
    r.dst_port = entry->client_port;
    r.channel = entry->channel;
    r.data = d->payload;
    __u32 ip_bytes = (v6 ? 40 + 8 : 20 + 8) + CHANNEL_DATA_HEADER + d->payload;
    __u32 outcome = route(ctx, &r, v6, ip_bytes);
    if (outcome != HEARTH_FP_CARRIED) {
        count(outcome);
        return XDP_PASS;
    }
    struct hearth_fp_allowance* allowance = bpf_map_lookup_elem(&hearth_fp_allowances, &slot);
    if (!allowance || !spend(&allowance->to_client_bytes, r.data)) {
        count(HEARTH_FP_PASS_OVER_ALLOWANCE);
        return XDP_PASS;
    }
    if (rewrite(ctx, &r, v6, 1) != 0) {
        __sync_fetch_and_add(&allowance->to_client_bytes, (__s64)r.data);
        count(HEARTH_FP_PASS_TOO_BIG); /* no headroom for the ChannelData header */
        return XDP_PASS;
    }
    account(ctx, slot, entry->worker, now, &r, 1,
            (v6 ? IPV6_HEADERS : IPV4_HEADERS) + CHANNEL_DATA_HEADER);
    return send(ctx, &r);
}

/* ChannelData's length against the datagram's (RFC 8656 §12.4, §12.5): exact, padded
 * (allowed, but left to userspace), or malformed. */
static __always_inline __u32 channel_data_fit(__u32 payload, __u32 length) {
    if (payload == CHANNEL_DATA_HEADER + length)
        return HEARTH_FP_CARRIED;
    if (payload > CHANNEL_DATA_HEADER + length &&
        payload <= CHANNEL_DATA_HEADER + ((length + 3) & ~3u))
        return HEARTH_FP_PASS_PADDED;
    return HEARTH_FP_PASS_MALFORMED;
}

/* Client -> peer: the ChannelData's data goes to the peer as a plain UDP datagram. */
static __always_inline int to_peer(struct xdp_md* ctx, const struct datagram* d,
                                   const struct hearth_fp_client_entry* entry, __u32 length,
                                   int wildcard, __u64 now, const int v6) {
    __u32 outcome = channel_data_fit(d->payload, length);
    if (outcome != HEARTH_FP_CARRIED) {
        count(outcome);
        return XDP_PASS;
    }
    if (now > entry->expires_ns) {
        count(HEARTH_FP_PASS_EXPIRED);
        return XDP_PASS;
    }
    __u32 slot = entry->slot;
    if (wildcard)
        learn_server_ip(slot, d->dst);
    struct rewrite r;
    __builtin_memset(&r, 0, sizeof(r));
    __builtin_memcpy(r.src, entry->relay_ip, 16);
    __builtin_memcpy(r.dst, entry->peer_ip, 16);
    r.src_port = entry->relay_port;
    r.dst_port = entry->peer_port;
    r.data = length;
    outcome = route(ctx, &r, v6, (v6 ? 40 + 8 : 20 + 8) + length);
    if (outcome != HEARTH_FP_CARRIED) {
        count(outcome);
        return XDP_PASS;
    }
    struct hearth_fp_allowance* allowance = bpf_map_lookup_elem(&hearth_fp_allowances, &slot);
    if (!allowance || !spend(&allowance->to_peer_bytes, length)) {
        count(HEARTH_FP_PASS_OVER_ALLOWANCE);
        return XDP_PASS;
    }
    if (rewrite(ctx, &r, v6, 0) != 0) {
        __sync_fetch_and_add(&allowance->to_peer_bytes, (__s64)length);
        count(HEARTH_FP_PASS_NO_ROUTE); /* cannot be: it only shrinks */
        return XDP_PASS;
    }
    account(ctx, slot, entry->worker, now, &r, 0, v6 ? IPV6_HEADERS : IPV4_HEADERS);
    return send(ctx, &r);
}

/* ChannelData is what starts with 0b01 (channel numbers 0x4000-0x4FFF, RFC 8656 §12): look
 * its channel up for the exact listener address, then for a wildcard listener. */
static __always_inline int from_client(struct xdp_md* ctx, const struct datagram* d, __u64 now,
                                       const int v6) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    __u8* header = data + (v6 ? IPV6_HEADERS : IPV4_HEADERS);
    if (d->payload < CHANNEL_DATA_HEADER || (void*)(header + CHANNEL_DATA_HEADER) > end ||
        (header[0] & 0xc0) != 0x40) {
        count(HEARTH_FP_PASS_NO_ENTRY);
        return XDP_PASS;
    }
    struct hearth_fp_client_key key;
    __builtin_memset(&key, 0, sizeof(key));
    __builtin_memcpy(key.client_ip, d->src, 16);
    __builtin_memcpy(key.server_ip, d->dst, 16);
    key.client_port = d->src_port;
    key.server_port = d->dst_port;
    __builtin_memcpy(&key.channel, header, 2);
    key.family = v6 ? HEARTH_FP_FAMILY_IPV6 : HEARTH_FP_FAMILY_IPV4;
    __u32 length = ((__u32)header[2] << 8) | header[3];
    int wildcard = 0;
    struct hearth_fp_client_entry* entry = bpf_map_lookup_elem(&hearth_fp_clients, &key);
    if (!entry) {
        __builtin_memset(key.server_ip, 0, 16);
        entry = bpf_map_lookup_elem(&hearth_fp_clients, &key);
        wildcard = 1;
    }
    if (!entry) {
        count(HEARTH_FP_PASS_NO_ENTRY);
        return XDP_PASS;
    }
    return to_peer(ctx, d, entry, length, wildcard, now, v6);
}

static __always_inline int handle(struct xdp_md* ctx, const int v6) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    struct datagram d;
    __builtin_memset(&d, 0, sizeof(d));
    enum parsed parsed = v6 ? parse_ipv6(data, end, &d) : parse_ipv4(data, end, &d);
    if (parsed == NOT_OURS)
        return XDP_PASS;
    if (parsed == CANNOT_PARSE) {
        count(HEARTH_FP_PASS_NOT_UDP);
        return XDP_PASS;
    }
    __u64 now = bpf_ktime_get_ns();
    struct hearth_fp_peer_key key;
    __builtin_memset(&key, 0, sizeof(key));
    __builtin_memcpy(key.peer_ip, d.src, 16);
    __builtin_memcpy(key.relay_ip, d.dst, 16);
    key.peer_port = d.src_port;
    key.relay_port = d.dst_port;
    key.family = v6 ? HEARTH_FP_FAMILY_IPV6 : HEARTH_FP_FAMILY_IPV4;
    struct hearth_fp_peer_entry* entry = bpf_map_lookup_elem(&hearth_fp_peers, &key);
    if (entry)
        return to_client(ctx, &d, entry, now, v6);
    return from_client(ctx, &d, now, v6);
}

/* One subprogram per family: each has its own stack frame, and its offsets are constants. */
static __noinline int handle_ipv4(struct xdp_md* ctx) {
    return handle(ctx, 0);
}

static __noinline int handle_ipv6(struct xdp_md* ctx) {
    return handle(ctx, 1);
}

SEC("xdp")
int hearth_fast_path(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    if ((void*)(eth + 1) > end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP))
        return handle_ipv4(ctx);
    if (eth->h_proto == bpf_htons(ETH_P_IPV6))
        return handle_ipv6(ctx);
    if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD))
        count(HEARTH_FP_PASS_NOT_UDP); /* it may hold UDP, but the program reads no VLANs */
    return XDP_PASS;
}
