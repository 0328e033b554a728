// How the client reads a response: the body grows with the bytes that arrive,
// whatever Content-Length announces, and the limits turn into typed errors.
#include <polar/detail/response.hpp>

#include <doctest/doctest.h>

#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <cstdio>
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

namespace {

// Records what a body_sink is given.
struct recording_sink final : polar::detail::body_sink {
    int starts = 0, finishes = 0;
    std::uint64_t declared = 0;
    std::string bytes;
    void start(std::uint64_t length) override {
        ++starts;
        declared = length;
        bytes.clear();
    }
    void put(std::string_view b) override { bytes.append(b); }
    void finish() override { ++finishes; }
    polar::error_code result(std::string& what) override {
        what = "recorded";
        return {};
    }
};

} // namespace

TEST_CASE("response body: a 2xx JSON body goes to the sink as it arrives; others are read whole") {
    const std::string big(10000, 'x');
    const std::string json = "{\"s\":\"" + big + "\"}";
    SUBCASE("200 JSON with a length: streamed, its start kept") {
        recording_sink sink;
        polar::detail::response_parser parser;
        polar::detail::limit_response_parser(parser, 1 << 20);
        parser.get().body().sink = &sink;
        const std::string msg = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
                                std::to_string(json.size()) + "\r\n\r\n" + json;
        for (std::size_t i = 0; i < msg.size(); i += 100) REQUIRE_FALSE(feed(parser, std::string_view(msg).substr(i, 100)));
        REQUIRE(parser.is_done());
        CHECK(sink.starts == 1);
        CHECK(sink.finishes == 1);
        CHECK(sink.declared == json.size());
        CHECK(sink.bytes == json);
        const auto& body = parser.get().body();
        CHECK(body.streamed);
        CHECK(body.received == json.size());
        CHECK(std::string_view(body) == std::string_view(json).substr(0, polar::detail::max_kept_body));
        polar::detail::received_response r;
        polar::detail::take_response({}, parser, 1 << 20, r);
        CHECK(r.streamed);
        CHECK(r.decode_what == "recorded");
    }
    SUBCASE("200 JSON, chunked: streamed, no declared length") {
        recording_sink sink;
        polar::detail::response_parser parser;
        polar::detail::limit_response_parser(parser, 1 << 20);
        parser.get().body().sink = &sink;
        std::string msg = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::size_t i = 0; i < json.size(); i += 333) {
            const std::string piece = json.substr(i, 333);
            char size[16];
            std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
            msg += size + piece + "\r\n";
        }
        msg += "0\r\n\r\n";
        REQUIRE_FALSE(feed(parser, msg));
        REQUIRE(parser.is_done());
        CHECK(sink.declared == 0);
        CHECK(sink.bytes == json);
        CHECK(sink.finishes == 1);
        CHECK(parser.get().body().streamed);
    }
    SUBCASE("a 404 JSON body and a 200 text body stay whole") {
        for (const char* head : {"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n",
                                 "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"}) {
            recording_sink sink;
            polar::detail::response_parser parser;
            polar::detail::limit_response_parser(parser, 1 << 20);
            parser.get().body().sink = &sink;
            const std::string msg = std::string(head) + "Content-Length: " + std::to_string(json.size()) + "\r\n\r\n" + json;
            REQUIRE_FALSE(feed(parser, msg));
            CHECK(sink.starts == 0);
            CHECK_FALSE(parser.get().body().streamed);
            CHECK(std::string_view(parser.get().body()) == json);
        }
    }
    SUBCASE("the body limit still applies to a streamed body") {
        recording_sink sink;
        polar::detail::response_parser parser;
        polar::detail::limit_response_parser(parser, 1024);
        parser.get().body().sink = &sink;
        const std::string msg = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                [&] { char s[16]; std::snprintf(s, sizeof s, "%zx\r\n", json.size()); return std::string(s); }() +
                                json + "\r\n0\r\n\r\n";
        CHECK(feed(parser, msg) == http::error::body_limit);
        CHECK(sink.bytes.size() <= 1024);
    }
}
