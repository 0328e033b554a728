// The pooled transport: reuse, the connection cap, dead idle connections,
// cancellation, timeouts and TLS verification, over real sockets.
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>

using namespace polar_test;
using polar::testing::fault;

namespace {
constexpr std::string_view missing_id = "9b1c1f0e-3c1a-4d5e-8f00-0123456789ab";
}

TEST_CASE("sequential requests reuse one keep-alive connection") {
    for (auto t : {transport::http, transport::https}) {
        CAPTURE(transport_name(t));
        client_fixture fx(t);
        auto& c = fx.client();
        fx.run([&]() -> asio::awaitable<void> {
            for (int i = 0; i < 20; ++i) co_await c.meters().list();
        });
        CHECK(fx.server.counters().requests("GET /v1/meters/") == 20);
        CHECK(fx.server.counters().connections_accepted() == 1);
        const auto s = c.stats();
        CHECK(s.created == 1);
        CHECK(s.reused == 19);
        CHECK(s.idle == 1);
    }
}

TEST_CASE("200 concurrent operations respect max_connections") {
    client_fixture fx(transport::http, [](polar::client_options& o) { o.max_connections = 8; });
    auto& c = fx.client();
    fx.server.faults().add(fault::delay(std::chrono::milliseconds(2)).always().on("GET /v1/meters/"));
    int ok = 0, done = 0;
    for (int i = 0; i < 200; ++i) {
        c.meters().list({}, [&](polar::error_code ec, polar::page<polar::meter>) {
            ++done;
            if (!ec) ++ok;
        });
    }
    fx.ioc.restart();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (done < 200 && std::chrono::steady_clock::now() < until) fx.ioc.run_one_for(std::chrono::milliseconds(100));
    CHECK(done == 200);
    CHECK(ok == 200);
    CHECK(fx.server.counters().connections_accepted() <= 8);
    CHECK(fx.server.counters().requests("GET /v1/meters/") == 200);
    CHECK(c.stats().open <= 8);
}

TEST_CASE("an idle connection closed by the server is replaced transparently") {
    client_fixture fx;
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> { co_await c.meters().list(); });
    fx.server.close_idle_connections();
    fx.drain();
    fx.run([&]() -> asio::awaitable<void> { co_await c.meters().list(); });
    // The server closes after answering, without announcing it: the client
    // finds out only when it reuses the connection.
    fx.server.faults().add(fault::close_after_response().on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        co_await c.meters().list();
        co_await c.meters().list();
    });
    CHECK(fx.server.counters().requests("GET /v1/meters/") == 4);
}

TEST_CASE("a create is never sent on a pooled connection the server has closed") {
    client_fixture fx;
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> { co_await c.meters().list(); });
    CHECK(c.stats().idle == 1);
    // Closed a moment ago: a GET would find out by failing before any
    // response byte and be sent again; a create must not be sent at all.
    fx.server.close_idle_connections();
    fx.drain();
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, m] = co_await c.meters().create(
            polar::meter_create("after close", polar::filter::all(), polar::aggregation::count()), {.diag = &d},
            asio::as_tuple(asio::deferred));
        CHECK_FALSE(ec);
        CHECK(d.attempts == 1);
        CHECK(m.name == "after close");
    });
    CHECK(fx.server.counters().requests("POST /v1/meters/") == 1);
    CHECK(c.stats().created == 2);
}

TEST_CASE("cancelling a request in flight aborts it and discards the connection") {
    client_fixture fx;
    auto& c = fx.client();
    fx.server.faults().add(fault::stall().on("GET /v1/meters/{id}"));
    fx.run([&]() -> asio::awaitable<void> {
        co_await c.meters().list(); // one pooled connection
        asio::cancellation_signal sig;
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
        timer.async_wait([&](polar::error_code) { sig.emit(asio::cancellation_type::terminal); });
        const auto t0 = std::chrono::steady_clock::now();
        auto [ec, m] = co_await c.meters().get(missing_id,
                                               asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == asio::error::operation_aborted);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
        CHECK(c.stats().open == 0); // the cancelled connection was closed, not pooled
        // the client keeps working
        auto [ec2, m2] = co_await c.meters().get(missing_id, asio::as_tuple(asio::deferred));
        CHECK(ec2 == polar::errc::not_found);
    });
}

TEST_CASE("total cancellation of a read and cancellation while waiting for a connection") {
    client_fixture fx(transport::http, [](polar::client_options& o) { o.max_connections = 1; });
    auto& c = fx.client();
    fx.server.faults().add(fault::delay(std::chrono::milliseconds(300)).on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        // First call holds the only connection for 300 ms; the second waits
        // in the pool and is cancelled there.
        bool first_done = false;
        c.meters().list({}, [&](polar::error_code ec, polar::page<polar::meter>) {
            CHECK_FALSE(ec);
            first_done = true;
        });
        asio::cancellation_signal sig;
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
        timer.async_wait([&](polar::error_code) { sig.emit(asio::cancellation_type::total); });
        auto [ec, p] = co_await c.meters().list({}, asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == asio::error::operation_aborted);
        CHECK(c.stats().waiting == 0);
        asio::steady_timer wait(co_await asio::this_coro::executor, std::chrono::milliseconds(500));
        co_await wait.async_wait(asio::deferred);
        CHECK(first_done);
    });
}

