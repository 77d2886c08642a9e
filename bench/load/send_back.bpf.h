/* Turns a UDP datagram around in place, for XDP_TX: the Ethernet, IP and UDP source and
 * destination swapped. Both checksums stay right: a ones' complement sum does not depend
 * on the order of its words. Included by the bench's BPF programs only. */
#pragma once

// clang-format off
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
// clang-format on

static __always_inline void send_back(struct ethhdr* eth, struct iphdr* ip, struct udphdr* udp) {
    __u8 mac[ETH_ALEN];
    __builtin_memcpy(mac, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
    const __u32 address = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = address;
    const __u16 port = udp->source;
    udp->source = udp->dest;
    udp->dest = port;
}
