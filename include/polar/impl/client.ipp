#ifndef POLAR_IMPL_CLIENT_IPP
#define POLAR_IMPL_CLIENT_IPP

#include <polar/client.hpp>
#include <polar/detail/http_util.hpp>
#include <polar/detail/json_codec.hpp>
#include <polar/detail/response.hpp>
#include <polar/detail/tls_stream.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <cctype>
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

// -- connections ----------------------------------------------------------------

using tcp_socket = asio::ip::tcp::socket;

/**
 * Bounds a connection's I/O by a deadline without serializing the operation
 * on a strand. When the deadline passes, the timer's handler shuts the socket
 * down: a call on the descriptor, safe from any thread, that makes the pending
 * connect, handshake, write or read fail at once. The owner then asks
 * expired() to tell a timeout from a peer's reset. Everything is under `m_`
 * because the handler may run on another thread of a multi-threaded executor.
 * One timer wait per attempt, against one per socket operation (two or three
 * per request) with beast::tcp_stream.
 */
class watchdog : public std::enable_shared_from_this<watchdog> {
public:
    explicit watchdog(const asio::any_io_executor& ex) : timer_(ex) {}

    /// The descriptor to shut down when the deadline passes.
    void watch(tcp_socket::native_handle_type fd) {
        std::lock_guard lk(m_);
        fd_ = fd;
    }

    /// Starts watching until `deadline` (time_point::max(): no limit).
    void arm(steady::time_point deadline) {
        std::lock_guard lk(m_);
        expired_ = false;
        if (deadline == steady::time_point::max()) return;
        const auto gen = ++gen_;
        timer_.expires_at(deadline);
        timer_.async_wait([self = shared_from_this(), gen](error_code ec) { self->on_timer(gen, ec); });
        armed_ = true;
    }

    /// Stops watching; a pending timer wait is cancelled so that it does not
    /// keep the executor's run() going.
    void disarm() {
        std::lock_guard lk(m_);
        stop_timer();
    }

    /// Whether the deadline passed (and the socket was shut down) since arm().
    bool expired() {
        std::lock_guard lk(m_);
        return expired_;
    }

    /// The socket is about to close: never touch its descriptor again.
    void release() {
        std::lock_guard lk(m_);
        fd_ = invalid;
        stop_timer();
    }

private:
    static constexpr tcp_socket::native_handle_type invalid = static_cast<tcp_socket::native_handle_type>(-1);

    void stop_timer() {
        if (!armed_) return;
        ++gen_;
        timer_.cancel();
        armed_ = false;
    }

    void on_timer(std::uint64_t gen, error_code ec) {
        std::lock_guard lk(m_);
        if (ec || gen != gen_) return;
        armed_ = false;
        expired_ = true;
        if (fd_ == invalid) return;
#ifdef _WIN32
        ::shutdown(fd_, SD_BOTH);
#else
        ::shutdown(fd_, SHUT_RDWR);
#endif
    }

    std::mutex m_;
    asio::steady_timer timer_;
    tcp_socket::native_handle_type fd_ = invalid;
    std::uint64_t gen_ = 0;
    bool armed_ = false;
    bool expired_ = false;
};

struct connection {
    connection(const asio::any_io_executor& ex, ssl::context* ctx) : dog(std::make_shared<watchdog>(ex)) {
        if (ctx)
            tls.emplace(ex, *ctx);
        else
            plain.emplace(ex);
    }
    ~connection() { dog->release(); }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    tcp_socket& lowest() { return tls ? tls->next_layer() : *plain; }

    std::optional<tls_stream> tls; // OpenSSL on the socket itself: about 19 KiB when idle
    std::optional<tcp_socket> plain;
    std::shared_ptr<watchdog> dog;
    beast::flat_buffer buffer;
    std::string wire; // the request being sent; keeps its capacity between requests
    steady::time_point last_used{};
    std::size_t requests = 0;
};

/**
 * An operation waiting for a connection. release() hands it a connection (or
 * a slot to open one) under client_state::mtx, then wakes it: wake() and the
 * waiter's own wait() meet under `m`, so a wake-up that comes before the wait
 * starts is not lost.
 */
struct pool_waiter {
    explicit pool_waiter(const asio::any_io_executor& ex) : timer(ex) {}

