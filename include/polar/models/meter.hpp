//
// polar-cpp: meters (Meter) and the bodies that create and update them
// (MeterCreate, MeterUpdate).
//
#ifndef POLAR_MODELS_METER_HPP
#define POLAR_MODELS_METER_HPP

#include <polar/models/aggregation.hpp>
#include <polar/models/common.hpp>
#include <polar/models/enums.hpp>
#include <polar/models/filter.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace polar {

/**
 * @brief A meter as the server returns it (Meter).
 *
 * @details A response type: a plain aggregate, filled by the SDK. If you
 * build one yourself (tests, fakes) inside a coroutine, do it in a named
 * local rather than as a braced temporary in a `co_await` expression (g++ 12
 * destroys such aggregate temporaries twice).
 *
 * `unit`, `custom_label`, `custom_multiplier` and `archived_at` come from the
 * dated API (2026-04 and later). A 2025-03 server sends none of them: they
 * then decode as `scalar` and empty. Absent and `null` decode alike.
 */
struct meter {
    std::string id;                        ///< UUID
    timestamp created_at{};                ///< creation time
    std::optional<timestamp> modified_at;  ///< last modification; empty until the first update
    polar::metadata metadata;              ///< user metadata
    std::string name;                      ///< shown on invoices
    polar::filter filter;                  ///< which events count
    polar::aggregation aggregation;        ///< how they are aggregated
    std::string organization_id;           ///< owning organization (UUID)
    open_enum<meter_unit> unit;            ///< `scalar` (default), `token` or `custom`
    std::optional<std::string> custom_label;        ///< the unit's label when `unit` is `custom`
    std::optional<std::int64_t> custom_multiplier;  ///< display scale, e.g. 1000 for "per 1000"
    std::optional<timestamp> archived_at;           ///< set while the meter is archived

    /// True when the meter is archived (`archived_at` is set).
    bool is_archived() const noexcept { return archived_at.has_value(); }

    friend bool operator==(const meter&, const meter&) = default;
};

/**
 * @brief A field of an update body with three states: absent (the key is
 * not sent), null (`"key": null` is sent) or a value.
 *
 * @details The Meters API distinguishes them: `filter: null` and
 * `aggregation: null` leave the meter unchanged, but the update lock
 * (MeterAPI §3.4) rejects a body that contains the key at all, even as null.
 */
template <class T>
class update_field {
public:
    /// Absent.
    update_field() = default;
    /// Holds a value.
    update_field(T v) noexcept(std::is_nothrow_move_constructible_v<T>) : value_(std::move(v)) {}
    /// Null.
    update_field(std::nullptr_t) noexcept : null_(true) {}

    bool is_absent() const noexcept { return !null_ && !value_; }
    bool is_null() const noexcept { return null_; }
    bool has_value() const noexcept { return value_.has_value(); }

    /// The value; throws std::bad_optional_access when absent or null.
    const T& value() const { return value_.value(); }
    T& value() { return value_.value(); }
    /// The value, or nullptr when absent or null.
    const T* get() const noexcept { return value_ ? &*value_ : nullptr; }

    void set(T v) {
        value_ = std::move(v);
        null_ = false;
    }
    void set_null() noexcept {
        value_.reset();
        null_ = true;
    }
    void reset() noexcept {
        value_.reset();
        null_ = false;
    }

    friend bool operator==(const update_field&, const update_field&) = default;

private:
    std::optional<T> value_;
    bool null_ = false;
};

/**
 * @brief The body of a meter creation (MeterCreate).
 *
 * @details `name` (at least 3 characters), `filter` and `aggregation` are
 * required and given to the constructor. `metadata`, `organization_id`,
 * `unit`, `custom_label` and `custom_multiplier` are sent only when set, so
 * a body that sets none of the last three is a valid 2025-03 body.
 * The unit fields need the dated API (2026-04 and later): `custom_label` is
 * required when `unit` is `custom` and refused otherwise; `custom_multiplier`
 * must be positive. `organization_id` must be left unset with an
 * organization token and is required with a user token (MeterAPI §3.2).
 * @code
 * auto body = polar::meter_create(
 *     "API tokens",
 *     polar::filter::all(polar::clause("name", polar::filter_operator::eq, "llm.call")),
 *     polar::aggregation::sum("tokens"));
 * body.set_metadata(md);
 * @endcode
 *
 * Lifetimes: an owning value type with constructors (not an aggregate), so
 * temporaries are safe inside `co_await` expressions with g++ 12. Setters
 * chain on lvalues and on temporaries (moving the temporary along).
 */
