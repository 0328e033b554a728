// 7. Ingest pipeline: four producer threads (say, the request handlers of a
// busy server) report usage events through one events().batcher(), which
// sends them in batches, at most four at a time, with a bounded queue that
// makes producers wait when the server falls behind. Every event gets an
// external_id, so a batch retried after a lost answer is deduplicated by the
// server: the example injects connection resets and failures after the
// store, and the meter's total still counts each event once.
//
// Runs against the bundled emulator unless POLAR_ACCESS_TOKEN is set (see
// example_support.hpp); against Polar it sends 200 events instead of 20,000.
#include "example_support.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono;

int main() {
    asio::io_context ioc(2);
    auto target = example::connect(ioc.get_executor());
    const bool offline = target->emulator.has_value();
    const int per_producer = offline ? 5000 : 50;
    constexpr int producers = 4;

    if (offline) {
        // Stand-ins for a real network: a 2 ms round trip, a few connections
        // reset before the answer, and a few answers lost after the events
        // were stored (a proxy's 502, a connection closed).
        using polar::testing::fault;
        const std::string route = "POST /v1/events/ingest";
        auto faults = target->emulator->faults();
        faults.add(fault::close_before_response().on(route));
        faults.add(fault::status(502).processed(true).on(route));
        faults.add(fault::close_before_response().processed(true).on(route));
        faults.add(fault::status(503).on(route));
        faults.add(fault::delay(milliseconds(2)).always().on(route));
    }

    // 1. A client whose retries may spend a little more of its budget, then
    //    a meter summing the `bytes` of the pipeline's events.
    polar::client_options options = target->options;
    options.retry = polar::retry_policy().max_attempts(5);
    polar::client client(ioc.get_executor(), options);
    std::vector<std::thread> io;
    auto work = asio::make_work_guard(ioc);
    for (int t = 0; t < 2; ++t) io.emplace_back([&] { ioc.run(); });

    int status = 0;
    try {
        polar::meter_create body(
            "Pipeline bytes", polar::filter::all(polar::clause("name", polar::filter_operator::eq, "pipeline.request")),
            polar::aggregation::sum("bytes"));
        const polar::meter meter = client.meters().create(body, asio::use_future).get();

        // 2. The batcher. Its reports arrive one at a time; a failed batch
        //    hands its events back, and adding them again is safe (the
        //    server drops those it already stored).
        std::mutex failed_mutex;
        std::vector<polar::event_create> failed;
        polar::batcher_options bo;
        bo.max_batch_events = 500;                   // sent at 500 events,
        bo.max_batch_age = milliseconds(200);        // or 200 ms after its first event
        bo.max_queued_events = 5000;                 // then producers wait (when_full = wait)
        bo.max_in_flight = 4;
        bo.on_batch = [&](polar::batch_report& r) {
            if (r.ok()) return;
            std::printf("batch %llu (%zu events) failed: %s\n", static_cast<unsigned long long>(r.batch), r.size,
                        r.diag.summary().c_str());
            std::lock_guard lk(failed_mutex);
            for (auto& e : r.events) failed.push_back(std::move(e));
        };
        polar::ingest_batcher batcher = client.events().batcher(bo);

        // 3. The producers: plain threads, so they wait on a future when the
        //    queue is full (a coroutine would simply co_await add()).
        const auto t0 = steady_clock::now();
        std::atomic<long long> expected{0};
        std::vector<std::thread> threads;
        for (int p = 0; p < producers; ++p) {
            threads.emplace_back([&, p] {
                for (int i = 0; i < per_producer; ++i) {
                    const std::int64_t bytes = 100 + (i * 37 + p) % 900;
                    polar::metadata md;
                    md["bytes"] = bytes;
                    md["route"] = i % 3 ? "/api/search" : "/api/upload";
                    auto e = polar::event_create::for_external_customer("customer-" + std::to_string(p),
                                                                        "pipeline.request")
                                 .set_metadata(std::move(md));
                    // try_add() never waits and keeps the event when the
                    // queue is full; then wait for room.
                    if (batcher.try_add(std::move(e)) == polar::errc::queue_full)
                        batcher.add(std::move(e), asio::use_future).get();
                    expected += bytes;
                }
            });
        }
        for (auto& t : threads) t.join();

        // 4. Close: sends what is buffered and waits for every batch. Failed
        //    batches (none expected here) are added again once, with their ids.
        try {
            batcher.flush(asio::use_future).get();
        } catch (const std::exception& e) { // a batch failed: its events are in `failed`
            std::cout << "flush: " << e.what() << "; adding the failed events again\n";
            std::lock_guard lk(failed_mutex);
            for (auto& ev : failed) (void)batcher.try_add(std::move(ev));
            failed.clear();
        }
        const polar::batcher_stats stats = batcher.close(asio::use_future).get();
        const double seconds = duration<double>(steady_clock::now() - t0).count();

        std::printf("%d producers, %llu events in %.2f s (%.0f events/s)\n", producers,
                    static_cast<unsigned long long>(stats.accepted), seconds,
                    static_cast<double>(stats.accepted) / seconds);
        std::printf("batches: %llu sent, %llu failed; events: %llu inserted, %llu duplicates "
                    "(retries after a lost answer), %llu failed\n",
                    static_cast<unsigned long long>(stats.batches), static_cast<unsigned long long>(stats.failed_batches),
                    static_cast<unsigned long long>(stats.inserted), static_cast<unsigned long long>(stats.duplicates),
                    static_cast<unsigned long long>(stats.failed_events));

        // 5. The meter counts every event once.
        const auto today = floor<days>(floor<microseconds>(system_clock::now()));
        const polar::meter_quantities q =
            client.meters()
                .quantities(meter.id, {.start_timestamp = today - days(1), .end_timestamp = today + days(1),
                                       .interval = polar::time_interval::day},
                            asio::use_future)
                .get();
        std::printf("meter total: %.0f bytes (expected %lld)\n", q.total.value_or(0), expected.load());
        if (offline && q.total.value_or(0) != static_cast<double>(expected.load())) {
            std::cerr << "error: the meter's total differs from the bytes sent\n";
            status = 1;
        }
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        status = 1;
    }

    work.reset();
    if (target->emulator) target->emulator->stop();
    ioc.stop();
    for (auto& t : io) t.join();
    return status;
}
