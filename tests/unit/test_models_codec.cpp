// JSON codec: the MeterAPI §4.1 examples, exact encodings, round trips of
// every model, unknown enum values, a realistic page of events, error bodies.
#include <polar/models.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <thread>

namespace {

using polar::filter_operator;
using namespace std::string_view_literals;

polar::timestamp ts(std::string_view s) {
    auto t = polar::parse_timestamp(s);
    REQUIRE(t.has_value());
    return *t;
}

template <class T>
T decode_ok(std::string_view json) {
    T out;
    std::string what;
    const polar::error_code ec = polar::from_json(json, out, what);
    INFO("what: " << what);
    REQUIRE_FALSE(ec);
    CHECK(what.empty());
    return out;
}

// Encodes, decodes and checks equality; then checks the encoding is stable.
template <class T>
void round_trip(const T& value) {
    const std::string json = polar::to_json(value);
    INFO("json: " << json);
    const T back = decode_ok<T>(json);
    CHECK(back == value);
    CHECK(polar::to_json(back) == json);
}

template <class T>
void round_trip_page(const polar::page<T>& value) {
    const std::string json = polar::to_json(value);
    INFO("json: " << json.substr(0, 400));
    const auto back = decode_ok<polar::page<T>>(json);
    CHECK(back.items == value.items);
    CHECK(back.pagination == value.pagination);
    CHECK(polar::to_json(back) == json);
}

polar::customer sample_customer(int i) {
    polar::customer c;
    c.id = "992fae2a-2a17-4b7a-8d9e-e287cf9" + std::to_string(10000 + i);
    c.created_at = ts("2025-01-02T03:04:05.678901Z");
    c.modified_at = ts("2025-02-03T04:05:06Z");
    c.metadata = {{"plan", "pro"}, {"seats", 12}, {"trial", false}};
    c.external_id = "usr_" + std::to_string(i);
    c.email = "customer" + std::to_string(i) + "@example.com";
    c.email_verified = i % 2 == 0;
    c.name = "Customer \"" + std::to_string(i) + "\"";
    polar::address a;
    a.line1 = "Drottninggatan 1";
    a.postal_code = "111 51";
    a.city = "Stockholm";
    a.country = "SE";
    c.billing_address = a;
    c.tax_id = polar::tax_id{"SE556703748501", polar::tax_id_format::eu_vat};
    c.organization_id = "1dbfc517-0bbf-4301-9ba8-555ca42b9737";
    c.avatar_url = "https://www.gravatar.com/avatar/xxx?d=blank";
    return c;
}

polar::meter sample_meter() {
    polar::meter m;
    m.id = "9b1c4d2e-3f4a-4b5c-8d6e-7f8091a2b3c4";
    m.created_at = ts("2025-03-20T10:00:00.123456Z");
    m.metadata = {{"team", "core"}, {"version", 3}, {"billable", true}};
    m.name = "API tokens";
    m.filter = polar::filter::all(
        polar::clause("name", filter_operator::eq, "llm.call"),
        polar::filter::any(polar::clause("model", filter_operator::eq, "lite"),
                           polar::clause("model", filter_operator::like, "pro%")),
        polar::clause("tokens", filter_operator::gt, -5), polar::clause("cached", filter_operator::ne, true));
    m.aggregation = polar::aggregation::sum("tokens");
    m.organization_id = "1dbfc517-0bbf-4301-9ba8-555ca42b9737";
    return m;
}

} // namespace

