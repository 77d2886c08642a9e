/* A relay that costs nothing, for hearth-load's bounce (load_bounce.bpf.c) to be measured
 * alone: on the far end of a veth pair of its own, every ChannelData datagram goes straight
 * back to its sender, as if relayed to a peer and back in no time. Attached with
 * `ip link set dev <veth> xdpdrv obj load_reflector.bpf.o sec xdp`; needs no settings.
 * Anything else passes (the neighbour's ARP). */
// clang-format off
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include "bench/load/send_back.bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int hearth_load_reflector(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* data_end = (void*)(long)ctx->data_end;
    struct ethhdr* eth = data;
    struct iphdr* ip = (struct iphdr*)(eth + 1);
    struct udphdr* udp = (struct udphdr*)(ip + 1);
    __u8* first = (__u8*)(udp + 1);
    if ((void*)(first + 4) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    /* ChannelData: channel numbers 0x4000-0x7FFF (RFC 8656 §12.4). */
    if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP || (ip->frag_off & bpf_htons(0x3fff)) ||
        (*first & 0xC0) != 0x40)
        return XDP_PASS;
    send_back(eth, ip, udp);
    return XDP_TX;
}
