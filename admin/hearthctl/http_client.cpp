#include "admin/hearthctl/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <memory>

#include "admin/hearthctl/admin_address.h"
#include "admin/hearthctl/exit_codes.h"

namespace hearth::hearthctl {

namespace {

constexpr long timeout_seconds = 10;
// No admin answer comes near this; past it the transfer is stopped as unreadable.
constexpr std::size_t max_answer_bytes = 64 * 1024 * 1024;

std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* body) {
    auto& text = *static_cast<std::string*>(body);
    if (text.size() + size * count > max_answer_bytes) {
        return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    text.append(data, size * count);
    return size * count;
}

bool could_not_connect(CURLcode code) {
    return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT ||
           code == CURLE_OPERATION_TIMEDOUT || code == CURLE_SSL_CONNECT_ERROR ||
           code == CURLE_PEER_FAILED_VERIFICATION;
}

}  // namespace

Response ask_node(const Options& options, const std::string& method, const std::string& target,
                  const std::string& json_body) {
    std::string why;
    const auto address = parse_admin_address(options.admin, why);
    if (!address) {
        usage_error(why);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                                   curl_easy_cleanup);
    const std::string url = address->url() + target;
    const std::string authorization = "Authorization: Bearer " + options.token;
    curl_slist* headers = curl_slist_append(nullptr, authorization.c_str());
    if (!json_body.empty()) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
    }
    const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
        headers, curl_slist_free_all);
    Response response;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
    // Straight to the node: an http_proxy in the environment would carry the token to the
    // proxy, or fail for a node on loopback.
    curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, timeout_seconds);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
    if (method == "POST") {
        // The body as is, maybe empty: never the URL, which logs keep (a secret's value).
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, json_body.c_str());
        curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body.size()));
    } else if (method != "GET") {
        curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    const CURLcode code = curl_easy_perform(curl.get());
    if (could_not_connect(code)) {
        node_error("node unreachable at " + options.admin + " (" + curl_easy_strerror(code) +
                   "; is hearthd running?)");
    }
    if (code != CURLE_OK) {
        unreadable_answer("no readable HTTP answer from " + options.admin + " (" +
                          curl_easy_strerror(code) + ")");
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    if (response.status == 401) {
        node_error("bad admin token (set HEARTH_ADMIN_TOKEN, --token-file or admin.token_file)");
    }
    return response;
}

std::string url_encode(const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@') {
            out += static_cast<char>(c);
        } else {
            char buffer[4];
            std::snprintf(buffer, sizeof buffer, "%%%02X", c);
            out += buffer;
        }
    }
    return out;
}

}  // namespace hearth::hearthctl