TEST_CASE("codec: MeterAPI 4.1 create request") {
    const std::string_view json = R"({"name":"API tokens","filter":{"conjunction":"and","clauses":[
  {"property":"name","operator":"eq","value":"llm.call"},
  {"conjunction":"or","clauses":[{"property":"model","operator":"eq","value":"lite"},
                                 {"property":"model","operator":"eq","value":"pro"}]}]},
 "aggregation":{"func":"sum","property":"tokens"},"metadata":{"team":"core"}})";
    const auto body = decode_ok<polar::meter_create>(json);
    CHECK(body.name == "API tokens");
    CHECK(body.aggregation == polar::aggregation::sum("tokens"));
    REQUIRE(body.metadata);
    CHECK(*body.metadata == polar::metadata{{"team", "core"}});
    CHECK_FALSE(body.organization_id);
    const auto expected_filter = polar::filter::all(
        polar::clause("name", filter_operator::eq, "llm.call"),
        polar::filter::any(polar::clause("model", filter_operator::eq, "lite"),
                           polar::clause("model", filter_operator::eq, "pro")));
    CHECK(body.filter == expected_filter);

    // What the SDK sends for the same meter, built in code.
    auto built = polar::meter_create("API tokens", expected_filter, polar::aggregation::sum("tokens"));
    built.set_metadata(polar::metadata{{"team", "core"}});
    CHECK(built == body);
    CHECK(polar::to_json(built) ==
          R"({"name":"API tokens","filter":{"conjunction":"and","clauses":[)"
          R"({"property":"name","operator":"eq","value":"llm.call"},)"
          R"({"conjunction":"or","clauses":[{"property":"model","operator":"eq","value":"lite"},)"
          R"({"property":"model","operator":"eq","value":"pro"}]}]},)"
          R"("aggregation":{"func":"sum","property":"tokens"},"metadata":{"team":"core"}})");
}

TEST_CASE("codec: MeterAPI 4.1 meter response") {
    const std::string_view json = R"({"metadata":{"team":"core"},"created_at":"2025-03-20T10:00:00.123456Z","modified_at":null,
 "id":"9b1c4d2e-3f4a-4b5c-8d6e-7f8091a2b3c4","name":"API tokens","filter":{"conjunction":"and","clauses":[
  {"property":"name","operator":"eq","value":"llm.call"},
  {"conjunction":"or","clauses":[{"property":"model","operator":"eq","value":"lite"},
                                 {"property":"model","operator":"eq","value":"pro"}]}]},
 "aggregation":{"func":"sum","property":"tokens"},"organization_id":"1dbfc517-0bbf-4301-9ba8-555ca42b9737"})";
    const auto m = decode_ok<polar::meter>(json);
    CHECK(m.id == "9b1c4d2e-3f4a-4b5c-8d6e-7f8091a2b3c4");
    CHECK(m.created_at == ts("2025-03-20T10:00:00.123456Z"));
    CHECK_FALSE(m.modified_at);
    CHECK(m.metadata == polar::metadata{{"team", "core"}});
    CHECK(m.name == "API tokens");
    REQUIRE(m.filter.clauses.size() == 2);
    CHECK(m.filter.clauses[1].as_filter().clauses[1].as_clause().property == "model");
    CHECK(m.aggregation.func() == polar::aggregation_function::sum);
    CHECK(m.aggregation.property() == "tokens");
    CHECK(m.organization_id == "1dbfc517-0bbf-4301-9ba8-555ca42b9737");

    // Also through the exact signature the client calls.
    polar::meter direct;
    std::string what = "stale";
    CHECK_FALSE(polar::detail::decode(json, direct, what));
    CHECK(what.empty());
    CHECK(direct == m);
    // And through the throwing convenience.
    CHECK(polar::from_json<polar::meter>(json) == m);
}

TEST_CASE("codec: MeterAPI 4.1 quantities") {
    const std::string_view json = R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z","quantity":120.0},
               {"timestamp":"2025-03-02T00:00:00Z","quantity":0.0},
               {"timestamp":"2025-03-03T00:00:00Z","quantity":35.0}]})";
    const auto q = decode_ok<polar::meter_quantities>(json);
    REQUIRE(q.quantities.size() == 3);
    CHECK(q.quantities[0].timestamp == ts("2025-03-01T00:00:00Z"));
    CHECK(q.quantities[0].quantity == 120.0);
    CHECK(q.quantities[1].quantity == 0.0);
    CHECK(q.quantities[2].timestamp == ts("2025-03-03T00:00:00Z"));
    CHECK(q.quantities[2].quantity == 35.0);
    // Encoded as the server writes it.
    CHECK(polar::to_json(q) == R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z","quantity":120.0},)"
                               R"({"timestamp":"2025-03-02T00:00:00Z","quantity":0.0},)"
                               R"({"timestamp":"2025-03-03T00:00:00Z","quantity":35.0}]})");
    // Integers and exponents are numbers too; fractions survive.
    const auto q2 = decode_ok<polar::meter_quantities>(
        R"({"quantities":[{"timestamp":"2025-03-01T00:00:00+02:00","quantity":7},{"timestamp":"2025-03-01T01:00:00Z","quantity":2.5e3},{"quantity":0.1,"timestamp":"2025-03-01T02:00:00Z"}]})");
    CHECK(q2.quantities[0].timestamp == ts("2025-02-28T22:00:00Z"));
    CHECK(q2.quantities[0].quantity == 7.0);
    CHECK(q2.quantities[1].quantity == 2500.0);
    CHECK(q2.quantities[2].quantity == 0.1);
    round_trip(q2);
    CHECK(decode_ok<polar::meter_quantities>(R"({"quantities":[]})").quantities.empty());
}

