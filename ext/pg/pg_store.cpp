#include "pg/pg_store.hpp"

#include <charconv>

#include "core/limits.hpp"
#include "core/token.hpp"
#include "json/audit.hpp"
#include "pg/statements.hpp"

namespace gvx::pg {
namespace {

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
}

// gvx_config rows as select_by_key_locked sends them: "name=value" lines. Values that are not
// integers are skipped, as SQLite's store reads them (as 0) would be refused by the ranges.
Config parse_config(std::string_view lines) {
    Config c;
    while (!lines.empty()) {
        const std::size_t nl = lines.find('\n');
        const std::string_view line = lines.substr(0, nl);
        lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        if (auto v = parse_int(line.substr(eq + 1))) apply_config_value(c, line.substr(0, eq), *v);
    }
    return c;
}

// better-auth keeps session.expires_at in milliseconds where it maps dates to integers (as
// on D1), and as a timestamp with its own PostgreSQL schema: whichever this database has.
bool prepare_session_statement(Connection& c) {
    return c.try_prepare("gvx_session", kSessionByMs) ||
           c.try_prepare("gvx_session", kSessionByTimestamp);
}

}  // namespace

PgStore::PgStore(std::string conninfo) : conn_(std::move(conninfo), statements()) {
    conn_.set_on_connect(&PgStore::on_connect, this);
}

// On each new connection: the schema, then which of better-auth's tables exist here.
Status PgStore::on_connect(Connection& c, void* self_ptr) {
    auto* self = static_cast<PgStore*>(self_ptr);
    if (auto st = migrate(c); !st) return st;
    self->has_sessions_ = prepare_session_statement(c);
    self->has_usernames_ = c.try_prepare("gvx_username", kUsername);
    if (c.lost()) return Error{Errc::busy, "database connection lost"};
    return Ok{};
}

Status PgStore::prepare() { return conn_.ensure(); }

void PgStore::abandon_transaction() {
    if (!conn_.lost() && conn_.in_transaction()) (void)conn_.run(at(Sql::rollback));
}

Result<Config> PgStore::read_config() {
    GVX_TRY_VALUE(const Rows rows, conn_.run(at(Sql::select_config)));
    Config c;
    for (int i = 0; i < rows.size(); ++i) {
        if (auto v = parse_int(rows.text_view(i, 1))) apply_config_value(c, rows.text(i, 0), *v);
    }
    return c;
}

Result<Config> PgStore::config() {
    GVX_TRY(conn_.ensure());
    return read_config();
}

// Two round trips for a verification (libpq pipelines): BEGIN with the locked SELECT (and the
// settings), then the writes with COMMIT. Between them, the same decision as on SQLite
// (core/policy.hpp); a rate window is read only once the row is locked, so it is current.
Result<Verification> PgStore::verify(std::string_view token, const ClientInfo& client,
                                     std::int64_t now) {
    // better-auth's user table may appear after gvx started. Looked for here, outside the
    // transaction, where a failed prepare costs nothing (inside, it would abort it).
    if (!client.claimed_user.empty() && !has_usernames_ && conn_.ensure())
        has_usernames_ = conn_.try_prepare("gvx_username", kUsername);
    // Longer than any token: looked up by a key no row has ('' is no hash), for the settings.
    Params key;
    key.add(std::string_view(token.size() <= kMaxTokenLength ? hash_key(token) : std::string()));
    for (int attempt = 0;; ++attempt) {
        GVX_TRY(conn_.ensure());
        auto first =
            conn_.pipeline({{at(Sql::begin)}, {at(Sql::select_by_key_locked), &key}});
        if (!first) {
            if (conn_.lost() && attempt == 0) continue;  // a connection that died idle
            abandon_transaction();
            return std::move(first).error();
        }
        auto out = verify_begun(token, client, now, (*first)[1]);
        if (!out) abandon_transaction();
        return out;
    }
}

