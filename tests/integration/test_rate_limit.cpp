// The client's rate limiter against the emulator's: a fan-out at the limit
// gets no 429 and keeps the pace, a limit the client does not know is
// survived through Retry-After with every request paused, deadlines and
// cancellation while waiting for a token, generators; the emulator's 429 on
// the wire; the token function and the per-call token.
#include "http_test_client.hpp"
#include "stream_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace polar_test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds ms_since(clock_type::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
}

// `n` quantities queries of one meter (the fixture's client makes it).
struct limited_fixture : client_fixture {
    limited_fixture(std::function<void(polar::client_options&)> tweak, polar::rate_limit server_limit)
        : client_fixture(transport::http, std::move(tweak), [server_limit](polar::testing::emulator_options& so) {
              so.rate_limit = server_limit;
          }) {}

    // Creates the meter (one request) and `n` queries of it.
    void make_queries(int n) {
        run([&]() -> asio::awaitable<void> {
            meter = co_await create_count_meter(client(), "Limited calls", "api.call");
        });
        add_events(server, meter.organization_id, "api.call", 3, std::chrono::system_clock::now());
        const auto now = polar::timestamp(std::chrono::floor<std::chrono::microseconds>(
            std::chrono::system_clock::now().time_since_epoch()));
        for (int i = 0; i < n; ++i) {
            polar::quantities_request r{.meter_id = meter.id,
                                        .params = {.start_timestamp = now - std::chrono::hours(1 + i),
                                                   .end_timestamp = now,
                                                   .interval = polar::time_interval::hour}};
            requests.push_back(r);
        }
    }

    polar::meter meter;
    std::vector<polar::quantities_request> requests;
};

} // namespace

TEST_CASE("rate limit: a fan-out at the server's limit gets no 429 and finishes within 1.1x the floor") {
    // 60 queries at 20 per 2 s, the client knowing the limit: no more than 20
    // may start in any 2 s, so the last ones cannot start before 4 s.
    constexpr int n = 60;
    const auto limit = polar::rate_limit{.requests = 20, .window = 2s};
    limited_fixture f([&](polar::client_options& o) { o.rate_limit = limit; }, limit);
    f.make_queries(n - 1); // with the create: n requests
    f.run([&]() -> asio::awaitable<void> {
        const auto t0 = clock_type::now();
        auto results = co_await f.client().meters().quantities_many(f.requests, {.max_concurrency = 16});
        const auto elapsed = ms_since(t0);
        REQUIRE(results.size() == n - 1);
        for (const auto& r : results) CHECK(r.ok());
        CHECK(f.server.counters().rate_limited() == 0);
        const auto s = f.client().stats();
        CHECK(s.responses_429 == 0);
        CHECK(s.rate_limit_delayed >= n / 2); // about n - 20; a request finding a token just freed takes it
        CHECK(s.rate_limit_waited > 0us);
        // The floor: ceil(60 / 20) - 1 = 2 full windows.
        const auto floor = 2 * limit.window;
        CHECK(elapsed >= floor);
        CHECK(elapsed <= floor * 11 / 10);
        MESSAGE(n << " requests at 20 per 2 s: " << elapsed.count() << " ms (floor " << floor.count()
                  << " ms; evenly paced it would be " << (n * limit.window / 20).count() << " ms), waited "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(s.rate_limit_waited).count()
                  << " ms in all over " << s.rate_limit_delayed << " requests");
    });
}

TEST_CASE("rate limit: a server limit the client does not know is survived through Retry-After") {
    // The client has no limit (a custom server_url) and the default retry
    // policy; the emulator allows 5 requests per second.
    limited_fixture f(
        [](polar::client_options& o) {
            o.retry = polar::retry_policy().max_attempts(6);
            o.budget.capacity = 0; // this is about pauses, not about the retry budget
        },
                      polar::rate_limit::per_second(5));
    f.make_queries(11); // 12 requests with the create
    f.run([&]() -> asio::awaitable<void> {
        auto results = co_await f.client().meters().quantities_many(f.requests, {.max_concurrency = 11});
        REQUIRE(results.size() == 11);
        int retried = 0;
        for (const auto& r : results) {
            CHECK(r.ok());
            if (r.diag.attempts > 1) ++retried;
        }
        const auto s = f.client().stats();
        CHECK(s.responses_429 >= 7); // 4 fit the create's window, 7 at least were refused
        CHECK(s.responses_429 == f.server.counters().rate_limited());
        CHECK(s.rate_limit_pauses >= 1);
        CHECK(retried >= 7);
        // A whole window passes before anything is retried, and the retries
        // wait for each other's pause instead of each backing off alone: no
        // more than what two windows' refusals can add.
        CHECK(f.server.counters().rate_limited() <= 7 + 2);
    });
}

