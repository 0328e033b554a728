// A program of two TUs that both include the single header <polar/polar.hpp>:
// it must link without duplicate symbols (the header-only functions are
// inline; Boost.JSON's sources are compiled in this TU only) and both TUs
// must agree at run time.
#if __has_include(<polar/src.hpp>)
#error "include/ is on the include path: this test must see single_include/ only"
#endif
#include <polar/polar.hpp>

#include "two_tu.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <string>

namespace {
int failures = 0;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s\n", what);
        ++failures;
    }
}
} // namespace

int main() {
    polar::meter m;
    m.id = "0f3bd35e-3f8e-4d5a-9a53-c3b0c6e0b0a1";
    m.created_at = polar::parse_timestamp("2025-03-25T15:51:07.123456Z").value();
    m.name = "Tokens";
    m.filter = polar::filter::all(polar::clause("name", polar::filter_operator::eq, "llm.call"));
    m.aggregation = polar::aggregation::sum("tokens");
    m.organization_id = "7c1a2f44-5b0e-4a8e-8d7e-2b6f0e9c1d23";

    const std::string json = polar::to_json(m);
    const std::string again = other_tu_reencode_meter(json);
    check(again == json, "a meter encoded here and re-encoded in the other TU is unchanged");
    check(polar::from_json<polar::meter>(again) == m, "the other TU's JSON decodes to the same meter");

    check(other_tu_normalize_timestamp("2025-03-01T02:00:00+02:00") == "2025-03-01T00:00:00Z",
          "the other TU parses and formats timestamps");
    check(other_tu_error_category() == &polar::error_category(),
          "both TUs share one polar error category");

    boost::asio::io_context ioc;
    polar::client_options options;
    options.access_token = "polar_test_token";
    options.server_url = "http://127.0.0.1:9";
    polar::client client(ioc.get_executor(), options);
    check(client.base_url() == "http://127.0.0.1:9", "the client keeps its server URL");

    if (failures == 0)
        std::printf("two TUs agree: %s\n", json.c_str());
    return failures == 0 ? 0 : 1;
}
