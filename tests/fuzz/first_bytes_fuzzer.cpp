// The first bytes of a connection on a multiplexing listener as TcpListener feeds them to
// classify_first_bytes: the bytes received so far, growing one read at a time.

#include <cstdlib>

#include "fuzz_input.h"
#include "relay/net/first_bytes.h"

using namespace hearth::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto received = hearth::fuzz::as_bytes(data, size);
    const auto whole = classify_first_bytes(received);
    if (whole.kind != FirstBytesKind::tls && !whole.server_name.empty()) {
        std::abort();  // a name is only ever a ClientHello's
    }
    // Once a prefix decides, every longer stream decides the same: a reader that waits on
    // need_more never decides differently for bytes arriving later.
    for (std::size_t n = 0; n < size && n <= first_bytes_max_size; ++n) {
        const auto prefix = classify_first_bytes(received.first(n));
        if (prefix.kind == FirstBytesKind::need_more) {
            continue;
        }
        if (prefix.kind != whole.kind || prefix.server_name != whole.server_name) {
            std::abort();
        }
        break;
    }
    return 0;
}
