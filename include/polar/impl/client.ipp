#ifndef POLAR_IMPL_CLIENT_IPP
#define POLAR_IMPL_CLIENT_IPP

#include <polar/client.hpp>
#include <polar/detail/http_util.hpp>
#include <polar/detail/json_codec.hpp>
#include <polar/detail/response.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <cerrno>
#include <deque>
#include <mutex>
#include <random>

namespace polar {
namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using steady = std::chrono::steady_clock;

// -- options ------------------------------------------------------------------

// -- connections ----------------------------------------------------------------

struct connection {
    connection(const asio::any_io_executor& ex, ssl::context* ctx) {
        if (ctx)
            tls.emplace(ex, *ctx);
        else
            plain.emplace(ex);
    }
    beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }

    std::optional<ssl::stream<beast::tcp_stream>> tls;
    std::optional<beast::tcp_stream> plain;
    beast::flat_buffer buffer;
    steady::time_point last_used{};
    std::size_t requests = 0;
};

struct pool_waiter {
    explicit pool_waiter(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    std::unique_ptr<connection> handed;  // a connection given to this waiter
    bool may_open = false;               // a slot to open a new connection
};

// -- client state -------------------------------------------------------------

class client_state {
public:
    client_state(asio::any_io_executor ex, client_options o) : ex_(std::move(ex)), opts(std::move(o)) {}

    asio::any_io_executor ex_;
    client_options opts;
    endpoint ep;
    std::string auth_header;
    std::string user_agent;
    std::shared_ptr<ssl::context> ssl_ctx;

    std::mutex mtx;
    std::vector<std::unique_ptr<connection>> idle;
    std::deque<std::shared_ptr<pool_waiter>> waiters;
    std::size_t total = 0;
    bool shut_down = false;
    double budget_tokens = 0;
    pool_stats counters;
    std::atomic<std::uint64_t> seed{0};

    bool try_spend_retry() {
        std::lock_guard lk(mtx);
        if (opts.budget.capacity <= 0) {
            ++counters.retries;
            return true;
        }
        if (budget_tokens - 1.0 < opts.budget.capacity / 2) return false;
        budget_tokens -= 1.0;
        ++counters.retries;
        return true;
    }
    void refill_budget() {
        if (opts.budget.capacity <= 0) return;
        std::lock_guard lk(mtx);
        budget_tokens = std::min(opts.budget.capacity, budget_tokens + opts.budget.refill_per_success);
    }

    static void notify(const std::shared_ptr<pool_waiter>& w) {
        asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }

    // Gives a connection back. `reusable` is false after any error or when
    // the server did not keep the connection alive.
    void release(std::unique_ptr<connection> c, bool reusable) {
        std::shared_ptr<pool_waiter> w;
        std::unique_ptr<connection> to_close;
        {
            std::lock_guard lk(mtx);
            if (!reusable || shut_down) {
                to_close = std::move(c);
                --total;
                if (!waiters.empty() && !shut_down) {
                    w = std::move(waiters.front());
                    waiters.pop_front();
                    w->may_open = true;
                    ++total;
                }
            } else if (!waiters.empty()) {
                w = std::move(waiters.front());
                waiters.pop_front();
                w->handed = std::move(c);
            } else {
                c->last_used = steady::now();
                idle.push_back(std::move(c));
            }
        }
        if (w) notify(w);
    }

    // Gives back a slot reserved to open a connection that failed to open.
    void release_slot() {
        std::shared_ptr<pool_waiter> w;
        {
            std::lock_guard lk(mtx);
            --total;
            if (!waiters.empty() && !shut_down) {
                w = std::move(waiters.front());
                waiters.pop_front();
                w->may_open = true;
                ++total;
            }
        }
        if (w) notify(w);
    }

    void shutdown() {
        std::vector<std::unique_ptr<connection>> closing;
        std::deque<std::shared_ptr<pool_waiter>> woken;
        {
            std::lock_guard lk(mtx);
            shut_down = true;
            closing.swap(idle);
            total -= closing.size();
            woken.swap(waiters);
        }
        for (auto& w : woken) notify(w);
    }

