// Emulator logic, dated versions: meters (MeterAPI-2026-10.md §3.1-§3.4, §4.1).
#include <polar/testing/emulator_state.hpp>

#include "emulator_state_call.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace {

using namespace polar::testing;
namespace json = boost::json;
using namespace std::chrono;
using namespace std::chrono_literals;

struct meters_fixture {
    emulator_state s{3};
    system_clock::time_point now = sys_days{2026y / November / 10} + 12h;
    std::string org;

    meters_fixture() {
        s.set_clock([this] { return now; });
        org = s.add_organization("Acme");
        s.add_organization_token("tok", org, {"meters:read", "meters:write", "events:write"});
    }

    emulator_response call(std::string_view method, std::string_view target, std::string_view body = {},
                           std::string_view version = "2026-10") {
        return polar_test::call_state(
            s, {.method = method, .target = target, .token = "tok", .body = body, .version = version});
    }
    std::string create(std::string_view name, std::string_view extra = {}) {
        std::string body = R"({"name":")" + std::string(name) +
                           R"(","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"})";
        if (!extra.empty()) body += "," + std::string(extra);
        body += "}";
        auto r = call("POST", "/v1/meters/", body);
        REQUIRE_MESSAGE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }
};

json::value parse(const emulator_response& r) { return json::parse(r.body); }

} // namespace

TEST_CASE("emulator dated meters: output shape, units and the 2025-03 form") {
    meters_fixture f;
    auto r = f.call("POST", "/v1/meters/",
                    R"({"name":"LLM tokens","unit":"token","filter":{"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"}]},"aggregation":{"func":"sum","property":"metadata._llm.total_tokens"},"metadata":{"tier":1.5}})");
    REQUIRE_MESSAGE(r.status == 201, r.body);
    const std::string id = std::string(parse(r).at("id").as_string());
    CHECK(r.body == R"({"metadata":{"tier":1.5},"created_at":"2026-11-10T12:00:00Z","modified_at":null,"id":")" + id +
                        R"(","name":"LLM tokens","unit":"token","custom_label":null,"custom_multiplier":null,"filter":{"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"}]},"aggregation":{"func":"sum","property":"_llm.total_tokens"},"organization_id":")" +
                        f.org + R"(","archived_at":null})");
    CHECK(f.call("GET", "/v1/meters/" + id).body == r.body);
    // 2025-03 keeps its form.
    const auto old = f.call("GET", "/v1/meters/" + id, {}, "2025-03").body;
    CHECK(old.find("\"unit\"") == std::string::npos);
    CHECK(old.find("\"archived_at\"") == std::string::npos);

    // Custom units; a multiplier with another unit is accepted and stored.
    r = f.call("POST", "/v1/meters/",
               R"({"name":"Pages","unit":"custom","custom_label":"page","custom_multiplier":1000,"filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"unique","property":"doc_id"}})");
    REQUIRE(r.status == 201);
    CHECK(parse(r).at("custom_label") == "page");
    CHECK(parse(r).at("custom_multiplier") == 1000);
    CHECK(json::serialize(parse(r).at("aggregation")) == R"({"func":"unique","property":"doc_id"})");
    r = f.call("POST", "/v1/meters/",
               R"({"name":"Calls","custom_multiplier":5,"filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"}})");
    CHECK(r.status == 201);
    CHECK(parse(r).at("unit") == "scalar");
    CHECK(parse(r).at("custom_multiplier") == 5);
    // unique is not a 2025-03 aggregation.
    r = f.call("POST", "/v1/meters/",
               R"({"name":"Uniq","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"unique","property":"x"}})",
               "2025-03");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("type") == "union_tag_invalid");
}

