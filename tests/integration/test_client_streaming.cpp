// The client decodes a 2xx JSON body as it arrives (detail::body_sink and
// stream_decoder): chunked responses cut in small pieces give the models
// decode() gives for the whole body, system events keep their text, a body
// that does not decode says why with its start kept, a retried attempt
// starts a fresh decode, and a body that fits the read buffer is read whole
// with the same outcome.
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

namespace {

using namespace polar_test;
using tcp = asio::ip::tcp;

// Answers each request on the first connection with `body` in chunks of
// `chunk` bytes (Transfer-Encoding: chunked), one write per chunk.
asio::awaitable<void> chunked_server(tcp::acceptor& acceptor, std::string body, std::size_t chunk) {
    tcp::socket sock = co_await acceptor.async_accept(asio::use_awaitable);
    std::string in;
    for (;;) {
        auto [ec, n] =
            co_await asio::async_read_until(sock, asio::dynamic_buffer(in), "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
        if (ec) co_return;
        in.erase(0, n);
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        co_await asio::async_write(sock, asio::buffer(head), asio::use_awaitable);
        for (std::size_t i = 0; i < body.size(); i += chunk) {
            const std::string piece = body.substr(i, chunk);
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
            const std::string out = size + piece + "\r\n";
            co_await asio::async_write(sock, asio::buffer(out), asio::use_awaitable);
        }
        const std::string last = "0\r\n\r\n";
        co_await asio::async_write(sock, asio::buffer(last), asio::use_awaitable);
    }
}

struct chunked_fixture {
    explicit chunked_fixture(std::string body, std::size_t chunk) : acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(ioc, chunked_server(acceptor, std::move(body), chunk), asio::detached);
        polar::client_options o;
        o.access_token = "token";
        o.server_url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
        o.retry = polar::retry_policy::none();
        o.api_version = polar::api_version::v2025_03;
        api.emplace(ioc.get_executor(), std::move(o));
    }
    asio::io_context ioc;
    tcp::acceptor acceptor;
    std::optional<polar::client> api;
};

const std::string system_event =
    R"({"id":"e2","timestamp":"2026-11-02T11:00:00Z","organization_id":"o","customer_id":null,"customer":null,)"
    R"("external_customer_id":null,"label":"Meter credited","source":"system","name":"meter.credited",)"
    R"("metadata":{"meter_id":"m","units":1000,"nested":{"a":[1,"]}"]}}})";
const std::string events_body =
    R"({"items":[{"id":"e1","timestamp":"2026-11-02T10:00:00.123456Z","name":"llm.call","source":"user",)"
    R"("organization_id":"o","customer_id":null,"external_customer_id":"usr_1","customer":null,)"
    R"("metadata":{"model":"pro","tokens":689,"ratio":0.5}}, )" + system_event +
    R"(],"pagination":{"total_count":2,"max_page":1}})";

// Options for a second client of `fx`'s emulator, like the fixture's own but
// reading at most 512 bytes at once: a body longer than that is decoded as it
// arrives.
polar::client_options small_buffer_options(const client_fixture& fx) {
    polar::client_options o;
    o.access_token = std::string(polar::testing::default_token);
    o.server_url = fx.server.base_url();
    o.retry = polar::retry_policy::none();
    o.api_version = polar::api_version::v2025_03;
    o.read_buffer_size = 512;
    return o;
}

} // namespace

TEST_CASE("streamed decoding: a chunked events page in pieces of every size decodes as the whole body") {
    const auto expected = polar::from_json<polar::page<polar::event>>(events_body);
    for (std::size_t chunk : {1u, 2u, 7u, 64u, 4096u}) {
        INFO("chunk " << chunk);
        chunked_fixture fx(events_body, chunk);
        run_awaitable(fx.ioc, [&]() -> asio::awaitable<void> {
            auto [ec, p] = co_await fx.api->meters().events("m", {}, {}, asio::as_tuple(asio::deferred));
            REQUIRE_FALSE(ec);
            CHECK(p.items == expected.items);
            CHECK(p.pagination == expected.pagination);
            REQUIRE(p.items.size() == 2);
            CHECK(p.items[1].raw_json == system_event);
            CHECK(p.items[0].raw_json.empty());
            // The connection is reused for the next request: the body was read to its end.
            auto [ec2, p2] = co_await fx.api->meters().events("m", {}, {}, asio::as_tuple(asio::deferred));
            REQUIRE_FALSE(ec2);
            CHECK(p2.items == expected.items);
        });
    }
}

