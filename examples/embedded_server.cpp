// 5. Embedded server: a small HTTP/1.1 server (Beast, coroutines, keep-alive)
// inside the same program as the SDK client, sharing its io_context and its
// two threads. `GET /usage/{customer id}` asks Polar for the customer's
// quantities of every meter over the last 30 UTC days, all meters at once
// with meters().quantities_many() (at most 4 in flight), and answers
//
//   {"customer": "...", "meters": [{"id": "...", "name": "...", "total": 123}, ...]}
//
// where `total` is the period's value as the meter aggregates (sum and count
// add the days up, max and min keep the extreme day, avg is the mean of the
// days with events). Other paths get 404, other methods 405, a customer id
// that is not a UUID 400, and a failure of the SDK 502 with the SDK's message
// (which never holds the access token).
//
//   example_embedded_server               start on a free port, send a few requests
//                                         to itself (one keep-alive connection, three
//                                         concurrent ones, a 404, a 400, a 502), print
//                                         the answers and exit
//   example_embedded_server --serve PORT  serve on 127.0.0.1:PORT until SIGINT/SIGTERM,
//                                         e.g. curl http://127.0.0.1:PORT/usage/<id>
//
// Runs against the bundled emulator unless POLAR_ACCESS_TOKEN is set (see
// example_support.hpp); the 502 is provoked with the emulator's fault
// injection, so it is shown only offline.
#include "example_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// -- routing and response bodies (pure functions) ----------------------------------

/// True for a UUID in its canonical text form (8-4-4-4-12 hex digits).
bool is_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        const char c = s[i];
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex) return false;
    }
    return true;
}

/// Where a request goes.
struct route {
    enum kind_type { usage, not_found, method_not_allowed, bad_customer } kind = not_found;
    std::string customer; ///< for `usage`
};

route match(http::verb method, std::string_view target) {
    const std::string_view path = target.substr(0, target.find('?'));
    constexpr std::string_view prefix = "/usage/";
    if (!path.starts_with(prefix)) return {route::not_found, {}};
    const std::string_view customer = path.substr(prefix.size());
    if (customer.find('/') != std::string_view::npos) return {route::not_found, {}};
    if (method != http::verb::get) return {route::method_not_allowed, {}};
    if (!is_uuid(customer)) return {route::bad_customer, {}};
    return {route::usage, std::string(customer)};
}

/// `text` with every occurrence of `secret` replaced.
std::string redact(std::string text, std::string_view secret) {
    if (secret.empty()) return text;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
        text.replace(at, secret.size(), "[redacted]");
    return text;
}

std::string error_body(std::string_view error, std::string_view message) {
    json::object o;
    o["error"] = error;
    o["message"] = message;
    return json::serialize(o);
}

/// A JSON number: an integer when the value is one (Boost.JSON writes doubles
/// in exponent form).
json::value number(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return static_cast<std::int64_t>(v);
    return v;
}

/// A meter's value over the whole period, from its daily quantities.
double period_total(polar::aggregation_function func, const std::vector<polar::meter_quantity>& days) {
    using fn = polar::aggregation_function;
    double acc = 0;
    std::size_t with_events = 0;
    for (const auto& d : days) {
        if (func == fn::max) {
            acc = with_events++ ? std::max(acc, d.quantity) : d.quantity;
        } else if (func == fn::min) {
            if (d.quantity != 0) acc = with_events++ ? std::min(acc, d.quantity) : d.quantity;
        } else if (func == fn::avg) {
            if (d.quantity != 0) {
                acc += d.quantity;
                ++with_events;
            }
        } else {
            acc += d.quantity;
        }
    }
    return func == fn::avg && with_events ? acc / static_cast<double>(with_events) : acc;
}

response make_response(const request& req, http::status status, std::string body) {
    response res(status, req.version());
    res.set(http::field::server, "polar-cpp embedded_server example");
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    return res;
}

// -- the handler ------------------------------------------------------------------

/// Answers requests with data from Polar. Safe to use from any thread.
class usage_handler {
public:
    usage_handler(polar::client client, std::string token) : client_(std::move(client)), token_(std::move(token)) {}

