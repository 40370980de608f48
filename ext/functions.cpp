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
**   gvx_create(user_id, name [, expires_at_ms [, prefix [, metadata_json [, permissions_json]]]])
**       -> TEXT. Creates a token; returns the create response JSON, including "key" (the token).
**       name: 3..50 characters; prefix: ^[A-Za-z0-9_-]{1,32}$ (default 'gvx_'); limits and
**       patterns: core/limits.hpp.
**       expires_at_ms: INTEGER in the future, NULL = never; metadata_json: a JSON object;
**       permissions_json: better-auth's permissions ('{"repo":["read"]}',
**       '{"repo:alice/project":["read","write"]}'; core/permissions.hpp), NULL = read and
**       write on every repository. Unknown resources or actions are errors naming them.
**       WARNING: the key is returned once and never stored; gvx keeps only its SHA-256.
**   gvx_verify(token [, ip [, user_agent]])    -> TEXT user_id, or NULL when not valid now
**       Records the verification: usage counters on success, an activity row always.
**   gvx_check(token [, ip [, user_agent [, permissions_json]]]) -> TEXT JSON {"valid","error","key"}
**       With permissions_json, also better-auth's verifyApiKey({permissions}) check ("repo"
**       covers every "repo:<path>"): INSUFFICIENT_PERMISSIONS when the token lacks one.
**   gvx_rotate(id [, grace_ms])                -> TEXT create response JSON of the new token,
**       or NULL when there is no such token. Same name, prefix, owner, permissions, metadata;
**       the old token stops after grace_ms (default 0: deleted at once; at most 7 days).
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
** The view gvx_tokens (TEMP: made in each connection that loads gvx) lists tokens without
** their hashes; the table gvx_activity is the log.
*/
#include <cassert>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "cleanup.hpp"
#include "connection.hpp"
#include "core/limits.hpp"
#include "core/permissions.hpp"
#include "core/token.hpp"
#include "json/json.hpp"
#include "sqlite_api.hpp"

namespace gvx {
namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// An error whose message goes to the SQL caller as it is.
Error sql_error(std::string message) { return invalid(std::move(message)); }
Error out_of_memory() { return Error{Errc::db, "", SQLITE_NOMEM}; }

void report(sqlite3_context* ctx, const Error& e) {
    if (e.sqlite_rc == SQLITE_NOMEM && e.message.empty()) return sqlite3_result_error_nomem(ctx);
    sqlite3_result_error(ctx, e.message.c_str(), -1);
    const int rc = e.sqlite_rc ? e.sqlite_rc : SQLITE_ERROR;
    sqlite3_result_error_code(ctx, e.code == Errc::busy ? SQLITE_BUSY : rc);
}

// Every C callback body runs here: it sets the result itself, or returns the error to report;
// nothing may unwind through SQLite's frames.
template <class F>
void guarded(sqlite3_context* ctx, F&& body) noexcept {
    try {
        if (Status st = body(); !st) report(ctx, st.error());
    } catch (const std::bad_alloc&) {
        sqlite3_result_error_nomem(ctx);
    } catch (...) {
        sqlite3_result_error(ctx, "gvx: internal error", -1);
    }
}

// A store error for the SQL caller: "<function>: <message>".
template <class T>
Result<T> in(const char* fn, Result<T> r) {
    if (r) return r;
    Error e = std::move(r).error();
    e.message = std::string(fn) + ": " + e.message;
    return e;
}

void result_text(sqlite3_context* ctx, std::string_view s) {
    sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

Store& store_of(sqlite3_context* ctx) {
    return static_cast<Connection*>(sqlite3_user_data(ctx))->store;
}

// "fn(param): problem". Argument errors name the function and the parameter, never the value.
Error arg_error(const char* fn, const char* param, std::string_view problem) {
    return sql_error(std::string(fn) + "(" + param + "): " + std::string(problem));
}

// A TEXT argument: nullopt for SQL NULL; an error for any other type, or text that is too
// long, holds a NUL byte or is not UTF-8.
Result<std::optional<std::string_view>> text_arg(sqlite3_value* v, const char* fn,
                                                 const char* param,
                                                 std::size_t max_bytes = kMaxSqlArgBytes) {
    const int type = sqlite3_value_type(v);
    if (type == SQLITE_NULL) return std::optional<std::string_view>();
    if (type != SQLITE_TEXT) return arg_error(fn, param, "must be TEXT");
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));  // text first,
    const auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));       // then bytes
    if (!p) return out_of_memory();
    if (n > max_bytes)
        return arg_error(fn, param, "too long (at most " + std::to_string(max_bytes) + " bytes)");
    if (std::memchr(p, '\0', n) != nullptr) return arg_error(fn, param, "must not contain NUL bytes");
    if (!is_valid_utf8({p, n})) return arg_error(fn, param, "must be valid UTF-8");
    return std::optional<std::string_view>(std::string_view(p, n));
}

