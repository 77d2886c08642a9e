/* What hearth-load's XDP bounce (load_bounce.bpf.c) and hearth-load (load_bounce.cpp)
 * share: the counters and the round-trip histogram, whose buckets are LatencyHistogram's. */
#pragma once

#include <linux/types.h>

/* 1 µs buckets up to 10 ms, then 100 µs buckets up to 1 s (latency_histogram.h). */
#define HEARTH_BOUNCE_FINE_BUCKETS 10000
#define HEARTH_BOUNCE_COARSE_WIDTH 100
#define HEARTH_BOUNCE_COARSE_BUCKETS 9900
#define HEARTH_BOUNCE_BUCKETS (HEARTH_BOUNCE_FINE_BUCKETS + HEARTH_BOUNCE_COARSE_BUCKETS)

/* What each of hearth-load's packets starts with (load_traffic.cpp's PacketHeader): the
 * magic, then the sender, then the send time in CLOCK_MONOTONIC nanoseconds. */
#define HEARTH_BOUNCE_PACKET_MAGIC 0x484C4431
#define HEARTH_BOUNCE_SENT_NS_OFFSET 8

/* The program's states, set by hearth-load in `state` (.bss). */
#define HEARTH_BOUNCE_IDLE 0     /* everything passes: the setup's STUN traffic */
#define HEARTH_BOUNCE_RUNNING 1  /* the load's datagrams go back to the relay */
#define HEARTH_BOUNCE_DRAINING 2 /* the load's datagrams are counted and dropped */

struct hearth_bounce_counters {
    __u64 peer_bounced;   /* datagrams to the echo peer sent back where they came from */
    __u64 client_bounced; /* ChannelData to a client sent back to the server, same channel */
    __u64 drained;        /* the load's datagrams dropped once draining */
};
