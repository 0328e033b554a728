// Emulator logic, dated versions: POST /v1/events/ingest (MeterAPI-2026-10.md §3.9).
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

struct ingest_fixture {
    emulator_state s{5};
    system_clock::time_point now = sys_days{2026y / November / 10} + 12h;
    std::string org, org2, user, ada;

    ingest_fixture() {
        s.set_clock([this] { return now; });
        org = s.add_organization("Acme");
        org2 = s.add_organization("Globex");
        user = s.add_user({org, org2});
        s.add_organization_token("tok", org, {"events:write", "events:read"});
        s.add_organization_token("tok2", org2, {"events:write", "events:read"});
        s.add_organization_token("reader", org, {"events:read"});
        s.add_user_token("utok", user, {"events:write"});
        ada = s.add_customer(org, "ext_ada", "ada@example.com", "Ada");
    }

    emulator_response call(std::string_view method, std::string_view target, std::string_view body,
                           std::string_view token = "tok", std::string_view version = "2026-10") {
        return polar_test::call_state(s, {.method = method,
                                          .target = target,
                                          .token = token,
                                          .body = body,
                                          .version = version,
                                          .content_type = "application/json"});
    }
    emulator_response ingest(std::string_view body, std::string_view token = "tok") {
        return call("POST", "/v1/events/ingest", body, token);
    }
    json::value list(std::string_view query, std::string_view token = "tok") {
        auto r = call("GET", "/v1/events/" + std::string(query), {}, token);
        REQUIRE_MESSAGE(r.status == 200, r.body);
        return json::parse(r.body);
    }
};

json::value parse(const emulator_response& r) { return json::parse(r.body); }

} // namespace

TEST_CASE("emulator dated ingest: external_id deduplication and the duplicates count") {
    ingest_fixture f;
    auto r = f.ingest(
        R"({"events":[{"name":"a","external_customer_id":"u1","external_id":"x1"},{"name":"a","external_customer_id":"u1","external_id":"x1"},{"name":"a","external_customer_id":"u1","external_id":null},{"name":"a","external_customer_id":"u1"}]})");
    CHECK(r.status == 200);
    CHECK(r.body == R"({"inserted":3,"duplicates":1})");
    r = f.ingest(R"({"events":[{"name":"b","external_customer_id":"u1","external_id":"x1"}]})");
    CHECK(r.body == R"({"inserted":0,"duplicates":1})");
    CHECK(f.s.event_count() == 3);
    // Per organization: another organization may reuse the external id.
    CHECK(f.ingest(R"({"events":[{"name":"b","external_customer_id":"u1","external_id":"x1"}]})", "tok2").body ==
          R"({"inserted":1,"duplicates":0})");
    // The external id is not part of the output.
    CHECK(f.list("").at("items").at(0).as_object().if_contains("external_id") == nullptr);
    // 2025-03 answers as it always did.
    r = f.call("POST", "/v1/events/ingest", R"({"events":[{"name":"c","external_customer_id":"u1"}]})", "tok",
               "2025-03");
    CHECK(r.body == R"({"inserted":1})");
}

TEST_CASE("emulator dated ingest: parent_id by event id or external id; unknown parents are no error") {
    ingest_fixture f;
    REQUIRE(f.ingest(R"({"events":[{"name":"root","external_customer_id":"u1","external_id":"r1","timestamp":"2026-11-01T00:00:00Z"}]})")
                .status == 200);
    const std::string root = std::string(f.list("").at("items").at(0).at("id").as_string());
    auto r = f.ingest(R"({"events":[{"name":"c1","external_customer_id":"u1","parent_id":"r1","timestamp":"2026-11-01T01:00:00Z"},{"name":"c2","external_customer_id":"u1","parent_id":")" +
                      root +
                      R"(","timestamp":"2026-11-01T02:00:00Z"},{"name":"orphan","external_customer_id":"u1","parent_id":"later","timestamp":"2026-11-01T03:00:00Z"}]})");
    CHECK(r.body == R"({"inserted":3,"duplicates":0})");
    auto children = f.list("?parent_id=" + root + "&sorting=timestamp");
    REQUIRE(children.at("items").as_array().size() == 2);
    CHECK(children.at("items").at(0).at("name") == "c1");
    CHECK(children.at("items").at(1).at("name") == "c2");
    auto orphan = f.list("?name=orphan").at("items").at(0);
    CHECK(orphan.at("parent_id").is_null());
    // The parent arrives later: the pending reference resolves.
    REQUIRE(f.ingest(R"({"events":[{"name":"late","external_customer_id":"u1","external_id":"later","timestamp":"2026-11-01T04:00:00Z"}]})")
                .status == 200);
    const auto late = f.list("?name=late").at("items").at(0);
    orphan = f.list("?name=orphan").at("items").at(0);
    CHECK(orphan.at("parent_id") == late.at("id"));
    CHECK(late.at("child_count") == 1);
    CHECK(f.list("").at("items").at(4).at("child_count") == 2);  // root, the oldest
}

