#ifndef POLAR_IMPL_RATE_LIMITER_IPP
#define POLAR_IMPL_RATE_LIMITER_IPP

#include <polar/detail/rate_limiter.hpp>

#include <algorithm>

namespace polar::detail {

// Both durations are clamped before they become the clock's nanoseconds, which
// hold about 292 years: a policy may say max_retry_after(milliseconds::max())
// for "no cap".
inline rate_limiter::rate_limiter(boost::asio::any_io_executor ex, polar::rate_limit limit,
                                  std::chrono::milliseconds max_pause)
    : limit_(limit),
      span_(std::min<std::chrono::milliseconds>(limit.window, max_window) +
            std::min<std::chrono::milliseconds>(limit.window, max_window) / 32),
      max_pause_(std::clamp(max_pause, std::chrono::milliseconds(0), std::chrono::milliseconds(max_window))),
      timer_(std::move(ex)) {}

inline bool rate_limiter::try_acquire() {
    if (!limit_.enabled()) {
        const auto until = paused_until_ns_.load(std::memory_order_acquire);
        if (until == 0 || clock::now().time_since_epoch().count() >= until) return true;
    }
    std::lock_guard lk(m_);
    if (shut_) return true;
    const auto now = clock::now();
    if (!queue_.empty() || !free_locked(now)) return false;
    if (limit_.enabled()) log_.push_back(now);
    return true;
}

// Under m_: whether a request may start now (pause over, log not full).
inline bool rate_limiter::free_locked(clock::time_point now) {
    if (now < paused_until_) return false;
    if (!limit_.enabled()) return true;
    while (!log_.empty() && log_.front() + span_ <= now) log_.pop_front();
    return log_.size() < limit_.requests;
}

inline std::shared_ptr<rate_limiter::waiter> rate_limiter::enqueue(const boost::asio::any_io_executor& ex) {
    auto w = std::make_shared<waiter>(ex);
    std::vector<std::shared_ptr<waiter>> wake;
    {
        std::lock_guard lk(m_);
        w->since_ = clock::now();
        ++counters_.delayed;
        if (shut_) {
            w->shut_ = true;
            wake.push_back(w);
        } else {
            w->queued_ = true;
            queue_.push_back(w);
            grant_locked(w->since_, wake);
        }
    }
    wake_all(wake);
    return w;
}

inline void rate_limiter::grant_locked(clock::time_point now, std::vector<std::shared_ptr<waiter>>& wake) {
    while (!queue_.empty() && free_locked(now)) {
        auto w = std::move(queue_.front());
        queue_.pop_front();
        w->queued_ = false;
        w->granted_ = true;
        if (limit_.enabled()) log_.push_back(now);
        counters_.waited += std::chrono::duration_cast<std::chrono::microseconds>(now - w->since_);
        wake.push_back(std::move(w));
    }
    if (queue_.empty()) {
        // Nothing to wait for: a pending timer would keep run() busy.
        if (armed_) {
            ++gen_;
            timer_.cancel();
            armed_ = false;
        }
        return;
    }
    // The first moment the head of the queue may go: the end of the pause,
    // or when the oldest start leaves the window.
    auto at = paused_until_;
    if (limit_.enabled() && log_.size() >= limit_.requests) at = std::max(at, log_.front() + span_);
    const auto gen = ++gen_;
    timer_.expires_at(at);
    armed_ = true;
    timer_.async_wait([weak = weak_from_this(), gen](error_code ec) {
        if (auto self = weak.lock()) self->on_timer(gen, ec);
    });
}

inline void rate_limiter::on_timer(std::uint64_t gen, error_code ec) {
    std::vector<std::shared_ptr<waiter>> wake;
    {
        std::lock_guard lk(m_);
        if (ec || gen != gen_) return;
        armed_ = false;
        grant_locked(clock::now(), wake);
    }
    wake_all(wake);
}

inline rate_limiter::outcome rate_limiter::settle(const std::shared_ptr<waiter>& w) {
    std::vector<std::shared_ptr<waiter>> wake;
    outcome out;
    {
        std::lock_guard lk(m_);
        if (w->granted_) return outcome::granted;
        if (w->shut_) return outcome::shut_down;
        if (w->queued_) {
            auto it = std::find(queue_.begin(), queue_.end(), w);
            if (it != queue_.end()) queue_.erase(it);
            w->queued_ = false;
        }
        const auto now = clock::now();
        counters_.waited += std::chrono::duration_cast<std::chrono::microseconds>(now - w->since_);
        // It may have been the head: the next one may go now, or the timer
        // is no longer needed.
        grant_locked(now, wake);
        out = outcome::gave_up;
    }
    wake_all(wake);
    return out;
}

inline void rate_limiter::throttled(std::optional<std::chrono::seconds> retry_after) {
    std::lock_guard lk(m_);
    ++counters_.throttled;
    if (!retry_after || retry_after->count() <= 0 || shut_) return;
    // Compared in seconds: a Retry-After date centuries away (up to about
    // 2.5e11 s) overflows the clock's nanoseconds.
    const auto pause = *retry_after >= std::chrono::ceil<std::chrono::seconds>(max_pause_)
                           ? max_pause_
                           : std::min<clock::duration>(*retry_after, max_pause_);
    const auto until = clock::now() + pause;
    if (until <= paused_until_) return;
    paused_until_ = until;
    paused_until_ns_.store(until.time_since_epoch().count(), std::memory_order_release);
    ++counters_.pauses;
    // Waiters now wait for the end of the pause.
    if (!queue_.empty()) {
        std::vector<std::shared_ptr<waiter>> none;
        grant_locked(clock::now(), none);
    }
}

inline void rate_limiter::shutdown() {
    std::deque<std::shared_ptr<waiter>> woken;
    {
        std::lock_guard lk(m_);
        shut_ = true;
        woken.swap(queue_);
        for (auto& w : woken) {
            w->queued_ = false;
            w->shut_ = true;
        }
        if (armed_) {
            ++gen_;
            timer_.cancel();
            armed_ = false;
        }
        paused_until_ = clock::time_point{};
        paused_until_ns_.store(0, std::memory_order_release);
    }
    for (auto& w : woken) w->wake();
}

inline rate_limiter::counters rate_limiter::stats() const {
    std::lock_guard lk(m_);
    return counters_;
}

} // namespace polar::detail

#endif
