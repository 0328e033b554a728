// The ISO 8601 parser: never crashes, and what it accepts formats to text
// that parses back to the same instant.
#include "fuzz_check.hpp"

#include <polar/detail/datetime.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = polar_fuzz::as_text(data, size);
    polar::timestamp t{};
    if (!polar::detail::parse_timestamp(text, t)) return 0;
    char buf[polar::detail::timestamp_buffer_size];
    const std::size_t n = polar::detail::format_timestamp(t, buf);
    POLAR_FUZZ_CHECK(n > 0 && n < sizeof buf, "format wrote %zu characters", n);
    const std::string formatted(buf, n);
    POLAR_FUZZ_CHECK(formatted == polar::detail::format_timestamp(t), "the two format overloads disagree");
    polar::timestamp back{};
    POLAR_FUZZ_CHECK(polar::detail::parse_timestamp(formatted, back),
                     "format(parse(x)) does not parse\n  x: %.*s\n  formatted: %s", static_cast<int>(size),
                     reinterpret_cast<const char*>(data), formatted.c_str());
    POLAR_FUZZ_CHECK(back == t, "parse(format(t)) != t\n  x: %.*s\n  formatted: %s", static_cast<int>(size),
                     reinterpret_cast<const char*>(data), formatted.c_str());
    return 0;
}