TEST_CASE("codec: request bodies contain only the keys that were set") {
    const auto f = polar::filter::all(polar::clause("name", filter_operator::eq, "llm.call"));
    const std::string fj = R"({"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"}]})";

    auto create = polar::meter_create("API tokens", f, polar::aggregation::count());
    CHECK(polar::to_json(create) == R"({"name":"API tokens","filter":)" + fj + R"(,"aggregation":{"func":"count"}})");
    create.set_metadata({});
    CHECK(polar::to_json(create) ==
          R"({"name":"API tokens","filter":)" + fj + R"(,"aggregation":{"func":"count"},"metadata":{}})");
    create.set_organization_id("org");
    CHECK(polar::to_json(create) == R"({"name":"API tokens","filter":)" + fj +
                                        R"(,"aggregation":{"func":"count"},"metadata":{},"organization_id":"org"})");

    polar::meter_update u;
    CHECK(polar::to_json(u) == "{}");
    CHECK(polar::to_json(polar::meter_update().set_name("abc")) == R"({"name":"abc"})");
    CHECK(polar::to_json(polar::meter_update().set_filter(nullptr)) == R"({"filter":null})");
    CHECK(polar::to_json(polar::meter_update().set_aggregation(nullptr)) == R"({"aggregation":null})");
    CHECK(polar::to_json(polar::meter_update().set_metadata({})) == R"({"metadata":{}})");
    CHECK(polar::to_json(polar::meter_update().set_filter(f).set_aggregation(polar::aggregation::min("ms"))) ==
          R"({"filter":)" + fj + R"(,"aggregation":{"func":"min","property":"ms"}})");
    CHECK(polar::to_json(polar::meter_update()
                             .set_metadata(polar::metadata{{"k", 1}})
                             .set_aggregation(nullptr)
                             .set_filter(nullptr)
                             .set_name("n12")) ==
          R"({"name":"n12","filter":null,"aggregation":null,"metadata":{"k":1}})");

    auto e = polar::event_create::for_customer("c1", "llm.call");
    CHECK(polar::to_json(e) == R"({"name":"llm.call","customer_id":"c1"})");
    e.set_timestamp(ts("2025-03-01T12:00:00.5+01:00")).set_metadata(polar::metadata{{"tokens", 12}});
    CHECK(polar::to_json(e) ==
          R"({"name":"llm.call","customer_id":"c1","timestamp":"2025-03-01T11:00:00.500000Z","metadata":{"tokens":12}})");
    CHECK(polar::to_json(polar::events_ingest()) == R"({"events":[]})");
}

TEST_CASE("codec: meter_update decoding keeps absent, null and values apart") {
    const auto none = decode_ok<polar::meter_update>("{}");
    CHECK(none.empty());
    const auto nulls = decode_ok<polar::meter_update>(R"({"filter":null,"aggregation":null})");
    CHECK(nulls.filter.is_null());
    CHECK(nulls.aggregation.is_null());
    CHECK_FALSE(nulls.name);
    CHECK_FALSE(nulls.metadata);
    const auto values = decode_ok<polar::meter_update>(
        R"({"name":"abc","filter":{"conjunction":"or","clauses":[]},"aggregation":{"func":"count"},"metadata":{"a":"b"}})");
    CHECK(values.name == "abc");
    CHECK(values.filter.value() == polar::filter::any());
    CHECK(values.aggregation.value() == polar::aggregation::count());
    CHECK(values.metadata == polar::metadata{{"a", "b"}});
}

