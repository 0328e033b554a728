//
// polar-cpp testing: date-times as the server's validation reads them.
//
// polar::detail::parse_timestamp (the SDK's parser) only says yes or no. The
// emulator must also tell a naive date-time (422 timezone_aware) from a
// malformed one (422 datetime_from_date_parsing / datetime_parsing, with the
// parser's explanation), and keep the input's own offset: the quantities
// range limit compares calendar dates in each input's offset (§5.3). So this
// is a small port of the rules of `speedate`, the parser behind Pydantic v2.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_DATETIME_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_DATETIME_IPP

#include <polar/testing/impl/emulator_state_common.ipp>

#include <polar/detail/calendar.hpp>

#include <cstdio>

namespace polar::testing::emu {

// The proleptic Gregorian calendar, the SDK's own (detail/calendar.hpp).
using polar::detail::civil_from_days;
using polar::detail::days_from_civil;
using polar::detail::days_in_month;

// A date-time as written: local fields and an optional UTC offset.
struct local_datetime {
    std::int64_t year = 1970;
    unsigned month = 1, day = 1, hour = 0, minute = 0, second = 0;
    std::int64_t micro = 0;
    std::optional<int> offset_seconds;  // empty: naive

    std::int64_t local_days() const { return days_from_civil(year, month, day); }

    // The instant (a naive value is read as UTC).
    micros utc() const {
        return local_days() * us_per_day +
               (static_cast<micros>(hour) * 3600 + minute * 60 + second - offset_seconds.value_or(0)) * us_per_second +
               micro;
    }

    // Python's datetime.isoformat(): 2025-03-01T00:00:00+02:00, with
    // .ffffff only when the microseconds are non-zero.
    std::string isoformat() const {
        char buf[64];
        int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u", static_cast<long long>(year), month,
                              day, hour, minute, second);
        std::string s(buf, static_cast<std::size_t>(n));
        if (micro != 0) {
            n = std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(micro));
            s.append(buf, static_cast<std::size_t>(n));
        }
        if (offset_seconds) {
            int off = *offset_seconds;
            const char sign = off < 0 ? '-' : '+';
            off = off < 0 ? -off : off;
            n = std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, off / 3600, off / 60 % 60);
            s.append(buf, static_cast<std::size_t>(n));
        }
        return s;
    }
};

inline local_datetime local_from_utc(micros us) {
    local_datetime d;
    std::int64_t days = us / us_per_day;
    micros rem = us % us_per_day;
    if (rem < 0) {
        rem += us_per_day;
        --days;
    }
    const auto c = civil_from_days(days);
    d.year = c.year;
    d.month = c.month;
    d.day = c.day;
    const auto secs = rem / us_per_second;
    d.hour = static_cast<unsigned>(secs / 3600);
    d.minute = static_cast<unsigned>(secs / 60 % 60);
    d.second = static_cast<unsigned>(secs % 60);
    d.micro = rem % us_per_second;
    d.offset_seconds = 0;
    return d;
}

