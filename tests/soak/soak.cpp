// Soak test: runs many operations (gets, lists, events pages, quantities and
// ingests) through one client against the in-process emulator on loopback,
// with faults injected into a fraction of the requests (503s, 429s with
// Retry-After, closed connections, delays). Samples the resident set size
// (VmRSS) and the open file descriptors as it goes and fails if memory grows
// by more than --max-growth percent after the warm-up or descriptors leak.
//
//   polar_soak [--ops N] [--concurrency C] [--threads T] [--sample-every S]
//              [--warmup W] [--max-growth PCT] [--max-seconds SEC]
//
// Exit status 0 on success, 1 on a leak, unexpected errors or a timeout.
// Ingests are answered without storing the events (the emulator's state
// would otherwise grow with every ingest and hide what the client does).
#include <polar/polar.hpp>
#include <polar/detail/codec/codec.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using polar::testing::fault;

struct settings {
    std::uint64_t ops = 1'000'000;
    std::size_t concurrency = 16;
    std::size_t threads = 2;
    std::uint64_t sample_every = 50'000;
    std::uint64_t warmup = 100'000;
    double max_growth = 10.0;    // percent of the RSS after warm-up
    double max_seconds = 1800;   // the whole run, a safety net
};

long rss_kib() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

// Ingests are validated and counted, not stored.
polar::testing::emulator_response handle(polar::testing::emulator_state& state,
                                         const polar::testing::emulator_request& req) {
    if (req.method == "POST" && req.target == "/v1/events/ingest") {
        polar::events_ingest body;
        std::string what;
        polar::testing::emulator_response r;
        if (polar::detail::decode(req.body, body, what)) {
            r.status = 422;
            r.body = R"({"detail":[{"loc":["body"],"msg":"bad","type":"value_error"}]})";
        } else {
            r.body = R"({"inserted":)" + std::to_string(body.size()) + "}";
        }
        return r;
    }
    return state.handle(req);
}

struct shared_run {
    shared_run(settings c, polar::client cl, polar::testing::fault_injector f, std::vector<std::string> ids)
        : cfg(c), client(std::move(cl)), faults(std::move(f)), meter_ids(std::move(ids)) {}
    settings cfg;
    polar::client client;
    polar::testing::fault_injector faults;
    std::vector<std::string> meter_ids;
    std::atomic<std::uint64_t> next{0};
    std::atomic<std::uint64_t> done{0};
    std::mutex mtx;
    std::map<std::string, std::uint64_t> errors; // by error message
    std::atomic<std::uint64_t> faults_added{0};
};

fault make_fault(std::uint64_t i) {
    switch ((i / 97) % 6) {
    case 0: return fault::status(503);
    case 1: return fault::close_before_response();
    case 2: return fault::delay(3ms);
    case 3: return fault::close_after_response();
    case 4: return fault::rate_limited(0s);
    default: return fault::status(502).on("GET *");
    }
}

asio::awaitable<void> one_op(shared_run& run, std::uint64_t i) {
    auto& c = run.client;
    const std::string& id = run.meter_ids[i % run.meter_ids.size()];
    polar::error_code ec;
    const unsigned kind = static_cast<unsigned>((i * 2654435761u) % 100);
    if (kind < 40) {
        auto [e, m] = co_await c.meters().get(id, asio::as_tuple(asio::deferred));
        ec = e;
        if (!ec && m.id != id) ec = polar::make_error_code(polar::errc::unexpected_response);
    } else if (kind < 60) {
        polar::list_meters_params p;
        p.limit = 5;
        p.page = static_cast<std::int64_t>(i % 3) + 1;
        auto [e, pg] = co_await c.meters().list(p, asio::as_tuple(asio::deferred));
        ec = e;
    } else if (kind < 70) {
        polar::meter_events_params p;
        p.limit = 10;
        auto [e, pg] = co_await c.meters().events(id, p, asio::as_tuple(asio::deferred));
        ec = e;
    } else if (kind < 85) {
        const auto end = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        const polar::meter_quantities_params p{.start_timestamp = end - std::chrono::hours(24 * 7),
                                               .end_timestamp = end,
                                               .interval = polar::time_interval::day};
        auto [e, q] = co_await c.meters().quantities(id, p, asio::as_tuple(asio::deferred));
        ec = e;
        if (!ec && q.quantities.size() < 7) ec = polar::make_error_code(polar::errc::unexpected_response);
    } else {
        polar::events_ingest body;
        for (int k = 0; k < 3; ++k) {
            polar::metadata md;
            md["tokens"] = static_cast<std::int64_t>(i % 1000);
            body.add(polar::event_create::for_external_customer("cust-" + std::to_string(i % 50), "llm.call")
                         .set_metadata(std::move(md)));
        }
        auto [e, r] = co_await c.events().ingest(body, asio::as_tuple(asio::deferred));
        ec = e;
        if (!ec && r.inserted != 3) ec = polar::make_error_code(polar::errc::unexpected_response);
    }
    if (ec) {
        std::lock_guard lk(run.mtx);
        ++run.errors[ec.message()];
    }
}

