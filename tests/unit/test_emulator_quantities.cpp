// Emulator logic: filter evaluation, aggregations and quantities bucketing.
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

struct q_fixture {
    emulator_state s{11};
    system_clock::time_point now = sys_days{2025y / April / 30} + 12h;
    std::string org, org2;

    q_fixture() {
        s.set_default_api_version(api_version_2025_03);  // these tests pin the seed-era contract
        s.set_clock([this] { return now; });
        org = s.add_organization("Acme");
        org2 = s.add_organization("Globex");
        s.add_organization_token("tok", org, {"meters:read", "meters:write", "events:write"});
    }

    emulator_response get(const std::string& target) {
        return polar_test::call_state(s, {.target = target, .token = "tok"});
    }

    std::string event(system_clock::time_point at, std::string md = "{}", std::string name = "e",
                      std::optional<std::string> customer_id = {}, std::optional<std::string> external_id = {}) {
        emulator_event e;
        e.organization_id = org;
        e.name = std::move(name);
        e.timestamp = at;
        e.metadata_json = std::move(md);
        e.customer_id = std::move(customer_id);
        e.external_customer_id = std::move(external_id);
        return s.add_event(e);
    }

    emulator_response create_raw(const std::string& filter, const std::string& agg) {
        const std::string body = R"({"name":"meter","filter":)" + filter + R"(,"aggregation":)" + agg + "}";
        // No Content-Type: the server reads the body as JSON all the same.
        return polar_test::call_state(
            s, {.method = "POST", .target = "/v1/meters/", .token = "tok", .body = body, .content_type = ""});
    }

    std::string meter(const std::string& filter, const std::string& agg = R"({"func":"count"})") {
        auto r = create_raw(filter, agg);
        REQUIRE_MESSAGE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }

    // Names of the events matching a meter whose filter is one clause.
    std::vector<std::string> matching(const std::string& clause_json, const std::string& agg = R"({"func":"count"})") {
        const auto id = meter(R"({"conjunction":"and","clauses":[)" + clause_json + "]}", agg);
        auto r = get("/v1/meters/" + id + "/events?limit=100");
        REQUIRE_MESSAGE(r.status == 200, r.body);
        std::vector<std::string> names;
        const auto body = json::parse(r.body);
        for (const auto& e : body.at("items").as_array()) names.emplace_back(e.at("name").as_string());
        std::sort(names.begin(), names.end());
        return names;
    }

    std::string quantities(const std::string& meter_id, const std::string& query) {
        auto r = get("/v1/meters/" + meter_id + "/quantities?" + query);
        REQUIRE_MESSAGE(r.status == 200, r.body);
        return r.body;
    }
};

using names = std::vector<std::string>;

std::string point(const char* ts, const char* q) {
    return std::string(R"({"timestamp":")") + ts + R"(","quantity":)" + q + "}";
}

std::string series(std::initializer_list<std::string> points) {
    std::string s = R"({"quantities":[)";
    bool first = true;
    for (const auto& p : points) {
        if (!first) s += ",";
        first = false;
        s += p;
    }
    return s + "]}";
}

} // namespace

