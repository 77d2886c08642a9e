// The PROXY protocol header as ProxyHeaderReader feeds it: the bytes received so far,
// growing one read at a time (haproxy's proxy-protocol.txt §2.1, §2.2).

#include <cstdlib>

#include "fuzz_input.h"
#include "relay/net/proxy_header.h"

using namespace hearth::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto received = hearth::fuzz::as_bytes(data, size);
    const auto whole = parse_proxy_header(received);
    if (const auto* header = std::get_if<ProxyHeader>(&whole)) {
        // A header is never empty, never longer than what was received or than the bound
        // the reader's buffer is sized for.
        if (header->size == 0 || header->size > received.size() ||
            header->size > proxy_header_max_size) {
            std::abort();
        }
        if (header->source.has_value() != header->destination.has_value()) {
            std::abort();
        }
    }
    // Every prefix of a stream that parses asks for more or parses the same header: a
    // reader that waits on NeedMore never decides differently for bytes arriving later.
    const bool decided_here = !std::holds_alternative<ProxyHeaderNeedMore>(whole);
    for (std::size_t n = 0; n < size && n <= proxy_header_max_size; ++n) {
        const auto prefix = parse_proxy_header(received.first(n));
        if (std::holds_alternative<ProxyHeaderNeedMore>(prefix)) {
            continue;
        }
        if (!decided_here || prefix.index() != whole.index()) {
            std::abort();
        }
        break;
    }
    return 0;
}
