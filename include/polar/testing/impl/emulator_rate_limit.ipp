//
// polar-cpp testing: server_rate_limiter, and the emulator's rate limit
// middleware (emulator_options::rate_limit).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_RATE_LIMIT_IPP
#define POLAR_TESTING_IMPL_EMULATOR_RATE_LIMIT_IPP

#include <polar/testing/rate_limit.hpp>

#include <stdexcept>

namespace polar::testing {

POLAR_DECL server_rate_limiter::server_rate_limiter(polar::rate_limit limit) : limit_(limit) {
    // The bound keeps `start + window` within the clock's range.
    if (limit_.requests > 0 && (limit_.window.count() <= 0 || limit_.window > std::chrono::hours(24 * 366)))
        throw std::invalid_argument("polar emulator: rate_limit.window must be positive and at most 366 days");
}

POLAR_DECL std::chrono::seconds server_rate_limiter::admit(std::string_view identity, clock::time_point now) {
    if (!limit_.enabled()) {
        std::lock_guard lk(m_);
        ++admitted_;
        return std::chrono::seconds(0);
    }
    std::lock_guard lk(m_);
    // Expired windows are dropped now and then, so that a long run with
    // many identities does not keep them all.
    if (windows_.size() > 1024) {
        for (auto it = windows_.begin(); it != windows_.end();)
            it = now - it->second.start >= limit_.window ? windows_.erase(it) : std::next(it);
    }
    auto it = windows_.find(std::string(identity));
    if (it == windows_.end()) it = windows_.emplace(std::string(identity), window{now, 0}).first;
    window& w = it->second;
    if (now - w.start >= limit_.window) w = window{now, 0};
    if (w.count < limit_.requests) {
        ++w.count;
        ++admitted_;
        return std::chrono::seconds(0);
    }
    ++refused_;
    const auto left = w.start + limit_.window - now;
    auto secs = std::chrono::ceil<std::chrono::seconds>(left);
    return secs.count() < 1 ? std::chrono::seconds(1) : secs;
}

POLAR_DECL emulator_response server_rate_limiter::too_many_requests(std::chrono::seconds retry_after) {
    emulator_response r;
    r.status = 429;
    r.content_type.clear();
    r.headers.emplace_back("Retry-After", std::to_string(retry_after.count()));
    return r;
}

POLAR_DECL std::uint64_t server_rate_limiter::refused() const {
    std::lock_guard lk(m_);
    return refused_;
}

POLAR_DECL std::uint64_t server_rate_limiter::admitted() const {
    std::lock_guard lk(m_);
    return admitted_;
}

namespace emu {

// The emulator's rate limit middleware: Polar limits every /v1 path (and its
// /api/v1 alias), per identity. Returns the 429 to send, if any.
inline std::optional<emulator_response> check_rate_limit(server_rate_limiter* limiter, const emulator_state& state,
                                                         const emulator_request& r) {
    if (!limiter || !limiter->limit().enabled()) return std::nullopt;
    std::string_view path = r.target.substr(0, r.target.find('?'));
    if (path.substr(0, 4) == "/api") path.remove_prefix(4);
    if (path != "/v1" && path.substr(0, 4) != "/v1/") return std::nullopt;
    const auto wait = limiter->admit(state.rate_limit_identity(r.authorization));
    if (wait.count() == 0) return std::nullopt;
    return server_rate_limiter::too_many_requests(wait);
}

} // namespace emu
} // namespace polar::testing

#endif
