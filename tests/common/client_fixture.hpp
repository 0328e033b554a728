// Shared helpers for client tests: an io_context, an emulator on a real
// socket (HTTP or HTTPS) and a client pointed at it.
#ifndef POLAR_TESTS_CLIENT_FIXTURE_HPP
#define POLAR_TESTS_CLIENT_FIXTURE_HPP

#include <polar/polar.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace polar_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

enum class transport { http, https };

inline const char* transport_name(transport t) { return t == transport::http ? "http" : "https"; }

/// Runs `fn()` (returning an awaitable) to completion on `ioc`, rethrowing
/// what it throws.
template <class F>
void run_awaitable(asio::io_context& ioc, F&& fn) {
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

/// Runs `ioc` on `threads` threads until `finished()` holds (at most 60 s),
/// then stops and joins them. Post the work first.
template <class Finished>
void run_threads(asio::io_context& ioc, int threads, Finished finished) {
    auto work = asio::make_work_guard(ioc);
    std::vector<std::thread> pool;
    ioc.restart();
    for (int i = 0; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!finished() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ioc.stop();
    for (auto& t : pool) t.join();
}

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
        // The seed-era contract, which most client tests were written for;
        // the version tests choose theirs.
        o.api_version = polar::api_version::v2025_03;
        if (tweak) tweak(o);
        api.emplace(ioc.get_executor(), std::move(o));
    }

    static polar::testing::emulator make_server(asio::any_io_executor ex, transport t,
                                                const std::function<void(polar::testing::emulator_options&)>& tw) {
        polar::testing::emulator_options so;
        so.tls = t == transport::https;
        // The seed-era contract for clients that send no Polar-Version
        // header; a request's own header still selects its version.
        so.default_api_version = std::string(polar::testing::api_version_2025_03);
        if (tw) tw(so);
        return polar::testing::emulator(std::move(ex), std::move(so));
    }

    /// Runs `fn()` (returning an awaitable) to completion on the io_context,
    /// rethrowing what it throws.
    template <class F>
    void run(F&& fn) {
        run_awaitable(ioc, std::forward<F>(fn));
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
