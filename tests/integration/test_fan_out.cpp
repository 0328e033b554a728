// meters().quantities_many(): results in input order, the concurrency bound
// (seen from the emulator's connection counter), independent failures,
// fail_fast and cancellation.
#include "stream_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace polar_test;
using namespace std::chrono_literals;
using polar::testing::fault;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int customers = 5;

// A meter, events for five customers (3, 6, ... 15 of them) and `n` queries
// that differ by customer and by time window.
struct fan_out_fixture : client_fixture {
    explicit fan_out_fixture(int n, std::size_t max_connections = 16)
        : client_fixture(transport::http, [max_connections](polar::client_options& o) {
              o.max_connections = max_connections;
          }) {
        run([&]() -> asio::awaitable<void> {
            meter = co_await create_count_meter(client(), "Fanned calls", "api.call");
        });
        const auto now = std::chrono::system_clock::now();
        for (int k = 0; k < customers; ++k) {
            names.push_back("customer-" + std::to_string(k));
            add_events(server, meter.organization_id, "api.call", 3 * (k + 1), now, names.back(), 90 * k);
        }
        for (const auto& s : names) views.push_back(s);
        const auto today = std::chrono::floor<std::chrono::days>(polar::timestamp(
            std::chrono::floor<std::chrono::microseconds>(now.time_since_epoch())));
        for (int i = 0; i < n; ++i) {
            const polar::quantities_request r{
                .meter_id = meter.id,
                .params = {.start_timestamp = today - std::chrono::days(i % 7),
                           .end_timestamp = today,
                           .interval = polar::time_interval::day,
                           .external_customer_id = std::span<const std::string_view>(
                               &views[static_cast<std::size_t>(i % customers)], 1)}};
            requests.push_back(r);
        }
        server.counters().reset();
    }

    // The answers of one-by-one quantities() calls, for comparison.
    std::vector<polar::meter_quantities> sequential() {
        std::vector<polar::meter_quantities> out;
        run([&]() -> asio::awaitable<void> {
            for (const auto& r : requests) out.push_back(co_await client().meters().quantities(r.meter_id, r.params));
        });
        server.counters().reset();
        return out;
    }

    polar::meter meter;
    std::vector<std::string> names;
    std::vector<std::string_view> views;
    std::vector<polar::quantities_request> requests;
};

double total(const polar::meter_quantities& q) {
    double t = 0;
    for (const auto& p : q.quantities) t += p.quantity;
    return t;
}

} // namespace

TEST_CASE("fan-out: 100 queries, max_concurrency 4, against a slow server") {
    fan_out_fixture f(100); // the client may open 16 connections: the bound is the fan-out's
    const auto expected = f.sequential();
    REQUIRE(expected.size() == 100);
    CHECK(total(expected[4]) == 15); // customer-4: 15 events today (the query windows all include today)

    f.server.faults().add(fault::delay(20ms).always().on(std::string(quantities_route)));
    f.run([&]() -> asio::awaitable<void> {
        const auto t0 = clock_type::now();
        std::vector<polar::quantities_result> results =
            co_await f.client().meters().quantities_many(f.requests, {.max_concurrency = 4});
        const auto elapsed = clock_type::now() - t0;
        REQUIRE(results.size() == 100);
        for (std::size_t i = 0; i < results.size(); ++i) {
            CAPTURE(i);
            CHECK(results[i].ok());
            CHECK(results[i].value == expected[i]);
            CHECK(results[i].diag.status == 200);
        }
        CHECK(f.server.counters().requests(quantities_route) == 100);
        CHECK(f.server.counters().connections_accepted() <= 4);
        CHECK(f.server.counters().connections_accepted() >= 1);
        CHECK(f.client().stats().open <= 4); // nothing closed them: the most ever open at once
        // 100 requests of >= 20 ms, 4 at a time: at least 25 rounds.
        CHECK(elapsed >= 500ms);
        MESSAGE("100 queries x 20 ms at concurrency 4: "
                << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms, "
                << f.server.counters().connections_accepted() << " connections");
    });
}

TEST_CASE("fan-out: one failing query does not fail the others") {
    fan_out_fixture f(40);
    const auto expected = f.sequential();
    f.requests[7].meter_id = "0f6f3a52-1d7b-4a4b-9c55-0a3e2b8f6d11"; // no such meter: 404
    f.requests[19].meter_id = "";                                    // rejected before sending
    f.requests[23].meter_id = "not-a-uuid";                          // 422
    f.run([&]() -> asio::awaitable<void> {
        auto results = co_await f.client().meters().quantities_many(f.requests, {.max_concurrency = 3});
        REQUIRE(results.size() == 40);
        for (std::size_t i = 0; i < results.size(); ++i) {
            CAPTURE(i);
            if (i == 7) {
                CHECK(results[i].ec == polar::errc::not_found);
                CHECK(results[i].diag.status == 404);
                CHECK(results[i].value.quantities.empty());
            } else if (i == 19) {
                CHECK(results[i].ec == polar::errc::invalid_argument);
                CHECK_FALSE(results[i].diag.message.empty());
            } else if (i == 23) {
                CHECK(results[i].ec == polar::errc::validation_failed);
                CHECK_FALSE(results[i].diag.validation_errors.empty());
            } else {
                CHECK(results[i].ok());
                CHECK(results[i].value == expected[i]);
            }
        }
        CHECK(f.server.counters().requests(quantities_route) == 39);
    });
}