TEST_CASE("emulator dated ingest: a waiting reference survives a snapshot; an event is never its own parent") {
    ingest_fixture f;
    REQUIRE(f.ingest(R"({"events":[{"name":"child","external_customer_id":"u1","parent_id":"p1","timestamp":"2026-11-01T01:00:00Z"},)"
                     R"({"name":"self","external_customer_id":"u1","external_id":"me","parent_id":"me","timestamp":"2026-11-01T02:00:00Z"}]})")
                .status == 200);
    f.s.restore(f.s.snapshot());
    REQUIRE(f.ingest(R"({"events":[{"name":"parent","external_customer_id":"u1","external_id":"p1","timestamp":"2026-11-01T00:00:00Z"}]})")
                .status == 200);
    const auto parent = f.list("?name=parent").at("items").at(0);
    CHECK(f.list("?name=child").at("items").at(0).at("parent_id") == parent.at("id"));
    CHECK(f.list("?name=self").at("items").at(0).at("parent_id").is_null());
    CHECK(parent.at("child_count") == 1);
}

TEST_CASE("emulator dated ingest: member ids") {
    ingest_fixture f;
    auto r = f.ingest(R"({"events":[{"name":"a","external_customer_id":"u1","external_member_id":"m1"}]})");
    CHECK(r.status == 200);
    CHECK(f.list("").at("items").at(0).at("external_member_id") == "m1");
    // The emulator has no members: a member_id is never found.
    r = f.ingest(R"({"events":[{"name":"a","customer_id":")" + f.ada +
                 R"(","member_id":"1f0e1d2c-3b4a-4958-8776-655443322110"}]})");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"PolarRequestValidationError","detail":[{"type":"member_id","loc":["body","events",0,"member_id"],"msg":"Member not found.","input":"1f0e1d2c-3b4a-4958-8776-655443322110"}]})");
    r = f.ingest(R"({"events":[{"name":"a","customer_id":")" + f.ada + R"(","member_id":"nope"}]})");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("loc") == json::parse(R"(["body","events",0,"EventCreateCustomer","member_id"])"));
}

