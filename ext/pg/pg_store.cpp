#include "pg/pg_store.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "core/token.hpp"
#include "pg/statements.hpp"

namespace gvx::pg {
namespace {

constexpr std::size_t kMaxUserIdBytes = 255;
constexpr std::size_t kMinNameChars = 3;
constexpr std::size_t kMaxNameChars = 50;
constexpr std::size_t kMaxIpBytes = 64;
constexpr std::size_t kMaxUserAgentBytes = 256;
constexpr std::size_t kMaxMetadataBytes = 16 * 1024;
constexpr std::int64_t kMaxDurationMs = 100LL * 365 * 86'400'000;

std::size_t at(Sql s) { return static_cast<std::size_t>(s); }

// Client-supplied text for the activity log: printable ASCII only, bounded.
std::string printable(std::string_view s, std::size_t max) {
    std::string out(s.substr(0, max));
    for (char& c : out) {
        if (c < 0x20 || c > 0x7E) c = '?';
    }
    return out;
}

std::int64_t sub_sat(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (!__builtin_sub_overflow(a, b, &r)) return r;
    return b > 0 ? std::numeric_limits<std::int64_t>::min()
                 : std::numeric_limits<std::int64_t>::max();
}

// PostgreSQL text cannot hold NUL, and the encoding is UTF-8: both are checked here, so the
// server never sees what it would refuse with a less helpful message.
Status check_text(std::string_view what, std::string_view v, std::size_t max_bytes) {
    if (v.size() > max_bytes)
        return invalid(std::string(what) + " is too long (at most " + std::to_string(max_bytes) +
                       " bytes)");
    if (v.find('\0') != std::string_view::npos)
        return invalid(std::string(what) + " must not contain NUL bytes");
    if (!is_valid_utf8(v)) return invalid(std::string(what) + " must be valid UTF-8");
    return Ok{};
}

Status check_name(std::string_view name) {
    if (auto st = check_text("name", name, kMaxNameChars * 4); !st) return st;
    const std::size_t chars = count_code_points(name);
    if (chars < kMinNameChars || chars > kMaxNameChars)
        return invalid("name must be 3 to 50 characters (got " + std::to_string(chars) + ")");
    return Ok{};
}

// An id, user id or hash looked up by equality: text PostgreSQL can hold, else no match.
bool storable(std::string_view s) {
    return s.find('\0') == std::string_view::npos && is_valid_utf8(s);
}

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    return v;
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

template <class T, class Body>
Result<T> PgStore::transaction(Body&& body) {
    for (int attempt = 0;; ++attempt) {
        if (auto st = conn_.ensure(); !st) return std::move(st).error();
        if (auto b = conn_.run(at(Sql::begin)); !b) {
            if (conn_.lost() && attempt == 0) continue;  // a connection that died idle
            return std::move(b).error();
        }
        Result<T> out = body();
        if (!out) {
            if (!conn_.lost()) (void)conn_.run(at(Sql::rollback));
            return out;
        }
        // A COMMIT whose answer is lost may or may not have happened: 503, never retried.
        if (auto c = conn_.run(at(Sql::commit)); !c) return std::move(c).error();
        return out;
    }
}

Result<Config> PgStore::read_config() {
    auto rows = conn_.run(at(Sql::select_config));
    if (!rows) return std::move(rows).error();
    Config c;
    for (int i = 0; i < rows->size(); ++i) {
        const std::string name = rows->text(i, 0);
        const auto parsed = parse_int(rows->text_view(i, 1));
        if (!parsed) continue;
        const std::int64_t v = *parsed;
        if (name == "rate_limit_enabled") c.rate_limit_enabled = v != 0;
        else if (name == "rate_limit_time_window" && v > 0)
            c.rate_limit_time_window = std::min(v, kMaxDurationMs);
        else if (name == "rate_limit_max" && v >= 0) c.rate_limit_max = v;
        else if (name == "activity_retention_ms" && v > 0)
            c.activity_retention = std::min(v, kMaxDurationMs);
        else if (name == "activity_max_rows" && v > 0) c.activity_max_rows = v;
        else if (name == "cleanup_hold_us" && v > 0) c.cleanup_hold_us = v;
        else if (name == "cleanup_pause_ratio" && v >= 0) c.cleanup_pause_ratio = v;
        else if (name == "max_token_lifetime_ms" && v >= 0)
            c.max_token_lifetime = std::min(v, kMaxDurationMs);
    }
    return c;
}

Result<Config> PgStore::config() {
    if (auto st = conn_.ensure(); !st) return std::move(st).error();
    return read_config();
}

Result<CreatedToken> PgStore::create(const NewToken& t, std::int64_t now) {
    if (t.user_id.empty()) return invalid("user_id must not be empty");
    if (auto st = check_text("user_id", t.user_id, kMaxUserIdBytes); !st)
        return std::move(st).error();
    if (auto st = check_name(t.name); !st) return std::move(st).error();
    if (!is_valid_prefix(t.prefix)) return invalid("prefix must match ^[A-Za-z0-9_-]{1,32}$");
    if (t.expires_at && *t.expires_at <= now)
        return invalid("expires_at must be in the future (milliseconds since the epoch)");
    if (t.metadata && t.metadata->size() > kMaxMetadataBytes)
        return invalid("metadata is too long (at most 16384 bytes of JSON)");
    if (t.metadata) {
        if (auto st = check_text("metadata", *t.metadata, kMaxMetadataBytes); !st)
            return std::move(st).error();
    }
    if (t.rate_limit_time_window && *t.rate_limit_time_window <= 0)
        return invalid("rate_limit_time_window must be a positive number of milliseconds");
    if (t.rate_limit_max && *t.rate_limit_max < 0)
        return invalid("rate_limit_max must not be negative");

    return transaction<CreatedToken>([&]() -> Result<CreatedToken> {
        auto cfg = read_config();
        if (!cfg) return std::move(cfg).error();
        std::optional<std::int64_t> expires = t.expires_at;
        if (cfg->max_token_lifetime > 0) {
            const std::int64_t latest = now + cfg->max_token_lifetime;
            if (!expires) expires = latest;
            else if (*expires > latest)
                return invalid("expires_at is beyond the maximum token lifetime of " +
                               std::to_string(cfg->max_token_lifetime / 86'400'000) + " days");
        }
        auto token = generate_token(t.prefix);
        if (!token) return std::move(token).error();
        CreatedToken out{.record = {}, .key = std::move(*token)};
        TokenRecord& r = out.record;
        r.id = random_id();
        r.name = std::string(t.name);
        r.start = std::string(out.key.view().substr(0, kStartLength));
        r.prefix = std::string(t.prefix);
        r.user_id = std::string(t.user_id);
        r.enabled = true;
        r.created_at = r.updated_at = now;
        r.expires_at = expires;
        r.metadata = t.metadata;
        r.rate_limit_enabled = t.rate_limit_enabled.value_or(true);
        r.rate_limit_time_window = t.rate_limit_time_window;
        r.rate_limit_max = t.rate_limit_max;
        Params p;
        p.add(std::string_view(r.id))
            .add(std::string_view(*r.name))
            .add(std::string_view(*r.start))
            .add(std::string_view(*r.prefix))
            .add(std::string_view(hash_key(out.key.view())))
            .add(std::string_view(r.user_id))
            .add(std::int64_t{*r.rate_limit_enabled ? 1 : 0})
            .add(r.rate_limit_time_window)
            .add(r.rate_limit_max)
            .add(r.expires_at)
            .add(now)
            .add(r.metadata);
        if (auto ins = conn_.run(at(Sql::insert_token), p); !ins) return std::move(ins).error();
        return out;
    });
}

Result<Verification> PgStore::verify(std::string_view token, const ClientInfo& client,
                                     std::int64_t now) {
    // better-auth's user table may appear after gvx started. Looked for here, outside the
    // transaction, where a failed prepare costs nothing (inside, it would abort it).
    if (!client.claimed_user.empty() && !has_usernames_ && conn_.ensure())
        has_usernames_ = conn_.try_prepare("gvx_username", kUsername);
    return transaction<Verification>([&] { return verify_locked(token, client, now); });
}

// Inside the transaction: the token's row is locked first, so the outcome, the usage update,
// the rate window and the activity row of concurrent verifications never interleave.
Result<Verification> PgStore::verify_locked(std::string_view token, const ClientInfo& client,
                                            std::int64_t now) {
    Verification v;
    if (token.size() <= kMaxTokenLength) {
        Params p;
        p.add(std::string_view(hash_key(token)));
        auto rows = conn_.run(at(Sql::select_by_key_locked), p);
        if (!rows) return std::move(rows).error();
        if (!rows->empty()) v.record = read_token(*rows, 0);
    }

    std::optional<std::int64_t> remaining;
    std::optional<std::int64_t> last_refill_at;
    if (!v.record) {
        v.outcome = Outcome::invalid_key;
    } else if (!v.record->enabled) {
        v.outcome = Outcome::disabled;
    } else if (v.record->expires_at && *v.record->expires_at <= now) {
        v.outcome = Outcome::expired;
    } else {
        v.outcome = Outcome::ok;
        TokenRecord& r = *v.record;
        remaining = r.remaining;
        last_refill_at = r.last_refill_at;
        if (remaining && r.refill_interval && r.refill_amount &&
            sub_sat(now, r.last_refill_at.value_or(r.created_at)) >= *r.refill_interval) {
            remaining = r.refill_amount;
            last_refill_at = now;
        }
        if (remaining && *remaining <= 0) v.outcome = Outcome::usage_exceeded;
    }
    if (v.outcome == Outcome::ok && !client.claimed_user.empty()) {
        auto named = names_user(v.record->user_id, client.claimed_user);
        if (!named) return std::move(named).error();
        if (!*named) v.outcome = Outcome::user_mismatch;
    }

    if (v.outcome == Outcome::ok) {
        auto cfg = read_config();
        if (!cfg) return std::move(cfg).error();
        TokenRecord& r = *v.record;
        if (cfg->rate_limit_enabled && r.rate_limit_enabled.value_or(true)) {
            const std::int64_t window = std::min(
                r.rate_limit_time_window.value_or(cfg->rate_limit_time_window), kMaxDurationMs);
            const std::int64_t max = r.rate_limit_max.value_or(cfg->rate_limit_max);
            std::int64_t start = now;
            std::int64_t count = 0;
            Params id;
            id.add(std::string_view(r.id));
            auto w = conn_.run(at(Sql::select_window), id);
            if (!w) return std::move(w).error();
            if (!w->empty()) {
                // Still inside the current fixed window. A "now" read before another
                // verification opened the window (it waited for the row lock) counts in that
                // window too: starting a new one would reset the count and admit too many.
                const std::int64_t s = w->int64(0, 0);
                if (sub_sat(now, s) < window) {
                    start = s;
                    count = w->int64(0, 1);
                }
            }
            if (count >= max) {
                v.outcome = Outcome::rate_limited;
                v.retry_after_ms = std::max<std::int64_t>(start + window - now, 1);
            } else {
                Params p;
                p.add(std::string_view(r.id)).add(start).add(count + 1);
                if (auto up = conn_.run(at(Sql::upsert_window), p); !up)
                    return std::move(up).error();
            }
        }
    }

    if (v.outcome == Outcome::ok) {
        TokenRecord& r = *v.record;
        if (remaining) *remaining -= 1;
        Params p;
        p.add(std::string_view(r.id)).add(now).add(remaining).add(last_refill_at);
        if (auto up = conn_.run(at(Sql::update_usage), p); !up) return std::move(up).error();
        r.request_count += 1;
        r.last_request = now;
        r.remaining = remaining;
        r.last_refill_at = last_refill_at;
    }

    Params p;
    p.add(now)
        .add(v.record ? std::optional<std::string>(v.record->id) : std::nullopt)
        .add(std::string_view(printable(token_start(token), kStartLength)))
        .add(outcome_code(v.outcome))
        .add(std::string_view(printable(client.ip, kMaxIpBytes)))
        .add(std::string_view(printable(client.user_agent, kMaxUserAgentBytes)));
    if (auto ins = conn_.run(at(Sql::insert_activity), p); !ins) return std::move(ins).error();
    return v;
}

Result<bool> PgStore::revoke(std::string_view id, std::optional<std::string_view> user_id) {
    if (!storable(id) || (user_id && !storable(*user_id))) return false;
    return transaction<bool>([&]() -> Result<bool> {
        Params p;
        p.add(id).add(user_id);
        auto del = conn_.run(at(Sql::delete_token), p);
        if (!del) return std::move(del).error();
        const bool deleted = del->affected() > 0;
        if (deleted) {
            Params w;
            w.add(id);
            if (auto dw = conn_.run(at(Sql::delete_window), w); !dw) return std::move(dw).error();
        }
        return deleted;
    });
}

Result<std::vector<TokenRecord>> PgStore::list(std::string_view user_id) {
    std::vector<TokenRecord> out;
    if (auto st = each_token(user_id, [&](const TokenRecord& t) { out.push_back(t); }); !st)
        return std::move(st).error();
    return out;
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
    if (c.name) {
        if (auto st = check_name(*c.name); !st) return std::move(st).error();
    }
    if (c.set_expires_at && c.expires_at && *c.expires_at <= now)
        return invalid("expires_at must be in the future (milliseconds since the epoch)");
    if (!storable(id) || !storable(user_id)) return std::optional<TokenRecord>();
    return transaction<std::optional<TokenRecord>>(
        [&]() -> Result<std::optional<TokenRecord>> {
            if (c.set_expires_at) {
                auto cfg = read_config();
                if (!cfg) return std::move(cfg).error();
                if (cfg->max_token_lifetime > 0 &&
                    (!c.expires_at || *c.expires_at > now + cfg->max_token_lifetime))
                    return invalid("expires_at is beyond the maximum token lifetime");
            }
            Params p;
            p.add(id).add(user_id).add(c.name);
            p.add(c.enabled ? std::optional<std::int64_t>(*c.enabled ? 1 : 0) : std::nullopt);
            p.add(std::int64_t{c.set_expires_at ? 1 : 0}).add(c.expires_at).add(now);
            auto rows = conn_.run(at(Sql::update_token), p);
            if (!rows) return std::move(rows).error();
            if (rows->empty()) return std::optional<TokenRecord>();
            return std::optional<TokenRecord>(read_token(*rows, 0));
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
                                     .user_agent = rows->text(i, 6)});
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
        r.activity = *old;
        if (r.activity < batch) {
            auto excess =
                run(Sql::purge_excess_activity, cfg->activity_max_rows, batch - r.activity);
            if (!excess) return std::move(excess).error();
            r.activity += *excess;
        }
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
    auto excess = count(Sql::count_excess_activity, cfg->activity_max_rows, oldest_kept);
    if (!excess) return std::move(excess).error();
    return PurgeReport{.tokens = *tokens, .activity = *old + *excess};
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
