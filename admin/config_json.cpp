#include "admin/config_json.h"

#include "admin/json.h"

namespace hearth::admin {

namespace {

// A Config visitor setting each key as a member of the object it is given. Secrets are
// written as "(set)" or "": their values never leave the process.
class JsonPrinter {
  public:
    explicit JsonPrinter(Json& object) : object_(&object) {}

    template <typename Integer>
    void number(const char* name, config::Reload, long long, long long, const Integer& value) {
        (*object_)[name] = static_cast<std::int64_t>(value);
    }
    void seconds(const char* name, config::Reload, long long, long long,
                 const std::chrono::seconds& value) {
        (*object_)[name] = static_cast<std::int64_t>(value.count());
    }
    void flag(const char* name, config::Reload, const bool& value) { (*object_)[name] = value; }
    void text(const char* name, config::Reload, config::TextCheck, const std::string& value) {
        (*object_)[name] = value;
    }
    void secret(const char* name, config::Reload, config::TextCheck, const std::string& value) {
        (*object_)[name] = value.empty() ? "" : "(set)";
    }
    template <typename Choice>
    void choice(const char* name, config::Reload, const Choice& value) {
        (*object_)[name] = config::to_string(value);
    }
    void addresses(const char* name, config::Reload, const std::vector<TransportAddress>& value) {
        Json& list = (*object_)[name] = Json::array();
        for (const auto& address : value) {
            list.push_back(address.to_string());
        }
    }
    void address(const char* name, config::Reload, const std::optional<TransportAddress>& value) {
        (*object_)[name] = value ? value->to_string() : "";
    }
    void relay_ip(const char* name, config::Reload, AddressFamily,
                  const std::optional<IpAddress>& value) {
        (*object_)[name] = value ? value->to_string() : "";
    }
    void ranges(const char* name, config::Reload, const std::vector<AddressRange>& value) {
        Json& list = (*object_)[name] = Json::array();
        for (const auto& range : value) {
            list.push_back(range.to_string());
        }
    }
    void ports(const char* name, config::Reload, const std::vector<std::uint16_t>& value) {
        Json& list = (*object_)[name] = Json::array();
        for (const auto port : value) {
            list.push_back(port);
        }
    }
    void names(const char* name, config::Reload, const std::vector<std::string>& value) {
        (*object_)[name] = value;
    }
    void secrets(const char* name, config::Reload, const std::vector<auth::NamedSecret>& value) {
        Json& list = (*object_)[name] = Json::array();
        for (const auto& secret : value) {
            list.push_back({{"name", secret.name}});
        }
    }
    void sessions(const char* name, config::Reload, const std::vector<auth::Session>& value) {
        Json& list = (*object_)[name] = Json::array();
        for (const auto& session : value) {
            list.push_back({{"id", session.id},
                            {"state", auth::to_string(session.state)},
                            {"not_before", session.not_before_unix},
                            {"not_after", session.not_after_unix},
                            {"allocation_cap", session.allocation_cap},
                            {"participants", session.participants}});
        }
    }
    void upstreams(const char* name, config::Reload,
                   const std::vector<config::MuxUpstream>& value) {
        Json& list = (*object_)[name] = Json::array();
        for (const auto& upstream : value) {
            list.push_back({{"sni", upstream.sni}, {"address", upstream.address.to_string()}});
        }
    }
    template <typename Section>
    void group(const char* name, const Section& section) {
        Json* outer = object_;
        object_ = &((*outer)[name] = Json::object());
        Section::keys(*this, section);
        object_ = outer;
    }

  private:
    Json* object_;
};

}  // namespace

std::string config_as_json(const config::Config& config) {
    Json json = Json::object();
    JsonPrinter printer(json);
    config::Config::keys(printer, config);
    return json_text(json);
}

}  // namespace hearth::admin
