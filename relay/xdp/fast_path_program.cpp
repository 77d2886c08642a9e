#include "relay/xdp/fast_path_program.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fast_path.skel.h"  // generated in the build tree by bpftool

namespace hearth::xdp {

namespace {

std::string reason(const char* what, int error_number) {
    return std::string(what) + ": " +
           std::strerror(error_number < 0 ? -error_number : error_number);
}

}  // namespace

std::unique_ptr<FastPathProgram> FastPathProgram::load(std::size_t workers, std::string& error) {
    if (workers == 0 || workers > HEARTH_FP_MAX_WORKERS) {
        error = "the XDP fast path takes 1 to " + std::to_string(HEARTH_FP_MAX_WORKERS) +
                " workers, not " + std::to_string(workers);
        return nullptr;
    }
    std::unique_ptr<FastPathProgram> program(new FastPathProgram());
    program->skeleton_ = fast_path_bpf__open();
    if (program->skeleton_ == nullptr) {
        error = reason("cannot open the XDP program", errno);
        return nullptr;
    }
    if (const int failed = fast_path_bpf__load(program->skeleton_); failed != 0) {
        error = reason("the kernel refused the XDP program", failed);
        return nullptr;
    }
    program->cpus_ = libbpf_num_possible_cpus();
    if (program->cpus_ <= 0) {
        error = reason("cannot count the possible CPUs", program->cpus_);
        return nullptr;
    }
    if (!program->make_rings(workers, error) || !program->map_allowances(error)) {
        return nullptr;
    }
    return program;
}

// One ring buffer per worker, in the program's array of rings at the worker's index.
bool FastPathProgram::make_rings(std::size_t workers, std::string& error) {
    const int outer = bpf_map__fd(skeleton_->maps.hearth_fp_media);
    for (std::size_t worker = 0; worker < workers; ++worker) {
        auto ring = std::make_unique<Ring>();
        ring->map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "hearth_fp_ring", 0, 0,
                                      HEARTH_FP_MEDIA_RING_BYTES, nullptr);
        if (ring->map_fd < 0) {
            error = reason("cannot create a media ring", errno);
            return false;
        }
        rings_.push_back(std::move(ring));
        Ring& made = *rings_.back();
        const auto index = static_cast<std::uint32_t>(worker);
        if (bpf_map_update_elem(outer, &index, &made.map_fd, BPF_ANY) != 0) {
            error = reason("cannot hand a media ring to the program", errno);
            return false;
        }
        made.consumer = ring_buffer__new(made.map_fd, &FastPathProgram::on_record, &made, nullptr);
        if (made.consumer == nullptr) {
            error = reason("cannot read a media ring", errno);
            return false;
        }
    }
    return true;
}

bool FastPathProgram::map_allowances(std::string& error) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = sizeof(hearth_fp_allowance) * HEARTH_FP_MAX_SLOTS;
    allowances_bytes_ = (bytes + page - 1) / page * page;
    void* mapped = mmap(nullptr, allowances_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED,
                        bpf_map__fd(skeleton_->maps.hearth_fp_allowances), 0);
    if (mapped == MAP_FAILED) {
        error = reason("cannot map the fast path's allowances", errno);
        return false;
    }
    allowances_ = static_cast<hearth_fp_allowance*>(mapped);
    return true;
}

FastPathProgram::~FastPathProgram() {
    for (const int link : links_) {
        close(link);  // detaches the program from that interface
    }
    for (auto& ring : rings_) {
        if (ring->consumer != nullptr) {
            ring_buffer__free(ring->consumer);
        }
        if (ring->map_fd >= 0) {
            close(ring->map_fd);
        }
    }
    if (allowances_ != nullptr) {
        munmap(allowances_, allowances_bytes_);
    }
    if (skeleton_ != nullptr) {
        fast_path_bpf__destroy(skeleton_);
    }
}

bool FastPathProgram::attach(int ifindex, AttachMode mode, std::string& error) {
    LIBBPF_OPTS(bpf_link_create_opts, options);
    options.flags = mode == AttachMode::native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    const int link = bpf_link_create(program_fd(), ifindex, BPF_XDP, &options);
    if (link < 0) {
        error = reason("cannot attach the XDP program", errno);
        return false;
    }
    links_.push_back(link);
    return true;
}

