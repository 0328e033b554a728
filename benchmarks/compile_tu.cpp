// A typical translation unit using the client, for the compile-time benchmark:
// built once header-only and once with POLAR_SEPARATE_COMPILATION.
#include <polar/polar.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <iostream>

namespace asio = boost::asio;

asio::awaitable<void> report(polar::client client, std::string id) {
    polar::meter m = co_await client.meters().get(id);
    const auto end = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    const polar::meter_quantities_params p{
        .start_timestamp = end - std::chrono::hours(24 * 7), .end_timestamp = end, .interval = polar::time_interval::hour};
    polar::meter_quantities q = co_await client.meters().quantities(id, p);
    polar::meter_events_params ep;
    ep.limit = 100;
    polar::page<polar::event> events = co_await client.meters().events(id, ep);
    std::cout << m.name << ": " << q.quantities.size() << " points, " << events.items.size() << " events\n";
}

int main(int argc, char** argv) {
    if (argc < 3) return 2;
    asio::io_context ioc;
    polar::client_options o;
    o.access_token = argv[1];
    polar::client client(ioc.get_executor(), std::move(o));
    asio::co_spawn(ioc, report(client, argv[2]), asio::detached);
    ioc.run();
}
