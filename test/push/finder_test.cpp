// The streaming token finder and the skip rule of push protection (cli/push/): every token
// of any prefix wherever it stands and however the stream is cut, nothing else.
#include <gtest/gtest.h>
#include <sodium.h>

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/token.hpp"
#include "push/content_scan.hpp"
#include "push/token_finder.hpp"

namespace gvx::push {
namespace {

using Found = std::set<std::pair<std::uint64_t, std::string>>;  // (offset, token)

class FinderTest : public ::testing::Test {
   protected:
    void SetUp() override { ASSERT_GE(sodium_init(), 0); }

    static std::string token(std::string_view prefix = "gvx_") {
        auto t = generate_token(prefix);
        EXPECT_TRUE(t);
        return std::string(t->view());
    }

    // Feeds text in pieces of the given sizes (cycled), returns what was found.
    static Found find(std::string_view text, std::vector<std::size_t> pieces = {65536},
                      std::vector<std::uint64_t>* lines = nullptr) {
        Found found;
        TokenFinder finder([&](std::string_view t, const TokenPlace& place) {
            found.emplace(place.offset, std::string(t));
            if (lines) lines->push_back(place.line);
        });
        std::size_t i = 0;
        for (std::size_t k = 0; i < text.size(); ++k) {
            const std::size_t n = std::min(pieces[k % pieces.size()], text.size() - i);
            finder.feed(text.substr(i, n));
            i += n;
        }
        return found;
    }

    // What a search of every substring finds: the definition the finder must meet.
    static Found brute_force(std::string_view text) {
        Found found;
        for (std::size_t p = 0; p < text.size(); ++p) {
            for (std::size_t len = kBodyLength + 1; len <= kBodyLength + kMaxPrefixLength; ++len) {
                if (p + len > text.size()) break;
                if (has_gvx_format(text.substr(p, len)))
                    found.emplace(p, std::string(text.substr(p, len)));
            }
        }
        return found;
    }
};

TEST_F(FinderTest, FindsATokenWithItsOffsetAndLine) {
    const std::string t = token();
    const std::string text = "first line\nsecond\nKEY=\"" + t + "\"\n";
    std::vector<std::uint64_t> lines;
    const Found found = find(text, {65536}, &lines);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found.begin()->first, text.find(t));
    EXPECT_EQ(found.begin()->second, t);
    EXPECT_EQ(lines, std::vector<std::uint64_t>{3});
}

TEST_F(FinderTest, FindsEveryPrefixLengthAndCharacter) {
    const std::vector<std::string> prefixes = {"a", "_", "-", "ghp_", "acme-ci_",
                                               std::string(32, 'Z'),
                                               std::string("x-_9") + std::string(28, 'q')};
    for (const std::string& prefix : prefixes) {
        const std::string t = token(prefix);
        EXPECT_EQ(find("<" + t + ">").size(), 1u) << prefix;
        EXPECT_EQ(find(t), Found({{0, t}})) << prefix;  // at the very start and end
    }
}

TEST_F(FinderTest, FindsTheTokenInsideALongerWord) {
    const std::string t = token();
    // The checksum covers the prefix, so only the real start matches.
    EXPECT_EQ(find("my_secret_" + t), Found({{10, t}}));
    EXPECT_EQ(find(t + "trailing"), Found({{0, t}}));
}

TEST_F(FinderTest, EveryCutOfTheStreamFindsTheSameToken) {
    const std::string t = token("acme-ci_");
    const std::string text = "value: " + t + "\nmore";
    const Found expected = {{7, t}};
    for (std::size_t cut = 0; cut <= text.size(); ++cut) {
        Found found;
        TokenFinder finder([&](std::string_view s, const TokenPlace& p) {
            found.emplace(p.offset, std::string(s));
        });
        finder.feed(std::string_view(text).substr(0, cut));
        finder.feed(std::string_view(text).substr(cut));
        EXPECT_EQ(found, expected) << "cut at " << cut;
    }
    EXPECT_EQ(find(text, {1}), expected);  // a byte at a time
    EXPECT_EQ(find(text, {3, 95, 1, 96, 97}), expected);
}

TEST_F(FinderTest, NearMissesAreNotTokens) {
    std::string t = token();
    std::string broken = t;
    broken[20] = broken[20] == 'a' ? 'b' : 'a';  // one character of the body changed
    EXPECT_TRUE(find(broken).empty());
    EXPECT_TRUE(find(t.substr(0, t.size() - 1)).empty());  // one character short
    // A token split across lines, or into quoted pieces, is not one unbroken string.
    EXPECT_TRUE(find(t.substr(0, 40) + "\n" + t.substr(40)).empty());
    EXPECT_TRUE(find("\"" + t.substr(0, 40) + "\" + \"" + t.substr(40) + "\"").empty());
    EXPECT_TRUE(find(std::string(5000, '0')).empty());
    EXPECT_TRUE(find(std::string(5000, 'a') + "_" + std::string(5000, '9')).empty());
}

TEST_F(FinderTest, AgreesWithASearchOfEverySubstring) {
    std::mt19937 rng(20261128);
    const std::string alphabet =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-_- \n\"=";
    for (int round = 0; round < 20; ++round) {
        std::string text;
        while (text.size() < 6000) {
            if (rng() % 5 == 0) {
                std::string prefix;
                const std::size_t n = 1 + rng() % 32;
                for (std::size_t i = 0; i < n; ++i) prefix += alphabet[rng() % 64];
                text += token(prefix);
            } else {
                const std::size_t n = rng() % 200;
                for (std::size_t i = 0; i < n; ++i) text += alphabet[rng() % alphabet.size()];
            }
        }
        const Found expected = brute_force(text);
        EXPECT_FALSE(expected.empty());
        EXPECT_EQ(find(text), expected) << "round " << round;
        EXPECT_EQ(find(text, {1 + rng() % 7, 90 + rng() % 10, 1 + rng() % 300}), expected)
            << "round " << round;
    }
}

TEST_F(FinderTest, ResetStartsANewStream) {
    const std::string t = token();
    Found found;
    TokenFinder finder([&](std::string_view s, const TokenPlace& p) {
        found.emplace(p.offset, std::string(s));
    });
    finder.feed(t.substr(0, 30));
    finder.reset();
    finder.feed(t.substr(30));  // the rest of the token alone is not one
    EXPECT_TRUE(found.empty());
    finder.reset();
    finder.feed("ab\n" + t);
    EXPECT_EQ(found, Found({{3, t}}));
}

class ContentScanTest : public FinderTest {};

TEST_F(ContentScanTest, ScansTextAndReportsHashesNotTokens) {
    const std::string t = token();
    ContentScan scan;
    const std::string text = "a\nb\n" + t;
    EXPECT_EQ(scan.begin(text.size(), kDefaultMaxBytes), Skipped::no);
    scan.feed(text);
    std::vector<Sighting> out;
    EXPECT_EQ(scan.end(out), Skipped::no);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].key_hash, hash_key(t));
    EXPECT_EQ(out[0].start, t.substr(0, 6));
    EXPECT_EQ(out[0].line, 3u);
}

