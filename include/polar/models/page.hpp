//
// polar-cpp: one page of a list (ListResource_Meter_, ListResource_Event_).
//
#ifndef POLAR_MODELS_PAGE_HPP
#define POLAR_MODELS_PAGE_HPP

#include <cstdint>
#include <vector>

namespace polar {

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
 * @tparam T meter or event.
 *
 * @details A response type (plain aggregate). Compare `items` and
 * `pagination` rather than whole pages: the client may attach request
 * context to pages.
 */
template <class T>
struct page {
    std::vector<T> items;           ///< the items of this page, in server order
    polar::pagination pagination;   ///< totals reported by the server
};

} // namespace polar

#endif