TEST_CASE("emulator filters: columns and metadata types") {
    q_fixture f;
    const auto t = sys_days{2025y / March / 1} + 1h;
    f.event(t, R"({"v":"100","model":"Pro-Max","flag":true})", "str100");
    f.event(t, R"({"v":100,"model":"lite"})", "num100", std::nullopt, "ext_9");
    f.event(t, R"({"v":7,"flag":false})", "num7");
    f.event(t, R"({"v":true})", "booltrue");
    f.event(t, R"({"v":null,"o":{"a":1},"a":[1]})", "null");
    f.event(t, R"({"w":1})", "missing", std::nullopt, "ext_1");
    f.event(t, "{}", "True");

    // A string stored value compares as text with str(value).
    CHECK(f.matching(R"({"property":"v","operator":"eq","value":100})") == names{"num100", "str100"});
    CHECK(f.matching(R"({"property":"v","operator":"eq","value":"100"})") == names{"str100"});
    // Numbers compare as integers; a string value never matches a number; text order is by bytes.
    CHECK(f.matching(R"({"property":"v","operator":"gt","value":50})") == names{"num100"});
    // "100" <= "7" as text: the string value matches too.
    CHECK(f.matching(R"({"property":"v","operator":"lte","value":7})") == names{"num7", "str100"});
    CHECK(f.matching(R"({"property":"v","operator":"gte","value":"0"})") == names{"str100"});
    // Missing keys, nulls, objects and arrays never match, not even with ne.
    CHECK(f.matching(R"({"property":"v","operator":"ne","value":100})") == names{"num7"});
    CHECK(f.matching(R"({"property":"o","operator":"ne","value":"x"})").empty());
    CHECK(f.matching(R"({"property":"a","operator":"not_like","value":"x"})").empty());
    // Booleans compare with booleans only.
    CHECK(f.matching(R"({"property":"v","operator":"eq","value":true})") == names{"booltrue"});
    CHECK(f.matching(R"({"property":"flag","operator":"eq","value":false})") == names{"num7"});
    CHECK(f.matching(R"({"property":"flag","operator":"ne","value":true})") == names{"num7"});
    CHECK(f.matching(R"({"property":"flag","operator":"eq","value":"true"})").empty());
    // like: a case-sensitive substring, with % and _ as wildcards.
    CHECK(f.matching(R"({"property":"model","operator":"like","value":"Max"})") == names{"str100"});
    CHECK(f.matching(R"({"property":"model","operator":"like","value":"max"})").empty());
    CHECK(f.matching(R"({"property":"model","operator":"like","value":"P_o%x"})") == names{"str100"});
    CHECK(f.matching(R"({"property":"model","operator":"not_like","value":"Pro"})") == names{"num100"});
    CHECK(f.matching(R"({"property":"v","operator":"like","value":"10"})") == names{"str100"});

    // Columns: text comparison with str(value); Python spells booleans True/False.
    CHECK(f.matching(R"({"property":"name","operator":"eq","value":"num7"})") == names{"num7"});
    CHECK(f.matching(R"({"property":"name","operator":"like","value":"num"})") == names{"num100", "num7"});
    CHECK(f.matching(R"({"property":"name","operator":"eq","value":true})") == names{"True"});
    CHECK(f.matching(R"({"property":"source","operator":"eq","value":"user"})").size() == 7);
    CHECK(f.matching(R"({"property":"external_customer_id","operator":"eq","value":"ext_9"})") == names{"num100"});
    // A NULL column never matches, even with ne / not_like.
    CHECK(f.matching(R"({"property":"external_customer_id","operator":"ne","value":"ext_9"})") == names{"missing"});
    CHECK(f.matching(R"({"property":"external_customer_id","operator":"not_like","value":"zzz"})").size() == 2);

    // Empty clause lists match everything, for either conjunction; nesting works.
    const auto all_and = f.meter(R"({"conjunction":"and","clauses":[]})");
    const auto all_or = f.meter(R"({"conjunction":"or","clauses":[]})");
    CHECK(json::parse(f.get("/v1/meters/" + all_and + "/events").body).at("pagination").at("total_count") == 7);
    CHECK(json::parse(f.get("/v1/meters/" + all_or + "/events").body).at("pagination").at("total_count") == 7);
    const auto nested = f.meter(R"({"conjunction":"or","clauses":[
        {"property":"name","operator":"eq","value":"num7"},
        {"conjunction":"and","clauses":[{"property":"model","operator":"eq","value":"lite"},
                                        {"property":"v","operator":"eq","value":100}]}]})");
    CHECK(json::parse(f.get("/v1/meters/" + nested + "/events").body).at("pagination").at("total_count") == 2);

    // The aggregation type guard: only JSON numbers take part in a property aggregation.
    CHECK(f.matching(R"({"property":"source","operator":"eq","value":"user"})", R"({"func":"sum","property":"v"})") ==
          names{"num100", "num7"});
}

