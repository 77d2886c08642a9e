#pragma once

// The allocation caps that span every worker: in total and per user. Shared between
// worker threads with a mutex on purpose: it is touched only when an allocation is
// created or deleted, never per packet.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hearth::turn {

class AllocationQuota {
  public:
    AllocationQuota(std::uint32_t max_total, std::uint32_t max_per_user);

    enum class Result { granted, total_reached, user_reached };
    Result acquire(std::string_view user_key);
    void release(std::string_view user_key);
    std::uint32_t total() const;
    // Reload: new caps; allocations above them stay until they end.
    void set_limits(std::uint32_t max_total, std::uint32_t max_per_user);

  private:
    mutable std::mutex mutex_;
    std::uint32_t max_total_;
    std::uint32_t max_per_user_;
    std::uint32_t total_ = 0;
    std::unordered_map<std::string, std::uint32_t> per_user_;
};

}  // namespace hearth::turn
