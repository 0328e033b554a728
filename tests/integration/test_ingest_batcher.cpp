// The ingest batcher against the emulator over real sockets: its triggers,
// back-pressure, failures and drain, and 10,000 events from several threads
// through dropped connections and failures after the store, none lost or
// counted twice.
// The emulator's after-store faults are checked on a plain ingest first.
#include "stream_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace polar_test;
using namespace std::chrono;
using polar::testing::fault;

namespace {

constexpr std::string_view ingest_route = "POST /v1/events/ingest";

client_fixture dated(std::function<void(polar::client_options&)> tweak = {}) {
    return client_fixture(
        transport::http,
        [tweak](polar::client_options& o) {
            o.api_version = polar::api_version::v2026_10;
            if (tweak) tweak(o);
        },
        [](polar::testing::emulator_options& so) { so.default_api_version = "2026-10"; });
}

polar::event_create usage(const std::string& customer, std::int64_t amount, std::size_t pad = 0) {
    polar::metadata md;
    md["amount"] = amount;
    if (pad) md["pad"] = std::string(pad, 'x');
    return polar::event_create::for_external_customer(customer, "batch.usage").set_metadata(std::move(md));
}

void by_number(std::vector<polar::batch_report>& rs) {
    std::sort(rs.begin(), rs.end(), [](const auto& a, const auto& b) { return a.batch < b.batch; });
}

std::vector<polar::batch_trigger> triggers(const std::vector<polar::batch_report>& rs) {
    std::vector<polar::batch_trigger> out;
    for (const auto& r : rs) out.push_back(r.trigger);
    return out;
}

std::vector<std::size_t> sizes(const std::vector<polar::batch_report>& rs) {
    std::vector<std::size_t> out;
    for (const auto& r : rs) out.push_back(r.size);
    return out;
}

} // namespace

TEST_CASE("emulator: an after-store fault stores the ingest, fails it, and the retry reports duplicates") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        polar::events_ingest body;
        for (int i = 0; i < 3; ++i) body.add(usage("a", 1).set_external_id("after-store-" + std::to_string(i)));

        // A 502 after the store (a proxy losing the answer).
        fx.server.faults().add(fault::status(502).processed(true).on(std::string(ingest_route)));
        auto [ec, r] = co_await c.events().ingest(body, asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::server_error);
        CHECK(fx.server.state().event_count() == 3);

        // The connection closed before the answer, after the store (twice:
        // on a reused connection the client sends once more by itself).
        fx.server.faults().add(fault::close_before_response().processed(true).times(2).on(std::string(ingest_route)));
        auto [ec2, r2] = co_await c.events().ingest(body, asio::as_tuple(asio::use_awaitable));
        CHECK(ec2);
        CHECK(fx.server.state().event_count() == 3);
        fx.server.faults().clear();

        // Sending the batch again stores nothing new.
        polar::events_ingest_response again = co_await c.events().ingest(body);
        CHECK(again.inserted == 0);
        CHECK(again.duplicates == 3);
        CHECK(fx.server.state().event_count() == 3);
        CHECK(fx.server.faults().fired() >= 2);
    });
}

TEST_CASE("ingest batcher: options are validated, and the 2025-03 contract is refused") {
    client_fixture fx = dated();
    polar::batcher_options big;
    big.max_batch_bytes = std::size_t(10) << 20;
    CHECK_NOTHROW(fx.client().events().batcher(big));
    big.max_batch_bytes += 1;
    CHECK_THROWS_AS(fx.client().events().batcher(big), polar::api_error);
    polar::batcher_options zero;
    zero.max_in_flight = 0;
    CHECK_THROWS_AS(fx.client().events().batcher(zero), polar::api_error);
    polar::batcher_options old;
    old.request.api_version = polar::api_version::v2025_03;
    try {
        fx.client().events().batcher(old);
        FAIL("a 2025-03 batcher was created");
    } catch (const polar::api_error& e) {
        CHECK(e.code() == polar::errc::invalid_argument);
    }
}