int FastPathProgram::program_fd() const {
    return bpf_program__fd(skeleton_->progs.hearth_fast_path);
}

bool FastPathProgram::put_client(const hearth_fp_client_key& key,
                                 const hearth_fp_client_entry& entry) {
    return bpf_map_update_elem(bpf_map__fd(skeleton_->maps.hearth_fp_clients), &key, &entry,
                               BPF_ANY) == 0;
}

bool FastPathProgram::put_peer(const hearth_fp_peer_key& key, const hearth_fp_peer_entry& entry) {
    return bpf_map_update_elem(bpf_map__fd(skeleton_->maps.hearth_fp_peers), &key, &entry,
                               BPF_ANY) == 0;
}

void FastPathProgram::remove_client(const hearth_fp_client_key& key) {
    bpf_map_delete_elem(bpf_map__fd(skeleton_->maps.hearth_fp_clients), &key);
}

void FastPathProgram::remove_peer(const hearth_fp_peer_key& key) {
    bpf_map_delete_elem(bpf_map__fd(skeleton_->maps.hearth_fp_peers), &key);
}

bool FastPathProgram::put_slot(std::uint32_t slot, const hearth_fp_slot& value) {
    // BPF_F_LOCK: written under the slot's lock, so the program never reads half of it.
    return bpf_map_update_elem(bpf_map__fd(skeleton_->maps.hearth_fp_slots), &slot, &value,
                               BPF_F_LOCK) == 0;
}

hearth_fp_allowance& FastPathProgram::allowance(std::uint32_t slot) {
    return allowances_[slot % HEARTH_FP_MAX_SLOTS];
}

hearth_fp_counters FastPathProgram::read_counters(std::uint32_t slot) {
    std::vector<hearth_fp_counters> per_cpu(static_cast<std::size_t>(cpus_));
    hearth_fp_counters sum{};
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.hearth_fp_slot_counters), &slot,
                            per_cpu.data()) != 0) {
        return sum;
    }
    for (const auto& cpu : per_cpu) {
        sum.to_peer_packets += cpu.to_peer_packets;
        sum.to_peer_bytes += cpu.to_peer_bytes;
        sum.to_client_packets += cpu.to_client_packets;
        sum.to_client_bytes += cpu.to_client_bytes;
    }
    return sum;
}

void FastPathProgram::clear_counters(std::uint32_t slot) {
    const std::vector<hearth_fp_counters> zero(static_cast<std::size_t>(cpus_));
    bpf_map_update_elem(bpf_map__fd(skeleton_->maps.hearth_fp_slot_counters), &slot, zero.data(),
                        BPF_ANY);
}

std::array<std::uint64_t, HEARTH_FP_OUTCOMES> FastPathProgram::read_outcomes() {
    std::array<std::uint64_t, HEARTH_FP_OUTCOMES> sums{};
    std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus_));
    const int fd = bpf_map__fd(skeleton_->maps.hearth_fp_outcomes);
    for (std::uint32_t outcome = 0; outcome < HEARTH_FP_OUTCOMES; ++outcome) {
        if (bpf_map_lookup_elem(fd, &outcome, per_cpu.data()) != 0) {
            continue;
        }
        for (const std::uint64_t count : per_cpu) {
            sums[outcome] += count;
        }
    }
    return sums;
}

std::size_t FastPathProgram::consume(Ring& ring) {
    ring.taken = 0;
    ring_buffer__consume(ring.consumer);
    ring.take = nullptr;
    return ring.taken;
}

int FastPathProgram::on_record(void* context, void* data, std::size_t size) {
    auto& ring = *static_cast<Ring*>(context);
    if (size < sizeof(hearth_fp_media_record) || ring.take == nullptr) {
        return 0;
    }
    hearth_fp_media_record record;
    std::memcpy(&record, data, sizeof(record));
    ring.deliver(ring.take, record);
    ++ring.taken;
    return 0;
}

}  // namespace hearth::xdp
