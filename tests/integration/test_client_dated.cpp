// The client's operations of the dated API (2026-10) end to end against the
// emulator, over HTTP and HTTPS: meters with units and archiving, the events
// list and its parameters, quantities with time zone, per-customer
// aggregation and total, customer meters, and decoding of every event and
// customer kind the server sends. Calls are written inline, as users write
// them (the sanitizer build checks g++'s temporaries in co_await).
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <array>
#include <set>
#include <string>
#include <vector>

using namespace polar_test;
using polar::filter_operator;
using namespace std::chrono;

namespace {

client_fixture dated(transport t = transport::http) {
    return client_fixture(
        t, [](polar::client_options& o) { o.api_version = polar::api_version::v2026_10; },
        [](polar::testing::emulator_options& so) { so.default_api_version = "2026-10"; });
}

polar::meter_create llm_meter(std::string name) {
    return polar::meter_create(std::move(name), polar::filter::all(polar::clause("name", filter_operator::eq, "llm.call")),
                               polar::aggregation::sum("tokens"));
}

polar::timestamp now_us() { return floor<microseconds>(system_clock::now()); }

} // namespace

TEST_CASE("dated: meters with units, float metadata, unique, and archiving") {
    for (auto t : {transport::http, transport::https}) {
        CAPTURE(transport_name(t));
        client_fixture fx = dated(t);
        auto& c = fx.client();
        fx.run([&]() -> asio::awaitable<void> {
            // (A braced list inside a co_await expression does not compile
            // with g++ 12: the metadata is a named local.)
            const polar::metadata tier = {{"tier", 1.5}};
            polar::meter tokens =
                co_await c.meters().create(llm_meter("LLM tokens").set_unit(polar::meter_unit::token).set_metadata(tier));
            CHECK(tokens.unit == polar::meter_unit::token);
            CHECK_FALSE(tokens.custom_label.has_value());
            CHECK_FALSE(tokens.is_archived());
            REQUIRE(tokens.metadata.count("tier") == 1);
            CHECK(std::get<double>(tokens.metadata.at("tier")) == 1.5);

            polar::meter per_k = co_await c.meters().create(llm_meter("Per thousand")
                                                                .set_unit(polar::meter_unit::custom)
                                                                .set_custom_label("requests")
                                                                .set_custom_multiplier(1000));
            CHECK(per_k.unit == polar::meter_unit::custom);
            CHECK(per_k.custom_label == "requests");
            CHECK(per_k.custom_multiplier == 1000);

            // A custom unit without a label is a model-level 422.
            polar::diagnostics d;
            auto [ec, bad] = co_await c.meters().create(llm_meter("No label").set_unit(polar::meter_unit::custom),
                                                        {.diag = &d}, asio::as_tuple(asio::deferred));
            CHECK(ec == polar::errc::validation_failed);
            REQUIRE_FALSE(d.validation_errors.empty());
            CHECK(d.validation_errors[0].msg.find("custom_label") != std::string::npos);

            polar::meter distinct = co_await c.meters().create(
                polar::meter_create("Distinct models", polar::filter::all(), polar::aggregation::unique("model")));
            CHECK(distinct.aggregation.func() == polar::aggregation_function::unique);
            CHECK(distinct.aggregation.property() == "model");

            // Archive by update; the list filters on it; unarchive.
            polar::meter archived = co_await c.meters().update(per_k.id, {.is_archived = true});
            CHECK(archived.is_archived());
            polar::page<polar::meter> only_archived = co_await c.meters().list({.is_archived = true});
            REQUIRE(only_archived.items.size() == 1);
            CHECK(only_archived.items[0].id == per_k.id);
            polar::page<polar::meter> active = co_await c.meters().list({.is_archived = false});
            CHECK(active.pagination.total_count == 2);
            polar::page<polar::meter> all = co_await c.meters().list();
            CHECK(all.pagination.total_count == 3);
            polar::meter back = co_await c.meters().update(per_k.id, {.is_archived = false});
            CHECK_FALSE(back.is_archived());

            // Unit fields by update, through the view.
            polar::meter relabelled =
                co_await c.meters().update(per_k.id, {.unit = polar::meter_unit::custom, .custom_label = "calls"});
            CHECK(relabelled.custom_label == "calls");
            CHECK(relabelled.custom_multiplier == 1000);
        });
    }
}

