// Deadlines on every phase of an exchange (connect, TLS handshake, a response
// that trickles in) against servers that misbehave on purpose, on one thread
// and on several; and no timer left behind to keep run() going.
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

using namespace polar_test;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

constexpr std::string_view some_id = "9b1c1f0e-3c1a-4d5e-8f00-0123456789ab";

/// A loopback server on its own thread: each accepted socket is handed to
/// `serve` (blocking calls), one connection after the other.
class raw_server {
public:
    explicit raw_server(std::function<void(tcp::socket&)> serve)
        : acceptor_(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), serve_(std::move(serve)) {
        thread_ = std::thread([this] {
            for (;;) {
                tcp::socket s(ioc_);
                polar::error_code ec;
                acceptor_.accept(s, ec);
                if (ec || stopping_) return;
                serve_(s);
            }
        });
    }
    ~raw_server() {
        stopping_ = true;
        // Wake the blocking accept with a connection of our own.
        polar::error_code ec;
        tcp::socket poke(ioc_);
        poke.connect(acceptor_.local_endpoint(), ec);
        thread_.join();
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

private:
    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    std::function<void(tcp::socket&)> serve_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

polar::client_options options_for(const std::string& url) {
    polar::client_options o;
    o.access_token = "polar_oat_test";
    o.server_url = url;
    o.retry = polar::retry_policy::none();
    return o;
}

// Runs one GET with `c` on `ioc`, expects errc::timeout with `needle` in the
// message, and returns how long it took.
steady_clock::duration expect_timeout(asio::io_context& ioc, polar::client& c, std::string_view needle) {
    const auto t0 = steady_clock::now();
    run_awaitable(ioc, [&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, m] = co_await c.meters().get(some_id, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::timeout);
        CHECK(d.message.find(needle) != std::string::npos);
    });
    return steady_clock::now() - t0;
}

/// A listener with a backlog of 0 whose queue is already full: the kernel
/// drops further SYNs, so a connect to it stays pending.
struct full_listener {
    full_listener() : acceptor(ioc) {
        acceptor.open(tcp::v4());
        acceptor.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        acceptor.listen(0);
        for (int i = 0; i < 4; ++i) {
            fillers.emplace_back(ioc);
            fillers.back().async_connect(acceptor.local_endpoint(), [](polar::error_code) {});
        }
        ioc.poll();
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()); }

    asio::io_context ioc;
    tcp::acceptor acceptor;
    std::vector<tcp::socket> fillers;
};

} // namespace

TEST_CASE("a connect that never completes is cut off by connect_timeout") {
    full_listener full;
    asio::io_context ioc;
    auto o = options_for(full.url());
    o.connect_timeout = std::chrono::milliseconds(300);
    o.attempt_timeout = std::chrono::milliseconds(300);
    polar::client c(ioc.get_executor(), o);
    CHECK(expect_timeout(ioc, c, "timed out connecting") < std::chrono::seconds(3));
    CHECK(c.stats().open == 0);
}

TEST_CASE("cancelling a connect in progress gives its pool slot back") {
    full_listener full;
    asio::io_context ioc;
    auto o = options_for(full.url());
    o.max_connections = 1;
    o.connect_timeout = std::chrono::seconds(30);
    polar::client c(ioc.get_executor(), o);
    for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                      asio::cancellation_type::total}) {
        CAPTURE(static_cast<int>(type));
        const auto t0 = steady_clock::now();
        run_awaitable(ioc, [&]() -> asio::awaitable<void> {
            asio::cancellation_signal sig;
            asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
            timer.async_wait([&](polar::error_code) { sig.emit(type); });
            auto [ec, m] = co_await c.meters().get(
                some_id, asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
            CHECK(ec == asio::error::operation_aborted);
        });
        CHECK(steady_clock::now() - t0 < std::chrono::seconds(3));
        // The only slot is free again: nothing open, nothing waiting.
        const auto s = c.stats();
        CHECK(s.open == 0);
        CHECK(s.waiting == 0);
    }
    // Emitted at once: it reaches the operation while the name is resolved,
    // before the connect starts.
    for (int i = 0; i < 3; ++i) {
        asio::cancellation_signal sig;
        std::optional<polar::error_code> result;
        c.meters().get(some_id, asio::bind_cancellation_slot(
                                    sig.slot(), [&](polar::error_code ec, polar::meter) { result = ec; }));
        sig.emit(asio::cancellation_type::terminal);
        ioc.restart();
        ioc.run_for(std::chrono::seconds(3));
        REQUIRE(result.has_value());
        CHECK(*result == asio::error::operation_aborted);
        CHECK(c.stats().open == 0);
    }
}

