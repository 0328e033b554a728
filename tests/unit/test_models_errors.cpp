// JSON codec: malformed input. Every case must give errc::invalid_response
// with a `what` that says where and why, never an exception or a crash.
#include <polar/models.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace {

template <class T>
std::string decode_error(std::string_view json) {
    T out;
    std::string what;
    const polar::error_code ec = polar::detail::decode(json, out, what);
    INFO("json: " << std::string(json.substr(0, 300)));
    CHECK(ec == polar::make_error_code(polar::errc::invalid_response));
    CHECK_FALSE(what.empty());
    return what;
}

// A valid meter whose `key` is replaced with raw JSON `value` (or removed
// when value is empty).
std::string meter_with(std::string_view key, std::string_view value) {
    const std::pair<std::string_view, std::string_view> fields[] = {
        {"id", R"("9b1c4d2e-3f4a-4b5c-8d6e-7f8091a2b3c4")"},
        {"created_at", R"("2025-03-20T10:00:00.123456Z")"},
        {"modified_at", "null"},
        {"metadata", R"({"team":"core"})"},
        {"name", R"("API tokens")"},
        {"filter", R"({"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"}]})"},
        {"aggregation", R"({"func":"sum","property":"tokens"})"},
        {"organization_id", R"("1dbfc517-0bbf-4301-9ba8-555ca42b9737")"},
    };
    std::string out = "{";
    for (const auto& [k, v] : fields) {
        const std::string_view val = k == key ? value : v;
        if (val.empty()) continue;
        if (out.size() > 1) out += ',';
        out += '"';
        out += k;
        out += "\":";
        out += val;
    }
    out += '}';
    return out;
}

std::string event_with(std::string_view key, std::string_view value) {
    const std::pair<std::string_view, std::string_view> fields[] = {
        {"id", R"("e1")"},
        {"timestamp", R"("2025-03-20T10:00:00Z")"},
        {"name", R"("llm.call")"},
        {"source", R"("user")"},
        {"organization_id", R"("o")"},
        {"customer_id", "null"},
        {"external_customer_id", R"("usr_1")"},
        {"customer", "null"},
        {"metadata", R"({})"},
    };
    std::string out = "{";
    for (const auto& [k, v] : fields) {
        const std::string_view val = k == key ? value : v;
        if (val.empty()) continue;
        if (out.size() > 1) out += ',';
        out += '"';
        out += k;
        out += "\":";
        out += val;
    }
    out += '}';
    return out;
}

const std::string customer_json =
    R"({"id":"c","created_at":"2025-03-01T00:00:00Z","modified_at":null,"metadata":{},"external_id":null,)"
    R"("email":"e@x","email_verified":true,"name":null,"billing_address":null,"tax_id":null,)"
    R"("organization_id":"o","deleted_at":null,"avatar_url":"https://a"})";

std::string customer_with(std::string_view key, std::string_view value) {
    // Replace `"key":<old>` by `"key":value` with a small scan (values above are flat).
    std::string json = customer_json;
    const std::string needle = "\"" + std::string(key) + "\":";
    const auto pos = json.find(needle);
    REQUIRE(pos != std::string::npos);
    const auto start = pos + needle.size();
    auto end = json.find_first_of(",}", start);
    if (json[start] == '"') end = json.find('"', start + 1) + 1;
    if (json[start] == '{') end = json.find('}', start) + 1;
    if (value.empty()) {
        // Remove the key and its comma.
        auto from = pos;
        auto to = end;
        if (json[to] == ',') ++to;
        else if (json[from - 1] == ',') --from;
        json.erase(from, to - from);
    } else {
        json.replace(start, end - start, value);
    }
    return json;
}

} // namespace

