// How the client reads a response: the body grows with the bytes that arrive,
// whatever Content-Length announces, and the limits turn into typed errors.
#include <polar/detail/response.hpp>

#include <doctest/doctest.h>

#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace {

namespace http = boost::beast::http;

// Feeds `bytes` to `parser` the way a read loop does; returns the first error.
polar::error_code feed(polar::detail::response_parser& parser, std::string_view bytes) {
    polar::error_code ec;
    while (!bytes.empty() && !parser.is_done()) {
        const auto n = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
        if (ec == http::error::need_more) return {};
        if (ec) return ec;
        bytes.remove_prefix(n);
    }
    return ec;
}

} // namespace

TEST_CASE("response body: a huge Content-Length does not reserve memory for bytes that never come") {
    polar::detail::response_parser parser;
    polar::detail::limit_response_parser(parser, 16 * 1024 * 1024);
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16000000\r\n\r\n";
    CHECK_FALSE(feed(parser, head + "{\"id\":1}"));
    CHECK_FALSE(parser.is_done());
    CHECK(parser.get().body() == "{\"id\":1}");
    CHECK(parser.get().body().capacity() <= polar::detail::response_body::initial_reserve * 2);
}

TEST_CASE("response body: a large body arrives whole, in pieces") {
    polar::detail::response_parser parser;
    polar::detail::limit_response_parser(parser, 16 * 1024 * 1024);
    std::string body(300 * 1024, 'x');
    for (std::size_t i = 0; i < body.size(); i += 997) body[i] = static_cast<char>('a' + i % 26);
    const std::string message =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    polar::error_code ec;
    // one put per arrival of 4 KiB, as a socket would deliver it
    std::string pending;
    for (std::size_t at = 0; at < message.size() && !ec; at += 4096) {
        pending += message.substr(at, 4096);
        const auto n = parser.put(boost::asio::buffer(pending), ec);
        if (ec == http::error::need_more) ec = {};
        pending.erase(0, n);
    }
    CHECK_FALSE(ec);
    REQUIRE(parser.is_done());
    CHECK(parser.get().body() == body);

    polar::detail::received_response r;
    polar::detail::take_response({}, parser, 16 * 1024 * 1024, r);
    CHECK_FALSE(r.ec);
    CHECK(r.status == 200);
    CHECK(r.body == body);
}

TEST_CASE("response body: the body limit still applies, declared or chunked") {
    {
        polar::detail::response_parser parser;
        polar::detail::limit_response_parser(parser, 1024);
        const auto ec = feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n");
        CHECK(ec == http::error::body_limit);
        polar::detail::received_response r;
        polar::detail::take_response(ec, parser, 1024, r);
        CHECK(r.ec == polar::errc::body_too_large);
    }
    {
        polar::detail::response_parser parser;
        polar::detail::limit_response_parser(parser, 1024);
        std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (int i = 0; i < 4; ++i) chunked += "200\r\n" + std::string(512, 'y') + "\r\n";
        chunked += "0\r\n\r\n";
        const auto ec = feed(parser, chunked);
        CHECK(ec == http::error::body_limit);
        CHECK(parser.get().body().size() <= 1024);
    }
}

TEST_CASE("response head: status, the fields the client keeps, and keep-alive") {
    auto take = [](std::string_view message) {
        polar::detail::response_parser parser;
        polar::detail::limit_response_parser(parser, 1024);
        polar::detail::received_response r;
        const auto ec = feed(parser, message);
        REQUIRE_FALSE(ec);
        REQUIRE(parser.is_done());
        polar::detail::take_response({}, parser, 1024, r);
        return r;
    };
    // Names in any case; the first of a repeated field counts.
    auto r = take("HTTP/1.1 429 Too Many Requests\r\ncontent-TYPE: application/json\r\nX-REQUEST-ID: req-1\r\n"
                  "x-request-id: req-2\r\nRetry-After: 7\r\nretry-after: 9\r\nX-Other: o\r\n"
                  "Content-Length: 2\r\n\r\n{}");
    CHECK(r.status == 429);
    CHECK(r.content_type == "application/json");
    CHECK(r.request_id == "req-1");
    CHECK(r.retry_after == "7");
    CHECK(r.keep_alive);
    CHECK(r.body == "{}");

    r = take("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    CHECK(r.status == 200);
    CHECK(r.content_type.empty());
    CHECK(r.request_id.empty());
    CHECK(r.retry_after.empty());
    CHECK_FALSE(r.keep_alive);

    CHECK_FALSE(take("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
    CHECK(take("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keep_alive);
}
