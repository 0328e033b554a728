// API versions on the client side, against the emulator over real sockets:
// the Polar-Version header, the version 404, per-call overrides, and the
// same C++ calls answered by the seed-era and the dated contracts.
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace polar_test;
using polar::filter_operator;

namespace {

void use_version(polar::client_options& o, polar::api_version v) { o.api_version = v; }

// A client of `version` against an emulator whose default version is `server_default`.
client_fixture versioned(polar::api_version version, transport t = transport::http,
                         std::string server_default = "2026-10") {
    return client_fixture(
        t, [version](polar::client_options& o) { use_version(o, version); },
        [server_default](polar::testing::emulator_options& so) { so.default_api_version = server_default; });
}

polar::meter_create calls_meter(std::string name) {
    return polar::meter_create(std::move(name), polar::filter::all(polar::clause("name", filter_operator::eq, "llm.call")),
                               polar::aggregation::count());
}

// Records the Polar-Version field of every request head.
struct header_log {
    std::vector<std::string> versions; // "" when the request had none
    void install(polar::client_options& o) {
        o.on_trace = [this](const polar::trace_record& r) {
            if (r.dir != polar::trace_record::direction::request) return;
            const auto at = r.head.find("\r\nPolar-Version: ");
            if (at == std::string_view::npos) {
                versions.emplace_back();
                return;
            }
            const auto start = at + 17;
            versions.emplace_back(r.head.substr(start, r.head.find("\r\n", start) - start));
        };
    }
};

} // namespace

TEST_CASE("api_version: values, parsing and validation") {
    static_assert(polar::api_version{} == polar::api_version::v2026_10);
    static_assert(polar::api_version::v2026_10.str() == "2026-10");
    static_assert(polar::api_version::v2026_10.is_dated());
    static_assert(polar::api_version::v2026_04.is_dated());
    static_assert(!polar::api_version::v2025_03.is_dated());
    static_assert(polar::api_version("2025-03") == polar::api_version::v2025_03);
    CHECK(polar::api_version::parse("2027-01").has_value());
    CHECK(polar::api_version::parse("2027-01")->is_dated());
    for (std::string_view bad : {"", "2026-1", "2026-13", "2026-00", "latest", "2026/10", "2026-10-01", "2026-1x"}) {
        CAPTURE(bad);
        CHECK_FALSE(polar::api_version::parse(bad).has_value());
        CHECK_FALSE(polar::api_version(bad).valid());
        CHECK(polar::api_version(bad).str().empty());
    }

    asio::io_context ioc;
    try {
        polar::client c(ioc.get_executor(), {.access_token = "t", .server_url = "http://127.0.0.1:1",
                                             .api_version = polar::api_version("2026-13")});
        FAIL("an invalid api_version was accepted");
    } catch (const polar::api_error& e) {
        CHECK(e.code() == polar::errc::invalid_argument);
        CHECK(std::string(e.what()).find("client_options::api_version") != std::string::npos);
    }
}

TEST_CASE("api_version: dated versions send Polar-Version, 2025-03 sends none, and the answer is recorded") {
    for (auto v : {polar::api_version::v2026_10, polar::api_version::v2026_04, polar::api_version::v2025_03}) {
        CAPTURE(v.str());
        header_log log;
        client_fixture fx(
            transport::http,
            [&](polar::client_options& o) {
                o.api_version = v;
                log.install(o);
            },
            [](polar::testing::emulator_options& so) { so.default_api_version = "2025-03"; });
        fx.run([&]() -> asio::awaitable<void> {
            polar::diagnostics d;
            auto [ec, p] = co_await fx.client().meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
            CHECK_FALSE(ec);
            CHECK(d.api_version == (v.is_dated() ? std::string(v.str()) : std::string()));
            // The emulator echoes a version that was asked for; a 2025-03
            // default answering a request without the header adds none.
            CHECK(d.server_api_version == (v.is_dated() ? std::string(v.str()) : std::string()));
        });
        REQUIRE(log.versions.size() == 1);
        CHECK(log.versions[0] == (v.is_dated() ? std::string(v.str()) : std::string()));
    }
}

