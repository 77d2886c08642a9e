/* The maps the XDP fast path shares with userspace: compiled into the BPF program
 * (fast_path.bpf.c) and into hearthd (fast_path_program.h), so both sides agree on every
 * byte. C, not C++: clang -target bpf reads it too.
 *
 * Userspace is the authority: it installs an entry for a channel binding with a live
 * permission and withdraws it the moment either ends; the program only looks entries up.
 * Addresses are in network byte order as on the wire; an IPv4 address fills ip[0..3] and
 * the other 12 bytes are zero. Keys are zeroed whole before they are filled, padding too. */
#ifndef HEARTH_XDP_FAST_PATH_ABI_H
#define HEARTH_XDP_FAST_PATH_ABI_H

#include <linux/bpf.h> /* struct bpf_spin_lock */
#include <linux/types.h>

#define HEARTH_FP_FAMILY_IPV4 4
#define HEARTH_FP_FAMILY_IPV6 6

/* Allocations the fast path can carry at once (slots) and channel entries per map. */
#define HEARTH_FP_MAX_SLOTS 32768
#define HEARTH_FP_MAX_CHANNELS 65536
/* Workers, each with its own media ring (one ring per worker, so the worker that owns an
 * allocation reads its RTP header fields without a lock). */
#define HEARTH_FP_MAX_WORKERS 64
#define HEARTH_FP_MEDIA_RING_BYTES (1u << 20)

/* Client -> relay: ChannelData on `channel` from client to the listener it used.
 * server_ip all zero: the listener is a wildcard one (0.0.0.0 or ::); the program looks up
 * the exact destination first, then the wildcard. */
struct hearth_fp_client_key {
    __u8 client_ip[16];
    __u8 server_ip[16];
    __be16 client_port;
    __be16 server_port;
    __be16 channel; /* as on the wire */
    __u8 family;    /* HEARTH_FP_FAMILY_* */
    __u8 reserved;
};

/* ...goes out as plain UDP from relay_ip:relay_port to peer_ip:peer_port (same family). */
struct hearth_fp_client_entry {
    __u8 relay_ip[16];
    __u8 peer_ip[16];
    __be16 relay_port;
    __be16 peer_port;
    __u32 slot;       /* index into hearth_fp_slots and hearth_fp_counters */
    __u64 expires_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns); past it: to userspace */
    __u32 worker;     /* whose media ring gets the RTP header fields */
    __u32 reserved;
};

/* Peer -> relay: UDP from peer_ip:peer_port to the relayed address relay_ip:relay_port. */
struct hearth_fp_peer_key {
    __u8 peer_ip[16];
    __u8 relay_ip[16];
    __be16 peer_port;
    __be16 relay_port;
    __u8 family;
    __u8 reserved[3];
};

/* ...goes to the client as ChannelData on `channel`, from server_ip:server_port (the
 * address the client talks to). server_ip all zero (a wildcard listener): the address the
 * program saw the client send to, kept in the slot (hearth_fp_slot.server_ip); until it has
 * seen one, such packets go to userspace. */
struct hearth_fp_peer_entry {
    __u8 client_ip[16];
    __u8 server_ip[16];
    __be16 client_port;
    __be16 server_port;
    __be16 channel;
    __u16 reserved;
    __u32 slot;
    __u64 expires_ns;
    __u32 worker;
    __u32 reserved2;
};

/* For wildcard listeners, the address an allocation's client sends to, as the program
 * saw it (an ARRAY by slot). */
struct hearth_fp_slot {
    __u8 server_ip[16];
    __u32 server_ip_known;
    /* Several CPUs may learn and read server_ip at once: a reader never sees half of one.
     * Userspace writes the slot with BPF_F_LOCK. */
    struct bpf_spin_lock lock;
};

/* Bytes the program may still carry for a slot, each way: granted ahead by userspace from
 * the allocation's and its session's bandwidth budgets (relay/turn/token_bucket.h), topped
 * up every few milliseconds, spent here with an atomic subtraction. Spent out: the packet
 * goes to userspace, which applies the budgets as it always does (and drops over them).
 * An ARRAY by slot, BPF_F_MMAPABLE: userspace adds with atomics in the mapped memory, no
 * system call per top-up. */
struct hearth_fp_allowance {
    __s64 to_peer_bytes;
    __s64 to_client_bytes;
};

/* Per-CPU counters of one allocation (a per-CPU array indexed by slot); userspace sums the
 * CPUs and adds what is new to the allocation's counters. Bytes are payload bytes, as the
 * userspace path counts them (no ChannelData header). */
struct hearth_fp_counters {
    __u64 to_peer_packets;
    __u64 to_peer_bytes;
    __u64 to_client_packets;
    __u64 to_client_bytes;
};

/* Why a packet the fast path looked at went to userspace instead (a per-CPU array, one
 * counter per reason), and how many it carried. */
enum hearth_fp_outcome {
    HEARTH_FP_CARRIED = 0,
    HEARTH_FP_PASS_OVER_ALLOWANCE, /* its granted bytes spent: userspace applies the budgets */
    HEARTH_FP_PASS_NOT_UDP,        /* may be UDP, unreadable: IP options, a fragment, an IPv6
                                      extension header, a VLAN tag, lengths that disagree;
                                      TCP, ICMP, ARP... are not counted at all */
    HEARTH_FP_PASS_NO_ENTRY,       /* UDP, but no client or peer entry */
    HEARTH_FP_PASS_EXPIRED,        /* the entry's expires_ns has passed */
    HEARTH_FP_PASS_MALFORMED,      /* ChannelData length disagrees with the datagram */
    HEARTH_FP_PASS_PADDED,         /* ChannelData with padding (RFC 8656 §12.5 allows it) */
    HEARTH_FP_PASS_NO_SERVER_IP,   /* wildcard listener, client address not yet seen */
    HEARTH_FP_PASS_NO_ROUTE,       /* bpf_fib_lookup found no route or neighbour, or the
                                      ingress interface does not forward */
    HEARTH_FP_PASS_TOO_BIG,        /* the wrapped datagram would exceed the MTU */
    HEARTH_FP_PASS_LOCAL,          /* to this host (another allocation's relayed address):
                                      userspace relays it (on lo the program does) */
    HEARTH_FP_MEDIA_RING_FULL,     /* carried, but its RTP header fields were lost */
    HEARTH_FP_OUTCOMES
};

/* What the program tells the owning worker about each packet it carried, so that worker's
 * media statistics (relay/turn/media_stats.h) see the same traffic as in userspace. */
#define HEARTH_FP_MEDIA_HEADER_BYTES 12
struct hearth_fp_media_record {
    __u64 arrival_ns; /* CLOCK_MONOTONIC */
    __u32 slot;
    __u16 payload_bytes;
    __u8 direction;    /* 0: to peer, 1: to client */
    __u8 header_bytes; /* how much of header[] is valid: min(12, payload) */
    __u8 header[HEARTH_FP_MEDIA_HEADER_BYTES];
};

#endif