TEST_CASE("codec: round trip of every model") {
    const polar::meter m = sample_meter();
    round_trip(m);
    polar::meter modified = m;
    modified.modified_at = ts("2025-03-21T00:00:00Z");
    modified.aggregation = polar::aggregation::count();
    modified.filter = polar::filter();
    modified.metadata.clear();
    round_trip(modified);

    round_trip(m.filter);
    round_trip(polar::filter::any());
    round_trip(polar::aggregation::count());
    round_trip(polar::aggregation::sum("s"));
    round_trip(polar::aggregation::max("s"));
    round_trip(polar::aggregation::min("s"));
    round_trip(polar::aggregation::avg("s"));
    round_trip(polar::pagination{1234, 124});

    polar::customer c = sample_customer(7);
    round_trip(c);
    round_trip(*c.billing_address);
    polar::customer bare;
    bare.id = "c";
    bare.email = "e@x";
    bare.organization_id = "o";
    bare.deleted_at = ts("2025-03-01T00:00:00Z");
    round_trip(bare);

    polar::event e;
    e.id = "e1";
    e.timestamp = ts("2025-03-25T15:51:07.123456Z");
    e.name = "llm.call";
    e.source = polar::event_source::user;
    e.organization_id = "o";
    e.customer_id = c.id;
    e.customer = c;
    e.metadata = {{"tokens", 1200}, {"model", "pro"}, {"cached", false}, {"neg", -9}};
    round_trip(e);
    polar::event system_event;
    system_event.source = polar::event_source::system;
    system_event.external_customer_id = "usr_1";
    round_trip(system_event);

    polar::page<polar::meter> pm;
    pm.items = {m, modified};
    pm.pagination = {2, 1};
    round_trip_page(pm);
    round_trip_page(polar::page<polar::meter>{});
    polar::page<polar::event> pe;
    pe.items = {e, system_event};
    pe.pagination = {12, 6};
    round_trip_page(pe);

    polar::meter_quantities q;
    q.quantities = {{ts("2025-03-01T00:00:00Z"), 120.0}, {ts("2025-03-02T00:00:00Z"), 0.25},
                    {ts("2025-03-03T00:00:00Z"), 1e21}, {ts("2025-03-04T00:00:00Z"), -3.0}};
    round_trip(q);

    round_trip(polar::events_ingest_response{42});

    auto create = polar::meter_create("API tokens", m.filter, polar::aggregation::avg("latency"));
    round_trip(create);
    create.set_metadata(m.metadata).set_organization_id("o");
    round_trip(create);

    round_trip(polar::meter_update());
    round_trip(polar::meter_update().set_filter(nullptr).set_aggregation(nullptr));
    round_trip(polar::meter_update().set_name("abc").set_filter(m.filter).set_aggregation(m.aggregation).set_metadata(m.metadata));

    auto ev1 = polar::event_create::for_customer("c1", "llm.call");
    auto ev2 = polar::event_create::for_external_customer("usr_1", "llm.call")
                   .set_timestamp(ts("2025-03-01T00:00:00Z"))
                   .set_metadata(polar::metadata{{"tokens", 5}})
                   .set_organization_id("o");
    round_trip(ev1);
    round_trip(ev2);
    round_trip(polar::events_ingest().add(ev1).add(ev2));
}

TEST_CASE("codec: strings are escaped; invalid UTF-8 becomes U+FFFD") {
    polar::filter f = polar::filter::all(polar::clause("quote\"back\\slash", filter_operator::eq,
                                                       std::string("tab\tnl\ncr\rbell\x07nul\0end", 22)));
    const std::string json = polar::to_json(f);
    CHECK(json == R"({"conjunction":"and","clauses":[{"property":"quote\"back\\slash","operator":"eq",)"
                  R"("value":"tab\tnl\ncr\rbell\u0007nul\u0000end"}]})");
    round_trip(f);

    // Multi-byte UTF-8 passes through unchanged.
    round_trip(polar::filter::all(polar::clause("name", filter_operator::eq, "Grüße, 日本, 🎉")));

    const auto bad = polar::filter::all(polar::clause("name", filter_operator::eq, "a\xff" "b\xc3(c\xed\xa0\x80"));
    const std::string bad_json = polar::to_json(bad);
    CHECK(bad_json.find(R"("value":"a\ufffdb\ufffd(c\ufffd\ufffd\ufffd")") != std::string::npos);
    const auto back = decode_ok<polar::filter>(bad_json);
    CHECK(std::get<std::string>(back.clauses[0].as_clause().value) == "a\xEF\xBF\xBD" "b\xEF\xBF\xBD(c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");

    // Escapes in input are decoded.
    const auto esc = decode_ok<polar::filter>(
        R"({"conjunction":"and","clauses":[{"property":"\u00e9\ud83c\udf89","operator":"eq","value":"\/\""}]})");
    CHECK(esc.clauses[0].as_clause().property == "é🎉");
    CHECK(std::get<std::string>(esc.clauses[0].as_clause().value) == "/\"");
}

