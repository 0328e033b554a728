// The emulated Meters API over real HTTPS sockets: one happy path per
// endpoint and the common 4xx answers, through the default setup.
#include "http_test_client.hpp"

#include <polar/testing/emulator.hpp>
#include <polar/testing/emulator_state.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace std::chrono_literals;
using polar::testing::emulator_options;
using polar_test::http_request;
using polar_test::http_response;
using polar_test::running_emulator;

namespace {

// These tests pin the seed-era contract (test_emulator_versions*.cpp cover the others).
emulator_options https() {
    emulator_options o;
    o.tls = true;
    o.default_api_version = std::string(polar::testing::api_version_2025_03);
    return o;
}

const char* const create_body =
    R"({"name":"API tokens","filter":{"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"}]},)"
    R"("aggregation":{"func":"sum","property":"tokens"},"metadata":{"team":"core"}})";

} // namespace

TEST_CASE("emulator API over HTTPS: one happy path per endpoint") {
    running_emulator srv(https(), 2);
    auto c = srv.client();

    http_response created = c->send("POST", "/v1/meters/", create_body);
    REQUIRE(created.status == 201);
    CHECK(created.header("Content-Type").find("application/json") == 0);
    CHECK(created.json_string("/name") == "API tokens");
    CHECK(created.json_string("/aggregation/func") == "sum");
    CHECK(created.json("/modified_at") == "null");
    const std::string id = created.json_string("/id");
    REQUIRE(id.size() == 36);
    const std::string path = "/v1/meters/" + id;

    http_response list = c->get("/v1/meters/?limit=5");
    CHECK(list.status == 200);
    CHECK(list.json_string("/items/0/id") == id);
    CHECK(list.json("/pagination/total_count") == "1");
    CHECK(list.json("/pagination/max_page") == "1");

    http_response got = c->get(path);
    CHECK(got.status == 200);
    CHECK(got.json_string("/id") == id);
    CHECK(got.json_string("/metadata/team") == "core");

    http_response updated = c->send("PATCH", path, R"({"name":"Renamed meter"})");
    CHECK(updated.status == 200);
    CHECK(updated.json_string("/name") == "Renamed meter");

    http_response ingested = c->send(
        "POST", "/v1/events/ingest",
        R"({"events":[{"name":"llm.call","external_customer_id":"cust-1","timestamp":"2025-03-01T10:00:00Z","metadata":{"tokens":120}},)"
        R"({"name":"llm.call","external_customer_id":"cust-1","timestamp":"2025-03-03T08:00:00Z","metadata":{"tokens":35}},)"
        R"({"name":"other","external_customer_id":"cust-1","timestamp":"2025-03-02T08:00:00Z","metadata":{"tokens":1000}}]})");
    CHECK(ingested.status == 200);
    CHECK(ingested.json("/inserted") == "3");

    http_response events = c->get(path + "/events?limit=10");
    CHECK(events.status == 200);
    CHECK(events.json("/pagination/total_count") == "2");
    CHECK(events.json_string("/items/0/timestamp").substr(0, 10) == "2025-03-03"); // newest first
    CHECK(events.json_string("/items/0/source") == "user");

    http_response q = c->get(path + "/quantities?start_timestamp=2025-03-01T00:00:00Z"
                                    "&end_timestamp=2025-03-03T00:00:00Z&interval=day");
    CHECK(q.status == 200);
    CHECK(q.json_string("/quantities/0/timestamp") == "2025-03-01T00:00:00Z");
    CHECK(q.json("/quantities/0/quantity") == "1.2E2");
    CHECK(q.json("/quantities/1/quantity") == "0E0");
    CHECK(q.json("/quantities/2/quantity") == "3.5E1");
    CHECK(q.json("/quantities/3") == "");

    CHECK(c->connects() == 1);
    auto k = srv->counters();
    CHECK(k.requests("POST /v1/meters/") == 1);
    CHECK(k.requests("GET /v1/meters/") == 1);
    CHECK(k.requests("GET /v1/meters/{id}") == 1);
    CHECK(k.requests("PATCH /v1/meters/{id}") == 1);
    CHECK(k.requests("POST /v1/events/ingest") == 1);
    CHECK(k.requests("GET /v1/meters/{id}/events") == 1);
    CHECK(k.requests("GET /v1/meters/{id}/quantities") == 1);
    CHECK(srv->state().meter_count() == 1);
    CHECK(srv->state().event_count() == 3);
}

TEST_CASE("emulator API over HTTPS: 4xx answers") {
    running_emulator srv(https());
    auto c = srv.client();

    SUBCASE("401 without a token") {
        http_response r = c->get("/v1/meters/", "");
        CHECK(r.status == 401);
        CHECK(r.json_string("/error") == "Unauthorized");
        CHECK(r.header("WWW-Authenticate").find("Bearer") == 0);
        CHECK(r.has_header("x-request-id"));
    }
    SUBCASE("401 with an unknown token") {
        http_response r = c->get("/v1/meters/", "nope");
        CHECK(r.status == 401);
        CHECK(r.json_string("/error") == "invalid_token");
    }
    SUBCASE("403 without the scope") {
        std::string org = srv->state().add_organization("Read Only Inc");
        srv->state().add_organization_token("ro_token", org, {"meters:read"});
        CHECK(c->get("/v1/meters/", "ro_token").status == 200);
        http_response r = c->send("POST", "/v1/meters/", create_body, "ro_token");
        CHECK(r.status == 403);
        CHECK(r.json_string("/error") == "insufficient_scope");
    }
    SUBCASE("404 for an unknown meter") {
        http_response r = c->get("/v1/meters/1b4e28ba-2fa1-4d2a-883f-0016d3cca427");
        CHECK(r.status == 404);
        CHECK(r.json_string("/error") == "ResourceNotFound");
    }
    SUBCASE("422 for a malformed id and a short name") {
        http_response r = c->get("/v1/meters/not-a-uuid");
        CHECK(r.status == 422);
        CHECK(r.json_string("/detail/0/loc/0") == "path");
        http_response r2 = c->send("POST", "/v1/meters/",
                                   R"({"name":"ab","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"}})");
        CHECK(r2.status == 422);
        CHECK(r2.json_string("/detail/0/type") == "string_too_short");
    }
    CHECK(c->connects() == 1); // errors keep the connection
}

TEST_CASE("emulator API: the default setup") {
    SUBCASE("an emulator-created state gets the default token") {
        running_emulator srv;
        CHECK(srv.client()->get("/v1/meters/").status == 200);
    }
    SUBCASE("default_setup = false leaves the state alone") {
        emulator_options o;
        o.default_setup = false;
        running_emulator srv(std::move(o));
        CHECK(srv.client()->get("/v1/meters/").status == 401);
    }
    SUBCASE("a given state with its own tokens gets no default token") {
        auto state = std::make_shared<polar::testing::emulator_state>();
        state->add_organization_token("mine", state->add_organization("Mine"), {"meters:read"});
        emulator_options o;
        o.state = state;
        running_emulator srv(std::move(o));
        CHECK(&srv->state() == state.get());
        CHECK(srv.client()->get("/v1/meters/", "mine").status == 200);
        CHECK(srv.client()->get("/v1/meters/").status == 401);
    }
}
