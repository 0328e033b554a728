#ifndef POLAR_IMPL_DATETIME_IPP
#define POLAR_IMPL_DATETIME_IPP

#include <polar/detail/calendar.hpp>
#include <polar/detail/datetime.hpp>

#include <cstdint>

namespace polar {
namespace detail {
namespace datetime_impl {

// A cursor over the input; every read checks bounds.
struct cursor {
    const char* p;
    const char* end;

    bool at_end() const noexcept { return p == end; }
    char peek() const noexcept { return p == end ? '\0' : *p; }
    static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

    // Exactly n digits.
    bool digits(int n, unsigned& v) noexcept {
        if (end - p < n) return false;
        unsigned r = 0;
        for (int i = 0; i < n; ++i) {
            if (!is_digit(p[i])) return false;
            r = r * 10 + static_cast<unsigned>(p[i] - '0');
        }
        p += n;
        v = r;
        return true;
    }
    bool lit(char c) noexcept {
        if (p == end || *p != c) return false;
        ++p;
        return true;
    }
};

constexpr std::int64_t us_per_second = 1000000;
constexpr std::int64_t us_per_day = 86400 * us_per_second;

inline char* put2(char* o, unsigned v) noexcept {
    o[0] = static_cast<char>('0' + v / 10);
    o[1] = static_cast<char>('0' + v % 10);
    return o + 2;
}

} // namespace datetime_impl

POLAR_DECL bool parse_timestamp(std::string_view text, timestamp& out) noexcept {
    using namespace datetime_impl;
    cursor c{text.data(), text.data() + text.size()};
    unsigned year, month, day, hour, minute, second = 0;
    if (!c.digits(4, year) || !c.lit('-') || !c.digits(2, month) || !c.lit('-') || !c.digits(2, day))
        return false;
    const char sep = c.peek();
    if (sep != 'T' && sep != 't' && sep != ' ') return false;
    ++c.p;
    if (!c.digits(2, hour) || !c.lit(':') || !c.digits(2, minute)) return false;
    std::int64_t fraction_us = 0;
    if (c.lit(':')) {
        if (!c.digits(2, second)) return false;
        if (c.peek() == '.' || c.peek() == ',') {
            ++c.p;
            int n = 0;
            std::int64_t f = 0;
            while (!c.at_end() && cursor::is_digit(*c.p)) {
                if (++n > 9) return false;
                if (n <= 6) f = f * 10 + (*c.p - '0');
                ++c.p;
            }
            if (n == 0) return false;
            for (int i = n; i < 6; ++i) f *= 10;
            fraction_us = f;
        }
    }
    // The offset is mandatory: naive date-times are ambiguous.
    std::int64_t offset_seconds = 0;
    const char z = c.peek();
    if (z == 'Z' || z == 'z') {
        ++c.p;
    } else if (z == '+' || z == '-') {
        ++c.p;
        unsigned oh, om = 0;
        if (!c.digits(2, oh)) return false;
        if (c.lit(':')) {
            if (!c.digits(2, om)) return false;
        } else if (!c.at_end()) {
            if (!c.digits(2, om)) return false;
        }
        if (oh > 23 || om > 59) return false;
        offset_seconds = static_cast<std::int64_t>(oh) * 3600 + om * 60;
        if (z == '-') offset_seconds = -offset_seconds;
    } else {
        return false;
    }
    if (!c.at_end()) return false;

    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
        return false;
    if (hour > 23 || minute > 59 || second > 59) return false;

    const std::int64_t days = days_from_civil(year, month, day);
    const std::int64_t secs = static_cast<std::int64_t>(hour) * 3600 + minute * 60 + second - offset_seconds;
    const std::int64_t us = days * us_per_day + secs * us_per_second + fraction_us;
    // The offset may move the instant out of years 0001..9999 (UTC), which
    // format_timestamp() would write in a form this parser rejects.
    constexpr std::int64_t min_us = days_from_civil(1, 1, 1) * us_per_day;
    constexpr std::int64_t max_us = days_from_civil(10000, 1, 1) * us_per_day - 1;
    if (us < min_us || us > max_us) return false;
    out = timestamp(std::chrono::microseconds(us));
    return true;
}

POLAR_DECL std::size_t format_timestamp(timestamp t, char* buf) noexcept {
    using namespace datetime_impl;
    const std::int64_t us = t.time_since_epoch().count();
    std::int64_t days = us / us_per_day;
    std::int64_t rem = us % us_per_day;
    if (rem < 0) {
        rem += us_per_day;
        --days;
    }
    const civil_date d = civil_from_days(days);
    char* o = buf;
    std::int64_t y = d.year;
    if (y < 0) {
        *o++ = '-';
        y = -y;
    }
    // At least four digits, more when the year needs them.
    char ydigits[24];
    int n = 0;
    do {
        ydigits[n++] = static_cast<char>('0' + y % 10);
        y /= 10;
    } while (y != 0);
    for (int i = n; i < 4; ++i) *o++ = '0';
    while (n > 0) *o++ = ydigits[--n];
    *o++ = '-';
    o = put2(o, d.month);
    *o++ = '-';
    o = put2(o, d.day);
    *o++ = 'T';
    const auto secs_of_day = static_cast<unsigned>(rem / us_per_second);
    const auto frac = static_cast<unsigned>(rem % us_per_second);
    o = put2(o, secs_of_day / 3600);
    *o++ = ':';
    o = put2(o, secs_of_day / 60 % 60);
    *o++ = ':';
    o = put2(o, secs_of_day % 60);
    if (frac != 0) {
        *o++ = '.';
        unsigned f = frac;
        for (int i = 5; i >= 0; --i) {
            o[i] = static_cast<char>('0' + f % 10);
            f /= 10;
        }
        o += 6;
    }
    *o++ = 'Z';
    return static_cast<std::size_t>(o - buf);
}

POLAR_DECL std::string format_timestamp(timestamp t) {
    char buf[timestamp_buffer_size];
    return std::string(buf, format_timestamp(t, buf));
}

} // namespace detail
} // namespace polar

#endif
