// Fuzz target: one whole FastCGI request through gvx-fcgi's handlers, as main.cpp dispatches
// it (the JSON API, or the authorizer), against a Store on a temporary database file that
// holds a few known tokens (valid, expired, disabled, rate limited, used up), better-auth's
// user and session tables, and a signed session.
//
// Input: one '\n'-terminated line per field, then the body (see LLVMFuzzerTestOneInput and
// corpus/api/*; make_seeds.py writes the seeds). The fields become the CGI environment and the
// rest the body, read by gvx-fcgi's own read_request (cgi_env.hpp): CONTENT_LENGTH "~" leaves
// it out, and the body is cut to CONTENT_LENGTH as gvx-fcgi reads it.
//
// Invariants: no crash or sanitizer report; only the documented statuses (never 500/503 here,
// one process and well-formed data); every body is valid JSON; no header can be split; no
// known secret (token, session) is ever echoed; a refused request (4xx) changes no stored
// token except for counting the use of a valid credential; a created token has gvx's format.
#include <rapidjson/document.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api.hpp"
#include "authorizer.hpp"
#include "cgi_env.hpp"
#include "context.hpp"
#include "core/token.hpp"
#include "credentials.hpp"
#include "fuzz_common.hpp"
#include "options.hpp"
#include "request.hpp"
#include "store.hpp"

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;  // fixed clock: deterministic runs
constexpr std::string_view kSecret = "fuzz-session-secret-0123456789abcdef";
constexpr std::string_view kSession = "SessAlice0123456789";

// Known tokens (test data): their plaintext appears in the seeds, never in a response.
struct Seed {
    const char* id;
    const char* token;
    const char* user;
    const char* extra;  // column values after the common ones
};
constexpr Seed kSeeds[] = {
    {"AliceOk", "gvx_AliceOk000000000000000000000000000000000000000000000000000000000", "alice",
     "1, 1, NULL, NULL, NULL, '\"{\\\"team\\\":\\\"web\\\"}\"'"},
    {"AliceExpired", "gvx_AliceExpired0000000000000000000000000000000000000000000000000000",
     "alice", "1, 1, NULL, NULL, 1700000000000, NULL"},
    {"BobDisabled", "gvx_BobDisabled00000000000000000000000000000000000000000000000000000",
     "u_bob", "0, 1, NULL, NULL, NULL, 'null'"},
    {"AliceLimited", "gvx_AliceLimited0000000000000000000000000000000000000000000000000000",
     "alice", "1, 1, 0, NULL, NULL, '{}'"},
    {"AliceUsedUp", "gvx_AliceUsedUp00000000000000000000000000000000000000000000000000000",
     "alice", "1, 0, NULL, 0, NULL, NULL"},
};

struct State {
    std::string dir;
    std::unique_ptr<gvx::Store> store;
    gvx::fcgi::Options options;
    std::string reset_sql;
    bool verbose = false;  // GVX_FUZZ_VERBOSE=1: print each response (for writing seeds)
};
State* g = nullptr;

void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(g->store->db(), sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::fprintf(stderr, "fuzz_api setup: %s\n", err ? err : "?");
        std::abort();
    }
}

std::string stored_tokens() {
    // Everything about the stored tokens except the usage counters a valid credential moves.
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(g->store->db(),
                       "SELECT group_concat(quote(id) || quote(name) || quote(key) || "
                       "quote(user_id) || quote(enabled) || quote(expires_at) || "
                       "quote(metadata) || quote(updated_at) || quote(prefix), '|') FROM "
                       "(SELECT * FROM apikey ORDER BY id)",
                       -1, &s, nullptr);
    std::string out;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
        out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
}

