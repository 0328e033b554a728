// Emulator logic: routing, authentication, meters CRUD, validation, lists.
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

std::vector<std::string> rw_scopes() { return {"meters:read", "meters:write", "events:write"}; }

struct api_fixture {
    emulator_state s{7};
    system_clock::time_point now = sys_days{2025y / March / 25} + 12h;
    std::string org, org2, org3, user, other_user;

    api_fixture() {
        s.set_default_api_version(api_version_2025_03);  // these tests pin the seed-era contract
        s.set_clock([this] { return now; });
        org = s.add_organization("Acme");
        org2 = s.add_organization("Globex");
        org3 = s.add_organization("Initech");
        user = s.add_user({org, org2});
        s.add_organization_token("tok", org, rw_scopes());
        s.add_organization_token("tok2", org2, rw_scopes());
        s.add_organization_token("read", org, {"meters:read"});
        s.add_organization_token("web", org, {"web_default"});
        s.add_organization_token("ingest_only", org, {"events:write"});
        s.add_organization_token("meters_write_only", org, {"meters:write"});
        s.add_user_token("utok", user, rw_scopes());
        s.add_customer_session_token("polar_cst_x");
    }

    emulator_response call(std::string_view method, std::string_view target, std::string_view token,
                           std::string_view body = {}) {
        return polar_test::call_state(s, {.method = method, .target = target, .token = token, .body = body});
    }
    emulator_response get(std::string_view target, std::string_view token = "tok") { return call("GET", target, token); }
    emulator_response post(std::string_view target, std::string_view body, std::string_view token = "tok") {
        return call("POST", target, token, body);
    }
    emulator_response patch(std::string_view target, std::string_view body, std::string_view token = "tok") {
        return call("PATCH", target, token, body);
    }

    std::string create(std::string_view name, std::string_view extra = {}, std::string_view token = "tok") {
        std::string body = R"({"name":")" + std::string(name) +
                           R"(","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"})";
        if (!extra.empty()) body += "," + std::string(extra);
        body += "}";
        auto r = post("/v1/meters/", body, token);
        REQUIRE_MESSAGE(r.status == 201, r.body);
        return std::string(json::parse(r.body).at("id").as_string());
    }
};

json::value parse(const emulator_response& r) { return json::parse(r.body); }

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

std::string header(const emulator_response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (k.size() != name.size()) continue;
        bool eq = true;
        for (std::size_t i = 0; i < k.size(); ++i)
            eq = eq && std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
        if (eq) return v;
    }
    return {};
}

const json::array& detail(const emulator_response& r, json::value& holder) {
    holder = json::parse(r.body);
    return holder.at("detail").as_array();
}

std::string loc_of(const json::value& e) { return json::serialize(e.at("loc")); }

std::vector<std::string> names_of(const json::value& list) {
    std::vector<std::string> v;
    for (const auto& m : list.at("items").as_array()) v.emplace_back(m.at("name").as_string());
    return v;
}

constexpr const char* other_uuid4 = "0b5e7b1e-9a44-4d8e-9d1f-2f4c1d2e3f40";

} // namespace

TEST_CASE("emulator routing: unknown paths, wrong methods and slash redirects") {
    api_fixture f;
    auto r = f.get("/v1/nothing");
    CHECK(r.status == 404);
    CHECK(r.body == R"({"detail":"Not Found"})");

    r = f.call("DELETE", "/v1/meters/", "tok");
    CHECK(r.status == 405);
    CHECK(r.body == R"({"detail":"Method Not Allowed"})");
    CHECK(header(r, "allow") == "GET");
    CHECK(f.call("GET", "/v1/events/ingest", "tok").status == 405);
    CHECK(f.call("PUT", std::string("/v1/meters/") + other_uuid4, "tok").status == 405);

    // The other slash variant is redirected before authentication.
    r = f.call("GET", "/v1/meters?limit=5&query=a+b", "");
    CHECK(r.status == 307);
    CHECK(header(r, "location") == "/v1/meters/?limit=5&query=a+b");
    CHECK(r.body.empty());
    CHECK(r.content_type.empty());

    emulator_request req;
    req.method = "POST";
    req.target = "/v1/events/ingest/";
    req.host = "127.0.0.1:8080";
    r = f.s.handle(req);
    CHECK(r.status == 307);
    CHECK(header(r, "location") == "http://127.0.0.1:8080/v1/events/ingest");

    r = f.get(std::string("/v1/meters/") + other_uuid4 + "/quantities/");
    CHECK(r.status == 307);
    CHECK(header(r, "location") == std::string("/v1/meters/") + other_uuid4 + "/quantities");
    CHECK(f.get(std::string("/v1/meters/") + other_uuid4 + "/other").status == 404);
    // Stripping every trailing slash leaves no route: 404, not a redirect.
    CHECK(f.get("/v1/meters//").status == 404);
}

TEST_CASE("emulator auth: 401 and 403 bodies and WWW-Authenticate headers") {
    api_fixture f;
    auto r = f.get("/v1/meters/", "");
    CHECK(r.status == 401);
    CHECK(r.body == R"({"error":"Unauthorized","detail":"Unauthorized"})");
    CHECK(header(r, "www-authenticate") == "Bearer realm=\"polar\"");

    emulator_request basic;
    basic.method = "GET";
    basic.target = "/v1/meters/";
    basic.authorization = "Basic dXNlcjpwYXNz";
    CHECK(f.s.handle(basic).status == 401);
    CHECK(f.s.handle(basic).body == R"({"error":"Unauthorized","detail":"Unauthorized"})");

    r = f.get("/v1/meters/", "nope");
    CHECK(r.status == 401);
    auto body = parse(r);
    CHECK(body.at("error") == "invalid_token");
    CHECK(body.at("error_description") ==
          "The access token provided is expired, revoked, malformed, or invalid for other reasons.");
    CHECK(header(r, "www-authenticate").find("error=\"invalid_token\"") != std::string::npos);
    CHECK(header(r, "www-authenticate").rfind("Bearer realm=\"polar\"", 0) == 0);

    // A customer session token is not a valid subject for meters.
    CHECK(parse(f.get("/v1/meters/", "polar_cst_x")).at("error") == "invalid_token");
    // The scheme is case-insensitive.
    basic.authorization = "bearer tok";
    CHECK(f.s.handle(basic).status == 200);

    r = f.post("/v1/meters/", "{}", "read");
    CHECK(r.status == 403);
    body = parse(r);
    CHECK(body.at("error") == "insufficient_scope");
    CHECK(body.at("error_description") == "The request requires higher privileges than provided by the access token.");
    CHECK(header(r, "www-authenticate").find("scope=\"meters:write web_default\"") != std::string::npos);
    CHECK(header(r, "www-authenticate").find("error=\"insufficient_scope\"") != std::string::npos);

    r = f.get("/v1/meters/", "ingest_only");
    CHECK(r.status == 403);
    CHECK(header(r, "www-authenticate").find("scope=\"meters:read meters:write web_default\"") != std::string::npos);
    r = f.post("/v1/events/ingest", R"({"events":[]})", "meters_write_only");
    CHECK(r.status == 403);
    CHECK(header(r, "www-authenticate").find("scope=\"events:write web_default\"") != std::string::npos);

    // meters:write also reads; web_default does everything.
    CHECK(f.get("/v1/meters/", "meters_write_only").status == 200);
    CHECK(f.get("/v1/meters/", "web").status == 200);
    CHECK(f.post("/v1/events/ingest", R"({"events":[]})", "web").status == 200);

    f.s.set_organization_blocked(f.org, true);
    r = f.get("/v1/meters/");
    CHECK(r.status == 403);
    CHECK(r.body == R"({"error":"NotPermitted","detail":"Not permitted"})");
}

