#include "args.hpp"

#include <charconv>

namespace gvx::cli {

Result<Args> Args::parse(int argc, char** argv, const ArgsSpec& spec) {
    Args a;
    bool options_done = false;  // after "--", everything is positional
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            a.positionals_.emplace_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        if (arg == "--help" || arg == "-h") {
            a.help_ = true;
            return a;
        }
        const std::size_t eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        const OptionSpec* option = nullptr;
        for (const OptionSpec& o : spec.options) {
            if (o.name == name) option = &o;
        }
        if (!option) return invalid("unknown option " + std::string(name));
        for (const Given& g : a.given_) {
            if (g.name == option->name) return invalid(std::string(name) + " is given twice");
        }
        Given g{option->name, std::nullopt};
        if (option->takes_value) {
            if (eq != std::string_view::npos) {
                g.value = std::string(arg.substr(eq + 1));
            } else if (i + 1 < argc) {
                g.value = argv[++i];
            } else {
                return invalid(std::string(name) + " needs a value");
            }
        } else if (eq != std::string_view::npos) {
            return invalid(std::string(name) + " takes no value");
        }
        a.given_.push_back(std::move(g));
    }
    const std::size_t n = a.positionals_.size();
    if (n > spec.max_positionals) {
        if (spec.max_positionals == 0) return invalid("unexpected argument " + a.positionals_[0]);
        return invalid("too many arguments (expected at most " +
                       std::to_string(spec.max_positionals) + ")");
    }
    if (n < spec.min_positionals)
        return invalid(std::string(spec.positional_name) + " is required");
    return a;
}

bool Args::flag(std::string_view name) const {
    for (const Given& g : given_) {
        if (g.name == name) return true;
    }
    return false;
}

std::optional<std::string> Args::value(std::string_view name) const {
    for (const Given& g : given_) {
        if (g.name == name) return g.value;
    }
    return std::nullopt;
}

Result<std::string> Args::required(std::string_view name) const {
    auto v = value(name);
    if (!v) return invalid(std::string(name) + " is required");
    if (v->empty()) return invalid(std::string(name) + " must not be empty");
    return std::move(*v);
}

std::optional<long long> parse_integer(std::string_view s, long long min, long long max) {
    long long n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || n < min || n > max)
        return std::nullopt;
    return n;
}

}  // namespace gvx::cli
