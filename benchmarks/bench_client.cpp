// Throughput of polar::client: N coroutines on one thread, each awaiting one
// operation after the other, over a pool of max_connections = N, without
// retries. Every response is decoded into the typed model, as users get it.
//
// usage: bench_client --port P --token TOK --meter-id ID --op get|quantities|events
//                     [--start TS --end TS] [--tls --ca FILE]
//                     [--concurrency N] [--duration S] [--warmup S]
// Prints "rps R requests N seconds S".
#include "common.hpp"

#include <polar/polar.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

namespace asio = boost::asio;

namespace {

enum class op_kind { get, quantities, events };

struct run_state {
    bool stop = false;
    std::uint64_t done = 0;
    std::uint64_t errors = 0;
    std::string first_error;
};

struct job {
    op_kind op;
    std::string meter_id;
    polar::timestamp start, end;
};

void fail(run_state& st, const polar::error_code& ec) {
    if (st.first_error.empty()) st.first_error = ec.message();
    ++st.errors;
    st.stop = true;
}

asio::awaitable<void> worker(polar::client client, const job& j, run_state& st) {
    auto meters = client.meters();
    while (!st.stop) {
        std::size_t got = 0;
        switch (j.op) {
        case op_kind::get: {
            auto [ec, m] = co_await meters.get(j.meter_id, asio::as_tuple(asio::deferred));
            if (ec) co_return fail(st, ec);
            got = m.id.size();
            break;
        }
        case op_kind::quantities: {
            const polar::meter_quantities_params p{
                .start_timestamp = j.start, .end_timestamp = j.end, .interval = polar::time_interval::hour};
            auto [ec, q] = co_await meters.quantities(j.meter_id, p, asio::as_tuple(asio::deferred));
            if (ec) co_return fail(st, ec);
            got = q.quantities.size();
            break;
        }
        case op_kind::events: {
            polar::meter_events_params p;
            p.limit = 100;
            auto [ec, page] = co_await meters.events(j.meter_id, p, asio::as_tuple(asio::deferred));
            if (ec) co_return fail(st, ec);
            got = page.items.size();
            break;
        }
        }
        if (got == 0) {
            if (st.first_error.empty()) st.first_error = "empty response";
            ++st.errors;
            st.stop = true;
            co_return;
        }
        ++st.done;
    }
}

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    const auto concurrency = static_cast<std::size_t>(args.num("concurrency", 1));
    const auto duration = std::chrono::duration<double>(args.real("duration", 1.0));
    const auto warmup = std::chrono::duration<double>(args.real("warmup", 0.3));

    job j;
    const auto op = args.required("op");
    j.op = op == "get" ? op_kind::get : op == "quantities" ? op_kind::quantities : op_kind::events;
    if (op != "get" && op != "quantities" && op != "events") throw std::invalid_argument("bad --op " + op);
    j.meter_id = args.required("meter-id");
    if (j.op == op_kind::quantities) {
        if (!polar::parse_timestamp(args.required("start"), j.start) ||
            !polar::parse_timestamp(args.required("end"), j.end))
            throw std::invalid_argument("bad --start/--end");
    }

    asio::io_context ioc(1);
    polar::client client(ioc.get_executor(), bench::client_options(args, concurrency));

    run_state st;
    for (std::size_t i = 0; i < concurrency; ++i) asio::co_spawn(ioc, worker(client, j, st), asio::detached);

    const auto w = bench::run_window(ioc, st.done, st.stop, warmup, duration);
    if (st.errors) {
        std::cerr << "bench_client: " << st.errors << " error(s), first: " << st.first_error << "\n";
        return 1;
    }
    const auto stats = client.stats();
    if (stats.created > concurrency) {
        std::cerr << "bench_client: " << stats.created << " connections opened for " << concurrency
                  << " in flight (keep-alive failed)\n";
        return 1;
    }
    bench::print_window(w);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_client: " << e.what() << "\n";
    return 1;
}