TEST_CASE("codec: metadata and clause values keep their JSON types") {
    const auto m = decode_ok<polar::meter>(
        R"({"id":"m","created_at":"2025-03-01T00:00:00Z","modified_at":"2025-03-02T00:00:00+01:00","name":"n","organization_id":"o",)"
        R"("metadata":{"s":"5","i":5,"b":true,"neg":-9223372036854775808,"max":9223372036854775807,"empty":""},)"
        R"("filter":{"conjunction":"or","clauses":[{"property":"a","operator":"eq","value":"5"},{"property":"b","operator":"eq","value":5},{"property":"c","operator":"eq","value":false}]},)"
        R"("aggregation":{"func":"count","property":"ignored"}})");
    CHECK(m.modified_at == ts("2025-03-01T23:00:00Z"));
    CHECK(std::get<std::string>(m.metadata.at("s")) == "5");
    CHECK(std::get<std::int64_t>(m.metadata.at("i")) == 5);
    CHECK(std::get<bool>(m.metadata.at("b")) == true);
    CHECK(std::get<std::int64_t>(m.metadata.at("neg")) == std::numeric_limits<std::int64_t>::min());
    CHECK(std::get<std::int64_t>(m.metadata.at("max")) == std::numeric_limits<std::int64_t>::max());
    CHECK(std::get<std::string>(m.metadata.at("empty")).empty());
    CHECK(std::get<std::string>(m.filter.clauses[0].as_clause().value) == "5");
    CHECK(std::get<std::int64_t>(m.filter.clauses[1].as_clause().value) == 5);
    CHECK(std::get<bool>(m.filter.clauses[2].as_clause().value) == false);
    CHECK(m.aggregation == polar::aggregation::count());
    round_trip(m);
}

TEST_CASE("codec: unknown enum values decode to unknown and keep the raw string") {
    const auto m = decode_ok<polar::meter>(
        R"({"id":"m","created_at":"2025-03-01T00:00:00Z","modified_at":null,"name":"n","organization_id":"o","metadata":{},)"
        R"("filter":{"conjunction":"xor","clauses":[{"property":"a","operator":"regex","value":"^x"},)"
        R"({"conjunction":"and","clauses":[]}]},)"
        R"("aggregation":{"func":"percentile","property":"user_id","extra":{"x":1}}})");
    CHECK(m.filter.conjunction == polar::filter_conjunction::unknown);
    CHECK(m.filter.conjunction.raw() == "xor");
    CHECK(m.filter.clauses[0].as_clause().op == polar::filter_operator::unknown);
    CHECK(m.filter.clauses[0].as_clause().op.raw() == "regex");
    CHECK(m.aggregation.is_unknown());
    CHECK(m.aggregation.func_name() == "percentile");
    CHECK(m.aggregation.property() == "user_id");
    // Re-encoded unchanged (extra keys of the unknown aggregation aside).
    const std::string json = polar::to_json(m);
    CHECK(json.find(R"("conjunction":"xor")") != std::string::npos);
    CHECK(json.find(R"("operator":"regex")") != std::string::npos);
    CHECK(json.find(R"("aggregation":{"func":"percentile","property":"user_id"})") != std::string::npos);
    round_trip(m);

    // An unknown function without a property.
    const auto a = decode_ok<polar::aggregation>(R"({"func":"p99"})");
    CHECK(a.is_unknown());
    CHECK(a.property().empty());
    CHECK(polar::to_json(a) == R"({"func":"p99"})");
    // Or with a property of another type: ignored rather than rejected.
    CHECK(decode_ok<polar::aggregation>(R"({"func":"p99","property":{"path":["a"]}})").property().empty());

    const auto e = decode_ok<polar::event>(
        R"({"id":"e","timestamp":"2025-03-01T00:00:00Z","name":"n","source":"webhook","organization_id":"o",)"
        R"("customer_id":null,"external_customer_id":null,"customer":null,"metadata":{}})");
    CHECK(e.source == polar::event_source::unknown);
    CHECK(e.source.raw() == "webhook");
    round_trip(e);

    polar::customer c = sample_customer(1);
    c.tax_id = polar::tax_id{"123", polar::open_enum<polar::tax_id_format>::from_wire("xx_new")};
    const auto back = decode_ok<polar::customer>(polar::to_json(c));
    CHECK(back.tax_id->format == polar::tax_id_format::unknown);
    CHECK(back.tax_id->format.wire() == "xx_new");
    CHECK(back == c);
}