TEST_CASE("emulator dated meters: create validation") {
    meters_fixture f;
    const std::string base = R"("filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"})";
    auto r = f.call("POST", "/v1/meters/", R"({"name":"Pages","unit":"custom",)" + base + "}");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"RequestValidationError","detail":[{"type":"value_error","loc":["body"],"msg":"Value error, custom_label is required when unit is custom.","input":{"name":"Pages","unit":"custom","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"}},"ctx":{"error":{}}}]})");
    r = f.call("POST", "/v1/meters/", R"({"name":"Pages","custom_label":"x",)" + base + "}");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("msg") ==
          "Value error, custom_label and custom_multiplier are only allowed when unit is custom.");
    r = f.call("POST", "/v1/meters/", R"({"name":"Pages","unit":"tokens","custom_multiplier":0,)" + base + "}");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"RequestValidationError","detail":[{"type":"enum","loc":["body","unit"],"msg":"Input should be 'scalar', 'token' or 'custom'","input":"tokens","ctx":{"expected":"'scalar', 'token' or 'custom'"}},{"type":"greater_than","loc":["body","custom_multiplier"],"msg":"Input should be greater than 0","input":0,"ctx":{"gt":0}}]})");
    // FilterClause limits: strings up to 1000 characters, int32 values.
    r = f.call("POST", "/v1/meters/",
               R"({"name":"Big","filter":{"conjunction":"and","clauses":[{"property":"n","operator":"eq","value":2147483648}]},"aggregation":{"func":"count"}})");
    CHECK(r.status == 422);
    CHECK(r.body.find(R"({"type":"less_than_equal","loc":["body","filter","clauses",0,"FilterClause","value","constrained-int"],"msg":"Input should be less than or equal to 2147483647","input":2147483648,"ctx":{"le":2147483647}})") !=
          std::string::npos);
    r = f.call("POST", "/v1/meters/",
               R"({"name":"Long","filter":{"conjunction":"and","clauses":[{"property":"n","operator":"eq","value":")" +
                   std::string(1001, 'x') + R"("}]},"aggregation":{"func":"count"}})");
    CHECK(r.status == 422);
    CHECK(r.body.find(R"("type":"string_too_long","loc":["body","filter","clauses",0,"FilterClause","value","constrained-str"])") !=
          std::string::npos);
    CHECK(f.call("POST", "/v1/meters/",
                 R"({"name":"Max","filter":{"conjunction":"and","clauses":[{"property":"n","operator":"eq","value":2147483647}]},"aggregation":{"func":"count"}})")
              .status == 201);
    // The same value is fine on 2025-03.
    CHECK(f.call("POST", "/v1/meters/",
                 R"({"name":"Old","filter":{"conjunction":"and","clauses":[{"property":"n","operator":"eq","value":2147483648}]},"aggregation":{"func":"count"}})",
                 "2025-03")
              .status == 201);
    // Float metadata on the dated versions only.
    CHECK(f.call("POST", "/v1/meters/", R"({"name":"Flt","metadata":{"k":1.5},)" + base + "}").status == 201);
    CHECK(f.call("POST", "/v1/meters/", R"({"name":"Flt","metadata":{"k":1.5},)" + base + "}", "2025-03").status == 422);
}

