// Shared helpers for client tests: an io_context, an emulator on a real
// socket (HTTP or HTTPS) and a client pointed at it.
#ifndef POLAR_TESTS_CLIENT_FIXTURE_HPP
#define POLAR_TESTS_CLIENT_FIXTURE_HPP

#include <polar/polar.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace polar_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

enum class transport { http, https };

inline const char* transport_name(transport t) { return t == transport::http ? "http" : "https"; }

/// An emulator and a client on one single-threaded io_context.
struct client_fixture {
    explicit client_fixture(transport t = transport::http,
                            std::function<void(polar::client_options&)> tweak = {},
                            std::function<void(polar::testing::emulator_options&)> tweak_server = {})
        : server(make_server(ioc.get_executor(), t, tweak_server)) {
        server.start();
        polar::client_options o;
        o.access_token = std::string(polar::testing::default_token);
        o.server_url = server.base_url();
        o.ca_pem = server.certificate_pem();
        o.retry = polar::retry_policy::none();
        if (tweak) tweak(o);
        api.emplace(ioc.get_executor(), std::move(o));
    }

    static polar::testing::emulator make_server(asio::any_io_executor ex, transport t,
                                                const std::function<void(polar::testing::emulator_options&)>& tw) {
        polar::testing::emulator_options so;
        so.tls = t == transport::https;
        if (tw) tw(so);
        return polar::testing::emulator(std::move(ex), std::move(so));
    }

    /// Runs `fn()` (returning an awaitable) to completion on the io_context,
    /// rethrowing what it throws.
    template <class F>
    void run(F&& fn) {
        std::exception_ptr error;
        bool done = false;
        asio::co_spawn(ioc, std::forward<F>(fn)(), [&](std::exception_ptr e) {
            error = e;
            done = true;
        });
        ioc.restart();
        while (!done && ioc.run_one()) {
        }
        if (error) std::rethrow_exception(error);
        if (!done) throw std::runtime_error("io_context ran out of work before the test finished");
    }

    /// Lets pending handlers (closes, timers that already fired) run.
    void drain(std::chrono::milliseconds d = 50ms) {
        ioc.restart();
        ioc.run_for(d);
    }

    polar::client& client() { return *api; }

    asio::io_context ioc;
    polar::testing::emulator server;
    std::optional<polar::client> api;
};

} // namespace polar_test

#endif
