// Emulator logic, dated versions (MeterAPI-2026-10.md): GET /v1/events/ (§3.7),
// GET /v1/events/{id} (§3.8) and the dated Event / Customer shapes (§4.2, §4.3).
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

struct events_fixture {
    emulator_state s{11};
    system_clock::time_point now = sys_days{2026y / November / 10} + 12h;
    system_clock::time_point t0 = sys_days{2026y / November / 1};
    std::string org, org2, user, ada, alan, team;
    std::string e1, e2, e3, e4, child, grandchild, other_org_event;

    events_fixture() {
        s.set_clock([this] { return now; });
        org = s.add_organization("Acme");
        org2 = s.add_organization("Globex");
        user = s.add_user({org, org2});
        s.add_organization_token("tok", org, {"meters:read", "meters:write", "events:write"});
        s.add_organization_token("evread", org, {"events:read"});
        s.add_organization_token("meters_only", org, {"meters:read"});
        s.add_organization_token("tok2", org2, {"events:read"});
        s.add_user_token("utok", user, {"events:read", "meters:read"});
        ada = s.add_customer(org, "ext_ada", "Ada@Example.com", "Ada Lovelace");
        alan = s.add_customer(org, std::nullopt, "alan@example.com", "Alan Turing");
        team = s.add_team_customer(org, "ext_team", "Team Rocket");
        e1 = add("api.call", 1h, ada, std::nullopt, R"({"tokens":10,"model":"pro","ratio":1.5})");
        e2 = add("api.call", 2h, std::nullopt, "ext_ada", R"({"tokens":"20","model":"lite"})");
        e3 = add("llm.call", 3h, alan, std::nullopt, R"({"_llm":{"vendor":"openai","total_tokens":15},"flag":true})");
        e4 = add("api.call", 4h, std::nullopt, "ext_team", R"({"tokens":5})");
        emulator_event c;
        c.organization_id = org;
        c.name = "step";
        c.timestamp = t0 + 5h;
        c.external_customer_id = "ext_unknown";
        c.parent_id = e1;
        c.member_id = "1f0e1d2c-3b4a-4958-8776-655443322110";
        c.external_member_id = "mem_1";
        child = s.add_event(c);
        c.timestamp = t0 + 6h;
        c.parent_id = child;
        c.member_id.reset();
        c.external_member_id.reset();
        grandchild = s.add_event(c);
        emulator_event o;
        o.organization_id = org2;
        o.name = "api.call";
        o.timestamp = t0 + 1h;
        other_org_event = s.add_event(o);
    }

    std::string add(std::string name, hours at, std::optional<std::string> cid, std::optional<std::string> ext,
                    std::string md) {
        emulator_event e;
        e.organization_id = org;
        e.name = std::move(name);
        e.timestamp = t0 + at;
        e.customer_id = std::move(cid);
        e.external_customer_id = std::move(ext);
        e.metadata_json = std::move(md);
        return s.add_event(e);
    }

    emulator_response call(std::string_view method, std::string_view target, std::string_view token,
                           std::string_view body = {}, std::string_view version = "2026-10") {
        return polar_test::call_state(
            s, {.method = method, .target = target, .token = token, .body = body, .version = version});
    }
    emulator_response get(std::string_view target, std::string_view token = "tok", std::string_view version = "2026-10") {
        return call("GET", target, token, {}, version);
    }
    // The ids of a list response, in order.
    std::vector<std::string> ids(std::string_view target, std::string_view token = "tok") {
        auto r = get(target, token);
        REQUIRE_MESSAGE(r.status == 200, r.body);
        std::vector<std::string> v;
        const json::value doc = json::parse(r.body);
        for (const auto& e : doc.at("items").as_array()) v.emplace_back(e.at("id").as_string());
        return v;
    }
};

json::value parse(const emulator_response& r) { return json::parse(r.body); }

std::string pct(std::string_view s) {
    std::string o;
    for (char c : s) {
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') {
            o.push_back(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
            o += buf;
        }
    }
    return o;
}

using ids_t = std::vector<std::string>;

} // namespace

TEST_CASE("emulator events list: the dated routes only") {
    events_fixture f;
    CHECK(f.get("/v1/events/", "tok", "2026-04").status == 200);
    auto r = f.get("/v1/events/", "tok", "2025-03");
    CHECK(r.status == 404);
    CHECK(r.body == R"({"detail":"Not Found"})");
    CHECK(f.get("/v1/events/" + f.e1, "tok", "2025-03").status == 404);
    // Slash redirect to the list route.
    r = f.get("/v1/events?limit=2");
    CHECK(r.status == 307);
    CHECK(f.call("POST", "/v1/events/", "tok", "{}").status == 405);
    // GET /v1/events/ingest is the {id} route (422 on the id).
    r = f.get("/v1/events/ingest");
    CHECK(r.status == 422);
    CHECK(json::serialize(parse(r).at("detail").at(0).at("loc")) == R"(["path","id"])");
}