TEST_CASE("ingest batcher: batches by count, by bytes and by age, and on flush") {
    client_fixture fx = dated();
    auto& c = fx.client();
    std::vector<polar::batch_report> reports;
    auto collect = [&](polar::batch_report& r) { reports.push_back(std::move(r)); };
    fx.run([&]() -> asio::awaitable<void> {
        {
            polar::batcher_options bo;
            bo.max_batch_events = 10;
            bo.max_batch_age = 0ms;
            bo.on_batch = collect;
            auto b = c.events().batcher(bo);
            std::set<std::string> ids;
            for (int i = 0; i < 25; ++i) ids.insert(co_await b.add(usage("count", i)));
            CHECK(ids.size() == 25);
            CHECK(ids.begin()->rfind(b.external_id_prefix(), 0) == 0);
            CHECK(b.external_id_prefix().size() == 33); // 128 random bits in hex and a dash
            polar::batcher_stats s = co_await b.flush();
            by_number(reports);
            CHECK(triggers(reports) == std::vector{polar::batch_trigger::count, polar::batch_trigger::count,
                                                   polar::batch_trigger::flush});
            CHECK(sizes(reports) == std::vector<std::size_t>{10, 10, 5});
            CHECK(s.accepted == 25);
            CHECK(s.inserted == 25);
            CHECK(s.duplicates == 0);
            CHECK(s.batches == 3);
            CHECK(s.queued == 0);
            CHECK(fx.server.state().event_count() == 25);
        }
        reports.clear();
        {
            polar::batcher_options bo;
            bo.max_batch_bytes = 1024;
            bo.max_batch_age = 0ms;
            bo.on_batch = collect;
            auto b = c.events().batcher(bo);
            for (int i = 0; i < 10; ++i) REQUIRE_FALSE(b.try_add(usage("bytes", i, 200)));
            // An event that alone exceeds the limit is refused, and kept.
            polar::event_create huge = usage("bytes", 1, 2000);
            CHECK(b.try_add(std::move(huge)) == polar::errc::invalid_argument);
            CHECK(huge.metadata->count("pad") == 1);
            co_await b.flush();
            by_number(reports); // with batches in flight together, they complete in any order
            REQUIRE(reports.size() >= 3);
            std::size_t total = 0;
            for (std::size_t i = 0; i < reports.size(); ++i) {
                CAPTURE(i);
                CHECK(reports[i].ok());
                CHECK(reports[i].bytes <= 1024);
                // Every batch but the last was sent because the next event did not fit.
                CHECK(reports[i].trigger ==
                      (i + 1 < reports.size() ? polar::batch_trigger::bytes : polar::batch_trigger::flush));
                total += reports[i].size;
            }
            CHECK(total == 10);
            CHECK(b.stats().rejected == 1);
            CHECK(b.stats().bytes == [&] {
                std::uint64_t n = 0;
                for (const auto& r : reports) n += r.bytes;
                return n;
            }());
        }
        reports.clear();
        {
            polar::batcher_options bo;
            bo.max_batch_age = 30ms;
            bo.on_batch = collect;
            auto b = c.events().batcher(bo);
            // try_add() does not suspend: the age timer (on this thread) cannot
            // fire between them however slow the machine, so they form one batch.
            for (int i = 0; i < 3; ++i) REQUIRE_FALSE(b.try_add(usage("age", i)));
            // Neither count nor bytes nor a flush: only the age sends it.
            CHECK(co_await eventually([&] { return !reports.empty(); }));
            REQUIRE(reports.size() == 1);
            CHECK(reports[0].trigger == polar::batch_trigger::age);
            CHECK(reports[0].size == 3);
            CHECK(reports[0].response.inserted == 3);
        }
    });
}

