//
// polar-cpp: customers as embedded in events and customer meters (Customer =
// CustomerIndividual | CustomerTeam, Address).
//
#ifndef POLAR_MODELS_CUSTOMER_HPP
#define POLAR_MODELS_CUSTOMER_HPP

#include <polar/models/common.hpp>
#include <polar/models/enums.hpp>

#include <optional>
#include <string>

namespace polar {

/**
 * @brief A postal address (Address).
 *
 * @details A response type (plain aggregate). Every field but `country`
 * may be null.
 */
struct address {
    std::optional<std::string> line1;
    std::optional<std::string> line2;
    std::optional<std::string> postal_code;
    std::optional<std::string> city;
    std::optional<std::string> state;
    std::string country;  ///< ISO 3166-1 alpha-2, e.g. "SE"

    friend bool operator==(const address&, const address&) = default;
};

/**
 * @brief A customer's tax id: the `[value, format]` pair of the API.
 *
 * @details `format` keeps the raw string of formats this SDK does not know
 * (`format.wire()` is always the string the server sent).
 */
struct tax_id {
    std::string value;                ///< e.g. "FR61954506077"
    open_enum<tax_id_format> format;  ///< e.g. tax_id_format::eu_vat

    friend bool operator==(const tax_id&, const tax_id&) = default;
};

/**
 * @brief A customer of an organization (Customer), as embedded in events
 * and customer meters.
 *
 * @details The dated API (2026-04 and later) sends a union discriminated by
 * `type`: `individual` or `team`. The 2025-03 API sends no `type`; such
 * customers decode as individuals. Fields of the dated API (`type`,
 * `billing_name`, `locale`, `default_payment_method_id`,
 * `first_user_event_at`) are empty when absent.
 *
 * - `email`: required for individuals. Team customers may have none: an
 *   absent or `null` email of a team (or of a type this SDK does not know)
 *   decodes as an empty string, and an empty email of a non-individual
 *   encodes as `null`.
 * - `avatar_url`: the dated API may send `null`; it decodes as an empty
 *   string.
 *
 * A response type (plain aggregate); build it in a named local, not as a
 * braced temporary inside a `co_await` expression.
 */
struct customer {
    std::string id;                         ///< UUID
    timestamp created_at{};
    std::optional<timestamp> modified_at;
    polar::metadata metadata;
    std::optional<std::string> external_id; ///< the customer's id in your system
    std::string email;                      ///< empty when a team customer has none
    bool email_verified = false;
    std::optional<std::string> name;
    std::optional<address> billing_address;
    std::optional<polar::tax_id> tax_id;
    std::string organization_id;            ///< UUID
    std::optional<timestamp> deleted_at;    ///< set when soft-deleted
    std::string avatar_url;                 ///< empty when the server sends null
    open_enum<customer_type> type;          ///< `individual` (also when absent) or `team`
    std::optional<std::string> billing_name;
    std::optional<std::string> locale;                    ///< e.g. "sv-SE"
    std::optional<std::string> default_payment_method_id; ///< UUID
    std::optional<timestamp> first_user_event_at;         ///< the customer's first user event

    /// True for team customers.
    bool is_team() const noexcept { return type == customer_type::team; }

    friend bool operator==(const customer&, const customer&) = default;
};

} // namespace polar

#endif
