// Timestamps: ISO 8601 parsing (offsets, fractions, validation) and the
// server's output format.
#include <polar/models/common.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace {

using namespace std::chrono;
using polar::timestamp;

timestamp utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, std::int64_t us = 0) {
    return timestamp(sys_days(year(y) / month(m) / day(d)) + hours(hh) + minutes(mm) + seconds(ss) + microseconds(us));
}

timestamp parse_ok(std::string_view s) {
    timestamp t;
    INFO("input: " << s);
    REQUIRE(polar::parse_timestamp(s, t));
    return t;
}

bool rejects(std::string_view s) {
    timestamp t = utc(2000, 1, 1);
    const bool ok = polar::parse_timestamp(s, t);
    // A rejected input leaves the output untouched.
    return !ok && t == utc(2000, 1, 1);
}

} // namespace

TEST_CASE("datetime: parses the server's format") {
    CHECK(parse_ok("2025-03-01T00:00:00Z") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-25T15:51:07.123456Z") == utc(2025, 3, 25, 15, 51, 7, 123456));
    CHECK(parse_ok("1970-01-01T00:00:00Z").time_since_epoch().count() == 0);
}

TEST_CASE("datetime: offsets are applied") {
    CHECK(parse_ok("2025-03-01T02:00:00+02:00") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-01T00:00:00-05:30") == utc(2025, 3, 1, 5, 30));
    CHECK(parse_ok("2025-03-01T00:00:00+00:00") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-01T00:00:00-00:00") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-01T01:00:00+0100") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-01T01:00:00+01") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-01T23:59:00+23:59") == utc(2025, 3, 1));
    // Crossing a year boundary through the offset.
    CHECK(parse_ok("2025-01-01T00:30:00+01:00") == utc(2024, 12, 31, 23, 30));
    CHECK(parse_ok("2024-12-31T23:30:00-01:00") == utc(2025, 1, 1, 0, 30));
}

TEST_CASE("datetime: fractions of 1 to 9 digits, truncated to microseconds") {
    CHECK(parse_ok("2025-03-01T00:00:00.5Z") == utc(2025, 3, 1, 0, 0, 0, 500000));
    CHECK(parse_ok("2025-03-01T00:00:00.12Z") == utc(2025, 3, 1, 0, 0, 0, 120000));
    CHECK(parse_ok("2025-03-01T00:00:00.000001Z") == utc(2025, 3, 1, 0, 0, 0, 1));
    CHECK(parse_ok("2025-03-01T00:00:00.1234567Z") == utc(2025, 3, 1, 0, 0, 0, 123456));
    CHECK(parse_ok("2025-03-01T00:00:00.999999999Z") == utc(2025, 3, 1, 0, 0, 0, 999999));
    CHECK(parse_ok("2025-03-01T00:00:00,25+01:00") == utc(2025, 2, 28, 23, 0, 0, 250000));
    CHECK(parse_ok("1969-12-31T23:59:59.999999Z").time_since_epoch().count() == -1);
}