// The same, where NULL is an error too.
Result<std::string_view> required_text_arg(sqlite3_value* v, const char* fn, const char* param) {
    GVX_TRY_VALUE(const std::optional<std::string_view> s, text_arg(v, fn, param));
    if (!s) return arg_error(fn, param, "must not be NULL");
    return *s;
}

// An INTEGER argument: nullopt for SQL NULL.
Result<std::optional<std::int64_t>> int_arg(sqlite3_value* v, const char* fn, const char* param) {
    const int type = sqlite3_value_type(v);
    if (type == SQLITE_NULL) return std::optional<std::int64_t>();
    if (type != SQLITE_INTEGER) return arg_error(fn, param, "must be an INTEGER");
    return std::optional<std::int64_t>(sqlite3_value_int64(v));
}

// gvx_create(user_id, name [, expires_at_ms [, prefix [, metadata_json [, permissions_json]]]])
void fn_create(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        constexpr const char* fn = "gvx_create";
        if (argc < 2 || argc > 6)
            return sql_error("gvx_create(user_id, name [, expires_at_ms [, prefix [, "
                             "metadata_json [, permissions_json]]]]): wrong number of arguments");
        GVX_TRY_VALUE(const std::string_view user, required_text_arg(argv[0], fn, "user_id"));
        GVX_TRY_VALUE(const std::string_view name, required_text_arg(argv[1], fn, "name"));
        NewToken t{.user_id = user, .name = name};
        if (argc > 2) {
            GVX_TRY_VALUE(t.expires_at, int_arg(argv[2], fn, "expires_at_ms"));
        }
        if (argc > 3) {
            GVX_TRY_VALUE(const std::optional<std::string_view> prefix,
                          text_arg(argv[3], fn, "prefix"));
            if (prefix) t.prefix = *prefix;
        }
        if (argc > 4) {
            GVX_TRY_VALUE(const std::optional<std::string_view> meta,
                          text_arg(argv[4], fn, "metadata_json", kMaxMetadataBytes));
            if (meta) {
                auto object = metadata_object(*meta);
                if (!object) return arg_error(fn, "metadata_json", object.error().message);
                t.metadata = std::move(*object);
            }
        }
        if (argc > 5) {
            GVX_TRY_VALUE(const std::optional<std::string_view> perms,
                          text_arg(argv[5], fn, "permissions_json", kMaxPermissionsBytes));
            if (perms) t.permissions = std::string(*perms);
        }
        GVX_TRY_VALUE(const CreatedToken created, in(fn, store_of(ctx).create(t, now_ms())));
        std::string json = token_json(created.record, created.key.view());
        result_text(ctx, json);
        sodium_memzero(json.data(), json.size());
        return Ok{};
    });
}