TEST_CASE("emulator evaluation order: auth, then validation, then 404") {
    api_fixture f;
    CHECK(f.get("/v1/meters/not-a-uuid", "").status == 401);
    CHECK(f.get("/v1/meters/not-a-uuid", "read").status == 422);
    CHECK(f.get(std::string("/v1/meters/") + other_uuid4, "read").status == 404);
    // A malformed JSON body is rejected before authentication (FastAPI decodes it first).
    auto r = f.call("POST", "/v1/meters/", "", "{");
    CHECK(r.status == 422);
    json::value h;
    const auto& d = detail(r, h);
    CHECK(h.at("error") == "RequestValidationError");
    CHECK(d[0].at("type") == "json_invalid");
    CHECK(loc_of(d[0]) == R"(["body",1])");
    CHECK(d[0].at("msg") == "JSON decode error");
    CHECK(d[0].at("input") == json::object{});
    CHECK(d[0].at("ctx").at("error") == "Expecting property name enclosed in double quotes");
}

TEST_CASE("emulator body decoding: Python json error messages and positions") {
    api_fixture f;
    struct tc {
        const char* body;
        const char* msg;
        int pos;
    };
    const tc cases[] = {
        {R"({"name": })", "Expecting value", 9},
        {"[1 2]", "Expecting ',' delimiter", 3},
        {"{} x", "Extra data", 3},
        {R"({"a" 1})", "Expecting ':' delimiter", 5},
        {R"({"a":1,})", "Expecting property name enclosed in double quotes", 7},
        {R"({"a":"x)", "Unterminated string starting at", 5},
        {" ", "Expecting value", 1},
        {R"({"é":tru})", "Expecting value", 5},
    };
    for (const auto& c : cases) {
        CAPTURE(c.body);
        auto r = f.post("/v1/meters/", c.body);
        REQUIRE(r.status == 422);
        json::value h;
        const auto& d = detail(r, h);
        CHECK(d[0].at("ctx").at("error") == c.msg);
        CHECK(d[0].at("loc").at(1) == c.pos);
    }
    // An empty body is a missing body.
    auto r = f.call("POST", "/v1/meters/", "tok");
    json::value h;
    CHECK(r.status == 422);
    CHECK(detail(r, h)[0].at("type") == "missing");
    CHECK(loc_of(detail(r, h)[0]) == R"(["body"])");
    r = f.post("/v1/meters/", "null");
    CHECK(detail(r, h)[0].at("type") == "missing");
    // A body that is not an object.
    r = f.post("/v1/meters/", "[]");
    CHECK(detail(r, h)[0].at("type") == "model_attributes_type");
    // A non-JSON content type is validated as raw bytes.
    emulator_request req;
    req.method = "POST";
    req.target = "/v1/meters/";
    req.authorization = "Bearer tok";
    req.content_type = "text/plain";
    req.body = R"({"name":"abc"})";
    r = f.s.handle(req);
    CHECK(r.status == 422);
    CHECK(detail(r, h)[0].at("type") == "model_attributes_type");
    // application/*+json is JSON.
    req.content_type = "application/merge-patch+json; charset=utf-8";
    req.body = R"({"name":"abc","filter":{"conjunction":"or","clauses":[]},"aggregation":{"func":"count"}})";
    CHECK(f.s.handle(req).status == 201);
}

TEST_CASE("emulator create meter: 201 with the Meter schema") {
    api_fixture f;
    auto r = f.post("/v1/meters/", R"({"name":"API tokens","filter":{"conjunction":"and","clauses":[
        {"property":"name","operator":"eq","value":"llm.call","extra":1},
        {"conjunction":"or","clauses":[{"property":"model","operator":"eq","value":"lite"},
                                       {"property":"n","operator":"gte","value":2.0}]}]},
        "aggregation":{"func":"sum","property":"tokens"},"metadata":{"team":"core","n":3,"b":true}})");
    REQUIRE(r.status == 201);
    CHECK(r.content_type == "application/json");
    auto m = parse(r).as_object();
    std::vector<std::string> keys;
    for (const auto& kv : m) keys.emplace_back(kv.key());
    CHECK(keys == std::vector<std::string>{"metadata", "created_at", "modified_at", "id", "name", "filter",
                                           "aggregation", "organization_id"});
    CHECK(m.at("created_at") == "2025-03-25T12:00:00Z");
    CHECK(m.at("modified_at").is_null());
    CHECK(str(m.at("organization_id")) == f.org);
    CHECK(m.at("name") == "API tokens");
    CHECK(json::serialize(m.at("metadata")) == R"({"team":"core","n":3,"b":true})");
    // Extra keys are dropped and 2.0 becomes the integer 2.
    CHECK(json::serialize(m.at("filter")) ==
          R"({"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"},)"
          R"({"conjunction":"or","clauses":[{"property":"model","operator":"eq","value":"lite"},)"
          R"({"property":"n","operator":"gte","value":2}]}]})");
    CHECK(json::serialize(m.at("aggregation")) == R"({"func":"sum","property":"tokens"})");
    const std::string id(m.at("id").as_string());
    CHECK(id.size() == 36);
    CHECK(id[14] == '4');
    CHECK(f.s.meter_count() == 1);

    // Count ignores extra keys; metadata defaults to {}; microseconds appear when non-zero.
    f.now += 123456us;
    r = f.post("/v1/meters/", R"({"name":"abc","filter":{"conjunction":"or","clauses":[]},
        "aggregation":{"func":"count","property":"x"}})");
    REQUIRE(r.status == 201);
    CHECK(parse(r).at("aggregation") == json::parse(R"({"func":"count"})"));
    CHECK(parse(r).at("metadata") == json::object{});
    CHECK(parse(r).at("created_at") == "2025-03-25T12:00:00.123456Z");

    // GET returns the same document.
    auto g = f.get("/v1/meters/" + std::string(parse(r).at("id").as_string()));
    CHECK(g.status == 200);
    CHECK(g.body == r.body);
}