TEST_CASE("emulator dated ingest: metadata with floats, _llm and _cost") {
    ingest_fixture f;
    auto r = f.ingest(
        R"({"events":[{"name":"llm","external_customer_id":"u1","metadata":{"latency_ms":12.5,"n":5.0,"_llm":{"vendor":"openai","model":"gpt-x","input_tokens":10,"output_tokens":5,"total_tokens":15},"_cost":{"amount":0.0012,"currency":"usd"}}}]})");
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto lr = f.call("GET", "/v1/events/", {});
    CHECK(lr.body.find(
              R"("metadata":{"latency_ms":12.5,"n":5.0,"_llm":{"vendor":"openai","model":"gpt-x","input_tokens":10,"output_tokens":5,"total_tokens":15},"_cost":{"amount":"0.0012","currency":"usd"}}})") !=
          std::string::npos);

    // _llm with a missing field and a wrong type; _cost with a bad currency;
    // both branches of the union report.
    r = f.ingest(
        R"({"events":[{"name":"llm","external_customer_id":"u1","metadata":{"_llm":{"vendor":"openai","model":"m","input_tokens":"x","output_tokens":1},"_cost":{"amount":1,"currency":"eur"}}}]})");
    CHECK(r.status == 422);
    const auto d = parse(r).at("detail").as_array();
    std::vector<std::string> locs;
    for (const auto& e : d) locs.push_back(json::serialize(e.at("loc")) + " " + std::string(e.at("type").as_string()));
    CHECK(locs == std::vector<std::string>{
                      R"(["body","events",0,"EventCreateCustomer","metadata","_llm","input_tokens"] int_parsing)",
                      R"(["body","events",0,"EventCreateCustomer","metadata","_llm","total_tokens"] missing)",
                      R"(["body","events",0,"EventCreateCustomer","metadata","_cost","currency"] string_pattern_mismatch)",
                      R"(["body","events",0,"EventCreateCustomer","customer_id"] missing)",
                      R"(["body","events",0,"EventCreateExternalCustomer","metadata","_llm","input_tokens"] int_parsing)",
                      R"(["body","events",0,"EventCreateExternalCustomer","metadata","_llm","total_tokens"] missing)",
                      R"(["body","events",0,"EventCreateExternalCustomer","metadata","_cost","currency"] string_pattern_mismatch)",
                  });
    // Decimal limits of _cost.amount.
    r = f.ingest(R"({"events":[{"name":"c","external_customer_id":"u1","metadata":{"_cost":{"amount":"0.0000000000001","currency":"usd"}}}]})");
    CHECK(r.status == 422);
    CHECK(r.body.find(R"("type":"decimal_max_places")") != std::string::npos);
    // A null value: every branch of the value union fails.
    r = f.ingest(R"({"events":[{"name":"c","external_customer_id":"u1","metadata":{"k":null}}]})");
    CHECK(r.status == 422);
    CHECK(r.body.find(R"({"type":"float_type","loc":["body","events",0,"EventCreateExternalCustomer","metadata","k","float"],"msg":"Input should be a valid number","input":null})") !=
          std::string::npos);
}

TEST_CASE("emulator dated ingest: name max 128 and all-or-nothing business errors") {
    ingest_fixture f;
    const std::string long_name(129, 'n');
    auto r = f.ingest(R"({"events":[{"name":")" + long_name + R"(","external_customer_id":"u1"}]})");
    CHECK(r.status == 422);  // 2025-03 fails with a 500 instead
    CHECK(r.body.find(R"({"type":"string_too_long","loc":["body","events",0,"EventCreateExternalCustomer","name"],"msg":"String should have at most 128 characters")") !=
          std::string::npos);
    CHECK(f.ingest(R"({"events":[{"name":")" + std::string(128, 'n') + R"(","external_customer_id":"u1"}]})").status ==
          200);

    // One bad item among good ones: 422 for the whole batch, nothing stored.
    r = f.ingest(R"({"events":[{"name":"ok","external_customer_id":"u1","external_id":"e1"},{"name":"bad","customer_id":"0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40"},{"name":"bad2","external_customer_id":"u1","organization_id":")" +
                 f.org + R"("}]})");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"PolarRequestValidationError","detail":[{"type":"customer_id","loc":["body","events",1,"customer_id"],"msg":"Customer not found.","input":"0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40"},{"type":"organization_token","loc":["body","events",2,"organization_id"],"msg":"Setting organization_id is disallowed when using an organization token.","input":")" +
              f.org + R"("}]})");
    CHECK(f.s.event_count() == 1);
    // Future timestamps are refused.
    r = f.ingest(R"({"events":[{"name":"f","external_customer_id":"u1","timestamp":"2026-11-11T00:00:00Z"}]})");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("msg") == "Value error, Timestamp must be in the past.");
    // Scope: events:read cannot ingest.
    CHECK(f.ingest(R"({"events":[]})", "reader").status == 403);
    // A user token must name the organization.
    r = f.ingest(R"({"events":[{"name":"u","external_customer_id":"u1"}]})", "utok");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("msg") == "organization_id is required.");
}