TEST_CASE("emulator filters: clauses the server cannot run give 500") {
    q_fixture f;
    const auto t = sys_days{2025y / March / 1} + 1h;
    const auto before = f.s.meter_count();
    // Clauses on the timestamp and uuid columns: every query with them fails, creation included.
    for (const char* column : {"timestamp", "customer_id", "organization_id", "id", "metadata", "customer"}) {
        CAPTURE(column);
        auto r = f.create_raw(std::string(R"({"conjunction":"and","clauses":[{"property":")") + column +
                                  R"(","operator":"eq","value":"2025-03-01"}]})",
                              R"({"func":"count"})");
        CHECK(r.status == 500);
    }
    CHECK(f.s.meter_count() == before);

    // like with an integer value on a numeric metadata value: a database error when it meets one.
    const auto like_meter = f.meter(R"({"conjunction":"and","clauses":[{"property":"v","operator":"like","value":10}]})");
    CHECK(f.get("/v1/meters/" + like_meter + "/events").status == 200);
    f.event(t, R"({"v":"a10b"})", "text");
    CHECK(f.get("/v1/meters/" + like_meter + "/events").status == 200);
    f.event(t, R"({"v":100})", "number");
    auto r = f.get("/v1/meters/" + like_meter + "/events");
    CHECK(r.status == 500);
    CHECK(r.content_type.rfind("text/plain", 0) == 0);
    CHECK(f.get("/v1/meters/" + like_meter + "/quantities?start_timestamp=2025-03-01T00:00:00Z&end_timestamp=2025-03-01T00:00:00Z&interval=day")
              .status == 500);
    // Creating such a meter now fails too (the last-billed-event lookup runs the filter).
    CHECK(f.create_raw(R"({"conjunction":"and","clauses":[{"property":"v","operator":"like","value":10}]})",
                       R"({"func":"count"})")
              .status == 500);
    // A string value on a number is just false.
    CHECK(f.matching(R"({"property":"v","operator":"like","value":"10"})") == names{"text"});
}

TEST_CASE("emulator aggregations") {
    q_fixture f;
    const auto day = sys_days{2025y / March / 10};
    f.event(day + 1h, R"({"tokens":10})");
    f.event(day + 2h, R"({"tokens":20})");
    f.event(day + 3h, R"({"tokens":25})");
    f.event(day + 4h, R"({"tokens":"40"})");
    f.event(day + 5h, R"({"other":1})");
    const std::string all = R"({"conjunction":"and","clauses":[]})";
    const std::string q = "start_timestamp=2025-03-10T00:00:00Z&end_timestamp=2025-03-11T00:00:00Z&interval=day";
    auto result = [&](const char* agg) {
        const auto id = f.meter(all, agg);
        return f.quantities(id, q);
    };
    const auto expect = [](const char* first) {
        return series({point("2025-03-10T00:00:00Z", first), point("2025-03-11T00:00:00Z", "0.0")});
    };
    CHECK(result(R"({"func":"count"})") == expect("5.0"));
    CHECK(result(R"({"func":"sum","property":"tokens"})") == expect("55.0"));
    CHECK(result(R"({"func":"max","property":"tokens"})") == expect("25.0"));
    CHECK(result(R"({"func":"min","property":"tokens"})") == expect("10.0"));
    CHECK(result(R"({"func":"avg","property":"tokens"})") == expect("18.333333333333332"));
    CHECK(result(R"({"func":"sum","property":"nothing"})") == expect("0.0"));

    // Values beyond int32, or with a fraction, fail in the database.
    f.event(day + 6h, R"({"big":3000000000})");
    f.event(day + 6h, R"({"frac":1.5})");
    f.event(day + 6h, R"({"neg":-2147483648})");
    const auto big = f.meter(all, R"({"func":"sum","property":"big"})");
    CHECK(f.get("/v1/meters/" + big + "/quantities?" + q).status == 500);
    const auto frac = f.meter(all, R"({"func":"max","property":"frac"})");
    CHECK(f.get("/v1/meters/" + frac + "/quantities?" + q).status == 500);
    CHECK(result(R"({"func":"min","property":"neg"})") == expect("-2147483648.0"));
    // Outside the requested units the bad values are never cast.
    CHECK(f.quantities(big, "start_timestamp=2025-03-12T00:00:00Z&end_timestamp=2025-03-12T00:00:00Z&interval=day") ==
          series({point("2025-03-12T00:00:00Z", "0.0")}));
}

