//
// polar-cpp: the Meters resource.
//
#ifndef POLAR_METERS_HPP
#define POLAR_METERS_HPP

#include <polar/detail/call.hpp>
#include <polar/detail/config.hpp>
#include <polar/generator.hpp>
#include <polar/models.hpp>
#include <polar/with_diagnostics.hpp>

#include <boost/asio/async_result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace polar {

/**
 * @brief Parameters of `meters().list()` (`GET /v1/meters/`).
 *
 * @details A view: strings and spans must outlive the call's initiation only
 * (they are copied when the operation starts), so writing it inline is safe:
 * `co_await client.meters().list({.query = "api", .limit = 100})`.
 */
struct list_meters_params {
    /// Restrict to these organizations (sent as repeated `organization_id`).
    std::span<const std::string_view> organization_id{};
    /// Case-insensitive substring of the meter name.
    std::optional<std::string_view> query{};
    /// Page number, from 1 (server default 1).
    std::optional<std::int64_t> page{};
    /// Page size; the server clamps values above 100 to 100 (default 10).
    std::optional<std::int64_t> limit{};
    /// Sort keys, applied in order (server default: name ascending).
    std::span<const meter_sort_property> sorting{};
    /// `metadata[key]=value` conditions.
    std::span<const metadata_filter> metadata{};
    /// Dated versions: `true` only archived meters, `false` only active
    /// ones; unset: both (archived meters are listed by default).
    std::optional<bool> is_archived{};
};

/// Parameters of `meters().events()`: `GET /v1/events/?meter_id={id}` on the
/// dated API versions, `GET /v1/meters/{id}/events` on api_version::v2025_03.
struct meter_events_params {
    std::optional<std::int64_t> page{};
    std::optional<std::int64_t> limit{};
};

namespace detail {
/**
 * @brief A parameter the caller must give: it has no default constructor,
 * so leaving it out of a designated initializer does not compile.
 *
 * @details Converts from anything `T` converts from, and back to `T`.
 * Trivially destructible when `T` is (safe inline in `co_await`).
 */
template <class T>
class required {
public:
    template <class U>
        requires std::is_convertible_v<U, T>
    constexpr required(U&& v) noexcept(std::is_nothrow_convertible_v<U, T>) : value_(std::forward<U>(v)) {}
    constexpr operator T() const noexcept { return value_; }
    constexpr const T& value() const noexcept { return value_; }

private:
    T value_;
};
} // namespace detail

/**
 * @brief Parameters of `meters().quantities()` (`GET /v1/meters/{id}/quantities`).
 *
 * @details `start_timestamp`, `end_timestamp` and `interval` are required:
 * a designated initializer without them does not compile.
 *
 * The server builds points from `start_timestamp` (not aligned) every
 * `interval` up to and including `end_timestamp`; each point covers the
 * calendar unit (in `timezone`, UTC by default) that contains it. The range
 * is limited per interval (hour: 7 days, day: 366, week: 371 on the dated
 * versions and 365 on 2025-03, month: 1460, year: 3650); beyond it, or with
 * the end before the start (dated versions), the server answers 422.
 *
 * `timezone`, `customer_aggregation_function` and `metadata` are parameters
 * of the dated versions (2026-04, 2026-10).
 */
struct meter_quantities_params {
    detail::required<timestamp> start_timestamp;
    detail::required<timestamp> end_timestamp;
    detail::required<time_interval> interval;
    /// Only events of these customers (or with their external ids). On the
    /// dated versions `customer_id` and `external_customer_id` are a union.
    std::span<const std::string_view> customer_id{};
    /// Only events of these external customer ids (or of customers with them).
    std::span<const std::string_view> external_customer_id{};
    /// IANA time zone the buckets are cut in, e.g. "Europe/Paris" (server default UTC).
    std::optional<std::string_view> timezone{};
    /// Aggregate per customer first, then combine the customers' values in
    /// each bucket with this function (e.g. `max`: the largest single
    /// customer; `count`: customers with events).
    std::optional<aggregation_function> customer_aggregation_function{};
    /// `metadata[key]=value` conditions on top-level event metadata.
    std::span<const metadata_filter> metadata{};
};