TEST_CASE("emulator create meter: field validation errors") {
    api_fixture f;
    json::value h;
    auto r = f.post("/v1/meters/", "{}");
    REQUIRE(r.status == 422);
    auto d = detail(r, h);
    REQUIRE(d.size() == 3);
    CHECK(loc_of(d[0]) == R"(["body","name"])");
    CHECK(loc_of(d[1]) == R"(["body","filter"])");
    CHECK(loc_of(d[2]) == R"(["body","aggregation"])");
    CHECK(d[0].at("type") == "missing");
    CHECK(d[0].at("msg") == "Field required");
    CHECK(d[0].at("input") == json::object{});
    CHECK(h.at("error") == "RequestValidationError");

    const std::string ok_rest = R"("filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"})";
    r = f.post("/v1/meters/", R"({"name":"ab",)" + ok_rest + "}");
    d = detail(r, h);
    REQUIRE(d.size() == 1);
    CHECK(d[0].at("type") == "string_too_short");
    CHECK(d[0].at("msg") == "String should have at least 3 characters");
    CHECK(d[0].at("ctx") == json::parse(R"({"min_length":3})"));
    CHECK(d[0].at("input") == "ab");
    // Characters, not bytes; not trimmed.
    CHECK(f.post("/v1/meters/", R"({"name":"éé",)" + ok_rest + "}").status == 422);
    CHECK(f.post("/v1/meters/", R"({"name":"  a",)" + ok_rest + "}").status == 201);
    d = detail(f.post("/v1/meters/", R"({"name":5,)" + ok_rest + "}"), h);
    CHECK(d[0].at("type") == "string_type");
    CHECK(d[0].at("msg") == "Input should be a valid string");

    auto one = [&](std::string_view filter, std::string_view agg = R"({"func":"count"})") {
        auto resp = f.post("/v1/meters/", R"({"name":"abc","filter":)" + std::string(filter) + R"(,"aggregation":)" +
                                              std::string(agg) + "}");
        CHECK(resp.status == 422);
        return json::parse(resp.body).at("detail").as_array();
    };
    d = one(R"({"clauses":[]})");
    CHECK(loc_of(d[0]) == R"(["body","filter","conjunction"])");
    CHECK(d[0].at("input") == json::parse(R"({"clauses":[]})"));
    d = one(R"({"conjunction":"xor","clauses":{}})");
    REQUIRE(d.size() == 2);
    CHECK(d[0].at("type") == "enum");
    CHECK(d[0].at("msg") == "Input should be 'and' or 'or'");
    CHECK(d[0].at("ctx").at("expected") == "'and' or 'or'");
    CHECK(d[1].at("type") == "list_type");
    CHECK(d[1].at("msg") == "Input should be a valid list");
    d = one("\"x\"");
    CHECK(d[0].at("type") == "model_attributes_type");
    CHECK(d[0].at("msg") == "Input should be a valid dictionary or object to extract fields from");

    // A clause that fits neither union member: errors of both, with branch labels.
    d = one(R"({"conjunction":"and","clauses":[{"property":"a","operator":"contains","value":1}]})");
    REQUIRE(d.size() == 3);
    CHECK(loc_of(d[0]) == R"(["body","filter","clauses",0,"FilterClause","operator"])");
    CHECK(d[0].at("msg") == "Input should be 'eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'like' or 'not_like'");
    CHECK(loc_of(d[1]) == R"(["body","filter","clauses",0,"Filter","conjunction"])");
    CHECK(loc_of(d[2]) == R"(["body","filter","clauses",0,"Filter","clauses"])");

    // A non-integral number value: each scalar branch says why.
    d = one(R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq","value":1.5}]})");
    REQUIRE(d.size() >= 3);
    CHECK(loc_of(d[0]) == R"(["body","filter","clauses",0,"FilterClause","value","str"])");
    CHECK(d[0].at("type") == "string_type");
    CHECK(loc_of(d[1]) == R"(["body","filter","clauses",0,"FilterClause","value","int"])");
    CHECK(d[1].at("type") == "int_from_float");
    CHECK(d[1].at("msg") == "Input should be a valid integer, got a number with a fractional part");
    CHECK(d[2].at("type") == "bool_parsing");
    CHECK(d[2].at("input") == 1.5);
    d = one(R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq","value":null}]})");
    CHECK(d[1].at("type") == "int_type");
    CHECK(d[2].at("type") == "bool_type");

    // Aggregation: a tagged union on func.
    const std::string empty_filter = R"({"conjunction":"and","clauses":[]})";
    d = one(empty_filter, R"({"property":"x"})");
    CHECK(d[0].at("type") == "union_tag_not_found");
    CHECK(d[0].at("msg") == "Unable to extract tag using discriminator 'func'");
    CHECK(d[0].at("ctx") == json::parse(R"({"discriminator":"'func'"})"));
    CHECK(loc_of(d[0]) == R"(["body","aggregation"])");
    d = one(empty_filter, R"({"func":"unique","property":"x"})");
    CHECK(d[0].at("type") == "union_tag_invalid");
    CHECK(d[0].at("msg") ==
          "Input tag 'unique' found using 'func' does not match any of the expected tags: 'count', 'sum', 'max', "
          "'min', 'avg'");
    CHECK(d[0].at("ctx").at("tag") == "unique");
    d = one(empty_filter, R"({"func":"sum"})");
    CHECK(loc_of(d[0]) == R"(["body","aggregation","sum","property"])");
    CHECK(d[0].at("type") == "missing");
    d = one(empty_filter, "[]");
    CHECK(d[0].at("type") == "model_attributes_type");
    CHECK(f.s.meter_count() == 1);
}

