// Generators: cancelling next(), abandoning and destroying generators with a
// request in flight (run these under ASan/LSan).
#include "stream_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

using namespace polar_test;
using namespace std::chrono_literals;
using polar::testing::fault;

namespace {

struct events_fixture : client_fixture {
    explicit events_fixture(int n) {
        run([&]() -> asio::awaitable<void> {
            meter = co_await create_count_meter(client(), "Cancelled calls", "api.call");
        });
        add_events(server, meter.organization_id, "api.call", n, std::chrono::system_clock::now());
        server.counters().reset();
    }
    std::uint64_t event_requests() const { return server.counters().requests(events_route); }
    // Page 1 answers at once, page 2 after `d`.
    void slow_second_page(std::chrono::milliseconds d) {
        server.faults().add(fault::delay(0ms).times(1).on(std::string(events_route)));
        server.faults().add(fault::delay(d).times(1).on(std::string(events_route)));
    }

    polar::meter meter;
};

// Emits a terminal cancellation on `sig` after `d`.
void cancel_after(asio::io_context& ioc, asio::cancellation_signal& sig, std::chrono::milliseconds d) {
    auto t = std::make_shared<asio::steady_timer>(ioc, d);
    t->async_wait([t, &sig](polar::error_code) { sig.emit(asio::cancellation_type::terminal); });
}

using clock = std::chrono::steady_clock;

} // namespace

TEST_CASE("generator cancel: cancelling next() mid-stream aborts the request; the generator goes on") {
    events_fixture f(250);
    f.slow_second_page(3s);
    f.run([&]() -> asio::awaitable<void> {
        auto items = f.client().meters().events_items(f.meter.id, {.limit = 100});
        for (int i = 0; i < 100; ++i) REQUIRE(co_await items.next());

        asio::cancellation_signal sig;
        cancel_after(f.ioc, sig, 50ms);
        const auto t0 = clock::now();
        auto [ec, item] =
            co_await items.next(asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == asio::error::operation_aborted);
        CHECK_FALSE(item);
        CHECK(clock::now() - t0 < 1s);
        CHECK(f.event_requests() == 2);
        // The cancelled request's connection is closed, not returned to the pool.
        CHECK(co_await eventually([&] { return f.client().stats().open == 0; }));

        // Same position: item 101 comes next (the delay fault is used up).
        int n = 100;
        while (co_await items.next()) ++n;
        CHECK(n == 250);
        CHECK(f.event_requests() == 4);
    });
}

