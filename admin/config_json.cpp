#include "admin/config_json.h"

#include "admin/json_writer.h"

namespace hearth::admin {

namespace {

// A Config visitor writing each key as a JSON member.
class JsonPrinter {
  public:
    explicit JsonPrinter(JsonWriter& json) : json_(json) {}

    template <typename Integer>
    void number(const char* name, config::Reload, long long, long long, const Integer& value) {
        json_.field(name, static_cast<std::int64_t>(value));
    }
    void seconds(const char* name, config::Reload, long long, long long,
                 const std::chrono::seconds& value) {
        json_.field(name, static_cast<std::int64_t>(value.count()));
    }
    void flag(const char* name, config::Reload, const bool& value) { json_.field(name, value); }
    void text(const char* name, config::Reload, config::TextCheck, const std::string& value) {
        json_.field(name, value);
    }
    void secret(const char* name, config::Reload, config::TextCheck, const std::string& value) {
        json_.field(name, value.empty() ? "" : "(set)");
    }
    template <typename Choice>
    void choice(const char* name, config::Reload, const Choice& value) {
        json_.field(name, config::to_string(value));
    }
    void addresses(const char* name, config::Reload, const std::vector<TransportAddress>& value) {
        json_.key(name).begin_array();
        for (const auto& address : value) {
            json_.value(address.to_string());
        }
        json_.end_array();
    }
    void address(const char* name, config::Reload, const std::optional<TransportAddress>& value) {
        json_.field(name, value ? value->to_string() : "");
    }
    void relay_ip(const char* name, config::Reload, AddressFamily,
                  const std::optional<IpAddress>& value) {
        json_.field(name, value ? value->to_string() : "");
    }
    void ranges(const char* name, config::Reload, const std::vector<AddressRange>& value) {
        json_.key(name).begin_array();
        for (const auto& range : value) {
            json_.value(range.to_string());
        }
        json_.end_array();
    }
    void ports(const char* name, config::Reload, const std::vector<std::uint16_t>& value) {
        json_.key(name).begin_array();
        for (const auto port : value) {
            json_.value(static_cast<unsigned>(port));
        }
        json_.end_array();
    }
    void secrets(const char* name, config::Reload, const std::vector<auth::NamedSecret>& value) {
        json_.key(name).begin_array();
        for (const auto& secret : value) {
            json_.begin_object().field("name", secret.name).end_object();
        }
        json_.end_array();
    }
    void sessions(const char* name, config::Reload, const std::vector<auth::Session>& value) {
        json_.key(name).begin_array();
        for (const auto& session : value) {
            json_.begin_object()
                .field("id", session.id)
                .field("state", auth::to_string(session.state))
                .field("not_before", session.not_before_unix)
                .field("not_after", session.not_after_unix)
                .field("allocation_cap", session.allocation_cap);
            json_.key("participants").begin_array();
            for (const auto& participant : session.participants) {
                json_.value(participant);
            }
            json_.end_array().end_object();
        }
        json_.end_array();
    }
    void upstreams(const char* name, config::Reload,
                   const std::vector<config::MuxUpstream>& value) {
        json_.key(name).begin_array();
        for (const auto& upstream : value) {
            json_.begin_object()
                .field("sni", upstream.sni)
                .field("address", upstream.address.to_string())
                .end_object();
        }
        json_.end_array();
    }
    template <typename Section>
    void group(const char* name, const Section& section) {
        json_.key(name).begin_object();
        Section::keys(*this, section);
        json_.end_object();
    }

  private:
    JsonWriter& json_;
};

}  // namespace

std::string config_as_json(const config::Config& config) {
    JsonWriter json;
    JsonPrinter printer(json);
    json.begin_object();
    config::Config::keys(printer, config);
    json.end_object();
    return json.take();
}

}  // namespace hearth::admin
