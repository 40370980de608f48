// What a token's name may hold. Names are shown in lists, activity views and the settings page,
// so they refuse what would deceive a reader there: control characters (ESC sequences, CR/LF),
// bidirectional formatting characters ("invoice\u202Egpj.exe" shows as "invoiceexe.jpg"), and
// names in which nothing is visible (only spaces or zero-width characters).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gvx {

// Why `valid_utf8` is not an acceptable name ("must not contain ..."), or nullopt when it
// is. Length (3 to 50 code points) is checked by the caller; this looks at the characters only.
std::optional<std::string> name_problem(std::string_view valid_utf8);

}  // namespace gvx