TEST_CASE("emulator metadata validation") {
    api_fixture f;
    json::value h;
    auto with_metadata = [&](std::string md) {
        return f.post("/v1/meters/", R"({"name":"abc","filter":{"conjunction":"and","clauses":[]},)"
                                     R"("aggregation":{"func":"count"},"metadata":)" + md + "}");
    };
    CHECK(with_metadata(R"({"s":"x","i":-4,"b":false,"f":2.0})").status == 201);

    auto d = detail(with_metadata(R"({"k":""})"), h);
    REQUIRE(d.size() == 3);
    CHECK(loc_of(d[0]) == R"(["body","metadata","k","constrained-str"])");
    CHECK(d[0].at("type") == "string_too_short");
    CHECK(d[0].at("msg") == "String should have at least 1 character");
    CHECK(d[1].at("type") == "int_parsing");
    CHECK(loc_of(d[1]) == R"(["body","metadata","k","int"])");
    CHECK(d[2].at("type") == "bool_parsing");

    d = detail(with_metadata(R"({"k":")" + std::string(501, 'x') + R"("})"), h);
    CHECK(d[0].at("type") == "string_too_long");
    CHECK(d[0].at("ctx") == json::parse(R"({"max_length":500})"));
    CHECK(with_metadata(R"({"k":")" + std::string(500, 'x') + R"("})").status == 201);

    d = detail(with_metadata(R"({")" + std::string(41, 'k') + R"(":1})"), h);
    REQUIRE(d.size() == 1);
    CHECK(loc_of(d[0]) == R"(["body","metadata",")" + std::string(41, 'k') + R"(","[key]"])");
    CHECK(d[0].at("type") == "string_too_long");
    CHECK(d[0].at("msg") == "String should have at most 40 characters");
    d = detail(with_metadata(R"({"":1})"), h);
    CHECK(d[0].at("type") == "string_too_short");

    for (const char* bad : {"1.5", "null", "{}", "[1]"}) {
        CAPTURE(bad);
        d = detail(with_metadata(std::string(R"({"k":)") + bad + "}"), h);
        REQUIRE(d.size() == 3);
        CHECK(d[0].at("type") == "string_type");
    }
    d = detail(with_metadata(R"({"k":1.5})"), h);
    CHECK(d[1].at("type") == "int_from_float");

    std::string many = "{";
    for (int i = 0; i < 51; ++i) many += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":1";
    many += "}";
    d = detail(with_metadata(many), h);
    REQUIRE(d.size() == 1);
    CHECK(d[0].at("type") == "too_long");
    CHECK(d[0].at("msg") == "Dictionary should have at most 50 items after validation, not 51");
    CHECK(d[0].at("ctx") == json::parse(R"({"field_type":"Dictionary","max_length":50,"actual_length":51})"));
    CHECK(loc_of(d[0]) == R"(["body","metadata"])");

    d = detail(with_metadata("null"), h);
    CHECK(d[0].at("type") == "dict_type");
    CHECK(d[0].at("msg") == "Input should be a valid dictionary");
    CHECK(f.s.meter_count() == 2);
}

TEST_CASE("emulator create meter: organization_id rules") {
    api_fixture f;
    json::value h;
    const std::string rest = R"("name":"abc","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"})";
    auto r = f.post("/v1/meters/", "{" + rest + R"(,"organization_id":")" + f.org + "\"}");
    REQUIRE(r.status == 422);
    auto d = detail(r, h);
    CHECK(h.at("error") == "PolarRequestValidationError");
    CHECK(d[0].at("type") == "organization_token");
    CHECK(loc_of(d[0]) == R"(["body","organization_id"])");
    CHECK(d[0].at("msg") == "Setting organization_id is disallowed when using an organization token.");
    CHECK(f.post("/v1/meters/", "{" + rest + R"(,"organization_id":null})").status == 201);

    r = f.post("/v1/meters/", "{" + rest + "}", "utok");
    d = detail(r, h);
    CHECK(d[0].at("type") == "missing");
    CHECK(d[0].at("msg") == "organization_id is required.");
    r = f.post("/v1/meters/", "{" + rest + R"(,"organization_id":")" + f.org3 + "\"}", "utok");
    d = detail(r, h);
    CHECK(d[0].at("type") == "value_error");
    CHECK(d[0].at("msg") == "Organization not found.");
    r = f.post("/v1/meters/", "{" + rest + R"(,"organization_id":")" + f.org2 + "\"}", "utok");
    REQUIRE(r.status == 201);
    CHECK(str(parse(r).at("organization_id")) == f.org2);

    // Shape errors come first, as RequestValidationError.
    r = f.post("/v1/meters/", "{" + rest + R"(,"organization_id":"00000000-0000-1000-8000-000000000000"})", "utok");
    d = detail(r, h);
    CHECK(h.at("error") == "RequestValidationError");
    CHECK(d[0].at("type") == "uuid_version");
    CHECK(d[0].at("msg") == "UUID version 4 expected");
    CHECK(d[0].at("ctx") == json::parse(R"({"expected_version":4})"));
}

TEST_CASE("emulator get meter: ids, visibility and 404") {
    api_fixture f;
    const auto id = f.create("mine");
    const auto id2 = f.create("theirs", {}, "tok2");
    CHECK(f.get("/v1/meters/" + id).status == 200);
    auto r = f.get("/v1/meters/" + id2);
    CHECK(r.status == 404);
    CHECK(r.body == R"({"error":"ResourceNotFound","detail":"Not found"})");
    CHECK(f.get("/v1/meters/" + id2, "utok").status == 200);
    CHECK(f.get(std::string("/v1/meters/") + other_uuid4).status == 404);

    // Other spellings of the same UUID are accepted.
    std::string upper = id;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(f.get("/v1/meters/" + upper).status == 200);
    std::string simple;
    for (char c : id)
        if (c != '-') simple.push_back(c);
    CHECK(f.get("/v1/meters/" + simple).status == 200);
    CHECK(f.get("/v1/meters/%7B" + id + "%7D").status == 200);

    json::value h;
    auto d = detail(f.get("/v1/meters/abs"), h);
    CHECK(d[0].at("type") == "uuid_parsing");
    CHECK(loc_of(d[0]) == R"(["path","id"])");
    CHECK(d[0].at("msg") ==
          "Input should be a valid UUID, invalid character: expected an optional prefix of `urn:uuid:` followed by "
          "[0-9a-fA-F-], found `s` at 3");
    d = detail(f.get("/v1/meters/123"), h);
    CHECK(d[0].at("ctx").at("error") == "invalid length: expected length 32 for simple format, found 3");
    d = detail(f.get("/v1/meters/1234-5678"), h);
    CHECK(d[0].at("ctx").at("error") == "invalid group count: expected 5, found 2");
    d = detail(f.get("/v1/meters/0b5e7b1e9-a44-4d8e-9d1f-2f4c1d2e3f40"), h);
    CHECK(d[0].at("ctx").at("error") == "invalid group length in group 0: expected 8, found 9");
    // A well-formed UUID of another version: 422, not 404.
    d = detail(f.get("/v1/meters/0b5e7b1e-9a44-1d8e-9d1f-2f4c1d2e3f40"), h);
    CHECK(d[0].at("type") == "uuid_version");
    CHECK(d[0].at("input") == "0b5e7b1e-9a44-1d8e-9d1f-2f4c1d2e3f40");
}