TEST_CASE("emulator events list: scopes") {
    events_fixture f;
    CHECK(f.get("/v1/events/", "evread").status == 200);
    CHECK(f.get("/v1/events/", "tok").status == 200);  // events:write is enough
    auto r = f.get("/v1/events/", "meters_only");
    CHECK(r.status == 403);
    CHECK(r.body.find("insufficient_scope") != std::string::npos);
    CHECK(f.get("/v1/events/" + f.e1, "meters_only").status == 403);
    CHECK(f.get("/v1/events/", "").status == 401);
}

TEST_CASE("emulator events list: default order, paging, past the end") {
    events_fixture f;
    CHECK(f.ids("/v1/events/") == ids_t{f.grandchild, f.child, f.e4, f.e3, f.e2, f.e1});
    CHECK(f.ids("/v1/events/?sorting=timestamp&sorting=-timestamp&limit=2") == ids_t{f.e1, f.e2});
    auto v = parse(f.get("/v1/events/?limit=4&page=2"));
    CHECK(v.at("items").as_array().size() == 2);
    CHECK(json::serialize(v.at("pagination")) == R"({"total_count":6,"max_page":2})");
    // Past the end: Tinybird's short-circuit reports 0 (§2.2).
    CHECK(f.get("/v1/events/?limit=4&page=3").body == R"({"items":[],"pagination":{"total_count":0,"max_page":0}})");
    v = parse(f.get("/v1/events/?limit=1000"));
    CHECK(json::serialize(v.at("pagination")) == R"({"total_count":6,"max_page":1})");
    auto r = f.get("/v1/events/?sorting=name");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("msg") == "Input should be 'timestamp' or '-timestamp'");
    CHECK(f.get("/v1/events/?limit=0").status == 422);
    // Another organization's events are not visible; the user sees both.
    CHECK(f.ids("/v1/events/", "tok2") == ids_t{f.other_org_event});
    CHECK(f.ids("/v1/events/?limit=100", "utok").size() == 7);
    CHECK(f.ids("/v1/events/?organization_id=" + f.org2, "utok") == ids_t{f.other_org_event});
}

TEST_CASE("emulator events list: the dated Event and Customer shapes") {
    events_fixture f;
    auto r = f.get("/v1/events/" + f.e1);
    REQUIRE(r.status == 200);
    const auto v = parse(r);
    const auto& o = v.as_object();
    std::vector<std::string> keys;
    for (const auto& kv : o) keys.emplace_back(kv.key());
    CHECK(keys == std::vector<std::string>{"id", "timestamp", "organization_id", "customer_id", "customer",
                                           "external_customer_id", "member_id", "external_member_id", "child_count",
                                           "parent_id", "label", "name", "source", "metadata"});
    CHECK(o.at("timestamp") == "2026-11-01T01:00:00Z");
    CHECK(o.at("child_count") == 1);
    CHECK(o.at("parent_id").is_null());
    CHECK(o.at("label") == "api.call");
    CHECK(o.at("source") == "user");
    CHECK(r.body.find(R"("metadata":{"tokens":10,"model":"pro","ratio":1.5}})") != std::string::npos);
    const auto& c = o.at("customer").as_object();
    keys.clear();
    for (const auto& kv : c) keys.emplace_back(kv.key());
    CHECK(keys == std::vector<std::string>{"id", "created_at", "modified_at", "metadata", "external_id", "email",
                                           "email_verified", "type", "name", "billing_name", "billing_address",
                                           "tax_id", "locale", "organization_id", "default_payment_method_id",
                                           "deleted_at", "first_user_event_at", "avatar_url"});
    CHECK(c.at("type") == "individual");
    CHECK(c.at("email") == "Ada@Example.com");
    CHECK(c.at("billing_name").is_null());
    CHECK(c.at("first_user_event_at") == "2026-11-01T01:00:00Z");
    CHECK(std::string(c.at("avatar_url").as_string()).rfind("https://www.gravatar.com/avatar/", 0) == 0);

    // A child: parent, member ids; an unknown external customer: no customer.
    const auto ch = parse(f.get("/v1/events/" + f.child));
    CHECK(ch.at("parent_id") == json::value(f.e1));
    CHECK(ch.at("member_id") == "1f0e1d2c-3b4a-4958-8776-655443322110");
    CHECK(ch.at("external_member_id") == "mem_1");
    CHECK(ch.at("customer").is_null());
    CHECK(ch.at("child_count") == 1);

    // A team customer: type team, email and avatar null.
    const auto tm = parse(f.get("/v1/events/" + f.e4)).at("customer");
    CHECK(tm.at("type") == "team");
    CHECK(tm.at("email").is_null());
    CHECK(tm.at("avatar_url").is_null());

    // 404 / 422 / another organization's event.
    r = f.get("/v1/events/0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40");
    CHECK(r.status == 404);
    CHECK(r.body == R"({"error":"ResourceNotFound","detail":"Not found"})");
    CHECK(f.get("/v1/events/" + f.other_org_event).status == 404);
    CHECK(f.get("/v1/events/not-a-uuid").status == 422);
}