/**
 * @brief Changes for `meters().update()`, as a view for inline use:
 * `co_await client.meters().update(id, {.name = "new"})`.
 *
 * @details Unset members are not sent. Pointed-to objects are copied when the
 * operation starts. For explicit `null`s use the owning `meter_update`.
 */
struct update_meter_params {
    std::optional<std::string_view> name{};
    const polar::filter* filter = nullptr;
    const polar::aggregation* aggregation = nullptr;
    const polar::metadata* metadata = nullptr;
    /// Dated versions: the display unit. The server does no cross-field
    /// check on update (a `custom` unit without a label is accepted).
    std::optional<meter_unit> unit{};
    /// Dated versions: the label of a `custom` unit. To clear it (send
    /// `null`) use the owning `meter_update`.
    std::optional<std::string_view> custom_label{};
    /// Dated versions: the display scale of a `custom` unit (> 0). To clear
    /// it use the owning `meter_update`.
    std::optional<std::int64_t> custom_multiplier{};
    /// Dated versions: `true` archives (re-stamping `archived_at` if already
    /// archived), `false` unarchives. Archiving fails with 422 while the
    /// meter is attached to active products or benefits.
    std::optional<bool> is_archived{};
};

namespace detail {
POLAR_DECL http_call make_list_meters_call(const list_meters_params& p, const request_options& o);
POLAR_DECL http_call make_get_meter_call(std::string_view id, const request_options& o);
POLAR_DECL http_call make_create_meter_call(const meter_create& body, const request_options& o);
POLAR_DECL http_call make_update_meter_call(std::string_view id, const meter_update& body, const request_options& o);
POLAR_DECL http_call make_update_meter_call(std::string_view id, const update_meter_params& p, const request_options& o);
POLAR_DECL http_call make_meter_events_call(std::string_view id, const meter_events_params& p, const request_options& o,
                                            api_version version);
POLAR_DECL http_call make_meter_quantities_call(std::string_view id, const meter_quantities_params& p,
                                                const request_options& o);

} // namespace detail

// Fan-out of quantities: defined in <polar/fan_out.hpp> (included at the end).
struct quantities_request;
struct quantities_result;
struct fan_out_options;
namespace detail {
template <class Token>
concept not_fan_out_options = !std::is_convertible_v<Token, const fan_out_options&>;
}

/**
 * @brief The Meters resource: `client.meters()`.
 *
 * @details Every operation is an Asio asynchronous operation with completion
 * signature `void(polar::error_code, T)`. The default token returns an
 * awaitable that throws `api_error` (or a subclass) on failure; pass
 * `asio::as_tuple(asio::deferred)`, `asio::use_future`, a callback or any
 * other token for other styles.
 *
 * Errors: `errc::not_found` (404), `errc::validation_failed` (422, details in
 * diagnostics::validation_errors), `errc::unauthorized` / `errc::forbidden`,
 * `errc::rate_limited`, `errc::server_error`, `errc::unexpected_response`,
 * `errc::invalid_response`, `errc::timeout`, `errc::invalid_argument`, and
 * transport errors (Asio / SSL codes).
 *
 * Cancellation: every operation honours its handler's cancellation slot.
 * Terminal and partial cancellation are always supported; total cancellation
 * for reads (GET, PATCH), and for a create or an ingest while nothing of it
 * was sent: while it waits for the client's rate limit or for its first
 * connection. A request cancelled mid-flight closes its connection.
 * Cancelled operations complete with `asio::error::operation_aborted`.
 *
 * Executor: the request runs on the client's executor. When the handler has
 * a cancellation slot it runs on the handler's strand if the handler's
 * associated executor is one (emit the cancellation on that strand), else on
 * a strand of its own, so that a cancellation emitted from another thread is
 * serialized with it. The handler runs on its associated executor, else the
 * client's.
 *
 * Thread safety: safe to call concurrently from any thread.
 */
