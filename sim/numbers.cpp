#include "sim/numbers.hpp"

// fmt as a header-only library (Debian's libfmt-dev): the explorer's build links no
// compiled fmt, and both builds then format with the same code.
#define FMT_HEADER_ONLY
#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <limits>

namespace sim {

std::string number_text(double v) { return fmt::format("{}", v); }

bool parse_real(std::string_view t, double& out) {
    // The grammar is checked here, so that strtod (correctly rounded in both C libraries, and
    // in the "C" locale: therasim never sets another) reads only what std::from_chars would.
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t from = i;
        while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
        return i - from;
    };
    const bool negative = i < t.size() && t[i] == '-';
    if (negative) ++i;
    std::string word;  // "inf", "infinity" and "nan", in any case, as std::from_chars reads them
    for (std::size_t k = i; k < t.size() && word.size() < 9; ++k) word += static_cast<char>(std::tolower(static_cast<unsigned char>(t[k])));
    if (word == "inf" || word == "infinity" || word == "nan") {
        const double v = word == "nan" ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
        out = negative ? -v : v;
        return true;
    }
    std::size_t mantissa = digits();
    if (i < t.size() && t[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return false;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        ++i;
        if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    if (i != t.size()) return false;
    const std::string s(t);
    out = std::strtod(s.c_str(), nullptr);
    return true;
}

}  // namespace sim
