#include "relay/net/udp_socket_drops.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
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

}  // namespace

std::uint64_t udp_socket_drops() {
    const auto inodes = own_socket_inodes();
    std::uint64_t drops = 0;
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
                drops += std::stoull(last);
            }
        }
    }
    return drops;
}

}  // namespace hearth::relay