    // An idle connection is reused only if it is young enough and the peer
    // has not closed it (a readable idle socket means EOF, a reset or stray
    // bytes: none of which leave it usable).
    bool usable(connection& c, steady::time_point now) const {
        if (opts.idle_timeout.count() > 0 && now - c.last_used >= opts.idle_timeout) return false;
        auto& sock = c.lowest().socket();
        if (!sock.is_open()) return false;
        char byte;
#ifdef MSG_DONTWAIT
        // One syscall: switching the socket to non-blocking mode and back
        // costs three more (ioctls) on every request.
        const auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
#else
        error_code ec;
        sock.non_blocking(true, ec);
        if (ec) return false;
        sock.receive(asio::buffer(&byte, 1), asio::socket_base::message_peek, ec);
        error_code ec2;
        sock.non_blocking(false, ec2);
        return ec == asio::error::would_block || ec == asio::error::try_again;
#endif
    }
};

namespace client_impl {

inline std::string_view verb_name(http_verb v) {
    switch (v) {
    case http_verb::get: return "GET";
    case http_verb::post: return "POST";
    case http_verb::patch: return "PATCH";
    }
    return "GET";
}

inline http::verb beast_verb(http_verb v) {
    switch (v) {
    case http_verb::get: return http::verb::get;
    case http_verb::post: return http::verb::post;
    case http_verb::patch: return http::verb::patch;
    }
    return http::verb::get;
}

inline steady::time_point earliest(steady::time_point a, steady::time_point b) { return a < b ? a : b; }

inline steady::time_point after(std::chrono::milliseconds d) {
    return d.count() > 0 ? steady::now() + d : steady::time_point::max();
}

inline void set_expiry(beast::tcp_stream& s, steady::time_point deadline) {
    if (deadline == steady::time_point::max())
        s.expires_never();
    else
        s.expires_at(deadline);
}

inline bool cancelled(const asio::cancellation_state& cs) { return cs.cancelled() != asio::cancellation_type::none; }

struct acquired {
    error_code ec;
    std::string message;
    std::unique_ptr<connection> conn;
    bool reused = false;
};

// Opens a connection: resolve, connect, TLS handshake with SNI and host name
// verification. Bounded by connect_timeout and the operation's deadline.
inline asio::awaitable<error_code> open_connection(client_state& st, connection& c, steady::time_point deadline,
                                            std::string& message) {
    const auto limit = earliest(deadline, after(st.opts.connect_timeout));
    auto ex = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(ex);
    auto flags = st.ep.host_is_ip ? asio::ip::resolver_base::numeric_host : asio::ip::resolver_base::flags();
    auto [rec, results] =
        co_await resolver.async_resolve(st.ep.host, st.ep.port, flags, asio::as_tuple(asio::use_awaitable));
    if (rec) {
        message = "cannot resolve " + st.ep.host + ": " + rec.message();
        co_return rec;
    }
    auto& tcp = c.lowest();
    set_expiry(tcp, limit);
    auto connected = co_await tcp.async_connect(results, asio::as_tuple(asio::use_awaitable));
    const error_code cec = std::get<0>(connected);
    if (cec) {
        message = "cannot connect to " + st.ep.host_header + ": " + cec.message();
        co_return cec;
    }
    error_code ignored;
    tcp.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    if (c.tls) {
        if (!st.ep.host_is_ip && !SSL_set_tlsext_host_name(c.tls->native_handle(), st.ep.host.c_str())) {
            message = "cannot set TLS server name";
            co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        }
        if (st.opts.verify_peer) {
            // OpenSSL checks the name itself (RFC 6125), so a mismatch is
            // reported as such ("hostname mismatch") in the verify result.
            c.tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
            ::SSL* native = c.tls->native_handle();
            const int ok = st.ep.host_is_ip ? ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(native), st.ep.host.c_str())
                                            : ::SSL_set1_host(native, st.ep.host.c_str());
            if (ok != 1) {
                message = "cannot set the TLS host name to verify";
                co_return make_error_code(errc::invalid_argument);
            }
        }
        auto [hec] = co_await c.tls->async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
        if (hec) {
            message = "TLS handshake with " + st.ep.host_header + " failed: " + hec.message();
            const long verify = ::SSL_get_verify_result(c.tls->native_handle());
            if (verify != X509_V_OK) {
                message += " (certificate verification: ";
                message += ::X509_verify_cert_error_string(verify);
                message += ')';
            }
            co_return hec;
        }
    }
    co_return error_code{};
}

// Gets a connection from the pool: an idle one that is still usable, a new
// one while under max_connections, or else waits for one to be released.
inline asio::awaitable<acquired> acquire(std::shared_ptr<client_state> st, steady::time_point deadline) {
    auto ex = co_await asio::this_coro::executor;
    const auto wait_limit = earliest(deadline, after(st->opts.pool_wait_timeout));
    acquired out;
    std::shared_ptr<pool_waiter> w;
    bool open_new = false;
    {
        std::vector<std::unique_ptr<connection>> stale;
        std::lock_guard lk(st->mtx);
        if (st->shut_down) {
            out.ec = make_error_code(errc::client_shut_down);
            co_return out;
        }
        const auto now = steady::now();
        while (!st->idle.empty()) {
            auto c = std::move(st->idle.back());
            st->idle.pop_back();
            if (st->usable(*c, now)) {
                out.conn = std::move(c);
                break;
            }
            --st->total;
            stale.push_back(std::move(c));
        }
        if (!out.conn) {
            if (st->total < st->opts.max_connections) {
                ++st->total;
                open_new = true;
            } else {
                w = std::make_shared<pool_waiter>(ex);
                st->waiters.push_back(w);
            }
        }
    }
    if (out.conn) {
        out.reused = true;
        co_return out;
    }
    if (w) {
        w->timer.expires_at(wait_limit);
        // Woken by release() (which cancels the timer), by the deadline, or
        // by the caller's cancellation: the flags below tell which.
        co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        bool shut = false;
        {
            std::lock_guard lk(st->mtx);
            if (w->handed) {
                out.conn = std::move(w->handed);
            } else if (w->may_open) {
                open_new = true;
            } else {
                auto it = std::find(st->waiters.begin(), st->waiters.end(), w);
                if (it != st->waiters.end()) st->waiters.erase(it);
            }
            shut = st->shut_down;
        }
        const bool aborted = cancelled(co_await asio::this_coro::cancellation_state);
        if (out.conn) {
            if (aborted) {
                st->release(std::move(out.conn), true);
                out.ec = asio::error::operation_aborted;
                co_return out;
            }
            out.reused = true;
            co_return out;
        }
        if (!open_new) {
            if (shut) {
                out.ec = make_error_code(errc::client_shut_down);
            } else if (aborted) {
                out.ec = asio::error::operation_aborted;
            } else {
                out.ec = make_error_code(errc::timeout);
                out.message = "timed out waiting for a free connection (all " +
                              std::to_string(st->opts.max_connections) + " in use)";
            }
            co_return out;
        }
        if (aborted) {
            st->release_slot();
            out.ec = asio::error::operation_aborted;
            co_return out;
        }
    }
    // Open a new connection in the reserved slot.
    auto c = std::make_unique<connection>(st->ex_, st->ssl_ctx.get());
    out.ec = co_await open_connection(*st, *c, deadline, out.message);
    if (out.ec) {
        st->release_slot();
        if (out.ec == beast::error::timeout) out.ec = make_error_code(errc::timeout);
        co_return out;
    }
    {
        std::lock_guard lk(st->mtx);
        ++st->counters.created;
    }
    out.conn = std::move(c);
    co_return out;
}

// ec, message, status, body, content_type, request_id, retry_after, keep_alive
struct attempt_outcome : received_response {
    bool maybe_sent = false;     // request bytes may have reached the server
    bool stale = false;          // a reused connection failed before any response byte
    bool reused = false;
    bool deadline_hit = false;   // the operation's own deadline expired
    std::unique_ptr<connection> conn; // on a complete response: the connection, not yet released
};

// The request as one buffer: Beast's serializer yields a sequence of small
// buffers (start line, each field, body), and walking that sequence through
// tcp_stream's buffer adaptors took a sixth of a GET's instructions.
inline std::string serialize(const http::request<http::string_body>& req) {
    std::string s;
    s.reserve(256 + req.body().size());
    s.append(req.method_string()).append(" ").append(req.target()).append(" HTTP/1.1\r\n");
    for (const auto& f : req) s.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
    s.append("\r\n").append(req.body());
    return s;
}

template <class Stream>
asio::awaitable<void> exchange(Stream& stream, connection& c, const std::string& req,
                               http::response_parser<http::string_body>& parser, attempt_outcome& out) {
    out.maybe_sent = true;
    auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(req), asio::as_tuple(asio::use_awaitable));
    if (wec) {
        out.ec = wec;
        co_return;
    }
    auto [rec, rn] = co_await http::async_read(stream, c.buffer, parser, asio::as_tuple(asio::use_awaitable));
    out.ec = rec;
}

