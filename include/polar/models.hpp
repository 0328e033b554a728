//
// polar-cpp: every model type and their JSON conversion.
//
#ifndef POLAR_MODELS_HPP
#define POLAR_MODELS_HPP

#include <polar/models/aggregation.hpp>
#include <polar/models/common.hpp>
#include <polar/models/customer.hpp>
#include <polar/models/customer_meter.hpp>
#include <polar/models/enums.hpp>
#include <polar/models/event.hpp>
#include <polar/models/filter.hpp>
#include <polar/models/json.hpp>
#include <polar/models/meter.hpp>
#include <polar/models/meter_quantities.hpp>
#include <polar/models/page.hpp>

#endif