TEST_CASE("decode errors: not JSON") {
    CHECK(decode_error<polar::meter>("") == "empty body");
    CHECK(decode_error<polar::meter>("  \r\n") == "empty body (whitespace only)");
    CHECK(decode_error<polar::meter>(R"({"id":)") == "invalid JSON at offset 6: incomplete JSON");
    CHECK(decode_error<polar::meter>(R"({"id": 1 2})") == "invalid JSON at offset 9: syntax error");
    CHECK(decode_error<polar::meter>(R"({"id": "x"} trailing)") == "invalid JSON at offset 12: extra data");
    CHECK(decode_error<polar::meter>(R"({'id': 'x'})") == "invalid JSON at offset 1: syntax error");
    CHECK(decode_error<polar::meter>(R"({"a":1,})") == "invalid JSON at offset 7: syntax error");
    CHECK(decode_error<polar::meter>("{\"a\":1} // comment").find("invalid JSON at offset 8") == 0);
    CHECK(decode_error<polar::meter>("<html><body>502 Bad Gateway</body></html>") ==
          "invalid JSON at offset 0: syntax error");
    CHECK(decode_error<polar::meter>("{\"id\":\"ab\xff" "cd\"}") == "invalid JSON at offset 9: invalid UTF-8");
    CHECK(decode_error<polar::meter>("{\"id\":\"\xed\xa0\x80\"}") == "invalid JSON at offset 7: invalid UTF-8");
    CHECK(decode_error<polar::page<polar::event>>("{\"items\":[],\"\xc0\xaf\":1}") ==
          "invalid JSON at offset 13: invalid UTF-8");
    CHECK(decode_error<polar::meter>(std::string_view("{\"id\":\"a\0b\"}", 12)).find("invalid JSON at offset") == 0);
    CHECK(decode_error<polar::meter>("NaN") == "invalid JSON at offset 0: syntax error");
    CHECK(decode_error<polar::meter_quantities>(R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z","quantity":Infinity}]})")
              .find("invalid JSON at offset") == 0);
}

TEST_CASE("decode errors: truncated documents at every length") {
    const std::string full = meter_with("", "");
    for (std::size_t n = 0; n < full.size(); ++n) {
        const std::string what = decode_error<polar::meter>(std::string_view(full).substr(0, n));
        CHECK((what.rfind("invalid JSON at offset", 0) == 0 || what.rfind("empty body", 0) == 0));
    }
    polar::meter m;
    std::string what;
    CHECK_FALSE(polar::detail::decode(full, m, what));
}

TEST_CASE("decode errors: the root has the wrong type") {
    CHECK(decode_error<polar::meter>("[]") == "expected object, got array");
    CHECK(decode_error<polar::meter>("null") == "expected object, got null");
    CHECK(decode_error<polar::meter>("\"meter\"") == "expected object, got string");
    CHECK(decode_error<polar::page<polar::meter>>("42") == "expected object, got number");
    CHECK(decode_error<polar::meter_quantities>("true") == "expected object, got boolean");
    CHECK(decode_error<polar::events_ingest_response>("[{\"inserted\":1}]") == "expected object, got array");
}

TEST_CASE("decode errors: meter fields") {
    using M = polar::meter;
    // Missing required fields.
    CHECK(decode_error<M>(meter_with("id", "")) == "id: missing required field");
    CHECK(decode_error<M>(meter_with("created_at", "")) == "created_at: missing required field");
    CHECK(decode_error<M>(meter_with("metadata", "")) == "metadata: missing required field");
    CHECK(decode_error<M>(meter_with("name", "")) == "name: missing required field");
    CHECK(decode_error<M>(meter_with("filter", "")) == "filter: missing required field");
    CHECK(decode_error<M>(meter_with("aggregation", "")) == "aggregation: missing required field");
    CHECK(decode_error<M>(meter_with("organization_id", "")) == "organization_id: missing required field");
    CHECK(decode_error<M>("{}") == "id: missing required field");
    // Wrong types.
    CHECK(decode_error<M>(meter_with("id", "7")) == "id: expected string, got number");
    CHECK(decode_error<M>(meter_with("id", "null")) == "id: expected string, got null");
    CHECK(decode_error<M>(meter_with("name", "[\"a\"]")) == "name: expected string, got array");
    CHECK(decode_error<M>(meter_with("created_at", "1742464800")) == "created_at: expected date-time string, got number");
    CHECK(decode_error<M>(meter_with("created_at", "null")) == "created_at: expected date-time string, got null");
    CHECK(decode_error<M>(meter_with("modified_at", "false")) == "modified_at: expected date-time string or null, got boolean");
    CHECK(decode_error<M>(meter_with("metadata", "[]")) == "metadata: expected object, got array");
    CHECK(decode_error<M>(meter_with("metadata", "null")) == "metadata: expected object, got null");
    CHECK(decode_error<M>(meter_with("filter", "null")) == "filter: expected object, got null");
    CHECK(decode_error<M>(meter_with("aggregation", "\"sum\"")) == "aggregation: expected object, got string");
    // Bad timestamps.
    CHECK(decode_error<M>(meter_with("modified_at", R"("2025-13-01")")) == R"(modified_at: invalid date-time "2025-13-01")");
    CHECK(decode_error<M>(meter_with("created_at", R"("2025-02-30T00:00:00Z")")) ==
          R"(created_at: invalid date-time "2025-02-30T00:00:00Z")");
    CHECK(decode_error<M>(meter_with("created_at", R"("2025-03-20T10:00:00")")) ==
          R"(created_at: invalid date-time "2025-03-20T10:00:00")");
    CHECK(decode_error<M>(meter_with("created_at", R"("")")) == R"(created_at: invalid date-time "")");
    CHECK(decode_error<M>(meter_with("created_at", R"("2025-03-20T10:00:00Z\n")")) ==
          R"(created_at: invalid date-time "2025-03-20T10:00:00Z\x0a")");
    const std::string long_bad = "\"" + std::string(200, '9') + "\"";
    CHECK(decode_error<M>(meter_with("created_at", long_bad)) ==
          "created_at: invalid date-time \"" + std::string(64, '9') + "...\"");
}