TEST_CASE("ingest batcher: a full queue fails or waits, as chosen, and a wait can be cancelled") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        polar::batcher_options bo;
        bo.max_queued_events = 4;
        bo.max_batch_events = 2;
        bo.max_in_flight = 1;
        bo.max_batch_age = 0ms;
        {
            bo.when_full = polar::queue_full_policy::fail;
            auto b = c.events().batcher(bo);
            // No suspension between these: nothing can complete in between.
            for (int i = 0; i < 4; ++i) REQUIRE_FALSE(b.try_add(usage("fail", 1)));
            polar::event_create kept = usage("fail", 2);
            CHECK(b.try_add(std::move(kept)) == polar::errc::queue_full);
            CHECK(kept.external_id.has_value()); // kept, with its id: adding it again is safe
            auto [ec, id] = co_await b.add(usage("fail", 3), asio::as_tuple(asio::use_awaitable));
            CHECK(ec == polar::errc::queue_full);
            CHECK(id.empty());
            polar::batcher_stats s = co_await b.flush();
            CHECK(s.accepted == 4);
            CHECK(s.rejected == 2);
            CHECK(s.inserted == 4);
            CHECK_FALSE(b.try_add(std::move(kept))); // room again
            co_await b.close();
        }
        {
            bo.when_full = polar::queue_full_policy::wait;
            auto b = c.events().batcher(bo);
            for (int i = 0; i < 4; ++i) REQUIRE_FALSE(b.try_add(usage("wait", 1)));
            // Waits until a sent batch makes room.
            std::string id = co_await b.add(usage("wait", 2));
            CHECK_FALSE(id.empty());
            CHECK(b.stats().waited == 1);
            CHECK(b.stats().accepted == 5);

            // A wait cancelled: the event is not accepted.
            while (b.stats().queued < 4) REQUIRE_FALSE(b.try_add(usage("wait", 3)));
            const auto accepted = b.stats().accepted;
            asio::cancellation_signal sig;
            std::optional<polar::error_code> cancelled;
            b.add(usage("wait", 4),
                  asio::bind_cancellation_slot(sig.slot(), [&](polar::error_code e, std::string) { cancelled = e; }));
            sig.emit(asio::cancellation_type::terminal);
            CHECK(co_await eventually([&] { return cancelled.has_value(); }));
            CHECK(*cancelled == asio::error::operation_aborted);
            polar::batcher_stats s = co_await b.close();
            CHECK(s.accepted == accepted);
            CHECK(s.inserted == accepted);
            CHECK(fx.server.state().event_count() == 4 + 1 + accepted);
        }
    });
}

TEST_CASE("ingest batcher: waiters admitted into a batch that fills the queue again get it sent") {
    // No age limit, a queue smaller than a batch: room made by a sent batch
    // admits two waiting add() calls, the queue is full again and a third
    // still waits. Only sending the batch those two went into makes room.
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        polar::batcher_options bo;
        bo.max_queued_events = 2;
        bo.max_batch_events = 5;
        bo.max_in_flight = 1;
        bo.max_batch_age = 0ms;
        bo.when_full = polar::queue_full_policy::wait;
        auto b = c.events().batcher(bo);
        for (int i = 0; i < 2; ++i) REQUIRE_FALSE(b.try_add(usage("refill", 1)));
        int added = 0, failed = 0;
        for (int i = 0; i < 3; ++i)
            b.add(usage("refill", 2), [&](polar::error_code e, std::string) { ++(e ? failed : added); });
        CHECK(co_await eventually([&] { return added + failed == 3; }, 10s));
        CHECK(added == 3);
        CHECK(failed == 0);
        polar::batcher_stats s = co_await b.close();
        CHECK(s.accepted == 5);
        CHECK(s.inserted == 5);
        CHECK(fx.server.state().event_count() == 5);
    });
}

