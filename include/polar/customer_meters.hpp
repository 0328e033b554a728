//
// polar-cpp: customer meters, a customer's running consumption of one meter.
//
#ifndef POLAR_CUSTOMER_METERS_HPP
#define POLAR_CUSTOMER_METERS_HPP

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

namespace polar {

/**
 * @brief Parameters of `customer_meters().list()` (`GET /v1/customer-meters/`).
 *
 * @details A view (see list_meters_params), safe inline in `co_await`.
 * Without `meter_id` the rows of archived meters are left out; with it they
 * are included.
 */
struct list_customer_meters_params {
    /// Restrict to these organizations.
    std::span<const std::string_view> organization_id{};
    /// Rows of these customers (Polar customer UUIDs).
    std::span<const std::string_view> customer_id{};
    /// Matched against the customers' `external_id`.
    std::span<const std::string_view> external_customer_id{};
    /// Rows of these meters (archived ones included).
    std::span<const std::string_view> meter_id{};
    /// Page number, from 1.
    std::optional<std::int64_t> page{};
    /// Page size; the server clamps values above 100 to 100 (default 10).
    std::optional<std::int64_t> limit{};
    /// Sort keys, applied in order (server default: most recently modified first).
    std::span<const customer_meter_sort_property> sorting{};
};

namespace detail {
POLAR_DECL http_call make_list_customer_meters_call(const list_customer_meters_params& p, const request_options& o);
POLAR_DECL http_call make_get_customer_meter_call(std::string_view id, const request_options& o);
} // namespace detail

/**
 * @brief Customer meters: `client.customer_meters()` (dated API versions).
 *
 * @details One row per customer and meter: units consumed, units credited
 * and the balance. Polar keeps the rows up to date in the background, so
 * they lag ingestion. Needs the `customer_meters:read` scope. Conventions
 * (completion signature, errors, cancellation, executor, thread safety) are
 * those of `meters_service`.
 */
class customer_meters_service {
public:
    explicit customer_meters_service(std::shared_ptr<detail::client_state> state) noexcept
        : state_(std::move(state)) {}

    /// One page of customer meters.
    template <class CompletionToken = default_token>
    auto list(const list_customer_meters_params& params = {}, const request_options& opts = {},
              CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, page<customer_meter>)>(
            detail::op_initiation<page<customer_meter>>{state_}, token,
            detail::make_list_customer_meters_call(params, opts));
    }
    template <detail::not_options CompletionToken>
    auto list(const list_customer_meters_params& params, CompletionToken&& token) {
        return list(params, request_options{}, std::forward<CompletionToken>(token));
    }

    /// A customer meter by id (404 -> errc::not_found).
    template <class CompletionToken = default_token>
    auto get(std::string_view id, const request_options& opts = {}, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(error_code, customer_meter)>(
            detail::op_initiation<customer_meter>{state_}, token, detail::make_get_customer_meter_call(id, opts));
    }
    template <detail::not_options CompletionToken>
    auto get(std::string_view id, CompletionToken&& token) {
        return get(id, request_options{}, std::forward<CompletionToken>(token));
    }

    /// Every customer meter matching `params`, page by page. No I/O until `next()`.
    POLAR_DECL generator<page<customer_meter>> list_pages(const list_customer_meters_params& params = {},
                                                          const request_options& opts = {},
                                                          const generator_options& gen = {}) const;
    /// Every customer meter matching `params`, one by one.
    POLAR_DECL generator<customer_meter> list_items(const list_customer_meters_params& params = {},
                                                    const request_options& opts = {},
                                                    const generator_options& gen = {}) const;

private:
    std::shared_ptr<detail::client_state> state_;
};

} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/impl/customer_meters.ipp>
#endif

#endif
