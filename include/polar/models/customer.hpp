//
// polar-cpp: customers as embedded in events (Customer, Address).
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
 * @brief A customer of an organization (Customer), as embedded in events.
 *
 * @details A response type (plain aggregate); build it in a named local,
 * not as a braced temporary inside a `co_await` expression.
 */
struct customer {
    std::string id;                         ///< UUID
    timestamp created_at{};
    std::optional<timestamp> modified_at;
    polar::metadata metadata;
    std::optional<std::string> external_id; ///< the customer's id in your system
    std::string email;
    bool email_verified = false;
    std::optional<std::string> name;
    std::optional<address> billing_address;
    std::optional<polar::tax_id> tax_id;
    std::string organization_id;            ///< UUID
    std::optional<timestamp> deleted_at;    ///< set when soft-deleted
    std::string avatar_url;

    friend bool operator==(const customer&, const customer&) = default;
};

} // namespace polar

#endif
