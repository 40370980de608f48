// core/policy and core/validate: the verification decision, lifetime policy, outcome codes
// and the validation step, as pure functions. No SQLite here: decide() gets its facts from
// plain data.
#include <gtest/gtest.h>

#include "core/limits.hpp"
#include "core/policy.hpp"
#include "core/validate.hpp"

namespace gvx {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

// The facts decide() asks for, from plain data; counts what it asked.
struct Facts final : VerifyFacts {
    bool owner = true;
    Config config_ = {};
    std::optional<RateWindow> stored;
    int owner_asks = 0, config_asks = 0, window_asks = 0;
    Result<bool> names_owner(const TokenRecord&) override {
        ++owner_asks;
        return owner;
    }
    Result<Config> config() override {
        ++config_asks;
        return config_;
    }
    Result<std::optional<RateWindow>> window(const TokenRecord&) override {
        ++window_asks;
        return stored;
    }
};

TokenRecord token() {
    TokenRecord t;
    t.id = "id1";
    t.user_id = "alice";
    t.created_at = kNow - 1000;
    return t;
}

Decision decided(const TokenRecord* t, Facts& f, bool claimed = false, std::int64_t now = kNow,
                  const Permissions* required = nullptr) {
    auto d = decide(t, claimed, required, now, f);
    EXPECT_TRUE(d);
    return d ? *d : Decision{};
}

TEST(Policy, UnknownTokenAsksNothing) {
    Facts f;
    EXPECT_EQ(decided(nullptr, f, true).outcome, Outcome::invalid_key);
    EXPECT_EQ(f.owner_asks + f.config_asks + f.window_asks, 0);
}

TEST(Policy, OrderDisabledBeforeExpiredBeforeUsage) {
    Facts f;
    TokenRecord t = token();
    t.enabled = false;
    t.expires_at = kNow - 1;
    t.remaining = 0;
    EXPECT_EQ(decided(&t, f).outcome, Outcome::disabled);
    t.enabled = true;
    EXPECT_EQ(decided(&t, f).outcome, Outcome::expired);
    t.expires_at = kNow;  // expiring exactly now counts as expired
    EXPECT_EQ(decided(&t, f).outcome, Outcome::expired);
    t.expires_at = kNow + 1;
    EXPECT_EQ(decided(&t, f).outcome, Outcome::usage_exceeded);
    EXPECT_EQ(f.owner_asks + f.config_asks + f.window_asks, 0);
}

TEST(Policy, UsageCountsDownAndRefills) {
    Facts f;
    TokenRecord t = token();
    t.remaining = 2;
    Decision d = decided(&t, f);
    EXPECT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.remaining, 1);
    EXPECT_EQ(d.last_refill_at, std::nullopt);

    t.remaining = 0;
    t.refill_interval = 500;
    t.refill_amount = 3;
    t.last_refill_at = kNow - 500;  // better-auth refills only after more than an interval
    EXPECT_EQ(decided(&t, f).outcome, Outcome::usage_exceeded);
    t.last_refill_at = kNow - 501;
    d = decided(&t, f);
    EXPECT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.remaining, 2);  // refilled to 3, this use counted
    EXPECT_EQ(d.last_refill_at, kNow);
    t.last_refill_at.reset();  // never refilled: counted from creation
    EXPECT_EQ(decided(&t, f, false, t.created_at + 501).remaining, 2);
}

// As better-auth's verifyApiKey: only 0 is used up; -1 never runs out and counts on down.
TEST(Policy, NegativeRemainingNeverRunsOut) {
    Facts f;
    TokenRecord t = token();
    t.remaining = -1;
    Decision d = decided(&t, f);
    EXPECT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.remaining, -2);
    t.remaining = 0;
    t.refill_amount = 5;  // a refill amount without an interval never refills
    EXPECT_EQ(decided(&t, f).outcome, Outcome::usage_exceeded);
}

