#pragma once

// The server's TLS settings (RFC 8656 §3.1, RFC 7443): TLS 1.2 and 1.3 only, modern
// ciphers, no session resumption, ALPN "stun.turn", SNI logged. A context is immutable
// once built; reloading a certificate builds a new one and swaps it in, so connections in
// flight keep theirs.

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace hearth::relay {

struct SslContextDeleter {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
using SslContextPointer = std::shared_ptr<SSL_CTX>;

// Builds a server context from PEM files; on failure returns null and says why in `error`
// (the OpenSSL reason included), so a broken new certificate can be refused with a clear
// log line while the old context stays in use.
SslContextPointer make_server_tls_context(const std::string& certificate_chain_file,
                                          const std::string& private_key_file, std::string& error);

// The notAfter of the first certificate in a PEM file (the server's own, in a chain file),
// in Unix seconds; nullopt when the file cannot be read or holds no certificate.
std::optional<std::int64_t> certificate_not_after(const std::string& certificate_file);

}  // namespace hearth::relay
