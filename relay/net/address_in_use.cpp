#include "relay/net/address_in_use.h"

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "relay/net/socket_options.h"

namespace hearth::relay {

namespace {

// The socket inode of a local address in /proc/net/{udp,tcp}[6]: "local_address" is the
// address in the kernel's byte order, hex, then ":PORT" in hex.
std::optional<std::string> socket_inode(const TransportAddress& address, int type) {
    const bool v4 = address.ip.family == AddressFamily::ipv4;
    const std::string table =
        std::string("/proc/net/") + (type == SOCK_DGRAM ? "udp" : "tcp") + (v4 ? "" : "6");
    std::ifstream file(table);
    std::string line;
    std::getline(file, line);  // the header
    char wanted_port[8];
    std::snprintf(wanted_port, sizeof wanted_port, "%04X", address.port);
    while (std::getline(file, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode;
        const auto colon = local.find(':');
        // TCP: only a listening socket (state 0A) holds the address against another listener.
        if (colon == std::string::npos || local.substr(colon + 1) != wanted_port ||
            (type == SOCK_STREAM && state != "0A")) {
            continue;
        }
        return inode;
    }
    return std::nullopt;
}

// The process that has socket `inode` open: its name and pid, from /proc/PID/fd.
std::optional<std::string> holder_of(const std::string& inode) {
    const std::string target = "socket:[" + inode + "]";
    DIR* processes = opendir("/proc");
    if (processes == nullptr) {
        return std::nullopt;
    }
    std::optional<std::string> found;
    while (const dirent* process = readdir(processes)) {
        const std::string pid = process->d_name;
        if (pid.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        DIR* descriptors = opendir(("/proc/" + pid + "/fd").c_str());
        if (descriptors == nullptr) {
            continue;  // another user's process: not ours to read
        }
        while (const dirent* descriptor = readdir(descriptors)) {
            char link[64] = {};
            const std::string path = "/proc/" + pid + "/fd/" + descriptor->d_name;
            if (readlink(path.c_str(), link, sizeof link - 1) > 0 && target == link) {
                std::string name;
                std::getline(std::ifstream("/proc/" + pid + "/comm"), name);
                found = "used by " + name + ", pid " + pid;
                break;
            }
        }
        closedir(descriptors);
        if (found) {
            break;
        }
    }
    closedir(processes);
    return found;
}

}  // namespace

std::optional<std::string> address_in_use(const TransportAddress& address, int type) {
    const int fd = open_socket(address.ip.family, type, PortSharing::exclusive);
    if (fd < 0) {
        return std::string("socket: ") + std::strerror(errno);
    }
    if (type == SOCK_STREAM) {
        // Connections of an earlier run in TIME_WAIT do not hold the address; only a
        // listener does, and SO_REUSEADDR never lets a second listener in.
        const int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    }
    const bool bound = bind_to(fd, address);
    const int error = errno;
    ::close(fd);
    if (bound) {
        return std::nullopt;
    }
    std::string why = std::strerror(error);
    if (error == EADDRINUSE) {
        const auto inode = socket_inode(address, type);
        const auto holder = inode ? holder_of(*inode) : std::nullopt;
        why = "already in use" + (holder ? " (" + *holder + ")" : std::string());
    } else if (error == EADDRNOTAVAIL) {
        why += " (not an address of this host)";
    }
    return why;
}

}  // namespace hearth::relay
