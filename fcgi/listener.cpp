#include "listener.hpp"

#include <fcgiapp.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace gvx::fcgi {
namespace {

Error cannot(std::string message) { return Error{Errc::db, std::move(message)}; }

int family_of(int fd) {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return AF_UNSPEC;
    return sa.ss_family;
}

Result<gid_t> group_id(const std::string& name) {
    gid_t gid = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
    if (ec == std::errc{} && end == name.data() + name.size()) return gid;
    const group* g = getgrnam(name.c_str());
    if (!g) return invalid("--socket-group: no such group " + name);
    return g->gr_gid;
}

// Mode and group of the socket file we created. umask (077, set at start) kept it private
// from bind() until here, so no other user could connect in between.
Status set_socket_access(const ListenerOptions& o) {
    if (!o.socket_group.empty()) {
        auto gid = group_id(o.socket_group);
        if (!gid) return std::move(gid).error();
        if (chown(o.listen.c_str(), static_cast<uid_t>(-1), *gid) != 0)
            return cannot("--socket-group " + o.socket_group + ": cannot give " + o.listen +
                          " to that group: " + std::strerror(errno));
    }
    if (chmod(o.listen.c_str(), o.socket_mode) != 0)
        return cannot("cannot set the mode of " + o.listen + ": " + std::strerror(errno));
    return Ok{};
}

}  // namespace

void restrict_peers(const ListenerOptions& o) {
    if (o.trusted_peers.empty()) return;
    std::string list;
    for (const std::string& p : o.trusted_peers) list += (list.empty() ? "" : ",") + p;
    setenv("FCGI_WEB_SERVER_ADDRS", list.c_str(), 1);
}

Result<int> open_listener(const ListenerOptions& o) {
    const bool own_unix_socket = !o.listen.empty() && o.listen.front() == '/';
    if (!own_unix_socket && (!o.socket_group.empty() || o.socket_mode != 0660))
        return invalid("--socket-mode and --socket-group apply to --listen /path.sock only");
    int fd = 0;
    if (!o.listen.empty()) {
        fd = FCGX_OpenSocket(o.listen.c_str(), o.backlog);
        if (fd < 0) return cannot("cannot listen on " + o.listen);
    }
    const int family = family_of(fd);
    const bool tcp = family == AF_INET || family == AF_INET6;
    if (tcp && o.trust_remote_user && o.trusted_peers.empty())
        return invalid("--trust-remote-user on a TCP listener would believe any local process: "
                       "listen on a Unix socket, or name the web servers with --trusted-peer");
    if (!o.trusted_peers.empty() && family != AF_INET)
        return invalid("--trusted-peer needs an IPv4 TCP listener");
    if (own_unix_socket) {
        if (Status st = set_socket_access(o); !st) return std::move(st).error();
    }
    return fd;
}

}  // namespace gvx::fcgi
