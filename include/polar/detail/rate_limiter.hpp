//
// polar-cpp: the client's request rate limiter (internal).
//
#ifndef POLAR_DETAIL_RATE_LIMITER_HPP
#define POLAR_DETAIL_RATE_LIMITER_HPP

#include <polar/detail/config.hpp>
#include <polar/error.hpp>
#include <polar/retry.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>
#include <memory>
#include <mutex>

namespace polar::detail {

/**
 * The limiter every request of a client passes before it is sent.
 *
 * A sliding log: a request may start when fewer than `requests` started in
 * the last `window + margin`, which guarantees the server never sees more
 * than `requests` in any interval of `window`, whether it counts in fixed
 * windows (as Polar's limiter does) or sliding ones. The margin (window/32)
 * absorbs the difference between when the client lets a request go and when
 * the server counts it (a connection may have to be opened first). Requests
 * that find no token wait in FIFO order; one timer (on the client's executor)
 * hands tokens out as they come back. A 429 with Retry-After pauses every
 * request, limited or not, until then.
 *
 * Without a rate (requests == 0) and without a pause, acquiring is one atomic
 * load. Everything else is under `m_`; waiters are woken outside of it.
 */
class rate_limiter : public std::enable_shared_from_this<rate_limiter> {
public:
    using clock = std::chrono::steady_clock;

    /// One request waiting for a token. The limiter grants it (or shuts it
    /// out) under its mutex and then wakes it; the waiter's own timer bounds
    /// the wait by the operation's deadline, and a cancellation wakes it too.
    class waiter {
    public:
        explicit waiter(const boost::asio::any_io_executor& ex) : timer_(ex) {}

        /// Ends wait() now (or makes the next wait() complete at once).
        void wake() {
            std::lock_guard lk(m_);
            woken_ = true;
            timer_.cancel();
        }

        /// Waits until wake() or `limit`.
        template <class Token>
        auto wait(clock::time_point limit, Token&& token) {
            return boost::asio::async_initiate<Token, void(error_code)>(
                [this, limit](auto handler) {
                    std::lock_guard lk(m_);
                    if (woken_) {
                        auto ex = boost::asio::get_associated_executor(handler, timer_.get_executor());
                        boost::asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(error_code{}); });
                        return;
                    }
                    timer_.expires_at(limit);
                    timer_.async_wait(std::move(handler));
                },
                token);
        }

    private:
        friend class rate_limiter;
        std::mutex m_;
        boost::asio::steady_timer timer_;
        bool woken_ = false;            // under m_
        bool granted_ = false;          // under the limiter's mutex
        bool shut_ = false;             // under the limiter's mutex
        bool queued_ = false;           // under the limiter's mutex
        clock::time_point since_{};     // when it started waiting
    };

    /// What a request's wait ended with.
    enum class outcome { granted, shut_down, gave_up };

    /// Counters for client::stats().
    struct counters {
        std::size_t delayed = 0;
        std::chrono::microseconds waited{0};
        std::size_t throttled = 0;
        std::size_t pauses = 0;
    };

    /// The longest window and pause the limiter keeps (longer ones are cut
    /// to it; the client refuses longer windows).
    static constexpr std::chrono::hours max_window{24 * 366};

    /// `limit` may be disabled: then only 429 pauses apply. `max_pause`
    /// bounds a pause (the retry policy's max_retry_after).
    rate_limiter(boost::asio::any_io_executor ex, polar::rate_limit limit, std::chrono::milliseconds max_pause);

    /// Takes a token if one is free now and nobody waits for one.
    bool try_acquire();

    /// Queues a waiter whose operation runs on `ex`. It may be granted
    /// before the caller waits: wait() then completes at once.
    std::shared_ptr<waiter> enqueue(const boost::asio::any_io_executor& ex);

    /// After the waiter's wait() completed: granted, shut out, or (deadline
    /// or cancellation) not granted, in which case it leaves the queue.
    outcome settle(const std::shared_ptr<waiter>& w);

    /// A 429 arrived; `retry_after` (if the server sent one) pauses every
    /// request until then.
    void throttled(std::optional<std::chrono::seconds> retry_after);

    /// Wakes every waiter (they complete with client_shut_down) and lets
    /// later requests through (the pool then refuses them).
    void shutdown();

    counters stats() const;

    const polar::rate_limit& limit() const noexcept { return limit_; }

private:
    // Hands out what can be handed out now; returns who to wake. Re-arms
    // or stops the timer.
    void grant_locked(clock::time_point now, std::vector<std::shared_ptr<waiter>>& wake);
    bool free_locked(clock::time_point now);
    void on_timer(std::uint64_t gen, error_code ec);
    static void wake_all(std::vector<std::shared_ptr<waiter>>& wake) {
        for (auto& w : wake) w->wake();
    }

    const polar::rate_limit limit_;
    const clock::duration span_;      // window + margin
    const clock::duration max_pause_;
    // A copy of paused_until_ for the lock-free fast path (nanoseconds since
    // the clock's epoch; 0 when never paused).
    std::atomic<std::int64_t> paused_until_ns_{0};

    mutable std::mutex m_;
    boost::asio::steady_timer timer_;
    std::uint64_t gen_ = 0;
    bool armed_ = false;
    bool shut_ = false;
    clock::time_point paused_until_{};
    std::deque<clock::time_point> log_;   // starts within the last span_
    std::deque<std::shared_ptr<waiter>> queue_;
    counters counters_;
};

} // namespace polar::detail

#include <polar/impl/rate_limiter.ipp>

#endif
