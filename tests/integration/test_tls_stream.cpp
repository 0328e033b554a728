// polar::detail::tls_stream over real sockets: handshakes and verification,
// keep-alive requests to the emulator, truncation, cancellation, large
// transfers through small socket buffers, a peer that has gone away, and
// completions that never run inside the initiating function.
#include <polar/detail/transport/tls_stream.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <doctest/doctest.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using polar::error_code;
using polar::detail::tls_stream;
using namespace std::chrono_literals;

/// Runs `main` on `ioc` until it finishes (at most 30 s) and rethrows what it throws.
void run(asio::io_context& ioc, asio::awaitable<void> main) {
    std::exception_ptr error;
    bool done = false;
    asio::co_spawn(ioc, std::move(main), [&](std::exception_ptr e) {
        error = e;
        done = true;
    });
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!done && std::chrono::steady_clock::now() < until) ioc.run_one_for(100ms);
    REQUIRE_MESSAGE(done, "the test did not finish within 30 s");
    if (error) std::rethrow_exception(error);
}

ssl::context client_context(const std::string& ca_pem) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.add_certificate_authority(asio::buffer(ca_pem));
    ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    return ctx;
}

void verify_ip(tls_stream& s) {
    REQUIRE(::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(s.native_handle()), "127.0.0.1") == 1);
}

void verify_name(tls_stream& s, const char* name) {
    REQUIRE(::SSL_set_tlsext_host_name(s.native_handle(), name) == 1);
    REQUIRE(::SSL_set1_host(s.native_handle(), name) == 1);
}

asio::awaitable<void> connect(tls_stream& s, std::uint16_t port) {
    const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
    co_await s.next_layer().async_connect(ep, asio::use_awaitable);
}

std::string get_request(std::string_view host, std::string_view target) {
    std::string r = "GET ";
    r.append(target).append(" HTTP/1.1\r\nHost: ").append(host);
    r.append("\r\nAuthorization: Bearer ").append(polar::testing::default_token);
    r.append("\r\nAccept: application/json\r\n\r\n");
    return r;
}

/// A TLS server on 127.0.0.1 built on asio::ssl::stream, one connection per
/// `serve` call.
struct tls_server {
    explicit tls_server(asio::io_context& ioc)
        : acceptor(ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0)), ctx(ssl::context::tls_server) {
        const auto pair = polar::testing::make_self_signed_certificate();
        cert_pem = pair.cert_pem;
        ctx.use_certificate_chain(asio::buffer(pair.cert_pem));
        ctx.use_private_key(asio::buffer(pair.key_pem), ssl::context::pem);
    }

    std::uint16_t port() const { return acceptor.local_endpoint().port(); }

    using stream = ssl::stream<tcp::socket>;
    using handler = std::function<asio::awaitable<void>(stream&)>;

    /// Accepts one connection, completes the handshake and runs `fn` on it.
    void serve(handler fn) {
        asio::co_spawn(acceptor.get_executor(), accept_one(std::move(fn)), asio::detached);
    }

    asio::awaitable<void> accept_one(handler fn) {
        stream s(acceptor.get_executor(), ctx);
        co_await acceptor.async_accept(s.next_layer(), asio::use_awaitable);
        co_await s.async_handshake(ssl::stream_base::server, asio::use_awaitable);
        co_await fn(s);
    }

    tcp::acceptor acceptor;
    ssl::context ctx;
    std::string cert_pem;
};

/// Has `srv` answer the next connection with `fn`, then connects `s` to it,
/// completes the handshake and sends `request`.
asio::awaitable<void> send_to(tls_stream& s, tls_server& srv, tls_server::handler fn, std::string_view request) {
    srv.serve(std::move(fn));
    co_await connect(s, srv.port());
    co_await s.async_handshake(asio::use_awaitable);
    co_await asio::async_write(s, asio::buffer(request), asio::use_awaitable);
}

/// Reads one request header (no body) from `s`.
template <class Stream>
asio::awaitable<std::string> read_header(Stream& s) {
    std::string in;
    co_await asio::async_read_until(s, asio::dynamic_buffer(in), "\r\n\r\n", asio::use_awaitable);
    co_return in;
}

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return s;
}

/// Lets the io_context run other handlers once.
asio::awaitable<void> yield_once() {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

} // namespace