class meter_create {
public:
    std::string name;                          ///< required, at least 3 characters
    polar::filter filter;                      ///< required
    polar::aggregation aggregation;            ///< required
    std::optional<polar::metadata> metadata;   ///< sent when set (the server defaults to {})
    std::optional<std::string> organization_id;///< sent when set
    std::optional<open_enum<meter_unit>> unit;  ///< sent when set (the server defaults to `scalar`)
    std::optional<std::string> custom_label;    ///< sent when set
    std::optional<std::int64_t> custom_multiplier; ///< sent when set

    /// Empty name, empty `and` filter, `count`.
    meter_create() = default;
    meter_create(std::string name, polar::filter filter, polar::aggregation aggregation) noexcept
        : name(std::move(name)), filter(std::move(filter)), aggregation(std::move(aggregation)) {}

    meter_create& set_name(std::string v) & { name = std::move(v); return *this; }
    meter_create&& set_name(std::string v) && { name = std::move(v); return std::move(*this); }
    meter_create& set_filter(polar::filter v) & { filter = std::move(v); return *this; }
    meter_create&& set_filter(polar::filter v) && { filter = std::move(v); return std::move(*this); }
    meter_create& set_aggregation(polar::aggregation v) & { aggregation = std::move(v); return *this; }
    meter_create&& set_aggregation(polar::aggregation v) && { aggregation = std::move(v); return std::move(*this); }
    meter_create& set_metadata(polar::metadata v) & { metadata = std::move(v); return *this; }
    meter_create&& set_metadata(polar::metadata v) && { metadata = std::move(v); return std::move(*this); }
    meter_create& set_organization_id(std::string v) & { organization_id = std::move(v); return *this; }
    meter_create&& set_organization_id(std::string v) && { organization_id = std::move(v); return std::move(*this); }
    meter_create& set_unit(open_enum<meter_unit> v) & { unit = std::move(v); return *this; }
    meter_create&& set_unit(open_enum<meter_unit> v) && { unit = std::move(v); return std::move(*this); }
    meter_create& set_custom_label(std::string v) & { custom_label = std::move(v); return *this; }
    meter_create&& set_custom_label(std::string v) && { custom_label = std::move(v); return std::move(*this); }
    meter_create& set_custom_multiplier(std::int64_t v) & { custom_multiplier = v; return *this; }
    meter_create&& set_custom_multiplier(std::int64_t v) && { custom_multiplier = v; return std::move(*this); }

    friend bool operator==(const meter_create&, const meter_create&) = default;
};

/**
 * @brief The body of a meter update (MeterUpdate): only the fields you set
 * are sent.
 *
 * @details An empty body is valid and changes nothing.
 * - `name`: at least 3 characters.
 * - `filter`, `aggregation`: replace the meter's; set_filter(nullptr) /
 *   set_aggregation(nullptr) send an explicit `null`, which the server treats
 *   as "unchanged" but which still trips the update lock (§3.4): once a meter
 *   is aggregating events, any body containing either key gets a 422.
 * - `metadata`: replaces the whole map.
 * - `unit`, `custom_label`, `custom_multiplier` (dated API): set as given,
 *   explicit `null` included (set_unit(nullptr), ...); the server does no
 *   cross-field check on update.
 * - `is_archived` (dated API): `true` archives the meter (re-stamping
 *   `archived_at`), `false` unarchives it.
 *
 * Lifetimes: an owning value type with constructors (not an aggregate), safe
 * as a temporary inside `co_await` expressions with g++ 12.
 */
