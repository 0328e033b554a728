//
// polar-cpp: every model type and their JSON conversion.
//
// The models (models/) are plain values: meters, events, customers, pages,
// quantities, and the bodies of requests. They know nothing of sockets, HTTP
// or Asio; their codec is detail/codec/, reached from outside through
// polar::from_json() and polar::to_json() (models/json.hpp).
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
