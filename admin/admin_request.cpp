#include "admin/admin_request.h"

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <array>
#include <charconv>
#include <utility>

namespace hearth::admin {

namespace {

struct FixedRoute {
    Method method;
    std::string_view path;
    Route route;
};

constexpr std::array fixed_routes{
    FixedRoute{Method::get, "/ready", Route::ready},
    FixedRoute{Method::get, "/health", Route::health},
    FixedRoute{Method::get, "/metrics", Route::metrics},
    FixedRoute{Method::get, "/v1/status", Route::status},
    FixedRoute{Method::get, "/v1/allocations", Route::list_allocations},
    FixedRoute{Method::get, "/v1/sessions", Route::list_sessions},
    FixedRoute{Method::get, "/v1/records", Route::list_ended_sessions},
    FixedRoute{Method::post, "/v1/credentials", Route::mint_credentials},
    FixedRoute{Method::post, "/v1/drain", Route::drain},
    FixedRoute{Method::post, "/v1/undrain", Route::undrain},
    FixedRoute{Method::get, "/v1/secrets", Route::list_secrets},
    FixedRoute{Method::post, "/v1/secrets", Route::add_secret},
    FixedRoute{Method::get, "/v1/nodes", Route::list_nodes},
    FixedRoute{Method::get, "/v1/history", Route::history},
    FixedRoute{Method::post, "/v1/reload", Route::reload},
    FixedRoute{Method::get, "/v1/config", Route::show_config},
    FixedRoute{Method::get, "/v1/version", Route::version},
    FixedRoute{Method::post, "/v1/log-level", Route::set_log_level},
};

// Routes of the form prefix{id}suffix.
struct IdRoute {
    Method method;
    std::string_view prefix;
    std::string_view suffix;
    Route route;
};

constexpr std::array id_routes{
    IdRoute{Method::get, "/v1/allocations/", "", Route::get_allocation},
    IdRoute{Method::post, "/v1/allocations/", "/disconnect", Route::disconnect_allocation},
    IdRoute{Method::post, "/v1/sessions/", "/revoke", Route::revoke_session},
    IdRoute{Method::get, "/v1/sessions/", "/record", Route::get_session_record},
    IdRoute{Method::post, "/v1/secrets/", "/retire", Route::retire_secret},
};

RequestError not_found() {
    return {404, "no such endpoint"};
}

// The segment between prefix and suffix, when the path has that shape and the segment is
// one non-empty path component.
std::optional<std::string_view> id_between(std::string_view path, const IdRoute& shape) {
    if (path.size() <= shape.prefix.size() + shape.suffix.size() ||
        !path.starts_with(shape.prefix) || !path.ends_with(shape.suffix)) {
        return std::nullopt;
    }
    const std::string_view id =
        path.substr(shape.prefix.size(), path.size() - shape.prefix.size() - shape.suffix.size());
    if (id.find('/') != std::string_view::npos) {
        return std::nullopt;
    }
    return id;
}

}  // namespace

std::expected<AdminRequest, RequestError> parse_admin_request(Method method,
                                                              std::string_view path) {
    bool path_known = false;
    for (const auto& fixed : fixed_routes) {
        if (fixed.path == path) {
            path_known = true;
            if (fixed.method == method) {
                return AdminRequest{fixed.route, {}, 0};
            }
        }
    }
    for (const auto& shape : id_routes) {
        const auto id = id_between(path, shape);
        if (!id) {
            continue;
        }
        path_known = true;
        if (shape.method != method) {
            continue;
        }
        if (id->size() > max_path_id_length) {
            return std::unexpected(RequestError{404, "no such identifier"});
        }
        AdminRequest request{shape.route, std::string(*id), 0};
        if (shape.route == Route::get_allocation || shape.route == Route::disconnect_allocation) {
            const auto number = parse_decimal(*id, 1, INT64_MAX);
            if (!number) {
                return std::unexpected(RequestError{404, "no such allocation"});
            }
            request.allocation_id = static_cast<std::uint64_t>(*number);
        }
        return request;
    }
    if (path_known) {
        return std::unexpected(RequestError{405, "method not allowed on this endpoint"});
    }
    return std::unexpected(not_found());
}

std::string query_parameter(std::string_view query, std::string_view name) {
    const std::string text(query);
    evkeyvalq parameters;
    if (evhttp_parse_query_str(text.c_str(), &parameters) != 0) {
        return "";
    }
    const char* value = evhttp_find_header(&parameters, std::string(name).c_str());
    std::string found = value != nullptr ? value : "";
    evhttp_clear_headers(&parameters);
    return found;
}

std::optional<std::int64_t> parse_decimal(std::string_view text, std::int64_t min,
                                          std::int64_t max) {
    std::int64_t value = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || status != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max) {
        return std::nullopt;
    }
    return value;
}

}  // namespace hearth::admin
