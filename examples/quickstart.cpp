// 1. Quickstart: create a meter, ingest events, list meters, read the
// meter's events and print its quantities for the last week, day by day.
//
// Runs against the bundled emulator unless POLAR_ACCESS_TOKEN is set
// (see example_support.hpp).
#include "example_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

namespace asio = boost::asio;
using namespace std::chrono;

asio::awaitable<void> run(polar::client client) {
    // 1. Create a meter summing the `tokens` of `llm.call` events, shown in tokens.
    const auto now = floor<microseconds>(system_clock::now());
    polar::meter_create body("Quickstart tokens",
                             polar::filter::all(polar::clause("name", polar::filter_operator::eq, "llm.call")),
                             polar::aggregation::sum("tokens"));
    body.set_unit(polar::meter_unit::token);
    polar::meter meter = co_await client.meters().create(body);
    std::cout << "Created meter " << meter.name << " (" << meter.id << "), unit " << meter.unit.wire() << "\n";

    // 2. Ingest a week of usage for three customers.
    std::mt19937 rng(42);
    std::vector<polar::event_create> events;
    for (int i = 0; i < 60; ++i) {
        const auto when = now - minutes(std::uniform_int_distribution<int>(1, 7 * 24 * 60 - 1)(rng));
        const std::string customer = "customer-" + std::to_string(i % 3 + 1);
        // Your own id for each event: sending the batch again stores nothing twice.
        events.push_back(polar::event_create::for_external_customer(customer, "llm.call")
                             .set_external_id("quickstart-" + std::to_string(i))
                             .set_timestamp(when)
                             .set_metadata({{"tokens", std::int64_t(std::uniform_int_distribution<int>(10, 500)(rng))},
                                            {"model", std::string(i % 2 ? "pro" : "lite")}}));
    }
    polar::events_ingest_response ingested = co_await client.events().ingest(polar::events_ingest(std::move(events)));
    std::cout << "Ingested " << ingested.inserted << " events (" << ingested.duplicates << " duplicates)\n\n";

    // 3. List meters, first page.
    polar::page<polar::meter> meters = co_await client.meters().list({.limit = 10});
    std::cout << "Meters (" << meters.pagination.total_count << " in all):\n";
    for (const auto& m : meters.items)
        std::cout << "  " << m.id << "  " << m.aggregation.func_name() << "  " << m.name << "\n";

    // 4. The newest events the meter counts.
    polar::page<polar::event> recent = co_await client.meters().events(meter.id, {.limit = 5});
    std::cout << "\nNewest of " << recent.pagination.total_count << " events of the meter:\n";
    for (const auto& e : recent.items) {
        const auto tokens = e.metadata.count("tokens") ? std::get<std::int64_t>(e.metadata.at("tokens")) : 0;
        std::cout << "  " << polar::format_timestamp(e.timestamp) << "  "
                  << e.external_customer_id.value_or("-") << "  tokens=" << tokens << "\n";
    }

    // 5. Quantities for the last seven days, one point per UTC day.
    const auto today = floor<days>(now);
    polar::meter_quantities q = co_await client.meters().quantities(
        meter.id, {.start_timestamp = today - days(6), .end_timestamp = today, .interval = polar::time_interval::day});
    double max = 1;
    for (const auto& p : q.quantities) max = std::max(max, p.quantity);
    std::cout << "\nTokens per day:\n";
    for (const auto& p : q.quantities) {
        const std::string date = polar::format_timestamp(p.timestamp).substr(0, 10);
        const int width = static_cast<int>(40 * p.quantity / max);
        std::printf("  %s %8.0f %s\n", date.c_str(), p.quantity, std::string(static_cast<std::size_t>(width), '#').c_str());
    }
    if (q.total) std::printf("  total      %8.0f\n", *q.total);
}

int main() {
    asio::io_context ioc;
    auto target = example::connect(ioc.get_executor());
    polar::client client(ioc.get_executor(), target->options);
    int status = 0;
    asio::co_spawn(ioc, run(client), example::finish(*target, status));
    ioc.run();
    return status;
}