// The owner's standing (better-auth's user table) comes after the token's own state and
// before any usage is counted.
TEST(Policy, OwnerStandingAfterExpiryBeforeUsage) {
    struct Standing final : VerifyFacts {
        Outcome standing = Outcome::user_banned;
        Result<bool> names_owner(const TokenRecord&) override { return true; }
        Result<Config> config() override { return Config{}; }
        Result<std::optional<RateWindow>> window(const TokenRecord&) override {
            return std::optional<RateWindow>();
        }
        Result<Outcome> owner_standing(const TokenRecord&) override { return standing; }
    } f;
    TokenRecord t = token();
    t.remaining = 3;
    auto d = decide(&t, false, nullptr, kNow, f);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->outcome, Outcome::user_banned);
    EXPECT_EQ(d->remaining, std::nullopt);  // nothing to count
    f.standing = Outcome::user_missing;
    EXPECT_EQ(decide(&t, false, nullptr, kNow, f)->outcome, Outcome::user_missing);
    t.enabled = false;
    EXPECT_EQ(decide(&t, false, nullptr, kNow, f)->outcome, Outcome::disabled);
    f.standing = Outcome::ok;
    t.enabled = true;
    EXPECT_EQ(decide(&t, false, nullptr, kNow, f)->remaining, 2);
    EXPECT_EQ(outcome_code(Outcome::user_banned), "USER_BANNED");
    EXPECT_EQ(outcome_code(Outcome::user_missing), "INVALID_USER_ID_FROM_API_KEY");
}

TEST(Policy, OwnerAskedOnlyWhenClaimedAndAfterUsage) {
    Facts f;
    f.owner = false;
    TokenRecord t = token();
    EXPECT_EQ(decided(&t, f, false).outcome, Outcome::ok);
    EXPECT_EQ(f.owner_asks, 0);
    EXPECT_EQ(decided(&t, f, true).outcome, Outcome::user_mismatch);
    EXPECT_EQ(f.owner_asks, 1);
    EXPECT_EQ(f.window_asks, 0);
    t.remaining = 0;
    EXPECT_EQ(decided(&t, f, true).outcome, Outcome::usage_exceeded);
    EXPECT_EQ(f.owner_asks, 1);
}

TEST(Policy, FixedWindowAdmitsExactlyMax) {
    Facts f;
    f.config_.rate_limit_enabled = true;
    f.config_.rate_limit_max = 2;
    f.config_.rate_limit_time_window = 1000;
    TokenRecord t = token();
    Decision d = decided(&t, f);  // no window yet: one opens now
    ASSERT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.window->start, kNow);
    EXPECT_EQ(d.window->count, 1);
    f.stored = RateWindow{.start = kNow - 400, .count = 1};
    d = decided(&t, f);
    ASSERT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.window->start, kNow - 400);
    EXPECT_EQ(d.window->count, 2);
    f.stored = RateWindow{.start = kNow - 400, .count = 2};
    d = decided(&t, f);
    EXPECT_EQ(d.outcome, Outcome::rate_limited);
    EXPECT_EQ(d.retry_after_ms, 600);
    EXPECT_FALSE(d.window);
    EXPECT_EQ(retry_after_seconds(d.retry_after_ms), 1);
    f.stored = RateWindow{.start = kNow - 1000, .count = 2};  // that window is over
    d = decided(&t, f);
    EXPECT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.window->start, kNow);
    // Opened by a verification that read a later clock and committed first: the same
    // window, still full (a new one would reset the count and admit too many).
    f.stored = RateWindow{.start = kNow + 5, .count = 2};
    d = decided(&t, f);
    EXPECT_EQ(d.outcome, Outcome::rate_limited);
    EXPECT_EQ(d.retry_after_ms, 1005);
    f.stored = RateWindow{.start = kNow + 5, .count = 1};
    d = decided(&t, f);
    ASSERT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.window->start, kNow + 5);
    EXPECT_EQ(d.window->count, 2);
    f.stored = RateWindow{.start = kNow + 5000, .count = 9};  // further ahead: bogus, a new one
    d = decided(&t, f);
    ASSERT_EQ(d.outcome, Outcome::ok);
    EXPECT_EQ(d.window->start, kNow);
}

TEST(Policy, PerTokenOverridesAndOptOut) {
    Facts f;
    f.config_.rate_limit_enabled = true;
    f.config_.rate_limit_max = 100;
    TokenRecord t = token();
    t.rate_limit_max = 0;
    EXPECT_EQ(decided(&t, f).outcome, Outcome::rate_limited);
    t.rate_limit_enabled = false;
    const int asked = f.window_asks;
    EXPECT_EQ(decided(&t, f).outcome, Outcome::ok);
    EXPECT_EQ(f.window_asks, asked);
    t.rate_limit_enabled = true;
    t.rate_limit_max = 1;
    t.rate_limit_time_window = kMaxDurationMs * 10;  // capped at the 100-year bound
    f.stored = RateWindow{.start = kNow - 1, .count = 1};
    EXPECT_EQ(decided(&t, f).retry_after_ms, kMaxDurationMs - 1);
}