TEST_CASE("rate limit: a 429 pauses every operation of the client, not only the one that got it") {
    limited_fixture f([](polar::client_options&) {}, polar::rate_limit::per_second(3));
    f.make_queries(3); // the create and 2 queries fill the window
    f.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) co_await f.client().meters().quantities(f.requests[i].meter_id, f.requests[i].params);
        // The fourth request gets the 429 (the fixture's policy does not retry).
        auto [ec, q] = co_await f.client().meters().quantities(f.requests[2].meter_id, f.requests[2].params,
                                                               asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::rate_limited);
        auto s = f.client().stats();
        CHECK(s.responses_429 == 1);
        CHECK(s.rate_limit_pauses == 1);
        CHECK(s.rate_limit_delayed == 0);
        // Another operation, which never saw a 429, waits for the pause
        // (Retry-After: 1) and then succeeds at its first attempt.
        polar::diagnostics d;
        const auto t0 = clock_type::now();
        polar::meter m = co_await f.client().meters().get(f.meter.id, {.diag = &d});
        CHECK(m.id == f.meter.id);
        CHECK(ms_since(t0) >= 500ms);
        CHECK(d.attempts == 1);
        s = f.client().stats();
        CHECK(s.rate_limit_delayed == 1);
        CHECK(s.rate_limit_waited >= 500ms);
        CHECK(f.server.counters().rate_limited() == 1);
    });
}

TEST_CASE("rate limit: a Retry-After date centuries away pauses the client for max_retry_after") {
    // 7,970 years in nanoseconds do not fit in 64 bits: the pause is capped
    // before it is converted.
    limited_fixture f([](polar::client_options& o) { o.retry = polar::retry_policy().max_attempts(1).max_retry_after(1s); },
                      polar::rate_limit::unlimited());
    f.make_queries(0);
    f.server.faults().add(
        polar::testing::fault::status(429).header("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT").times(1));
    f.run([&]() -> asio::awaitable<void> {
        auto [ec, m] = co_await f.client().meters().get(f.meter.id, asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::rate_limited);
        auto s = f.client().stats();
        CHECK(s.responses_429 == 1);
        CHECK(s.rate_limit_pauses == 1);
        const auto t0 = clock_type::now();
        polar::meter again = co_await f.client().meters().get(f.meter.id);
        CHECK(again.id == f.meter.id);
        CHECK(ms_since(t0) >= 500ms); // paused, for max_retry_after (1 s), not forever
        CHECK(f.client().stats().rate_limit_delayed == 1);
    });
}