TEST_CASE("datetime: accepted ISO 8601 / RFC 3339 variants") {
    CHECK(parse_ok("2025-03-01t00:00:00z") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-01 00:00:00Z") == utc(2025, 3, 1));
    CHECK(parse_ok("2025-03-01T10:20Z") == utc(2025, 3, 1, 10, 20));
    CHECK(parse_ok("2024-02-29T12:00:00Z") == utc(2024, 2, 29, 12));
    CHECK(parse_ok("2000-02-29T00:00:00Z") == utc(2000, 2, 29));
    CHECK(parse_ok("0001-01-01T00:00:00Z") == utc(1, 1, 1));
    CHECK(parse_ok("9999-12-31T23:59:59.999999Z") == utc(9999, 12, 31, 23, 59, 59, 999999));
}

TEST_CASE("datetime: rejects naive, malformed and out-of-range date-times") {
    // No offset.
    CHECK(rejects("2025-03-01T00:00:00"));
    CHECK(rejects("2025-03-01T00:00:00.123456"));
    CHECK(rejects("2025-03-01"));
    // Impossible dates.
    CHECK(rejects("2025-02-29T00:00:00Z"));
    CHECK(rejects("2025-02-30T00:00:00Z"));
    CHECK(rejects("1900-02-29T00:00:00Z"));
    CHECK(rejects("2025-04-31T00:00:00Z"));
    CHECK(rejects("2025-13-01T00:00:00Z"));
    CHECK(rejects("2025-00-01T00:00:00Z"));
    CHECK(rejects("2025-01-00T00:00:00Z"));
    CHECK(rejects("2025-01-32T00:00:00Z"));
    CHECK(rejects("0000-01-01T00:00:00Z"));
    // Out-of-range times and offsets.
    CHECK(rejects("2025-03-01T24:00:00Z"));
    CHECK(rejects("2025-03-01T23:60:00Z"));
    CHECK(rejects("2025-03-01T23:59:60Z"));
    CHECK(rejects("2025-03-01T00:00:00+24:00"));
    CHECK(rejects("2025-03-01T00:00:00+01:60"));
    // Shape.
    CHECK(rejects(""));
    CHECK(rejects("Z"));
    CHECK(rejects("2025-3-01T00:00:00Z"));
    CHECK(rejects("2025-03-1T00:00:00Z"));
    CHECK(rejects("25-03-01T00:00:00Z"));
    CHECK(rejects("2025/03/01T00:00:00Z"));
    CHECK(rejects("2025-03-01X00:00:00Z"));
    CHECK(rejects("2025-03-01T0:00:00Z"));
    CHECK(rejects("2025-03-01T00:00:0Z"));
    CHECK(rejects("2025-03-01T00Z"));
    CHECK(rejects("2025-03-01T00:00:00.Z"));
    CHECK(rejects("2025-03-01T00:00:00.1234567890Z"));
    CHECK(rejects("2025-03-01T00:00:00ZZ"));
    CHECK(rejects("2025-03-01T00:00:00Z "));
    CHECK(rejects(" 2025-03-01T00:00:00Z"));
    CHECK(rejects("2025-03-01T00:00:00+1"));
    CHECK(rejects("2025-03-01T00:00:00+01:0"));
    CHECK(rejects("2025-03-01T00:00:00+01:00:00"));
    CHECK(rejects("2025-03-01T00:00:00 +01:00"));
    CHECK(rejects("2025-03-01T00:00:00UTC"));
    CHECK(rejects("+2025-03-01T00:00:00Z"));
    CHECK(rejects(std::string_view("2025-03-01T00:00:00\0Z", 21)));
    CHECK(rejects(std::string_view("2025-03-01T00:00:00Z", 19)));
    CHECK(rejects("２０２５-03-01T00:00:00Z"));
    CHECK_FALSE(polar::parse_timestamp("2025-03-01T00:00:00").has_value());
}

TEST_CASE("datetime: formats as the server does") {
    CHECK(polar::format_timestamp(utc(2025, 3, 1)) == "2025-03-01T00:00:00Z");
    CHECK(polar::format_timestamp(utc(2025, 3, 25, 15, 51, 7, 123456)) == "2025-03-25T15:51:07.123456Z");
    CHECK(polar::format_timestamp(utc(2025, 3, 25, 15, 51, 7, 1)) == "2025-03-25T15:51:07.000001Z");
    CHECK(polar::format_timestamp(utc(2025, 3, 25, 15, 51, 7, 500000)) == "2025-03-25T15:51:07.500000Z");
    CHECK(polar::format_timestamp(timestamp(microseconds(-1))) == "1969-12-31T23:59:59.999999Z");
    CHECK(polar::format_timestamp(timestamp{}) == "1970-01-01T00:00:00Z");
    CHECK(polar::format_timestamp(utc(2024, 2, 29, 23, 59, 59)) == "2024-02-29T23:59:59Z");
    CHECK(polar::format_timestamp(utc(1, 1, 1)) == "0001-01-01T00:00:00Z");
    CHECK(polar::format_timestamp(utc(9999, 12, 31, 23, 59, 59, 999999)) == "9999-12-31T23:59:59.999999Z");
    // Beyond four-digit years (not produced by parsing, but formatting must not break).
    CHECK(polar::format_timestamp(utc(10000, 1, 1)) == "10000-01-01T00:00:00Z");
    CHECK(polar::format_timestamp(utc(-1, 12, 31)) == "-0001-12-31T00:00:00Z");
}

TEST_CASE("datetime: format and parse round-trip across the whole range") {
    const std::int64_t lo = utc(1, 1, 1).time_since_epoch().count();
    const std::int64_t hi = utc(9999, 12, 31, 23, 59, 59, 999999).time_since_epoch().count();
    std::uint64_t state = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        const auto span = static_cast<std::uint64_t>(hi - lo);
        std::int64_t us = lo + static_cast<std::int64_t>((state >> 1) % span);
        if (i % 3 == 0) us -= us % 1000000; // whole seconds too
        const timestamp t{microseconds(us)};
        const std::string s = polar::format_timestamp(t);
        timestamp back;
        INFO(s);
        REQUIRE(polar::parse_timestamp(s, back));
        REQUIRE(back == t);
    }
    // Every day of a leap and a common year, against std::chrono's calendar.
    for (sys_days d = sys_days(year(2023) / 1 / 1); d < sys_days(year(2025) / 1 / 1); d += days(1)) {
        const year_month_day ymd(d);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT00:00:00Z", int(ymd.year()), unsigned(ymd.month()),
                      unsigned(ymd.day()));
        CHECK(polar::format_timestamp(timestamp(d)) == buf);
        CHECK(parse_ok(buf) == timestamp(d));
    }
}