TEST_CASE("codec: nullable fields may be absent; unknown keys are ignored") {
    const auto e = decode_ok<polar::event>(
        R"({"id":"e","timestamp":"2025-03-01T00:00:00Z","name":"n","source":"user","organization_id":"o","metadata":{},)"
        R"("future_field":[1,{"a":null}],"customer_id":"c"})");
    CHECK(e.customer_id == "c");
    CHECK_FALSE(e.external_customer_id);
    CHECK_FALSE(e.customer);
    const auto c = decode_ok<polar::customer>(
        R"({"id":"c","created_at":"2025-03-01T00:00:00Z","metadata":{},"email":"e@x","email_verified":true,)"
        R"("organization_id":"o","avatar_url":"","billing_address":{"country":"US","line1":null}})");
    CHECK(c.email_verified);
    CHECK_FALSE(c.name);
    CHECK_FALSE(c.tax_id);
    CHECK_FALSE(c.deleted_at);
    REQUIRE(c.billing_address);
    CHECK(c.billing_address->country == "US");
    CHECK_FALSE(c.billing_address->line1);
}

TEST_CASE("codec: a page of 100 events with embedded customers") {
    // Generated the way the server writes it, with key order varying.
    std::string json = R"({"items":[)";
    for (int i = 0; i < 100; ++i) {
        if (i) json += ',';
        const std::string n = std::to_string(i);
        const bool with_customer = i % 4 != 3;
        json += R"({"metadata":{"tokens":)" + std::to_string(i * 10) + R"(,"model":")" + (i % 2 ? "pro" : "lite") +
                R"(","cached":)" + (i % 3 ? "false" : "true") + "},";
        json += R"("id":"0e5f0c3a-0000-4000-8000-)" + std::string(12 - n.size(), '0') + n + "\",";
        json += R"("timestamp":"2025-03-)" + std::string(i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1) +
                "T12:34:56." + std::to_string(100000 + i) + "Z\",";
        json += R"("name":"llm.call","source":")" + std::string(i % 10 ? "user" : "system") + "\",";
        json += R"("organization_id":"1dbfc517-0bbf-4301-9ba8-555ca42b9737",)";
        if (with_customer) {
            json += R"("customer_id":"992fae2a-2a17-4b7a-8d9e-e287cf9)" + std::to_string(10000 + i) + "\",";
            json += R"("external_customer_id":null,"customer":)" + polar::to_json(sample_customer(i)) + "}";
        } else {
            json += R"("customer_id":null,"external_customer_id":"usr_)" + n + R"(","customer":null})";
        }
    }
    json += R"(],"pagination":{"total_count":1234,"max_page":13}})";

    polar::page<polar::event> p;
    std::string what;
    REQUIRE_FALSE(polar::detail::decode(json, p, what));
    CHECK(what.empty());
    REQUIRE(p.items.size() == 100);
    CHECK(p.pagination.total_count == 1234);
    CHECK(p.pagination.max_page == 13);
    for (int i = 0; i < 100; ++i) {
        const polar::event& e = p.items[static_cast<std::size_t>(i)];
        INFO("item " << i);
        CHECK(e.name == "llm.call");
        CHECK(e.source == (i % 10 ? polar::event_source::user : polar::event_source::system));
        CHECK(std::get<std::int64_t>(e.metadata.at("tokens")) == i * 10);
        CHECK(std::get<bool>(e.metadata.at("cached")) == (i % 3 == 0));
        CHECK(polar::format_timestamp(e.timestamp).substr(19) == "." + std::to_string(100000 + i) + "Z");
        if (i % 4 != 3) {
            REQUIRE(e.customer);
            CHECK(*e.customer == sample_customer(i));
            CHECK(e.customer_id == e.customer->id);
            CHECK_FALSE(e.external_customer_id);
        } else {
            CHECK_FALSE(e.customer);
            CHECK(e.external_customer_id == "usr_" + std::to_string(i));
        }
    }
    round_trip_page(p);
}

