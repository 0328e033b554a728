//
// polar-cpp: the retry policy.
//
#ifndef POLAR_RETRY_HPP
#define POLAR_RETRY_HPP

#include <polar/detail/config.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace polar {

/// How a backoff delay is randomised.
enum class jitter {
    none,  ///< exactly the exponential delay
    full,  ///< uniform in [0, delay] (the default: spreads retries of a fan-out best)
    equal, ///< delay/2 + uniform in [0, delay/2]
};

/**
 * @brief Which failures are retried, how often and how long to wait.
 *
 * @details A value type. Set it on `client_options::retry` for every call and
 * override it per call with `request_options::retry`. Each operation works on
 * its own copy, so one policy object can serve any number of concurrent calls.
 *
 * Delay before retry n (n = 0, 1, ...): `min(max_delay, initial_delay *
 * multiplier^n)`, randomised by `jitter`. When the server sends `Retry-After`
 * (seconds or HTTP-date) and `honor_retry_after` is set, the wait is the
 * larger of that value and the backoff, capped by `max_retry_after`; a
 * `Retry-After` above that cap stops retrying instead.
 *
 * Retrying stops at the first of: `max_attempts` attempts made, the next wait
 * would end after `max_elapsed` since the first attempt (or after the
 * operation's deadline), the failure is not retryable, or the client's retry
 * budget is spent (see `client_options::retry_budget`). The final error's
 * diagnostics say how many attempts were made and why retrying stopped.
 *
 * Idempotency: GET and PATCH requests are always safe to retry, and so is an
 * ingest on a dated API version in which every event has an `external_id`
 * (the server drops the duplicates; see events_service::ingest and the ingest
 * batcher). Any other POST (`meters().create`, an ingest without external
 * ids) is retried only when the server said it did not act on it (408, 429,
 * 503) or the request certainly never left (e.g. connect failed): a 500, 502
 * or 504 may come after the server stored it, so such a call fails with that
 * status and diagnostics::retry_stop_reason says why it was not repeated.
 * `retry_non_idempotent(true)` opts in to retrying failures after which the
 * outcome is unknown.
 */
class retry_policy {
public:
    using duration = std::chrono::milliseconds;

    /// The default: 3 attempts, 250 ms initial delay doubling up to 10 s with
    /// full jitter, at most 60 s in all; retries connection errors, timeouts
    /// and statuses 408, 429, 500, 502, 503, 504; honours Retry-After up to 60 s.
    retry_policy() = default;

    /// Never retry.
    static retry_policy none() {
        retry_policy p;
        p.max_attempts_ = 1;
        return p;
    }

    /// The default policy (same as a default-constructed one).
    static retry_policy standard() { return retry_policy{}; }

    /**
     * @brief The Python SDK's `RetryConfig("backoff", BackoffStrategy(...),
     * retry_connection_errors)`, for users coming from it.
     *
     * @details Arguments are in milliseconds like `BackoffStrategy`'s. Like the
     * Python SDK there is no attempt cap (only the elapsed-time cap) and
     * statuses 429, 500, 502, 503 and 504 are retried for every operation.
     * Unlike it, the delay uses equal jitter around the exponential value and
     * Retry-After is honoured (as the TypeScript SDK does).
     */
    static retry_policy backoff_strategy(long initial_interval_ms, long max_interval_ms, double exponent,
                                         long max_elapsed_time_ms, bool retry_connection_errors) {
        retry_policy p;
        p.max_attempts_ = 0;
        p.initial_delay_ = duration(initial_interval_ms);
        p.max_delay_ = duration(max_interval_ms);
        p.multiplier_ = exponent;
        p.max_elapsed_ = duration(max_elapsed_time_ms);
        p.jitter_ = jitter::equal;
        p.retry_transport_errors_ = retry_connection_errors;
        p.retry_non_idempotent_ = true;
        p.set_statuses({429, 500, 502, 503, 504});
        return p;
    }

    // -- setters (fluent) ---------------------------------------------------
    /// Attempts in all, including the first; 0 means no cap (bounded by max_elapsed).
    retry_policy& max_attempts(int n) { max_attempts_ = n < 0 ? 0 : n; return *this; }
    retry_policy& initial_delay(duration d) { initial_delay_ = d; return *this; }
    retry_policy& max_delay(duration d) { max_delay_ = d; return *this; }
    retry_policy& multiplier(double m) { multiplier_ = m < 1.0 ? 1.0 : m; return *this; }
    retry_policy& jitter_mode(jitter j) { jitter_ = j; return *this; }
    /// Cap on the time from the first attempt to the start of the last one; 0 = none.
    retry_policy& max_elapsed(duration d) { max_elapsed_ = d; return *this; }
    /// Retry connection failures, resets and attempt timeouts.
    retry_policy& retry_transport_errors(bool b) { retry_transport_errors_ = b; return *this; }
    /// Also retry POSTs whose outcome is unknown (the request may have been processed).
    retry_policy& retry_non_idempotent(bool b) { retry_non_idempotent_ = b; return *this; }
    retry_policy& honor_retry_after(bool b) { honor_retry_after_ = b; return *this; }
    /// The longest Retry-After the client will wait; above it retrying stops.
    retry_policy& max_retry_after(duration d) { max_retry_after_ = d; return *this; }
    /// The HTTP statuses that are retried (at most 16).
    retry_policy& retry_statuses(std::initializer_list<int> statuses) { set_statuses(statuses); return *this; }

