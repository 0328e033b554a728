// Helpers for the generator and fan-out tests: meters with a known number of
// matching events, created straight in the emulator's state.
#ifndef POLAR_TESTS_STREAM_TEST_SUPPORT_HPP
#define POLAR_TESTS_STREAM_TEST_SUPPORT_HPP

#include "client_fixture.hpp"

#include <polar/polar.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace polar_test {

inline constexpr std::string_view events_route = "GET /v1/meters/{id}/events";
inline constexpr std::string_view list_route = "GET /v1/meters/";
inline constexpr std::string_view quantities_route = "GET /v1/meters/{id}/quantities";

/// A meter counting events named `event_name`.
inline asio::awaitable<polar::meter> create_count_meter(polar::client& c, const std::string& name,
                                                       const std::string& event_name) {
    polar::meter_create body(name, polar::filter::all(polar::clause("name", polar::filter_operator::eq, event_name)),
                             polar::aggregation::count());
    polar::meter m = co_await c.meters().create(body);
    co_return m;
}

/// Adds `n` events named `event_name` for `external_customer`, one a minute,
/// the newest `offset + 1` minutes before `now`.
inline void add_events(polar::testing::emulator& srv, const std::string& organization_id,
                       const std::string& event_name, int n, std::chrono::system_clock::time_point now,
                       const std::string& external_customer = "customer-1", int offset = 0) {
    for (int i = 0; i < n; ++i) {
        polar::testing::emulator_event e;
        e.organization_id = organization_id;
        e.name = event_name;
        e.timestamp = now - std::chrono::minutes(offset + i + 1);
        e.external_customer_id = external_customer;
        srv.state().add_event(e);
    }
}

/// Waits on a timer (lets the io_context run other work meanwhile).
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

/// Polls `pred` every 5 ms for up to `limit`; true when it held.
inline asio::awaitable<bool> eventually(std::function<bool()> pred,
                                        std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) co_return false;
        co_await sleep_for(std::chrono::milliseconds(5));
    }
    co_return true;
}

} // namespace polar_test

#endif