    void wake() {
        std::lock_guard lk(m);
        woken = true;
        timer.cancel();
    }

    /// Waits until wake() or `limit`; completes at once if already woken.
    template <class Token>
    auto wait(steady::time_point limit, Token&& token) {
        return asio::async_initiate<Token, void(error_code)>(
            [this, limit](auto handler) {
                std::lock_guard lk(m);
                if (woken) {
                    auto ex = asio::get_associated_executor(handler, timer.get_executor());
                    asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(error_code{}); });
                    return;
                }
                timer.expires_at(limit);
                timer.async_wait(std::move(handler));
            },
            token);
    }

    std::mutex m;
    asio::steady_timer timer;
    bool woken = false;                  // under m
    std::unique_ptr<connection> handed;  // a connection given to this waiter (under client_state::mtx)
    bool may_open = false;               // a slot to open a new connection (under client_state::mtx)
};

// -- client state -------------------------------------------------------------

class client_state {
public:
    client_state(asio::any_io_executor ex, client_options o) : ex_(std::move(ex)), opts(std::move(o)) {}

    asio::any_io_executor ex_;
    client_options opts;
    endpoint ep;
    std::string fixed_fields;      // "Host: ...\r\nAuthorization: Bearer ...\r\n"
    std::string user_agent_field;  // "User-Agent: polar-cpp/x.y.z ...\r\n"
    std::string fixed_fields_masked; // fixed_fields with "Authorization: Bearer ***"
    std::string token;             // the bare token, to mask it in traces
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

    static void notify(const std::shared_ptr<pool_waiter>& w) { w->wake(); }

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

    // The most recently used idle connection that is still usable (under
    // mtx); unusable ones are moved to `stale`, to be closed after unlocking.
    std::unique_ptr<connection> take_idle_locked(std::vector<std::unique_ptr<connection>>& stale) {
        const auto now = steady::now();
        while (!idle.empty()) {
            auto c = std::move(idle.back());
            idle.pop_back();
            if (usable(*c, now)) {
                ++counters.reused;
                return c;
            }
            --total;
            stale.push_back(std::move(c));
        }
        return nullptr;
    }

    // The fast path of acquiring: an idle connection, without waiting.
    std::unique_ptr<connection> take_idle() {
        std::vector<std::unique_ptr<connection>> stale;
        std::lock_guard lk(mtx);
        if (shut_down) return nullptr;
        return take_idle_locked(stale);
    }

