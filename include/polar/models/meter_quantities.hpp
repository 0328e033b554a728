//
// polar-cpp: meter quantities (MeterQuantities, MeterQuantity).
//
#ifndef POLAR_MODELS_METER_QUANTITIES_HPP
#define POLAR_MODELS_METER_QUANTITIES_HPP

#include <polar/models/common.hpp>

#include <optional>
#include <vector>

namespace polar {

/// The aggregated quantity of one time bucket (MeterQuantity).
struct meter_quantity {
    polar::timestamp timestamp{}; ///< the bucket's series point (UTC)
    double quantity = 0;          ///< aggregated value; 0 for buckets without events

    friend bool operator==(const meter_quantity&, const meter_quantity&) = default;
};

/**
 * @brief The time series of a meter (MeterQuantities), one entry per bucket,
 * in ascending order.
 *
 * @details `total` is sent by the dated API (2026-04 and later) only: the
 * sum of the buckets for `count` and `sum`, their max/min for `max`/`min`;
 * for `avg` and `unique` the server computes it over all matching events,
 * ignoring the requested range (MeterAPI-2026-10 §5.3). It is empty with a
 * 2025-03 server, and encoded only when set.
 */
struct meter_quantities {
    std::vector<meter_quantity> quantities;
    std::optional<double> total; ///< the aggregate over the whole series (dated API)

    friend bool operator==(const meter_quantities&, const meter_quantities&) = default;
};

} // namespace polar

#endif
