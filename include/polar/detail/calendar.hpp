//
// polar-cpp: the proleptic Gregorian calendar (H. Hinnant's algorithms).
//
// One copy for the SDK's date-time codec (impl/datetime.ipp), the decoder's
// server date-times (detail/codec/stream/server_time.ipp) and the
// emulator (testing/impl/emulator_state_datetime.ipp). Everything here is
// inline (constexpr), so a program that links the SDK's implementation and
// the emulator's defines nothing twice.
//
#ifndef POLAR_DETAIL_CALENDAR_HPP
#define POLAR_DETAIL_CALENDAR_HPP

#include <cstdint>

namespace polar::detail {

inline constexpr bool is_leap(std::int64_t y) noexcept {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

inline constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
    constexpr unsigned table[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29u : table[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (exact for every year
// representable here).
inline constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil_date {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

// The date of a count of days since 1970-01-01.
inline constexpr civil_date civil_from_days(std::int64_t z) noexcept {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

} // namespace polar::detail

#endif