TEST_CASE("dated: events().list with its parameters, get, and the generators") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        const polar::meter m = co_await c.meters().create(llm_meter("Tokens"));
        const auto org = m.organization_id;
        const std::string alice = fx.server.state().add_customer(org, "alice-ext", "alice@example.com", "Alice");
        const auto now = now_us();
        std::vector<polar::event_create> batch;
        for (int i = 0; i < 6; ++i)
            batch.push_back(polar::event_create::for_customer(alice, i % 3 == 0 ? "search" : "llm.call")
                                .set_timestamp(now - minutes(10 * (i + 1)))
                                .set_external_id("ev-" + std::to_string(i))
                                .set_metadata({{"tokens", std::int64_t(i + 1)}, {"region", i % 2 ? "eu" : "us"}}));
        batch.push_back(polar::event_create::for_external_customer("bob-ext", "llm.call")
                            .set_timestamp(now - minutes(5))
                            .set_external_id("child")
                            .set_parent_id("ev-1")
                            .set_llm(polar::llm_metadata("openai", "gpt-x", 10, 5, 15))
                            .set_metadata({{"tokens", std::int64_t(7)}, {"latency_ms", 12.5}}));
        const polar::events_ingest_response r = co_await c.events().ingest(polar::events_ingest(batch));
        CHECK(r.inserted == 7);
        CHECK(r.duplicates == 0);

        // Everything, newest first (the default sorting).
        polar::page<polar::event> all = co_await c.events().list({.limit = 100});
        CHECK(all.pagination.total_count == 7);
        REQUIRE(all.items.size() == 7);
        CHECK(std::is_sorted(all.items.begin(), all.items.end(),
                             [](const auto& a, const auto& b) { return a.timestamp > b.timestamp; }));

        // Ascending, by name, by meter, by customer, by source, by time range.
        const std::array asc = {polar::event_sort_property::timestamp};
        polar::page<polar::event> oldest = co_await c.events().list({.limit = 1, .sorting = asc});
        REQUIRE(oldest.items.size() == 1);
        CHECK(oldest.items[0].timestamp == now - minutes(60));

        const std::array names = {std::string_view("search")};
        polar::page<polar::event> searches = co_await c.events().list({.name = names});
        CHECK(searches.pagination.total_count == 2);

        polar::page<polar::event> of_meter = co_await c.events().list({.meter_id = m.id, .limit = 100});
        CHECK(of_meter.pagination.total_count == 5);

        const std::array customers = {std::string_view(alice)};
        polar::page<polar::event> of_alice = co_await c.events().list({.customer_id = customers, .limit = 100});
        CHECK(of_alice.pagination.total_count == 6);
        const std::array externals = {std::string_view("alice-ext")};
        polar::page<polar::event> of_alice_ext =
            co_await c.events().list({.external_customer_id = externals, .limit = 100});
        CHECK(of_alice_ext.pagination.total_count == 6); // matched through the customer's external id

        const std::array users = {polar::event_source::user};
        polar::page<polar::event> user_events = co_await c.events().list({.source = users});
        CHECK(user_events.pagination.total_count == 7);

        polar::page<polar::event> window = co_await c.events().list(
            {.start_timestamp = now - minutes(30), .end_timestamp = now - minutes(10), .limit = 100});
        CHECK(window.pagination.total_count == 1); // exclusive bounds: only the one at -20 min

        const polar::filter eu = polar::filter::all(polar::clause("region", filter_operator::eq, "eu"));
        polar::page<polar::event> filtered = co_await c.events().list({.filter = &eu, .limit = 100});
        CHECK(filtered.pagination.total_count == 3);

        const std::array md = {polar::metadata_filter{"region", "us"}};
        polar::page<polar::event> by_metadata = co_await c.events().list({.limit = 100, .metadata = md});
        CHECK(by_metadata.pagination.total_count == 3);

        const std::array orgs = {std::string_view(org)};
        polar::page<polar::event> found = co_await c.events().list({.organization_id = orgs, .query = "sear"});
        CHECK(found.pagination.total_count == 2);
        polar::diagnostics d;
        auto [ec, none] =
            co_await c.events().list({.query = "search"}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::validation_failed); // query needs organization_id

        // get, and the child's parent resolved from the external id.
        const auto child_it = std::find_if(all.items.begin(), all.items.end(),
                                           [](const polar::event& e) { return e.llm.has_value(); });
        REQUIRE(child_it != all.items.end());
        polar::event child = co_await c.events().get(child_it->id);
        CHECK(child.id == child_it->id);
        REQUIRE(child.llm.has_value());
        CHECK(child.llm->total_tokens == 15);
        CHECK(std::get<double>(child.metadata.at("latency_ms")) == 12.5);
        CHECK_FALSE(child.label.empty());
        REQUIRE(child.parent_id.has_value());
        polar::event parent = co_await c.events().get(*child.parent_id);
        CHECK(parent.child_count == 1);
        const std::string parent_id = parent.id;
        polar::page<polar::event> children = co_await c.events().list({.parent_id = parent_id});
        REQUIRE(children.items.size() == 1);
        CHECK(children.items[0].id == child.id);

        auto [ec404, missing] = co_await c.events().get("9c43bf2b-5e0d-4a43-a5f0-3a1f2cb0e6a8",
                                                        asio::as_tuple(asio::deferred));
        CHECK(ec404 == polar::errc::not_found);

        // Past the end the events list reports zero totals; the generators stop on max_page.
        polar::page<polar::event> past = co_await c.events().list({.page = 9, .limit = 5});
        CHECK(past.items.empty());
        CHECK(past.pagination.total_count == 0);
        std::set<std::string> seen;
        auto items = c.events().list_items({.limit = 2});
        while (auto e = co_await items.next()) seen.insert(e->id);
        CHECK(seen.size() == 7);
        int pages = 0;
        auto page_gen = c.events().list_pages({.limit = 3});
        while (auto p = co_await page_gen.next()) ++pages;
        CHECK(pages == 3);
    });
}

