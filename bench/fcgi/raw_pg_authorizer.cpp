// bench-fcgi-raw-pg --db POSTGRESQL_URI --listen 127.0.0.1:PORT
//
// The baseline for gvx-fcgi's authorizer on PostgreSQL: a minimal libfcgi program doing the
// same database work per request (RawPg::verify: the statements and round trips of gvx's
// verification on PostgreSQL) after decoding HTTP Basic credentials, and answering as a
// lighttpd authorizer does. bench-fcgi-raw is its SQLite twin.
#include <sodium.h>

#include <string>
#include <string_view>

#include "accept_loop.hpp"
#include "raw_pg.hpp"

namespace {

std::string_view param(FCGX_Request& r, const char* name) {
    const char* v = FCGX_GetParam(name, r.envp);
    return v ? std::string_view(v) : std::string_view();
}

// The token in "Basic base64(user:token)" (or in the user part when the password is empty
// or x-oauth-basic); empty when there is none.
std::string token_from_basic(std::string_view authorization) {
    constexpr std::string_view kScheme = "Basic ";
    if (authorization.substr(0, kScheme.size()) != kScheme) return {};
    const std::string_view b64 = authorization.substr(kScheme.size());
    std::string decoded(b64.size(), '\0');
    std::size_t n = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                          b64.data(), b64.size(), nullptr, &n, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return {};
    decoded.resize(n);
    const std::size_t colon = decoded.find(':');
    if (colon == std::string::npos) return {};
    const std::string password = decoded.substr(colon + 1);
    if (password.empty() || password == "x-oauth-basic") return decoded.substr(0, colon);
    return password;
}

}  // namespace

int main(int argc, char** argv) {
    std::string uri, listen;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        if (flag == "--db") uri = argv[i + 1];
        else if (flag == "--listen") listen = argv[i + 1];
    }
    if (uri.empty() || listen.empty()) {
        std::fprintf(stderr, "usage: bench-fcgi-raw-pg --db URI --listen HOST:PORT\n");
        return 2;
    }
    if (sodium_init() < 0) return 1;
    bench::RawPg store(uri);
    return bench::serve(listen, [&](FCGX_Request& r) {
        const std::string token = token_from_basic(param(r, "HTTP_AUTHORIZATION"));
        const auto owner = token.empty() ? std::nullopt
                                         : store.verify(token, param(r, "REMOTE_ADDR"),
                                                        param(r, "HTTP_USER_AGENT"),
                                                        bench::wall_ms());
        if (!owner) {
            bench::put(r, "Status: 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"gvx\"\r\n"
                          "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
            return;
        }
        bench::put(r, "Status: 200 OK\r\nVariable-REMOTE_USER: " + *owner +
                          "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    });
}