    // -- getters -------------------------------------------------------------
    int max_attempts() const noexcept { return max_attempts_; }
    duration initial_delay() const noexcept { return initial_delay_; }
    duration max_delay() const noexcept { return max_delay_; }
    double multiplier() const noexcept { return multiplier_; }
    jitter jitter_mode() const noexcept { return jitter_; }
    duration max_elapsed() const noexcept { return max_elapsed_; }
    bool retry_transport_errors() const noexcept { return retry_transport_errors_; }
    bool retry_non_idempotent() const noexcept { return retry_non_idempotent_; }
    bool honor_retry_after() const noexcept { return honor_retry_after_; }
    duration max_retry_after() const noexcept { return max_retry_after_; }

    /// Whether `status` is in the retried set.
    bool retryable_status(int status) const noexcept {
        return std::find(statuses_.begin(), statuses_.begin() + num_statuses_, status) !=
               statuses_.begin() + num_statuses_;
    }

    /**
     * @brief The backoff before retry number `retry_index` (0 for the first
     * retry), given a uniform random number `u` in [0, 1).
     */
    duration backoff(int retry_index, double u) const noexcept {
        double base = static_cast<double>(initial_delay_.count());
        for (int i = 0; i < retry_index && base < static_cast<double>(max_delay_.count()); ++i)
            base *= multiplier_;
        base = std::min(base, static_cast<double>(max_delay_.count()));
        double d = base;
        switch (jitter_) {
        case jitter::none: break;
        case jitter::full: d = base * u; break;
        case jitter::equal: d = base / 2 + base / 2 * u; break;
        }
        return duration(static_cast<duration::rep>(d));
    }

private:
    void set_statuses(std::initializer_list<int> statuses) {
        num_statuses_ = 0;
        for (int s : statuses) {
            if (num_statuses_ == statuses_.size()) break;
            statuses_[num_statuses_++] = s;
        }
    }

    int max_attempts_ = 3;
    duration initial_delay_{250};
    duration max_delay_{10'000};
    double multiplier_ = 2.0;
    jitter jitter_ = jitter::full;
    duration max_elapsed_{60'000};
    bool retry_transport_errors_ = true;
    bool retry_non_idempotent_ = false;
    bool honor_retry_after_ = true;
    duration max_retry_after_{60'000};
    std::array<int, 16> statuses_{408, 429, 500, 502, 503, 504};
    std::size_t num_statuses_ = 6;
};

/**
 * @brief A per-client token bucket that limits retries during outages.
 *
 * @details Every retry spends one token; every success gives back
 * `refill_per_success`. Retries are allowed only while more than half of
 * `capacity` remains, so a fan-out of hundreds of calls against a failing
 * server adds only a handful of retries instead of multiplying the load.
 * Set `capacity` to 0 to disable the budget.
 */
struct retry_budget {
    double capacity = 20.0;
    double refill_per_success = 0.2;
};

/**
 * @brief A request rate: at most `requests` requests in any interval of
 * length `window` (a value type).
 *
 * @details The client's limiter (`client_options::rate_limit`) and the
 * emulator's (`testing::emulator_options::rate_limit`) take one. Polar counts
 * per minute: 500 requests in production and 100 in the sandbox (API
 * 2026-10, per organization). `requests == 0` means no limit.
 * @code
 * auto sandbox = polar::rate_limit::per_minute(100);
 * auto tests = polar::rate_limit{.requests = 10, .window = std::chrono::seconds(1)};
 * @endcode
 */
struct rate_limit {
    /// Requests allowed in any window; 0 = unlimited.
    std::uint32_t requests = 0;
    /// The window they are counted over (when `requests` is not 0: positive
    /// and at most 366 days).
    std::chrono::milliseconds window{60'000};

    /// `n` requests per minute.
    static constexpr rate_limit per_minute(std::uint32_t n) noexcept { return {n, std::chrono::milliseconds(60'000)}; }
    /// `n` requests per second.
    static constexpr rate_limit per_second(std::uint32_t n) noexcept { return {n, std::chrono::milliseconds(1'000)}; }
    /// No limit.
    static constexpr rate_limit unlimited() noexcept { return {}; }
    /// Whether this limits anything.
    constexpr bool enabled() const noexcept { return requests > 0; }
};

} // namespace polar

#endif