TEST_CASE("generator cancel: cancelling a next() that waits for a prefetch") {
    events_fixture f(250);
    f.slow_second_page(3s);
    f.run([&]() -> asio::awaitable<void> {
        auto items = f.client().meters().events_items(f.meter.id, {.limit = 100}, {}, {.prefetch = true});
        for (int i = 0; i < 100; ++i) REQUIRE(co_await items.next());
        CHECK(co_await eventually([&] { return f.event_requests() == 2; })); // the prefetch is in flight

        asio::cancellation_signal sig;
        cancel_after(f.ioc, sig, 30ms);
        const auto t0 = clock::now();
        auto [ec, item] =
            co_await items.next(asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK(ec == asio::error::operation_aborted);
        CHECK(clock::now() - t0 < 1s);

        auto next = co_await items.next(); // asked again: fetched again
        REQUIRE(next);
        CHECK(f.event_requests() == 3);
    });
}

TEST_CASE("generator cancel: a next() cancelled before its request starts or after it ended") {
    events_fixture f(30);
    f.run([&]() -> asio::awaitable<void> {
        auto items = f.client().meters().events_items(f.meter.id, {.limit = 10});
        // Cancelled right after initiation: the request may or may not have
        // started; either way the outcome is clean and the generator usable.
        asio::cancellation_signal sig;
        std::optional<polar::error_code> got;
        items.next(asio::bind_cancellation_slot(sig.slot(), [&](polar::error_code ec, std::optional<polar::event>) {
            got = ec;
        }));
        sig.emit(asio::cancellation_type::terminal);
        CHECK(co_await eventually([&] { return got.has_value(); }));
        CHECK((*got == asio::error::operation_aborted || !*got));

        // A late cancellation (after completion) is ignored.
        asio::cancellation_signal late;
        auto [lec, e] =
            co_await items.next(asio::bind_cancellation_slot(late.slot(), asio::as_tuple(asio::use_awaitable)));
        CHECK_FALSE(lec);
        CHECK(e);
        late.emit(asio::cancellation_type::terminal);
        int n = 0;
        while (co_await items.next()) ++n;
        CHECK(n >= 28);
    });
}

TEST_CASE("generator cancel: co_spawn's cancellation reaches next()") {
    events_fixture f(250);
    f.slow_second_page(3s);
    f.run([&]() -> asio::awaitable<void> {
        asio::cancellation_signal sig;
        std::optional<std::exception_ptr> done;
        int consumed = 0;
        asio::co_spawn(
            f.ioc,
            [&]() -> asio::awaitable<void> {
                auto items = f.client().meters().events_items(f.meter.id, {.limit = 100});
                while (co_await items.next()) ++consumed;
            },
            asio::bind_cancellation_slot(sig.slot(), [&](std::exception_ptr e) { done = e; }));
        CHECK(co_await eventually([&] { return consumed == 100 && f.event_requests() == 2; }));
        const auto t0 = clock::now();
        sig.emit(asio::cancellation_type::terminal);
        CHECK(co_await eventually([&] { return done.has_value(); }));
        CHECK(clock::now() - t0 < 1s);
        REQUIRE(done);
        REQUIRE(*done);
        try {
            std::rethrow_exception(*done);
        } catch (const boost::system::system_error& e) { // api_error, or Asio's own on resumption
            CHECK(e.code() == asio::error::operation_aborted);
        }
    });
}

TEST_CASE("generator cancel: destroying a generator with a prefetch in flight cancels it") {
    events_fixture f(250);
    f.slow_second_page(3s);
    f.run([&]() -> asio::awaitable<void> {
        const auto t0 = clock::now();
        {
            auto items = f.client().meters().events_items(f.meter.id, {.limit = 100}, {}, {.prefetch = true});
            REQUIRE(co_await items.next());
            CHECK(co_await eventually([&] { return f.event_requests() == 2; }));
            CHECK(f.client().stats().open == 1);
        } // destroyed: the prefetch is cancelled
        CHECK(co_await eventually([&] { return f.client().stats().open == 0; }));
        CHECK(clock::now() - t0 < 2s);
        CHECK(f.event_requests() == 2);
    });
    f.drain(100ms);
}

TEST_CASE("generator cancel: destroying a generator completes a pending callback next()") {
    events_fixture f(250);
    f.slow_second_page(3s);
    f.run([&]() -> asio::awaitable<void> {
        std::optional<polar::error_code> got;
        {
            auto items = f.client().meters().events_items(f.meter.id, {.limit = 100});
            for (int i = 0; i < 100; ++i) REQUIRE(co_await items.next());
            items.next([&](polar::error_code ec, std::optional<polar::event> e) {
                got = ec;
                CHECK_FALSE(e);
            });
            CHECK(co_await eventually([&] { return f.event_requests() == 2; }));
        }
        CHECK(co_await eventually([&] { return got.has_value(); }, 1s));
        REQUIRE(got);
        CHECK(*got == asio::error::operation_aborted);
    });
}

TEST_CASE("generator cancel: the io_context destroyed while a next() waits leaks nothing") {
    // A consumer stuck on next() (the server never answers) when everything
    // is torn down: its frame owns the generator, the generator's pending
    // next() owns its frame. LSan reports a leak if that cycle survives.
    bool finished = false;
    {
        asio::io_context ioc;
        polar::testing::emulator_options so;
        so.default_api_version = std::string(polar::testing::api_version_2025_03);
        polar::testing::emulator srv(ioc.get_executor(), std::move(so));
        srv.start();
        polar::client_options o;
        o.access_token = std::string(polar::testing::default_token);
        o.server_url = srv.base_url();
        o.retry = polar::retry_policy::none();
        o.api_version = polar::api_version::v2025_03; // the meter's own events route, counted below
        polar::client c(ioc.get_executor(), std::move(o));
        polar::meter m;
        asio::co_spawn(
            ioc, [&]() -> asio::awaitable<void> { m = co_await create_count_meter(c, "Torn down", "api.call"); },
            asio::detached);
        while (m.id.empty() && ioc.run_one()) {
        }
        REQUIRE_FALSE(m.id.empty());
        add_events(srv, m.organization_id, "api.call", 20, std::chrono::system_clock::now());
        srv.faults().add(fault::stall().always().on(std::string(events_route)));
        for (bool prefetch : {false, true}) {
            asio::co_spawn(
                ioc,
                [c, id = m.id, prefetch, &finished]() -> asio::awaitable<void> {
                    auto items = c.meters().events_items(id, {}, {}, {.prefetch = prefetch});
                    while (co_await items.next()) {
                    }
                    finished = true;
                },
                asio::detached);
        }
        const auto end = clock::now() + 5s;
        while (srv.counters().requests(events_route) < 2 && clock::now() < end) ioc.run_for(5ms);
        CHECK(srv.counters().requests(events_route) == 2);
    }
    CHECK_FALSE(finished);
}
