// Emulator logic: demo data, snapshot/restore, thread safety and cost.
#include <polar/testing/emulator_state.hpp>

#include "emulator_state_call.hpp"

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace polar::testing;
namespace json = boost::json;
using namespace std::chrono;
using namespace std::chrono_literals;

const system_clock::time_point demo_now = sys_days{2025y / March / 25} + 15h + 30min;

emulator_response request(emulator_state& s, std::string_view method, std::string_view target,
                          std::string_view token = "polar_demo_token", std::string_view body = {}) {
    // These tests pin the seed-era contract; no Content-Type, as before.
    return polar_test::call_state(s, {.method = method,
                                      .target = target,
                                      .token = token,
                                      .body = body,
                                      .default_version = api_version_2025_03,
                                      .content_type = ""});
}

std::string str(const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); }

} // namespace

TEST_CASE("emulator seed_demo: content and tokens") {
    emulator_state s;
    s.set_clock([] { return demo_now; });
    const auto demo = s.seed_demo();
    CHECK(demo.organization_token == "polar_demo_token");
    CHECK(demo.customer_ids.size() == 7);
    CHECK(demo.external_customer_ids.size() == 4);
    CHECK(demo.meter_ids.size() == 6);
    CHECK(demo.event_count == 3400);
    CHECK(s.event_count() == 3400);
    CHECK(s.meter_count() == 7);
    CHECK(s.customer_count() == 10);

    auto list = json::parse(request(s, "GET", "/v1/meters/?limit=100").body);
    CHECK(list.at("pagination").at("total_count") == 6);
    CHECK(json::parse(request(s, "GET", "/v1/meters/?limit=100", demo.user_token).body)
              .at("pagination")
              .at("total_count") == 7);
    CHECK(request(s, "GET", "/v1/meters/" + demo.meter_ids[0], demo.read_only_token).status == 200);
    CHECK(request(s, "POST", "/v1/meters/", demo.read_only_token, "{}").status == 403);
    CHECK(request(s, "GET", "/v1/meters/" + demo.second_meter_id).status == 404);

    // Every event lies within the 30 days before now.
    const auto all = demo.meter_ids[5];
    auto events = json::parse(request(s, "GET", "/v1/meters/" + all + "/events?limit=1").body);
    CHECK(events.at("pagination").at("total_count") == 3000);
    CHECK(str(events.at("items").at(0).at("timestamp")) < "2025-03-25T15:30:00Z");
    events = json::parse(request(s, "GET", "/v1/meters/" + all + "/events?limit=100&page=30").body);
    CHECK(str(events.at("items").as_array().back().at("timestamp")) >= "2025-02-23T15:30:00Z");

    // The daily counts of "LLM calls" add up to its events.
    const auto calls = demo.meter_ids[2];
    const auto total = json::parse(request(s, "GET", "/v1/meters/" + calls + "/events").body)
                           .at("pagination")
                           .at("total_count")
                           .as_int64();
    CHECK(total > 1000);
    auto q = json::parse(request(s, "GET",
                                 "/v1/meters/" + calls +
                                     "/quantities?start_timestamp=2025-02-20T00:00:00Z&end_timestamp=2025-03-26T00:00:00Z&"
                                     "interval=day")
                             .body);
    double sum = 0;
    for (const auto& p : q.at("quantities").as_array()) sum += p.at("quantity").as_double();
    CHECK(sum == static_cast<double>(total));
    // Weekly from a Thursday: the points are Thursdays, so the week of Monday
    // March 24 only counts once a point (March 27) falls inside the range.
    auto weekly_sum = [&](std::string end) {
        auto w = json::parse(request(s, "GET",
                                     "/v1/meters/" + calls + "/quantities?start_timestamp=2025-02-20T00:00:00Z&end_timestamp=" +
                                         end + "&interval=week")
                                 .body);
        double total_w = 0;
        for (const auto& p : w.at("quantities").as_array()) total_w += p.at("quantity").as_double();
        return total_w;
    };
    CHECK(weekly_sum("2025-03-26T00:00:00Z") < static_cast<double>(total));
    CHECK(weekly_sum("2025-03-27T00:00:00Z") == static_cast<double>(total));
    // Per customer, the parts add up.
    double per_customer = 0;
    for (const auto& c : demo.customer_ids) {
        q = json::parse(request(s, "GET",
                                "/v1/meters/" + calls +
                                    "/quantities?start_timestamp=2025-02-01T00:00:00Z&end_timestamp=2025-03-26T00:00:00Z&"
                                    "interval=month&customer_id=" + c)
                            .body);
        for (const auto& p : q.at("quantities").as_array()) per_customer += p.at("quantity").as_double();
    }
    CHECK(per_customer == static_cast<double>(total));

    // The demo can ingest with its token.
    CHECK(request(s, "POST", "/v1/events/ingest", "polar_demo_token",
                  R"({"events":[{"name":"llm.call","external_customer_id":"usr_1001","metadata":{"model":"pro","tokens":5}}]})")
              .body == R"({"inserted":1})");
}

TEST_CASE("emulator seed_demo is deterministic") {
    emulator_state a(1), b(2);
    a.set_clock([] { return demo_now; });
    b.set_clock([] { return demo_now; });
    const auto da = a.seed_demo();
    const auto db = b.seed_demo();
    CHECK(da.meter_ids == db.meter_ids);
    CHECK(da.customer_ids == db.customer_ids);
    CHECK(a.snapshot() == b.snapshot());
}

