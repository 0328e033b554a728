//
// polar-cpp: asynchronous C++20 client for the Polar Meters API.
// Everything public, in one include.
//
#ifndef POLAR_POLAR_HPP
#define POLAR_POLAR_HPP

#include <polar/api_version.hpp>
#include <polar/client.hpp>
#include <polar/customer_meters.hpp>
#include <polar/error.hpp>
#include <polar/events.hpp>
#include <polar/fan_out.hpp>
#include <polar/ingest_batcher.hpp>
#include <polar/generator.hpp>
#include <polar/meters.hpp>
#include <polar/models.hpp>
#include <polar/retry.hpp>
#include <polar/with_diagnostics.hpp>

#endif