TEST_F(ContentScanTest, SkipsBinaryByANulInTheFirst8000Bytes) {
    const std::string t = token();
    std::vector<Sighting> out;
    ContentScan scan;
    // NUL within the first 8000 bytes: binary, not scanned, however it is fed.
    std::string binary = std::string("\x89PNG\0", 5) + t + std::string(9000, 'x');
    scan.begin(binary.size(), kDefaultMaxBytes);
    for (char c : binary) scan.feed(std::string_view(&c, 1));
    EXPECT_EQ(scan.end(out), Skipped::binary);
    EXPECT_TRUE(out.empty());
    // A NUL only after the first 8000 bytes: text, scanned in full.
    std::string late = std::string(8000, 'x') + '\0' + " " + t;
    scan.begin(late.size(), kDefaultMaxBytes);
    scan.feed(late);
    EXPECT_EQ(scan.end(out), Skipped::no);
    EXPECT_EQ(out.size(), 1u);
    // Short content with a NUL is binary too.
    out.clear();
    scan.begin(3, kDefaultMaxBytes);
    scan.feed(std::string_view("a\0b", 3));
    EXPECT_EQ(scan.end(out), Skipped::binary);
}

TEST_F(ContentScanTest, SkipsContentLargerThanTheLimit) {
    ContentScan scan;
    EXPECT_EQ(scan.begin(101, 100), Skipped::too_large);
    EXPECT_EQ(scan.begin(100, 100), Skipped::no);
}

}  // namespace
}  // namespace gvx::push
