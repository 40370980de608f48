/*
** gvx SQL functions. Load with `.load ./gvx` (sqlite3 shell) or sqlite3_load_extension().
**
** Functions that read or write tokens are SQLITE_DIRECTONLY: they have side effects (usage
** counters, activity rows, new tokens), so a hostile schema must not be able to call them from
** a view or trigger. None is DETERMINISTIC: tokens are random and verification depends on time.
** The pure helpers (gvx_check_format, gvx_key_hash, gvx_version) are INNOCUOUS.
**
** The schema (sql/) is created or migrated when gvx is loaded, or else on the first call that
** needs it (a read-only or locked database at load time). NULL for a
** required token/id gives NULL; every other bad argument is an error naming the function and
** the argument. No error ever contains a token.
**
**   gvx_create(user_id, name [, expires_at_ms [, prefix [, metadata_json]]])  -> TEXT
**       Creates a token; returns the create response JSON, including "key" (the token).
**       name: 3..50 characters; prefix: ^[A-Za-z0-9_-]{1,32}$ (default 'gvx_');
**       expires_at_ms: INTEGER in the future, NULL = never; metadata_json: a JSON object.
**       WARNING: the key is returned once and never stored; gvx keeps only its SHA-256.
**   gvx_verify(token [, ip [, user_agent]])    -> TEXT user_id, or NULL when not valid now
**       Records the verification: usage counters on success, an activity row always.
**   gvx_check(token [, ip [, user_agent]])     -> TEXT JSON {"valid","error","key"}
**   gvx_revoke(id [, user_id])                 -> INTEGER 1 if a token was deleted, else 0
**   gvx_purge_expired([now_ms])                -> INTEGER number of expired tokens deleted
**       Also prunes activity past its retention; in short, paced batches (ext/cleanup.hpp).
**   gvx_cleanup([now_ms [, dry_run [, pause_ratio]]]) -> TEXT JSON {"tokens","activity","dryRun"}
**       pause_ratio: pause this many times as long as each batch took (default from
**       gvx_config cleanup_pause_ratio, 4); 0 = as fast as possible.
**   gvx_list(user_id)                          -> TEXT JSON array of the user's tokens
**   gvx_check_format(token)                    -> INTEGER 1 if prefix + 64 base62 + checksum
**   gvx_key_hash(token)                        -> TEXT what apikey.key stores for the token
**   gvx_version()                              -> TEXT
** The view gvx_tokens lists tokens without their hashes; the table gvx_activity is the log.
*/
#include <rapidjson/document.h>

#include <cassert>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "cleanup.hpp"
#include "connection.hpp"
#include "core/json.hpp"
#include "core/token.hpp"
#include "sqlite_api.hpp"

namespace gvx {
namespace {

constexpr std::size_t kMaxArgBytes = 4096;

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Every C callback body runs here: nothing may unwind through SQLite's frames.
template <class F>
void guarded(sqlite3_context* ctx, F&& body) noexcept {
    try {
        body();
    } catch (const std::bad_alloc&) {
        sqlite3_result_error_nomem(ctx);
    } catch (...) {
        sqlite3_result_error(ctx, "gvx: internal error", -1);
    }
}

void fail(sqlite3_context* ctx, const std::string& message, int rc = SQLITE_ERROR) {
    sqlite3_result_error(ctx, message.c_str(), -1);
    sqlite3_result_error_code(ctx, rc);
}

void report(sqlite3_context* ctx, const char* fn, const Error& e) {
    const int rc = e.sqlite_rc ? e.sqlite_rc : SQLITE_ERROR;
    fail(ctx, std::string(fn) + ": " + e.message, e.code == Errc::busy ? SQLITE_BUSY : rc);
}

void result_text(sqlite3_context* ctx, std::string_view s) {
    sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

Store& store_of(sqlite3_context* ctx) {
    return static_cast<Connection*>(sqlite3_user_data(ctx))->store;
}

// Reads argument i as text. Returns nullopt after reporting an error, or for SQL NULL when
// null_ok (then *was_null is set). The message names fn and the parameter, never the value.
struct TextArg {
    bool ok = false;
    bool is_null = false;
    std::string_view value;
};
TextArg text_arg(sqlite3_context* ctx, sqlite3_value* v, const char* fn, const char* param,
                 std::size_t max_bytes = kMaxArgBytes) {
    const auto where = [&] { return std::string(fn) + "(" + param + "): "; };
    TextArg a;
    const int type = sqlite3_value_type(v);
    if (type == SQLITE_NULL) {
        a.ok = a.is_null = true;
        return a;
    }
    if (type != SQLITE_TEXT) {
        fail(ctx, where() + "must be TEXT");
        return a;
    }
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));  // text first,
    const auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));       // then bytes
    if (!p) {
        sqlite3_result_error_nomem(ctx);
        return a;
    }
    if (n > max_bytes) {
        fail(ctx, where() + "too long (at most " + std::to_string(max_bytes) + " bytes)");
        return a;
    }
    if (std::memchr(p, '\0', n) != nullptr) {
        fail(ctx, where() + "must not contain NUL bytes");
        return a;
    }
    if (!is_valid_utf8({p, n})) {
        fail(ctx, where() + "must be valid UTF-8");
        return a;
    }
    a.ok = true;
    a.value = {p, n};
    return a;
}

