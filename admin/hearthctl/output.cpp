#include "admin/hearthctl/output.h"

#include <algorithm>
#include <cstdio>

#include "admin/hearthctl/exit_codes.h"

namespace hearth::hearthctl {

std::string field(const Json& value, std::string_view key) {
    return admin::json_field_text(value, key);
}

const Json* member(const Json* value, std::string_view key) {
    if (value == nullptr || !value->is_object()) {
        return nullptr;
    }
    const auto found = value->find(key);
    return found == value->end() ? nullptr : &*found;
}

const Json& elements(const Json* list) {
    static const Json none = Json::array();
    return list != nullptr && list->is_array() ? *list : none;
}

double number(const Json* value, std::string_view key) {
    const Json* found = member(value, key);
    return found != nullptr && found->is_number() ? found->get<double>() : 0.0;
}

Json json_of(const Response& response) {
    auto parsed = admin::parse_json(response.body);
    if (!parsed) {
        unreadable_answer("the node answered something that is not JSON");
    }
    return std::move(*parsed);
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) {
        widths[i] = header[i].size();
        for (const auto& row : rows) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    const auto line = [&](const std::vector<std::string>& cells) {
        std::string text;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            text += cells[i] + std::string(widths[i] - cells[i].size() + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ') {
            text.pop_back();
        }
        std::puts(text.c_str());
    };
    line(header);
    for (const auto& row : rows) {
        line(row);
    }
}

int finish(const Options& options, const Response& response,
           const std::function<void(const Json&)>& print) {
    if (response.status != 200) {
        const auto parsed = admin::parse_json(response.body);
        const std::string message = parsed ? field(*parsed, "error") : response.body;
        std::fprintf(stderr, "hearthctl: %s\n", message.c_str());
        return exit_refused;
    }
    const Json answer = json_of(response);  // also with --json: garbage is not passed on
    if (options.json) {
        std::puts(response.body.c_str());
        return exit_done;
    }
    print(answer);
    return exit_done;
}

}  // namespace hearth::hearthctl
