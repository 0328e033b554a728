//
// polar-cpp testing: the emulator's in-memory Polar (organizations, tokens,
// customers, meters, events) and its HTTP semantics, independent of sockets.
//
#ifndef POLAR_TESTING_EMULATOR_STATE_HPP
#define POLAR_TESTING_EMULATOR_STATE_HPP

#include <polar/detail/config.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace polar::testing {

/// A request as the emulator's logic sees it (no sockets involved).
struct emulator_request {
    std::string_view method;         ///< "GET", "POST", "PATCH", ...
    std::string_view target;         ///< origin-form target: path and query, percent-encoded
    std::string_view authorization;  ///< value of the Authorization header ("" if absent)
    std::string_view content_type;   ///< value of the Content-Type header ("" if absent)
    std::string_view body;
};

/// A response produced by the emulator's logic.
struct emulator_response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers; ///< besides Content-Type/Length
    std::string content_type = "application/json";
    std::string body;
};

class emulator_state; // defined below (work in progress: see the implementation)

} // namespace polar::testing

#endif