inline asio::awaitable<attempt_outcome> run_attempt(std::shared_ptr<client_state> st, const http_call& call,
                                             steady::time_point deadline, std::chrono::milliseconds attempt_timeout) {
    attempt_outcome out;
    auto got = co_await acquire(st, deadline);
    if (got.ec) {
        out.ec = got.ec;
        out.message = std::move(got.message);
        out.deadline_hit = got.ec == errc::timeout && steady::now() >= deadline;
        co_return out;
    }
    auto conn = std::move(got.conn);
    out.reused = got.reused;
    if (got.reused) {
        std::lock_guard lk(st->mtx);
        ++st->counters.reused;
    }

    http::request<http::string_body> req{beast_verb(call.verb), st->ep.prefix + call.target, 11};
    req.set(http::field::host, st->ep.host_header);
    req.set(http::field::authorization, st->auth_header);
    req.set(http::field::user_agent, st->user_agent);
    req.set(http::field::accept, "application/json");
    for (const auto& [name, value] : call.headers) req.set(name, value);
    if (call.verb != http_verb::get) {
        req.set(http::field::content_type, "application/json");
        req.body() = call.body;
    }
    req.keep_alive(true);
    req.prepare_payload();

    response_parser parser;
    limit_response_parser(parser, st->opts.max_body_size);

    const auto attempt_deadline = earliest(deadline, after(attempt_timeout));
    set_expiry(conn->lowest(), attempt_deadline);
    conn->buffer.clear();
    const std::string wire = serialize(req);
    if (conn->tls)
        co_await exchange(*conn->tls, *conn, wire, parser, out);
    else
        co_await exchange(*conn->plain, *conn, wire, parser, out);

    take_response(out.ec, parser, st->opts.max_body_size, out);
    if (out.ec) {
        out.stale = out.reused && !parser.got_some();
        if (out.ec == beast::error::timeout) {
            out.deadline_hit = steady::now() >= deadline;
            out.ec = make_error_code(errc::timeout);
            out.message = out.deadline_hit ? "the operation's deadline expired" : "the attempt timed out";
        }
        st->release(std::move(conn), false);
        co_return out;
    }
    ++conn->requests;
    out.conn = std::move(conn);
    co_return out;
}

