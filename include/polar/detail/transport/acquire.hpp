//
// polar-cpp: acquiring a connection from the pool (internal).
//
#ifndef POLAR_DETAIL_TRANSPORT_ACQUIRE_HPP
#define POLAR_DETAIL_TRANSPORT_ACQUIRE_HPP

#include <polar/detail/transport/connection.hpp>
#include <polar/detail/transport/open_connection.hpp>
#include <polar/detail/transport/pool.hpp>
#include <polar/detail/transport/watchdog.hpp>
#include <polar/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace polar::detail {

/// What acquire() gives: a connection, or why there is none.
struct acquired {
    error_code ec;
    std::string message;
    std::unique_ptr<connection> conn;
    bool reused = false;
};

// Gets a connection from the pool: an idle one that is still usable, a new
// one while under max_connections, or else waits for one to be released.
inline asio::awaitable<acquired> acquire(std::shared_ptr<connection_pool> st, steady::time_point deadline) {
    // A cancellation is seen through cancellation_state and error codes, so
    // that the slot reserved above is always given back: never as a throw.
    co_await asio::this_coro::throw_if_cancelled(false);
    auto ex = co_await asio::this_coro::executor;
    const auto wait_limit = earliest(deadline, after(st->settings.pool_wait_timeout));
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
        out.conn = st->take_idle_locked(stale, true);
        if (!out.conn) {
            if (st->total < st->settings.max_connections) {
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
                              std::to_string(st->settings.max_connections) + " in use)";
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

} // namespace polar::detail

#endif