TEST_CASE("emulator events list: system events put source before name") {
    events_fixture f;
    emulator_event e;
    e.organization_id = f.org;
    e.name = "meter.credited";
    e.source = "system";
    e.timestamp = f.t0 + 9h;
    e.customer_id = f.ada;
    e.metadata_json = R"({"meter_id":"x","units":10,"rollover":false})";
    const auto id = f.s.add_event(e);
    const auto r = f.get("/v1/events/" + id);
    CHECK(r.body.find(R"("label":"Meter credited","source":"system","name":"meter.credited","metadata":)") !=
          std::string::npos);
    CHECK(f.ids("/v1/events/?source=system") == ids_t{id});
    CHECK(f.ids("/v1/events/?source=user&source=system&limit=1") == ids_t{id});
    // A system event does not count as the customer's first user event.
    CHECK(parse(r).at("customer").at("first_user_event_at") == "2026-11-01T01:00:00Z");
    const auto bad = f.get("/v1/events/?source=other");
    CHECK(bad.status == 422);
    CHECK(json::serialize(parse(bad).at("detail").at(0).at("loc")) == R"(["query","source",0])");
}

TEST_CASE("emulator events list: customer filters are a union") {
    events_fixture f;
    // customer_id also matches events carrying that customer's external id.
    CHECK(f.ids("/v1/events/?customer_id=" + f.ada) == ids_t{f.e2, f.e1});
    CHECK(f.ids("/v1/events/?external_customer_id=ext_ada") == ids_t{f.e2, f.e1});
    CHECK(f.ids("/v1/events/?customer_id=" + f.alan + "&external_customer_id=ext_team") == ids_t{f.e4, f.e3});
    CHECK(f.ids("/v1/events/?external_customer_id=ext_unknown") == ids_t{f.grandchild, f.child});
    CHECK(f.ids("/v1/events/?name=llm.call&name=step") == ids_t{f.grandchild, f.child, f.e3});
}

TEST_CASE("emulator events list: time bounds are exclusive") {
    events_fixture f;
    CHECK(f.ids("/v1/events/?start_timestamp=2026-11-01T01:00:00Z&end_timestamp=2026-11-01T04:00:00Z") ==
          ids_t{f.e3, f.e2});
    CHECK(f.ids("/v1/events/?start_timestamp=" + pct("2026-11-01T01:59:59+00:00")) == ids_t{f.grandchild, f.child, f.e4, f.e3, f.e2});
    auto r = f.get("/v1/events/?start_timestamp=2026-11-01T01:00:00");
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("type") == "timezone_aware");
}

TEST_CASE("emulator events list: parent_id and depth") {
    events_fixture f;
    CHECK(f.ids("/v1/events/?parent_id=" + f.e1) == ids_t{f.child});
    CHECK(f.ids("/v1/events/?parent_id=" + f.e1 + "&depth=2") == ids_t{f.grandchild, f.child});
    CHECK(f.ids("/v1/events/?depth=0") == ids_t{f.e4, f.e3, f.e2, f.e1});
    CHECK(f.ids("/v1/events/?depth=1") == ids_t{f.child, f.e4, f.e3, f.e2, f.e1});
    auto r = f.get("/v1/events/?depth=6");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"RequestValidationError","detail":[{"type":"less_than_equal","loc":["query","depth"],"msg":"Input should be less than or equal to 5","input":"6","ctx":{"le":5}}]})");
}