namespace speedate {

// The parser's error explanations (ParseError::get_documentation).
inline constexpr std::string_view too_short = "input is too short";
inline constexpr std::string_view invalid_char_year = "invalid character in year";
inline constexpr std::string_view invalid_char_date_sep = "invalid date separator, expected `-`";
inline constexpr std::string_view invalid_char_month = "invalid character in month";
inline constexpr std::string_view invalid_char_day = "invalid character in day";
inline constexpr std::string_view out_of_range_month = "month value is outside expected range of 1-12";
inline constexpr std::string_view out_of_range_day = "day value is outside expected range";
inline constexpr std::string_view invalid_char_dt_sep = "invalid datetime separator, expected `T`, `t`, `_` or space";
inline constexpr std::string_view invalid_char_hour = "invalid character in hour";
inline constexpr std::string_view invalid_char_minute = "invalid character in minute";
inline constexpr std::string_view invalid_char_second = "invalid character in second";
inline constexpr std::string_view invalid_char_time_sep = "invalid time separator, expected `:`";
inline constexpr std::string_view out_of_range_hour = "hour value is outside expected range of 0-23";
inline constexpr std::string_view out_of_range_minute = "minute value is outside expected range of 0-59";
inline constexpr std::string_view out_of_range_second = "second value is outside expected range of 0-59";
inline constexpr std::string_view fraction_missing = "second fraction digits missing after `.`";
inline constexpr std::string_view invalid_char_tz_sign = "invalid timezone sign";
inline constexpr std::string_view invalid_char_tz_hour = "invalid timezone hour";
inline constexpr std::string_view invalid_char_tz_minute = "invalid timezone minute";
inline constexpr std::string_view out_of_range_tz = "timezone offset must be less than 24 hours";
inline constexpr std::string_view extra_characters = "unexpected extra characters at the end of the input";
inline constexpr std::string_view out_of_range_timestamp = "timestamp value is outside expected range";

inline bool two_digits(std::string_view s, std::size_t at, unsigned& v) {
    if (at + 2 > s.size()) return false;
    const char a = s[at], b = s[at + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') return false;
    v = static_cast<unsigned>((a - '0') * 10 + (b - '0'));
    return true;
}

// The date part (first 10 characters); the rest is left to the caller.
inline std::optional<std::string_view> parse_date_partial(std::string_view s, local_datetime& d) {
    if (s.size() < 10) return too_short;
    std::int64_t y = 0;
    for (int i = 0; i < 4; ++i) {
        if (s[i] < '0' || s[i] > '9') return invalid_char_year;
        y = y * 10 + (s[i] - '0');
    }
    if (s[4] != '-') return invalid_char_date_sep;
    unsigned m, day;
    if (!two_digits(s, 5, m)) return invalid_char_month;
    if (s[7] != '-') return invalid_char_date_sep;
    if (!two_digits(s, 8, day)) return invalid_char_day;
    if (m < 1 || m > 12) return out_of_range_month;
    if (day < 1 || day > days_in_month(y, m)) return out_of_range_day;
    d.year = y;
    d.month = m;
    d.day = day;
    return std::nullopt;
}

// Time and offset starting at `pos` (after the date-time separator).
inline std::optional<std::string_view> parse_time(std::string_view s, std::size_t pos, local_datetime& d) {
    if (s.size() < pos + 5) return too_short;
    unsigned h, mi;
    if (!two_digits(s, pos, h)) return invalid_char_hour;
    if (h > 23) return out_of_range_hour;
    if (s[pos + 2] != ':') return invalid_char_time_sep;
    if (!two_digits(s, pos + 3, mi)) return invalid_char_minute;
    if (mi > 59) return out_of_range_minute;
    pos += 5;
    unsigned sec = 0;
    std::int64_t micro = 0;
    if (pos < s.size() && s[pos] == ':') {
        if (!two_digits(s, pos + 1, sec)) return invalid_char_second;
        if (sec > 59) return out_of_range_second;
        pos += 3;
        if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
            ++pos;
            int n = 0;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
                // Digits past the sixth are truncated (Pydantic's default).
                if (n < 6) micro = micro * 10 + (s[pos] - '0');
                ++n;
                ++pos;
            }
            if (n == 0) return fraction_missing;
            for (int i = n; i < 6; ++i) micro *= 10;
        }
    }
    std::optional<int> offset;
    if (pos < s.size()) {
        const char c = s[pos++];
        if (c == 'Z' || c == 'z') {
            offset = 0;
        } else if (c == '+' || c == '-') {
            unsigned oh, om = 0;
            if (!two_digits(s, pos, oh)) return invalid_char_tz_hour;
            pos += 2;
            if (pos < s.size() && s[pos] == ':') ++pos;
            if (pos < s.size()) {
                if (!two_digits(s, pos, om)) return invalid_char_tz_minute;
                pos += 2;
            }
            const int total = static_cast<int>(oh * 3600 + om * 60);
            if (total >= 86400) return out_of_range_tz;
            offset = c == '-' ? -total : total;
        } else {
            return invalid_char_tz_sign;
        }
    }
    if (pos < s.size()) return extra_characters;
    d.hour = h;
    d.minute = mi;
    d.second = sec;
    d.micro = micro;
    d.offset_seconds = offset;
    return std::nullopt;
}

// A Unix timestamp written as a number: seconds, or milliseconds when its
// magnitude exceeds 2e10 (as speedate does). Always UTC.
inline bool parse_numeric_timestamp(std::string_view s, local_datetime& d) {
    if (s.empty()) return false;
    double v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
    if (std::abs(v) > 2e10) v /= 1000;
    if (!(v > -62135596800.0 && v < 253402300800.0)) return false;
    const auto us = static_cast<micros>(std::llround(v * 1e6));
    d = local_from_utc(us);
    return true;
}

} // namespace speedate

enum class dt_outcome { aware, naive, invalid };

struct dt_parse {
    dt_outcome outcome = dt_outcome::invalid;
    local_datetime value;
    std::string error_type;    // datetime_from_date_parsing | datetime_parsing
    std::string error_detail;  // the parser's explanation
};

// Parses a string the way Pydantic v2 validates a `datetime` in lax mode:
// a full date-time; else a Unix timestamp; else a bare date (midnight,
// naive). When everything fails, the error explains the date attempt
// (datetime_from_date_parsing) unless the input starts with a valid date, in
// which case it explains the date-time attempt (datetime_parsing).
inline dt_parse parse_datetime_text(std::string_view s) {
    dt_parse out;
    local_datetime d;
    std::optional<std::string_view> dt_error = speedate::parse_date_partial(s, d);
    if (!dt_error) {
        if (s.size() <= 10) {
            dt_error = speedate::invalid_char_dt_sep;
        } else {
            const char sep = s[10];
            if (sep != 'T' && sep != 't' && sep != '_' && sep != ' ')
                dt_error = speedate::invalid_char_dt_sep;
            else
                dt_error = speedate::parse_time(s, 11, d);
        }
        if (!dt_error) {
            out.value = d;
            out.outcome = d.offset_seconds ? dt_outcome::aware : dt_outcome::naive;
            return out;
        }
    }
    if (speedate::parse_numeric_timestamp(s, d)) {
        out.value = d;
        out.outcome = dt_outcome::aware;
        return out;
    }
    local_datetime date_only;
    auto date_error = speedate::parse_date_partial(s, date_only);
    if (!date_error && s.size() == 10) {
        out.value = date_only;
        out.value.offset_seconds.reset();
        out.outcome = dt_outcome::naive;
        return out;
    }
    if (!date_error) {
        out.error_type = "datetime_parsing";
        out.error_detail = std::string(*dt_error);
    } else {
        out.error_type = "datetime_from_date_parsing";
        out.error_detail = std::string(*date_error);
    }
    return out;
}

