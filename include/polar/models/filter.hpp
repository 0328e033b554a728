//
// polar-cpp: meter filters (Filter, FilterClause).
//
#ifndef POLAR_MODELS_FILTER_HPP
#define POLAR_MODELS_FILTER_HPP

#include <polar/models/common.hpp>
#include <polar/models/enums.hpp>

#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace polar {

/**
 * @brief The value of a filter clause: a string, an integer or a boolean.
 *
 * @details Its own type, not metadata_value: the API rejects floating-point
 * clause values in every version (a non-integral number gives 422), so
 * filter_value has no double alternative and clauses do not compile with
 * floating-point values. The dated API also caps strings at 1000 characters
 * and integers to the int32 range (checked by the server).
 */
using filter_value = std::variant<std::string, std::int64_t, bool>;

namespace detail {

template <filter_scalar_like T>
filter_value make_filter_scalar(T&& v) {
    using D = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<D, filter_value>)
        return std::forward<T>(v);
    else if constexpr (std::is_same_v<D, bool>)
        return filter_value(std::in_place_index<2>, v);
    else if constexpr (std::is_integral_v<D>)
        return filter_value(std::in_place_index<1>, static_cast<std::int64_t>(v));
    else if constexpr (std::is_same_v<D, std::string>)
        return filter_value(std::in_place_index<0>, std::forward<T>(v));
    else
        return filter_value(std::in_place_index<0>, std::string(std::string_view(v)));
}

} // namespace detail

/**
 * @brief One comparison of a filter (FilterClause):
 * `{"property": ..., "operator": ..., "value": ...}`.
 *
 * @details `property` names an event column (`name`, `source`,
 * `external_customer_id`, ...) or, otherwise, a key of the event's metadata.
 * See MeterAPI §5.1 for how the server compares values of each JSON type.
 *
 * Lifetimes: an owning value type. It has constructors (it is not an
 * aggregate) so temporaries are safe inside `co_await` expressions with g++ 12.
 */
class filter_clause {
public:
    std::string property;           ///< event column or metadata key
    open_enum<filter_operator> op;  ///< `operator` on the wire
    filter_value value;             ///< string, integer or boolean

    /// `{"", eq, ""}`.
    filter_clause() = default;

    /**
     * @brief A clause comparing `property` with `value` using `op`.
     *
     * @details `value` may be anything convertible to std::string_view, an
     * integer (not a character) or a bool. Floating-point values do not
     * compile: the API rejects them.
     */
    template <detail::filter_scalar_like V>
    filter_clause(std::string property, open_enum<filter_operator> op, V&& value)
        : property(std::move(property)), op(std::move(op)), value(detail::make_filter_scalar(std::forward<V>(value))) {}

    friend bool operator==(const filter_clause&, const filter_clause&) = default;
};

/// Builds a filter_clause: `polar::clause("name", polar::filter_operator::eq, "llm.call")`.
template <detail::filter_scalar_like V>
filter_clause clause(std::string property, open_enum<filter_operator> op, V&& value) {
    return filter_clause(std::move(property), std::move(op), std::forward<V>(value));
}

class filter_node;

/**
 * @brief A filter (Filter): a conjunction over clauses and nested filters.
 *
 * @details A filter with no clauses matches every event, whatever the
 * conjunction. Nesting is unlimited on the server; decoding accepts up to
 * detail::max_filter_depth levels.
 *
 * Build filters with the factories, which take any mix of filter_clause
 * and filter:
 * @code
 * auto f = polar::filter::all(
 *     polar::clause("name", polar::filter_operator::eq, "llm.call"),
 *     polar::filter::any(polar::clause("model", polar::filter_operator::eq, "lite"),
 *                        polar::clause("model", polar::filter_operator::eq, "pro")));
 * @endcode
 * The variadic form needs no braces, so it also works directly inside a
 * `co_await` expression. The `std::initializer_list` form
 * (`filter::all({a, b})`) is fine in ordinary code, but g++ 12 cannot compile
 * a braced list inside a `co_await` expression: build such values in a named
 * local first.
 *
 * Lifetimes: an owning value type with constructors (not an aggregate), so
 * temporaries are safe in `co_await` expressions with g++ 12 (aggregate
 * temporaries with non-trivial destructors are destroyed twice there).
 */
class filter {
public:
    open_enum<filter_conjunction> conjunction; ///< `and` / `or`
    std::vector<filter_node> clauses;          ///< clauses and nested filters, in order

    /// An `and` filter without clauses (matches every event).
    filter() = default;
    /// A filter with the given conjunction and no clauses.
    explicit filter(open_enum<filter_conjunction> conjunction) noexcept;
    /// A filter with the given conjunction and clauses.
    filter(open_enum<filter_conjunction> conjunction, std::vector<filter_node> clauses) noexcept;

