// A fixed-response HTTP/HTTPS server for the throughput benchmarks.
//
// The emulator computes every answer (filters, aggregation, JSON encoding) and
// cannot keep up with the clients under test, so this server answers from
// canned responses captured from the emulator's logic at start-up:
//
//   GET /v1/meters/{id}              the meter
//   GET /v1/meters/{id}/quantities   169 hourly points (the query is ignored)
//   GET /v1/meters/{id}/events       a page of 100 events with their customers
//
// One thread, keep-alive, no pipelining. Requests without the right
// Authorization header get 401, other paths 404. `--delay-ms D` answers every
// request after D milliseconds (on a timer; other connections go on).
// `--spin` polls for work instead of sleeping, so that a delayed answer
// leaves when its timer expires rather than when the idle core wakes up
// again (on a virtual machine that can add a millisecond).
//
// usage: fixed_server [--port P] [--tls --cert-out FILE] [--delay-ms D]
//                     [--spin] [--max-seconds S] [--bodies-dir DIR]
// Prints "port P", "meter_id ID", "token T", "start TS", "end TS",
// "events_bytes N" (the events page's body) and "ready",
// then serves until SIGINT/SIGTERM or for S seconds (default 900).
#include "common.hpp"

#include <polar/testing/emulator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <iostream>
#include <memory>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct responses {
    std::string prefix;  // "/v1/meters/{id}"
    std::string auth;    // "Bearer <token>"
    std::string get, quantities, events, not_found, unauthorized;
    std::chrono::milliseconds delay{0};
};

std::string make_response(int status, const char* reason, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + reason +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nx-request-id: fixed\r\n\r\n" + body;
}

const std::string& route(const responses& r, std::string_view target, std::string_view auth) {
    if (auth != r.auth) return r.unauthorized;
    if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
    if (target.rfind(r.prefix, 0) != 0) return r.not_found;
    target.remove_prefix(r.prefix.size());
    if (target.empty()) return r.get;
    if (target == "/quantities") return r.quantities;
    if (target == "/events") return r.events;
    return r.not_found;
}

template <class Stream>
asio::awaitable<void> serve(Stream& stream, const responses& r) {
    beast::flat_buffer buffer;
    asio::steady_timer timer(stream.get_executor());
    for (;;) {
        http::request_parser<http::empty_body> parser;
        auto [rec, rn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (rec) co_return;
        const auto& req = parser.get();
        const std::string& res = route(r, req.target(), req[http::field::authorization]);
        if (r.delay.count() > 0) {
            timer.expires_after(r.delay);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(res), asio::as_tuple(asio::use_awaitable));
        if (wec || !req.keep_alive()) co_return;
    }
}

asio::awaitable<void> session(tcp::socket sock, const responses& r, ssl::context* ctx) {
    sock.set_option(tcp::no_delay(true));
    if (!ctx) {
        co_await serve(sock, r);
        co_return;
    }
    ssl::stream<tcp::socket> tls(std::move(sock), *ctx);
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (hec) co_return;
    co_await serve(tls, r);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const responses& r, ssl::context* ctx) {
    for (;;) {
        auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) continue;  // e.g. EMFILE: keep serving the others
        asio::co_spawn(acceptor.get_executor(), session(std::move(sock), r, ctx), asio::detached);
    }
}

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    const auto bodies = bench::capture_bodies();

    responses r;
    r.prefix = "/v1/meters/" + bodies.meter_id;
    r.auth = "Bearer " + bodies.token;
    r.get = make_response(200, "OK", bodies.get);
    r.quantities = make_response(200, "OK", bodies.quantities);
    r.events = make_response(200, "OK", bodies.events);
    r.not_found = make_response(404, "Not Found", R"({"error":"ResourceNotFound","detail":"Not found"})");
    r.unauthorized = make_response(401, "Unauthorized", R"({"error":"Unauthorized","detail":"Unauthorized"})");
    r.delay = std::chrono::milliseconds(args.num("delay-ms", 0));

    if (auto dir = args.str("bodies-dir"); !dir.empty()) {
        for (auto [name, body] : {std::pair{"get.json", &bodies.get}, std::pair{"quantities.json", &bodies.quantities},
                                  std::pair{"events.json", &bodies.events}}) {
            std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
            out << *body;
        }
    }

    asio::io_context ioc(1);
    std::unique_ptr<ssl::context> ctx;
    if (args.flag("tls")) {
        auto pair = polar::testing::make_self_signed_certificate();
        ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
        ctx->use_certificate_chain(asio::buffer(pair.cert_pem));
        ctx->use_private_key(asio::buffer(pair.key_pem), ssl::context::pem);
        const auto out_path = args.required("cert-out");
        std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
        out << pair.cert_pem;
        if (!out) throw std::runtime_error("cannot write " + out_path);
    }

    tcp::acceptor acceptor(ioc);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(args.num("port", 0)));
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(4096);

    asio::co_spawn(ioc, accept_loop(acceptor, r, ctx.get()), asio::detached);
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { ioc.stop(); });
    asio::steady_timer lifetime(ioc, std::chrono::seconds(args.num("max-seconds", 900)));
    lifetime.async_wait([&](boost::system::error_code ec) {
        if (!ec) ioc.stop();
    });

    std::cout << "port " << acceptor.local_endpoint().port() << "\nmeter_id " << bodies.meter_id << "\ntoken "
              << bodies.token << "\nstart " << bodies.start << "\nend " << bodies.end << "\nevents_bytes "
              << bodies.events.size() << "\nready" << std::endl;
    if (args.flag("spin")) {
        while (!ioc.stopped()) ioc.poll();
    } else {
        ioc.run();
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "fixed_server: " << e.what() << "\n";
    return 1;
}
