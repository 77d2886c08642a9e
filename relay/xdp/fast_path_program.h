#pragma once

// The loaded XDP fast path (fast_path.bpf.c): its maps, its links to interfaces, and one
// media ring per worker. The maps are the kernel's, so several workers may update entries
// at once; each worker drains only its own ring.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "relay/xdp/fast_path_abi.h"

struct fast_path_bpf;
struct ring_buffer;

namespace hearth::xdp {

enum class AttachMode { native, generic };

class FastPathProgram {
  public:
    // Opens, verifies and loads the program, with a media ring for each of `workers`
    // (at most HEARTH_FP_MAX_WORKERS). Null, with a one-line reason, if the kernel refuses.
    static std::unique_ptr<FastPathProgram> load(std::size_t workers, std::string& error);
    ~FastPathProgram();
    FastPathProgram(const FastPathProgram&) = delete;
    FastPathProgram& operator=(const FastPathProgram&) = delete;

    // Through a BPF link, so the program leaves the interface with this process, even a
    // killed one: nothing is carried without hearthd keeping the maps in step.
    bool attach(int ifindex, AttachMode mode, std::string& error);

    bool put_client(const hearth_fp_client_key& key, const hearth_fp_client_entry& entry);
    bool put_peer(const hearth_fp_peer_key& key, const hearth_fp_peer_entry& entry);
    void remove_client(const hearth_fp_client_key& key);
    void remove_peer(const hearth_fp_peer_key& key);
    bool put_slot(std::uint32_t slot, const hearth_fp_slot& value);

    // The slot's bytes the program may still carry each way, in memory shared with the
    // kernel: add and take with std::atomic_ref (fast_path_abi.h, hearth_fp_allowance).
    hearth_fp_allowance& allowance(std::uint32_t slot);

    // Summed over the CPUs.
    hearth_fp_counters read_counters(std::uint32_t slot);
    void clear_counters(std::uint32_t slot);
    std::array<std::uint64_t, HEARTH_FP_OUTCOMES> read_outcomes();

    // Hands `take(const hearth_fp_media_record&)` every record in `worker`'s ring, without
    // waiting; returns how many. Only `worker`'s thread calls it for `worker`.
    template <typename Take>
    std::size_t drain_media(std::size_t worker, Take&& take);

    std::size_t workers() const { return rings_.size(); }
    int program_fd() const;  // for tests (bpf_prog_test_run_opts)

  private:
    struct Ring {
        ring_buffer* consumer = nullptr;
        int map_fd = -1;
        void* take = nullptr;  // the Take of the drain in progress
        void (*deliver)(void* take, const hearth_fp_media_record&) = nullptr;
        std::size_t taken = 0;
    };

    FastPathProgram() = default;
    bool make_rings(std::size_t workers, std::string& error);
    bool map_allowances(std::string& error);
    std::size_t consume(Ring& ring);
    static int on_record(void* context, void* data, std::size_t size);

    fast_path_bpf* skeleton_ = nullptr;
    std::vector<std::unique_ptr<Ring>> rings_;
    std::vector<int> links_;                     // BPF link descriptors, one per attached interface
    hearth_fp_allowance* allowances_ = nullptr;  // mmapped hearth_fp_allowances
    std::size_t allowances_bytes_ = 0;
    int cpus_ = 1;  // possible CPUs: the per-CPU maps' values
};

template <typename Take>
std::size_t FastPathProgram::drain_media(std::size_t worker, Take&& take) {
    if (worker >= rings_.size()) {
        return 0;
    }
    Ring& ring = *rings_[worker];
    using Callable = std::remove_reference_t<Take>;
    ring.take = const_cast<void*>(static_cast<const void*>(std::addressof(take)));
    ring.deliver = [](void* callable, const hearth_fp_media_record& record) {
        (*static_cast<Callable*>(callable))(record);
    };
    return consume(ring);
}

}  // namespace hearth::xdp