TEST_CASE("ingest batcher: close and destruction send what is buffered, and a closed batcher refuses events") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        polar::batcher_options bo;
        bo.max_batch_age = 0ms; // only close or destruction can send them
        {
            auto b = c.events().batcher(bo);
            for (int i = 0; i < 50; ++i) REQUIRE_FALSE(b.try_add(usage("drain", 1)));
            CHECK(fx.server.state().event_count() == 0);
        } // destroyed without close()
        CHECK(co_await eventually([&] { return fx.server.state().event_count() == 50; }));

        auto b = c.events().batcher(bo);
        for (int i = 0; i < 30; ++i) co_await b.add(usage("close", 1));
        polar::batcher_stats s = co_await b.close();
        CHECK(s.inserted == 30);
        CHECK(s.batches == 1);
        CHECK(fx.server.state().event_count() == 80);
        CHECK(b.try_add(usage("late", 1)) == polar::errc::batcher_closed);
        auto [ec, id] = co_await b.add(usage("late", 1), asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::batcher_closed);
        polar::batcher_stats again = co_await b.close(); // closing twice is fine
        CHECK(again.inserted == 30);
        CHECK(again.rejected == 2);
    });
}

TEST_CASE("ingest batcher: a batch that fails for good is reported with its events") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        // Kept for take_failures() (no on_batch): one invalid event makes
        // the server reject its whole batch (422); the next batch goes on.
        polar::batcher_options bo;
        bo.max_batch_events = 5;
        bo.max_batch_age = 0ms;
        auto b = c.events().batcher(bo);
        for (int i = 0; i < 4; ++i) co_await b.add(usage("ok", 1));
        co_await b.add(polar::event_create::for_external_customer("bad", std::string(200, 'n')));
        for (int i = 0; i < 5; ++i) co_await b.add(usage("ok", 1));
        auto [ec, s] = co_await b.flush(asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::validation_failed);
        CHECK(s.failed_batches == 1);
        CHECK(s.failed_events == 5);
        CHECK(s.inserted == 5);
        std::vector<polar::batch_report> failed = b.take_failures();
        REQUIRE(failed.size() == 1);
        CHECK(failed[0].batch == 1);
        CHECK(failed[0].ec == polar::errc::validation_failed);
        CHECK(failed[0].diag.status == 422);
        REQUIRE(failed[0].events.size() == 5);
        for (const auto& e : failed[0].events) CHECK(e.external_id->rfind(b.external_id_prefix(), 0) == 0);
        CHECK(b.take_failures().empty());
        // The valid ones, added again with their ids, are stored once.
        for (auto& e : failed[0].events)
            if (e.name.size() < 100) REQUIRE_FALSE(b.try_add(std::move(e)));
        polar::batcher_stats after = co_await b.close();
        CHECK(after.inserted == 9);
        CHECK(fx.server.state().event_count() == 9);

        // Reported to on_batch: a 401 (not retried).
        std::vector<polar::batch_report> reports;
        polar::batcher_options bo2;
        bo2.on_batch = [&](polar::batch_report& r) { reports.push_back(std::move(r)); };
        auto b2 = c.events().batcher(bo2);
        fx.server.faults().add(fault::status(401).on(std::string(ingest_route)));
        for (int i = 0; i < 3; ++i) co_await b2.add(usage("auth", 1));
        auto [ec2, s2] = co_await b2.close(asio::as_tuple(asio::use_awaitable));
        CHECK(ec2 == polar::errc::unauthorized);
        REQUIRE(reports.size() == 1);
        CHECK(reports[0].ec == polar::errc::unauthorized);
        CHECK(reports[0].events.size() == 3);
        CHECK(s2.failed_events == 3);
        CHECK(b2.take_failures().empty()); // they went to on_batch
    });
}

