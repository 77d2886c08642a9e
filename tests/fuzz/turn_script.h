#pragma once

// The fuzz input of turn_server_fuzzer: a script of steps, each a record
//   kind+flags (1 byte) [length (2 bytes, big-endian) payload | seconds (1 byte)]
// where the first byte's low three bits pick the kind, bits 3-4 the client (or peer) and
// bit 5 a stream transport. Read by the fuzzer, written by seed_corpus.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace hearth::fuzz {

enum class StepKind : std::uint8_t {
    client_stun,
    client_channel_data,
    peer_datagram,
    time_passes,
    client_gone,
};
constexpr unsigned step_kinds = 5;

struct Step {
    StepKind kind = StepKind::client_stun;
    unsigned client = 0;
    bool stream = false;
    std::span<const std::byte> payload;
    unsigned seconds = 0;
};

class TurnScript {
  public:
    explicit TurnScript(std::span<const std::byte> bytes) : rest_(bytes) {}

    std::optional<Step> next() {
        if (rest_.empty()) {
            return std::nullopt;
        }
        const auto head = std::to_integer<unsigned>(rest_[0]);
        rest_ = rest_.subspan(1);
        Step step;
        step.kind = static_cast<StepKind>((head & 0x7) % step_kinds);
        step.client = (head >> 3) & 0x3;
        step.stream = (head & 0x20) != 0;
        if (step.kind == StepKind::time_passes) {
            step.seconds = rest_.empty() ? 1 : std::to_integer<unsigned>(rest_[0]);
            rest_ = rest_.subspan(rest_.empty() ? 0 : 1);
        } else if (step.kind != StepKind::client_gone) {
            std::size_t length = 0;
            if (rest_.size() >= 2) {
                length = (std::to_integer<std::size_t>(rest_[0]) << 8) |
                         std::to_integer<std::size_t>(rest_[1]);
                rest_ = rest_.subspan(2);
            } else {
                rest_ = {};
            }
            length = std::min(length, rest_.size());
            step.payload = rest_.first(length);
            rest_ = rest_.subspan(length);
        }
        return step;
    }

  private:
    std::span<const std::byte> rest_;
};

// Appends steps in the format above.
class TurnScriptWriter {
  public:
    void message(StepKind kind, unsigned client, std::span<const std::byte> payload,
                 bool stream = false) {
        bytes_.push_back(static_cast<std::byte>(static_cast<unsigned>(kind) | (client << 3) |
                                                (stream ? 0x20u : 0u)));
        bytes_.push_back(static_cast<std::byte>(payload.size() >> 8));
        bytes_.push_back(static_cast<std::byte>(payload.size()));
        bytes_.insert(bytes_.end(), payload.begin(), payload.end());
    }
    void time_passes(unsigned seconds) {
        bytes_.push_back(static_cast<std::byte>(StepKind::time_passes));
        bytes_.push_back(static_cast<std::byte>(seconds));
    }
    const std::vector<std::byte>& bytes() const { return bytes_; }

  private:
    std::vector<std::byte> bytes_;
};

}  // namespace hearth::fuzz