Result<Verification> PgStore::verify_begun(std::string_view token, const ClientInfo& client,
                                           std::int64_t now, const Rows& found) {
    Verification v;
    Config cfg;
    if (!found.empty()) {  // one row: the settings, and the token's columns or NULLs
        if (!found.is_null(0, 0)) v.record = read_token(found, 0);
        if (!found.is_null(0, kConfigColumn))
            cfg = parse_config(found.text_view(0, kConfigColumn));
    }

    struct Facts final : VerifyFacts {
        PgStore& s;
        std::string_view claimed;
        const Config& cfg;
        Facts(PgStore& store, std::string_view c, const Config& config)
            : s(store), claimed(c), cfg(config) {}
        Result<bool> names_owner(const TokenRecord& t) override {
            return s.names_user(t.user_id, claimed);
        }
        Result<Config> config() override { return cfg; }
        Result<std::optional<RateWindow>> window(const TokenRecord& t) override {
            Params id;
            id.add(std::string_view(t.id));
            GVX_TRY_VALUE(const Rows w, s.conn_.run(at(Sql::select_window), id));
            if (w.empty()) return std::optional<RateWindow>();
            return std::optional<RateWindow>(
                RateWindow{.start = w.int64(0, 0), .count = w.int64(0, 1)});
        }
    } facts(*this, client.claimed_user, cfg);
    GVX_TRY_VALUE(const Decision d, decide(v.record ? &*v.record : nullptr,
                                           !client.claimed_user.empty(), client.required, now,
                                           facts));
    v.outcome = d.outcome;
    v.retry_after_ms = d.retry_after_ms;

    std::vector<Connection::Call> writes;
    Params window, usage, activity;
    if (d.window) {
        window.add(std::string_view(v.record->id)).add(d.window->start).add(d.window->count);
        writes.push_back({at(Sql::upsert_window), &window});
    }
    if (v.outcome == Outcome::ok) {
        TokenRecord& r = *v.record;
        usage.add(std::string_view(r.id)).add(now).add(d.remaining).add(d.last_refill_at);
        writes.push_back({at(Sql::update_usage), &usage});
        r.request_count += 1;
        r.last_request = now;
        r.remaining = d.remaining;
        r.last_refill_at = d.last_refill_at;
    }
    activity.add(now)
        .add(v.record ? std::optional<std::string>(v.record->id) : std::nullopt)
        // A known token's start; of anything else only a token's shape (no typed password).
        .add(std::string_view(printable(v.record ? token_start(token) : credential_start(token),
                                        kStartLength)))
        .add(outcome_code(v.outcome))
        .add(std::string_view(printable(client.ip, kMaxIpBytes)))
        .add(std::string_view(printable(client.user_agent, kMaxUserAgentBytes)));
    if (v.outcome == Outcome::ok) {
        writes.push_back({at(Sql::insert_activity), &activity});
    } else {
        // Refusals are counted, within a cap of rows (sql/postgres/002_activity_counts.sql).
        activity.add(sub_sat(now, kRefusalWindowMs))
            .add(v.record ? cfg.activity_refusals_per_token : cfg.activity_unknown_max_rows);
        writes.push_back({at(Sql::record_refusal), &activity});
    }
    writes.push_back({at(Sql::commit)});
    // A COMMIT whose answer is lost may or may not have happened: 503, never retried.
    GVX_TRY(conn_.pipeline(writes));
    return v;
}

Result<bool> PgStore::revoke(std::string_view id, std::optional<std::string_view> user_id) {
    if (!storable(id) || (user_id && !storable(*user_id))) return false;
    return transaction<bool>([&]() -> Result<bool> {
        Params p;
        p.add(id).add(user_id);
        auto del = conn_.run(at(Sql::delete_token), p);
        if (!del) return std::move(del).error();
        const bool deleted = !del->empty();
        if (deleted) {
            Params w;
            w.add(id);
            if (auto dw = conn_.run(at(Sql::delete_window), w); !dw) return std::move(dw).error();
            GVX_TRY(record_audit(AuditAction::delete_, read_token(*del, 0), audit_now_ms(),
                                 std::nullopt));
        }
        return deleted;
    });
}