template <class T>
struct op_result {
    error_code ec;
    T value{};
};

template <class T>
void set_page_context(T&, const std::shared_ptr<client_state>&, const http_call&) {}

template <class T>
void set_page_context(page<T>& p, const std::shared_ptr<client_state>& st, const http_call& call) {
    p.number = call.page;
    p.limit = call.limit;
    auto req = std::make_shared<page_request>();
    req->state = st;
    req->call = call;
    req->call.user_diag = nullptr;
    req->call.diagnostics_sink.reset();
    p.request_ = std::move(req);
}

template <class T>
void set_page_context(std::optional<page<T>>& p, const std::shared_ptr<client_state>& st, const http_call& call) {
    if (p) set_page_context(*p, st, call);
}

template <class T>
error_code decode_into(std::string_view body, T& out, std::string& what) {
    return decode(body, out, what);
}

template <class T>
error_code decode_into(std::string_view body, std::optional<page<T>>& out, std::string& what) {
    out.emplace();
    return decode(body, *out, what);
}

template <class T>
error_code decode_erased(std::string_view body, void* out, std::string& what) {
    return decode_into(body, *static_cast<T*>(out), what);
}

template <class T>
asio::awaitable<op_result<T>> run_operation(std::shared_ptr<client_state> st, http_call call) {
    // Reads can be abandoned at any point; a write only while nothing was sent.
    if (call.idempotent)
        co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    else
        co_await asio::this_coro::reset_cancellation_state(asio::enable_partial_cancellation());
    co_await asio::this_coro::throw_if_cancelled(false);

    op_result<T> result;
    diagnostics diag;
    diag.method = std::string(verb_name(call.verb));
    diag.path = call.target;
    auto finish = [&](error_code ec) -> op_result<T> {
        result.ec = ec;
        if (call.user_diag) *call.user_diag = diag;
        if (call.diagnostics_sink) *call.diagnostics_sink = std::move(diag);
        return std::move(result);
    };

    if (call.precheck) {
        diag.message = call.precheck_message;
        co_return finish(call.precheck);
    }
    if (call.skip) co_return finish({});

    const retry_policy policy = call.retry ? *call.retry : st->opts.retry;
    const auto start = steady::now();
    const auto total = call.timeout ? *call.timeout : st->opts.total_timeout;
    const auto deadline = after(total);
    const auto attempt_timeout = call.attempt_timeout ? *call.attempt_timeout : st->opts.attempt_timeout;
    std::minstd_rand rng(static_cast<std::uint32_t>(st->seed.fetch_add(0x9E3779B9u)));
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    bool stale_retry_used = false;
    asio::steady_timer backoff_timer(co_await asio::this_coro::executor);

    for (int attempt = 1;; ++attempt) {
        diag.attempts = attempt;
        if (cancelled(co_await asio::this_coro::cancellation_state)) co_return finish(asio::error::operation_aborted);

        const auto t0 = steady::now();
        attempt_outcome out = co_await run_attempt(st, call, deadline, attempt_timeout);
        const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0);
        const bool user_cancelled = cancelled(co_await asio::this_coro::cancellation_state);

        diag.status = out.status;
        diag.content_type = out.content_type;
        diag.request_id = out.request_id;
        diag.retry_after.reset();
        diag.error.clear();
        diag.detail.clear();
        diag.validation_errors.clear();
        diag.body.clear();
        diag.message = out.message;

        error_code ec = out.ec;
        bool retryable = false;
        if (user_cancelled) {
            ec = asio::error::operation_aborted;
        } else if (!ec) {
            ec = interpret_response(out, diag, &decode_erased<T>, &result.value);
            if (out.status >= 200 && out.status <= 299) {
                if (!ec) {
                    set_page_context(result.value, st, call);
                    st->refill_budget();
                }
            } else {
                retryable = policy.retryable_status(out.status);
            }
        } else if (ec == asio::error::operation_aborted || ec == errc::client_shut_down ||
                   ec == errc::invalid_argument || ec == errc::body_too_large ||
                   ec == errc::unexpected_response || out.deadline_hit) {
            retryable = false;
        } else {
            // A transport failure: connect error, reset, EOF, attempt timeout, TLS.
            const bool safe = call.idempotent || !out.maybe_sent || policy.retry_non_idempotent();
            if (out.stale && call.idempotent && !stale_retry_used) {
                // A keep-alive connection the server had closed: not a real
                // attempt, try once more on a fresh connection right away.
                stale_retry_used = true;
                --attempt;
                continue;
            }
            retryable = policy.retry_transport_errors() && safe;
            if (!call.idempotent && out.maybe_sent && !policy.retry_non_idempotent()) {
                diag.message = "the request may have been processed (" + ec.message() +
                               (out.message.empty() ? "" : ": " + out.message) + "); not retried";
                ec = make_error_code(errc::outcome_unknown);
            }
        }

        // A connection that delivered something unusable is not trusted again.
        if (out.conn)
            st->release(std::move(out.conn), out.keep_alive && !user_cancelled && ec != errc::invalid_response &&
                                                 ec != errc::unexpected_response);

        // Decide whether and when to retry.
        std::chrono::milliseconds delay{0};
        std::string stop;
        if (ec && retryable) {
            delay = policy.backoff(attempt - 1, uniform(rng));
            if (diag.retry_after && policy.honor_retry_after()) {
                const auto ra = std::chrono::duration_cast<std::chrono::milliseconds>(*diag.retry_after);
                if (ra > policy.max_retry_after())
                    stop = "Retry-After of " + std::to_string(diag.retry_after->count()) +
                           " s exceeds the policy's max_retry_after";
                delay = std::max(delay, ra);
            }
            const auto now = steady::now();
            if (!stop.empty()) {
            } else if (policy.max_attempts() > 0 && attempt >= policy.max_attempts()) {
                stop = "the policy's limit of " + std::to_string(policy.max_attempts()) + " attempts was reached";
            } else if (policy.max_elapsed().count() > 0 && now + delay - start > policy.max_elapsed()) {
                stop = "the policy's max_elapsed time would be exceeded";
            } else if (deadline != steady::time_point::max() && now + delay >= deadline) {
                stop = "the operation's deadline would expire before the next attempt";
            } else if (!st->try_spend_retry()) {
                stop = "the client's retry budget is exhausted (too many failures recently)";
            }
        }
        const bool will_retry = ec && retryable && stop.empty();
        if (st->opts.on_attempt) {
            attempt_info info;
            info.method = verb_name(call.verb);
            info.target = call.target;
            info.attempt = attempt;
            info.status = out.status;
            info.ec = ec;
            info.latency = latency;
            info.reused_connection = out.reused;
            info.will_retry = will_retry;
            info.retry_delay = will_retry ? delay : std::chrono::milliseconds{0};
            try {
                st->opts.on_attempt(info);
            } catch (...) {
            }
        }
        if (!ec) co_return finish(ec);
        if (!will_retry) {
            diag.retry_stop_reason = std::move(stop);
            co_return finish(ec);
        }
        backoff_timer.expires_after(delay);
        auto [tec] = co_await backoff_timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (tec || cancelled(co_await asio::this_coro::cancellation_state))
            co_return finish(asio::error::operation_aborted);
    }
}

} // namespace client_impl
using namespace client_impl;