TEST_CASE("streamed decoding: a body that does not decode reports why, with its start") {
    const std::string bad = R"({"items":[{"id":5}],"pagination":{"total_count":1,"max_page":1}})";
    chunked_fixture fx(bad, 3);
    run_awaitable(fx.ioc, [&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, p] = co_await fx.api->meters().events("m", {}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::invalid_response);
        CHECK(d.message == "items[0].id: expected string, got number");
        CHECK(d.body == bad);
        CHECK(p.items.empty());
    });
}

TEST_CASE("streamed decoding: an attempt cut mid-body is retried with a fresh decode") {
    int attempts = 0;
    client_fixture fx(transport::http, [&](polar::client_options& o) {
        o.read_buffer_size = 512; // the list's body (about 1 KB) streams
        o.retry = polar::retry_policy().max_attempts(3).initial_delay(std::chrono::milliseconds(5));
        o.on_attempt = [&](const polar::attempt_info&) { ++attempts; };
    });
    fx.run([&]() -> asio::awaitable<void> {
        for (const char* name : {"first meter", "second meter"}) {
            polar::meter_create body(name, polar::filter::all(), polar::aggregation::count());
            auto [ec, m] = co_await fx.client().meters().create(body, {}, asio::as_tuple(asio::deferred));
            REQUIRE_FALSE(ec);
        }
        attempts = 0;
        fx.server.faults().add(polar::testing::fault::close_mid_body().on("GET /v1/meters/"));
        auto [ec, p] = co_await fx.client().meters().list({}, {}, asio::as_tuple(asio::deferred));
        CHECK(attempts == 2);
        REQUIRE_FALSE(ec);
        auto [ec2, again] = co_await fx.client().meters().list({}, {}, asio::as_tuple(asio::deferred));
        REQUIRE_FALSE(ec2);
        CHECK(p.items == again.items);
        CHECK(p.pagination == again.pagination);
        CHECK(p.items.size() == 2);
    });
}

TEST_CASE("read_buffer_size: a page fed to the decoder in pieces and one read whole give the same models") {
    // The fixture's client has the default buffer (64 KiB): the page below
    // (about 20 KB) is read whole. `small` reads at most 512 bytes at once
    // and decodes the page as it arrives.
    client_fixture fx;
    polar::client_options o = small_buffer_options(fx);
    polar::client small(fx.ioc.get_executor(), o);
    fx.run([&]() -> asio::awaitable<void> {
        auto& c = fx.client();
        const polar::meter m = co_await c.meters().create(
            polar::meter_create("Calls", polar::filter::all(), polar::aggregation::count()));
        std::vector<polar::event_create> batch;
        for (int i = 0; i < 60; ++i)
            batch.push_back(polar::event_create::for_external_customer("cust-" + std::to_string(i % 7), "llm.call")
                                .set_metadata({{"tokens", std::int64_t(i * 13)}, {"model", i % 2 ? "pro" : "mini"}}));
        co_await c.events().ingest(polar::events_ingest(batch));

        const polar::page<polar::event> whole = co_await c.meters().events(m.id, {.limit = 100});
        const polar::page<polar::event> pieces = co_await small.meters().events(m.id, {.limit = 100});
        REQUIRE(whole.items.size() == 60);
        CHECK(pieces.items == whole.items);
        CHECK(pieces.pagination == whole.pagination);
        // Both connections stay usable.
        const polar::meter again = co_await small.meters().get(m.id);
        CHECK(again == m);
    });
    // Smaller than 512 bytes is refused.
    o.read_buffer_size = 511;
    CHECK_THROWS_AS(polar::client(fx.ioc.get_executor(), o), polar::api_error);
}

TEST_CASE("a 2xx body that does not decode hands back no part of its model, read whole or streamed") {
    const std::string bad = R"({"items":[{"id":"m1","name":5,"pad":")" + std::string(800, 'a') +
                            R"("}],"pagination":{"total_count":1,"max_page":1}})";
    client_fixture fx;
    polar::client small(fx.ioc.get_executor(), small_buffer_options(fx)); // the body (about 900 bytes) streams
    fx.run([&]() -> asio::awaitable<void> {
        for (polar::client* c : {&fx.client(), &small}) {
            const bool streamed = c == &small;
            INFO((streamed ? "streamed" : "read whole"));
            fx.server.faults().add(polar::testing::fault::malformed_json(bad).on("GET /v1/meters/"));
            polar::diagnostics d;
            auto [ec, p] = co_await c->meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
            CHECK(ec == polar::errc::invalid_response);
            CHECK(d.message == "items[0].name: expected string, got number");
            CHECK(p.items.empty());
            CHECK(p.pagination == polar::pagination{});
        }
    });
}