    asio::awaitable<response> handle(const request& req) const {
        const route r = match(req.method(), req.target());
        switch (r.kind) {
        case route::not_found:
            co_return make_response(req, http::status::not_found,
                                    error_body("not_found", "no such resource; try GET /usage/{customer id}"));
        case route::method_not_allowed: {
            response res = make_response(req, http::status::method_not_allowed,
                                         error_body("method_not_allowed", "only GET is supported"));
            res.set(http::field::allow, "GET");
            co_return res;
        }
        case route::bad_customer:
            co_return make_response(req, http::status::bad_request,
                                    error_body("bad_request", "the customer must be a Polar customer id (a UUID)"));
        case route::usage: break;
        }

        try {
            std::string body = co_await usage(r.customer);
            co_return make_response(req, http::status::ok, std::move(body));
        } catch (const polar::api_error& e) {
            // The SDK's message names the request, the status and Polar's
            // explanation; diagnostics never hold the token, and redacting
            // it here keeps that true for anything added to the message.
            co_return make_response(req, http::status::bad_gateway,
                                    error_body("upstream_error", redact(e.what(), token_)));
        } catch (const std::exception& e) {
            co_return make_response(req, http::status::internal_server_error,
                                    error_body("internal_error", redact(e.what(), token_)));
        }
    }

private:
    /// The JSON body for one customer: every meter, and its total over 30 days.
    asio::awaitable<std::string> usage(std::string customer) const {
        // 1. Every meter, page by page.
        std::vector<polar::meter> meters;
        auto all = client_.meters().list_items({.limit = 100});
        while (auto m = co_await all.next()) meters.push_back(std::move(*m));

        // 2. One quantities query per meter, the customer's last 30 days, day
        //    by day; at most 4 in flight, the first failure cancels the rest.
        const auto today = floor<days>(floor<microseconds>(system_clock::now()));
        const std::string_view customer_view = customer;
        std::vector<polar::quantities_request> queries;
        for (const auto& m : meters) {
            const polar::quantities_request q{
                .meter_id = m.id,
                .params = {.start_timestamp = today - days(29),
                           .end_timestamp = today,
                           .interval = polar::time_interval::day,
                           .customer_id = std::span<const std::string_view>(&customer_view, 1)}};
            queries.push_back(q);
        }
        const std::vector<polar::quantities_result> results =
            co_await client_.meters().quantities_many(queries, {.max_concurrency = 4, .fail_fast = true});

        // 3. The answer.
        json::array rows;
        for (std::size_t i = 0; i < meters.size(); ++i) {
            json::object row;
            row["id"] = meters[i].id;
            row["name"] = meters[i].name;
            row["total"] = number(period_total(meters[i].aggregation.func(), results[i].value.quantities));
            rows.push_back(std::move(row));
        }
        json::object out;
        out["customer"] = customer;
        out["meters"] = std::move(rows);
        co_return json::serialize(out);
    }

    polar::client client_;
    std::string token_;
};

// -- the server -------------------------------------------------------------------

/// One accepted connection: reads requests and answers them in order.
class connection : public std::enable_shared_from_this<connection> {
public:
    explicit connection(tcp::socket socket) : stream_(std::move(socket)) {}

