//
// polar-cpp: pool_stats, the figures of a client's connection pool and rate
// limiter (see client::stats()).
//
#ifndef POLAR_POOL_STATS_HPP
#define POLAR_POOL_STATS_HPP

#include <polar/detail/config.hpp>

#include <chrono>
#include <cstddef>

namespace polar {

/// A snapshot of the connection pool and the rate limiter, for monitoring and tests.
struct pool_stats {
    std::size_t open = 0;          ///< connections open or being opened
    std::size_t idle = 0;          ///< open and waiting for a request
    std::size_t waiting = 0;       ///< operations waiting for a connection
    std::size_t created = 0;       ///< connections opened since start
    std::size_t reused = 0;        ///< requests served on an already used connection
    std::size_t retries = 0;       ///< retries made since start
    /// Requests that waited for the rate limiter (its rate or a 429 pause).
    std::size_t rate_limit_delayed = 0;
    /// Total time requests spent waiting for it.
    std::chrono::microseconds rate_limit_waited{0};
    /// 429 responses received.
    std::size_t responses_429 = 0;
    /// Times a 429's Retry-After paused every request of the client.
    std::size_t rate_limit_pauses = 0;
};

} // namespace polar

#endif
