//
// polar-cpp testing: the server side of Polar's rate limit, as the emulator
// enforces it (emulator_options::rate_limit).
//
#ifndef POLAR_TESTING_RATE_LIMIT_HPP
#define POLAR_TESTING_RATE_LIMIT_HPP

#include <polar/detail/config.hpp>
#include <polar/retry.hpp>
#include <polar/testing/emulator_state.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace polar::testing {

/**
 * @brief Polar's rate limiter as seen from the server: counts requests per
 * identity in fixed windows and says when one must be refused with 429.
 *
 * @details As Polar's limiter (API 2026-10, MeterAPI-2026-10.md section 6),
 * an identity's window opens with its first request and lasts
 * `limit.window`; the first `limit.requests` requests in it are admitted,
 * later ones are refused (and not counted) until it ends. A refused request
 * gets `Retry-After` = the seconds left in the window, rounded up (at least
 * 1). The emulator uses one when `emulator_options::rate_limit` is set; a
 * custom `emulator_options::handler` can use one too.
 *
 * Thread safety: every member function may be called concurrently.
 */
class server_rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    /// A disabled `limit` (requests == 0) admits everything.
    /// Errors: throws `std::invalid_argument` when `limit.requests > 0` and
    /// the window is not positive or longer than 366 days.
    POLAR_DECL explicit server_rate_limiter(polar::rate_limit limit);

    /// Counts a request of `identity` at `now`: 0 when admitted, else the
    /// Retry-After to answer with.
    POLAR_DECL std::chrono::seconds admit(std::string_view identity, clock::time_point now = clock::now());

    /// The 429 Polar answers: `Retry-After: <seconds>`, an empty body and no
    /// content type (a `Polar-Version` header is added by the version
    /// middleware, as on every response).
    POLAR_DECL static emulator_response too_many_requests(std::chrono::seconds retry_after);

    /// Requests refused so far.
    POLAR_DECL std::uint64_t refused() const;
    /// Requests admitted so far.
    POLAR_DECL std::uint64_t admitted() const;
    const polar::rate_limit& limit() const noexcept { return limit_; }

private:
    struct window {
        clock::time_point start;
        std::uint32_t count = 0;
    };
    polar::rate_limit limit_;
    mutable std::mutex m_;
    std::unordered_map<std::string, window> windows_;
    std::uint64_t refused_ = 0;
    std::uint64_t admitted_ = 0;
};

} // namespace polar::testing

#ifdef POLAR_HEADER_ONLY
#include <polar/testing/impl/emulator_rate_limit.ipp>
#endif

#endif