Status PgStore::each_token(std::string_view user_id,
                           const std::function<void(const TokenRecord&)>& visit) {
    if (!storable(user_id)) return Ok{};
    if (auto st = conn_.ensure(); !st) return st;
    Params p;
    p.add(user_id);
    auto rows = conn_.run(at(Sql::select_by_user), p);
    if (!rows) return std::move(rows).error();
    for (int i = 0; i < rows->size(); ++i) visit(read_token(*rows, i));
    return Ok{};
}

Result<std::optional<TokenRecord>> PgStore::get(std::string_view id, std::string_view user_id) {
    if (!storable(id) || !storable(user_id)) return std::optional<TokenRecord>();
    if (auto st = conn_.ensure(); !st) return std::move(st).error();
    Params p;
    p.add(id).add(user_id);
    auto rows = conn_.run(at(Sql::select_by_id_user), p);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return std::optional<TokenRecord>();
    return std::optional<TokenRecord>(read_token(*rows, 0));
}

Result<std::optional<TokenRecord>> PgStore::update(std::string_view id, std::string_view user_id,
                                                   const TokenChanges& c, std::int64_t now) {
    GVX_TRY(validate(c, now));
    if (!storable(id) || !storable(user_id)) return std::optional<TokenRecord>();
    return transaction<std::optional<TokenRecord>>(
        [&]() -> Result<std::optional<TokenRecord>> {
            if (c.set_expires_at) {
                // max_token_lifetime counts from the token's creation.
                GVX_TRY_VALUE(const Config cfg, read_config());
                Params q;
                q.add(id).add(user_id);
                GVX_TRY_VALUE(const Rows old, conn_.run(at(Sql::select_by_id_user), q));
                if (old.empty()) return std::optional<TokenRecord>();
                GVX_TRY(lifetime_allows(c.expires_at, cfg, read_token(old, 0).created_at));
            }
            std::optional<std::string> permissions;
            if (c.set_permissions && c.permissions) {
                GVX_TRY_VALUE(permissions, canonical_permissions(*c.permissions));
            }
            Params p;
            p.add(id).add(user_id).add(c.name);
            p.add(c.enabled ? std::optional<std::int64_t>(*c.enabled ? 1 : 0) : std::nullopt);
            p.add(std::int64_t{c.set_expires_at ? 1 : 0}).add(c.expires_at).add(now);
            p.add(std::int64_t{c.set_metadata ? 1 : 0}).add(c.metadata);
            p.add(std::int64_t{c.set_permissions ? 1 : 0}).add(permissions);
            GVX_TRY_VALUE(const Rows rows, conn_.run(at(Sql::update_token), p));
            if (rows.empty()) return std::optional<TokenRecord>();
            TokenRecord updated = read_token(rows, 0);
            GVX_TRY(record_audit(audit_action_of(c), updated, now, audit_detail_changes(c)));
            return std::optional<TokenRecord>(std::move(updated));
        });
}

Result<std::vector<ActivityRecord>> PgStore::activity(std::string_view id,
                                                      std::string_view user_id,
                                                      std::int64_t limit) {
    auto owner = get(id, user_id);  // only the owner may read a token's activity
    if (!owner) return std::move(owner).error();
    if (!*owner) return Error{Errc::not_found, "no such token"};
    Params p;
    p.add(id).add(limit);
    auto rows = conn_.run(at(Sql::select_activity), p);
    if (!rows) return std::move(rows).error();
    std::vector<ActivityRecord> out;
    for (int i = 0; i < rows->size(); ++i) {
        out.push_back(ActivityRecord{.id = rows->int64(i, 0),
                                     .at = rows->int64(i, 1),
                                     .key_id = rows->opt_text(i, 2),
                                     .key_start = rows->text(i, 3),
                                     .outcome = rows->text(i, 4),
                                     .ip = rows->text(i, 5),
                                     .user_agent = rows->text(i, 6),
                                 .count = rows->int64(i, 7),
                                 .last_at = rows->opt_int64(i, 8)});
    }
    return out;
}