TEST_CASE("emulator list meters: pagination and its quirks") {
    api_fixture f;
    for (int i = 0; i < 25; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "meter %02d", i);
        f.create(name);
    }
    auto body = parse(f.get("/v1/meters/"));
    CHECK(body.at("items").as_array().size() == 10);
    CHECK(body.at("pagination") == json::parse(R"({"total_count":25,"max_page":3})"));
    CHECK(names_of(body).front() == "meter 00");

    body = parse(f.get("/v1/meters/?page=3&limit=10"));
    CHECK(body.at("items").as_array().size() == 5);
    CHECK(names_of(body).front() == "meter 20");
    CHECK(body.at("pagination") == json::parse(R"({"total_count":25,"max_page":3})"));

    // Past the end: no items and a total of 0.
    body = parse(f.get("/v1/meters/?page=4&limit=10"));
    CHECK(body.at("items").as_array().empty());
    CHECK(body.at("pagination") == json::parse(R"({"total_count":0,"max_page":0})"));
    body = parse(f.get("/v1/meters/?page=99999999999999999999"));
    CHECK(body.at("pagination").at("total_count") == 0);

    // A limit above 100 is clamped silently.
    body = parse(f.get("/v1/meters/?limit=500"));
    CHECK(body.at("items").as_array().size() == 25);
    CHECK(body.at("pagination") == json::parse(R"({"total_count":25,"max_page":1})"));
    body = parse(f.get("/v1/meters/?limit=7&limit=3"));  // the last value wins
    CHECK(body.at("pagination").at("max_page") == 9);

    json::value h;
    auto d = detail(f.get("/v1/meters/?page=0&limit=-1"), h);
    REQUIRE(d.size() == 2);
    CHECK(d[0].at("type") == "greater_than");
    CHECK(d[0].at("msg") == "Input should be greater than 0");
    CHECK(d[0].at("ctx") == json::parse(R"({"gt":0})"));
    CHECK(d[0].at("input") == "0");
    CHECK(loc_of(d[1]) == R"(["query","limit"])");
    d = detail(f.get("/v1/meters/?page=abc"), h);
    CHECK(d[0].at("type") == "int_parsing");
    CHECK(d[0].at("msg") == "Input should be a valid integer, unable to parse string as an integer");
    d = detail(f.get("/v1/meters/?limit="), h);
    CHECK(d[0].at("input") == "");
    CHECK(f.get("/v1/meters/?page=%202%20").status == 200);

    // No results at all.
    body = parse(f.get("/v1/meters/", "tok2"));
    CHECK(body.at("pagination") == json::parse(R"({"total_count":0,"max_page":0})"));
}

TEST_CASE("emulator list meters: sorting") {
    api_fixture f;
    f.create("bravo");
    f.now += 1s;
    f.create("alpha");
    f.now += 1s;
    f.create("charlie");
    f.create("alpha");  // same created_at as charlie
    auto names = [&](std::string q) { return names_of(parse(f.get("/v1/meters/" + q))); };
    using v = std::vector<std::string>;
    CHECK(names("") == v{"alpha", "alpha", "bravo", "charlie"});
    CHECK(names("?sorting=-name") == v{"charlie", "bravo", "alpha", "alpha"});
    CHECK(names("?sorting=created_at") == v{"bravo", "alpha", "charlie", "alpha"});
    CHECK(names("?sorting=-created_at") == v{"charlie", "alpha", "alpha", "bravo"});
    CHECK(names("?sorting=-created_at&sorting=name") == v{"alpha", "charlie", "alpha", "bravo"});
    CHECK(names("?sorting=name&sorting=-created_at").front() == "alpha");

    json::value h;
    auto d = detail(f.get("/v1/meters/?sorting=name&sorting=size"), h);
    REQUIRE(d.size() == 1);
    CHECK(d[0].at("type") == "enum");
    CHECK(loc_of(d[0]) == R"(["query","sorting",1])");
    CHECK(d[0].at("msg") == "Input should be 'created_at', '-created_at', 'name' or '-name'");
    CHECK(d[0].at("input") == "size");
}

TEST_CASE("emulator list meters: query, metadata and organization filters") {
    api_fixture f;
    f.create("API Tokens", R"("metadata":{"team":"core","tier":5,"paid":true})");
    f.create("api calls", R"("metadata":{"team":"growth","tier":1,"paid":false})");
    f.create("Storage 100%", R"("metadata":{"team":"core"})");
    f.create("a_b", R"("metadata":{})");
    auto names = [&](std::string q, std::string_view tok = "tok") {
        return names_of(parse(f.get("/v1/meters/" + q, tok)));
    };
    using v = std::vector<std::string>;
    CHECK(names("?query=API") == v{"API Tokens", "api calls"});
    CHECK(names("?query=i+c") == v{"api calls"});       // '+' is a space
    CHECK(names("?query=I%20C") == v{"api calls"});     // case-insensitive
    CHECK(names("?query=i_c") == v{"api calls"});  // '_' is a wildcard
    CHECK(names("?query=100%25") == v{"Storage 100%"});
    CHECK(names("?query=%25").size() == 4);
    CHECK(names("?query=").size() == 4);

    CHECK(names("?metadata[team]=core") == v{"API Tokens", "Storage 100%"});
    CHECK(names("?metadata%5Bteam%5D=growth") == v{"api calls"});
    CHECK(names("?metadata[team]=core&metadata[team]=growth").size() == 3);
    CHECK(names("?metadata[team]=core&metadata[tier]=5") == v{"API Tokens"});
    CHECK(names("?metadata[tier]=1") == v{"api calls"});
    CHECK(names("?metadata[paid]=true") == v{"API Tokens"});
    CHECK(names("?metadata[paid]=True").empty());
    CHECK(names("?metadata=x").size() == 4);  // a bare metadata is ignored
    CHECK(names("?metadata[missing]=x").empty());

    const auto theirs = f.create("globex meter", {}, "tok2");
    CHECK(names("", "utok").size() == 5);
    CHECK(names("?organization_id=" + f.org2, "utok") == v{"globex meter"});
    CHECK(names("?organization_id=" + f.org2 + "&organization_id=" + f.org, "utok").size() == 5);
    // organization_id only narrows what the token sees.
    CHECK(names("?organization_id=" + f.org2).empty());
    json::value h;
    auto d = detail(f.get("/v1/meters/?organization_id=" + f.org + "&organization_id=zzz"), h);
    CHECK(loc_of(d[0]) == R"(["query","organization_id",1])");
    CHECK(d[0].at("type") == "uuid_parsing");
}

