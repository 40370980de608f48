// The socket gvx-fcgi accepts on, and who may reach it (SPEC §14). A Unix socket it creates
// gets --socket-mode (default 0660) and --socket-group; a TCP listener is open to every local
// user, so --trust-remote-user is refused there unless --trusted-peer names the web servers'
// IPv4 addresses (libfcgi then closes connections from any other address).
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "core/result.hpp"

namespace gvx::fcgi {

struct ListenerOptions {
    std::string listen;  // HOST:PORT or a socket path; empty: the socket on fd 0
    int backlog = 128;
    mode_t socket_mode = 0660;
    std::string socket_group;  // a group name or number; empty: the process's group
    std::vector<std::string> trusted_peers;
    bool trust_remote_user = false;
};

// Before FCGX_Init: hands --trusted-peer to libfcgi (FCGI_WEB_SERVER_ADDRS).
void restrict_peers(const ListenerOptions& o);

// After FCGX_Init: the listening descriptor, with the socket's mode and group set. Errors with
// Errc::invalid_argument are refused configurations (exit 2); others could not listen (exit 1).
Result<int> open_listener(const ListenerOptions& o);

}  // namespace gvx::fcgi
