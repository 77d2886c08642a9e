#include "admin/admin_token.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace hearth::admin {

std::string admin_token_for(const config::Config& config, std::string& error) {
    if (!config.admin.token.empty()) {
        return config.admin.token;
    }
    unsigned char bytes[24];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        error = "cannot draw a random admin token";
        return "";
    }
    std::string token;
    static constexpr char digits[] = "0123456789abcdef";
    for (const unsigned char byte : bytes) {
        token += digits[byte >> 4];
        token += digits[byte & 0xF];
    }
    if (config.admin.token_file.empty()) {
        return token;
    }
    std::error_code ignored;
    std::filesystem::create_directories(
        std::filesystem::path(config.admin.token_file).parent_path(), ignored);
    const int fd =
        ::open(config.admin.token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, token.data(), token.size()) != static_cast<ssize_t>(token.size())) {
        error = "cannot write " + config.admin.token_file + ": " + std::strerror(errno);
        if (fd >= 0) {
            ::close(fd);
        }
        return "";
    }
    ::fchmod(fd, 0600);
    ::close(fd);
    return token;
}

}  // namespace hearth::admin
