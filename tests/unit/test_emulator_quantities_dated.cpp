// Emulator logic, dated versions: meter quantities (MeterAPI-2026-10.md §3.6, §5.1-§5.4).
#include <polar/testing/emulator_state.hpp>

#include "emulator_state_call.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>

namespace {

using namespace polar::testing;
namespace json = boost::json;
using namespace std::chrono;
using namespace std::chrono_literals;

struct q_fixture {
    emulator_state s{21};
    system_clock::time_point now = sys_days{2026y / November / 20} + 12h;
    std::string org, ada, bob;

    q_fixture() {
        s.set_clock([this] { return now; });
        org = s.add_organization("Acme");
        s.add_organization_token("tok", org, {"meters:read", "meters:write"});
        ada = s.add_customer(org, "ext_ada", "ada@example.com", "Ada");
        bob = s.add_customer(org, "ext_bob", "bob@example.com", "Bob");
    }
    emulator_response call(std::string_view method, std::string_view target, std::string_view body = {}) {
        return polar_test::call_state(
            s, {.method = method, .target = target, .token = "tok", .body = body, .version = "2026-10"});
    }
    std::string meter(std::string_view filter_clauses, std::string_view aggregation) {
        auto r = call("POST", "/v1/meters/",
                      R"({"name":"Meter","filter":{"conjunction":"and","clauses":[)" + std::string(filter_clauses) +
                          R"(]},"aggregation":)" + std::string(aggregation) + "}");
        REQUIRE_MESSAGE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }
    void event(system_clock::time_point at, std::string md, std::optional<std::string> cid = std::nullopt,
               std::optional<std::string> ext = std::nullopt, std::string name = "call") {
        emulator_event e;
        e.organization_id = org;
        e.name = std::move(name);
        e.timestamp = at;
        e.customer_id = std::move(cid);
        e.external_customer_id = std::move(ext);
        e.metadata_json = std::move(md);
        s.add_event(e);
    }
    emulator_response q(const std::string& id, std::string_view params) {
        return call("GET", "/v1/meters/" + id + "/quantities?" + std::string(params));
    }
    std::vector<double> values(const std::string& id, std::string_view params, double* total = nullptr) {
        auto r = q(id, params);
        REQUIRE_MESSAGE(r.status == 200, r.body);
        const auto doc = json::parse(r.body);
        std::vector<double> v;
        for (const auto& p : doc.at("quantities").as_array()) v.push_back(p.at("quantity").to_number<double>());
        if (total) *total = doc.at("total").to_number<double>();
        return v;
    }
};

const sys_days nov1 = sys_days{2026y / November / 1};
constexpr const char* three_days = "start_timestamp=2026-11-01T00:00:00Z&end_timestamp=2026-11-03T00:00:00Z&interval=day";

} // namespace

TEST_CASE("emulator dated quantities: float sums, booleans excluded, total") {
    q_fixture f;
    const auto id = f.meter("", R"({"func":"sum","property":"v"})");
    f.event(nov1 + 1h, R"({"v":1.5})");
    f.event(nov1 + 2h, R"({"v":2})");
    f.event(nov1 + 26h, R"({"v":true})");
    f.event(nov1 + 27h, R"({"v":"3"})");
    auto r = f.q(id, three_days);
    CHECK(r.status == 200);
    CHECK(r.body ==
          R"({"quantities":[{"timestamp":"2026-11-01T00:00:00Z","quantity":3.5},{"timestamp":"2026-11-02T00:00:00Z","quantity":0.0},{"timestamp":"2026-11-03T00:00:00Z","quantity":0.0}],"total":3.5})");
}

TEST_CASE("emulator dated quantities: total rules for max, avg and unique") {
    q_fixture f;
    const auto mx = f.meter("", R"({"func":"max","property":"v"})");
    const auto avg = f.meter("", R"({"func":"avg","property":"v"})");
    const auto uq = f.meter("", R"({"func":"unique","property":"u"})");
    f.event(nov1 + 1h, R"({"v":4,"u":"a"})");
    f.event(nov1 + 25h, R"({"v":10,"u":"b"})");
    f.event(nov1 + 26h, R"({"v":2,"u":"a"})");
    f.event(nov1 - 240h, R"({"v":100,"u":1})");  // outside the window
    f.event(nov1 - 239h, R"({"u":1.0})");
    double total = 0;
    CHECK(f.values(mx, three_days, &total) == std::vector<double>{4, 10, 0});
    CHECK(total == 10);
    CHECK(f.values(avg, three_days, &total) == std::vector<double>{4, 6, 0});
    CHECK(total == doctest::Approx(29.0));  // all-time: (4 + 10 + 2 + 100) / 4
    CHECK(f.values(uq, three_days, &total) == std::vector<double>{1, 2, 0});
    CHECK(total == 3);  // a, b and 1 (= 1.0), all time
}

