// bench-fcgi-hello --listen 127.0.0.1:PORT
//
// The ceiling: a FastCGI authorizer that says yes to everyone without looking at anything.
// Its req/s behind lighttpd is what the web server and FastCGI cost on their own.
#include <string>
#include <string_view>

#include "accept_loop.hpp"

int main(int argc, char** argv) {
    if (argc != 3 || std::string_view(argv[1]) != "--listen") {
        std::fprintf(stderr, "usage: bench-fcgi-hello --listen HOST:PORT\n");
        return 2;
    }
    return bench::serve(argv[2], [](FCGX_Request& r) {
        bench::put(r, "Status: 200 OK\r\nVariable-REMOTE_USER: hello\r\n"
                      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    });
}