TEST_CASE("emulator quantities: day buckets, edges and inclusive end") {
    q_fixture f;
    const auto mar1 = sys_days{2025y / March / 1};
    f.event(mar1 + 5h, R"({"n":100})");
    f.event(mar1 + 23h + 59min, R"({"n":20})");
    f.event(mar1 - 1min, R"({"n":1000})");           // Feb 28: no point
    f.event(mar1 + days{2} + 23h + 59min, R"({"n":35})");  // after end, same unit as the last point
    f.event(mar1 + days{3}, R"({"n":5000})");         // Mar 4: no point
    emulator_event other;
    other.organization_id = f.org2;
    other.name = "e";
    other.timestamp = mar1 + 1h;
    other.metadata_json = R"({"n":7})";
    f.s.add_event(other);  // another organization's event
    const auto id = f.meter(R"({"conjunction":"and","clauses":[]})", R"({"func":"sum","property":"n"})");

    CHECK(f.quantities(id, "start_timestamp=2025-03-01T00:00:00Z&end_timestamp=2025-03-03T00:00:00Z&interval=day") ==
          R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z","quantity":120.0},)"
          R"({"timestamp":"2025-03-02T00:00:00Z","quantity":0.0},)"
          R"({"timestamp":"2025-03-03T00:00:00Z","quantity":35.0}]})");
    // An unaligned start: each point covers its whole day.
    CHECK(f.quantities(id, "start_timestamp=2025-03-01T10:30:00Z&end_timestamp=2025-03-03T10:29:59Z&interval=day") ==
          series({point("2025-03-01T10:30:00Z", "120.0"), point("2025-03-02T10:30:00Z", "0.0")}));
    // start == end: one point; end before start: nothing.
    CHECK(f.quantities(id, "start_timestamp=2025-03-03T12:00:00.5Z&end_timestamp=2025-03-03T12:00:00.5Z&interval=day") ==
          series({point("2025-03-03T12:00:00.500000Z", "35.0")}));
    CHECK(f.quantities(id, "start_timestamp=2025-03-03T00:00:00Z&end_timestamp=2025-03-02T00:00:00Z&interval=day") ==
          R"({"quantities":[]})");
    // A +02:00 input comes back in UTC; the units are UTC days.
    CHECK(f.quantities(id, "start_timestamp=2025-03-01T01:00:00%2B02:00&end_timestamp=2025-03-02T01:00:00%2B02:00&interval=day") ==
          series({point("2025-02-28T23:00:00Z", "1000.0"), point("2025-03-01T23:00:00Z", "120.0")}));
}