asio::awaitable<void> worker(shared_run& run) {
    for (;;) {
        const std::uint64_t i = run.next.fetch_add(1);
        if (i >= run.cfg.ops) co_return;
        // About 2% of the requests meet a fault.
        if (i % 50 == 7) {
            run.faults.add(make_fault(i));
            ++run.faults_added;
        }
        co_await one_op(run, i);
        ++run.done;
    }
}

bool parse_args(int argc, char** argv, settings& s) {
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const char* v = argv[i + 1];
        if (k == "--ops") s.ops = std::strtoull(v, nullptr, 10);
        else if (k == "--concurrency") s.concurrency = std::strtoull(v, nullptr, 10);
        else if (k == "--threads") s.threads = std::strtoull(v, nullptr, 10);
        else if (k == "--sample-every") s.sample_every = std::strtoull(v, nullptr, 10);
        else if (k == "--warmup") s.warmup = std::strtoull(v, nullptr, 10);
        else if (k == "--max-growth") s.max_growth = std::strtod(v, nullptr);
        else if (k == "--max-seconds") s.max_seconds = std::strtod(v, nullptr);
        else return false;
    }
    return argc % 2 == 1 && s.ops > 0 && s.concurrency > 0 && s.threads > 0 && s.sample_every > 0;
}

} // namespace

