//
// polar-cpp: the connection pool, its waiters and its settings (internal).
//
#ifndef POLAR_DETAIL_TRANSPORT_POOL_HPP
#define POLAR_DETAIL_TRANSPORT_POOL_HPP

#include <polar/detail/http_util.hpp>
#include <polar/detail/transport/connection.hpp>
#include <polar/pool_stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

namespace polar::detail {

/**
 * An operation waiting for a connection. release() hands it a connection (or
 * a slot to open one) under connection_pool::mtx, then wakes it: wake() and the
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
    std::unique_ptr<connection> handed;  // a connection given to this waiter (under connection_pool::mtx)
    bool may_open = false;               // a slot to open a new connection (under connection_pool::mtx)
};

/// What the pool takes from client_options (which documents them).
struct pool_settings {
    std::size_t max_connections = 0;
    std::chrono::milliseconds connect_timeout{0};
    std::chrono::milliseconds pool_wait_timeout{0};
    std::chrono::milliseconds idle_timeout{0};
    bool verify_peer = true;
};

/**
 * The connections of one client to one server: idle ones, the count of all
 * (in use, idle and being opened), and the operations waiting for one. The
 * client's state derives from it and guards its own budget and counters
 * with the same mutex. acquire() (acquire.hpp) takes a connection from it or
 * opens one; release() gives it back.
 */
class connection_pool {
public:
    connection_pool(asio::any_io_executor ex, const pool_settings& s) : ex_(std::move(ex)), settings(s) {}

    asio::any_io_executor ex_;
    endpoint ep;
    std::shared_ptr<ssl::context> ssl_ctx; // null for plain HTTP
    pool_settings settings;

    std::mutex mtx;
    std::vector<std::unique_ptr<connection>> idle;
    std::deque<std::shared_ptr<pool_waiter>> waiters;
    std::size_t total = 0;
    bool shut_down = false;
    pool_stats counters; // the pool counts created and reused (under mtx)

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
                w = free_slot_locked();
            } else if (!waiters.empty()) {
                w = std::move(waiters.front());
                waiters.pop_front();
                w->handed = std::move(c);
            } else {
                c->last_used = steady::now();
                // An idle connection keeps no read buffer (its response was
                // read whole): the next request on it reserves one.
                c->buffer.clear();
                c->buffer.shrink_to_fit();
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
            w = free_slot_locked();
        }
        if (w) notify(w);
    }

    // A connection slot is free (under mtx): the first waiter, if any, takes
    // it to open a connection of its own; returns that waiter, to notify
    // outside the lock.
    std::shared_ptr<pool_waiter> free_slot_locked() {
        --total;
        if (waiters.empty() || shut_down) return nullptr;
        auto w = std::move(waiters.front());
        waiters.pop_front();
        w->may_open = true;
        ++total;
        return w;
    }

    // Closes the idle connections and wakes every waiter (each then sees
    // shut_down); connections in use are closed when given back.
    void close_all() {
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
    // `verify`: ask the socket whether the peer closed it, however briefly it
    // was idle (see usable()).
    std::unique_ptr<connection> take_idle_locked(std::vector<std::unique_ptr<connection>>& stale, bool verify) {
        const auto now = steady::now();
        while (!idle.empty()) {
            auto c = std::move(idle.back());
            idle.pop_back();
            if (usable(*c, now, verify)) {
                ++counters.reused;
                return c;
            }
            --total;
            stale.push_back(std::move(c));
        }
        return nullptr;
    }

    // The fast path of acquiring: an idle connection, without waiting.
    std::unique_ptr<connection> take_idle(bool verify) {
        std::vector<std::unique_ptr<connection>> stale;
        std::lock_guard lk(mtx);
        if (shut_down) return nullptr;
        return take_idle_locked(stale, verify);
    }

    /// Idle for less than this, a connection is reused without asking the
    /// socket whether the peer closed it, unless `verify` is set. Servers
    /// close idle keep-alive connections after seconds (5 s and more is
    /// usual); a close right after a response is found when the request
    /// fails before any response byte, and an idempotent request is then
    /// sent again at once (see operation::end_attempt).
    static constexpr auto recently_used = std::chrono::seconds(1);

    // An idle connection is reused only if it is young enough and the peer
    // has not closed it (a readable idle socket means EOF, a reset or stray
    // bytes: none of which leave it usable). Requests that must not be sent
    // on a dead connection (creates, whose outcome would be unknown) always
    // check; others skip the syscall when the connection was just used.
    bool usable(connection& c, steady::time_point now, bool verify) const {
        if (settings.idle_timeout.count() > 0 && now - c.last_used >= settings.idle_timeout) return false;
        auto& sock = c.lowest();
        if (!sock.is_open()) return false;
        if (!verify && now - c.last_used < recently_used) return true;
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

} // namespace polar::detail

#endif
