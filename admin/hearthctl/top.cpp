#include "admin/hearthctl/top.h"

#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "admin/hearthctl/exit_codes.h"
#include "admin/hearthctl/http_client.h"
#include "admin/hearthctl/output.h"

namespace hearth::hearthctl {

namespace {

constexpr int refresh_milliseconds = 2000;

struct TopRow {
    std::vector<std::string> cells;
    double rate;
    double loss;
};

TopRow top_row(const Json& allocation) {
    const Json* up = member(&allocation, "client_to_peer");
    const Json* down = member(&allocation, "peer_to_client");
    const double rate = number(up, "bits_per_second") + number(down, "bits_per_second");
    const double expected = number(up ? member(up, "rtp") : nullptr, "expected") +
                            number(down ? member(down, "rtp") : nullptr, "expected");
    const double lost = number(up ? member(up, "rtp") : nullptr, "lost") +
                        number(down ? member(down, "rtp") : nullptr, "lost");
    const double loss = expected > 0 ? 100.0 * lost / expected : 0.0;
    char rate_text[32];
    char loss_text[32];
    std::snprintf(rate_text, sizeof rate_text, "%.1f kbit/s", rate / 1000.0);
    std::snprintf(loss_text, sizeof loss_text, "%.1f %%", loss);
    return {{field(allocation, "id"), field(allocation, "session"), field(allocation, "user"),
             field(allocation, "transport"), rate_text, loss_text, field(allocation, "quality")},
            rate,
            loss};
}

// One frame: allocations sorted by total rate or by loss, busiest first.
std::string top_frame(const Json& answer, bool by_loss) {
    std::vector<TopRow> rows;
    if (const auto* allocations = member(&answer, "allocations")) {
        for (const auto& allocation : elements(allocations)) {
            rows.push_back(top_row(allocation));
        }
    }
    std::sort(rows.begin(), rows.end(), [by_loss](const TopRow& a, const TopRow& b) {
        return by_loss ? a.loss > b.loss : a.rate > b.rate;
    });
    std::string frame;
    char header[160];
    std::snprintf(header, sizeof header, "%-18s %-16s %-12s %-5s %14s %8s %7s\n", "ID", "SESSION",
                  "USER", "PROTO", "RATE", "LOSS", "QUALITY");
    frame += header;
    for (const auto& row : rows) {
        char line[256];
        std::snprintf(line, sizeof line, "%-18s %-16s %-12s %-5s %14s %8s %7s\n",
                      row.cells[0].c_str(), row.cells[1].c_str(), row.cells[2].c_str(),
                      row.cells[3].c_str(), row.cells[4].c_str(), row.cells[5].c_str(),
                      row.cells[6].c_str());
        frame += line;
    }
    return frame;
}

int print_one_frame(const Options& options) {
    const auto response = ask_node(options, "GET", "/v1/allocations");
    if (response.status != 200 || options.json) {
        return finish(options, response, [](const Json&) {});
    }
    std::fputs(top_frame(json_of(response), false).c_str(), stdout);
    return exit_done;
}

// Redraws until q, reading single keys: the terminal leaves canonical mode and echo
// until then.
int watch(const Options& options) {
    termios saved{};
    tcgetattr(STDIN_FILENO, &saved);
    termios raw = saved;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO));
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    bool by_loss = false;
    int status = exit_done;
    for (;;) {
        const auto response = ask_node(options, "GET", "/v1/allocations");
        if (response.status != 200) {
            status = exit_refused;
            break;
        }
        std::printf("\x1b[H\x1b[2J%s\nsorted by %s   r: rate  l: loss  q: quit\n",
                    top_frame(json_of(response), by_loss).c_str(), by_loss ? "loss" : "rate");
        std::fflush(stdout);
        pollfd input{STDIN_FILENO, POLLIN, 0};
        if (poll(&input, 1, refresh_milliseconds) > 0) {
            char key = 0;
            if (read(STDIN_FILENO, &key, 1) <= 0 || key == 'q') {
                break;
            }
            by_loss = key == 'l' ? true : key == 'r' ? false : by_loss;
        }
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    return status;
}

}  // namespace

int run_top(const Options& options) {
    if (options.once || options.json || isatty(STDIN_FILENO) == 0) {
        return print_one_frame(options);
    }
    return watch(options);
}

}  // namespace hearth::hearthctl