TEST_CASE("tls stream: verified handshakes and 50 keep-alive requests to the emulator") {
    asio::io_context ioc;
    polar::testing::emulator_options so;
    so.tls = true;
    polar::testing::emulator srv(ioc.get_executor(), so);
    srv.start();
    auto ctx = client_context(srv.certificate_pem());
    const std::string host = "127.0.0.1:" + std::to_string(srv.port());

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        // First verified by IP address (no SNI), then by name with SNI.
        for (int by_name = 0; by_name < 2; ++by_name) {
            CAPTURE(by_name);
            tls_stream s(ex, ctx);
            co_await connect(s, srv.port());
            if (by_name)
                verify_name(s, "localhost");
            else
                verify_ip(s);
            co_await s.async_handshake(asio::use_awaitable);
            CHECK(::SSL_get_verify_result(s.native_handle()) == X509_V_OK);
            CHECK(::SSL_is_init_finished(s.native_handle()) == 1);
            CHECK(::SSL_get_fd(s.native_handle()) == static_cast<int>(s.next_layer().native_handle()));

            const std::string req = get_request(host, "/v1/meters/");
            boost::beast::flat_buffer buf;
            for (int i = 0; i < 50; ++i) {
                const std::size_t sent = co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);
                CHECK(sent == req.size());
                http::response_parser<http::string_body> p;
                auto [ec, n] = co_await http::async_read(s, buf, p, asio::as_tuple(asio::use_awaitable));
                REQUIRE_MESSAGE(!ec, ec.message());
                CHECK(n > 0);
                CHECK(p.get().result_int() == 200);
                CHECK(p.get()[http::field::content_type].starts_with("application/json"));
                CHECK(p.get().keep_alive());
                const auto body = boost::json::parse(p.get().body());
                REQUIRE(body.is_object());
                CHECK(body.as_object().contains("items"));
                CHECK(body.as_object().contains("pagination"));
            }
            CHECK(buf.size() == 0);
        }
    }());
    CHECK(srv.counters().connections_accepted() == 2);
    CHECK(srv.counters().requests("GET /v1/meters/") == 100);
}

TEST_CASE("tls stream: an untrusted certificate or a wrong name fails the handshake") {
    asio::io_context ioc;
    polar::testing::emulator_options so;
    so.tls = true;
    polar::testing::emulator srv(ioc.get_executor(), so);
    srv.start();
    const auto other = polar::testing::make_self_signed_certificate();
    auto untrusted = client_context(other.cert_pem);
    auto trusted = client_context(srv.certificate_pem());

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        {
            tls_stream s(ex, untrusted);
            co_await connect(s, srv.port());
            verify_ip(s);
            auto [ec] = co_await s.async_handshake(asio::as_tuple(asio::use_awaitable));
            CHECK(ec);
            CHECK(ec.category() == asio::error::get_ssl_category());
            CHECK(ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED);
            CHECK(::SSL_get_verify_result(s.native_handle()) != X509_V_OK);
            CHECK(::ERR_peek_error() == 0);
        }
        {
            tls_stream s(ex, trusted);
            co_await connect(s, srv.port());
            verify_name(s, "polar.example.com");
            auto [ec] = co_await s.async_handshake(asio::as_tuple(asio::use_awaitable));
            CHECK(ec.category() == asio::error::get_ssl_category());
            CHECK(::SSL_get_verify_result(s.native_handle()) == X509_V_ERR_HOSTNAME_MISMATCH);
        }
        {
            // Sanity: the same context and name checks succeed for the right name.
            tls_stream s(ex, trusted);
            co_await connect(s, srv.port());
            verify_name(s, "localhost");
            auto [ec] = co_await s.async_handshake(asio::as_tuple(asio::use_awaitable));
            CHECK_MESSAGE(!ec, ec.message());
        }
        {
            // No connected socket: a plain error, not a crash.
            tls_stream s(ex, trusted);
            auto [ec] = co_await s.async_handshake(asio::as_tuple(asio::use_awaitable));
            CHECK(ec == asio::error::bad_descriptor);
        }
    }());
}