TEST_CASE("total cancellation ends a create waiting for its first connection, not one whose request was sent") {
    client_fixture fx(transport::http, [](polar::client_options& o) { o.max_connections = 1; });
    auto& c = fx.client();
    fx.server.faults().add(fault::delay(std::chrono::milliseconds(300)).on("GET /v1/meters/"));
    fx.server.faults().add(fault::delay(std::chrono::milliseconds(300)).on("POST /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        auto ex = co_await asio::this_coro::executor;
        // The list holds the only connection for 300 ms; the create waits in
        // the pool, nothing of it sent, and a total cancellation ends it.
        bool list_done = false;
        c.meters().list({}, [&](polar::error_code ec, polar::page<polar::meter>) {
            CHECK_FALSE(ec);
            list_done = true;
        });
        polar::meter_create body("Cancelled while waiting", polar::filter::all(), polar::aggregation::count());
        asio::cancellation_signal sig;
        asio::steady_timer timer(ex, std::chrono::milliseconds(50));
        timer.async_wait([&](polar::error_code) { sig.emit(asio::cancellation_type::total); });
        const auto t0 = std::chrono::steady_clock::now();
        auto [ec, m] = co_await c.meters().create(
            body, {}, asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == asio::error::operation_aborted);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(250)); // before the list ended
        CHECK(c.stats().waiting == 0);
        CHECK(fx.server.counters().requests("POST /v1/meters/") == 0);

        // Once its request is on the wire a create may have been stored: a
        // total cancellation is not honoured, the create completes.
        asio::steady_timer settle(ex, std::chrono::milliseconds(400));
        co_await settle.async_wait(asio::deferred);
        CHECK(list_done);
        polar::meter_create sent("Sent before the cancellation", polar::filter::all(), polar::aggregation::count());
        asio::cancellation_signal sig2;
        asio::steady_timer timer2(ex, std::chrono::milliseconds(50));
        timer2.async_wait([&](polar::error_code) { sig2.emit(asio::cancellation_type::total); });
        auto [ec2, m2] = co_await c.meters().create(
            sent, {}, asio::bind_cancellation_slot(sig2.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(ec2);
        CHECK(m2.name == "Sent before the cancellation");
        const polar::page<polar::meter> all = co_await c.meters().list({});
        CHECK(all.items.size() == 1);
    });
}

TEST_CASE("attempt and total timeouts report errc::timeout") {
    client_fixture fx(transport::http, [](polar::client_options& o) {
        o.attempt_timeout = std::chrono::milliseconds(200);
    });
    auto& c = fx.client();
    fx.server.faults().add(fault::stall().on("GET /v1/meters/{id}"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, m] = co_await c.meters().get(missing_id, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::timeout);
        CHECK(d.message.find("attempt") != std::string::npos);
        CHECK(c.stats().open == 0);

        // a per-call deadline shorter than the attempt timeout
        fx.server.faults().add(fault::stall().on("GET /v1/meters/{id}"));
        const auto t0 = std::chrono::steady_clock::now();
        auto [ec2, m2] = co_await c.meters().get(
            missing_id, {.timeout = std::chrono::milliseconds(80), .attempt_timeout = std::chrono::seconds(10)},
            asio::as_tuple(asio::deferred));
        CHECK(ec2 == polar::errc::timeout);
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));

        bool thrown = false;
        fx.server.faults().add(fault::stall().on("GET /v1/meters/{id}"));
        try {
            co_await c.meters().get(missing_id);
        } catch (const polar::timeout_error& e) {
            thrown = true;
            CHECK(e.code() == polar::errc::timeout);
        }
        CHECK(thrown);
    });
}

TEST_CASE("a body over max_body_size is rejected") {
    client_fixture fx(transport::http, [](polar::client_options& o) { o.max_body_size = 64 * 1024; });
    auto& c = fx.client();
    fx.server.faults().add(fault::oversized_body(1 << 20).on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        auto [ec, p] = co_await c.meters().list({}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::body_too_large);
        auto [ec2, p2] = co_await c.meters().list({}, asio::as_tuple(asio::deferred));
        CHECK_FALSE(ec2);
    });
}

TEST_CASE("TLS: an untrusted certificate is rejected") {
    client_fixture fx(transport::https, [](polar::client_options& o) { o.ca_pem.clear(); });
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, p] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec);
        CHECK(ec.category() == asio::error::get_ssl_category());
        CHECK(d.message.find("certificate") != std::string::npos);
    });
    CHECK(fx.server.counters().requests() == 0);
}

