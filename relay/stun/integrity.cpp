#include "relay/stun/integrity.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

namespace hearth::stun {

namespace {

std::uint16_t read_u16(const std::byte* bytes) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(bytes[0]) << 8) |
                                      std::to_integer<unsigned>(bytes[1]));
}

template <std::size_t Size>
std::array<std::byte, Size> digest(const EVP_MD* algorithm,
                                   std::initializer_list<std::string_view> parts) {
    std::array<std::byte, Size> out{};
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    if (context == nullptr || EVP_DigestInit_ex(context, algorithm, nullptr) != 1) {
        EVP_MD_CTX_free(context);
        return out;
    }
    bool first = true;
    for (const auto part : parts) {
        if (!first) {
            EVP_DigestUpdate(context, ":", 1);
        }
        EVP_DigestUpdate(context, part.data(), part.size());
        first = false;
    }
    unsigned int length = 0;
    EVP_DigestFinal_ex(context, reinterpret_cast<unsigned char*>(out.data()), &length);
    EVP_MD_CTX_free(context);
    return out;
}

template <std::size_t Size>
bool compute_hmac(const EVP_MD* algorithm, Bytes key, Bytes data,
                  std::array<std::byte, Size>& out) {
    unsigned int length = 0;
    return HMAC(algorithm, key.data(), static_cast<int>(key.size()),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                reinterpret_cast<unsigned char*>(out.data()), &length) != nullptr &&
           length == Size;
}

template <std::size_t Size>
std::array<std::byte, Size> hmac(const EVP_MD* algorithm, Bytes key, Bytes data) {
    std::array<std::byte, Size> out{};
    compute_hmac(algorithm, key, data, out);
    return out;
}

// HMAC input per RFC 8489 §14.5/§14.6: the message up to the integrity attribute, with
// the header length rewritten to end at that attribute. Copied to a stack buffer so the
// caller's bytes are never modified.
template <std::size_t Size>
bool verify_integrity(const MessageView& message, std::optional<std::size_t> attribute_offset,
                      const EVP_MD* algorithm, Bytes key, std::size_t min_length) {
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
    return digest<16>(EVP_md5(), {username, realm, password});
}

Sha256Key long_term_key_sha256(std::string_view username, std::string_view realm,
                               std::string_view password) {
    return digest<32>(EVP_sha256(), {username, realm, password});
}

Sha256Key userhash(std::string_view username, std::string_view realm) {
    return digest<32>(EVP_sha256(), {username, realm});
}

std::array<std::byte, 20> hmac_sha1(Bytes key, Bytes data) {
    return hmac<20>(EVP_sha1(), key, data);
}

std::array<std::byte, 32> hmac_sha256(Bytes key, Bytes data) {
    return hmac<32>(EVP_sha256(), key, data);
}

bool verify_message_integrity(const MessageView& message, Bytes key) {
    return verify_integrity<20>(message, message.message_integrity_offset(), EVP_sha1(), key, 20);
}

bool verify_message_integrity_sha256(const MessageView& message, Bytes key) {
    // RFC 8489 §14.6: the value may be truncated to no fewer than 16 bytes.
    return verify_integrity<32>(message, message.message_integrity_sha256_offset(), EVP_sha256(),
                                key, 16);
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