TEST_CASE("a TLS server that never answers the handshake is cut off by connect_timeout") {
    std::atomic<int> accepted{0};
    raw_server server([&](tcp::socket& s) {
        ++accepted;
        char buf[4096];
        polar::error_code ec;
        while (!ec) s.read_some(asio::buffer(buf), ec); // swallow the ClientHello, answer nothing
    });
    auto o = options_for("https://127.0.0.1:" + std::to_string(server.port()));
    o.connect_timeout = std::chrono::milliseconds(300);
    asio::io_context ioc;
    polar::client c(ioc.get_executor(), o);
    CHECK(expect_timeout(ioc, c, "TLS handshake") < std::chrono::seconds(3));
    CHECK(accepted == 1);
}

TEST_CASE("a server that trickles its response (slow loris) is cut off by attempt_timeout") {
    raw_server server([](tcp::socket& s) {
        asio::streambuf request;
        polar::error_code ec;
        asio::read_until(s, request, "\r\n\r\n", ec);
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Padding: ";
        asio::write(s, asio::buffer(head), ec);
        // One byte of an endless header every 20 ms: each read makes
        // progress, only a deadline on the whole exchange ends it.
        for (int i = 0; i < 500 && !ec; ++i) {
            asio::write(s, asio::buffer("a", 1), ec);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    auto o = options_for("http://127.0.0.1:" + std::to_string(server.port()));
    o.attempt_timeout = std::chrono::milliseconds(400);
    asio::io_context ioc;
    polar::client c(ioc.get_executor(), o);
    const auto took = expect_timeout(ioc, c, "the attempt timed out");
    CHECK(took >= std::chrono::milliseconds(350));
    CHECK(took < std::chrono::seconds(3));
    CHECK(c.stats().open == 0);
}

TEST_CASE("no timer outlives an operation: run() returns as soon as the work is done") {
    // The emulator on a thread of its own; the client alone on `ioc`, with
    // long timeouts that would hold run() if a deadline stayed armed.
    asio::io_context server_ioc;
    polar::testing::emulator server(server_ioc.get_executor(), {});
    server.start();
    auto guard = asio::make_work_guard(server_ioc);
    std::thread server_thread([&] { server_ioc.run(); });

    asio::io_context ioc;
    auto o = options_for(server.base_url());
    o.access_token = std::string(polar::testing::default_token);
    o.attempt_timeout = std::chrono::seconds(60);
    o.total_timeout = std::chrono::seconds(120);
    o.connect_timeout = std::chrono::seconds(60);
    polar::client c(ioc.get_executor(), o);
    int ok = 0;
    for (int round = 0; round < 3; ++round) {
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                auto [ec, p] = co_await c.meters().list({}, asio::as_tuple(asio::deferred));
                if (!ec) ++ok;
            },
            asio::detached);
        const auto t0 = steady_clock::now();
        ioc.restart();
        ioc.run();
        CHECK(steady_clock::now() - t0 < std::chrono::seconds(5));
    }
    CHECK(ok == 3);
    CHECK(c.stats().idle == 1);

    guard.reset();
    server.stop();
    server_thread.join();
}

TEST_CASE("threads: attempt timeouts while four threads share one client") {
    client_fixture fx(transport::http, [](polar::client_options& o) {
        o.max_connections = 4;
        o.attempt_timeout = std::chrono::milliseconds(100);
    });
    auto& c = fx.client();
    // The first 20 requests stall and time out; the other 40 succeed, on new
    // connections that replace the ones the stalled requests gave up.
    fx.server.faults().add(polar::testing::fault::stall().times(20).on("GET /v1/meters/"));
    std::atomic<int> ok{0}, timed_out{0}, other{0}, done{0};
    for (int t = 0; t < 4; ++t)
        asio::post(fx.ioc, [&] {
            for (int i = 0; i < 15; ++i)
                c.meters().list({}, [&](polar::error_code ec, polar::page<polar::meter>) {
                    if (!ec)
                        ++ok;
                    else if (ec == polar::errc::timeout)
                        ++timed_out;
                    else
                        ++other;
                    ++done;
                });
        });
    run_threads(fx.ioc, 4, [&] { return done == 60; });
    CHECK(done == 60);
    CHECK(timed_out == 20);
    CHECK(ok == 40);
    CHECK(other == 0);
    CHECK(c.stats().open <= 4);
}
