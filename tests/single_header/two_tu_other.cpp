// Second TU of the two-TU program. Built with POLAR_NO_BOOST_JSON_SOURCE:
// Boost.JSON's sources are compiled in two_tu_main.cpp only.
#ifndef POLAR_NO_BOOST_JSON_SOURCE
#error "two_tu_other.cpp must be compiled with POLAR_NO_BOOST_JSON_SOURCE"
#endif
#include <polar/polar.hpp>

#include "two_tu.hpp"

std::string other_tu_reencode_meter(std::string_view json) {
    const auto m = polar::from_json<polar::meter>(json);
    return polar::to_json(m);
}

std::string other_tu_normalize_timestamp(std::string_view text) {
    const auto t = polar::parse_timestamp(text);
    return t ? polar::format_timestamp(*t) : std::string("invalid");
}

const void* other_tu_error_category() { return &polar::error_category(); }
