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

// Bounds on what a client may send: the API takes no large input. Its time is bounded by
// admin.request_deadline (admin_connections.h).
constexpr std::size_t max_header_bytes = 8192;
constexpr std::size_t max_body_bytes = 4096;

void send(evhttp_request* request, const Reply& reply, AfterSent after_sent = {}) {
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", reply.content_type.c_str());
    evhttp_add_header(headers, "Cache-Control", "no-store");
    // One request per connection, so that a connection's deadline is its request's.
    evhttp_add_header(headers, "Connection", "close");
    if (reply.status == 401) {
        evhttp_add_header(headers, "WWW-Authenticate", "Bearer");
    }
    if (after_sent.run != nullptr) {
        // Called once the whole answer has been written to the socket.
        evhttp_request_set_on_complete_cb(request, after_sent.run, after_sent.context);
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

std::string body_of(evhttp_request* request) {
    evbuffer* input = evhttp_request_get_input_buffer(request);
    std::string body(evbuffer_get_length(input), '\0');
    evbuffer_copyout(input, body.data(), body.size());
    return body;
}

}  // namespace

AdminServer::AdminServer(relay::DaemonControl& control, std::string token,
                         AdminConnections::Limits limits)
    : control_(control),
      token_(std::move(token)),
      connections_(control.base(), limits),
      history_(control) {}

void AdminServer::set_limits(AdminConnections::Limits limits) {
    connections_.set_limits(limits);
    if (http_ != nullptr) {
        evhttp_set_timeout(http_, static_cast<int>(limits.request_deadline.count()));
    }
}

AdminServer::~AdminServer() {
    if (http_ != nullptr) {
        evhttp_free(http_);
    }
}

bool AdminServer::listen(const TransportAddress& address, std::string& error) {
    http_ = evhttp_new(control_.base());
    evhttp_set_max_headers_size(http_, max_header_bytes);
    evhttp_set_max_body_size(http_, max_body_bytes);
    // An inactivity timeout too; the deadline (AdminConnections) bounds the whole request.
    evhttp_set_timeout(http_, static_cast<int>(connections_.limits().request_deadline.count()));
    evhttp_set_bevcb(http_, &AdminConnections::open, &connections_);
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
    // A connection past admin.max_connections is cut as soon as it opens; one whose request
    // came in before that is refused here.
    evhttp_connection* connection = evhttp_request_get_connection(request);
    if (connection == nullptr ||
        !self->connections_.within_cap(evhttp_connection_get_bufferevent(connection))) {
        send(request, error_reply(503, "too many admin API connections"));
        return;
    }
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
    const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
    const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
    const char* query = uri != nullptr ? evhttp_uri_get_query(uri) : nullptr;
    const evhttp_cmd_type command = evhttp_request_get_command(request);
    const Method method = command == EVHTTP_REQ_GET    ? Method::get
                          : command == EVHTTP_REQ_POST ? Method::post
                                                       : Method::other;
    const auto parsed = parse_admin_request(method, path != nullptr ? path : "/");
    // Without a token, only what anyone may call is answered: no 404 or 405 tells a
    // stranger which paths exist.
    const Access needed = parsed ? access_for(parsed->route) : Access::admin;
    if (needed != Access::anyone) {
        const char* authorization =
            evhttp_find_header(evhttp_request_get_input_headers(request), "Authorization");
        const bool admin = token_matches(authorization, self->token_);
        const bool reader =
            !self->read_only_token_.empty() && token_matches(authorization, self->read_only_token_);
        if (!admin && !reader) {
            send(request, error_reply(401, "missing or wrong bearer token"));
            return;
        }
        if (!admin && parsed && needed == Access::admin) {
            send(request, error_reply(403, "the read-only token may not call this"));
            return;
        }
    }
    if (!parsed) {
        send(request, error_reply(parsed.error().status, parsed.error().message));
        return;
    }
    const std::string body = body_of(request);
    answer({self->control_, *parsed, query != nullptr ? query : "", body,
            self->connections_.counters(), self->history_.history(),
            [request](Reply reply) { send(request, reply); },
            [request](Reply reply, AfterSent after_sent) { send(request, reply, after_sent); }});
}

}  // namespace hearth::admin
