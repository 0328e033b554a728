// The dated versions' events endpoints over real sockets (MeterAPI-2026-10.md
// §3.7-§3.9): ingest with external_id deduplication, then GET /v1/events/
// with filters and paging, and GET /v1/events/{id}, over HTTP and HTTPS.
#include "http_test_client.hpp"

#include <polar/testing/emulator.hpp>
#include <polar/testing/emulator_state.hpp>

#include <doctest/doctest.h>

#include <string>

using polar::testing::emulator_options;
using polar_test::http_request;
using polar_test::http_response;
using polar_test::running_emulator;

namespace {

http_response dated(polar_test::http_test_client& c, std::string method, std::string target, std::string body = {}) {
    http_request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.bearer = "polar_test_token";
    req.headers.emplace_back("Polar-Version", "2026-10");
    http_response r;
    auto ec = c.request(req, r);
    REQUIRE_MESSAGE(!ec, ec.message());
    return r;
}

} // namespace

TEST_CASE("emulator events over sockets: ingest, list with filters and paging, get") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        emulator_options o;
        o.tls = tls;
        running_emulator srv(o);
        auto c = srv.client();

        const std::string batch =
            R"({"events":[)"
            R"({"name":"llm.call","external_customer_id":"u_42","external_id":"req-1","timestamp":"2026-11-01T10:00:00Z","metadata":{"_llm":{"vendor":"openai","model":"gpt-x","input_tokens":10,"output_tokens":5,"total_tokens":15},"latency_ms":12.5}},)"
            R"({"name":"llm.call","external_customer_id":"u_42","external_id":"req-2","timestamp":"2026-11-01T11:00:00Z","metadata":{"latency_ms":3}},)"
            R"({"name":"tool.call","external_customer_id":"u_7","parent_id":"req-1","timestamp":"2026-11-01T12:00:00Z"}]})";
        http_response r = dated(*c, "POST", "/v1/events/ingest", batch);
        REQUIRE_MESSAGE(r.status == 200, r.body);
        CHECK(r.body == R"({"inserted":3,"duplicates":0})");
        CHECK(r.header("Polar-Version") == "2026-10");
        r = dated(*c, "POST", "/v1/events/ingest", batch);
        CHECK(r.body == R"({"inserted":1,"duplicates":2})");  // the event without external_id repeats

        r = dated(*c, "GET", "/v1/events/?name=llm.call&sorting=timestamp&limit=1");
        REQUIRE(r.status == 200);
        CHECK(r.header("Content-Type") == "application/json");
        CHECK(r.json("/pagination") == R"({"total_count":2,"max_page":2})");
        CHECK(r.json_string("/items/0/timestamp") == "2026-11-01T10:00:00Z");
        CHECK(r.json_string("/items/0/label") == "llm.call");
        CHECK(r.json("/items/0/child_count") == "2");
        CHECK(r.json_string("/items/0/metadata/_llm/vendor") == "openai");
        const std::string parent = r.json_string("/items/0/id");

        r = dated(*c, "GET", "/v1/events/?parent_id=" + parent);
        CHECK(r.json("/pagination/total_count") == "2");
        CHECK(r.json_string("/items/0/parent_id") == parent);
        CHECK(r.json_string("/items/0/name") == "tool.call");

        r = dated(*c, "GET", "/v1/events/?external_customer_id=u_7&page=5");
        CHECK(r.body == R"({"items":[],"pagination":{"total_count":0,"max_page":0}})");

        r = dated(*c, "GET", "/v1/events/" + parent);
        CHECK(r.status == 200);
        CHECK(r.json_string("/id") == parent);
        CHECK(r.json("/customer") == "null");

        // Not a route on 2025-03.
        http_request old;
        old.target = "/v1/events/";
        old.bearer = "polar_test_token";
        old.headers.emplace_back("Polar-Version", "2025-03");
        http_response gone;
        REQUIRE(!c->request(old, gone));
        CHECK(gone.status == 404);
        CHECK(c->connects() == 1);
    }
}