TEST_CASE("tls stream: a connection closed without close_notify is a truncated stream") {
    asio::io_context ioc;
    tls_server srv(ioc);
    auto ctx = client_context(srv.cert_pem);
    const std::string req = get_request("127.0.0.1", "/");

    // 1. Mid-body: the header promises 100000 bytes, 5000 arrive, then FIN.
    const auto mid_body = [](tls_server::stream& s) -> asio::awaitable<void> {
        co_await read_header(s);
        std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n";
        out += pattern(5000);
        co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
        s.next_layer().close();
    };
    // 2. Before any response byte.
    const auto before_response = [](tls_server::stream& s) -> asio::awaitable<void> {
        co_await read_header(s);
        s.next_layer().close();
    };
    // 3. With close_notify: a clean end of stream (eof) after the data.
    const auto close_notify = [](tls_server::stream& s) -> asio::awaitable<void> {
        co_await read_header(s);
        co_await asio::async_write(s, asio::buffer(std::string_view("hello")), asio::use_awaitable);
        co_await s.async_shutdown(asio::as_tuple(asio::use_awaitable));
    };

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        {
            tls_stream s(ex, ctx);
            co_await send_to(s, srv, mid_body, req);
            boost::beast::flat_buffer buf;
            http::response_parser<http::string_body> p;
            auto [ec, n] = co_await http::async_read(s, buf, p, asio::as_tuple(asio::use_awaitable));
            CHECK(ec == ssl::error::stream_truncated);
            CHECK(p.is_header_done());
            CHECK(p.get().body().size() + buf.size() <= 5000);
            // The error is sticky: later reads fail too, they do not hang.
            char c;
            auto [ec2, n2] = co_await s.async_read_some(asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
            CHECK(ec2);
            CHECK(n2 == 0);
        }
        {
            tls_stream s(ex, ctx);
            co_await send_to(s, srv, before_response, req);
            boost::beast::flat_buffer buf;
            http::response_parser<http::string_body> p;
            auto [ec, n] = co_await http::async_read(s, buf, p, asio::as_tuple(asio::use_awaitable));
            CHECK(ec == ssl::error::stream_truncated);
        }
        {
            tls_stream s(ex, ctx);
            co_await send_to(s, srv, close_notify, req);
            std::string got;
            error_code ec;
            while (!ec) {
                char tmp[64];
                auto [e, n] = co_await s.async_read_some(asio::buffer(tmp), asio::as_tuple(asio::use_awaitable));
                got.append(tmp, n);
                ec = e;
            }
            CHECK(got == "hello");
            CHECK(ec == asio::error::eof);
            s.next_layer().close();  // lets the server's shutdown finish
        }
    }());
}

TEST_CASE("tls stream: per-operation cancellation of a pending read or write") {
    asio::io_context ioc;
    tls_server srv(ioc);
    auto ctx = client_context(srv.cert_pem);
    const std::string req = get_request("127.0.0.1", "/");
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    // The server answers each request only when `release` is cancelled.
    asio::steady_timer release(ioc, asio::steady_timer::time_point::max());
    const auto answer_when_released = [&](tls_server::stream& s) -> asio::awaitable<void> {
        for (;;) {
            co_await read_header(s);
            co_await release.async_wait(asio::as_tuple(asio::use_awaitable));
            co_await asio::async_write(s, asio::buffer(response), asio::use_awaitable);
        }
    };
    const asio::cancellation_type types[] = {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                             asio::cancellation_type::total};
    // Never reads: the client's writes fill the socket buffers and wait.
    const auto never_read = [](tls_server::stream& s) -> asio::awaitable<void> {
        asio::steady_timer forever(s.get_executor(), asio::steady_timer::time_point::max());
        co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
    };

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        for (const auto type : types) {
            CAPTURE(static_cast<int>(type));
            srv.serve(answer_when_released);
            tls_stream s(ex, ctx);
            co_await connect(s, srv.port());
            co_await s.async_handshake(asio::use_awaitable);
            co_await asio::async_write(s, asio::buffer(req), asio::use_awaitable);

            asio::cancellation_signal sig;
            asio::steady_timer t(ex, 50ms);
            t.async_wait([&](error_code) { sig.emit(type); });
            const auto start = std::chrono::steady_clock::now();
            char tmp[256];
            auto [ec, n] = co_await s.async_read_some(
                asio::buffer(tmp), asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
            CHECK(ec == asio::error::operation_aborted);
            CHECK(n == 0);
            CHECK(std::chrono::steady_clock::now() - start < 5s);

            if (type != asio::cancellation_type::terminal) {
                // Partial and total cancellation leave the stream usable.
                release.cancel();
                boost::beast::flat_buffer buf;
                http::response_parser<http::string_body> p;
                co_await http::async_read(s, buf, p, asio::use_awaitable);
                CHECK(p.get().result_int() == 200);
                CHECK(p.get().body() == "ok");
            }
        }
        {
            srv.serve(never_read);
            tls_stream s(ex, ctx);
            co_await connect(s, srv.port());
            s.next_layer().set_option(tcp::socket::send_buffer_size(16 * 1024));
            co_await s.async_handshake(asio::use_awaitable);
            const std::string big = pattern(8 << 20);
            asio::cancellation_signal sig;
            asio::steady_timer t(ex, 100ms);
            t.async_wait([&](error_code) { sig.emit(asio::cancellation_type::terminal); });
            auto [ec, n] = co_await asio::async_write(
                s, asio::buffer(big), asio::bind_cancellation_slot(sig.slot(), asio::as_tuple(asio::use_awaitable)));
            CHECK(ec == asio::error::operation_aborted);
            CHECK(n < big.size());
        }
    }());
}