TEST_CASE("api_version: an unknown version is errc::unsupported_api_version, never not_found") {
    for (auto t : {transport::http, transport::https}) {
        CAPTURE(transport_name(t));
        client_fixture fx = versioned(polar::api_version("2031-01"), t);
        fx.run([&]() -> asio::awaitable<void> {
            polar::diagnostics d;
            auto [ec, m] = co_await fx.client().meters().get("9c43bf2b-5e0d-4a43-a5f0-3a1f2cb0e6a8", {.diag = &d},
                                                             asio::as_tuple(asio::deferred));
            CHECK(ec == polar::errc::unsupported_api_version);
            CHECK(d.status == 404);
            CHECK(d.api_version == "2031-01");
            CHECK(d.server_api_version.empty());
            CHECK(d.message.find("2031-01") != std::string::npos);
            CHECK(d.message.find("client_options::api_version") != std::string::npos);

            // The default token throws the exception of its own type.
            bool thrown = false;
            try {
                co_await fx.client().meters().list();
            } catch (const polar::unsupported_api_version_error& e) {
                thrown = true;
                CHECK(e.code() == polar::errc::unsupported_api_version);
                CHECK(std::string(e.what()).find("2031-01") != std::string::npos);
            } catch (const polar::not_found_error&) {
                FAIL("reported as not_found");
            }
            CHECK(thrown);
        });
    }
}

TEST_CASE("api_version: a resource 404 on a served version stays not_found") {
    client_fixture fx = versioned(polar::api_version::v2026_10);
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, m] = co_await fx.client().meters().get("9c43bf2b-5e0d-4a43-a5f0-3a1f2cb0e6a8", {.diag = &d},
                                                         asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::not_found);
        CHECK(d.server_api_version == "2026-10");
    });
}

TEST_CASE("api_version: request_options overrides the client's version for one call and its pages") {
    header_log log;
    client_fixture fx(
        transport::http,
        [&](polar::client_options& o) {
            o.api_version = polar::api_version::v2026_10;
            log.install(o);
        },
        [](polar::testing::emulator_options& so) { so.default_api_version = "2026-10"; });
    fx.run([&]() -> asio::awaitable<void> {
        auto& c = fx.client();
        for (int i = 0; i < 3; ++i) co_await c.meters().create(calls_meter("Meter " + std::to_string(i)));
        log.versions.clear();
        polar::page<polar::meter> first =
            co_await c.meters().list({.limit = 2}, {.api_version = polar::api_version::v2026_04});
        auto second = co_await first.next();
        REQUIRE(second.has_value());
        co_await c.meters().list({.limit = 2});
        CHECK(log.versions == std::vector<std::string>{"2026-04", "2026-04", "2026-10"});

        // An invalid per-call version is rejected before anything is sent.
        auto [ec, p] = co_await c.meters().list({}, {.api_version = polar::api_version("20-10")},
                                                asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::invalid_argument);
        CHECK(log.versions.size() == 3);

        // Polar-Version cannot be set as an extra header.
        const polar::http_header h[] = {{"polar-version", "2026-04"}};
        auto [ec2, p2] = co_await c.meters().list({}, {.headers = h}, asio::as_tuple(asio::deferred));
        CHECK(ec2 == polar::errc::invalid_argument);
    });
}