TEST_CASE("emulator events list: metadata and query") {
    events_fixture f;
    CHECK(f.ids("/v1/events/?metadata[model]=pro&metadata[model]=lite") == ids_t{f.e2, f.e1});
    // JSONExtractString: a stored number never equals its text.
    CHECK(f.ids("/v1/events/?metadata[tokens]=10").empty());
    CHECK(f.ids("/v1/events/?metadata[tokens]=20") == ids_t{f.e2});

    auto r = f.get("/v1/events/?query=ada");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"RequestValidationError","detail":[{"type":"value_error","loc":["query","query"],"msg":"Query is only supported when organization_id is provided.","input":"ada"}]})");
    r = f.get("/v1/events/?query=ad&organization_id=" + f.org);
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("type") == "query");
    CHECK(f.ids("/v1/events/?query=LOVELACE&organization_id=" + f.org) == ids_t{f.e2, f.e1});
    CHECK(f.ids("/v1/events/?query=llm.&organization_id=" + f.org) == ids_t{f.e3});
}

TEST_CASE("emulator events list: filter (ClickHouse semantics)") {
    events_fixture f;
    auto q = [&](std::string_view filter) { return f.ids("/v1/events/?limit=100&filter=" + pct(filter)); };
    CHECK(q(R"({"conjunction":"and","clauses":[{"property":"model","operator":"eq","value":"pro"}]})") == ids_t{f.e1});
    // Dotted paths and the metadata. prefix.
    CHECK(q(R"({"conjunction":"and","clauses":[{"property":"metadata._llm.total_tokens","operator":"gte","value":15}]})") ==
          ids_t{f.e3});
    // like is literal: `%` is no wildcard.
    CHECK(q(R"({"conjunction":"and","clauses":[{"property":"name","operator":"like","value":"api%"}]})").empty());
    CHECK(q(R"({"conjunction":"and","clauses":[{"property":"name","operator":"like","value":"pi.c"}]})") ==
          ids_t{f.e4, f.e2, f.e1});
    // JSONExtractFloat reads a missing key as 0: lt matches events without it.
    CHECK(q(R"({"conjunction":"and","clauses":[{"property":"tokens","operator":"lt","value":6}]})") ==
          ids_t{f.grandchild, f.child, f.e4, f.e3, f.e2});
    // timestamp compares epoch seconds.
    CHECK(q(R"({"conjunction":"and","clauses":[{"property":"timestamp","operator":"gt","value":1793498400}]})") ==
          ids_t{f.grandchild, f.child, f.e4, f.e3});
    // Invalid JSON and schema errors: pydantic's own loc, not under "query".
    auto r = f.get("/v1/events/?filter=" + pct("{nope"));
    CHECK(r.status == 422);
    CHECK(parse(r).at("detail").at(0).at("type") == "json_invalid");
    CHECK(json::serialize(parse(r).at("detail").at(0).at("loc")) == "[]");
    r = f.get("/v1/events/?filter=" + pct(R"({"clauses":[]})"));
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"RequestValidationError","detail":[{"type":"missing","loc":["conjunction"],"msg":"Field required","input":{"clauses":[]}}]})");
    // FilterClause limits of the dated versions.
    r = f.get("/v1/events/?filter=" +
              pct(R"({"conjunction":"and","clauses":[{"property":"n","operator":"eq","value":3000000000}]})"));
    CHECK(r.status == 422);
}

TEST_CASE("emulator events list: meter_id") {
    events_fixture f;
    auto create = [&](std::string body) {
        auto r = f.call("POST", "/v1/meters/", "tok", body);
        REQUIRE_MESSAGE(r.status == 201, r.body);
        return std::string(parse(r).at("id").as_string());
    };
    const auto sum_meter = create(
        R"({"name":"Tokens","filter":{"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"api.call"}]},"aggregation":{"func":"sum","property":"tokens"}})");
    // The meter's filter plus the numeric guard ("20" is a string).
    CHECK(f.ids("/v1/events/?meter_id=" + sum_meter, "evread") == ids_t{f.e4, f.e1});
    const auto count_meter = create(
        R"({"name":"Calls","filter":{"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"api.call"}]},"aggregation":{"func":"count"}})");
    CHECK(f.ids("/v1/events/?meter_id=" + count_meter, "evread") == ids_t{f.e4, f.e2, f.e1});
    auto r = f.get("/v1/events/?meter_id=0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40");
    CHECK(r.status == 422);
    CHECK(r.body ==
          R"({"error":"PolarRequestValidationError","detail":[{"type":"meter_id","loc":["query","meter_id"],"msg":"Meter not found.","input":"0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40"}]})");
    // Another organization's meter is not visible either.
    CHECK(f.get("/v1/events/?meter_id=" + sum_meter, "tok2").status == 422);
}