TEST_CASE("emulator dated quantities: range check, week cap and validation") {
    q_fixture f;
    const auto id = f.meter("", R"({"func":"count"})");
    auto r = f.q(id, "start_timestamp=2026-11-03T00:00:00Z&end_timestamp=2026-11-01T00:00:00Z&interval=day");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["query"],"msg":"The interval is too small for the given date range. Use a larger interval or reduce the date range.","input":["2026-11-03T00:00:00+00:00","2026-11-01T00:00:00+00:00","day"]}]})");
    CHECK(f.q(id, "start_timestamp=2025-01-01T00:00:00Z&end_timestamp=2026-01-07T00:00:00Z&interval=week").status == 200);
    CHECK(f.q(id, "start_timestamp=2025-01-01T00:00:00Z&end_timestamp=2026-01-08T00:00:00Z&interval=week").status == 422);
    // The 404 comes first.
    CHECK(f.call("GET", "/v1/meters/0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40/quantities?start_timestamp=2026-11-03T00:00:00Z&end_timestamp=2026-11-01T00:00:00Z&interval=day")
              .status == 404);
    r = f.q(id, std::string(three_days) + "&customer_aggregation_function=median");
    CHECK(r.status == 422);
    CHECK(json::parse(r.body).at("detail").at(0).at("msg") ==
          "Input should be 'count', 'sum', 'max', 'min', 'avg' or 'unique'");
    r = f.q(id, "start_timestamp=2022-12-31T23:59:59Z&end_timestamp=2023-01-01T00:00:00Z&interval=day");
    CHECK(r.status == 422);
    CHECK(json::parse(r.body).at("detail").at(0).at("type") == "greater_than_equal");
    // The bound is an aware datetime on the dated versions: printed with a Z.
    CHECK(json::parse(r.body).at("detail").at(0).at("msg") == "Input should be greater than or equal to 2023-01-01T00:00:00Z");
    CHECK(json::parse(r.body).at("detail").at(0).at("ctx") == json::parse(R"({"ge":"2023-01-01T00:00:00Z"})"));
}

TEST_CASE("emulator dated quantities: customer filters union, per-customer aggregation, metadata") {
    q_fixture f;
    const auto id = f.meter("", R"({"func":"count"})");
    f.event(nov1 + 1h, R"({"tier":"pro"})", f.ada);
    f.event(nov1 + 2h, R"({"tier":"free"})", std::nullopt, "ext_ada");
    f.event(nov1 + 3h, R"({"tier":"pro"})", f.bob);
    f.event(nov1 + 4h, R"({"tier":5})", std::nullopt, "ext_nobody");
    f.event(nov1 + 5h, R"({})", "0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40");
    const std::string day = "start_timestamp=2026-11-01T00:00:00Z&end_timestamp=2026-11-01T00:00:00Z&interval=day";
    CHECK(f.values(id, day + "&customer_id=" + f.ada) == std::vector<double>{2});
    CHECK(f.values(id, day + "&customer_id=" + f.ada + "&external_customer_id=ext_bob") == std::vector<double>{3});
    CHECK(f.values(id, day + "&external_customer_id=ext_nobody") == std::vector<double>{1});
    // An unknown customer UUID adds nothing, even for events carrying it.
    CHECK(f.values(id, day + "&customer_id=0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40") == std::vector<double>{0});
    double total = 0;
    CHECK(f.values(id, day + "&customer_aggregation_function=max", &total) == std::vector<double>{2});
    CHECK(total == 2);
    CHECK(f.values(id, day + "&customer_aggregation_function=count") == std::vector<double>{4});
    CHECK(f.values(id, day + "&customer_aggregation_function=avg") == std::vector<double>{1.25});
    CHECK(f.values(id, day + "&metadata[tier]=pro") == std::vector<double>{2});
    CHECK(f.values(id, day + "&metadata[tier]=pro&metadata[tier]=5") == std::vector<double>{3});
}

