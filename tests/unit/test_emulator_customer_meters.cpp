// Emulator logic, dated versions: GET /v1/customer-meters/ and /{id} (MeterAPI-2026-10.md §3.10).
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

struct cm_fixture {
    emulator_state s{31};
    system_clock::time_point now = sys_days{2026y / November / 20} + 12h;
    sys_days nov1 = sys_days{2026y / November / 1};
    std::string org, org2, ada, bob, zed, calls, tokens;

    cm_fixture() {
        s.set_clock([this] { return now; });
        org = s.add_organization("Acme");
        org2 = s.add_organization("Globex");
        s.add_organization_token("tok", org, {"meters:read", "meters:write", "customer_meters:read"});
        s.add_organization_token("no_cm", org, {"meters:read", "events:read"});
        s.add_organization_token("tok2", org2, {"customer_meters:read"});
        ada = s.add_customer(org, "ext_ada", "ada@example.com", "Ada");
        bob = s.add_customer(org, std::nullopt, "bob@example.com", "Bob");
        zed = s.add_customer(org, "ext_zed", "zed@example.com", "Zed");  // no usage
        calls = meter("Calls", R"({"func":"count"})");
        tokens = meter("Tokens", R"({"func":"sum","property":"tokens"})");
        event(nov1 + 1h, R"({"tokens":10})", ada, std::nullopt);
        event(nov1 + 2h, R"({"tokens":2.5})", std::nullopt, "ext_ada");
        event(nov1 + 3h, R"({})", bob, std::nullopt);
        event(nov1 + 4h, R"({"tokens":1})", std::nullopt, "ext_unknown");
    }
    emulator_response get(std::string_view target, std::string_view token = "tok") {
        return polar_test::call_state(s, {.target = target, .token = token, .version = "2026-10"});
    }
    std::string meter(std::string_view name, std::string_view agg) {
        const std::string body = R"({"name":")" + std::string(name) +
                                 R"(","filter":{"conjunction":"and","clauses":[]},"aggregation":)" + std::string(agg) + "}";
        auto res = polar_test::call_state(
            s, {.method = "POST", .target = "/v1/meters/", .token = "tok", .body = body, .version = "2026-10"});
        REQUIRE_MESSAGE(res.status == 201, res.body);
        return std::string(json::parse(res.body).at("id").as_string());
    }
    void event(system_clock::time_point at, std::string md, std::optional<std::string> cid,
               std::optional<std::string> ext) {
        emulator_event e;
        e.organization_id = org;
        e.name = "call";
        e.timestamp = at;
        e.customer_id = std::move(cid);
        e.external_customer_id = std::move(ext);
        e.metadata_json = std::move(md);
        s.add_event(e);
    }
    // "customer name/meter name=consumed" per row, in order.
    std::vector<std::string> rows(std::string_view query) {
        auto r = get("/v1/customer-meters/" + std::string(query));
        REQUIRE_MESSAGE(r.status == 200, r.body);
        const auto doc = json::parse(r.body);
        std::vector<std::string> v;
        for (const auto& it : doc.at("items").as_array())
            v.push_back(std::string(it.at("customer").at("name").as_string()) + "/" +
                        std::string(it.at("meter").at("name").as_string()) + "=" +
                        json::serialize(it.at("consumed_units")));
        return v;
    }
};

} // namespace

TEST_CASE("emulator customer meters: rows, values and shape") {
    cm_fixture f;
    // Default sorting -modified_at (the last matching event).
    CHECK(f.rows("") == std::vector<std::string>{"Bob/Calls=1E0", "Ada/Calls=2E0", "Ada/Tokens=1.25E1"});
    auto r = f.get("/v1/customer-meters/?customer_id=" + f.ada + "&meter_id=" + f.tokens);
    REQUIRE(r.status == 200);
    const auto doc = json::parse(r.body);
    const auto& row = doc.at("items").at(0).as_object();
    std::vector<std::string> keys;
    for (const auto& kv : row) keys.emplace_back(kv.key());
    CHECK(keys == std::vector<std::string>{"id", "created_at", "modified_at", "customer_id", "meter_id", "consumed_units",
                                           "credited_units", "balance", "customer", "meter"});
    CHECK(r.body.find(R"("created_at":"2026-11-01T01:00:00Z","modified_at":"2026-11-01T02:00:00Z")") != std::string::npos);
    CHECK(r.body.find(R"("consumed_units":12.5,"credited_units":0,"balance":-12.5,"customer":{)") != std::string::npos);
    CHECK(row.at("meter").at("unit") == "scalar");
    CHECK(row.at("customer").at("type") == "individual");
    CHECK(json::serialize(doc.at("pagination")) == R"({"total_count":1,"max_page":1})");

    // Get by id; the id is stable.
    const std::string id = std::string(row.at("id").as_string());
    r = f.get("/v1/customer-meters/" + id);
    CHECK(r.status == 200);
    CHECK(f.get("/v1/customer-meters/?customer_id=" + f.ada + "&meter_id=" + f.tokens).body ==
          "{\"items\":[" + r.body + "],\"pagination\":{\"total_count\":1,\"max_page\":1}}");
    CHECK(f.get("/v1/customer-meters/0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40").status == 404);
    CHECK(f.get("/v1/customer-meters/" + id, "tok2").status == 404);
    CHECK(f.get("/v1/customer-meters/nope").status == 422);
}

TEST_CASE("emulator customer meters: filters, sorting, paging, archived meters, scope") {
    cm_fixture f;
    CHECK(f.rows("?external_customer_id=ext_ada&sorting=meter_name") ==
          std::vector<std::string>{"Ada/Calls=2E0", "Ada/Tokens=1.25E1"});
    CHECK(f.rows("?sorting=-consumed_units&limit=1") == std::vector<std::string>{"Ada/Tokens=1.25E1"});
    CHECK(f.rows("?sorting=balance&sorting=customer_name") ==
          std::vector<std::string>{"Ada/Tokens=1.25E1", "Ada/Calls=2E0", "Bob/Calls=1E0"});
    CHECK(f.get("/v1/customer-meters/?limit=2&page=9").body ==
          R"({"items":[],"pagination":{"total_count":3,"max_page":2}})");
    auto r = f.get("/v1/customer-meters/?sorting=email");
    CHECK(r.status == 422);
    CHECK(json::parse(r.body).at("detail").at(0).at("loc") == json::parse(R"(["query","sorting",0])"));

    // Archiving the meter hides its rows unless meter_id asks for them.
    emulator_request p;
    p.method = "PATCH";
    const std::string target = "/v1/meters/" + f.tokens;
    p.target = target;
    p.authorization = "Bearer tok";
    p.content_type = "application/json";
    p.body = R"({"is_archived":true})";
    p.polar_version = "2026-10";
    REQUIRE(f.s.handle(p).status == 200);
    CHECK(f.rows("") == std::vector<std::string>{"Bob/Calls=1E0", "Ada/Calls=2E0"});
    CHECK(f.rows("?meter_id=" + f.tokens) == std::vector<std::string>{"Ada/Tokens=1.25E1"});

    CHECK(f.get("/v1/customer-meters/", "no_cm").status == 403);
    CHECK(f.rows("").size() == 2);
    CHECK(f.get("/v1/customer-meters/", "tok2").body == R"({"items":[],"pagination":{"total_count":0,"max_page":0}})");
    // Not a 2025-03 route.
    emulator_request old;
    old.method = "GET";
    old.target = "/v1/customer-meters/";
    old.authorization = "Bearer tok";
    old.polar_version = "2025-03";
    CHECK(f.s.handle(old).status == 404);
}
