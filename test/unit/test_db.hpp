// A fresh database file per test, removed afterwards; and small helpers over raw SQLite.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "store.hpp"

extern "C" int sqlite3_gvx_init(sqlite3*, char**, const sqlite3_api_routines*);

namespace gvx::testing {

inline std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class TempDb {
   public:
    TempDb() {
        char tmpl[] = "/tmp/gvx-test-XXXXXX";
        dir_ = mkdtemp(tmpl);
        path_ = dir_ + "/gvx.db";
    }
    ~TempDb() { std::filesystem::remove_all(dir_); }
    const std::string& path() const { return path_; }

   private:
    std::string dir_, path_;
};

// A plain connection, as an admin's shell or another program would have.
struct RawDb {
    explicit RawDb(const std::string& path) {
        EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
    }
    ~RawDb() { sqlite3_close_v2(db); }
    void exec(const std::string& sql) {
        char* err = nullptr;
        const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in: " << sql.substr(0, 200);
        sqlite3_free(err);
    }
    // The first column of every row, joined by '|'; NULL as "NULL".
    std::string scalar(const std::string& sql) {
        sqlite3_stmt* s = nullptr;
        EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
            << sqlite3_errmsg(db);
        std::string out;
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            if (!out.empty()) out += '|';
            const auto* t = sqlite3_column_text(s, 0);
            out += t ? reinterpret_cast<const char*>(t) : "NULL";
        }
        EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
        sqlite3_finalize(s);
        return out;
    }
    sqlite3* db = nullptr;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::unique_ptr<Store> open_store(const std::string& path) {
    auto s = Store::open(path);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
}

}  // namespace gvx::testing
