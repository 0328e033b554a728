// Fault injection, each kind observed with the raw test client.
#include "http_test_client.hpp"

#include <polar/testing/emulator.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using polar::testing::emulator_options;
using polar::testing::emulator_request;
using polar::testing::emulator_response;
using polar::testing::fault;
using polar_test::http_request;
using polar_test::http_response;
using polar_test::running_emulator;

namespace {

const std::string meter_body =
    R"({"id":"5b3a6f2e-7c1d-4e8f-9a0b-1c2d3e4f5a6b","name":"API calls","metadata":{},"organization_id":"x"})";

struct counting_handler {
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    emulator_response operator()(const emulator_request&) const {
        ++*calls;
        emulator_response r;
        r.body = meter_body;
        return r;
    }
};

emulator_options options(const counting_handler& h, bool tls = false) {
    emulator_options o;
    o.tls = tls;
    o.handler = h;
    return o;
}

const char* const meter = "/v1/meters/5b3a6f2e-7c1d-4e8f-9a0b-1c2d3e4f5a6b";

} // namespace

TEST_CASE("emulator faults: status for the next N requests of a route, then normal") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        counting_handler h;
        running_emulator srv(options(h, tls));
        auto f = srv->faults();
        f.add(fault::status(503).times(2).on("GET /v1/meters/{id}"));
        CHECK(f.pending() == 1);
        auto c = srv.client();

        CHECK(c->get("/v1/meters/").status == 200); // another route
        http_response r = c->get(meter);
        CHECK(r.status == 503);
        CHECK(r.body_is_json());
        CHECK(r.body.find("InjectedFault") != std::string::npos);
        CHECK(r.header("Content-Type") == "application/json");
        CHECK(r.has_header("x-request-id"));
        CHECK(r.keep_alive);
        CHECK(c->get(meter).status == 503);
        CHECK(c->get(meter).status == 200);
        CHECK(f.pending() == 0);
        CHECK(f.fired() == 2);
        CHECK(*h.calls == 2); // the 503s did not reach the API
        CHECK(c->connects() == 1);
        CHECK(srv->counters().requests("GET /v1/meters/{id}") == 3);
    }
}

TEST_CASE("emulator faults: faults on a route play in sequence") {
    counting_handler h;
    running_emulator srv(options(h));
    srv->faults().add(fault::status(503, R"({"detail":"down"})"));
    srv->faults().add(fault::rate_limited(2s));
    srv->faults().add(fault::status(500).on("POST /v1/meters/"));
    auto c = srv.client();
    http_response r1 = c->get(meter);
    CHECK(r1.status == 503);
    CHECK(r1.body == R"({"detail":"down"})");
    http_response r2 = c->get(meter);
    CHECK(r2.status == 429);
    CHECK(r2.header("Retry-After") == "2");
    CHECK(r2.body.empty());
    CHECK(!r2.has_header("Content-Type"));
    CHECK(c->get(meter).status == 200);
    CHECK(c->send("POST", "/v1/meters/", "{}").status == 500);
    CHECK(c->send("POST", "/v1/meters/", "{}").status == 200);
}

TEST_CASE("emulator faults: Retry-After as an HTTP date") {
    counting_handler h;
    running_emulator srv(options(h));
    srv->faults().add(fault::rate_limited_until(30s).header("x-extra", "1"));
    http_response r = srv.client()->get(meter);
    CHECK(r.status == 429);
    std::string ra = r.header("Retry-After");
    CHECK(ra.size() == 29);
    CHECK(ra.substr(ra.size() - 4) == " GMT");
    CHECK(r.header("x-extra") == "1");
}

TEST_CASE("emulator faults: always() until clear()") {
    counting_handler h;
    running_emulator srv(options(h));
    srv->faults().add(fault::status(502).always().on("GET *"));
    auto c = srv.client();
    for (int i = 0; i < 5; ++i)
        CHECK(c->get(meter).status == 502);
    CHECK(c->send("POST", "/v1/meters/", "{}").status == 200);
    CHECK(srv->faults().pending() == 1);
    srv->faults().clear();
    CHECK(c->get(meter).status == 200);
}

TEST_CASE("emulator faults: processed(true) lets the API see the request") {
    counting_handler h;
    running_emulator srv(options(h));
    srv->faults().add(fault::status(503).processed(true));
    CHECK(srv.client()->send("POST", "/v1/meters/", "{}").status == 503);
    CHECK(*h.calls == 1);
}

