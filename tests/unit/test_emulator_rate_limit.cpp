// The emulator's rate limiter (server_rate_limiter) on a hand-driven clock,
// and the identities it counts under.
#include <polar/testing/emulator_state.hpp>
#include <polar/testing/rate_limit.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using polar::testing::server_rate_limiter;

TEST_CASE("emulator rate limit: fixed windows opened by the first request") {
    server_rate_limiter lim(polar::rate_limit::per_minute(3));
    const auto t0 = server_rate_limiter::clock::time_point{} + 1000h;
    CHECK(lim.admit("org:a", t0) == 0s);
    CHECK(lim.admit("org:a", t0 + 10s) == 0s);
    CHECK(lim.admit("org:a", t0 + 20s) == 0s);
    // Full: the rest of the window, rounded up.
    CHECK(lim.admit("org:a", t0 + 20s) == 40s);
    CHECK(lim.admit("org:a", t0 + 59s + 500ms) == 1s);
    // A refused request is not counted; the window ends 60 s after it opened.
    CHECK(lim.admit("org:a", t0 + 60s) == 0s);
    CHECK(lim.admit("org:a", t0 + 61s) == 0s);
    CHECK(lim.admit("org:a", t0 + 62s) == 0s);
    CHECK(lim.admit("org:a", t0 + 62s) == 58s);
    CHECK(lim.admitted() == 6);
    CHECK(lim.refused() == 3);
}

TEST_CASE("emulator rate limit: identities are counted apart, and Retry-After is at least 1 s") {
    server_rate_limiter lim(polar::rate_limit{.requests = 1, .window = 200ms});
    const auto t0 = server_rate_limiter::clock::time_point{} + 1h;
    CHECK(lim.admit("organization:a", t0) == 0s);
    CHECK(lim.admit("organization:b", t0) == 0s);
    CHECK(lim.admit("organization:a", t0 + 100ms) == 1s);
    CHECK(lim.admit("organization:a", t0 + 200ms) == 0s);
}

TEST_CASE("emulator rate limit: disabled, invalid, and the 429 it answers") {
    server_rate_limiter off(polar::rate_limit::unlimited());
    for (int i = 0; i < 1000; ++i) CHECK(off.admit("x") == 0s);
    CHECK(off.refused() == 0);
    CHECK_THROWS_AS(server_rate_limiter(polar::rate_limit{.requests = 1, .window = 0ms}), std::invalid_argument);
    CHECK_THROWS_AS(server_rate_limiter(polar::rate_limit{.requests = 1, .window = std::chrono::milliseconds::max()}),
                    std::invalid_argument);

    const auto r = server_rate_limiter::too_many_requests(7s);
    CHECK(r.status == 429);
    CHECK(r.body.empty());
    CHECK(r.content_type.empty());
    REQUIRE(r.headers.size() == 1);
    CHECK(r.headers[0].first == "Retry-After");
    CHECK(r.headers[0].second == "7");
}

TEST_CASE("emulator rate limit: many identities do not accumulate") {
    server_rate_limiter lim(polar::rate_limit::per_second(1));
    auto t = server_rate_limiter::clock::time_point{} + 1h;
    for (int i = 0; i < 5000; ++i) {
        CHECK(lim.admit("token:" + std::to_string(i), t) == 0s);
        t += 10ms;
    }
    // Old windows were dropped, so an early identity starts a new one.
    CHECK(lim.admit("token:0", t) == 0s);
    CHECK(lim.admit("token:0", t) == 1s);
}

TEST_CASE("emulator rate limit: the identity of a request is its token's subject") {
    polar::testing::emulator_state st(42);
    const auto org = st.add_organization("Acme");
    const auto other = st.add_organization("Globex");
    st.add_organization_token("tok-a", org, {"meters:read"});
    st.add_organization_token("tok-b", org, {"meters:write"});
    st.add_organization_token("tok-c", other, {"meters:read"});
    const auto user = st.add_user({org, other});
    st.add_user_token("tok-u", user, {"meters:read"});
    CHECK(st.rate_limit_identity("Bearer tok-a") == "organization:" + org);
    CHECK(st.rate_limit_identity("Bearer tok-b") == "organization:" + org);
    CHECK(st.rate_limit_identity("Bearer tok-c") == "organization:" + other);
    CHECK(st.rate_limit_identity("Bearer tok-u") == "user:" + user);
    CHECK(st.rate_limit_identity("Bearer unknown") == "token:Bearer unknown");
    CHECK(st.rate_limit_identity("") == "token:");
}