TEST_CASE("emulator quantities: hour, week, month and year units") {
    q_fixture f;
    const auto mar5 = sys_days{2025y / March / 5};  // a Wednesday
    const auto count = f.meter(R"({"conjunction":"and","clauses":[]})");

    SUBCASE("hour with an unaligned start") {
        f.event(mar5 + 10h + 5min);   // before start, same hour
        f.event(mar5 + 11h + 59min);
        f.event(mar5 + 11h + 59min);
        f.event(mar5 + 12h + 10min);  // the 12:30 point is past the end
        CHECK(f.quantities(count, "start_timestamp=2025-03-05T10:30:00Z&end_timestamp=2025-03-05T12:00:00Z&interval=hour") ==
              series({point("2025-03-05T10:30:00Z", "1.0"), point("2025-03-05T11:30:00Z", "2.0")}));
    }
    SUBCASE("weeks start on Monday") {
        f.event(sys_days{2025y / March / 3});                    // Monday of the first point's week
        f.event(sys_days{2025y / March / 9} + 23h + 59min);     // its Sunday
        f.event(sys_days{2025y / March / 10});                   // next Monday
        f.event(sys_days{2025y / March / 2} + 23h + 59min);     // the Sunday before: no point
        CHECK(f.quantities(count, "start_timestamp=2025-03-05T12:00:00Z&end_timestamp=2025-03-12T12:00:00Z&interval=week") ==
              series({point("2025-03-05T12:00:00Z", "2.0"), point("2025-03-12T12:00:00Z", "1.0")}));
    }
    SUBCASE("month steps are cumulative from Jan 31") {
        f.event(sys_days{2025y / January / 1});
        f.event(sys_days{2025y / February / 1});
        f.event(sys_days{2025y / April / 30} + 1h);
        f.event(sys_days{2025y / May / 1});  // no May point: May 28 is past the end
        CHECK(f.quantities(count, "start_timestamp=2025-01-31T08:00:00Z&end_timestamp=2025-05-01T00:00:00Z&interval=month") ==
              series({point("2025-01-31T08:00:00Z", "1.0"), point("2025-02-28T08:00:00Z", "1.0"),
                      point("2025-03-28T08:00:00Z", "0.0"), point("2025-04-28T08:00:00Z", "1.0")}));
    }
    SUBCASE("years from Feb 29") {
        f.event(sys_days{2025y / December / 31} + 23h);
        CHECK(f.quantities(count, "start_timestamp=2024-02-29T00:00:00Z&end_timestamp=2026-03-01T00:00:00Z&interval=year") ==
              series({point("2024-02-29T00:00:00Z", "0.0"), point("2025-02-28T00:00:00Z", "1.0"),
                      point("2026-02-28T00:00:00Z", "0.0")}));
    }
}