TEST_CASE("emulator update meter") {
    api_fixture f;
    const auto id = f.create("first", R"("metadata":{"a":1})");
    const std::string path = "/v1/meters/" + id;

    f.now += 1h;
    auto r = f.patch(path, "{}");
    REQUIRE(r.status == 200);
    CHECK(parse(r).at("modified_at").is_null());  // nothing changed

    r = f.patch(path, R"({"name":"second","metadata":{"b":"x"}})");
    REQUIRE(r.status == 200);
    auto m = parse(r);
    CHECK(m.at("name") == "second");
    CHECK(m.at("metadata") == json::parse(R"({"b":"x"})"));  // replaced, not merged
    CHECK(m.at("modified_at") == "2025-03-25T13:00:00Z");
    CHECK(m.at("created_at") == "2025-03-25T12:00:00Z");
    CHECK(f.get(path).body == r.body);

    // null filter/aggregation leave them unchanged when the meter is not locked.
    r = f.patch(path, R"({"filter":null,"aggregation":null})");
    CHECK(r.status == 200);
    CHECK(parse(r).at("aggregation") == json::parse(R"({"func":"count"})"));
    r = f.patch(path, R"({"filter":{"conjunction":"or","clauses":[{"property":"name","operator":"eq","value":"x"}]},
                          "aggregation":{"func":"max","property":"n"}})");
    REQUIRE(r.status == 200);
    CHECK(parse(r).at("aggregation") == json::parse(R"({"func":"max","property":"n"})"));
    CHECK(parse(r).at("filter").at("conjunction") == "or");

    json::value h;
    auto d = detail(f.patch(path, R"({"name":"ab","metadata":null})"), h);
    REQUIRE(d.size() == 2);
    CHECK(d[0].at("type") == "dict_type");
    CHECK(loc_of(d[1]) == R"(["body","name"])");
    d = detail(f.patch(path, "[1]"), h);
    CHECK(d[0].at("type") == "model_attributes_type");
    d = detail(f.patch(path, ""), h);
    CHECK(loc_of(d[0]) == R"(["body"])");

    // name: null is a server error (the column is NOT NULL).
    r = f.patch(path, R"({"name":null})");
    CHECK(r.status == 500);
    CHECK(parse(f.get(path)).at("name") == "second");

    // Order: validation (path and body together), then 404.
    d = detail(f.patch("/v1/meters/nope", R"({"name":"ab"})"), h);
    REQUIRE(d.size() == 2);
    CHECK(loc_of(d[0]) == R"(["path","id"])");
    CHECK(loc_of(d[1]) == R"(["body","name"])");
    CHECK(f.patch(std::string("/v1/meters/") + other_uuid4, R"({"name":"ab"})").status == 422);
    CHECK(f.patch(std::string("/v1/meters/") + other_uuid4, R"({"name":"abc"})").status == 404);
    // Someone else's meter is not found.
    const auto theirs = f.create("theirs", {}, "tok2");
    CHECK(f.patch("/v1/meters/" + theirs, R"({"name":"mine now"})").status == 404);
    CHECK(f.patch("/v1/meters/" + theirs, R"({"name":"shared"})", "utok").status == 200);
}

TEST_CASE("emulator update lock: a last billed event at creation") {
    api_fixture f;
    emulator_event e;
    e.organization_id = f.org;
    e.name = "llm.call";
    e.timestamp = f.now - 1h;
    e.metadata_json = R"({"tokens":10})";
    f.s.add_event(e);

    // No matching event: not locked.
    auto unlocked = f.post("/v1/meters/", R"({"name":"other","filter":{"conjunction":"and","clauses":[
        {"property":"name","operator":"eq","value":"nothing"}]},"aggregation":{"func":"count"}})");
    const std::string unlocked_id(parse(unlocked).at("id").as_string());
    CHECK_FALSE(f.s.meter_locked(unlocked_id));
    // The type guard applies too: a sum over a key the event does not hold.
    auto guarded = f.post("/v1/meters/", R"({"name":"guarded","filter":{"conjunction":"and","clauses":[]},
        "aggregation":{"func":"sum","property":"bytes"}})");
    CHECK_FALSE(f.s.meter_locked(std::string(parse(guarded).at("id").as_string())));

    auto r = f.post("/v1/meters/", R"({"name":"tokens","filter":{"conjunction":"and","clauses":[
        {"property":"name","operator":"eq","value":"llm.call"}]},"aggregation":{"func":"sum","property":"tokens"}})");
    const std::string id(parse(r).at("id").as_string());
    CHECK(f.s.meter_locked(id));
    const std::string path = "/v1/meters/" + id;

    json::value h;
    r = f.patch(path, R"({"filter":null,"aggregation":{"func":"count"},"name":"renamed"})");
    REQUIRE(r.status == 422);
    auto d = detail(r, h);
    CHECK(h.at("error") == "PolarRequestValidationError");
    REQUIRE(d.size() == 2);
    CHECK(d[0].at("type") == "forbidden");
    CHECK(loc_of(d[0]) == R"(["body","filter"])");
    CHECK(d[0].at("msg") == "This field can't be updated because the meter is already aggregating events.");
    CHECK(d[0].at("input").is_null());
    CHECK(loc_of(d[1]) == R"(["body","aggregation"])");
    CHECK(d[1].at("input") == json::parse(R"({"func":"count"})"));
    CHECK(parse(f.get(path)).at("name") == "tokens");  // nothing applied

    // Name and metadata stay editable.
    r = f.patch(path, R"({"name":"renamed","metadata":{"x":true}})");
    CHECK(r.status == 200);
    CHECK(parse(r).at("name") == "renamed");
    // Body validation comes before the lock, and 404 before the lock.
    d = detail(f.patch(path, R"({"filter":{"conjunction":"and"}})"), h);
    CHECK(d[0].at("type") == "missing");
    CHECK(h.at("error") == "RequestValidationError");
    CHECK(f.patch(std::string("/v1/meters/") + other_uuid4, R"({"filter":null})").status == 404);
    // With the lock, name:null still loses to the lock error when filter is present.
    CHECK(f.patch(path, R"({"name":null,"filter":null})").status == 422);
}