TEST_CASE("tls stream: 1 MiB each way through small socket buffers") {
    asio::io_context ioc;
    tls_server srv(ioc);
    srv.acceptor.set_option(tcp::socket::receive_buffer_size(64 * 1024));
    auto ctx = client_context(srv.cert_pem);
    const std::string body = pattern(1 << 20);

    // Reads a request with a 1 MiB body slowly, checks it and answers with
    // a 1 MiB body, twice on the same connection.
    srv.serve([&](tls_server::stream& s) -> asio::awaitable<void> {
        s.next_layer().set_option(tcp::socket::send_buffer_size(64 * 1024));
        s.next_layer().set_option(tcp::no_delay(true));
        boost::beast::flat_buffer buf;
        for (int i = 0; i < 2; ++i) {
            asio::steady_timer t(s.get_executor(), 50ms);
            co_await t.async_wait(asio::use_awaitable);
            http::request_parser<http::string_body> p;
            p.body_limit(2 << 20);
            co_await http::async_read(s, buf, p, asio::use_awaitable);
            const bool same = p.get().body() == body;
            std::string out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nX-Same: " + (same ? "1" : "0") + "\r\n\r\n";
            out += body;
            co_await asio::async_write(s, asio::buffer(out), asio::use_awaitable);
        }
    });

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        tls_stream s(ex, ctx);
        co_await connect(s, srv.port());
        s.next_layer().set_option(tcp::socket::send_buffer_size(64 * 1024));
        s.next_layer().set_option(tcp::socket::receive_buffer_size(64 * 1024));
        s.next_layer().set_option(tcp::no_delay(true));
        verify_ip(s);
        co_await s.async_handshake(asio::use_awaitable);
        std::string req = "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n";
        req += body;
        boost::beast::flat_buffer buf;
        for (int i = 0; i < 2; ++i) {
            // Write the first half in one piece and the rest in small
            // partial writes, to cover both paths.
            std::size_t off = 0;
            while (off < req.size() / 2) {
                off += co_await s.async_write_some(asio::buffer(req.data() + off, req.size() / 2 - off),
                                                   asio::use_awaitable);
            }
            co_await asio::async_write(s, asio::buffer(req.data() + off, req.size() - off), asio::use_awaitable);
            http::response_parser<http::string_body> p;
            p.body_limit(2 << 20);
            auto [ec, n] = co_await http::async_read(s, buf, p, asio::as_tuple(asio::use_awaitable));
            REQUIRE_MESSAGE(!ec, ec.message());
            CHECK(p.get().result_int() == 200);
            CHECK(p.get()["X-Same"] == "1");
            CHECK(p.get().body().size() == body.size());
            CHECK(p.get().body() == body);
        }
    }());
}

TEST_CASE("tls stream: a peer that has gone gives errors, not SIGPIPE") {
    asio::io_context ioc;
    tls_server srv(ioc);
    auto ctx = client_context(srv.cert_pem);
    srv.serve([](tls_server::stream& s) -> asio::awaitable<void> {
        s.next_layer().close();
        co_return;
    });

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        tls_stream s(ex, ctx);
        co_await connect(s, srv.port());
        co_await s.async_handshake(asio::use_awaitable);
        asio::steady_timer t(ex, 50ms);
        co_await t.async_wait(asio::use_awaitable);
        // The first write may still be accepted by the kernel; the peer then
        // answers with a reset and the following ones fail (EPIPE: SIGPIPE
        // without MSG_NOSIGNAL).
        // Writing on after the first error exercises EPIPE as well.
        const std::string chunk(16 * 1024, 'x');
        error_code first;
        int failures = 0;
        for (int i = 0; i < 20; ++i) {
            auto [ec, n] = co_await s.async_write_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
            if (ec && !first) first = ec;
            if (ec) ++failures;
            t.expires_after(5ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        CHECK((first == asio::error::broken_pipe || first == asio::error::connection_reset));
        CHECK(first.category() == asio::error::get_system_category());
        CHECK(failures > 0);
    }());
}

