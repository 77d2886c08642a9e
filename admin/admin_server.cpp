#include "admin/admin_server.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "admin/admin_request.h"
#include "admin/page_assets.h"
#include "admin/reply.h"
#include "admin/routes/route_table.h"

namespace hearth::admin {

namespace {

// Bounds on what a client may send: the API takes no large input.
constexpr std::size_t max_header_bytes = 8192;
constexpr std::size_t max_body_bytes = 4096;
constexpr int request_timeout_seconds = 10;

void send(evhttp_request* request, const Reply& reply) {
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", reply.content_type.c_str());
    evhttp_add_header(headers, "Cache-Control", "no-store");
    if (reply.status == 401) {
        evhttp_add_header(headers, "WWW-Authenticate", "Bearer");
    }
    evbuffer* body = evbuffer_new();
    evbuffer_add(body, reply.body.data(), reply.body.size());
    evhttp_send_reply(request, reply.status, nullptr, body);
    evbuffer_free(body);
}

bool token_matches(const char* header, const std::string& token) {
    constexpr std::string_view scheme = "Bearer ";
    if (header == nullptr) {
        return false;
    }
    const std::string_view value(header);
    if (value.substr(0, scheme.size()) != scheme) {
        return false;
    }
    const std::string_view offered = value.substr(scheme.size());
    return offered.size() == token.size() &&
           CRYPTO_memcmp(offered.data(), token.data(), token.size()) == 0;
}

}  // namespace

AdminServer::AdminServer(relay::DaemonControl& control, std::string token)
    : control_(control), token_(std::move(token)) {}

AdminServer::~AdminServer() {
    if (http_ != nullptr) {
        evhttp_free(http_);
    }
}

bool AdminServer::listen(const TransportAddress& address, std::string& error) {
    http_ = evhttp_new(control_.base());
    evhttp_set_max_headers_size(http_, max_header_bytes);
    evhttp_set_max_body_size(http_, max_body_bytes);
    evhttp_set_timeout(http_, request_timeout_seconds);
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(http_, &AdminServer::on_request, this);
    if (evhttp_bind_socket(http_, address.ip.to_string().c_str(), address.port) != 0) {
        error = "cannot listen on " + address.to_string();
        return false;
    }
    return true;
}

void AdminServer::on_request(evhttp_request* request, void* context) {
    auto* self = static_cast<AdminServer*>(context);
    const evhttp_uri* request_uri = evhttp_request_get_evhttp_uri(request);
    const char* request_path = request_uri != nullptr ? evhttp_uri_get_path(request_uri) : nullptr;
    // The page itself holds no data: it is served without the token and asks for it.
    if (evhttp_request_get_command(request) == EVHTTP_REQ_GET && request_path != nullptr) {
        for (const auto& asset : page_assets()) {
            if (asset.path == request_path) {
                send(request, {200, std::string(asset.content_type), std::string(asset.body)});
                return;
            }
        }
    }
    const char* authorization =
        evhttp_find_header(evhttp_request_get_input_headers(request), "Authorization");
    if (!token_matches(authorization, self->token_)) {
        send(request, error_reply(401, "missing or wrong bearer token"));
        return;
    }
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
    const char* query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
    const evhttp_cmd_type command = evhttp_request_get_command(request);
    const Method method = command == EVHTTP_REQ_GET    ? Method::get
                          : command == EVHTTP_REQ_POST ? Method::post
                                                       : Method::other;
    const auto parsed = parse_admin_request(method, path != nullptr ? path : "/");
    if (!parsed) {
        send(request, error_reply(parsed.error().status, parsed.error().message));
        return;
    }
    answer({self->control_, *parsed, query != nullptr ? query : "",
            [request](Reply reply) { send(request, reply); }});
}

}  // namespace hearth::admin
