// Retries and resilience under injected faults, over real sockets.
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <doctest/doctest.h>

using namespace polar_test;
using polar::testing::fault;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view missing_id = "9b1c1f0e-3c1a-4d5e-8f00-0123456789ab";

polar::retry_policy quick(int attempts = 4) {
    return polar::retry_policy().max_attempts(attempts).initial_delay(milliseconds(5)).max_delay(milliseconds(20));
}

polar::meter_create a_meter(std::string name) {
    return polar::meter_create(std::move(name), polar::filter::all(), polar::aggregation::count());
}

} // namespace

TEST_CASE("503, 503, 200: the caller sees only the result") {
    int attempts = 0;
    client_fixture fx(transport::http, [&](polar::client_options& o) {
        o.retry = quick();
        o.on_attempt = [&](const polar::attempt_info&) { ++attempts; };
    });
    fx.server.faults().add(fault::status(503).times(2).on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        polar::page<polar::meter> p = co_await fx.client().meters().list({}, {.diag = &d});
        CHECK(p.items.empty());
        CHECK(d.attempts == 3);
    });
    CHECK(attempts == 3);
    CHECK(fx.server.counters().requests("GET /v1/meters/") == 3);
}

TEST_CASE("429 with Retry-After waits at least that long") {
    for (bool as_date : {false, true}) {
        CAPTURE(as_date);
        client_fixture fx(transport::http, [&](polar::client_options& o) { o.retry = quick(); });
        fx.server.faults().add(
            (as_date ? fault::rate_limited_until(std::chrono::seconds(2)) : fault::rate_limited(std::chrono::seconds(1)))
                .on("GET /v1/meters/"));
        fx.run([&]() -> asio::awaitable<void> {
            const auto t0 = std::chrono::steady_clock::now();
            co_await fx.client().meters().list();
            const auto waited = std::chrono::steady_clock::now() - t0;
            // An HTTP-date has one-second resolution: allow for the truncation.
            CHECK(waited >= (as_date ? milliseconds(990) : milliseconds(990)));
            CHECK(waited < std::chrono::seconds(10));
        });
        CHECK(fx.server.counters().requests("GET /v1/meters/") == 2);
    }
}

TEST_CASE("a Retry-After above the policy's cap stops retrying") {
    client_fixture fx(transport::http, [&](polar::client_options& o) {
        o.retry = quick().max_retry_after(std::chrono::seconds(5));
    });
    fx.server.faults().add(fault::rate_limited(std::chrono::seconds(3600)).on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, p] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::rate_limited);
        CHECK(d.retry_stop_reason.find("Retry-After") != std::string::npos);
    });
}

TEST_CASE("exhaustion reports the last error and the attempt count") {
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.retry = quick(3); });
    fx.server.faults().add(fault::status(503).always().on("GET /v1/meters/{id}"));
    fx.run([&]() -> asio::awaitable<void> {
        bool thrown = false;
        try {
            co_await fx.client().meters().get(missing_id);
        } catch (const polar::server_error& e) {
            thrown = true;
            CHECK(e.diag().attempts == 3);
            CHECK(e.diag().status == 503);
            CHECK(e.diag().retry_stop_reason.find("3 attempts") != std::string::npos);
            CHECK(std::string(e.what()).find("after 3 attempts") != std::string::npos);
        }
        CHECK(thrown);
    });
    CHECK(fx.server.counters().requests("GET /v1/meters/{id}") == 3);
}

TEST_CASE("non-retryable statuses are not retried") {
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.retry = quick(); });
    fx.run([&]() -> asio::awaitable<void> {
        auto [ec, m] = co_await fx.client().meters().get(missing_id, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::not_found);
    });
    CHECK(fx.server.counters().requests("GET /v1/meters/{id}") == 1);
}

TEST_CASE("a connection reset on GET is retried; on create it is not") {
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.retry = quick(); });
    fx.server.faults().add(fault::close_before_response().on("GET /v1/meters/"));
    fx.server.faults().add(fault::close_mid_body().on("GET /v1/meters/"));
    fx.server.faults().add(fault::close_before_response().processed(true).on("POST /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        co_await fx.client().meters().list({}, {.diag = &d});
        CHECK(d.attempts == 3);

        auto [ec, m] = co_await fx.client().meters().create(a_meter("maybe created"), {.diag = &d},
                                                             asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::outcome_unknown);
        CHECK(d.attempts == 1);
        CHECK(d.message.find("may have been processed") != std::string::npos);

        // The meter does exist: retrying would have duplicated it.
        polar::page<polar::meter> all = co_await fx.client().meters().list({.query = "maybe created"});
        CHECK(all.items.size() == 1);

        // Opting in retries the create.
        fx.server.faults().add(fault::close_before_response().on("POST /v1/meters/"));
        const auto opt_in = quick().retry_non_idempotent(true);
        polar::meter created = co_await fx.client().meters().create(a_meter("retried"), {.retry = &opt_in});
        CHECK(created.name == "retried");
    });
    CHECK(fx.server.counters().requests("POST /v1/meters/") == 3);
}

TEST_CASE("a create answered with 503 is retried: the server did not act on it") {
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.retry = quick(); });
    fx.server.faults().add(fault::status(503).on("POST /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::meter m = co_await fx.client().meters().create(a_meter("after 503"));
        CHECK(m.name == "after 503");
    });
    CHECK(fx.server.counters().requests("POST /v1/meters/") == 2);
}

