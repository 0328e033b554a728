//
// polar-cpp: building blocks shared by every model: timestamps, metadata,
// forward-compatible enums.
//
#ifndef POLAR_MODELS_COMMON_HPP
#define POLAR_MODELS_COMMON_HPP

#include <polar/detail/config.hpp>
#include <polar/detail/datetime.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace polar {

// timestamp (std::chrono::sys_time<std::chrono::microseconds>) is defined in
// <polar/detail/datetime.hpp>.

/**
 * @brief Parses an ISO 8601 date-time with a UTC offset into a timestamp.
 *
 * @details Accepts what the API accepts: `2025-03-01T00:00:00Z`,
 * `2025-03-01T02:00:00+02:00`, fractions of up to 9 digits (truncated to
 * microseconds). Naive date-times (no offset) and impossible dates are
 * rejected. See detail::parse_timestamp for the exact grammar.
 *
 * @returns true and sets `out` on success, false otherwise. Never throws.
 */
inline bool parse_timestamp(std::string_view text, timestamp& out) noexcept {
    return detail::parse_timestamp(text, out);
}

/// As above; empty when `text` is not a valid date-time with offset.
inline std::optional<timestamp> parse_timestamp(std::string_view text) noexcept {
    timestamp t;
    if (detail::parse_timestamp(text, t)) return t;
    return std::nullopt;
}

/**
 * @brief Formats a timestamp as the server does: UTC, `Z` suffix, six
 * fraction digits only when the microseconds are non-zero.
 *
 * @details `2025-03-25T15:51:07.123456Z`, `2025-03-01T00:00:00Z`.
 */
inline std::string format_timestamp(timestamp t) { return detail::format_timestamp(t); }

/**
 * @brief A metadata value: a string, an integer, a boolean or a
 * floating-point number.
 *
 * @details The alternatives keep their indices across versions (double was
 * appended): 0 string, 1 integer, 2 boolean, 3 double.
 *
 * Decoding: a JSON number written without fraction or exponent that fits in
 * int64 becomes an integer; any other number (`1.5`, `1e3`, `2.0`, an
 * integer beyond int64) becomes a double. Numbers too large for a double
 * (`1e999`) are rejected.
 *
 * Encoding: a double is written in its shortest form that parses back to the
 * same value, always with a fraction or exponent (`2.0`, `0.1`, `1e+300`) so
 * it decodes as a double again. NaN and infinities have no JSON form:
 * encoding them fails with errc::invalid_argument naming the key.
 *
 * The 2025-03 API accepts only strings, integers and booleans; the dated API
 * (2026-04 and later) accepts floats in meter, customer and event metadata.
 * Filter clause values never accept floats (see filter_value).
 */
using metadata_value = std::variant<std::string, std::int64_t, bool, double>;

/**
 * @brief Key-value metadata attached to meters, events and customers.
 *
 * @details Input rules (checked by the server, not by the SDK): at most 50
 * keys of 1-40 characters; string values of 1-500 characters.
 */
using metadata = std::map<std::string, metadata_value>;

/**
 * @brief A forward-compatible enumeration value.
 *
 * @details The API may add enumerators at any time. Decoding never fails on
 * an unrecognised string: the value becomes `E::unknown` and the string the
 * server sent is kept in raw(), so it survives a decode/encode round trip.
 * Known values keep raw() empty (no allocation).
 *
 * `open_enum<E>` converts implicitly from `E`, compares with `E` and with
 * other open_enums (two unknowns are equal when their raw strings are), and
 * wire() gives the string sent on the wire in every case.
 *
 * `E` must provide `unknown` and an overload `to_string(E)` returning the
 * wire string (empty for `unknown`); detail::enum_traits<E> lists the values.
 */
template <class E>
class open_enum {
public:
    using enum_type = E;

    /// Holds `E{}` (the first enumerator).
    open_enum() = default;

    /// Holds a known value.
    open_enum(E v) noexcept : value_(v) {}

    /// Maps a wire string to its enumerator, or to `E::unknown` keeping `wire`.
    static open_enum from_wire(std::string_view wire);

    /// The enumerator; `E::unknown` when the wire string was not recognised.
    E value() const noexcept { return value_; }

