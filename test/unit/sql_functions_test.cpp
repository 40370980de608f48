// The SQL functions on a real connection, where a unit test reaches what the sqlite3 shell
// tests cannot: the stack they run on.
#include <pthread.h>

#include <string>

#include "test_db.hpp"

namespace gvx {
namespace {

using testing::RawDb;
using testing::TempDb;

// Runs body on a thread with a stack of `bytes` (musl's default is 128 KiB; a crash here is a
// stack overflow).
template <class F>
void on_small_stack(std::size_t bytes, F body) {
    pthread_attr_t attr;
    ASSERT_EQ(pthread_attr_init(&attr), 0);
    ASSERT_EQ(pthread_attr_setstacksize(&attr, bytes), 0);
    pthread_t thread;
    auto run = [](void* p) -> void* {
        (*static_cast<F*>(p))();
        return nullptr;
    };
    ASSERT_EQ(pthread_create(&thread, &attr, run, &body), 0);
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attr);
}

// gvx_create parsed metadata_json before checking its nesting: 16,384 '[' (within the 16 KiB
// cap) overflowed a 512 KiB stack in RapidJSON's recursive parser.
TEST(SqlFunctions, DeeplyNestedMetadataIsRefusedOnASmallStack) {
    ASSERT_GE(sodium_init(), 0);
    TempDb db;
    RawDb raw(db.path());
    ASSERT_EQ(sqlite3_gvx_init(raw.db, nullptr, nullptr), SQLITE_OK);
    for (const std::string& meta :
         {std::string(16'384, '['), "{\"a\":" + std::string(8'000, '[') + std::string(8'000, ']') + "}",
          std::string(16'000, '{')}) {
        std::string message;
        int rc = SQLITE_OK;
        on_small_stack(256 * 1024, [&] {
            sqlite3_stmt* s = nullptr;
            sqlite3_prepare_v2(raw.db, "SELECT gvx_create('alice', 'deep', NULL, NULL, ?1)", -1,
                               &s, nullptr);
            sqlite3_bind_text(s, 1, meta.data(), static_cast<int>(meta.size()), SQLITE_STATIC);
            rc = sqlite3_step(s);
            message = sqlite3_errmsg(raw.db);
            sqlite3_finalize(s);
        });
        EXPECT_EQ(rc, SQLITE_ERROR);
        EXPECT_EQ(message,
                  "gvx_create(metadata_json): numbers must be within the range of a double, "
                  "nesting at most 64 levels");
    }
    EXPECT_EQ(raw.scalar("SELECT count(*) FROM apikey"), "0");

    // 64 levels are fine; not an object is refused as before.
    const std::string ok = std::string(63, '[') + std::string(63, ']');
    EXPECT_EQ(raw.scalar("SELECT json_extract(gvx_create('alice', 'fine', NULL, NULL, '{\"a\":" +
                         ok + "}'), '$.name')"),
              "fine");
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(raw.db, "SELECT gvx_create('alice', 'list', NULL, NULL, '[1]')", -1, &s,
                       nullptr);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ERROR);
    EXPECT_STREQ(sqlite3_errmsg(raw.db), "gvx_create(metadata_json): must be a JSON object");
    sqlite3_finalize(s);
}

}  // namespace
}  // namespace gvx