TEST_CASE("emulator dated meters: list with is_archived and real totals past the end") {
    meters_fixture f;
    const auto a = f.create("Alpha");
    f.create("Beta");
    f.create("Gamma", R"("metadata":{"w":2.5})");
    auto r = f.call("PATCH", "/v1/meters/" + a, R"({"is_archived":true})");
    REQUIRE(r.status == 200);
    CHECK(parse(r).at("archived_at") == "2026-11-10T12:00:00Z");
    CHECK(parse(r).at("modified_at") == "2026-11-10T12:00:00Z");

    auto names = [&](std::string_view q) {
        auto res = f.call("GET", "/v1/meters/" + std::string(q));
        REQUIRE_MESSAGE(res.status == 200, res.body);
        std::vector<std::string> v;
        const auto doc = parse(res);
        for (const auto& m : doc.at("items").as_array()) v.emplace_back(m.at("name").as_string());
        return v;
    };
    CHECK(names("") == std::vector<std::string>{"Alpha", "Beta", "Gamma"});
    CHECK(names("?is_archived=true") == std::vector<std::string>{"Alpha"});
    CHECK(names("?is_archived=false") == std::vector<std::string>{"Beta", "Gamma"});
    CHECK(names("?metadata[w]=2.5") == std::vector<std::string>{"Gamma"});
    r = f.call("GET", "/v1/meters/?is_archived=maybe");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("type") == "bool_parsing");
    r = f.call("GET", "/v1/meters/?limit=2&page=5");
    CHECK(r.body == R"({"items":[],"pagination":{"total_count":3,"max_page":2}})");
    // 2025-03 keeps its quirk.
    CHECK(f.call("GET", "/v1/meters/?limit=2&page=5", {}, "2025-03").body ==
          R"({"items":[],"pagination":{"total_count":0,"max_page":0}})");

    // Re-archiving re-stamps; unarchiving clears.
    f.now += 1h;
    r = f.call("PATCH", "/v1/meters/" + a, R"({"is_archived":true})");
    CHECK(parse(r).at("archived_at") == "2026-11-10T13:00:00Z");
    r = f.call("PATCH", "/v1/meters/" + a, R"({"is_archived":false})");
    CHECK(parse(r).at("archived_at").is_null());
    CHECK(names("?is_archived=true").empty());
}

TEST_CASE("emulator dated meters: update of the unit fields, no cross-field check") {
    meters_fixture f;
    const auto id = f.create("Alpha");
    auto r = f.call("PATCH", "/v1/meters/" + id, R"({"unit":"custom"})");
    REQUIRE(r.status == 200);
    CHECK(parse(r).at("unit") == "custom");
    CHECK(parse(r).at("custom_label").is_null());
    r = f.call("PATCH", "/v1/meters/" + id, R"({"custom_label":"page","custom_multiplier":10})");
    CHECK(parse(r).at("custom_label") == "page");
    CHECK(parse(r).at("custom_multiplier") == 10);
    r = f.call("PATCH", "/v1/meters/" + id, R"({"custom_label":null})");
    CHECK(parse(r).at("custom_label").is_null());
    CHECK(parse(r).at("custom_multiplier") == 10);
    r = f.call("PATCH", "/v1/meters/" + id, R"({"custom_multiplier":-1,"is_archived":"nope"})");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").as_array().size() == 2);
    // The 2025-03 view of the same meter has no unit fields.
    CHECK(f.call("GET", "/v1/meters/" + id, {}, "2025-03").body.find("custom") == std::string::npos);
    // The lock rule still applies on the dated versions.
    emulator_event e;
    e.organization_id = f.org;
    e.name = "x";
    e.timestamp = f.now - 1h;
    e.customer_id = f.s.add_customer(f.org, std::nullopt, "a@example.com", "A");
    f.s.add_event(e);
    CHECK(f.s.run_billing_job() == 1);
    r = f.call("PATCH", "/v1/meters/" + id, R"({"filter":null,"is_archived":true})");
    CHECK(r.status == 422);
    CHECK(parse(r).at("error") == "PolarRequestValidationError");
    CHECK(parse(r).at("detail").at(0).at("loc") == json::parse(R"(["body","filter"])"));
}

