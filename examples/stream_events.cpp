// 2. Streaming: walk every meter page by page, then stream all events of one
// meter item by item (prefetching the next page while counting), and stop a
// stream early.
//
// Generators do no I/O until the first next() and request a page only when
// the items fetched so far run out (or, with prefetch, one page ahead).
// Runs against the bundled emulator unless POLAR_ACCESS_TOKEN is set
// (see example_support.hpp).
#include "example_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono;

asio::awaitable<void> run(polar::client client) {
    // 1. All meters, two per page: one request per page, stopping on max_page.
    std::cout << "Meters, two per page:\n";
    auto pages = client.meters().list_pages({.limit = 2});
    std::string busiest_id, busiest_name;
    while (auto page = co_await pages.next()) {
        std::cout << "  page " << page->number << " of " << page->pagination.max_page << "\n";
        for (const auto& m : page->items) {
            std::cout << "    " << m.name << "\n";
            if (busiest_id.empty() || m.name == "All events") {
                busiest_id = m.id;
                busiest_name = m.name;
            }
        }
    }
    if (busiest_id.empty()) {
        std::cout << "No meters.\n";
        co_return;
    }

    // 2. Every event of one meter, newest first, 100 per request, with the
    //    next page fetched while this one is being counted.
    std::cout << "\nEvents of \"" << busiest_name << "\" per customer and event name:\n";
    const auto t0 = steady_clock::now();
    auto events = client.meters().events_items(busiest_id, {.limit = 100}, {}, {.prefetch = true});
    std::map<std::string, std::map<std::string, long>> counts; // customer -> event name -> count
    long total = 0;
    while (auto e = co_await events.next()) {
        std::string who = e->customer && e->customer->name ? *e->customer->name
                          : e->external_customer_id        ? *e->external_customer_id
                          : e->customer_id                 ? *e->customer_id
                                                           : "(no customer)";
        ++counts[who][e->name];
        ++total;
    }
    const auto ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
    for (const auto& [who, by_name] : counts) {
        std::printf("  %-22s", who.c_str());
        for (const auto& [name, n] : by_name) std::printf("  %s=%ld", name.c_str(), n);
        std::printf("\n");
    }
    std::cout << total << " events streamed in " << ms << " ms (" << (total + 99) / 100 << " pages)\n";

    // 3. The five newest events, then stop: destroying the generator cancels
    //    its prefetch of page 2, so only what is needed is transferred.
    std::cout << "\nThe five newest events:\n";
    {
        auto newest = client.meters().events_items(busiest_id, {.limit = 5}, {}, {.prefetch = true});
        for (int i = 0; i < 5; ++i) {
            auto e = co_await newest.next();
            if (!e) break;
            std::cout << "  " << polar::format_timestamp(e->timestamp) << "  " << e->name << "\n";
        }
    }

    // 4. Resume from a given page, e.g. a page number saved earlier.
    auto later = client.meters().events_pages(busiest_id, {.page = 3, .limit = 100});
    if (auto p = co_await later.next())
        std::cout << "\nPage " << p->number << " holds " << p->items.size() << " of "
                  << p->pagination.total_count << " events\n";
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
