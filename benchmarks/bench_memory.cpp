// Memory of polar::client, from /proc/self/status:
//
//   --mode idle:    RSS per idle pooled connection. One get opens a first
//                   connection (so one-time costs such as OpenSSL's tables are
//                   in the baseline), then C concurrent gets with
//                   max_connections = C leave C connections idle in the pool;
//                   (RSS after - RSS before) / (C - 1).
//   --mode pending: RSS of operations waiting for a connection. The server
//                   answers after a delay (fixed_server --delay-ms 2000); 16
//                   connections are opened and warmed, then N gets are started
//                   at once (callbacks, no coroutine of ours around them) and
//                   RSS is sampled while they all wait; then the client is
//                   shut down, which fails the waiting ones.
//
//   --mode page:    heap of one events page in flight beyond its models. One
//                   page is fetched first (the connection is open and idle);
//                   then, R times, one page of 100 events is fetched and the
//                   bytes allocated with operator new are counted: the peak
//                   during the request minus what is still allocated once it
//                   has completed and its models are held (the request, the
//                   read buffer, the HTTP parser, the decoder and any text it
//                   keeps), over the body's size (--body-bytes, printed by
//                   fixed_server as events_bytes). Medians of R.
//
// idle and pending report RSS measured after malloc_trim(0) (freed heap pages
// returned to the kernel: the memory still in use) and as read ("raw").
//
// usage: bench_memory --mode idle|pending|page --port P --token TOK --meter-id ID
//                     [--tls --ca FILE] [--connections C] [--ops N] [--pool K]
//                     [--body-bytes B] [--runs R]
#include "common.hpp"

#include <polar/polar.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <new>

namespace asio = boost::asio;

// Bytes allocated with operator new and not yet freed, and their peak.
namespace heap_count {
std::atomic<std::size_t> live{0}, peak{0};
void add(void* p) noexcept {
    const std::size_t n = malloc_usable_size(p);
    const std::size_t now = live.fetch_add(n, std::memory_order_relaxed) + n;
    std::size_t top = peak.load(std::memory_order_relaxed);
    while (now > top && !peak.compare_exchange_weak(top, now, std::memory_order_relaxed)) {}
}
void remove(void* p) noexcept {
    if (p) live.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
}
void* allocate(std::size_t n) {
    void* p = std::malloc(n ? n : 1);
    if (!p) throw std::bad_alloc();
    add(p);
    return p;
}
} // namespace heap_count

void* operator new(std::size_t n) { return heap_count::allocate(n); }
void* operator new[](std::size_t n) { return heap_count::allocate(n); }
void operator delete(void* p) noexcept {
    heap_count::remove(p);
    std::free(p);
}
void operator delete[](void* p) noexcept {
    heap_count::remove(p);
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    heap_count::remove(p);
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    heap_count::remove(p);
    std::free(p);
}

