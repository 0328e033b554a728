#ifndef POLAR_DETAIL_CODEC_STREAM_SERVER_TIME_IPP
#define POLAR_DETAIL_CODEC_STREAM_SERVER_TIME_IPP

// Date-times in the form the server writes them, read straight from the
// token: most of a quantities body is its timestamps. Anything else goes to
// detail::parse_timestamp(), which accepts the whole grammar.
//
// The fields sit at fixed offsets, so each group ("yyyy-mm-", "hh:mm:ss",
// ".ffffff") is one 8-byte load, checked and converted as a word. Bodies
// repeat a date many times (a quantities series is hourly; a page of events
// spans a few days), so the day numbers of the last dates are kept and a
// date equal in its bytes to one of them costs two comparisons.

#include <polar/detail/calendar.hpp>
#include <polar/detail/datetime.hpp>
#include <polar/detail/codec/stream/words.ipp>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

namespace server_time_impl {

constexpr std::uint64_t ones = 0x0101010101010101u;

// True when every byte of `x` is at most 9. A byte above 9 sets its top bit
// (in `x` or in `x + 0x76`); a carry out of such a byte only adds failures.
constexpr bool all_digits(std::uint64_t x) noexcept { return ((x | (x + 0x76 * ones)) & (0x80 * ones)) == 0; }

// With the digit values in the bytes of `x`: byte i becomes 10 * x[i] + x[i + 1].
constexpr std::uint64_t pairs(std::uint64_t x) noexcept { return x * 10 + (x >> 8); }
constexpr unsigned byte_at(std::uint64_t x, int i) noexcept { return static_cast<unsigned>(x >> (8 * i)) & 0xff; }

// XOR with these leaves the digit values, and zero where a separator belongs.
constexpr std::uint64_t date_form = le_bytes("0000-00-", 0, 8);
constexpr std::uint64_t date_seps = 0xffull << 32 | 0xffull << 56;
constexpr std::uint64_t time_form = le_bytes("00:00:00", 0, 8);
constexpr std::uint64_t time_seps = 0xffull << 16 | 0xffull << 40;
constexpr std::uint64_t fraction_form = le_bytes(".000000", 0, 7); // the 8th byte starts the offset
constexpr std::uint64_t fraction_mask = 0x00ffffffffffffffu;

constexpr std::int64_t us_per_day = std::int64_t(86400) * 1000000;
constexpr std::int64_t min_us = days_from_civil(1, 1, 1) * us_per_day;
constexpr std::int64_t max_us = days_from_civil(10000, 1, 1) * us_per_day - 1;

} // namespace server_time_impl

class server_times {
public:
    // `2026-11-02T10:00:00` with 6 fraction digits or none, then `Z` or an
    // offset `+hh:mm` / `-hh:mm`, read directly; false for anything else,
    // which parse_timestamp() then decides (the same result for what this
    // accepts).
    bool read(std::string_view s, timestamp& out) noexcept {
        if constexpr (std::endian::native != std::endian::little) {
            return false;
        } else {
            const std::size_t n = s.size();
            if (n == 20 || n == 27) {
                if (s[n - 1] != 'Z') return false;
                return read_local(s.data(), n == 27, 0, out);
            }
            if (n == 25 || n == 32) return read_offset(s, out);
            return false;
        }
    }

private:
    [[gnu::noinline]] bool read_offset(std::string_view s, timestamp& out) noexcept {
        using namespace server_time_impl;
        const char* o = s.data() + s.size() - 6;
        const char sign = o[0];
        if (sign != '+' && sign != '-') return false;
        const unsigned h1 = static_cast<unsigned char>(o[1]) - '0', h2 = static_cast<unsigned char>(o[2]) - '0';
        const unsigned m1 = static_cast<unsigned char>(o[4]) - '0', m2 = static_cast<unsigned char>(o[5]) - '0';
        if (h1 > 9 || h2 > 9 || o[3] != ':' || m1 > 9 || m2 > 9) return false;
        const unsigned oh = h1 * 10 + h2, om = m1 * 10 + m2;
        if (oh > 23 || om > 59) return false;
        std::int64_t offset = std::int64_t(oh) * 3600 + om * 60;
        if (sign == '-') offset = -offset;
        timestamp t;
        if (!read_local(s.data(), s.size() == 32, offset, t)) return false;
        // The offset may move the instant out of years 0001..9999, which
        // parse_timestamp() rejects.
        const std::int64_t us = t.time_since_epoch().count();
        if (us < min_us || us > max_us) return false;
        out = t;
        return true;
    }

    // The date and time at p (with the fraction when `fraction`), less `offset` seconds.
    [[gnu::always_inline]] bool read_local(const char* p, bool fraction, std::int64_t offset, timestamp& out) noexcept {
        using namespace server_time_impl;
        const std::uint64_t t = load<std::uint64_t>(p + 11) ^ time_form;
        if (!all_digits(t) || (t & time_seps)) return false;
        const std::uint64_t tp = pairs(t);
        const unsigned hour = byte_at(tp, 0), minute = byte_at(tp, 3), second = byte_at(tp, 6);
        if (hour > 23 || minute > 59 || second > 59) return false;

        unsigned micro = 0;
        if (fraction) {
            const std::uint64_t f = (load<std::uint64_t>(p + 19) ^ fraction_form) & fraction_mask;
            if (!all_digits(f) || (f & 0xff)) return false;
            const std::uint64_t fp = pairs(f);
            micro = byte_at(fp, 1) * 10000 + byte_at(fp, 3) * 100 + byte_at(fp, 5);
        }

        // The date and its `T`: bytes 0-7, then 7-10.
        const std::uint64_t lo = load<std::uint64_t>(p);
        const std::uint32_t hi = load<std::uint32_t>(p + 7);
        date& c = dates_[(lo >> 48 ^ hi >> 16) & (std::size(dates_) - 1)]; // by the last digits of month and day
        if ((lo != c.lo || hi != c.hi) && !read_date(p, c)) [[unlikely]] return false;

        const std::int64_t secs = std::int64_t(hour) * 3600 + minute * 60 + second - offset;
        out = timestamp(std::chrono::microseconds(c.days * us_per_day + secs * 1000000 + micro));
        return true;
    }

    struct date;
    // A date not read lately, into `c`.
    [[gnu::noinline]] static bool read_date(const char* p, date& c) noexcept {
        using namespace server_time_impl;
        const std::uint64_t lo = load<std::uint64_t>(p);
        const std::uint64_t d = lo ^ date_form;
        if (!all_digits(d) || (d & date_seps)) return false;
        const unsigned d1 = static_cast<unsigned char>(p[8]) - '0', d2 = static_cast<unsigned char>(p[9]) - '0';
        if (d1 > 9 || d2 > 9 || p[10] != 'T') return false;
        const std::uint64_t dp = pairs(d);
        const unsigned year = byte_at(dp, 0) * 100 + byte_at(dp, 2), month = byte_at(dp, 5);
        const unsigned day = d1 * 10 + d2;
        if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
        c.lo = lo;
        c.hi = load<std::uint32_t>(p + 7);
        c.days = days_from_civil(year, month, day);
        return true;
    }

    // Dates read lately (their bytes 0-7 and 7-10) and their day numbers: a
    // page of events alternates between the events' dates and their
    // customers'. At first all 1970-01-01, day 0.
    struct date {
        std::uint64_t lo = le_bytes("1970-01-", 0, 8);
        std::uint32_t hi = static_cast<std::uint32_t>(le_bytes("-01T", 0, 4));
        std::int64_t days = 0;
    };
    date dates_[8];
};

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