TEST_CASE("fan-out: fail_fast stops at the first failure") {
    fan_out_fixture f(40);
    f.requests[5].meter_id = "0f6f3a52-1d7b-4a4b-9c55-0a3e2b8f6d11";
    f.server.faults().add(fault::delay(30ms).always().on(std::string(quantities_route)));
    f.run([&]() -> asio::awaitable<void> {
        auto [ec, results] = co_await f.client().meters().quantities_many(
            f.requests, {.max_concurrency = 4, .fail_fast = true}, asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::not_found);
        REQUIRE(results.size() == 40);
        CHECK(results[5].ec == polar::errc::not_found);
        int ok = 0, aborted = 0;
        for (std::size_t i = 0; i < results.size(); ++i) {
            if (results[i].ok()) ++ok;
            if (results[i].ec == asio::error::operation_aborted) ++aborted;
        }
        CHECK(ok + aborted == 39);
        CHECK(ok <= 8); // started before or with the failing one
        CHECK(aborted >= 31);
        for (std::size_t i = 9; i < results.size(); ++i) CHECK(results[i].ec == asio::error::operation_aborted);
        CHECK(f.server.counters().requests(quantities_route) <= 12);

        // The default token throws the failing query's error, with its diagnostics.
        try {
            co_await f.client().meters().quantities_many(f.requests, {.max_concurrency = 4, .fail_fast = true});
            FAIL("expected not_found_error");
        } catch (const polar::not_found_error& e) {
            CHECK(e.status() == 404);
            CHECK(e.diag().path.find(std::string(f.requests[5].meter_id)) != std::string::npos);
        }
    });
}

TEST_CASE("fan-out: cancelling the whole operation") {
    fan_out_fixture f(20);
    f.server.faults().add(fault::delay(400ms).always().on(std::string(quantities_route)));
    f.run([&]() -> asio::awaitable<void> {
        asio::cancellation_signal sig;
        auto timer = std::make_shared<asio::steady_timer>(f.ioc, 50ms);
        timer->async_wait([&sig, timer](polar::error_code) { sig.emit(asio::cancellation_type::terminal); });
        const auto t0 = clock_type::now();
        auto [ec, results] = co_await f.client().meters().quantities_many(
            f.requests, {.max_concurrency = 4},
            asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(clock_type::now() - t0 < 300ms);
        CHECK(ec == asio::error::operation_aborted);
        REQUIRE(results.size() == 20);
        for (const auto& r : results) CHECK(r.ec == asio::error::operation_aborted);
        CHECK(f.server.counters().requests(quantities_route) == 4);
        CHECK(co_await eventually([&] { return f.client().stats().open == 0; }));
    });
}

TEST_CASE("fan-out: edge cases") {
    fan_out_fixture f(3);
    f.run([&]() -> asio::awaitable<void> {
        // Nothing to do.
        auto none = co_await f.client().meters().quantities_many(std::span<const polar::quantities_request>{});
        CHECK(none.empty());

        // max_concurrency 0 is rejected.
        auto [ec, r] = co_await f.client().meters().quantities_many(f.requests, {.max_concurrency = 0},
                                                                   asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::invalid_argument);
        CHECK(r.empty());

        // More lanes than queries; a callback completes on the client's executor, never inline.
        bool called = false;
        f.client().meters().quantities_many(
            f.requests, {.max_concurrency = 64},
            [&](polar::error_code e, std::vector<polar::quantities_result> v) {
                called = true;
                CHECK_FALSE(e);
                CHECK(v.size() == 3);
            });
        CHECK_FALSE(called);
        CHECK(co_await eventually([&] { return called; }));
        CHECK(f.server.counters().requests(quantities_route) == 3);

        // The requests are views copied at initiation: the array may go away at once.
        auto copy = std::make_unique<std::vector<polar::quantities_request>>(f.requests);
        auto op = f.client().meters().quantities_many(*copy, asio::as_tuple(asio::deferred));
        copy.reset();
        auto [ec2, again] = co_await std::move(op)(asio::use_awaitable);
        CHECK_FALSE(ec2);
        CHECK(again.size() == 3);
    });
}