    // An idle connection is reused only if it is young enough and the peer
    // has not closed it (a readable idle socket means EOF, a reset or stray
    // bytes: none of which leave it usable).
    bool usable(connection& c, steady::time_point now) const {
        if (opts.idle_timeout.count() > 0 && now - c.last_used >= opts.idle_timeout) return false;
        auto& sock = c.lowest();
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

inline steady::time_point earliest(steady::time_point a, steady::time_point b) { return a < b ? a : b; }

inline steady::time_point after(std::chrono::milliseconds d) {
    return d.count() > 0 ? steady::now() + d : steady::time_point::max();
}

inline bool cancelled(const asio::cancellation_state& cs) { return cs.cancelled() != asio::cancellation_type::none; }

struct acquired {
    error_code ec;
    std::string message;
    std::unique_ptr<connection> conn;
    bool reused = false;
};

// Opens a connection: resolve, connect, TLS handshake with SNI and host name
// verification. Bounded by connect_timeout and the operation's deadline
// (resolving is bounded by the system resolver's own timeouts).
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
    auto& sock = c.lowest();
    c.dog->arm(limit);
    // Each address in turn, the socket opened here so that the watchdog
    // knows its descriptor before the connect starts.
    error_code cec = asio::error::host_not_found;
    for (const auto& entry : results) {
        error_code ignored;
        if (sock.is_open()) {
            c.dog->watch(static_cast<tcp_socket::native_handle_type>(-1));
            sock.close(ignored);
        }
        sock.open(entry.endpoint().protocol(), cec);
        if (cec) continue;
        c.dog->watch(sock.native_handle());
        auto [ec] = co_await sock.async_connect(entry.endpoint(), asio::as_tuple(asio::use_awaitable));
        cec = ec;
        if (!cec || c.dog->expired()) break;
    }
    auto timed_out = [&] {
        if (!c.dog->expired()) return false;
        message = "timed out connecting to " + st.ep.host_header;
        return true;
    };
    if (cec) {
        c.dog->disarm();
        if (timed_out()) co_return make_error_code(errc::timeout);
        message = "cannot connect to " + st.ep.host_header + ": " + cec.message();
        co_return cec;
    }
    error_code ignored;
    sock.set_option(asio::ip::tcp::no_delay(true), ignored);
    if (c.tls) {
        if (!st.ep.host_is_ip && !SSL_set_tlsext_host_name(c.tls->native_handle(), st.ep.host.c_str())) {
            c.dog->disarm();
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
                c.dog->disarm();
                message = "cannot set the TLS host name to verify";
                co_return make_error_code(errc::invalid_argument);
            }
        }
        auto [hec] = co_await c.tls->async_handshake(asio::as_tuple(asio::use_awaitable));
        c.dog->disarm();
        if (hec) {
            if (timed_out()) {
                message += " (during the TLS handshake)";
                co_return make_error_code(errc::timeout);
            }
            message = "TLS handshake with " + st.ep.host_header + " failed: " + hec.message();
            const long verify = ::SSL_get_verify_result(c.tls->native_handle());
            if (verify != X509_V_OK) {
                message += " (certificate verification: ";
                message += ::X509_verify_cert_error_string(verify);
                message += ')';
            }
            co_return hec;
        }
        co_return error_code{};
    }
    c.dog->disarm();
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
        out.conn = st->take_idle_locked(stale);
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
        // Woken by release(), by the deadline, or by the caller's
        // cancellation: the flags below tell which.
        co_await w->wait(wait_limit, asio::as_tuple(asio::use_awaitable));
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
            std::lock_guard lk(st->mtx);
            ++st->counters.reused;
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

inline bool same_name(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// The request as one buffer, written straight into the connection's reusable
// string: the start line, the client's fixed fields (Host, Authorization),
// User-Agent and Accept unless the call sets them, the call's extra fields
// (the last of a repeated name wins), and the body with its length.
inline void write_request(const client_state& st, const http_call& call, std::string& wire) {
    wire.clear();
    wire.append(verb_name(call.verb)).append(" ").append(st.ep.prefix).append(call.target).append(" HTTP/1.1\r\n");
    wire.append(st.fixed_fields);
    auto overridden = [&](std::string_view name) {
        for (const auto& h : call.headers)
            if (same_name(h.first, name)) return true;
        return false;
    };
    if (call.headers.empty() || !overridden("user-agent")) wire.append(st.user_agent_field);
    if (call.headers.empty() || !overridden("accept")) wire.append("Accept: application/json\r\n");
    for (std::size_t i = 0; i < call.headers.size(); ++i) {
        const auto& [name, value] = call.headers[i];
        bool repeated = false;
        for (std::size_t j = i + 1; j < call.headers.size() && !repeated; ++j)
            repeated = same_name(call.headers[j].first, name);
        if (!repeated) wire.append(name).append(": ").append(value).append("\r\n");
    }
    if (call.verb != http_verb::get) {
        wire.append("Content-Type: application/json\r\nContent-Length: ")
            .append(std::to_string(call.body.size()))
            .append("\r\n");
    }
    wire.append("\r\n").append(call.body);
}

// Replaces every occurrence of `secret` in `text` with "***".
inline void mask(std::string& text, std::string_view secret) {
    if (secret.empty()) return;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
        text.replace(at, secret.size(), "***");
}

inline void trace(const client_state& st, const http_call& call, int attempt, trace_record::direction dir,
                  std::string head, std::size_t body_size) {
    mask(head, st.token);
    trace_record r;
    r.dir = dir;
    r.method = verb_name(call.verb);
    r.target = call.target;
    r.attempt = attempt;
    r.head = head;
    r.body_size = body_size;
    try {
        st.opts.on_trace(r);
    } catch (...) {
    }
}

// The request head of `wire` (as written by write_request), Authorization masked.
inline void trace_request(const client_state& st, const http_call& call, int attempt, const std::string& wire) {
    const auto start_line = wire.find("\r\n") + 2;
    const auto end = wire.size() - call.body.size() - 2; // before the blank line
    std::string head = wire.substr(0, start_line);
    head += st.fixed_fields_masked;
    head.append(wire, start_line + st.fixed_fields.size(), end - start_line - st.fixed_fields.size());
    trace(st, call, attempt, trace_record::direction::request, std::move(head), call.body.size());
}

inline void trace_response(const client_state& st, const http_call& call, int attempt,
                           const response_parser::value_type& res) {
    std::string head = "HTTP/1.1 ";
    head += std::to_string(res.result_int());
    head += ' ';
    head.append(res.reason());
    head += "\r\n";
    for (const auto& f : res) head.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
    trace(st, call, attempt, trace_record::direction::response, std::move(head), res.body().size());
}

inline asio::awaitable<attempt_outcome> run_attempt(std::shared_ptr<client_state> st, const http_call& call,
                                                    steady::time_point deadline,
                                                    std::chrono::milliseconds attempt_timeout, int attempt) {
    attempt_outcome out;
    auto conn = st->take_idle();
    if (conn) {
        out.reused = true;
    } else {
        auto got = co_await acquire(st, deadline);
        if (got.ec) {
            out.ec = got.ec;
            out.message = std::move(got.message);
            out.deadline_hit = got.ec == errc::timeout && steady::now() >= deadline;
            co_return out;
        }
        conn = std::move(got.conn);
        out.reused = got.reused;
    }

    write_request(*st, call, conn->wire);
    if (st->opts.on_trace) trace_request(*st, call, attempt, conn->wire);
    response_parser parser;
    limit_response_parser(parser, st->opts.max_body_size);
    conn->buffer.clear();

    conn->dog->arm(earliest(deadline, after(attempt_timeout)));
    out.maybe_sent = true;
    error_code ec;
    if (conn->tls) {
        auto [wec, wn] = co_await asio::async_write(*conn->tls, asio::buffer(conn->wire),
                                                    asio::as_tuple(asio::use_awaitable));
        ec = wec;
        if (!ec) {
            auto [rec, rn] = co_await http::async_read(*conn->tls, conn->buffer, parser,
                                                       asio::as_tuple(asio::use_awaitable));
            ec = rec;
        }
    } else {
        auto [wec, wn] = co_await asio::async_write(*conn->plain, asio::buffer(conn->wire),
                                                    asio::as_tuple(asio::use_awaitable));
        ec = wec;
        if (!ec) {
            auto [rec, rn] = co_await http::async_read(*conn->plain, conn->buffer, parser,
                                                       asio::as_tuple(asio::use_awaitable));
            ec = rec;
        }
    }
    conn->dog->disarm();

    if (st->opts.on_trace && !ec) trace_response(*st, call, attempt, parser.get());
    take_response(ec, parser, st->opts.max_body_size, out);
    if (out.ec) {
        out.stale = out.reused && !parser.got_some();
        if (conn->dog->expired()) {
            out.deadline_hit = steady::now() >= deadline;
            out.stale = false;
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
        attempt_outcome out = co_await run_attempt(st, call, deadline, attempt_timeout, attempt);
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
    auto exec = asio::get_associated_executor(handler, state->ex_);
    // The operation's coroutine does one thing at a time, and the watchdog
    // and pool wake-ups synchronize themselves, so it needs no strand of its
    // own: only a cancellation, which may be emitted from any thread, must be
    // serialized with it.
    asio::any_io_executor run_on = state->ex_;
    if (slot.is_connected()) run_on = asio::make_strand(state->ex_);
    asio::co_spawn(
        std::move(run_on), run_operation<T>(std::move(state), std::move(call)),
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
    st->fixed_fields = "Host: " + st->ep.host_header + "\r\nAuthorization: " +
                       (has_prefix ? o.access_token : "Bearer " + o.access_token) + "\r\n";
    st->fixed_fields_masked = "Host: " + st->ep.host_header + "\r\nAuthorization: Bearer ***\r\n";
    st->token = has_prefix ? o.access_token.substr(bearer.size()) : o.access_token;
    st->user_agent_field = "User-Agent: polar-cpp/" POLAR_VERSION_STRING;
    if (!o.user_agent.empty()) st->user_agent_field += " " + o.user_agent;
    st->user_agent_field += "\r\n";
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