TEST_CASE("decode errors: metadata values") {
    using M = polar::meter;
    // Floats (and integers beyond int64) are metadata values since the dated
    // API: they decode as doubles (test_models_dated.cpp). Numbers beyond the
    // range of a double do not.
    CHECK(decode_error<M>(meter_with("metadata", R"({"a":1e999})")) ==
          "metadata.a: number out of range (beyond the range of a double)");
    CHECK(decode_error<M>(meter_with("metadata", R"({"ok":1.5,"b":-1e400})")) ==
          "metadata.b: number out of range (beyond the range of a double)");
    CHECK(decode_error<M>(meter_with("metadata", R"({"a":null})")) == "metadata.a: expected string, integer or boolean, got null");
    CHECK(decode_error<M>(meter_with("metadata", R"({"a":{"b":1}})")) ==
          "metadata.a: expected string, integer or boolean, got object");
    CHECK(decode_error<M>(meter_with("metadata", R"({"ok":1,"list":[1]})")) ==
          "metadata.list: expected string, integer or boolean, got array");
    CHECK(decode_error<M>(meter_with("metadata", R"({"s":"x","nested":{"list":[1]}})")) ==
          "metadata.nested: expected string, integer or boolean, got object");
}

TEST_CASE("decode errors: filters") {
    using M = polar::meter;
    CHECK(decode_error<M>(meter_with("filter", R"({"clauses":[]})")) == "filter.conjunction: missing required field");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and"})")) == "filter.clauses: missing required field");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":1,"clauses":[]})")) ==
          "filter.conjunction: expected string, got number");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":{}})")) ==
          "filter.clauses: expected array, got object");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[null]})")) ==
          "filter.clauses[0]: expected object, got null");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq","value":1},"x"]})")) ==
          "filter.clauses[1]: expected object, got string");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq"}]})")) ==
          "filter.clauses[0].value: missing required field");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{}]})")) ==
          "filter.clauses[0].property: missing required field");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":"a","value":1}]})")) ==
          "filter.clauses[0].operator: missing required field");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq","value":1.5}]})")) ==
          "filter.clauses[0].value: expected string, integer or boolean, got non-integral number (or an integer out of the int64 range)");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq","value":null}]})")) ==
          "filter.clauses[0].value: expected string, integer or boolean, got null");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq","value":[1]}]})")) ==
          "filter.clauses[0].value: expected string, integer or boolean, got array");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":7,"operator":"eq","value":1}]})")) ==
          "filter.clauses[0].property: expected string, got number");
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"property":"p","operator":["eq"],"value":1}]})")) ==
          "filter.clauses[0].operator: expected string, got array");
    CHECK(decode_error<M>(meter_with("filter",
                                     R"({"conjunction":"and","clauses":[{"property":"a","operator":"eq","value":1},)"
                                     R"({"conjunction":"or","clauses":[{"property":"b","operator":"eq","value":2},)"
                                     R"({"conjunction":"and","clauses":[{"property":"c","operator":"eq","value":18446744073709551615}]}]}]})")) ==
          "filter.clauses[1].clauses[1].clauses[0].value: integer out of range (exceeds int64)");
    // A nested filter missing its clauses.
    CHECK(decode_error<M>(meter_with("filter", R"({"conjunction":"and","clauses":[{"conjunction":"or"}]})")) ==
          "filter.clauses[0].clauses: missing required field");
}

