// Ingest throughput: the same N events into the emulator, once through
// events().batcher() and once as N single-event events().ingest() calls (at
// most P at a time, over P connections), side by side in one process. Each
// run starts a fresh emulator (on its own thread, optionally pinned to
// --server-cpu) and alternates which variant goes first, so that neither
// always meets the smaller store. Every event has an external_id in both
// variants (the batcher gives them; the single calls get the same ones).
//
// usage: bench_ingest [--events N] [--runs R] [--batch B] [--in-flight F]
//                     [--parallel P] [--client-cpu C] [--server-cpu S]
// Prints "ingest batcher_eps E single_eps S ratio R events N" (medians; the
// ratio is the median of per-run ratios).
#include "common.hpp"

#include <polar/polar.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <future>
#include <iostream>
#include <thread>

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

void pin_this_thread(long cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<int>(cpu), &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

struct settings {
    std::size_t events = 20000;
    std::size_t batch = 1000;
    std::size_t in_flight = 4;
    std::size_t parallel = 16;
    long client_cpu = -1;
    long server_cpu = -1;
};

// An emulator on its own thread and io_context.
struct server {
    explicit server(long cpu) : work(asio::make_work_guard(ioc)), emu(ioc.get_executor(), options()) {
        emu.start();
        thread = std::thread([this, cpu] {
            pin_this_thread(cpu);
            ioc.run();
        });
    }
    ~server() {
        emu.stop();
        work.reset();
        ioc.stop();
        thread.join();
    }
    static polar::testing::emulator_options options() {
        polar::testing::emulator_options o;
        o.body_limit = std::size_t(10) << 20; // the server's limit
        return o;
    }
    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work;
    polar::testing::emulator emu;
    std::thread thread;
};

polar::event_create make_event(const std::string& prefix, std::size_t i) {
    polar::metadata md;
    md["tokens"] = static_cast<std::int64_t>(i % 1000);
    md["model"] = i % 2 ? "gpt-4o-mini" : "claude-sonnet";
    return polar::event_create::for_external_customer("customer-" + std::to_string(i % 50), "llm.call")
        .set_metadata(std::move(md))
        .set_external_id(prefix + std::to_string(i));
}

polar::client make_client(asio::io_context& ioc, const server& srv, std::size_t max_connections) {
    polar::client_options o;
    o.access_token = std::string(polar::testing::default_token);
    o.server_url = srv.emu.base_url();
    o.max_connections = max_connections;
    return polar::client(ioc.get_executor(), std::move(o));
}

// Events per second through the batcher; negative on failure.
double run_batcher(const settings& s, server& srv) {
    asio::io_context ioc(1);
    auto client = make_client(ioc, srv, s.in_flight);
    polar::batcher_options bo;
    bo.max_batch_events = s.batch;
    bo.max_in_flight = s.in_flight;
    bo.max_queued_events = s.batch * s.in_flight * 2;
    auto batcher = client.events().batcher(bo);
    bool ok = false;
    clock_type::time_point t0, t1;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            t0 = clock_type::now();
            for (std::size_t i = 0; i < s.events; ++i) co_await batcher.add(make_event("b-", i));
            const polar::batcher_stats st = co_await batcher.close();
            t1 = clock_type::now();
            ok = st.inserted == s.events && st.failed_events == 0;
        },
        asio::detached);
    ioc.run();
    return ok ? static_cast<double>(s.events) / std::chrono::duration<double>(t1 - t0).count() : -1;
}

// Events per second as single-event ingest calls, `parallel` lanes.
double run_single(const settings& s, server& srv) {
    asio::io_context ioc(1);
    auto client = make_client(ioc, srv, s.parallel);
    std::size_t next = 0, ok = 0, lanes = s.parallel;
    clock_type::time_point t0 = clock_type::now(), t1;
    for (std::size_t l = 0; l < s.parallel; ++l) {
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                while (next < s.events) {
                    polar::events_ingest body;
                    body.add(make_event("s-", next++));
                    auto [ec, r] = co_await client.events().ingest(body, asio::as_tuple(asio::deferred));
                    if (!ec && r.inserted == 1) ++ok;
                }
                if (--lanes == 0) t1 = clock_type::now();
            },
            asio::detached);
    }
    ioc.run();
    return ok == s.events ? static_cast<double>(s.events) / std::chrono::duration<double>(t1 - t0).count() : -1;
}

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    settings s;
    s.events = static_cast<std::size_t>(args.num("events", 20000));
    s.batch = static_cast<std::size_t>(args.num("batch", 1000));
    s.in_flight = static_cast<std::size_t>(args.num("in-flight", 4));
    s.parallel = static_cast<std::size_t>(args.num("parallel", 16));
    s.client_cpu = args.num("client-cpu", -1);
    s.server_cpu = args.num("server-cpu", -1);
    const int runs = static_cast<int>(args.num("runs", 3));
    pin_this_thread(s.client_cpu);

    std::vector<double> batched, single, ratios;
    for (int r = 0; r < runs; ++r) {
        server srv(s.server_cpu);
        double b = 0, one = 0;
        if (r % 2 == 0) {
            b = run_batcher(s, srv);
            one = run_single(s, srv);
        } else {
            one = run_single(s, srv);
            b = run_batcher(s, srv);
        }
        if (b < 0) throw std::runtime_error("the batcher did not store every event");
        if (one < 0) throw std::runtime_error("some single-event ingest calls failed");
        if (srv.emu.state().event_count() != 2 * s.events) throw std::runtime_error("the emulator's event count is off");
        batched.push_back(b);
        single.push_back(one);
        ratios.push_back(b / one);
    }
    std::cout << "ingest batcher_eps " << bench::median(batched) << " single_eps " << bench::median(single)
              << " ratio " << bench::median(ratios) << " events " << s.events << std::endl;
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_ingest: " << e.what() << "\n";
    return 1;
}