TEST_CASE("emulator faults: delay waits on a timer, other connections go on") {
    counting_handler h;
    running_emulator srv(options(h)); // one thread
    srv->faults().add(fault::delay(400ms).on("GET /v1/meters/{id}"));
    auto slow = srv.client();
    auto fast = srv.client();
    std::chrono::steady_clock::duration slow_time{};
    std::thread t([&] {
        auto t0 = std::chrono::steady_clock::now();
        CHECK(slow->get(meter).status == 200);
        slow_time = std::chrono::steady_clock::now() - t0;
    });
    std::this_thread::sleep_for(50ms);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(fast->get("/v1/meters/").status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 < 300ms);
    t.join();
    CHECK(slow_time >= 400ms);
    CHECK(*h.calls == 2);
}

TEST_CASE("emulator faults: after() delays any fault") {
    counting_handler h;
    running_emulator srv(options(h));
    srv->faults().add(fault::status(504).after(300ms));
    auto t0 = std::chrono::steady_clock::now();
    CHECK(srv.client()->get(meter).status == 504);
    CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
}

TEST_CASE("emulator faults: close before the response") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        counting_handler h;
        running_emulator srv(options(h, tls));
        srv->faults().add(fault::close_before_response());
        auto c = srv.client();
        http_response r;
        auto ec = c->request(http_request{}, r);
        CHECK(ec);
        CHECK(!polar_test::is_timeout(ec));
        CHECK(*h.calls == 0);
        CHECK(srv->counters().total_requests() == 1);
        CHECK(c->get(meter).status == 200); // reconnects
        CHECK(c->connects() == 2);
    }
}

TEST_CASE("emulator faults: close in the middle of the body") {
    counting_handler h;
    running_emulator srv(options(h));
    srv->faults().add(fault::close_mid_body());
    auto c = srv.client();
    REQUIRE(!c->write_raw("GET /v1/meters/x HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::string raw;
    CHECK(polar_test::is_eof(c->read_raw(raw, 2s)));
    auto split = raw.find("\r\n\r\n");
    REQUIRE(split != std::string::npos);
    CHECK(raw.find("Content-Length: " + std::to_string(meter_body.size())) != std::string::npos);
    CHECK(raw.substr(split + 4) == meter_body.substr(0, meter_body.size() / 2));
    CHECK(*h.calls == 1); // processed

    srv->faults().add(fault::close_mid_body());
    http_response r;
    CHECK(polar_test::is_partial_message(c->request(http_request{}, r)));
}

TEST_CASE("emulator faults: Content-Length longer than the body") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        counting_handler h;
        running_emulator srv(options(h, tls));
        srv->faults().add(fault::truncated_body(50));
        auto c = srv.client();
        REQUIRE(!c->write_raw("GET /v1/meters/x HTTP/1.1\r\nHost: a\r\n\r\n"));
        std::string raw;
        auto ec = c->read_raw(raw, 2s);
        CHECK(!polar_test::is_timeout(ec));
        auto split = raw.find("\r\n\r\n");
        REQUIRE(split != std::string::npos);
        CHECK(raw.find("Content-Length: " + std::to_string(meter_body.size() + 50)) != std::string::npos);
        CHECK(raw.substr(split + 4) == meter_body);

        srv->faults().add(fault::truncated_body());
        http_response r;
        auto ec2 = c->request(http_request{}, r);
        CHECK(ec2);
        CHECK(!polar_test::is_timeout(ec2));
    }
}

TEST_CASE("emulator faults: malformed JSON and wrong content type") {
    counting_handler h;
    running_emulator srv(options(h));
    auto c = srv.client();
    srv->faults().add(fault::malformed_json());
    http_response r = c->get(meter);
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(!r.body_is_json());

    srv->faults().add(fault::malformed_json("[1,2"));
    CHECK(c->get(meter).body == "[1,2");

    srv->faults().add(fault::wrong_content_type());
    r = c->get(meter);
    CHECK(r.status == 200);
    CHECK(r.header("Content-Type") == "text/html");
    CHECK(r.body.find("<html>") == 0);

    srv->faults().add(fault::wrong_content_type(502, "text/plain", "bad gateway"));
    r = c->get(meter);
    CHECK(r.status == 502);
    CHECK(r.header("Content-Type") == "text/plain");
    CHECK(r.body == "bad gateway");
    CHECK(c->connects() == 1);
    CHECK(*h.calls == 0);
}

