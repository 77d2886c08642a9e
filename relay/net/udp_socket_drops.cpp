#include "relay/net/udp_socket_drops.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace hearth::relay {

namespace {

std::unordered_set<std::string> own_socket_inodes() {
    std::unordered_set<std::string> inodes;
    std::error_code error;
    for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
         it.increment(error)) {
        std::error_code link_error;
        const std::string target = std::filesystem::read_symlink(it->path(), link_error);
        // "socket:[12345]"
        if (!link_error && target.starts_with("socket:[") && target.ends_with("]")) {
            inodes.insert(target.substr(8, target.size() - 9));
        }
    }
    return inodes;
}

// Each open socket's drops by inode, from /proc/self/net/udp and udp6.
std::unordered_map<std::string, std::uint64_t> open_socket_drops() {
    const auto inodes = own_socket_inodes();
    std::unordered_map<std::string, std::uint64_t> drops;
    for (const char* table : {"/proc/self/net/udp", "/proc/self/net/udp6"}) {
        std::ifstream rows(table);
        std::string row;
        std::getline(rows, row);  // the header
        while (std::getline(rows, row)) {
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            std::istringstream fields(row);
            std::string field;
            std::string inode;
            std::string last;
            for (int index = 0; fields >> field; ++index) {
                if (index == 9) {
                    inode = field;
                }
                last = field;
            }
            if (inodes.contains(inode)) {
                drops[inode] = std::stoull(last);
            }
        }
    }
    return drops;
}

}  // namespace

std::uint64_t udp_socket_drops() {
    // The admin API may be asked from more than one connection; scrapes are rare.
    static std::mutex mutex;
    static std::unordered_map<std::string, std::uint64_t> last_seen;
    static std::uint64_t closed_sockets_drops = 0;
    std::lock_guard lock(mutex);
    auto now_open = open_socket_drops();
    for (const auto& [inode, drops] : last_seen) {
        const auto still = now_open.find(inode);
        // Gone, or an inode used again by a new socket (whose count starts over).
        if (still == now_open.end() || still->second < drops) {
            closed_sockets_drops += drops;
        }
    }
    last_seen = std::move(now_open);
    std::uint64_t total = closed_sockets_drops;
    for (const auto& [inode, drops] : last_seen) {
        total += drops;
    }
    return total;
}

}  // namespace hearth::relay