struct IntArg {
    bool ok = false;
    bool is_null = false;
    std::int64_t value = 0;
};
IntArg int_arg(sqlite3_context* ctx, sqlite3_value* v, const char* fn, const char* param) {
    IntArg a;
    const int type = sqlite3_value_type(v);
    if (type == SQLITE_NULL) {
        a.ok = a.is_null = true;
    } else if (type == SQLITE_INTEGER) {
        a.ok = true;
        a.value = sqlite3_value_int64(v);
    } else {
        fail(ctx, std::string(fn) + "(" + param + "): must be an INTEGER");
    }
    return a;
}

// gvx_create(user_id, name [, expires_at_ms [, prefix [, metadata_json]]])
void fn_create(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        constexpr const char* fn = "gvx_create";
        if (argc < 2 || argc > 5)
            return fail(ctx, "gvx_create(user_id, name [, expires_at_ms [, prefix [, "
                             "metadata_json]]]): wrong number of arguments");
        const TextArg user = text_arg(ctx, argv[0], fn, "user_id");
        if (!user.ok) return;
        if (user.is_null) return fail(ctx, "gvx_create(user_id): must not be NULL");
        const TextArg name = text_arg(ctx, argv[1], fn, "name");
        if (!name.ok) return;
        if (name.is_null) return fail(ctx, "gvx_create(name): must not be NULL");
        NewToken t{.user_id = user.value, .name = name.value};
        if (argc > 2) {
            const IntArg exp = int_arg(ctx, argv[2], fn, "expires_at_ms");
            if (!exp.ok) return;
            if (!exp.is_null) t.expires_at = exp.value;
        }
        if (argc > 3) {
            const TextArg prefix = text_arg(ctx, argv[3], fn, "prefix");
            if (!prefix.ok) return;
            if (!prefix.is_null) t.prefix = prefix.value;
        }
        if (argc > 4) {
            const TextArg meta = text_arg(ctx, argv[4], fn, "metadata_json", 16 * 1024);
            if (!meta.ok) return;
            if (!meta.is_null) {
                rapidjson::Document doc;
                doc.Parse(meta.value.data(), meta.value.size());
                if (doc.HasParseError() || !doc.IsObject())
                    return fail(ctx, "gvx_create(metadata_json): must be a JSON object");
                t.metadata = decode_metadata(meta.value);
                if (!t.metadata)  // 5.5e308 (parsed as infinity), or nested too deeply
                    return fail(ctx, "gvx_create(metadata_json): numbers must be within the "
                                     "range of a double, nesting at most 64 levels");
            }
        }
        auto created = store_of(ctx).create(t, now_ms());
        if (!created) return report(ctx, fn, created.error());
        std::string json = token_json(created->record, created->key.view());
        result_text(ctx, json);
        sodium_memzero(json.data(), json.size());
    });
}

// The shared front half of gvx_verify and gvx_check.
Result<Verification> run_verify(sqlite3_context* ctx, int argc, sqlite3_value** argv,
                                const char* fn, bool* reported) {
    *reported = true;
    const TextArg token = text_arg(ctx, argv[0], fn, "token", kMaxTokenLength);
    if (!token.ok) return Error{Errc::invalid_argument, ""};
    if (token.is_null) {
        sqlite3_result_null(ctx);
        return Error{Errc::invalid_argument, ""};
    }
    ClientInfo client;
    if (argc > 1) {
        const TextArg ip = text_arg(ctx, argv[1], fn, "ip");
        if (!ip.ok) return Error{Errc::invalid_argument, ""};
        client.ip = ip.value;
    }
    if (argc > 2) {
        const TextArg ua = text_arg(ctx, argv[2], fn, "user_agent");
        if (!ua.ok) return Error{Errc::invalid_argument, ""};
        client.user_agent = ua.value;
    }
    *reported = false;
    return store_of(ctx).verify(token.value, client, now_ms());
}

