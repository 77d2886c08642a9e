#pragma once

// One worker's side of the kernel fast path: it turns the state machine's offers into
// map entries (fast_path_abi.h), takes them out when an allocation is withdrawn or its
// offer runs out, and brings back what the program carried: packets and bytes from the
// per-CPU counters, RTP header fields from the worker's media ring. Runs on the worker's
// thread only; the program and its maps are shared by every worker.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "relay/turn/fast_path.h"
#include "relay/xdp/fast_path_abi.h"

namespace hearth::xdp {

class FastPathProgram;

class FastPathChannels final : public turn::FastPath {
  public:
    // `worker` of `workers`: the slots this worker hands out are its share of the map's.
    FastPathChannels(FastPathProgram& program, unsigned worker, unsigned workers);
    ~FastPathChannels() override;
    FastPathChannels(const FastPathChannels&) = delete;
    FastPathChannels& operator=(const FastPathChannels&) = delete;

    void offer(turn::Allocation& allocation, const turn::ChannelBinding& channel,
               const turn::RelayEndpoint& relay, turn::TimePoint until) override;
    turn::FastPathCounts withdraw(turn::Allocation& allocation) override;
    // Also takes out the entries whose offer ran out.
    void collect(
        const std::function<void(turn::Allocation&, const turn::FastPathCounts&)>& add) override;

    // The RTP header fields of what the program carried, into the allocations' media
    // statistics (relay/turn/media_stats.h), as the packet path would have seen them.
    void drain_media();
    // Grants each carried allocation's directions up to `allowance_target` bytes ahead from
    // its bandwidth budgets (fast_path_abi.h, hearth_fp_allowance). Run often: what the
    // program may carry between two top-ups is what the last one left it.
    void top_up_allowances(turn::TimePoint now);
    // 128 KiB: 50 Mbit/s a direction through the kernel at a top-up every 20 ms (a video
    // call needs a tenth of it; past it, datagrams go through userspace), and a sixth of
    // the default budget's half-second burst held ahead.
    static constexpr std::int64_t allowance_target = 128 * 1024;

    FastPathProgram& program() { return program_; }
    std::size_t carried_allocations() const { return carried_.size(); }
    std::uint64_t offers_refused() const { return offers_refused_; }  // map or slots full

  private:
    struct Channel {
        std::uint16_t number = 0;
        hearth_fp_client_key client_key{};
        hearth_fp_peer_key peer_key{};
        std::uint64_t until_ns = 0;
    };
    struct Carried {
        turn::Allocation* allocation = nullptr;
        std::uint32_t slot = 0;
        hearth_fp_counters seen{};  // the program's counters at the last collection
        std::vector<Channel> channels;
    };

    Carried* carry(turn::Allocation& allocation);
    void top_up(Carried& carried, turn::TimePoint now);
    void give_back_allowance(Carried& carried);
    void remove_entries(const Channel& channel);
    turn::FastPathCounts counts_since(Carried& carried);

    FastPathProgram& program_;
    unsigned worker_;
    std::uint32_t first_slot_;
    std::vector<std::uint32_t> free_slots_;
    std::vector<turn::Allocation*> allocation_of_slot_;  // by slot - first_slot_
    std::unordered_map<turn::AllocationId, Carried> carried_;
    std::uint64_t offers_refused_ = 0;
};

}  // namespace hearth::xdp
