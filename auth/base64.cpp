#include "auth/base64.h"

#include <openssl/evp.h>

#include <algorithm>

namespace hearth::auth {

namespace {

bool in_alphabet(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

// OpenSSL's EVP_DecodeBlock is lenient where RFC 4648 §3.3 asks to refuse: it skips
// whitespace, takes '=' anywhere as zero bits, and decodes padding as zero bytes. So the
// text is checked here first: whole quanta, the alphabet only, '=' only as the last one
// or two characters. Returns the padding's length, or nothing.
std::optional<std::size_t> canonical_padding(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    const std::size_t padding = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
    const std::string_view data = text.substr(0, text.size() - padding);
    if (!std::ranges::all_of(data, in_alphabet)) {
        return std::nullopt;
    }
    return padding;
}

}  // namespace

std::string base64_encode(std::span<const std::byte> bytes) {
    std::string text((bytes.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock adds a NUL
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(text.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()),
                                        static_cast<int>(bytes.size()));
    text.resize(static_cast<std::size_t>(written));
    return text;
}

std::optional<std::vector<std::byte>> base64_decode(std::string_view text) {
    const auto padding = canonical_padding(text);
    if (!padding) {
        return std::nullopt;
    }
    std::vector<std::byte> bytes(text.size() / 4 * 3);
    const int decoded = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                                        reinterpret_cast<const unsigned char*>(text.data()),
                                        static_cast<int>(text.size()));
    if (decoded < 0 || static_cast<std::size_t>(decoded) != bytes.size()) {
        return std::nullopt;
    }
    bytes.resize(bytes.size() - *padding);
    return bytes;
}

std::string base64url_encode(std::span<const std::byte> bytes) {
    std::string text = base64_encode(bytes);
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    for (char& c : text) {
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    return text;
}

std::optional<std::vector<std::byte>> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) {
        return std::nullopt;  // no byte count leaves a single character over
    }
    std::string standard(text);
    for (char& c : standard) {
        if (c == '+' || c == '/' || c == '=') {
            return std::nullopt;  // not in the base64url alphabet
        }
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    standard.append((4 - standard.size() % 4) % 4, '=');
    return base64_decode(standard);
}

}  // namespace hearth::auth
