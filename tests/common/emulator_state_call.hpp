// Shared helper for the emulator's unit tests: one request handed straight to
// an emulator_state (no socket), built the way the emulator's server builds it.
#ifndef POLAR_TESTS_EMULATOR_STATE_CALL_HPP
#define POLAR_TESTS_EMULATOR_STATE_CALL_HPP

#include <polar/testing/emulator_state.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace polar_test {

/// The parts of a request the emulator's unit tests vary.
struct state_call {
    std::string_view method = "GET";
    std::string_view target = {};
    /// Sent as `Authorization: Bearer <token>`; empty: no Authorization header.
    std::string_view token = {};
    std::string_view body = {};
    /// The `Polar-Version` header; an empty optional sends none.
    std::optional<std::string_view> version = {};
    /// emulator_request::default_api_version (empty: the state's default).
    std::string_view default_version = {};
    /// The `Content-Type` header; an empty optional sends `application/json`
    /// when there is a body and none otherwise.
    std::optional<std::string_view> content_type = {};
};

/// Hands `c` to `s.handle` and returns the response.
inline polar::testing::emulator_response call_state(polar::testing::emulator_state& s, const state_call& c) {
    const std::string auth = c.token.empty() ? std::string() : "Bearer " + std::string(c.token);
    polar::testing::emulator_request r;
    r.method = c.method;
    r.target = c.target;
    r.authorization = auth;
    r.content_type = c.content_type ? *c.content_type
                                    : (c.body.empty() ? std::string_view() : std::string_view("application/json"));
    r.body = c.body;
    r.polar_version = c.version;
    r.default_api_version = c.default_version;
    return s.handle(r);
}

} // namespace polar_test

#endif