TEST_CASE("codec: pages of every size decode alike, one after another on one thread") {
    // Small, medium and large pages, in turns: nothing a decode leaves
    // behind (scratch strings, the reserved items) changes the next one.
    const auto page_of = [](std::size_t n) {
        polar::page<polar::meter> p;
        for (std::size_t i = 0; i < n; ++i) {
            p.items.push_back(sample_meter());
            p.items.back().id = "meter-" + std::to_string(i);
        }
        p.pagination.total_count = static_cast<std::int64_t>(n);
        p.pagination.max_page = 1;
        return p;
    };
    const auto small = page_of(1), medium = page_of(40), large = page_of(400);
    const std::string small_json = polar::to_json(small), medium_json = polar::to_json(medium),
                      large_json = polar::to_json(large);
    std::exception_ptr failure;
    std::thread([&] {
        try {
            for (const auto* p : {&medium, &small, &large, &medium, &large, &small, &medium}) {
                const std::string& json = p == &small ? small_json : p == &medium ? medium_json : large_json;
                const auto back = decode_ok<polar::page<polar::meter>>(json);
                REQUIRE(back.items.size() == p->items.size());
                CHECK(back.items == p->items);
            }
        } catch (...) {
            failure = std::current_exception();
        }
    }).join();
    if (failure) std::rethrow_exception(failure);
}

TEST_CASE("codec: pagination edge cases") {
    const auto empty = decode_ok<polar::page<polar::meter>>(R"({"items":[],"pagination":{"total_count":0,"max_page":0}})");
    CHECK(empty.items.empty());
    CHECK(empty.pagination == polar::pagination{0, 0});
    const auto p = decode_ok<polar::page<polar::meter>>(
        R"({"pagination":{"max_page":2,"total_count":11},"items":[)" + polar::to_json(sample_meter()) + "]}");
    CHECK(p.pagination == polar::pagination{11, 2});
    REQUIRE(p.items.size() == 1);
    CHECK(p.items[0] == sample_meter());
    CHECK(decode_ok<polar::events_ingest_response>(R"({"inserted":0})").inserted == 0);
    CHECK(decode_ok<polar::events_ingest_response>(R"({"inserted":9007199254740993})").inserted == 9007199254740993);
}

TEST_CASE("codec: deeply nested filters within the limit") {
    // 90 levels: within detail::max_filter_depth and the parser's depth limit.
    polar::filter f = polar::filter::all(polar::clause("leaf", filter_operator::eq, 1));
    for (int i = 1; i < 90; ++i) f = polar::filter::any(polar::clause("level", filter_operator::eq, i), std::move(f));
    round_trip(f);
    polar::meter m = sample_meter();
    m.filter = f;
    round_trip(m);
    polar::page<polar::meter> page;
    page.items = {m};
    round_trip_page(page);
}