TEST_CASE("emulator dated quantities: dated filter semantics") {
    q_fixture f;
    const std::string day = "start_timestamp=2026-11-01T00:00:00Z&end_timestamp=2026-11-01T00:00:00Z&interval=day";
    f.event(nov1 + 1h, R"({"_llm":{"model":"gpt-x","total_tokens":15},"w":2.5,"customer_id":"c1"})");
    f.event(nov1 + 2h, R"({"_llm":{"model":"claude%","total_tokens":7},"w":"2.5"})");
    f.event(nov1 + 3h, R"({"w":true})", std::nullopt, std::nullopt, "other");
    auto count_of = [&](std::string_view clause) {
        return f.values(f.meter(clause, R"({"func":"count"})"), day).at(0);
    };
    CHECK(count_of(R"({"property":"metadata._llm.model","operator":"like","value":"gpt"})") == 1);
    CHECK(count_of(R"({"property":"_llm.model","operator":"like","value":"%"})") == 1);  // literal
    CHECK(count_of(R"({"property":"_llm.model","operator":"not_like","value":"gpt"})") == 1);  // missing: no match
    CHECK(count_of(R"({"property":"w","operator":"gt","value":2})") == 2);  // 2.5 as a float; "2.5" > "2" as text; true: false
    CHECK(count_of(R"({"property":"name","operator":"eq","value":5})") == 0);  // wrong type: false
    CHECK(count_of(R"({"property":"timestamp","operator":"gte","value":1793498400})") == 2);  // epoch seconds
    CHECK(count_of(R"({"property":"customer_id","operator":"eq","value":"c1"})") == 1);  // a metadata key now
    const auto tokens = f.meter("", R"({"func":"sum","property":"_llm.total_tokens"})");
    CHECK(f.values(tokens, day) == std::vector<double>{22});
}

TEST_CASE("emulator dated quantities: timezone bucketing") {
    q_fixture f;
    const auto id = f.meter("", R"({"func":"count"})");
    auto r = f.q(id, std::string(three_days) + "&timezone=Mars/Olympus");
    if (!std::filesystem::exists("/usr/share/zoneinfo/Europe/Paris")) {
        MESSAGE("no zoneinfo: bucketing in UTC, zone names not checked");
        return;
    }
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"RequestValidationError","detail":[{"type":"TimeZoneName","loc":["query","timezone"],"msg":"Invalid timezone name.","input":"Mars/Olympus"}]})");
    CHECK(f.q(id, std::string(three_days) + "&timezone=../../etc/passwd").status == 422);
    CHECK(f.q(id, std::string(three_days) + "&timezone=UTC").status == 200);

    // 22:30Z on Nov 1 is 23:30 in Paris (CET): Nov 1 there, Nov 2's bucket in UTC.
    f.event(nov1 + 22h + 30min, "{}");
    const std::string window = "start_timestamp=2026-11-01T00:00:00%2B01:00&end_timestamp=2026-11-02T00:00:00%2B01:00&interval=day";
    r = f.q(id, window + "&timezone=Europe/Paris");
    CHECK(r.body ==
          R"({"quantities":[{"timestamp":"2026-10-31T23:00:00Z","quantity":1.0},{"timestamp":"2026-11-01T23:00:00Z","quantity":0.0}],"total":1.0})");
    CHECK(f.values(id, window) == std::vector<double>{0, 1});
    // A day step across the end of DST (Oct 25) keeps local midnight.
    r = f.q(id, "start_timestamp=2026-10-24T00:00:00%2B02:00&end_timestamp=2026-10-26T00:00:00%2B01:00&interval=day&timezone=Europe/Paris");
    CHECK(r.body.find(R"({"timestamp":"2026-10-23T22:00:00Z","quantity":0.0},{"timestamp":"2026-10-24T22:00:00Z","quantity":0.0},{"timestamp":"2026-10-25T23:00:00Z","quantity":0.0}])") !=
          std::string::npos);
}