// The shared front half of gvx_verify and gvx_check: nullopt for a NULL token (the result is
// then NULL).
Result<std::optional<Verification>> run_verify(sqlite3_context* ctx, int argc,
                                               sqlite3_value** argv, const char* fn) {
    GVX_TRY_VALUE(const std::optional<std::string_view> token,
                  text_arg(argv[0], fn, "token", kMaxTokenLength));
    if (!token) return std::optional<Verification>();
    ClientInfo client;
    if (argc > 1) {
        GVX_TRY_VALUE(const std::optional<std::string_view> ip, text_arg(argv[1], fn, "ip"));
        client.ip = ip.value_or("");
    }
    if (argc > 2) {
        GVX_TRY_VALUE(const std::optional<std::string_view> ua,
                      text_arg(argv[2], fn, "user_agent"));
        client.user_agent = ua.value_or("");
    }
    std::optional<Permissions> required;  // gvx_check's fourth argument
    if (argc > 3) {
        GVX_TRY_VALUE(const std::optional<std::string_view> perms,
                      text_arg(argv[3], fn, "permissions_json", kMaxPermissionsBytes));
        if (perms) {
            auto request = parse_permission_request(*perms);
            if (!request) return arg_error(fn, "permissions_json", request.error().message);
            required = std::move(*request);
            client.required = &*required;
        }
    }
    GVX_TRY_VALUE(Verification v, in(fn, store_of(ctx).verify(*token, client, now_ms())));
    return std::optional<Verification>(std::move(v));
}

// gvx_verify(token [, ip [, user_agent]]) -> user_id or NULL
void fn_verify(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        if (argc < 1 || argc > 3)
            return sql_error("gvx_verify(token [, ip [, user_agent]]): wrong number of arguments");
        GVX_TRY_VALUE(const std::optional<Verification> v, run_verify(ctx, argc, argv, "gvx_verify"));
        if (v && v->outcome == Outcome::ok) result_text(ctx, v->record->user_id);
        else sqlite3_result_null(ctx);
        return Ok{};
    });
}

// gvx_check(token [, ip [, user_agent]]) -> {"valid":bool,"error":{code,message}|null,"key":…}
void fn_check(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        if (argc < 1 || argc > 4)
            return sql_error("gvx_check(token [, ip [, user_agent [, permissions_json]]]): wrong "
                             "number of arguments");
        GVX_TRY_VALUE(const std::optional<Verification> v, run_verify(ctx, argc, argv, "gvx_check"));
        if (!v) {
            sqlite3_result_null(ctx);
            return Ok{};
        }
        result_text(ctx, check_json(v->outcome, v->retry_after_ms,
                                    v->record ? &*v->record : nullptr));
        return Ok{};
    });
}

// gvx_revoke(id [, user_id]) -> 1 or 0
void fn_revoke(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        constexpr const char* fn = "gvx_revoke";
        if (argc < 1 || argc > 2)
            return sql_error("gvx_revoke(id [, user_id]): wrong number of arguments");
        GVX_TRY_VALUE(const std::optional<std::string_view> id, text_arg(argv[0], fn, "id"));
        if (!id) return Ok{};  // NULL
        std::optional<std::string_view> user;
        if (argc > 1) {
            GVX_TRY_VALUE(user, text_arg(argv[1], fn, "user_id"));
        }
        GVX_TRY_VALUE(const bool deleted, in(fn, store_of(ctx).revoke(*id, user)));
        sqlite3_result_int(ctx, deleted ? 1 : 0);
        return Ok{};
    });
}

// gvx_rotate(id [, grace_ms]) -> the new token's create response, or NULL
void fn_rotate(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        constexpr const char* fn = "gvx_rotate";
        if (argc < 1 || argc > 2)
            return sql_error("gvx_rotate(id [, grace_ms]): wrong number of arguments");
        GVX_TRY_VALUE(const std::optional<std::string_view> id, text_arg(argv[0], fn, "id"));
        if (!id) return Ok{};  // NULL
        Rotation how;
        if (argc > 1) {
            GVX_TRY_VALUE(const std::optional<std::int64_t> grace, int_arg(argv[1], fn, "grace_ms"));
            how.grace_ms = grace.value_or(0);
        }
        GVX_TRY_VALUE(const std::optional<CreatedToken> created,
                      in(fn, store_of(ctx).rotate(*id, std::nullopt, how, now_ms())));
        if (!created) return Ok{};  // no such token: NULL
        std::string json = token_json(created->record, created->key.view());
        result_text(ctx, json);
        sodium_memzero(json.data(), json.size());
        return Ok{};
    });
}