// Validates an AwareDatetime input (a query string or a JSON value).
inline std::optional<local_datetime> validate_aware_datetime(const json::value& input, const loc_t& loc,
                                                             verrors& errors) {
    if (input.is_int64() || input.is_uint64() || input.is_double()) {
        // A JSON number is a Unix timestamp (seconds, or milliseconds past 2e10).
        double v = input.to_number<double>();
        if (std::abs(v) > 2e10) v /= 1000;
        if (v > -62135596800.0 && v < 253402300800.0)
            return local_from_utc(static_cast<micros>(std::llround(v * 1e6)));
        errors.push_back(make_error("datetime_parsing", loc,
                                    "Input should be a valid datetime, " + std::string(speedate::out_of_range_timestamp),
                                    input, json::object{{"error", speedate::out_of_range_timestamp}}));
        return std::nullopt;
    }
    if (!input.is_string()) {
        errors.push_back(make_error("datetime_type", loc, "Input should be a valid datetime", input));
        return std::nullopt;
    }
    auto p = parse_datetime_text(input.get_string());
    switch (p.outcome) {
    case dt_outcome::aware: return p.value;
    case dt_outcome::naive:
        errors.push_back(make_error("timezone_aware", loc, "Input should have timezone info", input));
        return std::nullopt;
    case dt_outcome::invalid: break;
    }
    const std::string prefix = p.error_type == "datetime_parsing" ? "Input should be a valid datetime, "
                                                                  : "Input should be a valid datetime or date, ";
    errors.push_back(make_error(p.error_type, loc, prefix + p.error_detail, input,
                                json::object{{"error", p.error_detail}}));
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Calendar arithmetic in UTC (the database session time zone).

enum class time_interval { year, month, week, day, hour };

inline std::optional<time_interval> parse_interval(std::string_view s) {
    if (s == "year") return time_interval::year;
    if (s == "month") return time_interval::month;
    if (s == "week") return time_interval::week;
    if (s == "day") return time_interval::day;
    if (s == "hour") return time_interval::hour;
    return std::nullopt;
}

inline std::string_view interval_name(time_interval i) {
    switch (i) {
    case time_interval::year: return "year";
    case time_interval::month: return "month";
    case time_interval::week: return "week";
    case time_interval::day: return "day";
    case time_interval::hour: return "hour";
    }
    return "day";
}

inline micros floor_div(micros a, micros b) {
    micros q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

// date_trunc(interval, t) in UTC; weeks start on Monday (ISO).
inline micros date_trunc(time_interval unit, micros t) {
    const micros days = floor_div(t, us_per_day);
    switch (unit) {
    case time_interval::hour: return floor_div(t, 3600 * us_per_second) * 3600 * us_per_second;
    case time_interval::day: return days * us_per_day;
    case time_interval::week: {
        // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
        const micros weekday = ((days + 3) % 7 + 7) % 7;
        return (days - weekday) * us_per_day;
    }
    case time_interval::month: {
        const auto c = civil_from_days(days);
        return days_from_civil(c.year, c.month, 1) * us_per_day;
    }
    case time_interval::year: {
        const auto c = civil_from_days(days);
        return days_from_civil(c.year, 1, 1) * us_per_day;
    }
    }
    return t;
}

// t + '1 <interval>' for a timestamptz in UTC: months add calendar months
// and clamp the day (Jan 31 + 1 month = Feb 28), keeping the time of day.
inline micros add_interval(time_interval unit, micros t) {
    switch (unit) {
    case time_interval::hour: return t + 3600 * us_per_second;
    case time_interval::day: return t + us_per_day;
    case time_interval::week: return t + 7 * us_per_day;
    case time_interval::month:
    case time_interval::year: {
        const micros days = floor_div(t, us_per_day);
        const micros tod = t - days * us_per_day;
        const auto c = civil_from_days(days);
        std::int64_t y = c.year;
        unsigned m = c.month;
        if (unit == time_interval::year) {
            ++y;
        } else if (++m > 12) {
            m = 1;
            ++y;
        }
        const unsigned d = std::min(c.day, days_in_month(y, m));
        return days_from_civil(y, m, d) * us_per_day + tod;
    }
    }
    return t;
}

} // namespace polar::testing::emu

#endif