// Stored metadata is always NULL, the text null, or one JSON object as better-auth 1.4 stores it
// (what was accepted was stored whole).
bool stored_metadata_ok() {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(g->store->db(), "SELECT metadata FROM apikey WHERE metadata IS NOT NULL "
                       "AND id NOT IN ('AliceOk', 'BobDisabled', 'AliceLimited')", -1, &s, nullptr);
    bool ok = true;
    while (ok && sqlite3_step(s) == SQLITE_ROW) {
        // As better-auth 1.4 stores it: the text null, or a JSON string holding an object.
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        const std::string_view stored(p, static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
        if (stored == "null") continue;
        rapidjson::Document outer;
        outer.Parse<rapidjson::kParseValidateEncodingFlag>(stored.data(), stored.size());
        ok = !outer.HasParseError() && outer.IsString();
        if (!ok) break;
        rapidjson::Document doc;
        doc.Parse<rapidjson::kParseValidateEncodingFlag>(outer.GetString(), outer.GetStringLength());
        ok = !doc.HasParseError() && doc.IsObject();
    }
    sqlite3_finalize(s);
    return ok;
}

void cleanup() {
    if (!g) return;
    g->store.reset();
    std::error_code ec;
    std::filesystem::remove_all(g->dir, ec);
    delete g;
    g = nullptr;
}

bool valid_json(std::string_view s) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(s.data(),
                                                                                      s.size());
    return !doc.HasParseError();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (sodium_init() < 0) std::abort();
    g = new State;
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/gvx-fuzz-api-XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    g->dir = tmpl;
    auto store = gvx::Store::open(g->dir + "/fuzz.db");
    if (!store) std::abort();
    g->store = std::move(*store);
    std::atexit(cleanup);
    exec("PRAGMA synchronous = OFF");
    exec("CREATE TABLE \"user\" (id TEXT PRIMARY KEY NOT NULL, name TEXT, username TEXT UNIQUE);"
         "INSERT INTO \"user\" VALUES ('u_bob', 'Bob', 'bob'), ('alice', 'Alice', 'alice2');"
         "CREATE TABLE session (id TEXT PRIMARY KEY NOT NULL, expires_at INTEGER NOT NULL, "
         "token TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL);"
         "INSERT INTO session VALUES ('s1', " + std::to_string(kNow + 3'600'000) + ", '" +
         std::string(kSession) + "', 'alice'), ('s2', '2020-01-01T00:00:00Z', 'SessOld', "
         "'u_bob');"
         "INSERT OR REPLACE INTO gvx_config (name, value) VALUES ('rate_limit_enabled', 1);");
    std::string& r = g->reset_sql;
    r = "DELETE FROM apikey; DELETE FROM gvx_activity; DELETE FROM gvx_rate_window;";
    for (const Seed& s : kSeeds) {
        r += "INSERT INTO apikey (id, name, start, prefix, key, user_id, created_at, updated_at, "
             "enabled, rate_limit_enabled, rate_limit_max, remaining, expires_at, metadata) "
             "VALUES ('" + std::string(s.id) + "', 'seed " + s.id + "', '" +
             gvx::token_start(s.token) + "', 'gvx_', '" + gvx::hash_key(s.token) + "', '" +
             s.user + "', 1700000000000, 1700000000000, " + s.extra + ");";
    }
    exec(r);
    g->options.trusted_origins = {"https://git.example.com"};
    g->verbose = std::getenv("GVX_FUZZ_VERBOSE") != nullptr;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gvx::fcgi;
    gvx::fuzz::Fields f(data, size);
    const std::string_view flags = f.next();
    // The fields become the CGI environment, read by gvx-fcgi's own read_request.
    std::vector<std::string> env;
    const auto param = [&](const char* name) {
        env.push_back(std::string(name) + "=" + std::string(f.next()));
    };
    for (const char* name : {"FCGI_ROLE", "FCGI_APACHE_ROLE", "GVX_MODE", "REQUEST_METHOD",
                             "REQUEST_URI", "QUERY_STRING", "CONTENT_TYPE"})
        param(name);
    // CONTENT_LENGTH "~" leaves it out; an empty one is passed on (it counts as none).
    if (const std::string_view cl = f.next(); cl != "~")
        env.push_back("CONTENT_LENGTH=" + std::string(cl));
    for (const char* name : {"HTTP_AUTHORIZATION", "HTTP_COOKIE", "HTTP_ORIGIN", "HTTP_REFERER",
                             "REMOTE_USER", "REMOTE_PASSWD", "HTTP_X_API_KEY", "REMOTE_ADDR",
                             "HTTP_USER_AGENT"})
        param(name);
    std::vector<const char*> envp;
    for (const std::string& e : env) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    std::string_view body = f.rest();
    Request req = read_request(envp.data(), [&](char* into, std::size_t n) {
        const std::size_t k = std::min(n, body.size());
        std::memcpy(into, body.data(), k);
        body.remove_prefix(k);
        return k;
    });
    g->options.trust_remote_user = flags.find('T') != std::string_view::npos;
    g->options.strict_username = flags.find('S') != std::string_view::npos;
    const bool with_secret = flags.find('C') != std::string_view::npos;

    const std::string before = stored_tokens();
    const int changes_before = sqlite3_total_changes(g->store->db());
    Context ctx{*g->store, g->options, with_secret ? kSecret : std::string_view(), kNow};
    const bool authorizer = req.role == "AUTHORIZER" || req.mode == "authorize";
    const Response res = authorizer ? authorize(req, ctx) : handle_api(req, ctx);

    if (g->verbose) std::fprintf(stderr, "%d %s\n", res.status, res.body.c_str());
    switch (res.status) {
        case 200: case 400: case 401: case 403: case 404: case 405: case 411: case 413:
        case 415: case 429: break;
        default:
            std::fprintf(stderr, "status %d: %s\n", res.status, res.body.c_str());
            GVX_FUZZ_CHECK(!"unexpected status");
    }
    GVX_FUZZ_CHECK(valid_json(res.body));
    for (const auto& [name, value] : res.headers) {
        GVX_FUZZ_CHECK(name.find_first_of("\r\n:") == std::string::npos);
        GVX_FUZZ_CHECK(value.find_first_of("\r\n") == std::string::npos);
    }
    const std::string head = serialize_head(res);
    GVX_FUZZ_CHECK(head.find("\r\n\r\n") == head.size() - 4);
    // A secret may come back only where the caller itself wrote it into something echoed
    // (its REMOTE_USER as userId, the body's name or metadata).
    const auto echoed_by_caller = [&](std::string_view secret) {
        return gvx::fuzz::contains(req.remote_user, secret) ||
               gvx::fuzz::contains(req.body, secret);
    };
    for (std::string_view secret : {std::string_view(kSession), kSecret}) {
        if (!echoed_by_caller(secret)) GVX_FUZZ_CHECK(!gvx::fuzz::contains(res.body, secret));
    }
    for (const Seed& s : kSeeds) {
        if (!echoed_by_caller(s.token)) GVX_FUZZ_CHECK(!gvx::fuzz::contains(res.body, s.token));
    }

    if (res.status >= 400) GVX_FUZZ_CHECK(stored_tokens() == before);
    if (res.status == 200) GVX_FUZZ_CHECK(stored_metadata_ok());
    if (res.status == 200 && !authorizer && req.path.ends_with("/create")) {
        rapidjson::Document doc;
        doc.Parse(res.body.data(), res.body.size());
        GVX_FUZZ_CHECK(doc.IsObject() && doc.HasMember("key") && doc["key"].IsString());
        const std::string_view key(doc["key"].GetString(), doc["key"].GetStringLength());
        GVX_FUZZ_CHECK(gvx::has_gvx_format(key));
        GVX_FUZZ_CHECK(doc.HasMember("prefix") && doc["prefix"].IsString() &&
                       key.starts_with(doc["prefix"].GetString()));
    }
    if (sqlite3_total_changes(g->store->db()) != changes_before) exec(g->reset_sql);
    return 0;
}