TEST_CASE("rate limit: the deadline and cancellation end the wait for a token") {
    // One request per 10 s: after the first, every call waits.
    limited_fixture f([](polar::client_options& o) { o.rate_limit = polar::rate_limit{.requests = 1, .window = 10s}; },
                      polar::rate_limit::unlimited());
    f.make_queries(0);
    f.run([&]() -> asio::awaitable<void> {
        const auto sent = f.server.counters().total_requests();
        polar::diagnostics d;
        auto t0 = clock_type::now();
        auto [ec, m] = co_await f.client().meters().get(f.meter.id, {.timeout = 200ms, .diag = &d},
                                                        asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::timeout);
        CHECK(d.attempts == 0); // waiting is not an attempt
        CHECK(d.message.find("rate limit") != std::string::npos);
        CHECK(ms_since(t0) >= 200ms);
        CHECK(ms_since(t0) < 5s);

        asio::cancellation_signal sig;
        auto timer = std::make_shared<asio::steady_timer>(f.ioc, 50ms);
        timer->async_wait([&sig, timer](polar::error_code) { sig.emit(asio::cancellation_type::terminal); });
        t0 = clock_type::now();
        auto [ec2, m2] = co_await f.client().meters().get(
            f.meter.id, asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec2 == asio::error::operation_aborted);
        CHECK(ms_since(t0) < 5s);

        // A create is not idempotent, but while it waits for a token nothing
        // was sent: a total cancellation ends that wait too.
        polar::meter_create body("Never sent", polar::filter::all(polar::clause("name", polar::filter_operator::eq, "x")),
                                 polar::aggregation::count());
        asio::cancellation_signal sig3;
        auto timer3 = std::make_shared<asio::steady_timer>(f.ioc, 50ms);
        timer3->async_wait([&sig3, timer3](polar::error_code) { sig3.emit(asio::cancellation_type::total); });
        t0 = clock_type::now();
        auto [ec3, m3] = co_await f.client().meters().create(
            body, {.timeout = 3s}, asio::bind_cancellation_slot(sig3.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec3 == asio::error::operation_aborted);
        CHECK(ms_since(t0) < 3s);

        CHECK(f.server.counters().total_requests() == sent); // none was sent
        const auto s = f.client().stats();
        CHECK(s.rate_limit_delayed == 3);
        CHECK(s.rate_limit_waited >= 200ms);
    });
}

TEST_CASE("rate limit: generators take their pages through the limiter") {
    const auto limit = polar::rate_limit::per_second(3);
    limited_fixture f(
        [&](polar::client_options& o) {
            o.rate_limit = limit;
            o.api_version = polar::api_version::v2026_10;
        },
        limit);
    f.make_queries(0); // one request; 3 events exist
    add_events(f.server, f.meter.organization_id, "api.call", 2, std::chrono::system_clock::now(), "customer-2");
    f.run([&]() -> asio::awaitable<void> {
        const auto t0 = clock_type::now();
        auto events = f.client().events().list_items({.limit = 1}); // 5 pages of one event
        int seen = 0;
        while (auto e = co_await events.next()) ++seen;
        CHECK(seen == 5);
        CHECK(ms_since(t0) >= 900ms); // the third page had to wait for the create to leave the window
        CHECK(f.client().stats().rate_limit_delayed >= 1);
        CHECK(f.server.counters().rate_limited() == 0);
    });
}

TEST_CASE("rate limit: threads share one bucket, and deadlines expire while others are granted") {
    // Four threads run the emulator and the client; five coroutines on their
    // own strands share the client: four make 20 requests each, the fifth
    // 20 with a 30 ms deadline, which mostly expires while waiting.
    const auto limit = polar::rate_limit::per_second(25);
    asio::io_context ioc(4);
    auto work = asio::make_work_guard(ioc);
    polar::testing::emulator_options so;
    so.rate_limit = limit;
    polar::testing::emulator server(ioc.get_executor(), so);
    server.start();
    polar::client_options o;
    o.access_token = std::string(polar::testing::default_token);
    o.server_url = server.base_url();
    o.retry = polar::retry_policy::none();
    o.rate_limit = limit;
    polar::client c(ioc.get_executor(), std::move(o));
    std::vector<std::thread> pool;
    for (int i = 0; i < 4; ++i) pool.emplace_back([&] { ioc.run(); });

    std::atomic<int> ok{0}, timed_out{0}, other{0};
    auto worker = [&](bool hurried) -> asio::awaitable<void> {
        for (int i = 0; i < 20; ++i) {
            polar::request_options ro;
            if (hurried) ro.timeout = 30ms;
            auto [ec, page] = co_await c.meters().list({}, ro, asio::as_tuple(asio::use_awaitable));
            if (!ec) ++ok;
            else if (ec == polar::errc::timeout) ++timed_out;
            else ++other;
        }
    };
    const auto t0 = clock_type::now();
    std::vector<std::future<void>> done;
    for (int i = 0; i < 5; ++i) done.push_back(asio::co_spawn(asio::make_strand(ioc), worker(i == 4), asio::use_future));
    for (auto& d : done) d.get();
    const auto elapsed = ms_since(t0);

    // The client counts a request when it grants the token, the server when
    // it arrives: on a loaded machine (sanitizers, two cores for four threads)
    // a request may arrive later than the limiter's margin allows for and
    // fall into the next server window. A bucket that is not shared lets four
    // times the limit through (dozens of 429s a window); a few stragglers are
    // scheduling, not the limiter.
    CHECK(other == static_cast<int>(server.counters().rate_limited()));
    CHECK(ok + timed_out + other == 100);
    CHECK(ok >= 77);
    CHECK(server.counters().rate_limited() <= 3);
    // (A request granted just before its deadline may reach the server and still time out.)
    CHECK(server.counters().requests("GET /v1/meters/") >= static_cast<std::uint64_t>(ok.load()));
    CHECK(server.counters().requests("GET /v1/meters/") <= 100);
    // 80 requests or more at 25 a second: 3 full windows at least.
    CHECK(elapsed >= 3s);
    const auto s = c.stats();
    CHECK(s.responses_429 == server.counters().rate_limited());
    CHECK(s.rate_limit_delayed >= 12); // the four workers waited at each of the 3 window ends at least
    MESSAGE("5 x 20 requests on 4 threads at 25/s: " << elapsed.count() << " ms, " << ok.load() << " answered, " << timed_out.load()
                                                     << " deadlines expired while waiting");
    work.reset();
    server.stop();
    ioc.stop();
    for (auto& t : pool) t.join();
}

TEST_CASE("rate limit: the client's defaults and validation") {
    asio::io_context ioc;
    auto make = [&](auto tweak) {
        polar::client_options o;
        o.access_token = "t";
        tweak(o);
        return polar::client(ioc.get_executor(), std::move(o));
    };
    // The option is validated.
    CHECK_THROWS_AS(make([](polar::client_options& o) { o.rate_limit = polar::rate_limit{.requests = 5, .window = 0ms}; }),
                    polar::api_error);
    // A window whose nanoseconds would overflow the clock is refused too.
    CHECK_THROWS_AS(make([](polar::client_options& o) {
                        o.rate_limit = polar::rate_limit{.requests = 5, .window = std::chrono::milliseconds::max()};
                    }),
                    polar::api_error);
    CHECK_NOTHROW(make([](polar::client_options& o) {
        o.rate_limit = polar::rate_limit{.requests = 5, .window = std::chrono::hours(24 * 366)};
    }));
    // A retry policy without a cap on Retry-After is fine.
    CHECK_NOTHROW(make([](polar::client_options& o) {
        o.retry = polar::retry_policy().max_retry_after(std::chrono::milliseconds::max());
    }));
    // An unlimited client never waits.
    auto c = make([](polar::client_options& o) { o.server_url = "http://127.0.0.1:1"; });
    CHECK(c.stats().rate_limit_delayed == 0);
}

TEST_CASE("emulator: the rate limit's 429 on the wire, per organization") {
    polar::testing::emulator_options so;
    so.rate_limit = polar::rate_limit::per_minute(2);
    running_emulator srv(so);
    auto org = srv->state().add_organization("Second");
    srv->state().add_organization_token("second-a", org, {"meters:read"});
    srv->state().add_organization_token("second-b", org, {"meters:read"});
    auto c = srv.client();
    CHECK(c->get("/v1/meters/").status == 200);
    CHECK(c->get("/v1/meters/").status == 200);
    const auto r = c->get("/v1/meters/");
    CHECK(r.status == 429);
    CHECK(r.body.empty());
    CHECK_FALSE(r.has_header("Content-Type"));
    const auto ra = std::stoi(r.header("Retry-After"));
    CHECK(ra >= 1);
    CHECK(ra <= 60);
    CHECK(r.header("Polar-Version") == "2026-10");
    CHECK(srv->counters().rate_limited() == 1);
    // The /api alias counts too; paths outside /v1 do not.
    CHECK(c->get("/api/v1/meters/").status == 429);
    CHECK(c->get("/healthz").status == 404);
    // Another organization has its own window; two tokens of one organization share one.
    CHECK(c->get("/v1/meters/", "second-a").status == 200);
    CHECK(c->get("/v1/meters/", "second-b").status == 200);
    CHECK(c->get("/v1/meters/", "second-a").status == 429);
    // An unknown version is refused before the limiter counts it.
    polar_test::http_request bad;
    bad.target = "/v1/meters/";
    bad.bearer = "second-a";
    bad.headers.emplace_back("Polar-Version", "2020-01");
    polar_test::http_response out;
    REQUIRE_FALSE(c->request(bad, out));
    CHECK(out.status == 404);
    CHECK(srv->counters().rate_limited() == 3);
}

// -- the token function and the per-call token ---------------------------------------

TEST_CASE("token: a token function is called per attempt, so a rotated token is used at once") {
    std::mutex m;
    std::string current(polar::testing::default_token);
    int calls = 0;
    std::vector<std::string> traces;
    client_fixture f(transport::http, [&](polar::client_options& o) {
        o.access_token = [&] {
            std::lock_guard lk(m);
            ++calls;
            return current;
        };
        o.on_trace = [&](const polar::trace_record& r) { traces.emplace_back(r.head); };
    });
    f.run([&]() -> asio::awaitable<void> {
        polar::meter meter = co_await create_count_meter(f.client(), "Rotating", "api.call");
        CHECK(calls == 1);
        {
            std::lock_guard lk(m);
            current = "rotated-token-2";
        }
        // Not known to the server yet: 401.
        auto [ec, got] = co_await f.client().meters().get(meter.id, asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::unauthorized);
        f.server.state().add_organization_token("rotated-token-2", meter.organization_id, {"meters:read"});
        polar::meter again = co_await f.client().meters().get(meter.id);
        CHECK(again.id == meter.id);
        CHECK(calls == 3);
    });
    REQUIRE(traces.size() == 6);
    for (const auto& t : traces) {
        CHECK(t.find("rotated-token-2") == std::string::npos);
        CHECK(t.find(polar::testing::default_token) == std::string::npos);
    }
    CHECK(traces[2].find("Authorization: Bearer ***\r\n") != std::string::npos);
}

TEST_CASE("token: a token function that fails fails the call before sending") {
    int mode = 0;
    client_fixture f(transport::http, [&](polar::client_options& o) {
        o.access_token = [&]() -> std::string {
            if (mode == 1) throw std::runtime_error("vault unreachable");
            if (mode == 2) return "";
            if (mode == 3) return "bad\r\ntoken";
            return std::string(polar::testing::default_token);
        };
    });
    f.run([&]() -> asio::awaitable<void> {
        for (mode = 1; mode <= 3; ++mode) {
            CAPTURE(mode);
            polar::diagnostics d;
            auto [ec, page] = co_await f.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::use_awaitable));
            CHECK(ec == polar::errc::invalid_argument);
            CHECK(d.attempts == 0);
            CHECK(d.message.find("client_options::access_token") != std::string::npos);
            if (mode == 1) CHECK(d.message.find("vault unreachable") != std::string::npos);
        }
        CHECK(f.server.counters().total_requests() == 0);
        // A callback is not called inside the initiating function.
        bool called = false;
        mode = 1;
        f.client().meters().list({}, asio::bind_executor(f.ioc, [&](polar::error_code e, polar::page<polar::meter>) {
                                     called = true;
                                     CHECK(e == polar::errc::invalid_argument);
                                 }));
        CHECK_FALSE(called);
        CHECK(co_await eventually([&] { return called; }));
        mode = 0;
        auto page = co_await f.client().meters().list();
        CHECK(page.items.empty());
    });
}

