//
// polar-cpp: many quantities queries at once, with bounded concurrency.
//
#ifndef POLAR_FAN_OUT_HPP
#define POLAR_FAN_OUT_HPP

#include <polar/detail/call.hpp>
#include <polar/detail/config.hpp>
#include <polar/error.hpp>
#include <polar/meters.hpp>
#include <polar/models.hpp>
#include <polar/with_diagnostics.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polar {

/**
 * @brief One query of `meters().quantities_many()`: a meter and the
 * parameters of `meters().quantities()`.
 *
 * @details A view, copied when the operation starts (so an array of them may
 * be a temporary of the initiating expression).
 */
struct quantities_request {
    std::string_view meter_id;
    meter_quantities_params params;
};

/// The outcome of one query of `quantities_many()`.
struct quantities_result {
    /// Empty on success; else this query's own error (`operation_aborted` if
    /// it was cancelled or never started because the whole operation stopped).
    error_code ec;
    /// The quantities (empty on failure).
    meter_quantities value;
    /// The query's diagnostics (status, Polar error, attempts, ...).
    diagnostics diag;

    bool ok() const noexcept { return !ec; }
};

/**
 * @brief Options of `meters().quantities_many()`. Scalars and views only, so it
 * can be written inline.
 */
struct fan_out_options {
    /// Queries in flight at most (at least 1). Keep it at or below
    /// `client_options::max_connections`, or queries wait for connections
    /// (under the pool's wait limit).
    std::size_t max_concurrency = 8;
    /// Stop at the first failed query: cancel those in flight, start no more,
    /// and complete the whole operation with that query's error. When false,
    /// each query reports its own error and the others go on.
    bool fail_fast = false;
    /// Options applied to every query (timeouts, headers, retry policy).
    /// `diag` is not used: each result carries its own diagnostics.
    request_options request{};
};

namespace detail {

/// Everything `quantities_many` needs, owned (built at initiation).
struct fan_out_call {
    std::vector<http_call> calls;
    std::size_t max_concurrency = 1;
    bool fail_fast = false;
    error_code precheck;
    std::string precheck_message;
    std::shared_ptr<diagnostics> diagnostics_sink;
};

POLAR_DECL fan_out_call make_quantities_many_call(std::span<const quantities_request> requests,
                                                  const fan_out_options& opts);

POLAR_DECL void async_quantities_many(
    std::shared_ptr<client_state> state, fan_out_call call,
    boost::asio::any_completion_handler<void(error_code, std::vector<quantities_result>)> handler);

struct fan_out_initiation {
    using value_type = std::vector<quantities_result>;
    std::shared_ptr<client_state> state;

    template <class Handler>
    void operator()(Handler&& handler, fan_out_call call) && {
        async_quantities_many(
            std::move(state), std::move(call),
            boost::asio::any_completion_handler<void(error_code, std::vector<quantities_result>)>(
                std::forward<Handler>(handler)));
    }
};

} // namespace detail

/**
 * @brief Runs many `quantities()` queries, at most `opts.max_concurrency` at
 * a time, and completes with their results in input order.
 *
 * @details Completion signature `void(error_code, std::vector<quantities_result>)`.
 * Each result holds its value or its own error and diagnostics; one failure
 * does not affect the others unless `opts.fail_fast`. Queries start in input
 * order; each uses the client's pool and retry policy like a single
 * `quantities()` call.
 * @code
 * std::vector<polar::quantities_request> reqs = ...;
 * auto results = co_await client.meters().quantities_many(reqs, {.max_concurrency = 4});
 * @endcode
 *
 * Errors: the operation itself fails only with `errc::invalid_argument`
 * (`max_concurrency` 0), with the first query's error when `fail_fast`, or
 * with `operation_aborted` when cancelled. The vector is complete in every
 * case (queries that never ran report `operation_aborted`), but the default
 * token throws on failure and drops it: use `asio::as_tuple` to keep it.
 *
 * Cancellation: honours the handler's cancellation slot (terminal, partial and
 * total): the queries in flight are cancelled, the others never start and
 * report `operation_aborted`, and the operation completes with
 * `operation_aborted`.
 *
 * Executor: queries run on a strand of the client's executor (safe when its
 * io_context runs on several threads); the handler runs on its associated
 * executor, else the client's.
 *
 * Lifetimes: `requests` and the views inside are copied before this returns.
 */
template <class CompletionToken>
auto meters_service::quantities_many(std::span<const quantities_request> requests, const fan_out_options& opts,
                                     CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(error_code, std::vector<quantities_result>)>(
        detail::fan_out_initiation{state_}, token, detail::make_quantities_many_call(requests, opts));
}

template <detail::not_fan_out_options CompletionToken>
auto meters_service::quantities_many(std::span<const quantities_request> requests, CompletionToken&& token) {
    return quantities_many(requests, fan_out_options{}, std::forward<CompletionToken>(token));
}

} // namespace polar

#endif
