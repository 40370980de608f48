#include "cleanup_command.hpp"

#include <cstdio>
#include <regex>

#include "sqlite_handles.hpp"

namespace bench {
namespace {

// 'text' for sh, whatever text holds.
std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

}  // namespace

std::int64_t run_gvx_cleanup(const std::string& script, const std::string& extension,
                             const std::string& db_path) {
    const std::string command = "GVX_EXT=" + shell_quote(extension) + " bash " +
                                shell_quote(script) + " " + shell_quote(db_path) + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) die("cannot run", script);
    std::string output;
    char buf[512];
    while (std::fgets(buf, sizeof buf, pipe)) output += buf;
    const int status = pclose(pipe);
    std::smatch m;
    static const std::regex kRemoved("removed ([0-9]+) expired tokens");
    if (status != 0 || !std::regex_search(output, m, kRemoved)) die(script + " failed", output);
    return std::stoll(m[1].str());
}

}  // namespace bench
