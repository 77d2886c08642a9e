#include "relay/stun/integrity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace hearth::stun {

namespace {

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

// OpenSSL 3 looks an algorithm up by name, under locks, each time one is named
// implicitly (EVP_sha1(), HMAC()): that lookup was most of the cost of checking and
// answering a request (bench/README.md, BM_VerifyMessageIntegrity). The digests are
// fetched once here, each thread reuses one digest context, and HMAC (RFC 2104) is
// built on the digest.
enum class Algorithm { md5, sha1, sha256 };

const EVP_MD* fetched(Algorithm algorithm) {
    static const std::array<EVP_MD*, 3> digests{EVP_MD_fetch(nullptr, "MD5", nullptr),
                                                EVP_MD_fetch(nullptr, "SHA1", nullptr),
                                                EVP_MD_fetch(nullptr, "SHA256", nullptr)};
    return digests[static_cast<std::size_t>(algorithm)];
}

EVP_MD_CTX* thread_digest_context() {
    struct Owned {
        EVP_MD_CTX* context = EVP_MD_CTX_new();
        ~Owned() { EVP_MD_CTX_free(context); }
    };
    thread_local Owned owned;
    return owned.context;
}

template <std::size_t Size>
bool digest_into(Algorithm algorithm, std::span<const Bytes> parts,
                 std::array<std::byte, Size>& out) {
    EVP_MD_CTX* context = thread_digest_context();
    const EVP_MD* md = fetched(algorithm);
    if (context == nullptr || md == nullptr || EVP_DigestInit_ex2(context, md, nullptr) != 1) {
        return false;
    }
    for (const Bytes part : parts) {
        if (EVP_DigestUpdate(context, part.data(), part.size()) != 1) {
            return false;
        }
    }
    unsigned int length = 0;
    return EVP_DigestFinal_ex(context, reinterpret_cast<unsigned char*>(out.data()), &length) ==
               1 &&
           length == Size;
}

Bytes text(std::string_view value) {
    return {reinterpret_cast<const std::byte*>(value.data()), value.size()};
}

template <std::size_t Size>
std::array<std::byte, Size> key_digest(Algorithm algorithm,
                                       std::initializer_list<std::string_view> parts) {
    // RFC 8489 §9.2.2: the parts (at most three) joined by colons.
    std::array<std::byte, Size> out{};
    std::array<Bytes, 5> joined{};
    if (parts.size() > 3) {
        return out;
    }
    std::size_t count = 0;
    for (const auto part : parts) {
        if (count > 0) {
            joined[count++] = text(":");
        }
        joined[count++] = text(part);
    }
    if (!digest_into(algorithm, std::span<const Bytes>(joined.data(), count), out)) {
        out = {};
    }
    return out;
}

// RFC 2104 over a 64-byte block (SHA-1 and SHA-256 alike).
template <std::size_t Size>
bool compute_hmac(Algorithm algorithm, Bytes key, Bytes data, std::array<std::byte, Size>& out) {
    constexpr std::size_t block_size = 64;
    std::array<std::byte, block_size> inner_pad{};
    std::array<std::byte, block_size> outer_pad{};
    if (key.size() > block_size) {
        std::array<std::byte, Size> hashed_key{};
        if (!digest_into(algorithm, std::span<const Bytes>(&key, 1), hashed_key)) {
            return false;
        }
        std::memcpy(inner_pad.data(), hashed_key.data(), Size);
    } else if (!key.empty()) {
        std::memcpy(inner_pad.data(), key.data(), key.size());
    }
    for (std::size_t i = 0; i < block_size; ++i) {
        outer_pad[i] = inner_pad[i] ^ std::byte{0x5c};
        inner_pad[i] ^= std::byte{0x36};
    }
    std::array<std::byte, Size> inner{};
    const std::array<Bytes, 2> inner_parts{inner_pad, data};
    bool ok = digest_into(algorithm, inner_parts, inner);
    const std::array<Bytes, 2> outer_parts{outer_pad, inner};
    ok = ok && digest_into(algorithm, outer_parts, out);
    OPENSSL_cleanse(inner_pad.data(), inner_pad.size());
    OPENSSL_cleanse(outer_pad.data(), outer_pad.size());
    return ok;
}

template <std::size_t Size>
std::array<std::byte, Size> hmac(Algorithm algorithm, Bytes key, Bytes data) {
    std::array<std::byte, Size> out{};
    if (!compute_hmac(algorithm, key, data, out)) {
        out = {};
    }
    return out;
}

// HMAC input per RFC 8489 §14.5/§14.6: the message up to the integrity attribute, with
// the header length rewritten to end at that attribute. Copied to a stack buffer so the
// caller's bytes are never modified.
template <std::size_t Size>
bool verify_integrity(const MessageView& message, std::optional<std::size_t> attribute_offset,
                      Algorithm algorithm, Bytes key, std::size_t min_length) {
    if (!attribute_offset) {
        return false;
    }
    const Bytes bytes = message.bytes();
    const std::size_t offset = *attribute_offset;
    const std::size_t value_length = read_u16(bytes.data() + offset + 2);
    if (value_length < min_length || value_length > Size || value_length % 4 != 0) {
        return false;
    }
    std::array<std::byte, max_message_size> covered;
    std::memcpy(covered.data(), bytes.data(), offset);
    const std::size_t length = offset + attribute_header_size + value_length - header_size;
    covered[2] = static_cast<std::byte>(length >> 8);
    covered[3] = static_cast<std::byte>(length);
    // A failed HMAC must not leave zeros that a forged all-zero value would match.
    std::array<std::byte, Size> expected{};
    if (!compute_hmac(algorithm, key, Bytes(covered.data(), offset), expected)) {
        return false;
    }
    return CRYPTO_memcmp(expected.data(), bytes.data() + offset + attribute_header_size,
                         value_length) == 0;
}

std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t crc = i;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        table[i] = crc;
    }
    return table;
}

}  // namespace

