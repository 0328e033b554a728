//
// polar-cpp: the client's state (internal).
//
#ifndef POLAR_DETAIL_OPERATIONS_CLIENT_STATE_HPP
#define POLAR_DETAIL_OPERATIONS_CLIENT_STATE_HPP

#include <polar/client.hpp>
#include <polar/detail/rate_limiter.hpp>
#include <polar/detail/transport/pool.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace polar::detail {

namespace asio = boost::asio;

/**
 * What every copy of a client shares: its connection pool (transport/pool.hpp)
 * and what is the client's own: options, the header fields every request
 * carries, the rate limiter, the retry budget. `mtx` (the pool's) guards the
 * budget and `counters` too.
 */
class client_state : public connection_pool {
public:
    client_state(asio::any_io_executor ex, client_options o)
        : connection_pool(std::move(ex), pool_settings_of(o)), completion_ex(ex_), opts(std::move(o)) {}

    asio::any_completion_executor completion_ex; // ex_, as handlers' associated executors are compared
    client_options opts;
    std::string fixed_fields;      // "Host: ...\r\nAuthorization: Bearer ...\r\n" (a fixed token)
    std::string host_field;        // "Host: ...\r\n" (a token per attempt is appended)
    std::string user_agent_field;  // "User-Agent: polar-cpp/x.y.z ...\r\n"
    std::string fixed_fields_masked; // fixed_fields with "Authorization: Bearer ***"
    std::string token;             // the bare token, to mask it in traces
    std::shared_ptr<rate_limiter> limiter; // every attempt passes it
    double budget_tokens = 0;
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

    // Closes the pool, then stops the rate limiter's waits.
    void shutdown() {
        close_all();
        if (limiter) limiter->shutdown();
    }

private:
    static pool_settings pool_settings_of(const client_options& o) {
        pool_settings s;
        s.max_connections = o.max_connections;
        s.connect_timeout = o.connect_timeout;
        s.pool_wait_timeout = o.pool_wait_timeout;
        s.idle_timeout = o.idle_timeout;
        s.verify_peer = o.verify_peer;
        return s;
    }
};

} // namespace polar::detail

#endif
