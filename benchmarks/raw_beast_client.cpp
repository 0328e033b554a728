// The baseline client: the least a Beast program must do to fetch the same
// resource. N coroutines, each with its own keep-alive connection (TLS
// optional), send a fixed request and parse each response body to a JSON DOM
// (no conversion to types, no pool, no retries, no timeouts). One thread.
//
// usage: raw_beast_client --port P --target T --token TOK [--tls --ca FILE]
//                         [--concurrency N] [--duration S] [--warmup S]
// Prints "rps R requests N seconds S".
#include "common.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include <iostream>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

struct run_state {
    bool stop = false;
    std::uint64_t done = 0;
    std::uint64_t errors = 0;
    std::string first_error;
    int active = 0;
};

void fail(run_state& st, const std::string& what) {
    if (st.first_error.empty()) st.first_error = what;
    ++st.errors;
    st.stop = true;
}

template <class Stream>
asio::awaitable<void> loop(Stream& stream, const http::request<http::empty_body>& req, run_state& st) {
    beast::flat_buffer buffer;
    while (!st.stop) {
        auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
        if (wec) co_return fail(st, "write: " + wec.message());
        http::response<http::string_body> res;
        auto [rec, rn] = co_await http::async_read(stream, buffer, res, asio::as_tuple(asio::use_awaitable));
        if (rec) co_return fail(st, "read: " + rec.message());
        if (res.result_int() != 200) co_return fail(st, "status " + std::to_string(res.result_int()));
        boost::json::error_code jec;
        boost::json::value dom = boost::json::parse(res.body(), jec);
        if (jec || !(dom.is_object())) co_return fail(st, "invalid JSON");
        ++st.done;
    }
}

asio::awaitable<void> worker(tcp::endpoint ep, ssl::context* ctx, const http::request<http::empty_body>& req,
                             run_state& st) {
    auto ex = co_await asio::this_coro::executor;
    tcp::socket sock(ex);
    auto [cec] = co_await sock.async_connect(ep, asio::as_tuple(asio::use_awaitable));
    if (cec) {
        fail(st, "connect: " + cec.message());
    } else {
        sock.set_option(tcp::no_delay(true));
        if (!ctx) {
            co_await loop(sock, req, st);
        } else {
            ssl::stream<tcp::socket> tls(std::move(sock), *ctx);
            tls.set_verify_mode(ssl::verify_peer);
            auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
            if (hec)
                fail(st, "handshake: " + hec.message());
            else
                co_await loop(tls, req, st);
        }
    }
    --st.active;
}

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    const int concurrency = static_cast<int>(args.num("concurrency", 1));
    const auto duration = std::chrono::duration<double>(args.real("duration", 1.0));
    const auto warmup = std::chrono::duration<double>(args.real("warmup", 0.3));

    asio::io_context ioc(1);
    std::unique_ptr<ssl::context> ctx;
    if (args.flag("tls")) {
        ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
        ctx->load_verify_file(args.required("ca"));
    }
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(args.num("port", 0)));

    http::request<http::empty_body> req{http::verb::get, args.required("target"), 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(ep.port()));
    req.set(http::field::authorization, "Bearer " + args.required("token"));
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);

    run_state st;
    st.active = concurrency;
    for (int i = 0; i < concurrency; ++i) asio::co_spawn(ioc, worker(ep, ctx.get(), req, st), asio::detached);

    const auto w = bench::run_window(ioc, st.done, st.stop, warmup, duration);
    if (st.errors) {
        std::cerr << "raw_beast_client: " << st.errors << " error(s), first: " << st.first_error << "\n";
        return 1;
    }
    bench::print_window(w);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "raw_beast_client: " << e.what() << "\n";
    return 1;
}
