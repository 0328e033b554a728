// Fan-out and generators on an io_context run by four threads (run under TSan).
#include "stream_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_THREAD__)
// Asio frees the shared state behind an any_io_executor (e.g. one holding a
// strand) after fetch_sub(release) + atomic_thread_fence(acquire). GCC's
// ThreadSanitizer does not model the fence ("atomic_thread_fence is not
// supported") and reports the delete as a race with the other thread's
// decrement. Defined here, it applies to this whole test binary.
extern "C" const char* __tsan_default_suppressions() {
    return "race:boost::asio::execution::detail::shared_target_executor\n";
}
#endif

using namespace polar_test;
using namespace std::chrono_literals;
using polar::testing::fault;

namespace {

// The seed-era contract (meters().events() is served by its old route there).
inline polar::testing::emulator_options seed_era() {
    polar::testing::emulator_options o;
    o.default_api_version = std::string(polar::testing::api_version_2025_03);
    return o;
}

// An emulator and a client sharing an io_context run by `threads` threads.
struct threaded_fixture {
    explicit threaded_fixture(int threads)
        : ioc(threads), work(asio::make_work_guard(ioc)), server(ioc.get_executor(), seed_era()) {
        server.start();
        polar::client_options o;
        o.access_token = std::string(polar::testing::default_token);
        o.server_url = server.base_url();
        o.retry = polar::retry_policy::none();
        o.max_connections = 16;
        api.emplace(ioc.get_executor(), std::move(o));
        for (int i = 0; i < threads; ++i) pool.emplace_back([this] { ioc.run(); });
    }
    ~threaded_fixture() {
        work.reset();
        server.stop();
        api.reset();
        ioc.stop();
        for (auto& t : pool) t.join();
    }

    // Runs a coroutine on a strand of the io_context and waits for it.
    template <class F>
    void run(F&& fn) {
        asio::co_spawn(asio::make_strand(ioc), std::forward<F>(fn), asio::use_future).get();
    }

    asio::io_context ioc;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    polar::testing::emulator server;
    std::optional<polar::client> api;
    std::vector<std::thread> pool;
};

} // namespace

TEST_CASE("fan-out and generators on a 4-thread io_context") {
    threaded_fixture f(4);
    polar::meter meter;
    f.run([&]() -> asio::awaitable<void> { meter = co_await create_count_meter(*f.api, "Threaded", "api.call"); });
    const auto now = std::chrono::system_clock::now();
    std::vector<std::string> names;
    for (int k = 0; k < 4; ++k) {
        names.push_back("customer-" + std::to_string(k));
        add_events(f.server, meter.organization_id, "api.call", 60 * (k + 1), now, names.back(), k);
    }
    std::vector<std::string_view> views(names.begin(), names.end());
    const auto today = std::chrono::floor<std::chrono::days>(
        polar::timestamp(std::chrono::floor<std::chrono::microseconds>(now.time_since_epoch())));
    std::vector<polar::quantities_request> requests;
    for (int i = 0; i < 100; ++i) {
        const polar::quantities_request r{
            .meter_id = meter.id,
            .params = {.start_timestamp = today - std::chrono::days(1 + i % 3),
                       .end_timestamp = today,
                       .interval = polar::time_interval::day,
                       .external_customer_id =
                           std::span<const std::string_view>(&views[static_cast<std::size_t>(i % 4)], 1)}};
        requests.push_back(r);
    }

    std::vector<polar::meter_quantities> expected;
    f.run([&]() -> asio::awaitable<void> {
        for (const auto& r : requests) expected.push_back(co_await f.api->meters().quantities(r.meter_id, r.params));
    });

    SUBCASE("fan-out: results in order, at most 4 connections") {
        f.server.faults().add(fault::delay(5ms).always().on(std::string(quantities_route)));
        f.server.counters().reset();
        std::vector<polar::quantities_result> results;
        f.run([&]() -> asio::awaitable<void> {
            results = co_await f.api->meters().quantities_many(requests, {.max_concurrency = 4});
        });
        REQUIRE(results.size() == 100);
        for (std::size_t i = 0; i < results.size(); ++i) {
            CAPTURE(i);
            CHECK(results[i].ok());
            CHECK(results[i].value == expected[i]);
        }
        CHECK(f.server.counters().connections_accepted() <= 4);
    }

    SUBCASE("fan-out: several at once, one cancelled") {
        f.server.faults().add(fault::delay(5ms).always().on(std::string(quantities_route)));
        std::vector<std::future<std::vector<polar::quantities_result>>> running;
        for (int j = 0; j < 3; ++j)
            running.push_back(f.api->meters().quantities_many(requests, {.max_concurrency = 3},
                                                              asio::bind_executor(asio::make_strand(f.ioc), asio::use_future)));
        // The canceller and the cancelled operation share a strand.
        auto strand = asio::make_strand(f.ioc);
        std::promise<polar::error_code> cancelled;
        auto sig = std::make_shared<asio::cancellation_signal>();
        asio::dispatch(strand, [&, sig, strand] {
            f.api->meters().quantities_many(
                requests, {.max_concurrency = 2},
                asio::bind_cancellation_slot(
                    sig->slot(), asio::bind_executor(strand, [&, sig](polar::error_code ec, auto) {
                        cancelled.set_value(ec);
                    })));
            auto t = std::make_shared<asio::steady_timer>(strand, 30ms);
            t->async_wait([sig, t](polar::error_code) { sig->emit(asio::cancellation_type::terminal); });
        });
        CHECK(cancelled.get_future().get() == asio::error::operation_aborted);
        for (auto& r : running) {
            auto results = r.get();
            REQUIRE(results.size() == 100);
            for (std::size_t i = 0; i < results.size(); ++i) CHECK(results[i].value == expected[i]);
        }
    }

    SUBCASE("generators: several consumers, prefetch on, one destroyed mid-stream") {
        int counts[3] = {0, 0, 0};
        std::vector<std::future<void>> done;
        for (int j = 0; j < 3; ++j)
            done.push_back(asio::co_spawn(
                asio::make_strand(f.ioc),
                [&, j]() -> asio::awaitable<void> {
                    auto events = f.api->meters().events_items(meter.id, {.limit = 37}, {}, {.prefetch = j != 1});
                    while (auto e = co_await events.next()) {
                        if (++counts[j] == 100 && j == 2) co_return; // abandoned with a prefetch in flight
                    }
                },
                asio::use_future));
        for (auto& d : done) d.get();
        CHECK(counts[0] == 600);
        CHECK(counts[1] == 600);
        CHECK(counts[2] == 100);
    }
}