template <class T>
void async_execute(std::shared_ptr<client_state> state, http_call call,
                   asio::any_completion_handler<void(error_code, T)> handler) {
    if (!state) {
        diagnostics d;
        d.message = "page::next(): this page did not come from a client";
        throw api_error(make_error_code(errc::invalid_argument), std::move(d));
    }
    auto slot = asio::get_associated_cancellation_slot(handler);
    auto strand = asio::make_strand(state->ex_);
    auto exec = asio::get_associated_executor(handler, state->ex_);
    asio::co_spawn(
        strand, run_operation<T>(std::move(state), std::move(call)),
        asio::bind_executor(
            exec, asio::bind_cancellation_slot(
                      slot, [h = std::move(handler)](std::exception_ptr ep, op_result<T> r) mutable {
                          if (ep) {
                              // run_operation does not throw; only allocation failure lands here.
                              std::move(h)(make_error_code(std::errc::not_enough_memory), T{});
                              return;
                          }
                          std::move(h)(r.ec, std::move(r.value));
                      })));
}

#ifdef POLAR_SEPARATE_COMPILATION
template void async_execute<meter>(std::shared_ptr<client_state>, http_call,
                                   asio::any_completion_handler<void(error_code, meter)>);
template void async_execute<page<meter>>(std::shared_ptr<client_state>, http_call,
                                         asio::any_completion_handler<void(error_code, page<meter>)>);
