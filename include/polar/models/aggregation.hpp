//
// polar-cpp: meter aggregations (CountAggregation | PropertyAggregation |
// UniqueAggregation).
//
#ifndef POLAR_MODELS_AGGREGATION_HPP
#define POLAR_MODELS_AGGREGATION_HPP

#include <polar/models/common.hpp>
#include <polar/models/enums.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace polar {

/**
 * @brief How a meter turns matching events into a quantity.
 *
 * @details Either `{"func": "count"}` or `{"func": "sum"|"max"|"min"|"avg"|"unique",
 * "property": "<metadata key>"}`. Build one with the factories:
 * `aggregation::count()`, `aggregation::sum("tokens")`, ...
 * `unique` exists in the dated API only (2026-04 and later); a 2025-03
 * server rejects it with 422.
 *
 * An aggregation decoded from a newer server with a `func` this SDK does not
 * know has func() == aggregation_function::unknown; func_name() is the raw
 * tag and property() the `property` string if the server sent one, so it is
 * re-encoded unchanged.
 *
 * Lifetimes: an owning value type with constructors (not an aggregate), safe
 * as a temporary inside `co_await` expressions.
 */
class aggregation {
public:
    /// `count`.
    aggregation() = default;

    /**
     * @brief A `func` with a property.
     *
     * @details `func` may be an unknown tag (open_enum<aggregation_function>::from_wire).
     * The property of `count` is dropped: the API ignores it.
     */
    aggregation(open_enum<aggregation_function> func, std::string property)
        : func_(std::move(func)), property_(std::move(property)) {
        if (func_ == aggregation_function::count) property_.clear();
    }

    /// `{"func":"count"}`: the number of matching events.
    static aggregation count() { return aggregation(); }
    /// `{"func":"sum","property":...}`: the sum of a numeric metadata property.
    static aggregation sum(std::string property) { return {aggregation_function::sum, std::move(property)}; }
    /// `{"func":"max","property":...}`.
    static aggregation max(std::string property) { return {aggregation_function::max, std::move(property)}; }
    /// `{"func":"min","property":...}`.
    static aggregation min(std::string property) { return {aggregation_function::min, std::move(property)}; }
    /// `{"func":"avg","property":...}`: the arithmetic mean.
    static aggregation avg(std::string property) { return {aggregation_function::avg, std::move(property)}; }
    /// `{"func":"unique","property":...}`: the number of distinct values (dated API only).
    static aggregation unique(std::string property) { return {aggregation_function::unique, std::move(property)}; }

    /// The function; `unknown` for a tag this SDK does not know.
    aggregation_function func() const noexcept { return func_.value(); }
    /// The function with the raw tag of an unknown function.
    const open_enum<aggregation_function>& func_enum() const noexcept { return func_; }
    /// The `func` tag as on the wire (the raw tag when unknown).
    std::string_view func_name() const noexcept { return func_.wire(); }
    /// True for a `func` this SDK does not know.
    bool is_unknown() const noexcept { return func_.is_unknown(); }
    /// True for sum/max/min/avg/unique (the functions that require a property).
    bool is_property_aggregation() const noexcept {
        return func_.value() != aggregation_function::count && func_.value() != aggregation_function::unknown;
    }
    /// The aggregated metadata key; empty for `count`.
    const std::string& property() const noexcept { return property_; }

    friend bool operator==(const aggregation&, const aggregation&) = default;

private:
    open_enum<aggregation_function> func_;
    std::string property_;
};

} // namespace polar

#endif
