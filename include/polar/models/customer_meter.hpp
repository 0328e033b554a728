//
// polar-cpp: a customer's balance on a meter (CustomerMeter, dated API).
//
#ifndef POLAR_MODELS_CUSTOMER_METER_HPP
#define POLAR_MODELS_CUSTOMER_METER_HPP

#include <polar/models/common.hpp>
#include <polar/models/customer.hpp>
#include <polar/models/meter.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace polar {

/**
 * @brief The usage and credits of one customer on one meter (CustomerMeter).
 *
 * @details Served by `GET /v1/customer-meters/` and
 * `GET /v1/customer-meters/{id}` of the dated API (2026-04 and later).
 * The server maintains these rows in background jobs, so they lag
 * ingestion. `balance` is `credited_units - consumed_units`.
 *
 * A response type (plain aggregate); build it in a named local, not as a
 * braced temporary inside a `co_await` expression.
 */
struct customer_meter {
    std::string id;                       ///< UUID
    timestamp created_at{};
    std::optional<timestamp> modified_at;
    std::string customer_id;              ///< UUID
    std::string meter_id;                 ///< UUID
    double consumed_units = 0;            ///< units used (a number: meters may aggregate floats)
    std::int64_t credited_units = 0;      ///< units granted by meter credits
    double balance = 0;                   ///< credited_units - consumed_units
    polar::customer customer;             ///< the customer
    polar::meter meter;                   ///< the meter

    friend bool operator==(const customer_meter&, const customer_meter&) = default;
};

} // namespace polar

#endif