TEST_CASE("emulator seed_demo: the dated extras only show on the dated versions") {
    emulator_state s;
    s.set_clock([] { return sys_days{2026y / November / 10} + 12h; });
    const auto demo = s.seed_demo();
    CHECK(s.event_count() == 3400);
    CHECK(s.customer_count() == 10);
    CHECK(demo.dated_event_count > 0);
    auto call = [&](std::string target, std::string_view version, std::string_view token = "polar_demo_token") {
        return polar_test::call_state(s, {.target = target, .token = token, .version = version});
    };
    const auto all = demo.meter_ids[5];  // "All events" (count)
    const auto old = json::parse(call("/v1/meters/" + all + "/events?limit=1", "2025-03").body);
    CHECK(old.at("pagination").at("total_count") == 3000);
    auto listed = json::parse(call("/v1/events/?limit=1&organization_id=" + demo.organization_id, "2026-10").body);
    CHECK(listed.at("pagination").at("total_count") == 3000 + static_cast<std::int64_t>(demo.dated_event_count));

    // System events with their typed metadata.
    auto sys = json::parse(call("/v1/events/?source=system&name=meter.credited", "2026-10").body);
    REQUIRE(sys.at("items").as_array().size() == 2);
    const auto& credited = sys.at("items").at(0);
    CHECK(credited.at("label") == "Meter credited");
    CHECK(credited.at("metadata").at("units") == 100000);
    CHECK(credited.at("metadata").at("rollover") == false);
    CHECK(credited.at("metadata").at("meter_id") == json::value(demo.meter_ids[0]));
    sys = json::parse(call("/v1/events/?source=system&name=customer.created&limit=100", "2026-10").body);
    CHECK(sys.at("pagination").at("total_count") == 8);

    // The team customer: no email; its LLM calls have floats, _llm, _cost
    // and parents.
    auto team = json::parse(call("/v1/events/?external_customer_id=team_42&name=llm.call&limit=1", "2026-10").body);
    const auto& e = team.at("items").at(0);
    CHECK(e.at("customer").at("type") == "team");
    CHECK(e.at("customer").at("email").is_null());
    CHECK(e.at("metadata").at("latency_ms").is_double());
    CHECK(e.at("metadata").at("_llm").at("vendor") == "openai");
    CHECK(e.at("metadata").at("_cost").at("currency") == "usd");
    CHECK(!e.at("parent_id").is_null());
    CHECK(json::parse(call("/v1/events/?depth=0&name=agent.run", "2026-10").body).at("pagination").at("total_count") == 20);

    // Tokens: the demo organization token reads events and customer meters.
    CHECK(call("/v1/customer-meters/", "2026-10").status == 200);
    CHECK(call("/v1/events/", "2026-10", "polar_demo_read_token").status == 403);
    // Dated quantities see the extras, 2025-03 does not.
    const std::string range = "/quantities?start_timestamp=2026-10-01T00:00:00Z&end_timestamp=2026-11-10T00:00:00Z&interval=month";
    const auto q_old = json::parse(call("/v1/meters/" + all + range, "2025-03").body);
    const auto q_new = json::parse(call("/v1/meters/" + all + range, "2026-10").body);
    CHECK(q_new.at("total").to_number<double>() >
          q_old.at("quantities").at(0).at("quantity").to_number<double>() +
              q_old.at("quantities").at(1).at("quantity").to_number<double>());
}

TEST_CASE("emulator events list: the hidden cursor envelope") {
    events_fixture f;
    auto r = f.get("/v1/events/?cursor_pagination=true&limit=4");
    REQUIRE(r.status == 200);
    CHECK(r.body.substr(r.body.size() - 38) == R"(],"pagination":{"has_next_page":true}})");
    r = f.get("/v1/events/?cursor_pagination=true&limit=4&page=2");
    CHECK(r.body.substr(r.body.size() - 39) == R"(],"pagination":{"has_next_page":false}})");
    CHECK(f.get("/v1/events/?cursor_pagination=maybe").status == 422);
}

TEST_CASE("emulator events list: _cost.amount compares as a number") {
    events_fixture f;
    const auto id = f.add("priced", 8h, std::nullopt, "u", R"({"_cost":{"amount":"0.004","currency":"usd"}})");
    CHECK(f.ids("/v1/events/?filter=" +
                pct(R"({"conjunction":"and","clauses":[{"property":"_cost.amount","operator":"gt","value":0}]})")) ==
          ids_t{id});
}