TEST_CASE("token: request_options::access_token overrides the client's token for one call") {
    std::vector<std::string> traces;
    client_fixture f(transport::http, [&](polar::client_options& o) {
        o.on_trace = [&](const polar::trace_record& r) { traces.emplace_back(r.head); };
    });
    f.run([&]() -> asio::awaitable<void> {
        polar::meter meter = co_await create_count_meter(f.client(), "Per call", "api.call");
        f.server.state().add_organization_token("per-call-token", meter.organization_id, {"meters:read"});
        // A token the server does not know: 401, though the client's is valid.
        auto [ec, m] = co_await f.client().meters().get(meter.id, {.access_token = "not-a-token"},
                                                        asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::unauthorized);
        // The other token, with and without the "Bearer " prefix.
        polar::meter a = co_await f.client().meters().get(meter.id, {.access_token = "per-call-token"});
        polar::meter b = co_await f.client().meters().get(meter.id, {.access_token = "Bearer per-call-token"});
        CHECK(a.id == meter.id);
        CHECK(b.id == meter.id);
        // Its scope is meters:read only: a create with it is forbidden, and the next call uses the client's again.
        polar::meter_create body("Nope", polar::filter::all(polar::clause("name", polar::filter_operator::eq, "x")),
                                 polar::aggregation::count());
        auto [ec2, c] = co_await f.client().meters().create(body, {.access_token = "per-call-token"},
                                                            asio::as_tuple(asio::use_awaitable));
        CHECK(ec2 == polar::errc::forbidden);
        polar::meter again = co_await f.client().meters().get(meter.id);
        CHECK(again.id == meter.id);
        // Control characters are refused before sending.
        auto [ec3, d] = co_await f.client().meters().get(meter.id, {.access_token = "a\nb"},
                                                         asio::as_tuple(asio::use_awaitable));
        CHECK(ec3 == polar::errc::invalid_argument);
    });
    for (const auto& t : traces) {
        CHECK(t.find("per-call-token") == std::string::npos);
        CHECK(t.find("not-a-token") == std::string::npos);
    }
}