    /// True when the wire string was not recognised.
    bool is_unknown() const noexcept { return value_ == E::unknown; }

    /// The unrecognised wire string (empty for known values).
    const std::string& raw() const noexcept { return raw_; }

    /// The string on the wire: to_string(value()) or raw() when unknown.
    std::string_view wire() const noexcept {
        return value_ == E::unknown ? std::string_view(raw_) : to_string(value_);
    }

    friend bool operator==(const open_enum& a, const open_enum& b) noexcept {
        return a.value_ == b.value_ && a.raw_ == b.raw_;
    }
    friend bool operator==(const open_enum& a, E b) noexcept { return a.value_ == b; }

private:
    E value_{};
    std::string raw_;
};

namespace detail {

/// Wire names of an enumeration, indexed by enumerator value (specialised per enum).
template <class E>
struct enum_traits;

/// Looks `wire` up among E's names; false when unknown.
template <class E>
bool enum_from_wire(std::string_view wire, E& out) noexcept {
    const auto& names = enum_traits<E>::names;
    for (std::size_t i = 0; i < std::size(names); ++i) {
        if (names[i] == wire) {
            out = static_cast<E>(i);
            return true;
        }
    }
    return false;
}

template <class E>
constexpr std::string_view enum_to_wire(E v) noexcept {
    const auto& names = enum_traits<E>::names;
    const auto i = static_cast<std::size_t>(v);
    return i < std::size(names) ? names[i] : std::string_view();
}

// Characters are not scalars: `'a'` is neither an integer nor a string here.
template <class T>
concept character_type =
    std::is_same_v<T, char> || std::is_same_v<T, wchar_t> || std::is_same_v<T, char8_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

// What filter clauses accept as a value (filter_value): strings and anything
// convertible to std::string_view, integers (not characters) and bool.
template <class T>
concept filter_scalar_like =
    std::is_same_v<std::remove_cvref_t<T>, std::variant<std::string, std::int64_t, bool>> ||
    std::is_same_v<std::remove_cvref_t<T>, bool> ||
    (std::is_integral_v<std::remove_cvref_t<T>> && !character_type<std::remove_cvref_t<T>>) ||
    (std::is_convertible_v<T, std::string_view> && !std::is_same_v<std::remove_cvref_t<T>, std::nullptr_t>);

// What builder functions accept as a metadata_value: the above, metadata_value
// itself and floating-point numbers.
template <class T>
concept scalar_like = filter_scalar_like<T> || std::is_same_v<std::remove_cvref_t<T>, metadata_value> ||
                      std::is_floating_point_v<std::remove_cvref_t<T>>;

template <scalar_like T>
metadata_value make_scalar(T&& v) {
    using D = std::remove_cvref_t<T>;
    if constexpr (std::is_same_v<D, metadata_value>)
        return std::forward<T>(v);
    else if constexpr (std::is_same_v<D, std::variant<std::string, std::int64_t, bool>>)
        return std::visit([](auto&& x) { return metadata_value(std::forward<decltype(x)>(x)); }, std::forward<T>(v));
    else if constexpr (std::is_same_v<D, bool>)
        return metadata_value(std::in_place_index<2>, v);
    else if constexpr (std::is_floating_point_v<D>)
        return metadata_value(std::in_place_index<3>, static_cast<double>(v));
    else if constexpr (std::is_integral_v<D>)
        return metadata_value(std::in_place_index<1>, static_cast<std::int64_t>(v));
    else if constexpr (std::is_same_v<D, std::string>)
        return metadata_value(std::in_place_index<0>, std::forward<T>(v));
    else
        return metadata_value(std::in_place_index<0>, std::string(std::string_view(v)));
}

} // namespace detail

template <class E>
open_enum<E> open_enum<E>::from_wire(std::string_view wire) {
    open_enum r;
    if (!detail::enum_from_wire(wire, r.value_)) {
        r.value_ = E::unknown;
        r.raw_.assign(wire.data(), wire.size());
    }
    return r;
}

/// Makes a metadata_value from a string, an integer, a bool or a floating-point number.
template <detail::scalar_like T>
metadata_value make_metadata_value(T&& v) {
    return detail::make_scalar(std::forward<T>(v));
}

} // namespace polar

#endif