TEST_CASE("emulator faults: oversized body is streamed") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        counting_handler h;
        running_emulator srv(options(h, tls));
        auto c = srv.client(60s);
        // 8 MiB keeps sanitizer builds quick; the default is 20 MiB.
        CHECK(fault::oversized_body().size() == std::size_t(20) << 20);
        constexpr std::size_t size = std::size_t(8) << 20;
        srv->faults().add(fault::oversized_body(size));
        http_response r;
        auto t0 = std::chrono::steady_clock::now();
        auto ec = c->request(http_request{}, r);
        REQUIRE_MESSAGE(!ec, ec.message() << " after "
                                          << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::steady_clock::now() - t0).count()
                                          << " ms");
        CHECK(r.status == 200);
        CHECK(r.body.size() == size);
        CHECK(r.header("Content-Length") == std::to_string(size));
        CHECK(r.body.substr(0, 8) == "{\"pad\":\"");
        CHECK(r.body.substr(size - 2) == "\"}");
        CHECK(r.body_is_json());
        CHECK(c->get(meter).status == 200); // keep-alive still works

        // A client with a body limit gives up half way.
        srv->faults().add(fault::oversized_body(3 << 20));
        http_request req;
        REQUIRE(!c->write_raw("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
        CHECK(polar_test::is_body_limit(c->read_response(r, 1 << 20)));
        c->close();
        CHECK(running_emulator::wait_until([&] { return srv->counters().open_connections() == 0; }));
    }
}

TEST_CASE("emulator faults: stall until the client gives up") {
    counting_handler h;
    emulator_options o = options(h);
    o.idle_timeout = 100ms; // does not apply to a stalled request
    running_emulator srv(std::move(o));
    srv->faults().add(fault::stall());
    auto c = srv.client(500ms);
    http_response r;
    auto t0 = std::chrono::steady_clock::now();
    CHECK(polar_test::is_timeout(c->request(http_request{}, r)));
    CHECK(std::chrono::steady_clock::now() - t0 >= 450ms);
    CHECK(*h.calls == 0);
    CHECK(running_emulator::wait_until([&] { return srv->counters().open_connections() == 0; }));

    // A stalled connection also ends with stop().
    srv->faults().add(fault::stall());
    auto c2 = srv.client(5s);
    REQUIRE(!c2->write_raw("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    REQUIRE(running_emulator::wait_until([&] { return srv->faults().fired() == 2; }));
    std::this_thread::sleep_for(300ms);
    CHECK(srv->counters().open_connections() == 1);
    srv->stop();
    std::string raw;
    CHECK(!polar_test::is_timeout(c2->read_raw(raw, 2s)));
    CHECK(raw.empty());
}

TEST_CASE("emulator faults: close after the response (stale keep-alive connection)") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        counting_handler h;
        running_emulator srv(options(h, tls));
        srv->faults().add(fault::close_after_response().on("GET /v1/meters/{id}"));
        auto c = srv.client();
        http_response r = c->get(meter);
        CHECK(r.status == 200);
        CHECK(r.keep_alive); // nothing announced the close
        CHECK(!r.has_header("Connection"));
        REQUIRE(running_emulator::wait_until([&] { return srv->counters().open_connections() == 0; }));
        http_response r2;
        auto ec = c->request(http_request{}, r2); // on the dead connection
        CHECK(ec);
        CHECK(c->connects() == 1);
        CHECK(c->get(meter).status == 200);
        CHECK(c->connects() == 2);
        CHECK(*h.calls == 2);
    }
}

TEST_CASE("emulator faults: route patterns") {
    counting_handler h;
    running_emulator srv(options(h));
    auto c = srv.client();
    srv->faults().add(fault::status(418).on("POST /v1/meters/"));
    CHECK(c->get("/v1/meters/").status == 200);              // other method
    CHECK(c->send("POST", "/v1/meters", "{}").status == 200); // no trailing slash
    CHECK(c->send("POST", "/v1/meters/?x=1", "{}").status == 418);

    srv->faults().add(fault::status(418).on("* /v1/meters/{id}/quantities"));
    CHECK(c->get("/v1/meters/abc/events").status == 200);
    CHECK(c->get("/v1/meters/abc/quantities?interval=day").status == 418);

    srv->faults().add(fault::status(418).on("GET /v1/*"));
    CHECK(c->get("/v2/x").status == 200);
    CHECK(c->get("/v1/a/b/c").status == 418);

    srv->faults().add(fault::status(418).times(0)); // disabled
    CHECK(srv->faults().pending() == 0);
}

TEST_CASE("emulator faults: concurrent faults on a multi-threaded server") {
    counting_handler h;
    running_emulator srv(options(h), 2);
    srv->faults().add(fault::status(503).times(100));
    std::atomic<int> n503{0}, n200{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 10; ++i) {
        threads.emplace_back([&] {
            auto c = srv.client();
            for (int j = 0; j < 30; ++j) {
                int s = c->get(meter).status;
                (s == 503 ? n503 : n200)++;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    CHECK(n503 == 100);
    CHECK(n200 == 200);
    CHECK(srv->faults().fired() == 100);
}
