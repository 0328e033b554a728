// Shared by the examples: connect to Polar when POLAR_ACCESS_TOKEN is set,
// else start the bundled emulator (HTTPS, demo data) in this process.
//
//   POLAR_ACCESS_TOKEN  a Polar organization access token
//   POLAR_SERVER        "sandbox" or "production" (default: sandbox)
//   POLAR_SERVER_URL    any base URL (overrides POLAR_SERVER)
#ifndef POLAR_EXAMPLES_SUPPORT_HPP
#define POLAR_EXAMPLES_SUPPORT_HPP

#include <polar/polar.hpp>
#include <polar/testing/emulator.hpp>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace example {

/// Where the examples send their requests.
struct target {
    polar::client_options options;
    std::optional<polar::testing::emulator> emulator; ///< set when running offline
    std::optional<polar::testing::emulator_demo> demo; ///< the emulator's demo data
};

inline std::unique_ptr<target> connect(boost::asio::any_io_executor ex) {
    auto t = std::make_unique<target>();
    if (const char* token = std::getenv("POLAR_ACCESS_TOKEN"); token && *token) {
        t->options.access_token = token;
        const char* url = std::getenv("POLAR_SERVER_URL");
        const char* server = std::getenv("POLAR_SERVER");
        if (url && *url)
            t->options.server_url = url;
        else
            t->options.server = server && std::string(server) == "production" ? polar::server::production
                                                                               : polar::server::sandbox;
        return t;
    }
    polar::testing::emulator_options eo;
    eo.tls = true;
    auto state = std::make_shared<polar::testing::emulator_state>();
    t->demo = state->seed_demo();
    eo.state = state;
    t->emulator.emplace(ex, std::move(eo));
    t->emulator->start();
    t->options.access_token = t->demo->organization_token;
    t->options.server_url = t->emulator->base_url();
    t->options.ca_pem = t->emulator->certificate_pem(); // trust the emulator's self-signed certificate
    std::cout << "No POLAR_ACCESS_TOKEN: using the bundled emulator at " << t->options.server_url << "\n\n";
    return t;
}

/// The completion handler of an example's main coroutine: prints what it
/// threw, sets `status` to 1 on failure, and stops the emulator (if any) so
/// that io_context::run() returns.
inline auto finish(target& t, int& status) {
    return [&t, &status](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                std::cerr << "error: " << ex.what() << "\n";
                status = 1;
            }
        }
        if (t.emulator) t.emulator->stop();
    };
}

} // namespace example

#endif