class meters_service {
public:
    explicit meters_service(std::shared_ptr<detail::client_state> state) noexcept : state_(std::move(state)) {}

    /// List meters: one page (`page<meter>`; `co_await page.next()` for the following one).
    template <class CompletionToken = default_token>
    auto list(const list_meters_params& params = {}, const request_options& opts = {},
              CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, page<meter>)>(
            detail::op_initiation<page<meter>>{state_}, token, detail::make_list_meters_call(params, opts));
    }
    template <detail::not_options CompletionToken>
    auto list(const list_meters_params& params, CompletionToken&& token) {
        return list(params, request_options{}, std::forward<CompletionToken>(token));
    }

    /// Get a meter by id (`404` -> errc::not_found; malformed or non-v4 id -> 422).
    template <class CompletionToken = default_token>
    auto get(std::string_view id, const request_options& opts = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, meter)>(
            detail::op_initiation<meter>{state_}, token, detail::make_get_meter_call(id, opts));
    }
    template <detail::not_options CompletionToken>
    auto get(std::string_view id, CompletionToken&& token) {
        return get(id, request_options{}, std::forward<CompletionToken>(token));
    }

    /**
     * @brief Create a meter (`POST /v1/meters/`, answers 201).
     *
     * @details Not idempotent: if the connection fails after the request may
     * have reached the server, the operation fails with `errc::outcome_unknown`
     * rather than risk a duplicate meter (unless the retry policy opts in).
     */
    template <class CompletionToken = default_token>
    auto create(const meter_create& body, const request_options& opts = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, meter)>(
            detail::op_initiation<meter>{state_}, token, detail::make_create_meter_call(body, opts));
    }
    template <detail::not_options CompletionToken>
    auto create(const meter_create& body, CompletionToken&& token) {
        return create(body, request_options{}, std::forward<CompletionToken>(token));
    }

    /**
     * @brief Update a meter (`PATCH /v1/meters/{id}`). Only the fields given
     * are sent; `metadata` replaces the whole map.
     *
     * @details Once a meter aggregates events, a body containing `filter` or
     * `aggregation` is rejected with 422 (`type` "forbidden").
     */
    template <class CompletionToken = default_token>
    auto update(std::string_view id, const update_meter_params& changes, const request_options& opts = {},
                CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, meter)>(
            detail::op_initiation<meter>{state_}, token, detail::make_update_meter_call(id, changes, opts));
    }
    template <detail::not_options CompletionToken>
    auto update(std::string_view id, const update_meter_params& changes, CompletionToken&& token) {
        return update(id, changes, request_options{}, std::forward<CompletionToken>(token));
    }
    /**
     * @brief Update with an owning body (supports explicit nulls).
     *
     * @details A template on the body type, so that `update(id, {})` (an
     * empty braced list, which could build either body) picks the view
     * overload above: it sends `{}`, which changes nothing and answers the
     * meter as it is.
     */
    template <class Body, class CompletionToken = default_token>
        requires std::is_same_v<std::remove_cvref_t<Body>, meter_update>
    auto update(std::string_view id, Body&& body, const request_options& opts = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, meter)>(
            detail::op_initiation<meter>{state_}, token, detail::make_update_meter_call(id, body, opts));
    }
    template <class Body, detail::not_options CompletionToken>
        requires std::is_same_v<std::remove_cvref_t<Body>, meter_update>
    auto update(std::string_view id, Body&& body, CompletionToken&& token) {
        return update(id, body, request_options{}, std::forward<CompletionToken>(token));
    }

    /**
     * @brief Events matching the meter, newest first: one page.
     *
     * @details On the dated versions (2026-04, 2026-10) served by the events
     * list, `GET /v1/events/?meter_id={id}` (the meter's own route was
     * removed): an unknown meter is then a 422 `meter_id` error rather than
     * a 404, a page past the end reports `total_count` 0, and for property
     * aggregations only events whose property is numeric are listed. On
     * api_version::v2025_03: `GET /v1/meters/{id}/events`.
     */
    template <class CompletionToken = default_token>
    auto events(std::string_view id, const meter_events_params& params = {}, const request_options& opts = {},
                CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, page<event>)>(
            detail::op_initiation<page<event>>{state_}, token,
            detail::make_meter_events_call(id, params, opts, detail::effective_api_version(state_.get(), opts)));
    }
    template <detail::not_options CompletionToken>
    auto events(std::string_view id, const meter_events_params& params, CompletionToken&& token) {
        return events(id, params, request_options{}, std::forward<CompletionToken>(token));
    }

    /// The meter's quantities as a time series.
    template <class CompletionToken = default_token>
    auto quantities(std::string_view id, const meter_quantities_params& params, const request_options& opts = {},
                    CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, meter_quantities)>(
            detail::op_initiation<meter_quantities>{state_}, token,
            detail::make_meter_quantities_call(id, params, opts));
    }
    template <detail::not_options CompletionToken>
    auto quantities(std::string_view id, const meter_quantities_params& params, CompletionToken&& token) {
        return quantities(id, params, request_options{}, std::forward<CompletionToken>(token));
    }

    // -- streaming and fan-out (<polar/generator.hpp>, <polar/fan_out.hpp>) -------

    /// All meters matching `params`, page by page, from `params.page` (default 1). No I/O until `next()`.
    POLAR_DECL generator<page<meter>> list_pages(const list_meters_params& params = {},
                                                 const request_options& opts = {},
                                                 const generator_options& gen = {}) const;
    /// All meters matching `params`, one by one (pages fetched on demand).
    POLAR_DECL generator<meter> list_items(const list_meters_params& params = {}, const request_options& opts = {},
                                           const generator_options& gen = {}) const;
    /// The meter's events, newest first, page by page.
    POLAR_DECL generator<page<event>> events_pages(std::string_view id, const meter_events_params& params = {},
                                                   const request_options& opts = {},
                                                   const generator_options& gen = {}) const;
    /// The meter's events, newest first, one by one.
    POLAR_DECL generator<event> events_items(std::string_view id, const meter_events_params& params = {},
                                             const request_options& opts = {},
                                             const generator_options& gen = {}) const;

    /// Many quantities queries at once, at most `opts.max_concurrency` in flight
    /// (see <polar/fan_out.hpp>). Completes with the results in input order.
    template <class CompletionToken = default_token>
    auto quantities_many(std::span<const quantities_request> requests, const fan_out_options& opts,
                         CompletionToken&& token = {});
    template <detail::not_fan_out_options CompletionToken = default_token>
    auto quantities_many(std::span<const quantities_request> requests, CompletionToken&& token = {});

private:
    std::shared_ptr<detail::client_state> state_;
};

namespace detail {
/// The call for page `number` of the listing `req` came from; `skip` when there is none.
POLAR_DECL http_call make_next_page_call(const page_request* req, std::int64_t number, std::int64_t max_page);
} // namespace detail

template <class T>
template <class CompletionToken>
auto page<T>::next(CompletionToken&& token) const {
    return boost::asio::async_initiate<CompletionToken, void(error_code, std::optional<page<T>>)>(
        detail::op_initiation<std::optional<page<T>>>{request_ ? request_->state : nullptr}, token,
        detail::make_next_page_call(request_.get(), number + 1, pagination.max_page));
}

} // namespace polar

#include <polar/fan_out.hpp>

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/meters.ipp>
#endif

#endif
