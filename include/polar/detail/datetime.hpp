//
// polar-cpp: ISO 8601 date-time parsing and formatting (no locale, no
// strptime, no std::chrono::parse: the conversions are hand-written so they
// behave the same everywhere and never allocate while parsing).
//
#ifndef POLAR_DETAIL_DATETIME_HPP
#define POLAR_DETAIL_DATETIME_HPP

#include <polar/detail/config.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace polar {

/// A point in time with microsecond resolution, in UTC (the API's resolution).
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

namespace detail {

/**
 * @brief Parses an ISO 8601 / RFC 3339 date-time that carries a UTC offset.
 *
 * @details Accepted: `YYYY-MM-DD`, a `T` (or `t`, or one space), `hh:mm`,
 * optionally `:ss` and a fraction of 1 to 9 digits after `.` or `,`
 * (truncated to microseconds), then `Z`/`z` or an offset `+hh:mm`, `-hh:mm`,
 * `+hhmm` or `+hh`. Rejected: naive date-times (no offset), impossible dates
 * (Feb 30, Feb 29 of a common year), hours above 23, minutes or seconds above
 * 59, offsets of 24 hours or more, year 0000, more than 9 fraction digits,
 * trailing characters, and instants that the offset moves out of years
 * 0001..9999 in UTC (so that every accepted value formats to text that
 * parses back).
 *
 * @returns true and sets `out` on success; false (leaving `out` untouched)
 * otherwise. Never throws, never allocates.
 */
POLAR_DECL bool parse_timestamp(std::string_view text, timestamp& out) noexcept;

/// Buffer size that format_timestamp(timestamp, char*) needs.
inline constexpr std::size_t timestamp_buffer_size = 40;

/**
 * @brief Writes `t` as the server does: UTC with a `Z` suffix, with six
 * fraction digits only when the microseconds are non-zero.
 *
 * @details `2025-03-25T15:51:07.123456Z`, `2025-03-01T00:00:00Z`. Years
 * outside 0000..9999 are written with as many digits as needed and a leading
 * `-` when negative.
 *
 * @returns the number of characters written to `buf`, which must hold at
 * least `timestamp_buffer_size` characters.
 */
POLAR_DECL std::size_t format_timestamp(timestamp t, char* buf) noexcept;

/// As above, returning a string.
POLAR_DECL std::string format_timestamp(timestamp t);

} // namespace detail
} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/datetime.ipp>
#endif

#endif