TEST_CASE("TLS: a certificate for another host name is rejected") {
    const auto other = polar::testing::make_self_signed_certificate(
        polar::testing::certificate_key_type::ec_p256, "DNS:example.com", std::chrono::hours(-1), std::chrono::hours(24));
    client_fixture fx(
        transport::https, {},
        [&](polar::testing::emulator_options& so) {
            so.cert_pem = other.cert_pem;
            so.key_pem = other.key_pem;
        });
    polar::client_options o;
    o.access_token = std::string(polar::testing::default_token);
    o.server_url = "https://localhost:" + std::to_string(fx.server.port());
    o.ca_pem = other.cert_pem;
    polar::client c(fx.ioc.get_executor(), o);
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, p] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec);
        CHECK(d.message.find("hostname mismatch") != std::string::npos);
    });
    CHECK(fx.server.counters().requests() == 0);
}

TEST_CASE("TLS: an expired certificate is rejected") {
    const auto expired = polar::testing::make_self_signed_certificate(
        polar::testing::certificate_key_type::ec_p256, "IP:127.0.0.1,DNS:localhost", std::chrono::hours(-48),
        std::chrono::hours(-24));
    client_fixture fx(transport::https, [&](polar::client_options& o) { o.ca_pem = expired.cert_pem; },
                      [&](polar::testing::emulator_options& so) {
                          so.cert_pem = expired.cert_pem;
                          so.key_pem = expired.key_pem;
                      });
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, p] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec);
        CHECK(d.message.find("expired") != std::string::npos);
    });
    CHECK(fx.server.counters().requests() == 0);
}

TEST_CASE("redirects are never followed") {
    client_fixture fx;
    fx.server.faults().add(
        fault::status(307, "{}").header("Location", "http://evil.example/v1/meters/").on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, p] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::redirect_refused);
        CHECK(d.status == 307);
    });
    CHECK(fx.server.counters().requests() == 1);
}

TEST_CASE("oversized response headers are rejected and the connection dropped") {
    client_fixture fx;
    fx.server.faults().add(fault::status(200, "{}").header("X-Big", std::string(70 * 1024, 'a')).on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, p] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::unexpected_response);
        CHECK(d.message.find("headers") != std::string::npos);
        CHECK(fx.client().stats().open == 0);
    });
}

TEST_CASE("several threads share one client") {
    client_fixture fx(transport::https, [](polar::client_options& o) { o.max_connections = 4; });
    auto& c = fx.client();
    std::atomic<int> ok{0}, done{0};
    for (int t = 0; t < 4; ++t)
        asio::post(fx.ioc, [&] {
            for (int i = 0; i < 25; ++i)
                c.meters().list({}, [&](polar::error_code ec, polar::page<polar::meter>) {
                    if (!ec) ++ok;
                    ++done;
                });
        });
    run_threads(fx.ioc, 4, [&] { return done == 100; });
    CHECK(ok == 100);
    CHECK(c.stats().open <= 4);
}

TEST_CASE("threads: cancellations race completions while four threads run the client") {
    // Each caller runs on its own strand and emits its cancellation there (as
    // Asio requires), while its operation runs on a strand of its own on any
    // of the four threads: the cancellation crosses threads to reach it.
    client_fixture fx(transport::http, [](polar::client_options& o) { o.max_connections = 6; });
    auto& c = fx.client();
    fx.server.faults().add(fault::delay(std::chrono::milliseconds(15)).times(1000).on("GET /v1/meters/{id}"));
    constexpr int callers = 48;
    std::atomic<int> done{0}, aborted{0}, found{0}, other{0};
    std::string first_other; // written once, read after the threads joined
    for (int i = 0; i < callers; ++i) {
        asio::co_spawn(
            asio::make_strand(fx.ioc),
            [&, i]() -> asio::awaitable<void> {
                auto ex = co_await asio::this_coro::executor;
                // Shared with the timer's handler, which may run after this
                // coroutine has finished.
                auto sig = std::make_shared<asio::cancellation_signal>();
                asio::steady_timer timer(ex, std::chrono::milliseconds(i % 24));
                const auto type = i % 3 == 0   ? asio::cancellation_type::terminal
                                  : i % 3 == 1 ? asio::cancellation_type::partial
                                               : asio::cancellation_type::total;
                timer.async_wait([sig, type](polar::error_code ec) {
                    if (!ec) sig->emit(type);
                });
                auto [ec, m] = co_await c.meters().get(
                    missing_id, asio::bind_cancellation_slot(sig->slot(), asio::as_tuple(asio::use_awaitable)));
                timer.cancel();
                if (ec == asio::error::operation_aborted)
                    ++aborted;
                else if (ec == polar::errc::not_found)
                    ++found;
                else if (other++ == 0)
                    first_other = ec.message();
                ++done;
            },
            asio::detached);
    }
    run_threads(fx.ioc, 4, [&] { return done == callers; });
    CHECK(done == callers);
    CHECK_MESSAGE(other == 0, first_other);
    CHECK(aborted > 0); // the early cancellations land before the delayed answers
    CHECK(aborted + found == callers);
    const auto s = c.stats();
    CHECK(s.waiting == 0);
    CHECK(s.open <= 6);
    CHECK(s.open == s.idle); // nothing in use once all have completed
}
