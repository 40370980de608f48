// gvx: the admin command. Dispatches `gvx NAME ARGS...` to the subcommand table (command.hpp).
#include <sodium.h>
#include <sqlite3.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "command.hpp"

namespace gvx::cli {
namespace {

void print_usage(std::FILE* out) {
    std::fputs("usage: gvx COMMAND [options]\n"
               "       gvx COMMAND --help\n"
               "       gvx --version\n\n"
               "Administers gvx's personal access tokens in a gvx database.\n\ncommands:\n",
               out);
    for (const Command& c : commands()) {
        std::fprintf(out, "  %-12.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    }
    std::fputs("\nExit status: 0 done, 1 failed (for example no such token), 2 bad usage.\n", out);
}

void print_version() {
    std::printf("gvx %s (SQLite %s, libsodium %s)\n", GVX_VERSION, sqlite3_libversion(),
                sodium_version_string());
}

int run(int argc, char** argv) {
    if (argc < 2) {
        print_usage(stderr);
        return kExitUsage;
    }
    const std::string_view first = argv[1];
    if (first == "--help" || first == "-h" || first == "help") {
        if (first == "help" && argc > 2) {
            // gvx help NAME = gvx NAME --help
            std::string name = argv[2];
            std::string flag = "--help";
            char* sub_argv[] = {name.data(), flag.data(), nullptr};
            for (const Command& c : commands()) {
                if (c.name == name) return c.run(2, sub_argv);
            }
            std::fprintf(stderr, "gvx: unknown command '%s' (see gvx --help)\n", argv[2]);
            return kExitUsage;
        }
        print_usage(stdout);
        return kExitOk;
    }
    if (first == "--version" || first == "-V" || first == "version") {
        print_version();
        return kExitOk;
    }
    if (first.starts_with("-")) {
        std::fprintf(stderr, "gvx: unknown option %s (see gvx --help)\n", argv[1]);
        return kExitUsage;
    }
    for (const Command& c : commands()) {
        if (c.name == first) {
            if (sodium_init() < 0) {
                std::fputs("gvx: libsodium failed to start\n", stderr);
                return kExitFailure;
            }
            return c.run(argc - 1, argv + 1);
        }
    }
    std::fprintf(stderr, "gvx: unknown command '%s' (see gvx --help)\n", argv[1]);
    return kExitUsage;
}

}  // namespace
}  // namespace gvx::cli

int main(int argc, char** argv) { return gvx::cli::run(argc, argv); }