TEST_CASE("codec: error bodies") {
    SUBCASE("401 without credentials") {
        polar::diagnostics d;
        polar::detail::decode_error_body(R"({"error":"Unauthorized","detail":"Unauthorized"})", d);
        CHECK(d.error == "Unauthorized");
        CHECK(d.detail == "Unauthorized");
        CHECK(d.validation_errors.empty());
    }
    SUBCASE("401 invalid token") {
        polar::diagnostics d;
        polar::detail::decode_error_body(
            R"({"error":"invalid_token","error_description":"The access token provided is expired, revoked, malformed, or invalid for other reasons."})",
            d);
        CHECK(d.error == "invalid_token");
        CHECK(d.detail == "The access token provided is expired, revoked, malformed, or invalid for other reasons.");
    }
    SUBCASE("403 insufficient scope and blocked") {
        polar::diagnostics d;
        polar::detail::decode_error_body(
            R"({"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token."})",
            d);
        CHECK(d.error == "insufficient_scope");
        CHECK(d.detail == "The request requires higher privileges than provided by the access token.");
        polar::diagnostics d2;
        polar::detail::decode_error_body(R"({"error":"NotPermitted","detail":"Not permitted"})", d2);
        CHECK(d2.error == "NotPermitted");
        CHECK(d2.detail == "Not permitted");
    }
    SUBCASE("404") {
        polar::diagnostics d;
        polar::detail::decode_error_body(R"({"error":"ResourceNotFound","detail":"Not found"})", d);
        CHECK(d.error == "ResourceNotFound");
        CHECK(d.detail == "Not found");
    }
    SUBCASE("422 with several errors") {
        polar::diagnostics d;
        polar::detail::decode_error_body(
            R"({"error":"RequestValidationError","detail":[)"
            R"({"type":"string_too_short","loc":["body","name"],"msg":"String should have at least 3 characters","input":"ab","ctx":{"min_length":3}},)"
            R"({"type":"missing","loc":["body","filter","clauses",0,"value"],"msg":"Field required","input":{"property":"name", "operator":"eq"}},)"
            R"({"type":"forbidden","loc":["body","aggregation"],"msg":"This field can't be updated because the meter is already aggregating events.","input":null},)"
            R"({"type":"value_error","loc":["query"],"msg":"The interval is too big.","input":["2025-01-01T00:00:00Z","2026-01-01T00:00:00Z","hour"]}]})",
            d);
        CHECK(d.error == "RequestValidationError");
        CHECK(d.detail.empty());
        REQUIRE(d.validation_errors.size() == 4);
        const auto& v0 = d.validation_errors[0];
        CHECK(v0.type == "string_too_short");
        CHECK(v0.msg == "String should have at least 3 characters");
        CHECK(v0.path() == "body.name");
        CHECK(v0.input == R"("ab")");
        CHECK(v0.ctx == R"({"min_length":3})");
        const auto& v1 = d.validation_errors[1];
        REQUIRE(v1.loc.size() == 5);
        CHECK(std::get<std::int64_t>(v1.loc[3]) == 0);
        CHECK(std::get<std::string>(v1.loc[4]) == "value");
        CHECK(v1.path() == "body.filter.clauses.0.value");
        CHECK(v1.input == R"({"property":"name","operator":"eq"})");
        CHECK(v1.ctx.empty());
        CHECK(d.validation_errors[2].input == "null");
        CHECK(d.validation_errors[3].input == R"(["2025-01-01T00:00:00Z","2026-01-01T00:00:00Z","hour"])");
        CHECK(d.summary().find("body.name: String should have at least 3 characters [string_too_short]") != std::string::npos);
    }
    SUBCASE("422 without error (OpenAPI shape)") {
        polar::diagnostics d;
        polar::detail::decode_error_body(R"({"detail":[{"loc":["path","id"],"msg":"Input should be a valid UUID","type":"uuid_parsing"}]})", d);
        CHECK(d.error.empty());
        REQUIRE(d.validation_errors.size() == 1);
        CHECK(d.validation_errors[0].path() == "path.id");
        CHECK(d.validation_errors[0].input.empty());
    }
    SUBCASE("malformed pieces are skipped, nothing throws") {
        polar::diagnostics d;
        polar::detail::decode_error_body(
            R"({"error":5,"detail":[7,{"loc":"body","msg":null,"type":["x"]},{"loc":[1.5,true,"ok",-2],"msg":"m"}]})", d);
        CHECK(d.error.empty());
        REQUIRE(d.validation_errors.size() == 2);
        CHECK(d.validation_errors[0].loc.empty());
        CHECK(d.validation_errors[0].msg.empty());
        REQUIRE(d.validation_errors[1].loc.size() == 4);
        CHECK(std::get<std::string>(d.validation_errors[1].loc[0]) == "1.5E0");
        CHECK(std::get<std::string>(d.validation_errors[1].loc[1]) == "true");
        CHECK(std::get<std::int64_t>(d.validation_errors[1].loc[3]) == -2);
        CHECK(d.validation_errors[1].msg == "m");
    }
    SUBCASE("not JSON, empty, not an object") {
        for (std::string_view body : {""sv, "<html>502 Bad Gateway</html>"sv, "[1,2]"sv, "\"text\""sv, "{\"error\":"sv,
                                      "\xff\xfe"sv}) {
            polar::diagnostics d;
            d.detail = "kept";
            polar::detail::decode_error_body(body, d);
            CHECK(d.detail == "kept");
            CHECK(d.error.empty());
            CHECK(d.validation_errors.empty());
        }
    }
}