TEST_CASE("dated: quantities with total, time zone, per-customer aggregation and metadata") {
    client_fixture fx = dated(transport::https);
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        const polar::meter m = co_await c.meters().create(llm_meter("Tokens"));
        const auto today = floor<days>(now_us());
        std::vector<polar::event_create> batch;
        // Yesterday: a 10 and a 30 for two customers; two days ago: 5 for one.
        batch.push_back(polar::event_create::for_external_customer("a", "llm.call")
                            .set_timestamp(today - days(1) + hours(12))
                            .set_metadata({{"tokens", std::int64_t(10)}, {"tier", "pro"}}));
        batch.push_back(polar::event_create::for_external_customer("b", "llm.call")
                            .set_timestamp(today - days(1) + hours(13))
                            .set_metadata({{"tokens", std::int64_t(30)}, {"tier", "lite"}}));
        batch.push_back(polar::event_create::for_external_customer("a", "llm.call")
                            .set_timestamp(today - days(2) + hours(12))
                            .set_metadata({{"tokens", 5.5}, {"tier", "pro"}}));
        co_await c.events().ingest(polar::events_ingest(batch));

        polar::meter_quantities q = co_await c.meters().quantities(
            m.id, {.start_timestamp = today - days(2), .end_timestamp = today, .interval = polar::time_interval::day});
        REQUIRE(q.quantities.size() == 3);
        CHECK(q.quantities[0].quantity == 5.5);
        CHECK(q.quantities[1].quantity == 40);
        CHECK(q.quantities[2].quantity == 0);
        REQUIRE(q.total.has_value());
        CHECK(*q.total == 45.5);

        // The largest single customer per day.
        polar::meter_quantities per_customer = co_await c.meters().quantities(
            m.id, {.start_timestamp = today - days(2),
                   .end_timestamp = today,
                   .interval = polar::time_interval::day,
                   .customer_aggregation_function = polar::aggregation_function::max});
        REQUIRE(per_customer.quantities.size() == 3);
        CHECK(per_customer.quantities[1].quantity == 30);

        const std::array pro = {polar::metadata_filter{"tier", "pro"}};
        polar::meter_quantities only_pro = co_await c.meters().quantities(
            m.id, {.start_timestamp = today - days(2), .end_timestamp = today, .interval = polar::time_interval::day,
                   .metadata = pro});
        REQUIRE(only_pro.total.has_value());
        CHECK(*only_pro.total == 15.5);

        // A day in Tokyo starts at 15:00 UTC the day before.
        polar::meter_quantities tokyo = co_await c.meters().quantities(
            m.id, {.start_timestamp = today - days(2) - hours(9), .end_timestamp = today - hours(9),
                   .interval = polar::time_interval::day, .timezone = "Asia/Tokyo"});
        REQUIRE(tokyo.quantities.size() == 3);
        CHECK(tokyo.quantities[0].timestamp == today - days(2) - hours(9));
        CHECK(tokyo.total == 45.5);

        // The end before the start is a 422 on the dated versions.
        auto [ec, none] = co_await c.meters().quantities(
            m.id, {.start_timestamp = today, .end_timestamp = today - days(1), .interval = polar::time_interval::day},
            asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::validation_failed);
    });
}

TEST_CASE("dated: a sum beyond the double range is the server's 500, never invalid JSON") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        const polar::meter m = co_await c.meters().create(llm_meter("Huge"));
        fx.server.state().add_customer(m.organization_id, "a", "a@example.com", "A");
        const auto today = floor<days>(now_us());
        polar::events_ingest batch;
        for (int i = 0; i < 2; ++i)
            batch.add(polar::event_create::for_external_customer("a", "llm.call")
                          .set_timestamp(today - hours(i + 1))
                          .set_metadata({{"tokens", 1e308}}));
        co_await c.events().ingest(batch);
        polar::diagnostics d;
        auto [ec, q] = co_await c.meters().quantities(
            m.id, {.start_timestamp = today - days(1), .end_timestamp = today, .interval = polar::time_interval::day},
            {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::server_error);
        CHECK(d.status == 500);
        auto [ec2, rows] = co_await c.customer_meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec2 == polar::errc::server_error);
    });
}