TEST_CASE("ingest batcher: 10,000 events from 4 threads through dropped connections and after-store failures") {
    // Two threads run the io_context; four producers add events, two waiting
    // for room (add with use_future) and two polling try_add().
    asio::io_context ioc;
    polar::testing::emulator_options so;
    so.default_api_version = "2026-10";
    polar::testing::emulator server(ioc.get_executor(), so);
    server.start();
    polar::client_options o;
    o.access_token = std::string(polar::testing::default_token);
    o.server_url = server.base_url();
    o.api_version = polar::api_version::v2026_10;
    o.retry = polar::retry_policy().max_attempts(30).initial_delay(1ms).max_delay(10ms);
    o.budget.capacity = 0; // every failure below is retried
    o.max_connections = 8;
    polar::client c(ioc.get_executor(), o);

    polar::meter meter;
    run_awaitable(ioc, [&]() -> asio::awaitable<void> {
        polar::meter_create body(
            "Usage", polar::filter::all(polar::clause("name", polar::filter_operator::eq, "batch.usage")),
            polar::aggregation::sum("amount"));
        meter = co_await c.meters().create(body);
    });

    // Connections closed before the store, and failures after it (the events
    // stored, the answer lost: a 502, a connection closed without an answer),
    // and 503s: 24 failed attempts in all.
    for (int i = 0; i < 6; ++i) {
        server.faults().add(fault::close_before_response().processed(true).on(std::string(ingest_route)));
        server.faults().add(fault::status(502).processed(true).on(std::string(ingest_route)));
        server.faults().add(fault::close_before_response().on(std::string(ingest_route)));
        server.faults().add(fault::status(503).on(std::string(ingest_route)));
    }

    auto work = asio::make_work_guard(ioc);
    std::vector<std::thread> io;
    for (int i = 0; i < 2; ++i) io.emplace_back([&] { ioc.run(); });

    polar::batcher_options bo;
    bo.max_batch_events = 200;
    bo.max_queued_events = 1000;
    bo.max_in_flight = 4;
    bo.max_batch_age = 20ms;
    auto b = c.events().batcher(bo);

    constexpr int producers = 4;
    constexpr int per_producer = 2500;
    std::vector<std::thread> threads;
    std::vector<std::int64_t> sums(producers, 0);
    std::vector<int> failures(producers, 0);
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i) {
                const std::int64_t amount = i % 10 + 1;
                polar::event_create e = usage("customer-" + std::to_string(p), amount);
                if (p % 2 == 0) {
                    try {
                        b.add(std::move(e), asio::use_future).get();
                    } catch (...) {
                        ++failures[p];
                        continue;
                    }
                } else {
                    polar::error_code ec;
                    while ((ec = b.try_add(std::move(e))) == polar::errc::queue_full)
                        std::this_thread::sleep_for(1ms);
                    if (ec) {
                        ++failures[p];
                        continue;
                    }
                }
                sums[p] += amount;
            }
        });
    }
    for (auto& t : threads) t.join();
    polar::batcher_stats s = b.close(asio::use_future).get();

    const auto today = floor<days>(floor<microseconds>(system_clock::now()));
    polar::meter_quantities q =
        c.meters()
            .quantities(meter.id, {.start_timestamp = today - days(1), .end_timestamp = today + days(1),
                                   .interval = polar::time_interval::day},
                        asio::use_future)
            .get();

    work.reset();
    server.stop();
    ioc.stop();
    for (auto& t : io) t.join();

    std::int64_t expected = 0;
    for (int p = 0; p < producers; ++p) {
        CHECK(failures[p] == 0);
        expected += sums[p];
    }
    CHECK(expected == producers * per_producer / 10 * 55);
    CHECK(s.accepted == 10'000);
    CHECK(s.failed_batches == 0);
    CHECK(s.failed_events == 0);
    CHECK(s.sent() == 10'000);
    CHECK(s.duplicates > 0);  // retries after a store were reported as duplicates...
    CHECK(s.inserted < 10'000);
    CHECK(server.faults().fired() == 24);
    CHECK(server.state().event_count() == 10'000); // ...and stored once
    REQUIRE(q.total.has_value());
    CHECK(*q.total == static_cast<double>(expected)); // nothing counted twice
}