TEST_CASE("decode errors: deeply nested filters are bounded") {
    auto nested = [](int levels) {
        std::string open, close;
        for (int i = 0; i < levels; ++i) {
            open += R"({"conjunction":"and","clauses":[)";
            close += "]}";
        }
        return open + close;
    };
    // Past detail::max_filter_depth (100) but within the JSON depth limit (256).
    const std::string f120 = nested(120);
    const std::string what = decode_error<polar::filter>(f120);
    CHECK(what.find("filter nested too deeply (more than 100 levels)") != std::string::npos);
    CHECK(what.rfind("clauses[0].clauses[0].", 0) == 0);
    CHECK(decode_error<polar::meter>(meter_with("filter", f120)).rfind("filter.clauses[0]", 0) == 0);
    // Past the JSON depth limit: rejected by the parser.
    CHECK(decode_error<polar::filter>(nested(200)).find(": too deep") != std::string::npos);
    CHECK(decode_error<polar::meter>(std::string(100000, '[') + std::string(100000, ']')).find("too deep") != std::string::npos);
    CHECK(decode_error<polar::meter>(meter_with("filter", nested(5000))).find("too deep") != std::string::npos);
    // Exactly 100 levels is fine.
    polar::filter f;
    std::string w;
    CHECK_FALSE(polar::detail::decode(nested(100), f, w));
}

TEST_CASE("decode errors: aggregations") {
    using M = polar::meter;
    CHECK(decode_error<M>(meter_with("aggregation", R"({})")) == "aggregation.func: missing required field");
    CHECK(decode_error<M>(meter_with("aggregation", R"({"property":"tokens"})")) == "aggregation.func: missing required field");
    CHECK(decode_error<M>(meter_with("aggregation", R"({"func":3})")) == "aggregation.func: expected string, got number");
    CHECK(decode_error<M>(meter_with("aggregation", R"({"func":null})")) == "aggregation.func: expected string, got null");
    CHECK(decode_error<M>(meter_with("aggregation", R"({"func":"sum"})")) == "aggregation.property: missing required field");
    CHECK(decode_error<M>(meter_with("aggregation", R"({"func":"avg","property":null})")) ==
          "aggregation.property: expected string, got null");
    CHECK(decode_error<M>(meter_with("aggregation", R"({"func":"max","property":1})")) ==
          "aggregation.property: expected string, got number");
    // The brief's example path: in a page.
    const std::string page = R"({"items":[)" + meter_with("", "") + "," + meter_with("", "") + "," + meter_with("", "") + "," +
                             meter_with("aggregation", R"({"func":12})") + R"(],"pagination":{"total_count":4,"max_page":1}})";
    CHECK(decode_error<polar::page<polar::meter>>(page) == "items[3].aggregation.func: expected string, got number");
}