Md5Key long_term_key_md5(std::string_view username, std::string_view realm,
                         std::string_view password) {
    return key_digest<16>(Algorithm::md5, {username, realm, password});
}

Sha256Key long_term_key_sha256(std::string_view username, std::string_view realm,
                               std::string_view password) {
    return key_digest<32>(Algorithm::sha256, {username, realm, password});
}

IntegrityKey IntegrityKey::md5(const Md5Key& key, IntegrityAttribute attribute) {
    IntegrityKey typed;
    typed.algorithm_ = PasswordAlgorithm::md5;
    typed.attribute_ = attribute;
    std::memcpy(typed.value_.data(), key.data(), key.size());
    return typed;
}

IntegrityKey IntegrityKey::sha256(const Sha256Key& key, IntegrityAttribute attribute) {
    IntegrityKey typed;
    typed.algorithm_ = PasswordAlgorithm::sha256;
    typed.attribute_ = attribute;
    typed.value_ = key;
    return typed;
}

Bytes IntegrityKey::bytes() const {
    return {value_.data(), algorithm_ == PasswordAlgorithm::md5 ? Md5Key{}.size() : value_.size()};
}

IntegrityKey long_term_key(PasswordAlgorithm algorithm, IntegrityAttribute attribute,
                           std::string_view username, std::string_view realm,
                           std::string_view password) {
    if (algorithm == PasswordAlgorithm::sha256) {
        return IntegrityKey::sha256(long_term_key_sha256(username, realm, password), attribute);
    }
    return IntegrityKey::md5(long_term_key_md5(username, realm, password), attribute);
}

Sha256Key userhash(std::string_view username, std::string_view realm) {
    return key_digest<32>(Algorithm::sha256, {username, realm});
}

std::array<std::byte, 20> hmac_sha1(Bytes key, Bytes data) {
    return hmac<20>(Algorithm::sha1, key, data);
}

std::array<std::byte, 32> hmac_sha256(Bytes key, Bytes data) {
    return hmac<32>(Algorithm::sha256, key, data);
}

bool verify_message_integrity(const MessageView& message, Bytes key) {
    return verify_integrity<20>(message, message.message_integrity_offset(), Algorithm::sha1, key,
                                20);
}

bool verify_message_integrity_sha256(const MessageView& message, Bytes key) {
    // RFC 8489 §14.6: the value may be truncated to no fewer than 16 bytes.
    return verify_integrity<32>(message, message.message_integrity_sha256_offset(),
                                Algorithm::sha256, key, 16);
}

bool verify_request_integrity(const MessageView& message, Bytes key) {
    const bool sha1 = message.message_integrity_offset().has_value();
    const bool sha256 = message.message_integrity_sha256_offset().has_value();
    return (sha1 || sha256) && (!sha1 || verify_message_integrity(message, key)) &&
           (!sha256 || verify_message_integrity_sha256(message, key));
}

std::uint32_t fingerprint_value(Bytes bytes) {
    static const auto table = make_crc_table();
    std::uint32_t crc = 0xFFFFFFFFu;
    for (const std::byte byte : bytes) {
        crc = table[(crc ^ std::to_integer<std::uint32_t>(byte)) & 0xFF] ^ (crc >> 8);
    }
    return (crc ^ 0xFFFFFFFFu) ^ 0x5354554Eu;  // RFC 8489 §14.7
}

bool verify_fingerprint(const MessageView& message) {
    const auto offset = message.fingerprint_offset();
    if (!offset) {
        return false;
    }
    const Bytes bytes = message.bytes();
    if (read_u16(bytes.data() + *offset + 2) != 4) {
        return false;
    }
    const std::uint32_t carried =
        (static_cast<std::uint32_t>(read_u16(bytes.data() + *offset + 4)) << 16) |
        read_u16(bytes.data() + *offset + 6);
    return fingerprint_value(bytes.first(*offset)) == carried;
}

}  // namespace hearth::stun