TEST_CASE("emulator update lock: the billing job") {
    api_fixture f;
    const auto id = f.create("counting");
    const auto c = f.s.add_customer(f.org, "ext_1", "ann@example.com", "Ann");
    CHECK_FALSE(f.s.meter_locked(id));
    CHECK(f.patch("/v1/meters/" + id, R"({"filter":{"conjunction":"or","clauses":[]}})").status == 200);

    // An event without a customer is not billed.
    emulator_event e;
    e.organization_id = f.org;
    e.name = "x";
    e.timestamp = f.now - 1min;
    f.s.add_event(e);
    CHECK(f.s.run_billing_job() == 0);
    CHECK_FALSE(f.s.meter_locked(id));

    // Linked through the customer's external id.
    e.external_customer_id = "ext_1";
    f.s.add_event(e);
    CHECK(f.s.run_billing_job() == 1);
    CHECK(f.s.meter_locked(id));
    CHECK(f.s.run_billing_job() == 0);  // nothing newer
    CHECK(f.patch("/v1/meters/" + id, R"({"aggregation":null})").status == 422);
    e.external_customer_id.reset();
    e.customer_id = c;
    f.s.add_event(e);
    CHECK(f.s.run_billing_job() == 1);
}

TEST_CASE("emulator meter events: matching events, newest first, with customers") {
    api_fixture f;
    const auto ann = f.s.add_customer(f.org, "ext_ann", "Ann@Example.com", "Ann");
    const auto bob = f.s.add_customer(f.org, std::nullopt, "bob@example.com", "Bob");
    const auto t0 = sys_days{2025y / March / 20} + 0h;
    auto add = [&](std::string name, minutes at, std::string md, std::optional<std::string> cid,
                   std::optional<std::string> ext, std::string org = {}) {
        emulator_event e;
        e.organization_id = org.empty() ? f.org : org;
        e.name = std::move(name);
        e.timestamp = t0 + at;
        e.metadata_json = std::move(md);
        e.customer_id = std::move(cid);
        e.external_customer_id = std::move(ext);
        return f.s.add_event(e);
    };
    const auto e1 = add("llm.call", 10min, R"({"tokens":5})", ann, std::nullopt);
    const auto e2 = add("llm.call", 30min, R"({"tokens":"many"})", bob, std::nullopt);
    const auto e3 = add("llm.call", 20min, R"({"tokens":7})", std::nullopt, "ext_ann");
    const auto e4 = add("llm.call", 40min, R"({"tokens":1})", std::nullopt, "ext_unknown");
    add("llm.call", 50min, R"({"tokens":1})", std::nullopt, "x", f.org2);
    add("other", 60min, R"({"tokens":1})", ann, std::nullopt);

    auto r = f.post("/v1/meters/", R"({"name":"tokens","filter":{"conjunction":"and","clauses":[
        {"property":"name","operator":"eq","value":"llm.call"}]},"aggregation":{"func":"sum","property":"tokens"}})");
    const std::string id(parse(r).at("id").as_string());
    auto body = parse(f.get("/v1/meters/" + id + "/events"));
    const auto& items = body.at("items").as_array();
    // e2 has a string value for the aggregated key: excluded by the type guard.
    REQUIRE(items.size() == 3);
    CHECK(str(items[0].at("id")) == e4);
    CHECK(str(items[1].at("id")) == e3);
    CHECK(str(items[2].at("id")) == e1);
    CHECK(body.at("pagination") == json::parse(R"({"total_count":3,"max_page":1})"));

    std::vector<std::string> keys;
    for (const auto& kv : items[2].as_object()) keys.emplace_back(kv.key());
    CHECK(keys == std::vector<std::string>{"metadata", "id", "timestamp", "name", "source", "organization_id",
                                           "customer_id", "customer", "external_customer_id"});
    CHECK(items[2].at("timestamp") == "2025-03-20T00:10:00Z");
    CHECK(items[2].at("source") == "user");
    CHECK(str(items[2].at("customer").at("id")) == ann);
    CHECK(items[2].at("external_customer_id").is_null());
    // Customer by external id.
    CHECK(items[1].at("customer_id").is_null());
    CHECK(str(items[1].at("customer").at("id")) == ann);
    CHECK(items[0].at("customer").is_null());
    const auto& cust = items[2].at("customer").as_object();
    std::vector<std::string> ckeys;
    for (const auto& kv : cust) ckeys.emplace_back(kv.key());
    CHECK(ckeys == std::vector<std::string>{"id", "created_at", "modified_at", "metadata", "external_id", "email",
                                            "email_verified", "name", "billing_address", "tax_id", "organization_id",
                                            "deleted_at", "avatar_url"});
    CHECK(cust.at("billing_address").is_null());
    CHECK(cust.at("tax_id").is_null());
    CHECK(cust.at("external_id") == "ext_ann");
    CHECK(cust.at("email") == "Ann@Example.com");
    CHECK(cust.at("email_verified") == false);
    CHECK(cust.at("avatar_url").as_string().starts_with("https://www.gravatar.com/avatar/"));

    // Count sees the string-valued event too.
    const auto count_id = f.create("all");
    body = parse(f.get("/v1/meters/" + count_id + "/events?limit=2&page=2"));
    CHECK(body.at("items").as_array().size() == 2);
    CHECK(body.at("pagination") == json::parse(R"({"total_count":5,"max_page":3})"));
    CHECK(str(body.at("items").at(0).at("id")) == e2);
    CHECK(str(body.at("items").at(1).at("id")) == e3);
    body = parse(f.get("/v1/meters/" + count_id + "/events?page=9"));
    CHECK(body.at("pagination") == json::parse(R"({"total_count":0,"max_page":0})"));

    // Validation: the pagination errors come before the path error; then 404.
    json::value h;
    auto d = detail(f.get("/v1/meters/bad/events?limit=0"), h);
    REQUIRE(d.size() == 2);
    CHECK(loc_of(d[0]) == R"(["query","limit"])");
    CHECK(loc_of(d[1]) == R"(["path","id"])");
    CHECK(f.get(std::string("/v1/meters/") + other_uuid4 + "/events").status == 404);
}