TEST_CASE("decode errors: pages") {
    using P = polar::page<polar::meter>;
    CHECK(decode_error<P>(R"({"pagination":{"total_count":0,"max_page":0}})") == "items: missing required field");
    CHECK(decode_error<P>(R"({"items":[]})") == "pagination: missing required field");
    CHECK(decode_error<P>(R"({"items":null,"pagination":{"total_count":0,"max_page":0}})") == "items: expected array, got null");
    CHECK(decode_error<P>(R"({"items":[],"pagination":[]})") == "pagination: expected object, got array");
    CHECK(decode_error<P>(R"({"items":[],"pagination":{"total_count":0}})") == "pagination.max_page: missing required field");
    CHECK(decode_error<P>(R"({"items":[],"pagination":{"total_count":"1","max_page":1}})") ==
          "pagination.total_count: expected integer, got string");
    CHECK(decode_error<P>(R"({"items":[],"pagination":{"total_count":1.0,"max_page":1}})") ==
          "pagination.total_count: expected integer, got non-integral number (or an integer out of the int64 range)");
    CHECK(decode_error<P>(R"({"items":[],"pagination":{"total_count":1,"max_page":1e2}})").rfind("pagination.max_page: expected integer", 0) == 0);
    CHECK(decode_error<P>(R"({"items":[],"pagination":{"total_count":99999999999999999999,"max_page":1}})") ==
          "pagination.total_count: expected integer, got non-integral number (or an integer out of the int64 range)");
    CHECK(decode_error<P>(R"({"items":[],"pagination":{"total_count":18446744073709551615,"max_page":1}})") ==
          "pagination.total_count: integer out of range (exceeds int64)");
    CHECK(decode_error<P>(R"({"items":[1],"pagination":{"total_count":1,"max_page":1}})") == "items[0]: expected object, got number");
    CHECK(decode_error<P>(R"({"items":[)" + meter_with("", "") + "," + meter_with("name", "") +
                          R"(],"pagination":{"total_count":2,"max_page":1}})") == "items[1].name: missing required field");
}

TEST_CASE("decode errors: events and customers") {
    using P = polar::page<polar::event>;
    const auto page = [](const std::string& item) {
        return R"({"items":[)" + item + R"(],"pagination":{"total_count":1,"max_page":1}})";
    };
    CHECK(decode_error<P>(page(event_with("source", ""))) == "items[0].source: missing required field");
    CHECK(decode_error<P>(page(event_with("source", "1"))) == "items[0].source: expected string, got number");
    CHECK(decode_error<P>(page(event_with("timestamp", R"("2025-03-20T10:00:00+25:00")"))) ==
          R"(items[0].timestamp: invalid date-time "2025-03-20T10:00:00+25:00")");
    CHECK(decode_error<P>(page(event_with("customer_id", "5"))) == "items[0].customer_id: expected string or null, got number");
    CHECK(decode_error<P>(page(event_with("external_customer_id", "{}"))) ==
          "items[0].external_customer_id: expected string or null, got object");
    CHECK(decode_error<P>(page(event_with("customer", "[]"))) == "items[0].customer: expected object, got array");
    CHECK(decode_error<P>(page(event_with("metadata", R"({"n":[0.5]})"))) == "items[0].metadata.n: expected string, integer or boolean, got array");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("email", "")))) == "items[0].customer.email: missing required field");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("email_verified", R"("yes")")))) ==
          "items[0].customer.email_verified: expected boolean, got string");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("avatar_url", "")))) ==
          "items[0].customer.avatar_url: missing required field");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("deleted_at", R"("yesterday")")))) ==
          R"(items[0].customer.deleted_at: invalid date-time "yesterday")");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("tax_id", R"(["123"])")))) ==
          "items[0].customer.tax_id: expected a [value, format] array of 2 items, got 1");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("tax_id", R"("123")")))) ==
          "items[0].customer.tax_id: expected [value, format] array or null, got string");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("tax_id", R"(["123",5])")))) ==
          "items[0].customer.tax_id[1]: expected string, got number");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("tax_id", R"([null,"eu_vat"])")))) ==
          "items[0].customer.tax_id[0]: expected string, got null");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("billing_address", R"({"line1":"x"})")))) ==
          "items[0].customer.billing_address.country: missing required field");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("billing_address", R"({"country":"SE","city":3})")))) ==
          "items[0].customer.billing_address.city: expected string or null, got number");
    CHECK(decode_error<P>(page(event_with("customer", customer_with("metadata", R"({"k":[]})")))) ==
          "items[0].customer.metadata.k: expected string, integer or boolean, got array");
}

