// Fan-out efficiency: Q quantities queries over P connections against a
// server that answers every request after D ms (fixed_server --delay-ms D).
// Efficiency = wall time / (ceil(Q / P) x D): 1.0 is a pool that never idles
// and costs nothing. Each run uses a fresh client (connections included).
//
//   fan_out_api:       meters().quantities_many(requests, {.max_concurrency = P})
//   concurrent_calls:  Q coroutines started at once, each awaiting quantities(),
//                      bounded by max_connections = P
//
// usage: bench_fanout --port P --token TOK --meter-id ID --start TS --end TS
//                     --delay-ms D [--queries Q] [--parallel P] [--runs R] [--tls --ca FILE]
// Prints "<variant> wall_ms W ideal_ms I efficiency E" (medians).
#include "common.hpp"

#include <polar/polar.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

struct setup {
    std::string meter_id;
    polar::timestamp start, end;
    std::size_t queries = 2000, parallel = 16;
};

polar::client make_client(asio::io_context& ioc, const bench::arguments& args, std::size_t max_connections) {
    return polar::client(ioc.get_executor(), bench::client_options(args, max_connections));
}

polar::meter_quantities_params params(const setup& s) {
    return {.start_timestamp = s.start, .end_timestamp = s.end, .interval = polar::time_interval::hour};
}

#if __has_include(<polar/fan_out.hpp>)
#define POLAR_BENCH_HAS_FAN_OUT 1
// Returns the wall time in seconds, or a negative value on failure.
double run_fan_out_api(const bench::arguments& args, const setup& s) {
    asio::io_context ioc(1);
    auto client = make_client(ioc, args, s.parallel);
    std::vector<polar::quantities_request> reqs(s.queries, polar::quantities_request{s.meter_id, params(s)});
    polar::fan_out_options fo;
    fo.max_concurrency = s.parallel;
    bool ok = false;
    const auto t0 = clock_type::now();
    clock_type::time_point t1;
    client.meters().quantities_many(
        reqs, fo,
        asio::bind_executor(ioc, [&](polar::error_code ec, std::vector<polar::quantities_result> results) {
            t1 = clock_type::now();
            ok = !ec && results.size() == s.queries;
            for (const auto& r : results) ok = ok && r.ok() && r.value.quantities.size() == 169;
        }));
    ioc.run();
    return ok ? std::chrono::duration<double>(t1 - t0).count() : -1;
}
#endif

asio::awaitable<void> one_query(polar::client client, const setup& s, std::size_t& ok, std::size_t& left,
                                clock_type::time_point& t1) {
    const auto p = params(s);
    auto [ec, q] = co_await client.meters().quantities(s.meter_id, p, asio::as_tuple(asio::deferred));
    if (!ec && q.quantities.size() == 169) ++ok;
    if (--left == 0) t1 = clock_type::now();
}

double run_concurrent_calls(const bench::arguments& args, const setup& s) {
    asio::io_context ioc(1);
    auto client = make_client(ioc, args, s.parallel);
    std::size_t ok = 0, left = s.queries;
    clock_type::time_point t1;
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < s.queries; ++i)
        asio::co_spawn(ioc, one_query(client, s, ok, left, t1), asio::detached);
    ioc.run();
    return ok == s.queries ? std::chrono::duration<double>(t1 - t0).count() : -1;
}

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    setup s;
    s.meter_id = args.required("meter-id");
    if (!polar::parse_timestamp(args.required("start"), s.start) || !polar::parse_timestamp(args.required("end"), s.end))
        throw std::invalid_argument("bad --start/--end");
    s.queries = static_cast<std::size_t>(args.num("queries", 2000));
    s.parallel = static_cast<std::size_t>(args.num("parallel", 16));
    const double delay = args.real("delay-ms", 5) / 1000.0;
    const int runs = static_cast<int>(args.num("runs", 5));
    const double ideal = static_cast<double>((s.queries + s.parallel - 1) / s.parallel) * delay;

    std::vector<double> api, calls;
    for (int r = 0; r < runs; ++r) {
#ifdef POLAR_BENCH_HAS_FAN_OUT
        api.push_back(run_fan_out_api(args, s));
        if (api.back() < 0) throw std::runtime_error("some queries failed (fan-out API)");
#endif
        calls.push_back(run_concurrent_calls(args, s));
        if (calls.back() < 0) throw std::runtime_error("some queries failed (concurrent calls)");
    }
    for (auto [name, v] : {std::pair{"fan_out_api", &api}, std::pair{"concurrent_calls", &calls}}) {
        if (v->empty()) continue;
        const double m = bench::median(*v);
        std::cout << name << " wall_ms " << m * 1000 << " ideal_ms " << ideal * 1000 << " efficiency " << m / ideal
                  << std::endl;
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_fanout: " << e.what() << "\n";
    return 1;
}