template void async_execute<page<event>>(std::shared_ptr<client_state>, http_call,
                                         asio::any_completion_handler<void(error_code, page<event>)>);
template void async_execute<meter_quantities>(std::shared_ptr<client_state>, http_call,
                                              asio::any_completion_handler<void(error_code, meter_quantities)>);
template void async_execute<std::optional<page<meter>>>(
    std::shared_ptr<client_state>, http_call, asio::any_completion_handler<void(error_code, std::optional<page<meter>>)>);
template void async_execute<std::optional<page<event>>>(
    std::shared_ptr<client_state>, http_call, asio::any_completion_handler<void(error_code, std::optional<page<event>>)>);
template void async_execute<events_ingest_response>(
    std::shared_ptr<client_state>, http_call, asio::any_completion_handler<void(error_code, events_ingest_response)>);
#endif

} // namespace detail

// -- client ---------------------------------------------------------------------

namespace detail {
inline void fail_option(const std::string& what) {
    diagnostics d;
    d.message = what;
    throw api_error(make_error_code(errc::invalid_argument), std::move(d));
}
} // namespace detail

POLAR_DECL client::client(executor_type ex, client_options opts) {
    using namespace detail;
    if (opts.access_token.empty()) fail_option("client_options::access_token is required");
    for (unsigned char c : opts.access_token)
        if (c < 0x20 || c == 0x7F) fail_option("client_options::access_token contains control characters");
    if (opts.max_connections == 0) fail_option("client_options::max_connections must be at least 1");
    if (opts.max_body_size == 0) fail_option("client_options::max_body_size must be positive");
    for (auto d : {opts.connect_timeout, opts.attempt_timeout, opts.total_timeout, opts.pool_wait_timeout,
                   opts.idle_timeout})
        if (d.count() < 0) fail_option("client_options: timeouts must not be negative");
    for (unsigned char c : opts.user_agent)
        if (c < 0x20 || c == 0x7F) fail_option("client_options::user_agent contains control characters");

    std::string url = opts.server_url;
    if (url.empty()) url = opts.server == server::sandbox ? "https://sandbox-api.polar.sh" : "https://api.polar.sh";
    endpoint ep;
    std::string err;
    if (!parse_base_url(url, ep, err)) fail_option("client_options::server_url: " + err);
    if (!ep.tls && !ep.loopback && !opts.allow_insecure_http)
        fail_option("refusing to send the access token over plain HTTP to " + ep.host +
                    "; use https or set client_options::allow_insecure_http");

    auto st = std::make_shared<client_state>(std::move(ex), std::move(opts));
    auto& o = st->opts;
    st->ep = std::move(ep);
    constexpr std::string_view bearer = "bearer ";
    bool has_prefix = o.access_token.size() > bearer.size();
    for (std::size_t i = 0; has_prefix && i < bearer.size(); ++i)
        has_prefix = std::tolower(static_cast<unsigned char>(o.access_token[i])) == bearer[i];
    st->auth_header = has_prefix ? o.access_token : "Bearer " + o.access_token;
    st->user_agent = "polar-cpp/" POLAR_VERSION_STRING;
    if (!o.user_agent.empty()) st->user_agent += " " + o.user_agent;
    st->budget_tokens = o.budget.capacity;
    st->seed = std::random_device{}();

    if (st->ep.tls) {
        if (o.ssl_context) {
            st->ssl_ctx = o.ssl_context;
        } else {
            auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
            error_code ec;
            ctx->set_default_verify_paths(ec);
            if (!o.ca_file.empty()) {
                ctx->load_verify_file(o.ca_file, ec);
                if (ec) fail_option("client_options::ca_file: cannot load '" + o.ca_file + "': " + ec.message());
            }
            if (!o.ca_pem.empty()) {
                ctx->add_certificate_authority(asio::buffer(o.ca_pem), ec);
                if (ec) fail_option("client_options::ca_pem: invalid PEM certificate: " + ec.message());
            }
            ctx->set_verify_mode(o.verify_peer ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                                               : ssl::verify_none);
            st->ssl_ctx = std::move(ctx);
        }
    }
    state_ = std::move(st);
}

POLAR_DECL client::executor_type client::get_executor() const noexcept { return state_->ex_; }

POLAR_DECL std::string client::base_url() const {
    return (state_->ep.tls ? "https://" : "http://") + state_->ep.host_header + state_->ep.prefix;
}

POLAR_DECL pool_stats client::stats() const {
    std::lock_guard lk(state_->mtx);
    pool_stats s = state_->counters;
    s.open = state_->total;
    s.idle = state_->idle.size();
    s.waiting = state_->waiters.size();
    return s;
}

POLAR_DECL void client::shutdown() { state_->shutdown(); }

} // namespace polar

#endif
