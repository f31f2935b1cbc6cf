#pragma once
/// @file numbers.hpp
/// Numbers to text and back, the same in every build: natively and in the WebAssembly explorer
/// (web/), whose C++ library has no floating-point std::to_chars or std::from_chars. Messages,
/// resolved scenarios and provenance therefore read the same wherever therasim runs.
#include <string>
#include <string_view>

namespace sim {

/// The shortest text that reads back as exactly @p v (fmt's "{}": Dragonbox).
std::string number_text(double v);

/// Reads a decimal real number: an optional '-', digits with an optional fraction, and an
/// optional exponent, or inf, infinity or nan in any case (no spaces, no '+' in front, no
/// hexadecimal): what std::from_chars reads.
/// @return false, leaving @p out alone, unless the whole of @p text is such a number.
bool parse_real(std::string_view text, double& out);

}  // namespace sim
