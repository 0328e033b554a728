// 3. Fan-out: about 500 quantities queries (customers x meters x days) at
// once with meters().quantities_many(), at most 16 in flight, on an
// io_context run by four threads; prints a per-customer table and the wall
// time, one query at a time versus 16 at a time; then the same queries
// through a client limited to 200 requests per second, and what its rate
// limiter counted.
//
// Every client has a rate limiter: Polar's limit by default (500 requests a
// minute in production, 100 in the sandbox), none for a server_url such as
// the emulator's. Against Polar itself the runs below therefore take minutes
// (about 1000 requests), never a 429 storm.
//
// Against the bundled emulator every quantities answer is delayed by 5 ms,
// standing in for a network round trip. Runs against the bundled emulator
// unless POLAR_ACCESS_TOKEN is set (see example_support.hpp).
#include "example_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono;

struct customer_row {
    std::string label;
    std::string id;       // a Polar customer id, or
    std::string external; // an external customer id
};

asio::awaitable<void> run(polar::client client, std::optional<polar::client> paced) {
    // 1. The meters, and up to ten customers found in their events (streamed
    //    until enough are seen: the generator stops fetching there).
    std::vector<polar::meter> meters;
    auto all_meters = client.meters().list_items({.limit = 100});
    while (auto m = co_await all_meters.next()) meters.push_back(std::move(*m));
    if (meters.size() > 6) meters.resize(6);

    std::vector<customer_row> customers;
    for (const auto& m : meters) {
        auto events = client.meters().events_items(m.id, {.limit = 100});
        while (customers.size() < 10) {
            auto e = co_await events.next();
            if (!e) break;
            customer_row row;
            if (e->customer) {
                row.id = e->customer->id;
                row.label = e->customer->name.value_or(e->customer->email);
            } else if (e->external_customer_id) {
                row.external = row.label = *e->external_customer_id;
            } else {
                continue;
            }
            auto same = [&](const customer_row& c) { return c.id == row.id && c.external == row.external; };
            if (std::none_of(customers.begin(), customers.end(), same)) customers.push_back(std::move(row));
        }
    }
    if (meters.empty() || customers.empty()) {
        std::cout << "Nothing to query: no meters or no customer events.\n";
        co_return;
    }

    // 2. One query per customer, meter and day: a day's total, for about 500 queries.
    const std::size_t pairs = customers.size() * meters.size();
    const int days = std::max(1, static_cast<int>(std::lround(500.0 / static_cast<double>(pairs))));
    const auto today = floor<std::chrono::days>(floor<microseconds>(system_clock::now()));
    std::vector<std::string_view> id_views, external_views;
    for (const auto& c : customers) {
        id_views.push_back(c.id);
        external_views.push_back(c.external);
    }
    std::vector<polar::quantities_request> requests;
    for (std::size_t c = 0; c < customers.size(); ++c)
        for (const auto& m : meters)
            for (int d = 0; d < days; ++d) {
                polar::quantities_request r{.meter_id = m.id,
                                            .params = {.start_timestamp = today - std::chrono::days(d),
                                                       .end_timestamp = today - std::chrono::days(d),
                                                       .interval = polar::time_interval::day}};
                if (!customers[c].id.empty())
                    r.params.customer_id = std::span<const std::string_view>(&id_views[c], 1);
                else
                    r.params.external_customer_id = std::span<const std::string_view>(&external_views[c], 1);
                requests.push_back(r);
            }

    // 3. Run them: first one at a time, then 16 at a time. Each result holds
    //    its value or its own error; the order is the order of `requests`.
    std::vector<polar::quantities_result> results;
    for (std::size_t concurrency : {std::size_t(1), std::size_t(16)}) {
        const auto t0 = steady_clock::now();
        results = co_await client.meters().quantities_many(requests, {.max_concurrency = concurrency});
        const auto ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        std::printf("%zu queries, %2zu in flight: %6lld ms (%.0f queries/s)\n", requests.size(), concurrency,
                    static_cast<long long>(ms), 1000.0 * static_cast<double>(requests.size()) / std::max<double>(1, ms));
    }

    // 4. The table: per customer and meter, the last `days` days combined as
    //    the meter aggregates (sum and count add up, max and min keep the
    //    extreme, avg shows the mean of the daily averages).
    std::printf("\nLast %d days per customer (%zu customers x %zu meters x %d days = %zu queries)\n\n", days,
                customers.size(), meters.size(), days, requests.size());
    std::printf("%-20s", "customer");
    for (const auto& m : meters) std::printf(" %14.14s", m.name.c_str());
    std::printf("\n");
    std::size_t i = 0, failed = 0;
    for (const auto& c : customers) {
        std::printf("%-20.20s", c.label.c_str());
        for (std::size_t m = 0; m < meters.size(); ++m) {
            const auto func = meters[m].aggregation.func();
            double acc = 0;
            int points = 0;
            for (int d = 0; d < days; ++d, ++i) {
                if (!results[i].ok()) {
                    ++failed;
                    continue;
                }
                for (const auto& p : results[i].value.quantities) {
                    if (func == polar::aggregation_function::max)
                        acc = points ? std::max(acc, p.quantity) : p.quantity;
                    else if (func == polar::aggregation_function::min)
                        acc = points ? std::min(acc, p.quantity) : p.quantity;
                    else if (func != polar::aggregation_function::avg || p.quantity != 0)
                        acc += p.quantity;
                    if (func != polar::aggregation_function::avg || p.quantity != 0) ++points;
                }
            }
            if (func == polar::aggregation_function::avg && points) acc /= points;
            std::printf(" %14.0f", acc);
        }
        std::printf("\n");
    }
    if (failed) std::printf("\n%zu queries failed, e.g.: %s\n", failed, [&] {
        for (const auto& r : results)
            if (!r.ok()) return r.diag.summary();
        return std::string();
    }().c_str());

    // 5. The rate limiter: the same queries through a client limited to 200
    //    requests per second (client_options::rate_limit). They start at that
    //    pace, in the order they asked, and the client's stats say how many
    //    waited, for how long in all, and how many 429s came back (a 429
    //    with Retry-After would pause every request of the client).
    auto print_stats = [](const char* what, const polar::pool_stats& s) {
        std::printf("%s: %zu requests waited for the rate limiter, %lld ms in all; %zu answers 429, %zu pauses\n",
                    what, s.rate_limit_delayed, static_cast<long long>(duration_cast<milliseconds>(s.rate_limit_waited).count()),
                    s.responses_429, s.rate_limit_pauses);
    };
    std::printf("\n");
    if (paced) {
        const auto t0 = steady_clock::now();
        results = co_await paced->meters().quantities_many(requests, {.max_concurrency = 16});
        const auto ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        const auto ok = std::count_if(results.begin(), results.end(), [](const auto& r) { return r.ok(); });
        std::printf("%zu queries at 200 per second: %lld ms, %lld answered\n", requests.size(),
                    static_cast<long long>(ms), static_cast<long long>(ok));
        print_stats("paced client", paced->stats());
    }
    print_stats("first client", client.stats());
}

int main() {
    asio::io_context ioc(4);
    auto target = example::connect(ioc.get_executor());
    if (target->emulator)
        target->emulator->faults().add(
            polar::testing::fault::delay(milliseconds(5)).always().on("GET /v1/meters/{id}/quantities"));
    polar::client client(ioc.get_executor(), target->options);
    // Against Polar the first client already has Polar's limit; against the
    // emulator (no limit by default) a second client shows one at work.
    std::optional<polar::client> paced;
    if (target->emulator) {
        auto o = target->options;
        o.rate_limit = polar::rate_limit::per_second(200);
        paced.emplace(ioc.get_executor(), std::move(o));
    }
    int status = 0;
    asio::co_spawn(asio::make_strand(ioc), run(client, std::move(paced)), example::finish(*target, status));
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : threads) t.join();
    return status;
}
