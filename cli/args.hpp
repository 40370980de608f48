// Command-line parsing for the gvx subcommands: --name VALUE, --name=VALUE, flags, and
// positional arguments, checked against what the subcommand accepts.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace gvx::cli {

struct OptionSpec {
    std::string_view name;  // with the dashes: "--db"
    bool takes_value = true;
};

struct ArgsSpec {
    std::span<const OptionSpec> options;
    std::size_t min_positionals = 0;
    std::size_t max_positionals = 0;
    std::string_view positional_name = "argument";  // for error messages: "ID"
};

class Args {
   public:
    // Parses argv[1..argc) (argv[0] is the subcommand's name). --help and -h set help() and
    // stop the checks, so `gvx create --help` works without the required options.
    static Result<Args> parse(int argc, char** argv, const ArgsSpec& spec);

    bool help() const { return help_; }
    bool flag(std::string_view name) const;
    std::optional<std::string> value(std::string_view name) const;
    const std::vector<std::string>& positionals() const { return positionals_; }

    // The option's value, or an error naming it as required.
    Result<std::string> required(std::string_view name) const;

   private:
    struct Given {
        std::string_view name;
        std::optional<std::string> value;
    };
    bool help_ = false;
    std::vector<Given> given_;
    std::vector<std::string> positionals_;
};

// A whole decimal number in [min, max], or nullopt.
std::optional<long long> parse_integer(std::string_view s, long long min, long long max);

}  // namespace gvx::cli