TEST_CASE("emulator ingest events") {
    api_fixture f;
    const auto ann = f.s.add_customer(f.org, "ext_ann", "ann@example.com", "Ann");
    const auto globex_customer = f.s.add_customer(f.org2, std::nullopt, "g@example.com", "G");
    auto r = f.post("/v1/events/ingest", R"({"events":[
        {"name":"llm.call","customer_id":")" + ann + R"(","metadata":{"tokens":12,"model":"pro"}},
        {"name":"llm.call","external_customer_id":"ext_new","timestamp":"2025-03-25T11:00:00+02:00"}]})");
    REQUIRE(r.status == 200);
    CHECK(r.body == R"({"inserted":2})");
    CHECK(f.s.event_count() == 2);

    const auto meter = f.create("all events");
    auto body = parse(f.get("/v1/meters/" + meter + "/events"));
    const auto& items = body.at("items").as_array();
    REQUIRE(items.size() == 2);
    CHECK(items[0].at("timestamp") == "2025-03-25T12:00:00Z");  // default: now
    CHECK(items[0].at("source") == "user");
    CHECK(str(items[0].at("organization_id")) == f.org);
    CHECK(items[0].at("metadata") == json::parse(R"({"tokens":12,"model":"pro"})"));
    CHECK(items[1].at("timestamp") == "2025-03-25T09:00:00Z");
    CHECK(items[1].at("external_customer_id") == "ext_new");
    CHECK(items[1].at("metadata") == json::object{});

    json::value h;
    auto one = [&](std::string event, std::string_view token = "tok") {
        auto resp = f.post("/v1/events/ingest", R"({"events":[)" + event + "]}", token);
        CHECK(resp.status == 422);
        return json::parse(resp.body);
    };
    // In the future (by one microsecond).
    auto b = one(R"({"name":"x","customer_id":")" + ann + R"(","timestamp":"2025-03-25T12:00:00.000001Z"})");
    auto d = b.at("detail").as_array();
    CHECK(d[0].at("type") == "value_error");
    CHECK(d[0].at("msg") == "Value error, Timestamp must be in the past.");
    CHECK(loc_of(d[0]) == R"(["body","events",0,"EventCreateCustomer","timestamp"])");
    // The other branch reports its own missing field as well.
    bool saw_external_missing = false;
    for (const auto& e : d)
        saw_external_missing |= loc_of(e) == R"(["body","events",0,"EventCreateExternalCustomer","external_customer_id"])";
    CHECK(saw_external_missing);
    b = one(R"({"name":"x","customer_id":")" + ann + R"(","timestamp":"2025-03-25T10:00:00"})");
    CHECK(b.at("detail").at(0).at("type") == "timezone_aware");
    CHECK(b.at("detail").at(0).at("msg") == "Input should have timezone info");
    b = one(R"({"name":"x","customer_id":")" + ann + R"(","timestamp":"yesterday"})");
    CHECK(b.at("detail").at(0).at("type") == "datetime_from_date_parsing");
    b = one(R"({"name":"x","customer_id":"not-a-uuid"})");
    CHECK(b.at("detail").at(0).at("type") == "uuid_parsing");
    b = one(R"({"name":"x"})");
    d = b.at("detail").as_array();
    REQUIRE(d.size() == 2);
    CHECK(loc_of(d[0]) == R"(["body","events",0,"EventCreateCustomer","customer_id"])");
    CHECK(loc_of(d[1]) == R"(["body","events",0,"EventCreateExternalCustomer","external_customer_id"])");
    b = one(R"({"name":"x","external_customer_id":"e","metadata":{"f":0.5}})");
    CHECK(b.at("detail").at(0).at("type") == "string_type");

    // Business rules.
    b = one(R"({"name":"x","external_customer_id":"e","organization_id":")" + f.org + "\"}");
    CHECK(b.at("error") == "PolarRequestValidationError");
    CHECK(b.at("detail").at(0).at("type") == "organization_token");
    CHECK(loc_of(b.at("detail").at(0)) == R"(["body","events",0,"organization_id"])");
    b = one(R"({"name":"x","external_customer_id":"e"})", "utok");
    CHECK(b.at("detail").at(0).at("msg") == "organization_id is required.");
    b = one(R"({"name":"x","external_customer_id":"e","organization_id":")" + f.org3 + "\"}", "utok");
    CHECK(b.at("detail").at(0).at("msg") == "Organization not found.");
    b = one(R"({"name":"x","customer_id":")" + globex_customer + "\"}");
    CHECK(b.at("detail").at(0).at("type") == "customer_id");
    CHECK(b.at("detail").at(0).at("msg") == "Customer not found.");
    CHECK(f.post("/v1/events/ingest",
                 R"({"events":[{"name":"x","customer_id":")" + globex_customer + R"(","organization_id":")" + f.org2 +
                     "\"}]}",
                 "utok")
              .status == 200);
    CHECK(f.s.event_count() == 3);
    // A JSON number is a Unix timestamp.
    CHECK(f.post("/v1/events/ingest", R"({"events":[{"name":"unix","external_customer_id":"e","timestamp":1740787200}]})")
              .status == 200);
    CHECK(f.s.event_count() == 4);
    auto unix_meter = parse(f.post("/v1/meters/", R"({"name":"unix","filter":{"conjunction":"and","clauses":[
        {"property":"name","operator":"eq","value":"unix"}]},"aggregation":{"func":"count"}})"));
    body = parse(f.get("/v1/meters/" + str(unix_meter.at("id")) + "/events"));
    CHECK(body.at("items").at(0).at("timestamp") == "2025-03-01T00:00:00Z");
    b = one(R"({"name":"x","external_customer_id":"e","timestamp":true})");
    CHECK(b.at("detail").at(0).at("type") == "datetime_type");

    // Body shape.
    d = detail(f.post("/v1/events/ingest", "{}"), h);
    CHECK(loc_of(d[0]) == R"(["body","events"])");
    d = detail(f.post("/v1/events/ingest", R"({"events":{}})"), h);
    CHECK(d[0].at("type") == "list_type");
    CHECK(f.post("/v1/events/ingest", R"({"events":[]})").body == R"({"inserted":0})");

    // One bad event rejects the batch; a name beyond the column's 128 characters is a server error.
    CHECK(f.post("/v1/events/ingest", R"({"events":[{"name":"ok","external_customer_id":"e"},
        {"name":"x","customer_id":"nope"}]})").status == 422);
    CHECK(f.post("/v1/events/ingest", R"({"events":[{"name":"ok","external_customer_id":"e"},
        {"name":")" + std::string(129, 'n') + R"(","external_customer_id":"e"}]})").status == 500);
    CHECK(f.s.event_count() == 4);
}
