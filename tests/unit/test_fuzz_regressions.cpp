// Regression tests for what the fuzz targets in fuzz/ found: each case is
// the smallest input that failed, with the behaviour now expected.
#include <polar/detail/datetime.hpp>
#include <polar/detail/http_util.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono;

bool parses(std::string_view s) {
    polar::timestamp t{};
    return polar::detail::parse_timestamp(s, t);
}

} // namespace

TEST_CASE("fuzz regression: an offset may not move a timestamp out of years 0001..9999") {
    // These used to parse into year 0000 and year 10000, which
    // format_timestamp() then wrote as text that does not parse back.
    CHECK_FALSE(parses("0001-01-01T00:00:00+01:00"));
    CHECK_FALSE(parses("0001-01-01T00:59:59.999999+01"));
    CHECK_FALSE(parses("9999-12-31T23:59:59-00:01"));
    CHECK_FALSE(parses("9999-12-31T23:00-0100"));
    // The extremes themselves still parse and round-trip.
    for (std::string_view s : {"0001-01-01T00:00:00Z", "0001-01-01T01:00:00+01:00", "9999-12-31T23:59:59.999999Z",
                               "9999-12-31T22:59:59.999999-01:00"}) {
        INFO(s);
        polar::timestamp t{}, back{};
        REQUIRE(polar::detail::parse_timestamp(s, t));
        const std::string text = polar::detail::format_timestamp(t);
        REQUIRE(polar::detail::parse_timestamp(text, back));
        CHECK(back == t);
    }
}

TEST_CASE("fuzz regression: a Retry-After date past year 2262 does not overflow") {
    // The difference used to be computed in system_clock's nanoseconds,
    // which overflow (undefined behaviour) for dates after 2262.
    const auto now = system_clock::now();
    const auto ra = polar::detail::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now);
    REQUIRE(ra);
    CHECK(*ra > hours(24 * 365) * 7000);
    const auto past = polar::detail::parse_retry_after("Mon, 01 Jan 0001 00:00:00 GMT", now);
    REQUIRE(past);
    CHECK(past->count() == 0);
}

TEST_CASE("fuzz regression: parse_base_url rejects control characters") {
    // Used to be accepted into the host (Host header, TLS server name, where
    // a NUL cuts the name short) and the path prefix (request target).
    polar::detail::endpoint ep;
    std::string err;
    CHECK_FALSE(polar::detail::parse_base_url(std::string_view("https://a\x01.sh/x", 16), ep, err));
    CHECK(err == "server_url contains control characters");
    CHECK_FALSE(polar::detail::parse_base_url(std::string_view("https://api.polar.sh\0.evil", 26), ep, err));
    CHECK_FALSE(polar::detail::parse_base_url("http://127.0.0.1:8080/pre\x7f", ep, err));
    CHECK_FALSE(polar::detail::parse_base_url("http://127.0.0.1:8080/a\x1b[0m", ep, err));
    // Ordinary URLs still parse.
    REQUIRE(polar::detail::parse_base_url("https://sandbox-api.polar.sh/v1/", ep, err));
    CHECK(ep.host == "sandbox-api.polar.sh");
    CHECK(ep.prefix == "/v1");
}