TEST(Policy, FactErrorsPropagate) {
    struct Failing final : VerifyFacts {
        Result<bool> names_owner(const TokenRecord&) override { return Error{Errc::busy, "busy"}; }
        Result<Config> config() override { return Error{Errc::db, "db"}; }
        Result<std::optional<RateWindow>> window(const TokenRecord&) override {
            return Error{Errc::db, "db"};
        }
    } f;
    TokenRecord t = token();
    auto d = decide(&t, true, nullptr, kNow, f);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::busy);
    d = decide(&t, false, nullptr, kNow, f);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::db);
}

TEST(Policy, OutcomeCodesAndMessages) {
    EXPECT_EQ(outcome_code(Outcome::ok), "OK");
    EXPECT_EQ(outcome_code(Outcome::invalid_key), "INVALID_API_KEY");
    EXPECT_EQ(outcome_code(Outcome::expired), "KEY_EXPIRED");
    EXPECT_EQ(outcome_code(Outcome::disabled), "KEY_DISABLED");
    EXPECT_EQ(outcome_code(Outcome::usage_exceeded), "USAGE_EXCEEDED");
    EXPECT_EQ(outcome_code(Outcome::rate_limited), "RATE_LIMITED");
    EXPECT_EQ(outcome_code(Outcome::user_mismatch), "USER_MISMATCH");
    EXPECT_EQ(outcome_code(Outcome::insufficient_permissions), "INSUFFICIENT_PERMISSIONS");
    EXPECT_EQ(outcome_message(Outcome::expired), "token has expired");
    EXPECT_EQ(outcome_message(Outcome::rate_limited), "rate limit exceeded");
}

TEST(Policy, LifetimeForNewTokens) {
    Config c;
    EXPECT_EQ(*lifetime_for_new(std::nullopt, c, kNow), std::nullopt);  // no maximum: never
    c.max_token_lifetime = 7 * kDayMs;
    EXPECT_EQ(*lifetime_for_new(std::nullopt, c, kNow), kNow + 7 * kDayMs);  // the longest
    EXPECT_EQ(*lifetime_for_new(kNow + kDayMs, c, kNow), kNow + kDayMs);
    auto too_long = lifetime_for_new(kNow + 8 * kDayMs, c, kNow);
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error().field, "expires_at");
    EXPECT_EQ(too_long.error().message, "expires_at is beyond the maximum token lifetime of 7 days");
}

TEST(Policy, LifetimeForChanges) {
    Config c;
    const std::int64_t created = kNow - kDayMs / 2;  // made 12 hours ago
    EXPECT_TRUE(lifetime_allows(std::nullopt, c, created));
    c.max_token_lifetime = kDayMs;
    EXPECT_FALSE(lifetime_allows(std::nullopt, c, created));  // "never" is beyond any maximum
    // The cap counts from creation, not from the update: 12 hours are left, not 24.
    EXPECT_TRUE(lifetime_allows(created + kDayMs, c, created));
    EXPECT_FALSE(lifetime_allows(kNow + kDayMs, c, created));
    EXPECT_EQ(lifetime_allows(created + kDayMs + 1, c, created).error().message,
              "expires_at is beyond the maximum token lifetime (1 days from the token's creation)");
}

TEST(Policy, PermissionsAreCheckedOnlyWhenRequired) {
    Facts f;
    TokenRecord t = token();
    t.permissions = R"({"repo":["read"]})";
    Permissions write;
    write.grants.push_back({"repo:alice/project", {"write"}});
    Permissions read;
    read.grants.push_back({"repo:alice/project", {"read"}});
    EXPECT_EQ(decided(&t, f).outcome, Outcome::ok);  // no permission asked for
    EXPECT_EQ(decided(&t, f, false, kNow, &read).outcome, Outcome::ok);
    EXPECT_EQ(decided(&t, f, false, kNow, &write).outcome, Outcome::insufficient_permissions);
    t.permissions.reset();  // NULL: read and write everywhere
    EXPECT_EQ(decided(&t, f, false, kNow, &write).outcome, Outcome::ok);
    t.permissions = "not json";  // unreadable: nothing
    EXPECT_EQ(decided(&t, f, false, kNow, &read).outcome, Outcome::insufficient_permissions);
    // A disabled or expired token says so first.
    t.enabled = false;
    EXPECT_EQ(decided(&t, f, false, kNow, &read).outcome, Outcome::disabled);
}