TEST_CASE("emulator snapshot and restore") {
    emulator_state s(5);
    system_clock::time_point now = demo_now;
    s.set_clock([&] { return now; });
    const auto demo = s.seed_demo();
    const auto blocked_org = s.add_organization("Blocked");
    s.set_organization_blocked(blocked_org, true);
    s.add_customer_session_token("polar_cst_1");
    now += 1h;
    CHECK(request(s, "PATCH", "/v1/meters/" + demo.meter_ids[1], "polar_demo_token", R"({"name":"Renamed"})").status ==
          200);
    CHECK(s.run_billing_job() == 7);
    const auto snap = s.snapshot();
    CHECK(json::parse(snap).at("format") == "polar-emulator-state");

    emulator_state r;
    r.set_clock([&] { return now; });
    r.restore(snap);
    CHECK(r.snapshot() == snap);
    CHECK(r.meter_count() == s.meter_count());
    CHECK(r.event_count() == s.event_count());
    CHECK(r.customer_count() == s.customer_count());
    CHECK(r.meter_locked(demo.meter_ids[0]));

    const std::string targets[] = {
        "/v1/meters/?limit=100&sorting=-created_at",
        "/v1/meters/" + demo.meter_ids[1],
        "/v1/meters/" + demo.meter_ids[0] + "/events?limit=50&page=3",
        "/v1/meters/" + demo.meter_ids[4] +
            "/quantities?start_timestamp=2025-02-20T00:00:00Z&end_timestamp=2025-03-26T00:00:00Z&interval=day",
    };
    for (const auto& t : targets) {
        CAPTURE(t);
        auto before = request(s, "GET", t);
        auto after = request(r, "GET", t);
        CHECK(before.status == 200);
        CHECK(after.status == before.status);
        CHECK(after.body == before.body);
    }
    CHECK(str(json::parse(request(r, "GET", "/v1/meters/" + demo.meter_ids[1]).body).at("modified_at")) ==
          "2025-03-25T16:30:00Z");
    // The lock survives, and so do tokens of every kind.
    CHECK(request(r, "PATCH", "/v1/meters/" + demo.meter_ids[0], "polar_demo_token", R"({"filter":null})").status ==
          422);
    CHECK(request(r, "GET", "/v1/meters/", demo.user_token).status == 200);
    CHECK(json::parse(request(r, "GET", "/v1/meters/", "polar_cst_1").body).at("error") == "invalid_token");

    // A bad snapshot throws and leaves the state alone.
    CHECK_THROWS_AS(r.restore("{"), std::invalid_argument);
    CHECK_THROWS_AS(r.restore(R"({"format":"other"})"), std::invalid_argument);
    CHECK_THROWS_AS(r.restore(R"({"format":"polar-emulator-state","organizations":[{"id":1}]})"),
                    std::invalid_argument);
    CHECK(r.meter_count() == 7);

    // An empty state round-trips too.
    emulator_state empty;
    const auto empty_snap = empty.snapshot();
    r.restore(empty_snap);
    CHECK(r.meter_count() == 0);
    CHECK(r.snapshot() == empty_snap);
}

TEST_CASE("emulator add_event rejects metadata that is not an object") {
    emulator_state s;
    emulator_event e;
    e.organization_id = s.add_organization("x");
    e.name = "n";
    e.metadata_json = "[1]";
    CHECK_THROWS_AS(s.add_event(e), std::invalid_argument);
    e.metadata_json = "{";
    CHECK_THROWS_AS(s.add_event(e), std::invalid_argument);
    CHECK(s.event_count() == 0);
}

TEST_CASE("emulator handle is thread-safe") {
    emulator_state s;
    s.set_clock([] { return demo_now; });
    const auto demo = s.seed_demo();
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 150; ++i) {
                emulator_response r;
                switch ((i + t) % 4) {
                case 0: r = request(s, "GET", "/v1/meters/" + demo.meter_ids[static_cast<std::size_t>(i % 6)]); break;
                case 1: r = request(s, "GET", "/v1/meters/?limit=3"); break;
                case 2:
                    r = request(s, "POST", "/v1/events/ingest", "polar_demo_token",
                                R"({"events":[{"name":"api.request","external_customer_id":"usr_1002","metadata":{"duration_ms":3}}]})");
                    break;
                default:
                    r = request(s, "GET",
                                "/v1/meters/" + demo.meter_ids[4] +
                                    "/quantities?start_timestamp=2025-03-18T00:00:00Z&end_timestamp=2025-03-25T00:00:00Z&interval=day");
                }
                if (r.status != 200) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(failures == 0);
    CHECK(s.event_count() == 3400 + 4 * 150 / 4);
}

TEST_CASE("emulator get and quantities stay cheap") {
    emulator_state s;
    s.set_clock([] { return demo_now; });
    const auto demo = s.seed_demo();
    const std::string target = "/v1/meters/" + demo.meter_ids[0];
    const auto t0 = steady_clock::now();
    constexpr int n = 20000;
    std::size_t bytes = 0;
    for (int i = 0; i < n; ++i) bytes += request(s, "GET", target).body.size();
    const auto get_elapsed = duration<double>(steady_clock::now() - t0).count();
    CHECK(bytes > 0);
    MESSAGE("GET /v1/meters/{id}: " << static_cast<long>(n / get_elapsed) << " req/s (this build)");

    const auto t1 = steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        auto r = request(s, "GET",
                         "/v1/meters/" + demo.meter_ids[0] +
                             "/quantities?start_timestamp=2025-03-18T00:00:00Z&end_timestamp=2025-03-25T12:00:00Z&interval=hour");
        REQUIRE(r.status == 200);
    }
    const auto q_elapsed = duration<double>(steady_clock::now() - t1).count() / 20;
    MESSAGE("hourly quantities over 3000 events: " << q_elapsed * 1000 << " ms");
    // Generous bounds (sanitizer and Debug builds included).
    CHECK(get_elapsed < 20.0);
    CHECK(q_elapsed < 0.5);
}
