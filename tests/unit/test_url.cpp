// Percent-encoding of path segments and query values.
#include <polar/detail/url.hpp>

#include <doctest/doctest.h>

#include <string>

namespace {

std::string encoded(std::string_view s) {
    std::string out = "prefix/";
    polar::detail::append_encoded(out, s);
    return out;
}

} // namespace

TEST_CASE("url: unreserved characters pass through, everything else is escaped") {
    CHECK(encoded("") == "prefix/");
    CHECK(encoded("b95a2aaf-ec00-414b-aeba-ea1214392bfd") == "prefix/b95a2aaf-ec00-414b-aeba-ea1214392bfd");
    CHECK(encoded("AZaz09-._~") == "prefix/AZaz09-._~");
    CHECK(encoded("/") == "prefix/%2F");
    CHECK(encoded("../x") == "prefix/..%2Fx");
    CHECK(encoded("a b+c&d=e?f#g") == "prefix/a%20b%2Bc%26d%3De%3Ff%23g");
    CHECK(encoded("\r\nHost: x") == "prefix/%0D%0AHost%3A%20x");
    CHECK(encoded(std::string_view("\0z", 2)) == "prefix/%00z");
    CHECK(encoded("\xC3\xA9t\xC3\xA9") == "prefix/%C3%A9t%C3%A9");
    CHECK(encoded("%%") == "prefix/%25%25");
}

TEST_CASE("url: a query is built in order, values encoded") {
    std::string target = "/v1/meters/";
    polar::detail::query_builder q(target);
    CHECK(q.empty());
    q.add("query", "a&b=c");
    q.add("limit", std::int64_t{100});
    q.add_deep("metadata", "team name", "x/y");
    CHECK_FALSE(q.empty());
    CHECK(target == "/v1/meters/?query=a%26b%3Dc&limit=100&metadata[team%20name]=x%2Fy");
}