TEST(Policy, RefusedPermissionsUseNoRateLimitWindow) {
    Facts f;
    f.config_.rate_limit_enabled = true;
    f.config_.rate_limit_max = 1;
    TokenRecord t = token();
    t.permissions = R"({"repo":["read"]})";
    Permissions write;
    write.grants.push_back({"repo", {"write"}});
    const Decision d = decided(&t, f, false, kNow, &write);
    EXPECT_EQ(d.outcome, Outcome::insufficient_permissions);
    EXPECT_FALSE(d.window);
    EXPECT_EQ(f.window_asks, 0);
}

TEST(Policy, ConfigValuesAreBounded) {
    Config c;
    apply_config_value(c, "rate_limit_time_window", -5);
    EXPECT_EQ(c.rate_limit_time_window, Config{}.rate_limit_time_window);
    apply_config_value(c, "rate_limit_time_window", INT64_MAX);
    EXPECT_EQ(c.rate_limit_time_window, kMaxDurationMs);
    apply_config_value(c, "max_token_lifetime_ms", INT64_MAX);
    EXPECT_EQ(c.max_token_lifetime, kMaxDurationMs);
    apply_config_value(c, "rate_limit_enabled", 2);
    EXPECT_TRUE(c.rate_limit_enabled);
    apply_config_value(c, "no_such_setting", 1);
    EXPECT_EQ(sub_sat(INT64_MIN, 1), INT64_MIN);
    EXPECT_EQ(sub_sat(INT64_MAX, -1), INT64_MAX);
}

TEST(Validate, NewTokenNamesTheField) {
    const auto field_of = [](const NewToken& t) {
        auto st = validate(t, kNow);
        return st ? std::string() : st.error().field;
    };
    EXPECT_EQ(field_of({.user_id = "u", .name = "abc"}), "");
    EXPECT_EQ(field_of({.user_id = "", .name = "abc"}), "user_id");
    EXPECT_EQ(field_of({.user_id = std::string_view("a\0b", 3), .name = "abc"}), "user_id");
    EXPECT_EQ(field_of({.user_id = "u", .name = "ab"}), "name");
    EXPECT_EQ(field_of({.user_id = "u", .name = "abc", .prefix = "bad prefix"}), "prefix");
    EXPECT_EQ(field_of({.user_id = "u", .name = "abc", .expires_at = kNow}), "expires_at");
    EXPECT_EQ(field_of({.user_id = "u", .name = "abc",
                        .metadata = std::string(kMaxMetadataBytes + 1, ' ')}),
              "metadata");
    EXPECT_EQ(field_of({.user_id = "u", .name = "abc", .rate_limit_time_window = 0}),
              "rate_limit_time_window");
    EXPECT_EQ(field_of({.user_id = "u", .name = "abc", .rate_limit_max = -1}), "rate_limit_max");
    EXPECT_EQ(validate(NewToken{.user_id = "u", .name = "ab"}, kNow).error().message,
              "name must be 3 to 50 characters (got 2)");
    EXPECT_EQ(validate(NewToken{.user_id = "u", .name = "abc", .prefix = ""}, kNow).error().message,
              "prefix must match ^[A-Za-z0-9_-]{1,32}$");
}

TEST(Validate, ChangesCheckOnlyWhatChanges) {
    EXPECT_TRUE(validate(TokenChanges{}, kNow));
    EXPECT_TRUE(validate(TokenChanges{.expires_at = kNow - 1}, kNow));  // not being set
    EXPECT_EQ(validate(TokenChanges{.set_expires_at = true, .expires_at = kNow}, kNow)
                  .error()
                  .message,
              "expires_at must be in the future (milliseconds since the epoch)");
    EXPECT_EQ(validate(TokenChanges{.name = std::string(51, 'x')}, kNow).error().message,
              "name must be 3 to 50 characters (got 51)");
    EXPECT_EQ(printable("a\x01\xff" "b", 3), "a??");
}

}  // namespace
}  // namespace gvx