TEST_CASE("decode errors: quantities and ingestion") {
    using Q = polar::meter_quantities;
    CHECK(decode_error<Q>("{}") == "quantities: missing required field");
    CHECK(decode_error<Q>(R"({"quantities":{}})") == "quantities: expected array, got object");
    CHECK(decode_error<Q>(R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z"}]})") == "quantities[0].quantity: missing required field");
    CHECK(decode_error<Q>(R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z","quantity":1},{"quantity":1}]})") ==
          "quantities[1].timestamp: missing required field");
    CHECK(decode_error<Q>(R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z","quantity":"1"}]})") ==
          "quantities[0].quantity: expected number, got string");
    CHECK(decode_error<Q>(R"({"quantities":[{"timestamp":"2025-03-01T00:00:00Z","quantity":null}]})") ==
          "quantities[0].quantity: expected number, got null");
    CHECK(decode_error<Q>(R"({"quantities":[{"timestamp":"2025-03-01","quantity":1}]})") ==
          R"(quantities[0].timestamp: invalid date-time "2025-03-01")");
    CHECK(decode_error<Q>(R"({"quantities":[[]]})") == "quantities[0]: expected object, got array");

    using R = polar::events_ingest_response;
    CHECK(decode_error<R>("{}") == "inserted: missing required field");
    CHECK(decode_error<R>(R"({"inserted":"3"})") == "inserted: expected integer, got string");
    CHECK(decode_error<R>(R"({"inserted":3.5})").rfind("inserted: expected integer, got non-integral number", 0) == 0);

    CHECK(decode_error<polar::events_ingest>(R"({"events":[{"name":"x"}]})") ==
          "events[0]: missing required field: customer_id or external_customer_id");
    CHECK(decode_error<polar::events_ingest>(R"({"events":[{"customer_id":"c"}]})") == "events[0].name: missing required field");
    CHECK(decode_error<polar::events_ingest>(R"({"events":[{"name":"x","customer_id":"c","timestamp":"now"}]})") ==
          R"(events[0].timestamp: invalid date-time "now")");
    CHECK(decode_error<polar::events_ingest>("{}") == "events: missing required field");
}

TEST_CASE("decode errors: request bodies") {
    CHECK(decode_error<polar::meter_create>(R"({"name":"x","filter":{"conjunction":"and","clauses":[]}})") ==
          "aggregation: missing required field");
    CHECK(decode_error<polar::meter_create>(R"({"name":"x","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"},"metadata":null})") ==
          "metadata: expected object, got null");
    CHECK(decode_error<polar::meter_update>(R"({"name":null})") == "name: expected string, got null");
    CHECK(decode_error<polar::meter_update>(R"({"filter":{"conjunction":"and"}})") == "filter.clauses: missing required field");
    CHECK(decode_error<polar::meter_update>(R"({"aggregation":{"func":"sum"}})") == "aggregation.property: missing required field");
    CHECK(decode_error<polar::meter_update>(R"({"metadata":null})") == "metadata: expected object, got null");
}

TEST_CASE("decode errors: the throwing convenience carries the details") {
    try {
        (void)polar::from_json<polar::meter>(meter_with("aggregation", R"({"func":12})"));
        FAIL("expected an exception");
    } catch (const polar::api_error& e) {
        CHECK(e.code() == polar::make_error_code(polar::errc::invalid_response));
        CHECK(e.diag().message == "aggregation.func: expected string, got number");
        CHECK(e.diag().body.find("\"func\":12") != std::string::npos);
        CHECK(std::string(e.what()).find("aggregation.func: expected string, got number") != std::string::npos);
    }
    const std::string big = "[" + std::string(10000, ' ') + "]";
    try {
        (void)polar::from_json<polar::meter>(big);
        FAIL("expected an exception");
    } catch (const polar::api_error& e) {
        CHECK(e.diag().body.size() == 4096);
    }
}

TEST_CASE("decode errors: a failed decode can be retried into the same object") {
    polar::page<polar::event> p;
    std::string what;
    CHECK(polar::detail::decode(R"({"items":[{"id":1}],"pagination":{"total_count":1,"max_page":1}})", p, what));
    CHECK(what == "items[0].id: expected string, got number");
    CHECK_FALSE(polar::detail::decode(R"({"items":[],"pagination":{"total_count":0,"max_page":0}})", p, what));
    CHECK(what.empty());
    CHECK(p.items.empty());
}