// gvx_verify(token [, ip [, user_agent]]) -> user_id or NULL
void fn_verify(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        if (argc < 1 || argc > 3)
            return fail(ctx, "gvx_verify(token [, ip [, user_agent]]): wrong number of arguments");
        bool reported = false;
        auto v = run_verify(ctx, argc, argv, "gvx_verify", &reported);
        if (reported) return;
        if (!v) return report(ctx, "gvx_verify", v.error());
        if (v->outcome == Outcome::ok) result_text(ctx, v->record->user_id);
        else sqlite3_result_null(ctx);
    });
}

// gvx_check(token [, ip [, user_agent]]) -> {"valid":bool,"error":{code,message}|null,"key":…}
void fn_check(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        if (argc < 1 || argc > 3)
            return fail(ctx, "gvx_check(token [, ip [, user_agent]]): wrong number of arguments");
        bool reported = false;
        auto v = run_verify(ctx, argc, argv, "gvx_check", &reported);
        if (reported) return;
        if (!v) return report(ctx, "gvx_check", v.error());
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        w.Key("valid");
        w.Bool(v->outcome == Outcome::ok);
        w.Key("error");
        if (v->outcome == Outcome::ok) {
            w.Null();
        } else {
            const auto code = outcome_code(v->outcome);
            const auto message = outcome_message(v->outcome);
            w.StartObject();
            w.Key("code");
            w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
            w.Key("message");
            w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
            if (v->outcome == Outcome::rate_limited) {
                w.Key("retryAfter");  // seconds, as the HTTP header
                w.Int64((v->retry_after_ms + 999) / 1000);
            }
            w.EndObject();
        }
        w.Key("key");
        if (v->outcome == Outcome::ok) write_token(w, *v->record);
        else w.Null();
        w.EndObject();
        result_text(ctx, {buf.GetString(), buf.GetSize()});
    });
}

// gvx_revoke(id [, user_id]) -> 1 or 0
void fn_revoke(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        constexpr const char* fn = "gvx_revoke";
        if (argc < 1 || argc > 2)
            return fail(ctx, "gvx_revoke(id [, user_id]): wrong number of arguments");
        const TextArg id = text_arg(ctx, argv[0], fn, "id");
        if (!id.ok || id.is_null) return;
        std::optional<std::string_view> user;
        if (argc > 1) {
            const TextArg u = text_arg(ctx, argv[1], fn, "user_id");
            if (!u.ok) return;
            if (!u.is_null) user = u.value;
        }
        auto deleted = store_of(ctx).revoke(id.value, user);
        if (!deleted) return report(ctx, fn, deleted.error());
        sqlite3_result_int(ctx, *deleted ? 1 : 0);
    });
}

bool now_arg(sqlite3_context* ctx, int argc, sqlite3_value** argv, const char* fn,
             std::int64_t* now) {
    *now = now_ms();
    if (argc < 1) return true;
    const IntArg a = int_arg(ctx, argv[0], fn, "now_ms");
    if (!a.ok) return false;
    if (!a.is_null) *now = a.value;
    return true;
}

// gvx_purge_expired([now_ms]) -> number of tokens deleted
void fn_purge_expired(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        constexpr const char* fn = "gvx_purge_expired";
        if (argc > 1) return fail(ctx, "gvx_purge_expired([now_ms]): wrong number of arguments");
        std::int64_t now = 0;
        if (!now_arg(ctx, argc, argv, fn, &now)) return;
        auto r = purge_paced(store_of(ctx), now);
        if (!r) return report(ctx, fn, r.error());
        sqlite3_result_int64(ctx, r->tokens);
    });
}

// gvx_cleanup([now_ms [, dry_run [, pause_ratio]]]) -> {"tokens":N,"activity":N,"dryRun":bool}
void fn_cleanup(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        constexpr const char* fn = "gvx_cleanup";
        if (argc > 3)
            return fail(ctx, "gvx_cleanup([now_ms [, dry_run [, pause_ratio]]]): wrong number "
                             "of arguments");
        std::int64_t now = 0;
        if (!now_arg(ctx, argc, argv, fn, &now)) return;
        bool dry_run = false;
        if (argc > 1) {
            const IntArg d = int_arg(ctx, argv[1], fn, "dry_run");
            if (!d.ok) return;
            dry_run = !d.is_null && d.value != 0;
        }
        std::optional<std::int64_t> pause_ratio;
        if (argc > 2) {
            const IntArg p = int_arg(ctx, argv[2], fn, "pause_ratio");
            if (!p.ok) return;
            if (!p.is_null && p.value < 0)
                return fail(ctx, "gvx_cleanup(pause_ratio): must not be negative");
            if (!p.is_null) pause_ratio = p.value;
        }
        auto r = dry_run ? store_of(ctx).purge_preview(now)
                         : purge_paced(store_of(ctx), now, pause_ratio);
        if (!r) return report(ctx, fn, r.error());
        result_text(ctx, "{\"tokens\":" + std::to_string(r->tokens) +
                             ",\"activity\":" + std::to_string(r->activity) +
                             ",\"dryRun\":" + (dry_run ? "true" : "false") + "}");
    });
}