TEST_CASE("a create answered with 502 after the server stored it is not repeated; opting in repeats it") {
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.retry = quick(); });
    fx.server.faults().add(fault::status(502).processed(true).on("POST /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, m] = co_await fx.client().meters().create(a_meter("stored then 502"), {.diag = &d},
                                                             asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::server_error);
        CHECK(d.status == 502);
        CHECK(d.attempts == 1);
        CHECK(d.retry_stop_reason.find("may have been processed") != std::string::npos);
        polar::page<polar::meter> all = co_await fx.client().meters().list({.query = "stored then 502"});
        CHECK(all.items.size() == 1);

        fx.server.faults().add(fault::status(500).on("POST /v1/meters/"));
        const auto opt_in = quick().retry_non_idempotent(true);
        polar::meter created = co_await fx.client().meters().create(a_meter("retried after 500"), {.retry = &opt_in});
        CHECK(created.name == "retried after 500");
    });
    CHECK(fx.server.counters().requests("POST /v1/meters/") == 3);
}

TEST_CASE("truncated body, malformed JSON and wrong content type give typed errors") {
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.retry = polar::retry_policy::none(); });
    fx.server.faults().add(fault::truncated_body().on("GET /v1/meters/"));
    fx.server.faults().add(fault::malformed_json().on("GET /v1/meters/"));
    fx.server.faults().add(fault::wrong_content_type().on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [e1, p1] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e1);
        CHECK(d.message.find("closed") != std::string::npos);
        CHECK(fx.client().stats().open == 0);

        auto [e2, p2] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e2 == polar::errc::invalid_response);
        CHECK(fx.client().stats().open == 0);

        auto [e3, p3] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e3 == polar::errc::unexpected_response);
        CHECK(d.content_type == "text/html");
        CHECK(fx.client().stats().open == 0);

        auto [e4, p4] = co_await fx.client().meters().list({}, asio::as_tuple(asio::deferred));
        CHECK_FALSE(e4);
    });
}

TEST_CASE("a stalled server: the attempt times out and the retry uses a new connection") {
    client_fixture fx(transport::http, [&](polar::client_options& o) {
        o.retry = quick();
        o.attempt_timeout = milliseconds(200);
    });
    fx.server.faults().add(fault::stall().on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        co_await fx.client().meters().list({}, {.diag = &d});
        CHECK(d.attempts == 2);
        co_await fx.client().meters().list();
    });
    CHECK(fx.server.counters().connections_accepted() == 2);
    CHECK(fx.server.counters().requests("GET /v1/meters/") == 3);
}

TEST_CASE("the retry budget bounds the load of a fan-out against a failing server") {
    client_fixture fx(transport::http, [&](polar::client_options& o) {
        o.retry = quick(3);
        o.max_connections = 16;
    });
    fx.server.faults().add(fault::status(503).always().on("GET /v1/meters/{id}"));
    int done = 0, failed = 0;
    for (int i = 0; i < 200; ++i)
        fx.client().meters().get(missing_id, [&](polar::error_code ec, polar::meter) {
            ++done;
            if (ec == polar::errc::server_error) ++failed;
        });
    fx.ioc.restart();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (done < 200 && std::chrono::steady_clock::now() < until) fx.ioc.run_one_for(milliseconds(100));
    CHECK(done == 200);
    CHECK(failed == 200);
    const auto requests = fx.server.counters().requests("GET /v1/meters/{id}");
    MESSAGE("requests made for 200 calls x 3 attempts: " << requests);
    CHECK(requests >= 200);
    CHECK(requests < 240); // without the budget: 600

    // The pool is healthy afterwards: 1000 calls succeed, no connection leaked.
    fx.server.faults().clear();
    done = 0;
    int ok = 0;
    for (int i = 0; i < 1000; ++i)
        fx.client().meters().list({}, [&](polar::error_code ec, polar::page<polar::meter>) {
            ++done;
            if (!ec) ++ok;
        });
    while (done < 1000 && std::chrono::steady_clock::now() < until) fx.ioc.run_one_for(milliseconds(100));
    CHECK(ok == 1000);
    CHECK(fx.client().stats().open <= 16);
    CHECK(fx.server.counters().open_connections() <= 16);
}

TEST_CASE("retry_policy computes backoff, caps and the Python SDK mirror") {
    const auto p = polar::retry_policy()
                       .initial_delay(milliseconds(100))
                       .multiplier(2)
                       .max_delay(milliseconds(1000))
                       .jitter_mode(polar::jitter::none);
    CHECK(p.backoff(0, 0.5) == milliseconds(100));
    CHECK(p.backoff(1, 0.5) == milliseconds(200));
    CHECK(p.backoff(3, 0.5) == milliseconds(800));
    CHECK(p.backoff(4, 0.5) == milliseconds(1000));
    CHECK(p.backoff(60, 0.5) == milliseconds(1000));
    auto full = p;
    full.jitter_mode(polar::jitter::full);
    CHECK(full.backoff(1, 0.0) == milliseconds(0));
    CHECK(full.backoff(1, 0.5) == milliseconds(100));
    auto equal = p;
    equal.jitter_mode(polar::jitter::equal);
    CHECK(equal.backoff(1, 0.0) == milliseconds(100));
    CHECK(equal.backoff(1, 0.999) >= milliseconds(199));

    CHECK(polar::retry_policy().retryable_status(503));
    CHECK(polar::retry_policy().retryable_status(408));
    CHECK_FALSE(polar::retry_policy().retryable_status(404));
    CHECK(polar::retry_policy::none().max_attempts() == 1);

    const auto py = polar::retry_policy::backoff_strategy(500, 60000, 1.5, 3600000, false);
    CHECK(py.max_attempts() == 0);
    CHECK(py.max_elapsed() == milliseconds(3600000));
    CHECK_FALSE(py.retry_transport_errors());
    CHECK(py.retryable_status(429));
    CHECK_FALSE(py.retryable_status(408));
    CHECK(py.retry_non_idempotent());
}