int main(int argc, char** argv) {
    settings cfg;
    if (!parse_args(argc, argv, cfg)) {
        std::cerr << "usage: polar_soak [--ops N] [--concurrency C] [--threads T] [--sample-every S] "
                     "[--warmup W] [--max-growth PCT] [--max-seconds SEC]\n";
        return 2;
    }
    asio::io_context ioc(static_cast<int>(cfg.threads));
    auto state = std::make_shared<polar::testing::emulator_state>(42);
    polar::testing::emulator_options so;
    so.state = state;
    so.handler = [state](const polar::testing::emulator_request& r) { return handle(*state, r); };
    polar::testing::emulator srv(ioc.get_executor(), std::move(so));
    srv.start();
    // With a handler the emulator leaves the setup to us.
    const auto org = state->add_organization(std::string(polar::testing::default_organization_name));
    state->add_organization_token(std::string(polar::testing::default_token), org,
                                  {"meters:read", "meters:write", "events:write"});

    // Meters and a week of events for the quantities.
    const std::string auth = "Bearer " + std::string(polar::testing::default_token);
    std::vector<std::string> ids;
    for (int m = 0; m < 8; ++m) {
        const std::string body = R"({"name":"soak )" + std::to_string(m) +
                                 R"(","filter":{"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"}]},)"
                                 R"("aggregation":{"func":"sum","property":"tokens"}})";
        polar::testing::emulator_request req;
        req.method = "POST";
        req.target = "/v1/meters/";
        req.authorization = auth;
        req.content_type = "application/json";
        req.body = body;
        auto r = state->handle(req);
        polar::meter m2;
        std::string what;
        if (r.status != 201 || polar::detail::decode(r.body, m2, what)) {
            std::cerr << "cannot create a meter: " << r.status << " " << r.body << "\n";
            return 1;
        }
        ids.push_back(m2.id);
    }
    {
        polar::events_ingest seed;
        const auto now = std::chrono::system_clock::now();
        for (int e = 0; e < 200; ++e) {
            polar::metadata md;
            md["tokens"] = static_cast<std::int64_t>(e);
            seed.add(polar::event_create::for_external_customer("cust-" + std::to_string(e % 10), "llm.call")
                         .set_timestamp(now - std::chrono::minutes(50 * e))
                         .set_metadata(std::move(md)));
        }
        const std::string body = polar::detail::encode(seed);
        polar::testing::emulator_request req;
        req.method = "POST";
        req.target = "/v1/events/ingest";
        req.authorization = auth;
        req.content_type = "application/json";
        req.body = body;
        auto r = state->handle(req);
        if (r.status != 200) {
            std::cerr << "cannot seed events: " << r.status << " " << r.body << "\n";
            return 1;
        }
    }

    polar::client_options co;
    co.access_token = std::string(polar::testing::default_token);
    co.server_url = srv.base_url();
    co.max_connections = cfg.concurrency;
    co.attempt_timeout = 5s;
    co.total_timeout = 20s;
    co.retry = polar::retry_policy::backoff_strategy(1, 5, 2.0, 10'000, true);
    shared_run run(cfg, polar::client(ioc.get_executor(), std::move(co)), srv.faults(), std::move(ids));

    for (std::size_t w = 0; w < cfg.concurrency; ++w) asio::co_spawn(ioc, worker(run), asio::detached);
    std::vector<std::thread> threads;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t t = 0; t < cfg.threads; ++t) threads.emplace_back([&] { ioc.run(); });

    // Sample from this thread while the io_context runs the operations.
    struct sample {
        std::uint64_t ops;
        double seconds;
        long rss;
        std::size_t fds;
    };
    std::vector<sample> samples;
    std::uint64_t next_sample = std::min(cfg.sample_every, cfg.ops);
    bool timed_out = false;
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    while (next_sample <= cfg.ops) {
        if (run.done.load() >= next_sample) {
            samples.push_back({run.done.load(), elapsed(), rss_kib(), open_fds()});
            const auto& s = samples.back();
            std::printf("%10llu ops %8.1f s  rss %7ld KiB  fds %4zu  server connections %3llu\n",
                        static_cast<unsigned long long>(s.ops), s.seconds, s.rss, s.fds,
                        static_cast<unsigned long long>(srv.counters().open_connections()));
            std::fflush(stdout);
            next_sample += cfg.sample_every;
            continue;
        }
        if (elapsed() > cfg.max_seconds) {
            timed_out = true;
            break;
        }
        std::this_thread::sleep_for(5ms);
    }
    const double seconds = elapsed();
    run.client.shutdown();
    srv.stop();
    if (timed_out) ioc.stop();
    for (auto& t : threads) t.join();

    int status = 0;
    const std::uint64_t requests = srv.counters().total_requests();
    std::uint64_t errors = 0;
    for (const auto& [what, n] : run.errors) errors += n;
    std::printf("%llu ops in %.1f s (%.0f ops/s), %llu requests, %llu faults injected, %llu failed ops\n",
                static_cast<unsigned long long>(run.done.load()), seconds, run.done.load() / seconds,
                static_cast<unsigned long long>(requests), static_cast<unsigned long long>(run.faults_added.load()),
                static_cast<unsigned long long>(errors));
    for (const auto& [what, n] : run.errors) std::printf("  %8llu x %s\n", static_cast<unsigned long long>(n), what.c_str());
    if (timed_out) {
        std::printf("FAIL: not finished after %.0f s\n", cfg.max_seconds);
        return 1;
    }
    // Only faults that may not be retried (an ingest whose connection closed
    // after the request was sent) may fail an operation.
    if (errors > run.faults_added.load() / 4 + 5) {
        std::printf("FAIL: too many failed operations\n");
        status = 1;
    }
    // Memory and descriptors after the warm-up.
    const sample* base = nullptr;
    for (const auto& s : samples)
        if (s.ops >= cfg.warmup) {
            base = &s;
            break;
        }
    if (!base && !samples.empty()) base = &samples.front();
    if (base) {
        long max_rss = base->rss;
        std::size_t max_fds = base->fds;
        for (const auto& s : samples)
            if (s.ops > base->ops) {
                max_rss = std::max(max_rss, s.rss);
                max_fds = std::max(max_fds, s.fds);
            }
        const double growth = 100.0 * static_cast<double>(max_rss - base->rss) / static_cast<double>(base->rss);
        std::printf("after warm-up (%llu ops): rss %ld KiB -> max %ld KiB (%+.1f%%), fds %zu -> max %zu\n",
                    static_cast<unsigned long long>(base->ops), base->rss, max_rss, growth, base->fds, max_fds);
        if (growth > cfg.max_growth) {
            std::printf("FAIL: RSS grew by more than %.1f%%\n", cfg.max_growth);
            status = 1;
        }
        // Each side of a pooled connection is a descriptor; anything beyond
        // twice the pool (plus the listener and epoll) is a leak.
        if (max_fds > base->fds + 2 * cfg.concurrency + 4 && max_fds > 2 * cfg.concurrency + 16) {
            std::printf("FAIL: file descriptors leak\n");
            status = 1;
        }
    }
    const std::size_t fds_end = open_fds();
    std::printf("fds after shutdown: %zu\n", fds_end);
    if (base && fds_end > base->fds) {
        std::printf("FAIL: more descriptors open after shutdown than during the run\n");
        status = 1;
    }
    std::printf(status ? "FAIL\n" : "OK\n");
    return status;
}
