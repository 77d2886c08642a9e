#include "relay/net/proxy_header_reader.h"

#include <event2/buffer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace hearth::relay {

ProxyHeaderReader::ProxyHeaderReader(event_base* base, Done done)
    : base_(base),
      done_(std::move(done)),
      reader_(
          base, proxy_header_max_size,
          [this](std::span<const std::byte> received, const TransportAddress& proxy) {
              return examine(received, proxy);
          },
          [this](bufferevent* socket, const TransportAddress& proxy, const ProxyHeader& header) {
              finish(socket, proxy, header);
          }) {}

void ProxyHeaderReader::add(evutil_socket_t fd, const TransportAddress& proxy,
                            std::chrono::seconds deadline) {
    bufferevent* socket = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
    if (socket == nullptr) {
        ::close(fd);
        return;
    }
    reader_.add(socket, proxy, deadline);
}

ProxyHeaderReader::Counters ProxyHeaderReader::counters() const {
    Counters all = counters_;
    all.timeout = reader_.counters.timeout;
    all.too_many = reader_.counters.too_many;
    all.closed_early = reader_.counters.closed_early;
    return all;
}

OpeningReader<ProxyHeader>::Examined ProxyHeaderReader::examine(std::span<const std::byte> received,
                                                                const TransportAddress& proxy) {
    auto result = parse_proxy_header(received);
    if (auto* header = std::get_if<ProxyHeader>(&result)) {
        return *header;
    }
    const auto* error = std::get_if<ProxyHeaderError>(&result);
    if (error == nullptr) {
        return OpeningNeedsMore{};
    }
    spdlog::debug("PROXY header from {} refused: {}", proxy.to_string(), to_string(*error));
    switch (*error) {
        case ProxyHeaderError::not_proxy_header:
            ++counters_.missing;
            break;
        case ProxyHeaderError::malformed:
            ++counters_.malformed;
            break;
        case ProxyHeaderError::too_long:
            ++counters_.too_long;
            break;
    }
    return OpeningRefused{};
}

// The header is consumed; the socket goes on, with what followed the header still in its
// input, as a connection from the client the header names (§2.1, §2.2: with none, the
// connection's own addresses stand).
void ProxyHeaderReader::finish(bufferevent* socket, const TransportAddress& proxy,
                               const ProxyHeader& header) {
    ++counters_.accepted;
    evbuffer_drain(bufferevent_get_input(socket), header.size);
    done_(socket, header.source.value_or(proxy));
}

}  // namespace hearth::relay