TEST_CASE("dated: customer_meters().list, get and the generators") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        const polar::meter m = co_await c.meters().create(llm_meter("Tokens"));
        const std::string alice =
            fx.server.state().add_customer(m.organization_id, "alice-ext", "alice@example.com", "Alice");
        const auto now = now_us();
        polar::events_ingest batch;
        batch.add(polar::event_create::for_customer(alice, "llm.call")
                      .set_timestamp(now - minutes(3))
                      .set_metadata({{"tokens", std::int64_t(12)}}));
        batch.add(polar::event_create::for_external_customer("alice-ext", "llm.call")
                      .set_timestamp(now - minutes(2))
                      .set_metadata({{"tokens", std::int64_t(30)}}));
        co_await c.events().ingest(batch);
        // A credit of 100 units of this meter (what a meter-credit benefit records).
        polar::testing::emulator_event credit;
        credit.organization_id = m.organization_id;
        credit.name = "meter.credited";
        credit.source = "system";
        credit.customer_id = alice;
        credit.timestamp = system_clock::now() - minutes(1);
        credit.metadata_json = R"({"meter_id":")" + m.id + R"(","units":100,"rollover":false})";
        fx.server.state().add_event(credit);

        const std::array meters = {std::string_view(m.id)};
        polar::page<polar::customer_meter> rows = co_await c.customer_meters().list({.meter_id = meters});
        REQUIRE(rows.items.size() == 1);
        const polar::customer_meter& row = rows.items[0];
        CHECK(row.customer_id == alice);
        CHECK(row.meter_id == m.id);
        CHECK(row.consumed_units == 42);
        CHECK(row.credited_units == 100);
        CHECK(row.balance == 58);
        CHECK(row.customer.email == "alice@example.com");
        CHECK(row.meter.id == m.id);

        polar::customer_meter again = co_await c.customer_meters().get(row.id);
        CHECK(again.id == row.id);
        CHECK(again.consumed_units == 42);

        auto [ec, none] =
            co_await c.customer_meters().get("9c43bf2b-5e0d-4a43-a5f0-3a1f2cb0e6a8", asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::not_found);

        int n = 0;
        auto items = c.customer_meters().list_items({.limit = 1});
        while (auto cm = co_await items.next()) ++n;
        CHECK(n == rows.pagination.total_count);
    });
}

TEST_CASE("dated: a body that cannot be encoded fails before sending, with a typed error") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        const polar::metadata nan = {{"ratio", std::numeric_limits<double>::quiet_NaN()}};
        auto [ec, r] = co_await c.events().ingest(
            polar::events_ingest().add(polar::event_create::for_external_customer("x", "llm.call").set_metadata(nan)),
            {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::invalid_argument);
        CHECK(d.status == 0);
        CHECK(d.message.find("ratio") != std::string::npos);
        CHECK(fx.server.counters().requests("POST /v1/events/ingest") == 0);
    });
}

TEST_CASE("dated: system events, team customers and unknown kinds decode without failing the page") {
    client_fixture fx = dated();
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        const polar::meter m = co_await c.meters().create(llm_meter("Tokens"));
        auto& st = fx.server.state();
        const std::string team = st.add_team_customer(m.organization_id, "team-ext", "Team Rocket");
        const auto now = system_clock::now();
        polar::testing::emulator_event credited;
        credited.organization_id = m.organization_id;
        credited.name = "meter.credited";
        credited.source = "system";
        credited.customer_id = team;
        credited.timestamp = now - minutes(2);
        credited.metadata_json = R"({"meter_id":")" + m.id + R"(","units":100,"rollover":false})";
        st.add_event(credited);
        polar::testing::emulator_event user;
        user.organization_id = m.organization_id;
        user.name = "llm.call";
        user.customer_id = team;
        user.timestamp = now - minutes(1);
        user.metadata_json = R"({"tokens":3,"ratio":0.25})";
        st.add_event(user);

        polar::page<polar::event> p = co_await c.events().list({.limit = 10});
        REQUIRE(p.items.size() == 2);
        const polar::event& sys = p.items[1];
        CHECK(sys.is_system());
        CHECK(sys.name == "meter.credited");
        REQUIRE_FALSE(sys.raw_json.empty());
        const boost::json::value raw = boost::json::parse(sys.raw_json);
        CHECK(raw.at("metadata").at("units").as_int64() == 100);
        REQUIRE(sys.customer.has_value());
        CHECK(sys.customer->type == polar::customer_type::team);
        CHECK(sys.customer->email.empty());

        const polar::event& u = p.items[0];
        CHECK_FALSE(u.is_system());
        CHECK(u.raw_json.empty());
        CHECK(std::get<double>(u.metadata.at("ratio")) == 0.25);
    });
}
