// A test program using the emulator as a package user's tests would: the
// emulator on a loopback port, a client pointed at it, one operation through
// both. Built by the add_subdirectory consumer, linking polar::testing.
#include <polar/polar.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <exception>
#include <string>

int main() {
    boost::asio::io_context ioc;
    polar::testing::emulator server(ioc.get_executor(), {});
    server.start();

    polar::client_options options;
    options.access_token = std::string(polar::testing::default_token);
    options.server_url = server.base_url();
    options.retry = polar::retry_policy::none();
    polar::client client(ioc.get_executor(), options);

    int status = 1;
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
            const polar::list_meters_params params;
            auto page = co_await client.meters().list(params);
            std::printf("emulator consumer: %zu meters at %s\n", page.items.size(), server.base_url().c_str());
            status = server.counters().requests("GET /v1/meters/") == 1 ? 0 : 1;
        },
        [&](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    std::fprintf(stderr, "emulator consumer: %s\n", ex.what());
                }
            }
            server.stop();
        });
    ioc.run();
    return status;
}
