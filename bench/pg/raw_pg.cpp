#include "raw_pg.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/token.hpp"
#include "pg/statements.hpp"

namespace bench {
namespace {

using gvx::pg::Sql;

const char* name_of(Sql s) {
    static const std::vector<gvx::pg::Statement> all = gvx::pg::statements();
    return all[static_cast<std::size_t>(s)].name;
}

[[noreturn]] void die(PGconn* c, const char* what) {
    std::fprintf(stderr, "raw_pg: %s: %s\n", what, PQerrorMessage(c));
    std::exit(1);
}

void send(PGconn* c, Sql s, std::initializer_list<const char*> values) {
    const std::vector<const char*> v(values);
    if (!PQsendQueryPrepared(c, name_of(s), static_cast<int>(v.size()), v.data(), nullptr,
                             nullptr, 0))
        die(c, "send");
}

// Reads n statements' results and the sync; the first result that has rows is kept.
PGresult* finish(PGconn* c, int n) {
    PGresult* rows = nullptr;
    for (int i = 0; i < n; ++i) {
        PGresult* r = PQgetResult(c);
        const auto st = PQresultStatus(r);
        if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) die(c, "statement");
        if (!rows && st == PGRES_TUPLES_OK) rows = r;
        else PQclear(r);
        while (PGresult* extra = PQgetResult(c)) PQclear(extra);
    }
    PGresult* sync = PQgetResult(c);
    if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC) die(c, "sync");
    PQclear(sync);
    return rows;
}

}  // namespace

RawPg::RawPg(const std::string& uri) : conn_(PQconnectdb(uri.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) die(conn_, "connect");
    for (const auto& s : gvx::pg::statements()) {
        PGresult* r = PQprepare(conn_, s.name, s.sql, 0, nullptr);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) die(conn_, "prepare");
        PQclear(r);
    }
    if (!PQenterPipelineMode(conn_)) die(conn_, "pipeline mode");
}

RawPg::~RawPg() { PQfinish(conn_); }

std::optional<std::string> RawPg::verify(std::string_view token, std::string_view ip,
                                         std::string_view user_agent, std::int64_t now) {
    const std::string hash = gvx::hash_key(token);
    send(conn_, Sql::begin, {});
    send(conn_, Sql::select_by_key_locked, {hash.c_str()});
    PQpipelineSync(conn_);
    PGresult* row = finish(conn_, 2);
    std::optional<std::string> owner;
    std::string id;
    // One row always: the settings, with the token's columns NULL when no token has the key.
    if (row && PQntuples(row) == 1 && !PQgetisnull(row, 0, 0)) {
        const bool enabled = PQgetisnull(row, 0, 5) || std::atoll(PQgetvalue(row, 0, 5)) != 0;
        const bool expired = !PQgetisnull(row, 0, 8) && std::atoll(PQgetvalue(row, 0, 8)) <= now;
        id = PQgetvalue(row, 0, 0);
        if (enabled && !expired) owner = PQgetvalue(row, 0, 4);
    }
    if (row) PQclear(row);
    const std::string at = std::to_string(now);
    const std::string start(token.substr(0, 6));
    const std::string ip_text(ip), agent(user_agent);
    int n = 2;
    if (owner) {
        send(conn_, Sql::update_usage, {id.c_str(), at.c_str(), nullptr, nullptr});
        ++n;
    }
    if (owner) {
        send(conn_, Sql::insert_activity,
             {at.c_str(), id.c_str(), start.c_str(), "OK", ip_text.c_str(), agent.c_str()});
    } else {  // counted, as gvx counts refusals (the default caps)
        const std::string since = std::to_string(now - 60'000);
        send(conn_, Sql::record_refusal,
             {at.c_str(), id.empty() ? nullptr : id.c_str(), start.c_str(),
              id.empty() ? "INVALID_API_KEY" : "KEY_EXPIRED", ip_text.c_str(), agent.c_str(),
              since.c_str(), id.empty() ? "1000" : "100"});
    }
    send(conn_, Sql::commit, {});
    PQpipelineSync(conn_);
    if (PGresult* none = finish(conn_, n)) PQclear(none);
    return owner;
}

}  // namespace bench