TEST_CASE("tls stream: no operation completes inside its initiating function") {
    asio::io_context ioc;
    tls_server srv(ioc);
    auto ctx = client_context(srv.cert_pem);
    const std::string text = "one record that the client reads a byte at a time";
    srv.serve([&](tls_server::stream& s) -> asio::awaitable<void> {
        co_await read_header(s);
        co_await asio::async_write(s, asio::buffer(text), asio::use_awaitable);
        asio::steady_timer forever(s.get_executor(), asio::steady_timer::time_point::max());
        co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
    });

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        tls_stream s(ex, ctx);
        co_await connect(s, srv.port());
        co_await s.async_handshake(asio::use_awaitable);
        co_await asio::async_write(s, asio::buffer(std::string_view("GET / HTTP/1.1\r\n\r\n")), asio::use_awaitable);

        bool initiating = false, inline_completion = false, done = false;
        error_code ec;
        std::size_t n = 0;
        const auto handler = [&](error_code e, std::size_t m) {
            inline_completion = inline_completion || initiating;
            ec = e;
            n = m;
            done = true;
        };
        const auto await_handler = [&]() -> asio::awaitable<void> {
            while (!done) co_await yield_once();
            done = false;
        };

        // Empty buffers complete with 0 bytes, posted.
        initiating = true;
        s.async_read_some(asio::mutable_buffer(), handler);
        initiating = false;
        co_await await_handler();
        CHECK(!ec);
        CHECK(n == 0);
        initiating = true;
        s.async_write_some(asio::const_buffer(), handler);
        initiating = false;
        co_await await_handler();
        CHECK(!ec);
        CHECK(n == 0);

        // After the first byte the record is in OpenSSL's buffer: every
        // further read finishes on its first try.
        std::string got;
        while (got.size() < text.size()) {
            char c = 0;
            initiating = true;
            s.async_read_some(asio::buffer(&c, 1), handler);
            initiating = false;
            co_await await_handler();
            REQUIRE_MESSAGE(!ec, ec.message());
            REQUIRE(n == 1);
            got += c;
        }
        CHECK(got == text);
        CHECK(!inline_completion);

        // A buffer sequence: the first non-empty buffer is used.
        asio::steady_timer t(ex, 10ms);
        co_await t.async_wait(asio::use_awaitable);
        char a[4];
        const std::array<asio::mutable_buffer, 2> seq{asio::mutable_buffer(), asio::buffer(a)};
        initiating = true;
        s.async_read_some(seq, handler);
        initiating = false;
        t.expires_after(50ms);
        co_await t.async_wait(asio::use_awaitable);
        CHECK(!done);  // nothing more to read: the read waits
        s.next_layer().cancel();
        co_await await_handler();
        CHECK(ec == asio::error::operation_aborted);
        CHECK(!inline_completion);
    }());
}

TEST_CASE("tls stream: both ends, with the server side handshake") {
    asio::io_context ioc;
    const auto pair = polar::testing::make_self_signed_certificate();
    ssl::context server_ctx(ssl::context::tls_server);
    server_ctx.use_certificate_chain(asio::buffer(pair.cert_pem));
    server_ctx.use_private_key(asio::buffer(pair.key_pem), ssl::context::pem);
    auto client_ctx = client_context(pair.cert_pem);
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    const auto port = acceptor.local_endpoint().port();

    // An echo server: returns every chunk it reads until the client closes.
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            tls_stream s(ioc.get_executor(), server_ctx);
            co_await acceptor.async_accept(s.next_layer(), asio::use_awaitable);
            co_await s.async_handshake(ssl::stream_base::server, asio::use_awaitable);
            char tmp[4096];
            for (;;) {
                auto [ec, n] = co_await s.async_read_some(asio::buffer(tmp), asio::as_tuple(asio::use_awaitable));
                if (ec) break;
                co_await asio::async_write(s, asio::buffer(tmp, n), asio::use_awaitable);
            }
        },
        asio::detached);

    run(ioc, [&]() -> asio::awaitable<void> {
        const auto ex = co_await asio::this_coro::executor;
        tls_stream s(ex, client_ctx);
        co_await connect(s, port);
        verify_name(s, "localhost");
        co_await s.async_handshake(asio::use_awaitable);
        const std::string msg = pattern(100000);
        std::string echoed(msg.size(), '\0');
        for (int i = 0; i < 3; ++i) {
            co_await asio::async_write(s, asio::buffer(msg), asio::use_awaitable);
            co_await asio::async_read(s, asio::buffer(echoed), asio::use_awaitable);
            CHECK(echoed == msg);
        }
    }());
}
