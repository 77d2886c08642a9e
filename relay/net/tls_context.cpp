#include "relay/net/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <ctime>
#include <memory>

namespace hearth::relay {

namespace {

// RFC 7443 §4: the ALPN protocol id for TURN over (D)TLS.
constexpr unsigned char alpn_stun_turn[] = {'s', 't', 'u', 'n', '.', 't', 'u', 'r', 'n'};

std::string openssl_reason() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return "unknown OpenSSL error";
    }
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length,
                const unsigned char* offered, unsigned int offered_length, void*) {
    // Accept "stun.turn" when offered; a client offering only others gets no ALPN
    // rather than a failed handshake (browsers do not send ALPN for TURN at all).
    for (unsigned int i = 0; i < offered_length;) {
        const unsigned int length = offered[i];
        if (i + 1 + length > offered_length) {
            break;
        }
        if (length == sizeof alpn_stun_turn &&
            std::memcmp(offered + i + 1, alpn_stun_turn, length) == 0) {
            *out = offered + i + 1;
            *out_length = static_cast<unsigned char>(length);
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + length;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

int log_server_name(SSL* ssl, int*, void*) {
    if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
        spdlog::debug("TLS client hello for server name '{}'", name);
    }
    return SSL_TLSEXT_ERR_OK;
}

}  // namespace

SslContextPointer make_server_tls_context(const std::string& certificate_chain_file,
                                          const std::string& private_key_file, std::string& error) {
    SslContextPointer context(SSL_CTX_new(TLS_server_method()), SslContextDeleter{});
    if (!context) {
        error = openssl_reason();
        return nullptr;
    }
    SSL_CTX* ctx = context.get();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    // TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are OpenSSL's defaults.
    SSL_CTX_set_cipher_list(ctx,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    // No resumption at all: no session cache, and no session tickets (SSL_OP_NO_TICKET for
    // TLS 1.2, no NewSessionTicket for 1.3). A ticket key would live as long as the
    // process, and whoever later reads it from memory decrypts every TLS 1.2 session it
    // sealed (a 1.2 ticket carries the master secret). A TURN connection lasts a call, so
    // a full handshake per connection costs little.
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    if (SSL_CTX_use_certificate_chain_file(ctx, certificate_chain_file.c_str()) != 1) {
        error = "certificate " + certificate_chain_file + ": " + openssl_reason();
        return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, private_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        error = "private key " + private_key_file + ": " + openssl_reason();
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        error = "private key " + private_key_file + " does not match the certificate";
        return nullptr;
    }
    SSL_CTX_set_alpn_select_cb(ctx, &select_alpn, nullptr);
    SSL_CTX_set_tlsext_servername_callback(ctx, &log_server_name);
    return context;
}

std::optional<std::int64_t> certificate_not_after(const std::string& certificate_file) {
    std::unique_ptr<BIO, decltype(&BIO_free)> file(BIO_new_file(certificate_file.c_str(), "r"),
                                                   &BIO_free);
    if (!file) {
        ERR_clear_error();
        return std::nullopt;
    }
    std::unique_ptr<X509, decltype(&X509_free)> certificate(
        PEM_read_bio_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
    std::tm not_after{};
    if (!certificate || ASN1_TIME_to_tm(X509_get0_notAfter(certificate.get()), &not_after) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    return static_cast<std::int64_t>(timegm(&not_after));
}

}  // namespace hearth::relay