    asio::awaitable<void> run(const usage_handler& handler) {
        beast::flat_buffer buffer;
        for (;;) {
            idle_ = true;
            if (closing_) break;
            request req;
            stream_.expires_after(seconds(30)); // an idle keep-alive connection is closed after this
            auto [rec, rn] = co_await http::async_read(stream_, buffer, req, asio::as_tuple(asio::use_awaitable));
            idle_ = false;
            if (rec) break; // closed by the peer, timed out, or a malformed request
            stream_.expires_never(); // the SDK's own timeouts bound the handler
            response res = co_await handler.handle(req);
            if (closing_) res.keep_alive(false);
            stream_.expires_after(seconds(30));
            auto [wec, wn] = co_await http::async_write(stream_, res, asio::as_tuple(asio::use_awaitable));
            if (wec || !res.keep_alive()) break;
        }
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    /// Closes the connection now if it waits for a request, else after the
    /// response being prepared. Any thread.
    void close_when_idle() {
        asio::post(stream_.get_executor(), [self = shared_from_this()] {
            self->closing_ = true;
            if (self->idle_) self->stream_.close();
        });
    }

private:
    beast::tcp_stream stream_; // on its own strand: every member below is used there only
    bool idle_ = true;
    bool closing_ = false;
};

/**
 * Accepts connections on 127.0.0.1 and runs each on its own strand of the
 * shared io_context. Its own bookkeeping (the acceptor, the open
 * connections) lives on `strand()`: call start() and stop() from there.
 */
class server {
public:
    server(asio::io_context& ioc, std::uint16_t port, usage_handler handler)
        : ioc_(ioc), strand_(asio::make_strand(ioc)), acceptor_(strand_), drained_(strand_),
          handler_(std::move(handler)) {
        const tcp::endpoint ep(asio::ip::address_v4::loopback(), port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen();
    }

    asio::any_io_executor strand() const { return strand_; }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::uint64_t connections_accepted() const { return accepted_; }

    void start() { asio::co_spawn(strand_, accept_loop(), asio::detached); }

    /// Stops accepting, closes idle connections and waits (up to 10 s) for
    /// the responses being prepared.
    asio::awaitable<void> stop() {
        stopping_ = true;
        beast::error_code ignored;
        acceptor_.close(ignored);
        for (auto& [id, c] : connections_)
            if (auto alive = c.lock()) alive->close_when_idle();
        if (!connections_.empty()) {
            drained_.expires_after(seconds(10));
            co_await drained_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

private:
    asio::awaitable<void> accept_loop() {
        while (!stopping_) {
            const asio::any_io_executor connection_strand = asio::make_strand(ioc_);
            auto [ec, socket] = co_await acceptor_.async_accept(connection_strand, asio::as_tuple(asio::use_awaitable));
            if (ec) {
                if (stopping_ || ec == asio::error::operation_aborted) break;
                continue; // e.g. out of descriptors: keep serving the open connections
            }
            ++accepted_;
            auto c = std::make_shared<connection>(std::move(socket));
            const std::uint64_t id = next_id_++;
            connections_.emplace(id, c);
            asio::co_spawn(connection_strand, c->run(handler_), [this, id, c](std::exception_ptr) {
                asio::post(strand_, [this, id] { forget(id); });
            });
        }
    }

    void forget(std::uint64_t id) {
        connections_.erase(id);
        if (stopping_ && connections_.empty()) drained_.cancel();
    }

    asio::io_context& ioc_;
    asio::any_io_executor strand_;
    tcp::acceptor acceptor_;
    asio::steady_timer drained_;
    usage_handler handler_;
    std::map<std::uint64_t, std::weak_ptr<connection>> connections_;
    std::uint64_t next_id_ = 0;
    std::uint64_t accepted_ = 0;
    bool stopping_ = false;
};

// -- a tiny client for the offline demonstration ----------------------------------

struct reply {
    std::string target;
    int status = 0;
    std::string body;
};

/// Sends `targets` in order over one keep-alive connection to 127.0.0.1:`port`.
asio::awaitable<std::vector<reply>> fetch(std::uint16_t port, std::vector<std::string> targets,
                                          http::verb method = http::verb::get) {
    const auto ex = co_await asio::this_coro::executor;
    beast::tcp_stream stream(ex);
    stream.expires_after(seconds(30));
    const tcp::endpoint ep(asio::ip::address_v4::loopback(), port);
    co_await stream.async_connect(ep, asio::use_awaitable);
    beast::flat_buffer buffer;
    std::vector<reply> replies;
    for (const std::string& target : targets) {
        http::request<http::empty_body> req(method, target, 11);
        req.set(http::field::host, "127.0.0.1");
        co_await http::async_write(stream, req, asio::use_awaitable);
        response res;
        co_await http::async_read(stream, buffer, res, asio::use_awaitable);
        reply r;
        r.target = target;
        r.status = res.result_int();
        r.body = std::move(res.body());
        replies.push_back(std::move(r));
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return replies;
}

/// The Polar customer ids of up to `n` customers seen in the meters' events.
asio::awaitable<std::vector<std::string>> find_customers(polar::client client, std::size_t n) {
    std::vector<std::string> ids;
    auto meters = client.meters().list_items({.limit = 100});
    while (ids.size() < n) {
        auto m = co_await meters.next();
        if (!m) break;
        polar::page<polar::event> events = co_await client.meters().events(m->id, {.limit = 100});
        for (const auto& e : events.items) {
            const std::optional<std::string> id = e.customer ? std::optional(e.customer->id) : e.customer_id;
            if (id && ids.size() < n && std::find(ids.begin(), ids.end(), *id) == ids.end()) ids.push_back(*id);
        }
    }
    co_return ids;
}

// -- the program ------------------------------------------------------------------

struct program {
    polar::client client;
    example::target& target;
    server& srv;
    int& status;

    void show(const reply& r, int expected) const {
        std::cout << "  " << r.target << " -> " << r.status << "\n    " << r.body << "\n";
        if (r.status != expected) {
            std::cout << "    (expected " << expected << ")\n";
            status = 1;
        }
    }

    /// Offline: requests to itself, then stop.
    asio::awaitable<void> demonstrate() {
        std::vector<std::string> customers;
        if (target.demo)
            customers.assign(target.demo->customer_ids.begin(),
                             target.demo->customer_ids.begin() +
                                 static_cast<std::ptrdiff_t>(std::min<std::size_t>(4, target.demo->customer_ids.size())));
        else
            customers = co_await find_customers(client, 4);
        if (customers.empty()) customers.push_back("00000000-0000-4000-8000-000000000000"); // no events yet: zeros
        while (customers.size() < 4) customers.push_back(customers.front());
        const std::uint16_t port = srv.port();
        std::cout << "Serving on http://127.0.0.1:" << port << "\n";

        // 1. Three requests over one keep-alive connection: usage, 404, 400.
        std::vector<std::string> targets = {"/usage/" + customers[0], "/nothing/here", "/usage/not-a-customer-id"};
        std::cout << "\nOne keep-alive connection, three requests:\n";
        const std::vector<reply> sequential = co_await fetch(port, targets);
        show(sequential.at(0), 200);
        show(sequential.at(1), 404);
        show(sequential.at(2), 400);
        std::vector<std::string> usage_target = {"/usage/" + customers[0]};
        const std::vector<reply> posted = co_await fetch(port, usage_target, http::verb::post);
        show(posted.at(0), 405);

        // 2. Three customers at once, each over its own connection: the
        //    handlers run concurrently on the io_context's two threads.
        std::cout << "\nThree concurrent connections:\n";
        using fetch_op = decltype(asio::co_spawn(std::declval<asio::any_io_executor>(), fetch(0, {}), asio::deferred));
        std::vector<fetch_op> ops;
        for (std::size_t i = 1; i < 4; ++i) {
            std::vector<std::string> one = {"/usage/" + customers[i]};
            const asio::any_io_executor own_strand = asio::make_strand(client.get_executor());
            ops.push_back(asio::co_spawn(own_strand, fetch(port, std::move(one)), asio::deferred));
        }
        const auto t0 = steady_clock::now();
        auto group = asio::experimental::make_parallel_group(std::move(ops));
        auto [order, errors, concurrent] =
            co_await std::move(group).async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
        const auto ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
        for (std::size_t i = 0; i < concurrent.size(); ++i) {
            if (errors[i]) std::rethrow_exception(errors[i]);
            show(concurrent[i].at(0), 200);
        }
        std::cout << "  (" << ms << " ms for the three)\n";

        // 3. Polar failing: the emulator answers every quantities request with
        //    503; after the SDK's retries the handler answers 502.
        if (target.emulator) {
            target.emulator->faults().add(polar::testing::fault::status(503).always().on("GET /v1/meters/{id}/quantities"));
            std::cout << "\nPolar answering 503 (after the SDK's retries):\n";
            const std::vector<reply> failing = co_await fetch(port, usage_target);
            target.emulator->faults().clear();
            show(failing.at(0), 502);
            if (failing.at(0).body.find(target.options.access_token) != std::string::npos) {
                std::cout << "    (the access token leaked into the response)\n";
                status = 1;
            }
        }

        std::cout << "\n" << srv.connections_accepted() << " connections accepted\n";
    }

    /// --serve: until SIGINT or SIGTERM.
    asio::awaitable<void> serve() {
        const auto ex = co_await asio::this_coro::executor;
        asio::signal_set signals(ex, SIGINT, SIGTERM);
        std::cout << "Serving GET http://127.0.0.1:" << srv.port() << "/usage/{customer id}";
        if (target.demo && !target.demo->customer_ids.empty())
            std::cout << "\n  e.g. curl http://127.0.0.1:" << srv.port() << "/usage/" << target.demo->customer_ids.front();
        std::cout << "\nCtrl-C to stop.\n" << std::flush;
        auto [ec, signal] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
        std::cout << "\nSignal " << signal << ": stopping\n";
    }

    /// Either of the above, then a clean stop (also after a failure).
    asio::awaitable<void> run(bool serving) {
        std::exception_ptr failure;
        try {
            if (serving)
                co_await serve();
            else
                co_await demonstrate();
        } catch (...) {
            failure = std::current_exception();
        }
        co_await srv.stop();
        client.shutdown();
        if (failure) std::rethrow_exception(failure);
    }
};

int main(int argc, char** argv) {
    std::optional<std::uint16_t> serve_port;
    if (argc == 3 && std::string_view(argv[1]) == "--serve") {
        const std::string_view v = argv[2];
        std::uint16_t p = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
        if (ec != std::errc() || end != v.data() + v.size()) {
            std::cerr << "error: --serve takes a port number\n";
            return 2;
        }
        serve_port = p;
    } else if (argc != 1) {
        std::cerr << "usage: example_embedded_server [--serve PORT]\n";
        return 2;
    }

    asio::io_context ioc(2);
    auto target = example::connect(ioc.get_executor());
    polar::client client(ioc.get_executor(), target->options);
    server srv(ioc, serve_port.value_or(0), usage_handler(client, target->options.access_token.value()));
    srv.start();

    int status = 0;
    program prog{client, *target, srv, status};
    asio::co_spawn(srv.strand(), prog.run(serve_port.has_value()), example::finish(*target, status));
    std::thread second([&] { ioc.run(); });
    ioc.run();
    second.join();
    return status;
}