TEST_CASE("meters().events(): the same call on 2025-03 and on the dated versions") {
    for (auto v : {polar::api_version::v2025_03, polar::api_version::v2026_10}) {
        CAPTURE(v.str());
        std::vector<std::string> targets;
        client_fixture fx(
            transport::http,
            [&](polar::client_options& o) {
                o.api_version = v;
                o.on_trace = [&](const polar::trace_record& r) {
                    if (r.dir == polar::trace_record::direction::request) targets.emplace_back(r.target);
                };
            },
            [](polar::testing::emulator_options& so) { so.default_api_version = "2025-03"; });
        fx.run([&]() -> asio::awaitable<void> {
            auto& c = fx.client();
            const polar::meter m = co_await c.meters().create(calls_meter("LLM calls"));
            const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
            std::vector<polar::event_create> batch;
            for (int i = 0; i < 5; ++i)
                batch.push_back(polar::event_create::for_external_customer("cust-1", i % 2 ? "llm.call" : "other")
                                    .set_timestamp(now - std::chrono::minutes(i + 1)));
            co_await c.events().ingest(polar::events_ingest(batch));

            targets.clear();
            polar::page<polar::event> p = co_await c.meters().events(m.id, {.limit = 1});
            REQUIRE(targets.size() == 1);
            if (v.is_dated())
                CHECK(targets[0] == "/v1/events/?meter_id=" + m.id + "&limit=1");
            else
                CHECK(targets[0] == "/v1/meters/" + m.id + "/events?limit=1");
            CHECK(p.pagination.total_count == 2);
            CHECK(p.pagination.max_page == 2);
            REQUIRE(p.items.size() == 1);
            CHECK(p.items[0].name == "llm.call");
            CHECK(p.items[0].timestamp == now - std::chrono::minutes(2)); // newest first

            std::vector<std::string> names;
            auto items = c.meters().events_items(m.id, {.limit = 1});
            while (auto e = co_await items.next()) names.push_back(e->name);
            CHECK(names == std::vector<std::string>{"llm.call", "llm.call"});

            // An unknown meter is not_found on both (a 422 `meter_id` on the dated list).
            polar::diagnostics d;
            auto [ec, none] = co_await c.meters().events("9c43bf2b-5e0d-4a43-a5f0-3a1f2cb0e6a8", {}, {.diag = &d},
                                                         asio::as_tuple(asio::deferred));
            CHECK(ec == polar::errc::not_found);
            CHECK(d.status == (v.is_dated() ? 422 : 404));
        });
    }
}

TEST_CASE("meters().update(id, {}) compiles, sends an empty body and answers the meter unchanged") {
    for (auto v : {polar::api_version::v2025_03, polar::api_version::v2026_10}) {
        CAPTURE(v.str());
        client_fixture fx = versioned(v);
        fx.run([&]() -> asio::awaitable<void> {
            auto& c = fx.client();
            const polar::meter m = co_await c.meters().create(calls_meter("Unchanged"));
            const polar::meter same = co_await c.meters().update(m.id, {});
            CHECK(same.id == m.id);
            CHECK(same.name == "Unchanged");
            CHECK(same.filter == m.filter);
            // The owning body still selects its own overload.
            const polar::meter renamed = co_await c.meters().update(m.id, polar::meter_update().set_name("Renamed"));
            CHECK(renamed.name == "Renamed");
        });
    }
}

TEST_CASE("ingest: a batch whose events all carry external_id is retried after a lost response, counted once") {
    client_fixture fx(
        transport::http,
        [](polar::client_options& o) {
            o.api_version = polar::api_version::v2026_10;
            o.retry = polar::retry_policy{}; // the default policy
        },
        [](polar::testing::emulator_options& so) { so.default_api_version = "2026-10"; });
    fx.server.faults().add(polar::testing::fault::close_mid_body().on("POST /v1/events/ingest"));
    fx.run([&]() -> asio::awaitable<void> {
        auto& c = fx.client();
        const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
        std::vector<polar::event_create> batch;
        for (int i = 0; i < 4; ++i)
            batch.push_back(polar::event_create::for_external_customer("cust-1", "llm.call")
                                .set_timestamp(now - std::chrono::minutes(i + 1))
                                .set_external_id("req-" + std::to_string(i)));
        polar::diagnostics d;
        const polar::events_ingest_response r = co_await c.events().ingest(polar::events_ingest(batch), {.diag = &d});
        // The first attempt stored the batch and lost its response; the
        // retry finds every event stored already.
        CHECK(d.attempts == 2);
        CHECK(r.inserted == 0);
        CHECK(r.duplicates == 4);

        const polar::page<polar::event> all = co_await c.events().list({.limit = 100});
        CHECK(all.pagination.total_count == 4);

        // Without external_id on every event the batch is not idempotent.
        fx.server.faults().add(polar::testing::fault::close_mid_body().on("POST /v1/events/ingest"));
        batch.push_back(polar::event_create::for_external_customer("cust-1", "llm.call").set_timestamp(now));
        auto [ec, r2] = co_await c.events().ingest(polar::events_ingest(batch), asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::outcome_unknown);
    });
}