// The optional first argument now_ms; the clock when absent or NULL.
Result<std::int64_t> now_arg(int argc, sqlite3_value** argv, const char* fn) {
    if (argc < 1) return now_ms();
    GVX_TRY_VALUE(const std::optional<std::int64_t> now, int_arg(argv[0], fn, "now_ms"));
    return now ? *now : now_ms();
}

// gvx_purge_expired([now_ms]) -> number of tokens deleted
void fn_purge_expired(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        constexpr const char* fn = "gvx_purge_expired";
        if (argc > 1) return sql_error("gvx_purge_expired([now_ms]): wrong number of arguments");
        GVX_TRY_VALUE(const std::int64_t now, now_arg(argc, argv, fn));
        GVX_TRY_VALUE(const PurgeReport r, in(fn, purge_paced(store_of(ctx), now)));
        sqlite3_result_int64(ctx, r.tokens);
        return Ok{};
    });
}

// gvx_cleanup([now_ms [, dry_run [, pause_ratio]]])
//   -> {"tokens":N,"activity":N,"audit":N,"dryRun":bool}
void fn_cleanup(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        constexpr const char* fn = "gvx_cleanup";
        if (argc > 3)
            return sql_error("gvx_cleanup([now_ms [, dry_run [, pause_ratio]]]): wrong number "
                             "of arguments");
        GVX_TRY_VALUE(const std::int64_t now, now_arg(argc, argv, fn));
        bool dry_run = false;
        if (argc > 1) {
            GVX_TRY_VALUE(const std::optional<std::int64_t> d, int_arg(argv[1], fn, "dry_run"));
            dry_run = d && *d != 0;
        }
        std::optional<std::int64_t> pause_ratio;
        if (argc > 2) {
            GVX_TRY_VALUE(pause_ratio, int_arg(argv[2], fn, "pause_ratio"));
            if (pause_ratio && *pause_ratio < 0)
                return arg_error(fn, "pause_ratio", "must not be negative");
        }
        GVX_TRY_VALUE(const PurgeReport r,
                      in(fn, dry_run ? store_of(ctx).purge_preview(now)
                                     : purge_paced(store_of(ctx), now, pause_ratio)));
        result_text(ctx, "{\"tokens\":" + std::to_string(r.tokens) +
                             ",\"activity\":" + std::to_string(r.activity) +
                             ",\"audit\":" + std::to_string(r.audit) +
                             ",\"dryRun\":" + (dry_run ? "true" : "false") + "}");
        return Ok{};
    });
}

// gvx_list(user_id) -> JSON array of the user's tokens, oldest first, without hashes
void fn_list(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        assert(argc == 1);
        (void)argc;
        GVX_TRY_VALUE(const std::optional<std::string_view> user,
                      text_arg(argv[0], "gvx_list", "user_id"));
        if (!user) return Ok{};  // NULL
        TokenArrayJson json;
        GVX_TRY(in("gvx_list", store_of(ctx).each_token(
                                   *user, [&](const TokenRecord& t) { json.add(t); })));
        result_text(ctx, json.take());
        return Ok{};
    });
}

// gvx_check_format(token) -> 1 when it has gvx's shape and a correct checksum, else 0
void fn_check_format(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        assert(argc == 1);
        (void)argc;
        if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return Ok{};
        const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
        const auto n = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
        if (!p) return out_of_memory();
        sqlite3_result_int(ctx, has_gvx_format({p, n}) ? 1 : 0);
        return Ok{};
    });
}

// gvx_key_hash(token) -> base64url(SHA-256(token)), as stored in apikey.key
void fn_key_hash(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    guarded(ctx, [&]() -> Status {
        assert(argc == 1);
        (void)argc;
        GVX_TRY_VALUE(const std::optional<std::string_view> token,
                      text_arg(argv[0], "gvx_key_hash", "token", kMaxTokenLength));
        if (token) result_text(ctx, hash_key(*token));
        return Ok{};
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
    {"gvx_rotate", -1, kTouchesTokens, fn_rotate},
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
        // Create or migrate the schema now, so gvx_config and the TEMP view gvx_tokens exist right
        // after `.load`. Best effort: a read-only or busy database is prepared on first use.
        (void)conn->store.prepare();
    }
    release_registration(conn);
    return rc;
}

}  // namespace gvx
