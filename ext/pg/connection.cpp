#include "pg/connection.hpp"

#include <cstring>

namespace gvx::pg {
namespace {

// Connection defaults a conninfo may override (libpq keeps the last value of a keyword, and
// the conninfo is expanded after these): a bounded wait for an unreachable server, and a
// bounded wait for one that stops answering mid-request.
constexpr const char* kDefaultKeywords[] = {"connect_timeout", "tcp_user_timeout",
                                            "fallback_application_name"};
constexpr const char* kDefaultValues[] = {"5", "10000", "gvx"};

// A row lock held by someone else is waited for at most this long (SQLite's busy_timeout).
constexpr const char* kSessionSetup = "SET lock_timeout = 5000";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// SQLSTATEs after which the connection is of no further use: the server went away, is
// shutting down or starting, or is a read-only standby (after a failover the primary is
// elsewhere, and only a new connection finds it).
bool connection_is_spent(std::string_view state) {
    return starts_with(state, "08") || state == "57P01" || state == "57P02" ||
           state == "57P03" || state == "25006";
}

// SQLSTATEs worth retrying as they are: lock timeout, serialization failure, deadlock,
// statement timeout.
bool is_transient(std::string_view state) {
    return state == "55P03" || state == "40001" || state == "40P01" || state == "57014";
}

}  // namespace

std::int64_t Rows::affected() const {
    const char* n = PQcmdTuples(r_.get());
    std::int64_t v = 0;
    std::from_chars(n, n + std::strlen(n), v);
    return v;
}

std::int64_t Rows::int64(int row, int col) const {
    const std::string_view s = text_view(row, col);
    std::int64_t v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
}

std::vector<const char*> Params::pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i)
        out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
    return out;
}

bool is_conninfo(std::string_view text) {
    if (starts_with(text, "postgresql://") || starts_with(text, "postgres://")) return true;
    // key=value conninfo: it starts with a keyword (lower-case letters and '_') and '='.
    std::size_t i = 0;
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t word = i;
    while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z') || text[i] == '_')) ++i;
    while (i < text.size() && text[i] == ' ') ++i;
    return i > word && i < text.size() && text[i] == '=';
}

Connection::Connection(std::string conninfo, std::vector<Statement> statements)
    : conninfo_(std::move(conninfo)), statements_(std::move(statements)) {}

bool Connection::in_transaction() const {
    if (!conn_) return false;
    const auto s = PQtransactionStatus(conn_.get());
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

Status Connection::connect() {
    std::vector<const char*> keys(std::begin(kDefaultKeywords), std::end(kDefaultKeywords));
    std::vector<const char*> values(std::begin(kDefaultValues), std::end(kDefaultValues));
    keys.push_back("dbname");
    values.push_back(conninfo_.c_str());
    keys.push_back(nullptr);
    values.push_back(nullptr);
    ConnPtr c{PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1)};
    ++connects_;
    if (!c) return Error{Errc::busy, "database unavailable: out of memory"};
    if (PQstatus(c.get()) != CONNECTION_OK) {
        std::string why = PQerrorMessage(c.get());
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
        return Error{Errc::busy, "database unavailable: " + why};
    }
    conn_ = std::move(c);
    if (auto r = exec(kSessionSetup); !r) return std::move(r).error();
    if (on_connect_) {
        if (auto st = on_connect_(*this, on_connect_data_); !st) {
            conn_.reset();
            return st;
        }
    }
    for (const Statement& s : statements_) {
        if (!conn_) return Error{Errc::busy, "database connection lost"};
        if (auto r = check(PQprepare(conn_.get(), s.name, s.sql, 0, nullptr)); !r) {
            conn_.reset();
            return std::move(r).error();
        }
    }
    return Ok{};
}

Status Connection::ensure() {
    if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return Ok{};
    conn_.reset();
    return connect();
}

Result<Rows> Connection::check(PGresult* raw) {
    ResultPtr r{raw};
    const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(std::move(r));
    const char* state_field = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view state = state_field ? state_field : "";
    const char* primary = r ? PQresultErrorField(r.get(), PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const bool lost = !conn_ || PQstatus(conn_.get()) != CONNECTION_OK ||
                      connection_is_spent(state) || !r;
    if (lost) {
        conn_.reset();
        return Error{Errc::busy, "database connection lost"};
    }
    if (is_transient(state))
        return Error{Errc::busy, std::string("database is busy: ") + (primary ? primary : "")};
    return Error{Errc::db, std::string("database error: ") + (primary ? primary : "unknown")};
}

Result<Rows> Connection::run(std::size_t statement, const Params& params) {
    return run_named(statements_[statement].name, params);
}

Result<Rows> Connection::run_named(const char* name, const Params& params) {
    if (!conn_) return Error{Errc::busy, "database connection lost"};
    const std::vector<const char*> values = params.pointers();
    return check(PQexecPrepared(conn_.get(), name, params.size(), values.data(), nullptr,
                                nullptr, /*resultFormat=*/0));
}

Result<std::vector<Rows>> Connection::pipeline(const std::vector<Call>& calls) {
    if (!conn_) return Error{Errc::busy, "database connection lost"};
    PGconn* c = conn_.get();
    if (PQenterPipelineMode(c) != 1) {
        conn_.reset();
        return Error{Errc::busy, "database connection lost"};
    }
    const Params none;
    bool sent = true;
    for (const Call& call : calls) {
        const Params& p = call.params ? *call.params : none;
        const std::vector<const char*> values = p.pointers();
        sent = PQsendQueryPrepared(c, statements_[call.statement].name, p.size(), values.data(),
                                   nullptr, nullptr, 0) == 1;
        if (!sent) break;
    }
    sent = sent && PQpipelineSync(c) == 1;
    if (!sent) {
        conn_.reset();  // a pipeline that could not be sent leaves the connection unusable
        return Error{Errc::busy, "database connection lost"};
    }
    // Each statement's result is followed by a null; the sync's result ends the pipeline.
    // Every result is read even after a failure, so the connection stays in step.
    std::vector<Rows> out;
    std::optional<Error> first_error;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        PGresult* r = PQgetResult(c);
        if (!r) {  // the connection broke mid-pipeline
            conn_.reset();
            return Error{Errc::busy, "database connection lost"};
        }
        if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED) {
            PQclear(r);
        } else if (auto rows = check(r); rows) {
            out.push_back(std::move(*rows));
        } else if (!first_error) {
            first_error = std::move(rows).error();
            if (!conn_) return std::move(*first_error);
        }
        while (PGresult* extra = PQgetResult(c)) PQclear(extra);
    }
    ResultPtr sync{PQgetResult(c)};
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(c) != 1) {
        conn_.reset();
        return first_error ? std::move(*first_error)
                           : Error{Errc::busy, "database connection lost"};
    }
    if (first_error) return std::move(*first_error);
    return out;
}

Result<Rows> Connection::exec(const char* sql) {
    if (!conn_) return Error{Errc::busy, "database connection lost"};
    return check(PQexec(conn_.get(), sql));
}

bool Connection::try_prepare(const char* name, const char* sql) {
    if (!conn_) return false;
    ResultPtr r{PQprepare(conn_.get(), name, sql, 0, nullptr)};
    return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
}

}  // namespace gvx::pg