    /// An `and` filter over `nodes` (filter_clause or filter values).
    template <class... Nodes>
        requires(std::is_convertible_v<Nodes, filter_node> && ...)
    static filter all(Nodes&&... nodes);
    /// An `or` filter over `nodes` (filter_clause or filter values).
    template <class... Nodes>
        requires(std::is_convertible_v<Nodes, filter_node> && ...)
    static filter any(Nodes&&... nodes);
    /// An `and` filter over a braced list (not inside `co_await`, see above).
    static filter all(std::initializer_list<filter_node> nodes);
    /// An `or` filter over a braced list (not inside `co_await`, see above).
    static filter any(std::initializer_list<filter_node> nodes);
    /// An `and` filter over a vector of nodes.
    static filter all(std::vector<filter_node> nodes) noexcept;
    /// An `or` filter over a vector of nodes.
    static filter any(std::vector<filter_node> nodes) noexcept;

    /// Appends a clause or nested filter; chainable on lvalues and temporaries.
    filter& add(filter_node node) &;
    filter&& add(filter_node node) &&;

    /// True when there are no clauses (the filter matches every event).
    bool empty() const noexcept { return clauses.empty(); }

    friend bool operator==(const filter& a, const filter& b);
};

/**
 * @brief One element of Filter.clauses: a filter_clause or a nested filter.
 *
 * @details Converts implicitly from both. Inspect it with is_clause() /
 * as_clause(), is_filter() / as_filter(), or std::visit on `value`.
 */
class filter_node {
public:
    std::variant<filter_clause, filter> value; ///< the clause or nested filter

    /// An empty clause.
    filter_node() = default;
    filter_node(filter_clause c) noexcept : value(std::in_place_index<0>, std::move(c)) {}
    filter_node(filter f) noexcept : value(std::in_place_index<1>, std::move(f)) {}

    bool is_clause() const noexcept { return value.index() == 0; }
    bool is_filter() const noexcept { return value.index() == 1; }
    /// The clause; throws std::bad_variant_access when this is a filter.
    const filter_clause& as_clause() const { return std::get<0>(value); }
    filter_clause& as_clause() { return std::get<0>(value); }
    /// The nested filter; throws std::bad_variant_access when this is a clause.
    const filter& as_filter() const { return std::get<1>(value); }
    filter& as_filter() { return std::get<1>(value); }

    friend bool operator==(const filter_node& a, const filter_node& b) { return a.value == b.value; }
};

// filter's members that need filter_node complete.

inline filter::filter(open_enum<filter_conjunction> c) noexcept : conjunction(std::move(c)) {}

inline filter::filter(open_enum<filter_conjunction> c, std::vector<filter_node> nodes) noexcept
    : conjunction(std::move(c)), clauses(std::move(nodes)) {}

template <class... Nodes>
    requires(std::is_convertible_v<Nodes, filter_node> && ...)
filter filter::all(Nodes&&... nodes) {
    std::vector<filter_node> v;
    v.reserve(sizeof...(Nodes));
    (v.emplace_back(std::forward<Nodes>(nodes)), ...);
    return filter(filter_conjunction::and_, std::move(v));
}

template <class... Nodes>
    requires(std::is_convertible_v<Nodes, filter_node> && ...)
filter filter::any(Nodes&&... nodes) {
    std::vector<filter_node> v;
    v.reserve(sizeof...(Nodes));
    (v.emplace_back(std::forward<Nodes>(nodes)), ...);
    return filter(filter_conjunction::or_, std::move(v));
}

inline filter filter::all(std::initializer_list<filter_node> nodes) {
    return filter(filter_conjunction::and_, std::vector<filter_node>(nodes));
}

inline filter filter::any(std::initializer_list<filter_node> nodes) {
    return filter(filter_conjunction::or_, std::vector<filter_node>(nodes));
}

inline filter filter::all(std::vector<filter_node> nodes) noexcept {
    return filter(filter_conjunction::and_, std::move(nodes));
}

inline filter filter::any(std::vector<filter_node> nodes) noexcept {
    return filter(filter_conjunction::or_, std::move(nodes));
}

inline filter& filter::add(filter_node node) & {
    clauses.push_back(std::move(node));
    return *this;
}

inline filter&& filter::add(filter_node node) && {
    clauses.push_back(std::move(node));
    return std::move(*this);
}

inline bool operator==(const filter& a, const filter& b) {
    return a.conjunction == b.conjunction && a.clauses == b.clauses;
}

} // namespace polar

#endif