namespace {

struct counts {
    std::size_t ok = 0, failed = 0;
    std::string first_error;
};

void start_gets(asio::io_context& ioc, polar::client& client, const std::string& id, std::size_t n, counts& c) {
    auto meters = client.meters();
    for (std::size_t i = 0; i < n; ++i)
        meters.get(id, asio::bind_executor(ioc, [&c](polar::error_code ec, polar::meter) {
                       if (ec) {
                           if (c.first_error.empty()) c.first_error = ec.message();
                           ++c.failed;
                       } else {
                           ++c.ok;
                       }
                   }));
}

polar::client make_client(asio::io_context& ioc, const bench::arguments& args, std::size_t max_connections) {
    auto o = bench::client_options(args, max_connections);
    o.attempt_timeout = std::chrono::seconds(60);
    return polar::client(ioc.get_executor(), std::move(o));
}

int idle(const bench::arguments& args) {
    const auto n = static_cast<std::size_t>(args.num("connections", 1000));
    const auto id = args.required("meter-id");
    asio::io_context ioc(1);
    auto client = make_client(ioc, args, n);
    counts c;
    start_gets(ioc, client, id, 1, c);
    ioc.run();
    ioc.restart();
    const long raw0 = bench::rss_kib();
    const long trim0 = bench::trimmed_rss_kib();
    const long heap0 = bench::heap_in_use_kib();
    start_gets(ioc, client, id, n, c);
    ioc.run();
    const long raw1 = bench::rss_kib();
    const long trim1 = bench::trimmed_rss_kib();
    const long heap1 = bench::heap_in_use_kib();
    const auto s = client.stats();
    if (c.failed || s.idle != n) {
        std::cerr << "bench_memory: " << c.failed << " failed (" << c.first_error << "), " << s.idle
                  << " idle connections instead of " << n << "\n";
        return 1;
    }
    const double per = static_cast<double>(trim1 - trim0) / static_cast<double>(n - 1);
    const double per_raw = static_cast<double>(raw1 - raw0) / static_cast<double>(n - 1);
    std::cout << "idle connections " << n << " rss_before_kib " << trim0 << " rss_after_kib " << trim1
              << " kib_per_connection " << per << " raw_kib_per_connection " << per_raw << " heap_kib_per_connection "
              << static_cast<double>(heap1 - heap0) / static_cast<double>(n - 1) << std::endl;
    return 0;
}

int pending(const bench::arguments& args) {
    const auto n = static_cast<std::size_t>(args.num("ops", 10000));
    const auto pool = static_cast<std::size_t>(args.num("pool", 16));
    const auto id = args.required("meter-id");
    asio::io_context ioc(1);
    auto client = make_client(ioc, args, pool);
    counts warm;
    start_gets(ioc, client, id, pool, warm);
    ioc.run();
    ioc.restart();
    if (warm.failed) {
        std::cerr << "bench_memory: warm-up failed: " << warm.first_error << "\n";
        return 1;
    }
    const long raw0 = bench::rss_kib();
    const long trim0 = bench::trimmed_rss_kib();
    const long heap0 = bench::heap_in_use_kib();

    counts c;
    long raw_peak = 0, trim_peak = 0, heap_peak = 0;
    std::size_t waiting = 0;
    start_gets(ioc, client, id, n, c);
    // Sampled while every operation waits (the server holds the first ones).
    asio::steady_timer sample(ioc, std::chrono::milliseconds(800));
    sample.async_wait([&](polar::error_code) {
        raw_peak = bench::rss_kib();
        trim_peak = bench::trimmed_rss_kib();
        heap_peak = bench::heap_in_use_kib();
        waiting = client.stats().waiting;
        client.shutdown();
    });
    ioc.run();
    const long hwm = bench::proc_status_kib("VmHWM");
    if (waiting != n - pool || c.ok + c.failed != n) {
        std::cerr << "bench_memory: " << waiting << " operations waiting instead of " << n - pool << "\n";
        return 1;
    }
    const double per = static_cast<double>(trim_peak - trim0) / static_cast<double>(n);
    std::cout << "pending ops " << n << " pool " << pool << " rss_before_kib " << trim0 << " rss_peak_kib "
              << trim_peak << " raw_rss_peak_kib " << raw_peak << " hwm_kib " << hwm << " kib_per_op " << per
              << " raw_kib_per_op " << static_cast<double>(raw_peak - raw0) / static_cast<double>(n)
              << " heap_kib_per_op " << static_cast<double>(heap_peak - heap0) / static_cast<double>(n) << std::endl;
    return 0;
}

int page(const bench::arguments& args) {
    const auto id = args.required("meter-id");
    const auto body = static_cast<double>(args.num("body-bytes", 0));
    const auto runs = static_cast<std::size_t>(args.num("runs", 5));
    if (body <= 0) throw std::invalid_argument("--body-bytes is required");
    asio::io_context ioc(1);
    auto client = make_client(ioc, args, 1);
    auto meters = client.meters();
    polar::meter_events_params params;
    params.limit = 100;
    std::vector<double> beyond, models;
    for (std::size_t run = 0; run <= runs; ++run) { // run 0 opens the connection
        polar::page<polar::event> got;
        polar::error_code failed;
        const std::size_t before = heap_count::live.load();
        heap_count::peak.store(before);
        meters.events(id, params, asio::bind_executor(ioc, [&](polar::error_code ec, polar::page<polar::event> p) {
                          failed = ec;
                          got = std::move(p);
                      }));
        ioc.run();
        ioc.restart();
        const std::size_t after = heap_count::live.load();
        if (failed || got.items.size() != 100) {
            std::cerr << "bench_memory: events page: " << (failed ? failed.message() : "not 100 items") << "\n";
            return 1;
        }
        if (run == 0) continue;
        beyond.push_back(static_cast<double>(heap_count::peak.load() - after) / body);
        models.push_back(static_cast<double>(after - before) / body);
    }
    std::cout << "page body_bytes " << static_cast<std::size_t>(body) << " beyond_models_x_body " << bench::median(beyond)
              << " models_x_body " << bench::median(models) << std::endl;
    return 0;
}

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    const auto mode = args.required("mode");
    if (mode == "idle") return idle(args);
    if (mode == "pending") return pending(args);
    if (mode == "page") return page(args);
    throw std::invalid_argument("bad --mode " + mode);
} catch (const std::exception& e) {
    std::cerr << "bench_memory: " << e.what() << "\n";
    return 1;
}
