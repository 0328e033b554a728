//
// polar-cpp: one page of a list (ListResource_Meter_, ListResource_Event_,
// ListResource_CustomerMeter_).
//
#ifndef POLAR_MODELS_PAGE_HPP
#define POLAR_MODELS_PAGE_HPP

#include <polar/with_diagnostics.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace polar {

namespace detail {
struct page_request;
}

/**
 * @brief The `pagination` object of a list response.
 *
 * @details `max_page` is `ceil(total_count / limit)`, so 0 when there are no
 * results. A page past the end reports 0 for both (MeterAPI §2.2).
 */
struct pagination {
    std::int64_t total_count = 0;
    std::int64_t max_page = 0;

    friend bool operator==(const pagination&, const pagination&) = default;
};

/**
 * @brief One page of a list: the items and the pagination envelope.
 *
 * @tparam T meter, event or customer_meter.
 *
 * @details A response type (plain aggregate). Compare `items` and
 * `pagination` rather than whole pages: the client may attach request
 * context to pages.
 */
template <class T>
struct page {
    std::vector<T> items;           ///< the items of this page, in server order
    polar::pagination pagination;   ///< totals reported by the server
    std::int64_t number = 1;        ///< the page number that was requested
    std::int64_t limit = 10;        ///< the page size that was requested (the server clamps it to 100)

    /// True when the server reports pages after this one (`number < max_page`).
    bool has_next() const noexcept { return number < pagination.max_page; }

    /**
     * @brief Fetches the following page with the same parameters and request
     * options. Completes with `std::nullopt` (without any I/O) on the last page.
     *
     * @details Completion signature `void(error_code, std::optional<page<T>>)`.
     * Like the Python SDK's `next()`, but it stops on `max_page` only: an
     * empty or short page does not end the iteration early. Only pages
     * returned by the client can be continued; calling it on another page
     * throws `api_error` (`errc::invalid_argument`). Defined in <polar/meters.hpp>.
     */
    template <class CompletionToken = default_token>
    auto next(CompletionToken&& token = {}) const;

    /// The request that produced this page (set by the client).
    std::shared_ptr<const detail::page_request> request_;
};

} // namespace polar

#endif