TEST_CASE("emulator snapshot keeps the dated fields") {
    meters_fixture f;
    const auto id = f.create("Pages", R"("unit":"custom","custom_label":"page","custom_multiplier":3)");
    REQUIRE(f.call("PATCH", "/v1/meters/" + id, R"({"is_archived":true,"aggregation":{"func":"unique","property":"doc"}})")
                .status == 200);
    f.s.add_team_customer(f.org, "team_1", "Team");
    REQUIRE(f.call("POST", "/v1/events/ingest",
                   R"({"events":[{"name":"a","external_customer_id":"team_1","external_id":"x1","timestamp":"2026-11-01T00:00:00Z"},{"name":"b","external_customer_id":"team_1","parent_id":"x1","timestamp":"2026-11-01T01:00:00Z"},{"name":"c","external_customer_id":"team_1","parent_id":"later","external_member_id":"m","timestamp":"2026-11-01T02:00:00Z"}]})")
                .status == 200);
    emulator_state r{9};
    r.set_clock([&] { return f.now; });
    r.restore(f.s.snapshot());
    r.add_organization_token("tok", f.org, {"meters:read", "meters:write", "events:write"});
    auto get = [](emulator_state& s, std::string_view target, std::string_view body = {}) {
        emulator_request q;
        q.method = body.empty() ? "GET" : "POST";
        q.target = target;
        q.authorization = "Bearer tok";
        q.content_type = "application/json";
        q.body = body;
        q.polar_version = "2026-10";
        return s.handle(q);
    };
    CHECK(get(r, "/v1/meters/" + id).body == get(f.s, "/v1/meters/" + id).body);
    CHECK(get(r, "/v1/events/?limit=100").body == get(f.s, "/v1/events/?limit=100").body);
    // The external ids and the pending parent reference survive.
    const std::string again = R"({"events":[{"name":"later","external_customer_id":"team_1","external_id":"later"},{"name":"a","external_customer_id":"team_1","external_id":"x1"}]})";
    CHECK(get(r, "/v1/events/ingest", again).body == R"({"inserted":1,"duplicates":1})");
    const auto c = parse(get(r, "/v1/events/?name=c"));
    CHECK(!c.at("items").at(0).at("parent_id").is_null());
}

TEST_CASE("emulator dated meters: the billing job skips archived meters; unique on 2025-03") {
    meters_fixture f;
    const auto id = f.create("Archived");
    const auto uq = f.create("Unique", R"("aggregation":{"func":"unique","property":"k"})");
    REQUIRE(f.call("PATCH", "/v1/meters/" + id, R"({"is_archived":true})").status == 200);
    emulator_event e;
    e.organization_id = f.org;
    e.name = "x";
    e.timestamp = f.now - 1h;
    e.customer_id = f.s.add_customer(f.org, std::nullopt, "a@example.com", "A");
    e.metadata_json = R"({"k":1.5})";
    f.s.add_event(e);
    CHECK(f.s.run_billing_job() == 1);  // the unique meter only
    CHECK(f.s.meter_locked(uq));
    CHECK(!f.s.meter_locked(id));
    const std::string range = "/quantities?start_timestamp=2026-11-10T00:00:00Z&end_timestamp=2026-11-10T00:00:00Z&interval=day";
    CHECK(f.call("GET", "/v1/meters/" + uq + range).body ==
          R"({"quantities":[{"timestamp":"2026-11-10T00:00:00Z","quantity":1.0}],"total":1.0})");
    CHECK(f.call("GET", "/v1/meters/" + uq + range, {}, "2025-03").body ==
          R"({"quantities":[{"timestamp":"2026-11-10T00:00:00Z","quantity":0.0}]})");
}

TEST_CASE("emulator dated meters: the billing job uses the dated semantics for dated meters") {
    meters_fixture f;
    const std::string body =
        R"({"name":"Nested","filter":{"conjunction":"and","clauses":[{"property":"_llm.model","operator":"eq","value":"gpt"}]},"aggregation":{"func":"count"}})";
    const auto dated = json::parse(f.call("POST", "/v1/meters/", body).body).at("id").as_string();
    const auto old = json::parse(f.call("POST", "/v1/meters/", body, "2025-03").body).at("id").as_string();
    emulator_event e;
    e.organization_id = f.org;
    e.name = "x";
    e.timestamp = f.now - 1h;
    e.customer_id = f.s.add_customer(f.org, std::nullopt, "a@example.com", "A");
    e.metadata_json = R"({"_llm":{"model":"gpt"}})";
    f.s.add_event(e);
    CHECK(f.s.run_billing_job() == 1);
    CHECK(f.s.meter_locked(std::string(dated)));
    CHECK(!f.s.meter_locked(std::string(old)));  // seed-era: no dotted paths
}
