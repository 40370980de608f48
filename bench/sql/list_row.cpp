// Row: GET /list for a user with 10,000 tokens, as gvx-fcgi builds it (gvx::Store::each_token
// into gvx::TokenArrayJson) against the same SELECT written straight to RapidJSON.
#include <algorithm>

#include "bench_db.hpp"
#include "bench_tokens.hpp"
#include "json/json.hpp"
#include "interleave.hpp"
#include "raw_store.hpp"
#include "rows.hpp"
#include "sql_rows.hpp"
#include "store.hpp"

namespace bench {

void run_list_row(const Options& o) {
    Db db = open_bench_db(fresh_copy(o.small_db, o.scratch, "list.db"), "");
    gvx::Store store(db.get());  // borrows db (declared after it, so destroyed before it)
    RawStore raw(db.get());
    auto gvx_list = [&store] {
        gvx::TokenArrayJson json;
        auto st = store.each_token(kListUser, [&](const gvx::TokenRecord& t) { json.add(t); });
        if (!st) die("gvx::Store::each_token", st.error().message);
        return json.take();
    };
    const std::string expected = raw.list_json(kListUser);
    if (const std::string got = gvx_list(); got != expected) {
        const auto at = static_cast<std::size_t>(
            std::mismatch(got.begin(), got.end(), expected.begin(), expected.end()).first -
            got.begin());
        const std::size_t from = at < 60 ? 0 : at - 60;
        die("same-work check", "the /list JSON differs from gvx's at byte " + std::to_string(at) +
                                   ": gvx ..." + got.substr(from, 120) + "... baseline ..." +
                                   expected.substr(from, 120) + "...");
    }
    const std::size_t users_tokens = std::count(expected.begin(), expected.end(), '{');
    if (users_tokens != static_cast<std::size_t>(kListUserTokens))
        die("list", "the list user does not have the expected number of tokens");

    std::size_t bytes = 0;
    const std::size_t ops = std::max<std::size_t>(2, o.ops / 400);  // each list is milliseconds
    const Interleaved m({{"gvx", [&](std::size_t) { bytes += gvx_list().size(); }},
                         {"raw", [&](std::size_t) { bytes += raw.list_json(kListUser).size(); }}},
                        o.reps, ops);
    const double ratio = m.median_ratio("gvx", "raw");
    print_row(Row{.what = "GET /list, user with " + format_count(kListUserTokens) + " tokens",
                  .gvx = format_millis(m.median_ns_per_op("gvx")),
                  .baseline = format_millis(m.median_ns_per_op("raw")),
                  .ratio = format_ratio(ratio),
                  .target = "<= 1.5",
                  .checked = ratio});
    if (bytes == 0) die("list", "no JSON was written");
}

}  // namespace bench
