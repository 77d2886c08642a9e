#include "relay/config/reload_plan.h"

namespace hearth::config {

namespace {

// A Config visitor over two configurations at once: the running one and the new one.
class Differ {
  public:
    Differ(ReloadPlan& plan, std::string path) : plan_(plan), path_(std::move(path)) {}

    template <typename T>
    void number(const char* name, Reload reload, long long, long long, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void seconds(const char* name, Reload reload, long long, long long, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void text(const char* name, Reload reload, TextCheck, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void secret(const char* name, Reload reload, TextCheck, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void relay_ip(const char* name, Reload reload, AddressFamily, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void flag(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void choice(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void addresses(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void address(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void ranges(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void ports(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void names(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void secrets(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void sessions(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename T>
    void upstreams(const char* name, Reload reload, T& running, T& next) {
        compare(name, reload, running, next);
    }
    template <typename Section>
    void group(const char* name, Section& running, Section& next) {
        Differ nested(plan_, path_ + name + ".");
        Section::keys(nested, running, next);
    }

  private:
    template <typename T>
    void compare(const char* name, Reload reload, const T& running, T& next) {
        if (running == next) {
            return;
        }
        if (reload == Reload::live) {
            plan_.applied.push_back(path_ + name);
        } else {
            plan_.needs_restart.push_back(path_ + name);
            next = running;
        }
    }

    ReloadPlan& plan_;
    std::string path_;
};

}  // namespace

ReloadPlan plan_reload(const Config& running, const Config& loaded) {
    ReloadPlan plan{loaded, {}, {}};
    Config current = running;
    Differ differ(plan, "");
    Config::keys(differ, current, plan.effective);
    return plan;
}

}  // namespace hearth::config
