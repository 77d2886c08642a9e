#include "bench/load/load_bounce.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench/load/load_bounce_abi.h"
#include "load_bounce.skel.h"  // generated in the build tree by bpftool

namespace hearth::load {

static_assert(HEARTH_BOUNCE_FINE_BUCKETS == LatencyHistogram::fine_buckets &&
              HEARTH_BOUNCE_COARSE_WIDTH == LatencyHistogram::coarse_width &&
              HEARTH_BOUNCE_COARSE_BUCKETS == LatencyHistogram::coarse_buckets);

namespace {

std::string reason(const std::string& what, int error_number) {
    return what + ": " + std::strerror(error_number < 0 ? -error_number : error_number);
}

}  // namespace

std::unique_ptr<LoadBounce> LoadBounce::attach(const std::string& interface,
                                               const BounceAddresses& addresses,
                                               std::string& error) {
    std::unique_ptr<LoadBounce> bounce(new LoadBounce());
    bounce->ifindex_ = static_cast<int>(if_nametoindex(interface.c_str()));
    if (bounce->ifindex_ == 0) {
        error = reason("no interface " + interface, errno);
        return nullptr;
    }
    bounce->cpus_ = libbpf_num_possible_cpus();
    bounce->skeleton_ = load_bounce_bpf__open();
    if (bounce->cpus_ <= 0 || bounce->skeleton_ == nullptr) {
        error = reason("cannot open the bounce program", errno);
        return nullptr;
    }
    auto& settings = *bounce->skeleton_->rodata;
    settings.load_ipv4 = addresses.load_ipv4;
    settings.server_ipv4 = addresses.server_ipv4;
    settings.server_port = htons(addresses.server_port);
    settings.echo_port = htons(addresses.echo_port);
    if (const int failed = load_bounce_bpf__load(bounce->skeleton_); failed != 0) {
        error = reason("the kernel refused the bounce program", failed);
        return nullptr;
    }
    std::uint32_t previous = 0;
    if (const int failed = bpf_xdp_query_id(bounce->ifindex_, XDP_FLAGS_DRV_MODE, &previous);
        failed != 0) {
        error = reason("cannot tell which XDP program " + interface + " has", failed);
        return nullptr;
    }
    if (previous != 0) {
        bounce->previous_program_fd_ = bpf_prog_get_fd_by_id(previous);
        if (bounce->previous_program_fd_ < 0) {
            error = reason("cannot hold the XDP program " + interface + " has", errno);
            return nullptr;
        }
    }
    const int program = bpf_program__fd(bounce->skeleton_->progs.hearth_load_bounce);
    if (const int failed = bpf_xdp_attach(bounce->ifindex_, program, XDP_FLAGS_DRV_MODE, nullptr);
        failed != 0) {
        error = reason("cannot attach the bounce program to " + interface, failed);
        return nullptr;
    }
    bounce->attached_ = true;
    return bounce;
}

// Puts back what was there, only if the bounce is still what the interface has
// (XDP_FLAGS_REPLACE): a program attached meanwhile by someone else stays.
LoadBounce::~LoadBounce() {
    if (attached_) {
        LIBBPF_OPTS(bpf_xdp_attach_opts, replacing);
        replacing.old_prog_fd = bpf_program__fd(skeleton_->progs.hearth_load_bounce);
        const int failed = bpf_xdp_attach(ifindex_, previous_program_fd_,
                                          XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &replacing);
        if (failed != 0) {
            std::fprintf(stderr, "hearth-load: %s\n",
                         reason("cannot put the interface's XDP program back", failed).c_str());
        }
    }
    if (previous_program_fd_ >= 0) {
        close(previous_program_fd_);
    }
    if (skeleton_ != nullptr) {
        load_bounce_bpf__destroy(skeleton_);
    }
}

// The program reads both at every packet; the deadline goes first, so it is never read
// stale once the state says running.
void LoadBounce::run_until(std::uint64_t stop_at_ns) {
    __atomic_store_n(&skeleton_->bss->stop_at_ns, stop_at_ns, __ATOMIC_SEQ_CST);
    __atomic_store_n(&skeleton_->bss->state, HEARTH_BOUNCE_RUNNING, __ATOMIC_SEQ_CST);
}

void LoadBounce::drain() {
    __atomic_store_n(&skeleton_->bss->state, HEARTH_BOUNCE_DRAINING, __ATOMIC_SEQ_CST);
}

BounceCounters LoadBounce::counters() const {
    std::vector<hearth_bounce_counters> per_cpu(static_cast<std::size_t>(cpus_));
    const std::uint32_t key = 0;
    BounceCounters total;
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.hearth_bounce_totals), &key,
                            per_cpu.data()) != 0) {
        return total;
    }
    for (const auto& cpu : per_cpu) {
        total.peer_bounced += cpu.peer_bounced;
        total.client_bounced += cpu.client_bounced;
        total.drained += cpu.drained;
    }
    return total;
}

void LoadBounce::add_round_trips(LatencyHistogram& histogram) const {
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus_));
    const int map = bpf_map__fd(skeleton_->maps.hearth_bounce_round_trips);
    for (std::uint32_t bucket = 0; bucket < HEARTH_BOUNCE_BUCKETS; ++bucket) {
        if (bpf_map_lookup_elem(map, &bucket, per_cpu.data()) != 0) {
            continue;
        }
        std::uint64_t count = 0;
        for (const std::uint64_t cpu : per_cpu) {
            count += cpu;
        }
        if (count != 0) {
            histogram.add_to_bucket(bucket, count);
        }
    }
}

}  // namespace hearth::load