TEST_CASE("emulator quantities: range limits use each input's calendar date") {
    q_fixture f;
    const auto id = f.meter(R"({"conjunction":"and","clauses":[]})");
    auto status = [&](const std::string& q) { return f.get("/v1/meters/" + id + "/quantities?" + q).status; };
    CHECK(status("start_timestamp=2025-03-01T00:00:00Z&end_timestamp=2025-03-08T23:00:00Z&interval=hour") == 200);
    CHECK(status("start_timestamp=2025-03-01T23:59:00Z&end_timestamp=2025-03-09T00:00:00Z&interval=hour") == 422);
    // 2025-03-09T00:30+02:00 is still March 8 in UTC, but its own date is March 9.
    auto r = f.get("/v1/meters/" + id +
                   "/quantities?start_timestamp=2025-03-01T00:00:00Z&end_timestamp=2025-03-09T00:30:00%2B02:00&interval=hour");
    REQUIRE(r.status == 422);
    auto body = json::parse(r.body);
    CHECK(body.at("error") == "PolarRequestValidationError");
    const auto& e = body.at("detail").at(0);
    CHECK(e.at("type") == "value_error");
    CHECK(json::serialize(e.at("loc")) == R"(["query"])");
    CHECK(e.at("msg") == "The interval is too big. Try to change the interval or reduce the date range.");
    CHECK(json::serialize(e.at("input")) == R"(["2025-03-01T00:00:00+00:00","2025-03-09T00:30:00+02:00","hour"])");
    // ...and the other way round: 2025-03-08T23:30-02:00 is March 9 in UTC but March 8 locally.
    CHECK(status("start_timestamp=2025-03-01T00:00:00Z&end_timestamp=2025-03-08T23:30:00-02:00&interval=hour") == 200);
    CHECK(status("start_timestamp=2024-01-01T00:00:00Z&end_timestamp=2025-01-01T00:00:00Z&interval=day") == 200);
    CHECK(status("start_timestamp=2024-01-01T00:00:00Z&end_timestamp=2025-01-02T00:00:00Z&interval=day") == 422);
    CHECK(status("start_timestamp=2024-01-01T00:00:00Z&end_timestamp=2024-12-31T00:00:00Z&interval=week") == 200);
    CHECK(status("start_timestamp=2024-01-01T00:00:00Z&end_timestamp=2025-01-01T00:00:00Z&interval=week") == 422);
    CHECK(status("start_timestamp=2023-01-01T00:00:00Z&end_timestamp=2026-12-31T00:00:00Z&interval=month") == 200);
    CHECK(status("start_timestamp=2023-01-01T00:00:00Z&end_timestamp=2027-01-01T00:00:00Z&interval=month") == 422);
    CHECK(status("start_timestamp=2023-01-01T00:00:00Z&end_timestamp=2032-12-28T00:00:00Z&interval=year") == 200);
    CHECK(status("start_timestamp=2023-01-01T00:00:00Z&end_timestamp=2033-01-01T00:00:00Z&interval=year") == 422);
    // The range check comes after the 404.
    CHECK(f.get("/v1/meters/0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40/quantities?start_timestamp=2023-01-01T00:00:00Z&"
                "end_timestamp=2033-01-01T00:00:00Z&interval=year")
              .status == 404);
}

TEST_CASE("emulator quantities: parameter validation") {
    q_fixture f;
    const auto id = f.meter(R"({"conjunction":"and","clauses":[]})");
    auto errors = [&](const std::string& q, const std::string& meter_id = {}) {
        auto r = f.get("/v1/meters/" + (meter_id.empty() ? id : meter_id) + "/quantities" + q);
        CHECK(r.status == 422);
        return json::parse(r.body).at("detail").as_array();
    };
    auto d = errors("");
    REQUIRE(d.size() == 3);
    CHECK(json::serialize(d[0].at("loc")) == R"(["query","start_timestamp"])");
    CHECK(d[0].at("type") == "missing");
    CHECK(d[0].at("input").is_null());
    CHECK(json::serialize(d[2].at("loc")) == R"(["query","interval"])");

    const std::string tail = "&end_timestamp=2025-03-02T00:00:00Z&interval=day";
    d = errors("?start_timestamp=2022-12-31T23:59:59Z" + tail);
    CHECK(d[0].at("type") == "greater_than_equal");
    CHECK(d[0].at("msg") == "Input should be greater than or equal to 2023-01-01T00:00:00");
    CHECK(d[0].at("ctx") == json::parse(R"({"ge":"2023-01-01T00:00:00"})"));
    CHECK(f.get("/v1/meters/" + id +
                "/quantities?start_timestamp=2023-01-01T00:00:00Z&end_timestamp=2023-01-02T00:00:00Z&interval=day")
              .status == 200);
    // An end before 2023 is fine (no lower bound); it just yields no points.
    CHECK(f.quantities(id, "start_timestamp=2023-01-01T00:00:00Z&end_timestamp=2020-01-01T00:00:00Z&interval=day") ==
          R"({"quantities":[]})");

    d = errors("?start_timestamp=2025-03-01T00:00:00" + tail);
    CHECK(d[0].at("type") == "timezone_aware");
    CHECK(d[0].at("msg") == "Input should have timezone info");
    d = errors("?start_timestamp=2025-03-01" + tail);
    CHECK(d[0].at("type") == "timezone_aware");
    // An unencoded '+' becomes a space.
    d = errors("?start_timestamp=2025-03-01T00:00:00+02:00" + tail);
    CHECK(d[0].at("type") == "datetime_parsing");
    CHECK(d[0].at("msg") == "Input should be a valid datetime, invalid timezone sign");
    CHECK(d[0].at("input") == "2025-03-01T00:00:00 02:00");
    d = errors("?start_timestamp=2025-13-01T00:00:00Z" + tail);
    CHECK(d[0].at("type") == "datetime_from_date_parsing");
    CHECK(d[0].at("msg") == "Input should be a valid datetime or date, month value is outside expected range of 1-12");
    CHECK(d[0].at("ctx").at("error") == "month value is outside expected range of 1-12");
    d = errors("?start_timestamp=soon" + tail);
    CHECK(d[0].at("msg") == "Input should be a valid datetime or date, input is too short");
    d = errors("?start_timestamp=2025-03-01T25:00:00Z" + tail);
    CHECK(d[0].at("msg") == "Input should be a valid datetime, hour value is outside expected range of 0-23");
    // Unix timestamps are date-times in UTC.
    CHECK(f.get("/v1/meters/" + id + "/quantities?start_timestamp=1740787200" + tail).status == 200);

    d = errors("?start_timestamp=2025-03-01T00:00:00Z&end_timestamp=2025-03-02T00:00:00Z&interval=minute");
    CHECK(d[0].at("type") == "enum");
    CHECK(d[0].at("msg") == "Input should be 'year', 'month', 'week', 'day' or 'hour'");
    d = errors("?start_timestamp=2025-03-01T00:00:00Z" + tail + "&customer_id=nope");
    CHECK(json::serialize(d[0].at("loc")) == R"(["query","customer_id",0])");
    // Path and query errors together; validation before 404.
    d = errors("?interval=day", "bad");
    REQUIRE(d.size() == 3);
    CHECK(json::serialize(d[0].at("loc")) == R"(["path","id"])");
    CHECK(f.get("/v1/meters/0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40/quantities?start_timestamp=2025-03-01T00:00:00Z" + tail)
              .status == 404);
}

