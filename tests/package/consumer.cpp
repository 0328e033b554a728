// A program using polar-cpp as a package would: options, a retry policy, a
// timestamp round trip and a client (which validates the options and sets up
// TLS). Shared by the find_package, add_subdirectory and FetchContent
// consumers; each builds it in a different mode (see their CMakeLists.txt).
#include <polar/client.hpp>
#include <polar/error.hpp>
#include <polar/models/common.hpp>
#include <polar/retry.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <string>

int main() {
    polar::client_options options;
    options.access_token = "polar_test_token";
    options.server = polar::server::sandbox;
    options.retry = polar::retry_policy::none();

    const std::string text = "2025-03-25T15:51:07.123456Z";
    const auto t = polar::parse_timestamp(text);
    if (!t || polar::format_timestamp(*t) != text) {
        std::fprintf(stderr, "timestamp round trip failed\n");
        return 1;
    }

    boost::asio::io_context ioc;
    polar::client client(ioc.get_executor(), options);
    if (client.base_url().empty()) {
        std::fprintf(stderr, "client has no base URL\n");
        return 1;
    }

    // Invalid options are reported by the constructor with errc::invalid_argument.
    polar::client_options bad = options;
    bad.max_connections = 0;
    try {
        polar::client rejected(ioc.get_executor(), bad);
        std::fprintf(stderr, "max_connections = 0 was accepted\n");
        return 1;
    } catch (const polar::api_error& e) {
        if (e.code() != polar::make_error_code(polar::errc::invalid_argument)) {
            std::fprintf(stderr, "unexpected error: %s\n", e.what());
            return 1;
        }
    }
    std::printf("polar consumer: %s via %s\n", text.c_str(), client.base_url().c_str());
    return 0;
}
