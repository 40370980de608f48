// What a token name may hold (ext/core/name.hpp): control, bidirectional formatting and
// invisible-only names are refused with a reason; ordinary names in any script pass.
#include <gtest/gtest.h>

#include "core/name.hpp"

namespace gvx {
namespace {

TEST(Name, OrdinaryNamesInAnyScriptPass) {
    for (const char* ok : {"laptop", "CI: deploy (prod)", "日本語のトークン", "café ☕ laptop",
                           "a\u200Db c", "  padded  ", "emoji 👩‍💻 family", "עברית name"})
        EXPECT_EQ(name_problem(ok), std::nullopt) << ok;
}

TEST(Name, ControlCharactersAreRefused) {
    for (const char* bad : {"evil\x1B[31mred", "two\r\nlines", "tab\there", "del\x7F", "nul\x01",
                            "next\u0085line", "line\u2028sep"})
        EXPECT_EQ(name_problem(bad), "must not contain control characters") << bad;
}

TEST(Name, BidirectionalFormattingIsRefused) {
    for (const char* bad : {"invoice\u202Egpj.exe", "a\u202Ab", "a\u202Db", "a\u2066b",
                            "a\u2069b", "a\u200Fb", "a\u061Cb"})
        EXPECT_EQ(name_problem(bad), "must not contain bidirectional formatting characters")
            << bad;
}

TEST(Name, NamesWithNothingVisibleAreRefused) {
    for (const char* bad : {"   ", "\u200B\u200C\u200D", "\u00A0\u3000\u2003", "\u3164\u3164\u3164",
                            "\u2060\uFEFF\u00AD", "\uFE0F\uFE0F\uFE0F", "\U000E0041\U000E0042 "})
        EXPECT_EQ(name_problem(bad), "must contain a visible character") << bad;
}

}  // namespace
}  // namespace gvx