TEST_CASE("emulator quantities: customer filters") {
    q_fixture f;
    const auto a = f.s.add_customer(f.org, "a_ext", "a@example.com", "A");
    const auto b = f.s.add_customer(f.org, std::nullopt, "b@example.com", "B");
    const auto t = sys_days{2025y / March / 1} + 1h;
    f.event(t, "{}", "e", a);
    f.event(t, "{}", "e", std::nullopt, "a_ext");
    f.event(t, "{}", "e", b);
    f.event(t, "{}", "e", std::nullopt, "orphan");
    const auto id = f.meter(R"({"conjunction":"and","clauses":[]})");
    const std::string base = "start_timestamp=2025-03-01T00:00:00Z&end_timestamp=2025-03-01T00:00:00Z&interval=day";
    auto qty = [&](const std::string& extra) {
        auto body = json::parse(f.quantities(id, base + extra));
        return body.at("quantities").at(0).at("quantity").as_double();
    };
    CHECK(qty("") == 4);
    CHECK(qty("&customer_id=" + a) == 2);  // by id, and through the customer's external id
    CHECK(qty("&customer_id=" + b) == 1);
    CHECK(qty("&customer_id=" + a + "&customer_id=" + b) == 3);
    CHECK(qty("&external_customer_id=a_ext") == 2);  // by external id, and through the customer's id
    CHECK(qty("&external_customer_id=orphan") == 1);
    CHECK(qty("&external_customer_id=orphan&external_customer_id=a_ext") == 3);
    CHECK(qty("&customer_id=" + a + "&external_customer_id=a_ext") == 2);  // ANDed
    CHECK(qty("&customer_id=" + b + "&external_customer_id=a_ext") == 0);
    CHECK(qty("&customer_id=0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40") == 0);
    CHECK(qty("&external_customer_id=nobody") == 0);
}