Result<PurgeReport> PgStore::purge_batch(std::int64_t now, std::int64_t batch) {
    return transaction<PurgeReport>([&]() -> Result<PurgeReport> {
        auto cfg = read_config();
        if (!cfg) return std::move(cfg).error();
        auto run = [&](Sql which, std::int64_t a, std::int64_t b) -> Result<std::int64_t> {
            Params p;
            p.add(a).add(b);
            auto r = conn_.run(at(which), p);
            if (!r) return std::move(r).error();
            return r->affected();
        };
        PurgeReport r;
        auto tokens = run(Sql::purge_tokens, now, batch);
        if (!tokens) return std::move(tokens).error();
        r.tokens = *tokens;
        if (r.tokens > 0) {
            if (auto w = conn_.run(at(Sql::purge_windows)); !w) return std::move(w).error();
        }
        auto old = run(Sql::purge_old_activity, sub_sat(now, cfg->activity_retention), batch);
        if (!old) return std::move(old).error();
        r.activity = *old;  // by age only, as on SQLite (ext/store/purge.cpp)
        GVX_TRY_VALUE(r.audit,
                      run(Sql::purge_old_audit, sub_sat(now, cfg->audit_retention), batch));
        return r;
    });
}

Result<PurgeReport> PgStore::purge_preview(std::int64_t now) {
    if (auto st = conn_.ensure(); !st) return std::move(st).error();
    auto cfg = read_config();
    if (!cfg) return std::move(cfg).error();
    const std::int64_t oldest_kept = sub_sat(now, cfg->activity_retention);
    auto count = [&](Sql which, std::optional<std::int64_t> a,
                     std::optional<std::int64_t> b) -> Result<std::int64_t> {
        Params p;
        p.add(a);
        if (b) p.add(b);
        auto r = conn_.run(at(which), p);
        if (!r) return std::move(r).error();
        return r->int64(0, 0);
    };
    auto tokens = count(Sql::count_expired, now, std::nullopt);
    if (!tokens) return std::move(tokens).error();
    auto old = count(Sql::count_old_activity, oldest_kept, std::nullopt);
    if (!old) return std::move(old).error();
    GVX_TRY_VALUE(const std::int64_t audit,
                  count(Sql::count_old_audit, sub_sat(now, cfg->audit_retention), std::nullopt));
    return PurgeReport{.tokens = *tokens, .activity = *old, .audit = audit};
}

Result<std::optional<std::string>> PgStore::session_user(std::string_view session_token,
                                                         std::int64_t now) {
    if (auto st = conn_.ensure(); !st) return std::move(st).error();
    if (!has_sessions_) has_sessions_ = prepare_session_statement(conn_);
    if (!has_sessions_) return Error{Errc::db, "no better-auth session table in this database"};
    if (!storable(session_token)) return std::optional<std::string>();
    Params p;
    p.add(session_token).add(now);
    auto rows = conn_.run_named("gvx_session", p);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return std::optional<std::string>();
    return std::optional<std::string>(rows->text(0, 0));
}

Result<bool> PgStore::names_user(std::string_view user_id, std::string_view name) {
    if (name == user_id) return true;
    if (!has_usernames_ || !storable(name)) return false;
    Params p;
    p.add(user_id).add(name);
    auto rows = conn_.run_named("gvx_username", p);
    if (!rows) return std::move(rows).error();
    return !rows->empty();
}

}  // namespace gvx::pg
