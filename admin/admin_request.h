#pragma once

// What an admin API request asks for, read from its method, path and query with no I/O,
// so that the parsing can be unit tested and fuzzed apart from evhttp.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace hearth::admin {

enum class Method { get, post, other };

enum class Route {
    ready,
    health,
    status,
    metrics,
    list_allocations,
    get_allocation,
    list_sessions,
    revoke_session,
    get_session_record,
    list_ended_sessions,
    mint_credentials,
    drain,
    undrain,
    list_secrets,
    add_secret,
    retire_secret,
    list_nodes,
    history,
    reload,
    show_config,
    disconnect_allocation,
    version,
    set_log_level,
};

struct AdminRequest {
    Route route = Route::health;
    std::string path_id;              // session id or secret name taken from the path
    std::uint64_t allocation_id = 0;  // for get_allocation and disconnect_allocation
};

struct RequestError {
    int status = 404;
    std::string message;
};

// Longest path segment taken as an identifier: ids are at most 128 characters.
inline constexpr std::size_t max_path_id_length = 128;

std::expected<AdminRequest, RequestError> parse_admin_request(Method method, std::string_view path);

// Reads one query parameter, percent-decoded ("" when absent or when the query is malformed).
std::string query_parameter(std::string_view query, std::string_view name);

// A whole decimal number within [min, max], or nothing: "12x", "", "+1" and overflow fail.
std::optional<std::int64_t> parse_decimal(std::string_view text, std::int64_t min,
                                          std::int64_t max);

}  // namespace hearth::admin
