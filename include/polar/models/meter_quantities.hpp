//
// polar-cpp: meter quantities (MeterQuantities, MeterQuantity).
//
#ifndef POLAR_MODELS_METER_QUANTITIES_HPP
#define POLAR_MODELS_METER_QUANTITIES_HPP

#include <polar/models/common.hpp>

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
 * @details This API era has no `total` field.
 */
struct meter_quantities {
    std::vector<meter_quantity> quantities;

    friend bool operator==(const meter_quantities&, const meter_quantities&) = default;
};

} // namespace polar

#endif
