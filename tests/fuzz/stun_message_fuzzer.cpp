// STUN messages as a client or peer sends them: the header and attribute walk, every
// attribute decoder (the nonce cookie and the password algorithms too), and the integrity
// and fingerprint checks.

#include "fuzz_input.h"
#include "relay/stun/attributes.h"
#include "relay/stun/integrity.h"
#include "relay/stun/message.h"
#include "relay/stun/nonce_cookie.h"
#include "relay/stun/password_algorithm.h"

using namespace hearth::stun;

namespace {

void decode_every_attribute(const MessageView& message) {
    for (const auto& attribute : message.attributes()) {
        switch (attribute.type) {
            case attribute::xor_peer_address:
            case attribute::xor_relayed_address:
            case attribute::xor_mapped_address:
                (void)decode_xor_address(attribute.value, message.transaction_id());
                break;
            case attribute::mapped_address:
            case attribute::alternate_server:
                (void)decode_address(attribute.value);
                break;
            case attribute::lifetime:
            case attribute::connection_id:
                (void)decode_u32(attribute.value);
                break;
            case attribute::channel_number:
                (void)decode_channel_number(attribute.value);
                break;
            case attribute::requested_transport:
                (void)decode_requested_transport(attribute.value);
                break;
            case attribute::requested_address_family:
            case attribute::additional_address_family:
                (void)decode_address_family(attribute.value);
                break;
            case attribute::error_code:
                (void)decode_error_code(attribute.value);
                break;
            case attribute::username:
                (void)decode_username(attribute.value);
                break;
            case attribute::realm:
                (void)decode_realm(attribute.value);
                break;
            case attribute::nonce:
                if (const auto nonce = decode_nonce(attribute.value)) {
                    (void)read_nonce_cookie(*nonce);
                }
                break;
            case attribute::password_algorithm:
                if (const auto entry = decode_password_algorithm(attribute.value)) {
                    (void)known_password_algorithm(*entry);
                    if (const auto list = message.find(attribute::password_algorithms)) {
                        (void)password_algorithms_contain(*list, *entry);
                    }
                }
                break;
            case attribute::software:
                (void)decode_software(attribute.value);
                break;
            default:
                break;
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bytes = hearth::fuzz::as_bytes(data, size);
    (void)looks_like_stun(bytes);
    const auto message = MessageView::parse(bytes);
    if (!message) {
        return 0;
    }
    decode_every_attribute(*message);
    const auto md5_key = long_term_key_md5("user", "realm", "password");
    const auto sha256_key = long_term_key_sha256("user", "realm", "password");
    (void)verify_message_integrity(*message, md5_key);
    (void)verify_message_integrity_sha256(*message, sha256_key);
    (void)verify_request_integrity(*message, sha256_key);
    (void)verify_fingerprint(*message);
    return 0;
}
