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
// Both report RSS measured after malloc_trim(0) (freed heap pages returned to
// the kernel: the memory still in use) and as read ("raw").
//
// usage: bench_memory --mode idle|pending --port P --token TOK --meter-id ID
//                     [--tls --ca FILE] [--connections C] [--ops N] [--pool K]
#include "common.hpp"

#include <polar/polar.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <iostream>

namespace asio = boost::asio;

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

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    const auto mode = args.required("mode");
    if (mode == "idle") return idle(args);
    if (mode == "pending") return pending(args);
    throw std::invalid_argument("bad --mode " + mode);
} catch (const std::exception& e) {
    std::cerr << "bench_memory: " << e.what() << "\n";
    return 1;
}
