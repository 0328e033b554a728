// What the two TUs of the two-TU program give each other (no polar types, so
// that each TU's use of the single header stays its own).
#ifndef POLAR_TEST_SINGLE_HEADER_TWO_TU_HPP
#define POLAR_TEST_SINGLE_HEADER_TWO_TU_HPP

#include <string>
#include <string_view>

// Defined in two_tu_other.cpp.
std::string other_tu_reencode_meter(std::string_view json); // from_json<meter>, then to_json
std::string other_tu_normalize_timestamp(std::string_view text); // parse, then format
const void* other_tu_error_category();                       // &polar::error_category()

#endif
