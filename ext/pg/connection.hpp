// One libpq connection that gvx-fcgi keeps for its whole life: connected lazily, reconnected
// after the server goes away, with every statement prepared once per connection.
//
// Failures map onto gvx's errors as a user should see them: a lost or unreachable server, a
// read-only one (a standby not yet promoted), a lock wait past lock_timeout, a serialization
// failure or deadlock are Errc::busy (HTTP 503, try again); anything else is Errc::db (500).
// After a lost connection the next call connects afresh, to whichever host of a multi-host
// conninfo now accepts writes (target_session_attrs=read-write).
#pragma once

#include <libpq-fe.h>

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace gvx::pg {

struct ResultClear {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClear>;

struct ConnFinish {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnFinish>;

// Rows of one statement's result, read in text format.
class Rows {
   public:
    explicit Rows(ResultPtr r) : r_(std::move(r)) {}
    int size() const { return PQntuples(r_.get()); }
    bool empty() const { return size() == 0; }
    // Rows a DELETE/UPDATE/INSERT touched.
    std::int64_t affected() const;
    bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string_view text_view(int row, int col) const {
        return {PQgetvalue(r_.get(), row, col),
                static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    std::string text(int row, int col) const { return std::string(text_view(row, col)); }
    std::optional<std::string> opt_text(int row, int col) const {
        if (is_null(row, col)) return std::nullopt;
        return text(row, col);
    }
    std::int64_t int64(int row, int col) const;
    std::optional<std::int64_t> opt_int64(int row, int col) const {
        if (is_null(row, col)) return std::nullopt;
        return int64(row, col);
    }

   private:
    ResultPtr r_;
};

// Parameters for one execution, all sent as text (libpq's own format for them).
class Params {
   public:
    Params& add(std::string_view v) {
        values_.emplace_back(v);
        nulls_.push_back(false);
        return *this;
    }
    Params& add(std::int64_t v) { return add(std::string_view(std::to_string(v))); }
    Params& add(const char*) = delete;  // say std::string_view to avoid surprises
    template <class T>
    Params& add(const std::optional<T>& v) {
        if (v) return add(*v);
        values_.emplace_back();
        nulls_.push_back(true);
        return *this;
    }
    int size() const { return static_cast<int>(values_.size()); }
    // Pointers into this object: valid while it lives and is not added to.
    std::vector<const char*> pointers() const;

   private:
    std::vector<std::string> values_;
    std::vector<bool> nulls_;
};

// A named statement: prepared on each new connection before it is first used.
struct Statement {
    const char* name;
    const char* sql;
};

class Connection {
   public:
    // conninfo: a libpq URI (postgresql://...) or key=value string. Nothing connects yet.
    Connection(std::string conninfo, std::vector<Statement> statements);
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Connects if there is no usable connection; prepares every statement on a new one.
    // on_connect runs first on each new connection (migrations), before the statements.
    Status ensure();
    void set_on_connect(Status (*hook)(Connection&, void*), void* data) {
        on_connect_ = hook;
        on_connect_data_ = data;
    }

    // Runs a prepared statement (by its index in the list given to the constructor).
    Result<Rows> run(std::size_t statement, const Params& params = Params{});
    // Runs several prepared statements in one round trip (libpq's pipeline mode), in order;
    // their results, or the first error (the statements after a failed one do not run).
    struct Call {
        std::size_t statement;
        const Params* params = nullptr;
    };
    Result<std::vector<Rows>> pipeline(const std::vector<Call>& calls);
    // Runs SQL text without parameters (transaction control, migrations).
    Result<Rows> exec(const char* sql);
    // Prepares one more statement on the current connection; false if the server refuses
    // it (e.g. a table that does not exist here): the caller goes without.
    bool try_prepare(const char* name, const char* sql);
    Result<Rows> run_named(const char* name, const Params& params);

    // True when the last failure lost the connection (the next ensure() reconnects).
    bool lost() const { return conn_ == nullptr; }
    // Whether the current connection is inside a transaction block.
    bool in_transaction() const;
    // Drops the connection (the next call reconnects).
    void reset() { conn_.reset(); }
    // How many connections were made: reconnections show up here.
    std::int64_t connects() const { return connects_; }

   private:
    Result<Rows> check(PGresult* raw);
    Status connect();

    std::string conninfo_;
    std::vector<Statement> statements_;
    ConnPtr conn_;
    std::int64_t connects_ = 0;
    Status (*on_connect_)(Connection&, void*) = nullptr;
    void* on_connect_data_ = nullptr;
};

// Whether text is a PostgreSQL connection string rather than a file path: a
// postgresql:// or postgres:// URI, or key=value pairs (conninfo).
bool is_conninfo(std::string_view text);

}  // namespace gvx::pg
