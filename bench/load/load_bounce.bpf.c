/* hearth-load's bounce: the load's end of a veth pair turns every datagram of the load
 * around in XDP, so that the load costs the machine almost nothing per packet and what is
 * left to measure is the relay (bench/saturation.py --loads bounce). Addresses and ports
 * are swapped by send_back.bpf.h.
 *
 * A datagram from the relay to the echo peer goes back to the relayed address it came
 * from, as the echo peer would send it; ChannelData from the server to a client goes back
 * to the server on the same channel, as the client would send its next packet. So each
 * packet hearth-load starts goes round the relay until hearth-load drains them. The
 * client's turn also stamps the time, for the round trip, and updates the UDP checksum for
 * it (RFC 1624). Anything else passes. */
// clang-format off
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include "bench/load/load_bounce_abi.h"
#include "bench/load/send_back.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by hearth-load before the program loads (network byte order). */
const volatile __u32 load_ipv4 = 0;   /* the clients' and the echo peer's address */
const volatile __u32 server_ipv4 = 0; /* the server's listening address */
const volatile __u16 server_port = 0; /* where the clients send */
const volatile __u16 echo_port = 0;   /* the echo peer's port */

/* Set by hearth-load while the program runs. */
__u32 state = HEARTH_BOUNCE_IDLE;
/* However hearth-load ends, the bouncing stops by itself here (CLOCK_MONOTONIC ns). */
__u64 stop_at_ns = 0;

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct hearth_bounce_counters);
} hearth_bounce_totals SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, HEARTH_BOUNCE_BUCKETS);
    __type(key, __u32);
    __type(value, __u64);
} hearth_bounce_round_trips SEC(".maps");

static __always_inline __u32 fold(__u32 sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    return (sum & 0xffff) + (sum >> 16);
}

/* The ones' complement sum of the four 16-bit words of `value` as it lies in memory. */
static __always_inline __u32 sum_of(__u64 value) {
    __u16 words[4];
    __builtin_memcpy(words, &value, sizeof words);
    return (__u32)words[0] + words[1] + words[2] + words[3];
}

static __always_inline void record_round_trip(__u64 nanoseconds) {
    const __u64 microseconds = nanoseconds / 1000;
    __u32 bucket = (__u32)microseconds;
    if (microseconds >= HEARTH_BOUNCE_FINE_BUCKETS) {
        const __u64 coarse =
            (microseconds - HEARTH_BOUNCE_FINE_BUCKETS) / HEARTH_BOUNCE_COARSE_WIDTH;
        bucket = HEARTH_BOUNCE_FINE_BUCKETS + (__u32)(coarse < HEARTH_BOUNCE_COARSE_BUCKETS
                                                          ? coarse
                                                          : HEARTH_BOUNCE_COARSE_BUCKETS - 1);
    }
    __u64* count = bpf_map_lookup_elem(&hearth_bounce_round_trips, &bucket);
    if (count)
        *count += 1;
}

/* The round trip since the packet last left a client, and the time it leaves again. */
static __always_inline void stamp(struct udphdr* udp, void* data_end, __u64 now) {
    /* The ChannelData header (RFC 8656 §12.4), then hearth-load's packet header. */
    __u8* payload = (__u8*)(udp + 1) + 4;
    if ((void*)(payload + HEARTH_BOUNCE_SENT_NS_OFFSET + 8) > data_end)
        return;
    __u32 magic;
    __builtin_memcpy(&magic, payload, sizeof magic);
    if (magic != HEARTH_BOUNCE_PACKET_MAGIC)
        return;
    __u64 sent;
    __builtin_memcpy(&sent, payload + HEARTH_BOUNCE_SENT_NS_OFFSET, sizeof sent);
    if (now > sent)
        record_round_trip(now - sent);
    __builtin_memcpy(payload + HEARTH_BOUNCE_SENT_NS_OFFSET, &now, sizeof now);
    /* The stamp sits at an even offset of the UDP data, so its words are the checksum's. */
    if (udp->check != 0) {
        __u32 sum = (__u16)~udp->check + (__u16)~fold(sum_of(sent)) + fold(sum_of(now));
        __u16 check = ~fold(sum);
        udp->check = check == 0 ? 0xffff : check;
    }
}

SEC("xdp")
int hearth_load_bounce(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* data_end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    struct iphdr* ip = (struct iphdr*)(eth + 1);
    struct udphdr* udp = (struct udphdr*)(ip + 1);
    if ((void*)(udp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(0x3fff)) ||
        ip->daddr != load_ipv4)
        return XDP_PASS;
    const __u32 current = state;
    if (current == HEARTH_BOUNCE_IDLE)
        return XDP_PASS;
    /* To the echo peer from any relayed address (a relay may relay from another address
     * than it listens on); to a client, ChannelData from the server's listening port:
     * channel numbers 0x4000-0x7FFF (RFC 8656 §12.4). */
    const int to_peer = udp->dest == echo_port;
    if (!to_peer) {
        __u8* first = (__u8*)(udp + 1);
        if (ip->saddr != server_ipv4 || udp->source != server_port ||
            (void*)(first + 4) > data_end || (*first & 0xC0) != 0x40)
            return XDP_PASS;
    }
    __u32 zero = 0;
    struct hearth_bounce_counters* counters = bpf_map_lookup_elem(&hearth_bounce_totals, &zero);
    if (!counters)
        return XDP_PASS;
    const __u64 now = bpf_ktime_get_ns();
    if (current != HEARTH_BOUNCE_RUNNING || now > stop_at_ns) {
        counters->drained += 1;
        return XDP_DROP;
    }
    if (to_peer) {
        counters->peer_bounced += 1;
    } else {
        stamp(udp, data_end, now);
        counters->client_bounced += 1;
    }
    send_back(eth, ip, udp);
    return XDP_TX;
}
