#ifndef POLAR_DETAIL_CODEC_STREAM_SERVER_TIME_IPP
#define POLAR_DETAIL_CODEC_STREAM_SERVER_TIME_IPP

// Date-times in the form the server writes them, read straight from the
// token: most of a quantities body is its timestamps. Anything else goes to
// detail::parse_timestamp(), which accepts the whole grammar.

#include <polar/detail/calendar.hpp>
#include <polar/detail/datetime.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

class server_times {
public:
    // The form the server writes (`2026-11-02T10:00:00Z`, with 6 fraction
    // digits or none) read directly, the day cached; false for anything else,
    // which parse_timestamp() then decides.
    bool read(std::string_view s, timestamp& out) noexcept {
        const std::size_t n = s.size();
        if (n != 20 && n != 27) return false;
        const char* p = s.data();
        if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' || p[n - 1] != 'Z')
            return false;
        if (n == 27 && p[19] != '.') return false;
        unsigned bad = 0;
        const auto digit = [&](std::size_t i) noexcept {
            const unsigned x = static_cast<unsigned>(static_cast<unsigned char>(p[i])) - '0';
            bad |= x > 9;
            return x;
        };
        const unsigned year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
        const unsigned month = digit(5) * 10 + digit(6), day = digit(8) * 10 + digit(9);
        const unsigned hour = digit(11) * 10 + digit(12), minute = digit(14) * 10 + digit(15);
        const unsigned second = digit(17) * 10 + digit(18);
        unsigned micro = 0;
        if (n == 27)
            micro = digit(20) * 100000 + digit(21) * 10000 + digit(22) * 1000 + digit(23) * 100 + digit(24) * 10 +
                    digit(25);
        if (bad) return false;
        if (hour > 23 || minute > 59 || second > 59) return false;
        std::int64_t days;
        const unsigned key = (year * 100 + month) * 100 + day;
        entry& e = cache_[key % std::size(cache_)];
        if (key == e.key) {
            days = e.days;
        } else {
            if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
            days = days_from_civil(year, month, day);
            e.key = key;
            e.days = days;
        }
        const std::int64_t us = (days * 86400 + hour * 3600 + minute * 60 + second) * 1000000 + micro;
        out = timestamp(std::chrono::microseconds(us));
        return true;
    }
private:
    // Dates read lately (yyyymmdd) and their day numbers.
    struct entry {
        unsigned key = ~0u;
        std::int64_t days = 0;
    };
    entry cache_[16];
};

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