// gvx_list(user_id) -> JSON array of the user's tokens, oldest first, without hashes
void fn_list(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        assert(argc == 1);
        (void)argc;
        const TextArg user = text_arg(ctx, argv[0], "gvx_list", "user_id");
        if (!user.ok || user.is_null) return;
        TokenArrayJson json;
        auto st = store_of(ctx).each_token(user.value, [&](const TokenRecord& t) { json.add(t); });
        if (!st) return report(ctx, "gvx_list", st.error());
        result_text(ctx, json.take());
    });
}

// gvx_check_format(token) -> 1 when it has gvx's shape and a correct checksum, else 0
void fn_check_format(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        assert(argc == 1);
        (void)argc;
        if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return;
        const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
        const auto n = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
        if (!p) return sqlite3_result_error_nomem(ctx);
        sqlite3_result_int(ctx, has_gvx_format({p, n}) ? 1 : 0);
    });
}

// gvx_key_hash(token) -> base64url(SHA-256(token)), as stored in apikey.key
void fn_key_hash(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&] {
        assert(argc == 1);
        (void)argc;
        const TextArg token = text_arg(ctx, argv[0], "gvx_key_hash", "token", kMaxTokenLength);
        if (!token.ok || token.is_null) return;
        result_text(ctx, hash_key(token.value));
    });
}

void fn_version(sqlite3_context* ctx, int, sqlite3_value**) {
    sqlite3_result_text(ctx, GVX_VERSION, -1, SQLITE_STATIC);
}

struct FnSpec {
    const char* name;
    int nargs;  // -1: variadic, checked in the function
    int flags;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
};
// Rationale for DIRECTONLY: these read or write the token tables (see the header).
constexpr int kTouchesTokens = SQLITE_UTF8 | SQLITE_DIRECTONLY;
constexpr int kPure = SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC;
constexpr FnSpec kFunctions[] = {
    {"gvx_create", -1, kTouchesTokens, fn_create},
    {"gvx_verify", -1, kTouchesTokens, fn_verify},
    {"gvx_check", -1, kTouchesTokens, fn_check},
    {"gvx_revoke", -1, kTouchesTokens, fn_revoke},
    {"gvx_purge_expired", -1, kTouchesTokens, fn_purge_expired},
    {"gvx_cleanup", -1, kTouchesTokens, fn_cleanup},
    {"gvx_list", 1, kTouchesTokens, fn_list},
    {"gvx_check_format", 1, kPure, fn_check_format},
    {"gvx_key_hash", 1, kPure, fn_key_hash},
    {"gvx_version", 0, kPure, fn_version},
};

void release_registration(void* p) {
    auto* conn = static_cast<Connection*>(p);
    if (--conn->registrations == 0) delete conn;
}

// The shell closes with sqlite3_close(), which refuses while statements are unfinalized, and
// function destructors run only after that check. The close trace event comes before it.
int on_trace(unsigned event, void* p, void*, void*) {
    if (event == SQLITE_TRACE_CLOSE) static_cast<Connection*>(p)->store.release_statements();
    return 0;
}

}  // namespace

int register_functions(sqlite3* db, char** error_message) {
    auto* conn = new (std::nothrow) Connection(db);
    if (!conn) return SQLITE_NOMEM;
    conn->registrations = 1;  // held by this function until the loop is done
    int rc = SQLITE_OK;
    for (const FnSpec& f : kFunctions) {
        ++conn->registrations;  // SQLite calls release_registration even if this fails
        rc = sqlite3_create_function_v2(db, f.name, f.nargs, f.flags, conn, f.fn, nullptr,
                                        nullptr, release_registration);
        if (rc != SQLITE_OK) {
            if (error_message) *error_message = sqlite3_mprintf("gvx: cannot register %s()", f.name);
            break;
        }
    }
    if (rc == SQLITE_OK) {
        sqlite3_trace_v2(db, SQLITE_TRACE_CLOSE, on_trace, conn);
        // Create or migrate the schema now, so gvx_config and the gvx_tokens view exist right
        // after `.load`. Best effort: a read-only or busy database is prepared on first use.
        (void)conn->store.prepare();
    }
    release_registration(conn);
    return rc;
}

}  // namespace gvx