class meter_update {
public:
    std::optional<std::string> name;               ///< sent when set
    update_field<polar::filter> filter;            ///< absent, null or a value
    update_field<polar::aggregation> aggregation;  ///< absent, null or a value
    std::optional<polar::metadata> metadata;       ///< sent when set; replaces the map
    update_field<open_enum<meter_unit>> unit;      ///< absent, null or a value
    update_field<std::string> custom_label;        ///< absent, null or a value
    update_field<std::int64_t> custom_multiplier;  ///< absent, null or a value
    std::optional<bool> is_archived;               ///< sent when set

    /// Sends `{}`.
    meter_update() = default;

    meter_update& set_name(std::string v) & { name = std::move(v); return *this; }
    meter_update&& set_name(std::string v) && { name = std::move(v); return std::move(*this); }
    meter_update& set_filter(polar::filter v) & { filter.set(std::move(v)); return *this; }
    meter_update&& set_filter(polar::filter v) && { filter.set(std::move(v)); return std::move(*this); }
    /// Sends `"filter": null`.
    meter_update& set_filter(std::nullptr_t) & { filter.set_null(); return *this; }
    meter_update&& set_filter(std::nullptr_t) && { filter.set_null(); return std::move(*this); }
    meter_update& set_aggregation(polar::aggregation v) & { aggregation.set(std::move(v)); return *this; }
    meter_update&& set_aggregation(polar::aggregation v) && { aggregation.set(std::move(v)); return std::move(*this); }
    /// Sends `"aggregation": null`.
    meter_update& set_aggregation(std::nullptr_t) & { aggregation.set_null(); return *this; }
    meter_update&& set_aggregation(std::nullptr_t) && { aggregation.set_null(); return std::move(*this); }
    meter_update& set_metadata(polar::metadata v) & { metadata = std::move(v); return *this; }
    meter_update&& set_metadata(polar::metadata v) && { metadata = std::move(v); return std::move(*this); }
    meter_update& set_unit(open_enum<meter_unit> v) & { unit.set(std::move(v)); return *this; }
    meter_update&& set_unit(open_enum<meter_unit> v) && { unit.set(std::move(v)); return std::move(*this); }
    /// Sends `"unit": null`.
    meter_update& set_unit(std::nullptr_t) & { unit.set_null(); return *this; }
    meter_update&& set_unit(std::nullptr_t) && { unit.set_null(); return std::move(*this); }
    meter_update& set_custom_label(std::string v) & { custom_label.set(std::move(v)); return *this; }
    meter_update&& set_custom_label(std::string v) && { custom_label.set(std::move(v)); return std::move(*this); }
    /// Sends `"custom_label": null`.
    meter_update& set_custom_label(std::nullptr_t) & { custom_label.set_null(); return *this; }
    meter_update&& set_custom_label(std::nullptr_t) && { custom_label.set_null(); return std::move(*this); }
    /// Any integer type (a template, so that `set_custom_multiplier(0)` is not ambiguous with nullptr).
    template <std::integral I>
        requires(!std::same_as<I, bool>)
    meter_update& set_custom_multiplier(I v) & { custom_multiplier.set(static_cast<std::int64_t>(v)); return *this; }
    template <std::integral I>
        requires(!std::same_as<I, bool>)
    meter_update&& set_custom_multiplier(I v) && { custom_multiplier.set(static_cast<std::int64_t>(v)); return std::move(*this); }
    /// Sends `"custom_multiplier": null`.
    meter_update& set_custom_multiplier(std::nullptr_t) & { custom_multiplier.set_null(); return *this; }
    meter_update&& set_custom_multiplier(std::nullptr_t) && { custom_multiplier.set_null(); return std::move(*this); }
    /// `true` archives the meter, `false` unarchives it.
    meter_update& set_is_archived(bool v) & { is_archived = v; return *this; }
    meter_update&& set_is_archived(bool v) && { is_archived = v; return std::move(*this); }

    /// True when no key would be sent.
    bool empty() const noexcept {
        return !name && filter.is_absent() && aggregation.is_absent() && !metadata && unit.is_absent() &&
               custom_label.is_absent() && custom_multiplier.is_absent() && !is_archived;
    }

    friend bool operator==(const meter_update&, const meter_update&) = default;
};

} // namespace polar

#endif
