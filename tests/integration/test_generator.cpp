// Generators against the emulator: lazy paging counted with the emulator's
// request counters, resuming, stopping on max_page, errors and retries, and
// page<T>::next().
#include "stream_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

using namespace polar_test;
using namespace std::chrono_literals;

namespace {

// A fixture with one meter and `n` matching events, and counters zeroed.
struct events_fixture : client_fixture {
    explicit events_fixture(int n) {
        run([&]() -> asio::awaitable<void> {
            meter = co_await create_count_meter(client(), "Streamed calls", "api.call");
        });
        add_events(server, meter.organization_id, "api.call", n, std::chrono::system_clock::now());
        server.counters().reset();
    }
    std::uint64_t event_requests() const { return server.counters().requests(events_route); }

    polar::meter meter;
};

} // namespace

TEST_CASE("generator: 250 events, limit 100, streamed lazily in exactly 3 requests") {
    events_fixture f(250);
    f.run([&]() -> asio::awaitable<void> {
        auto events = f.client().meters().events_items(f.meter.id, {.limit = 100});
        co_await sleep_for(20ms);
        CHECK(f.event_requests() == 0); // no I/O before the first next()

        std::vector<polar::event> seen;
        while (auto e = co_await events.next()) {
            seen.push_back(std::move(*e));
            // Page k is requested when item 100*(k-1)+1 is asked for, not earlier.
            CHECK(f.event_requests() == (seen.size() - 1) / 100 + 1);
        }
        CHECK(seen.size() == 250);
        CHECK(f.event_requests() == 3);
        std::set<std::string> ids;
        for (std::size_t i = 0; i < seen.size(); ++i) {
            ids.insert(seen[i].id);
            if (i > 0) CHECK(seen[i - 1].timestamp > seen[i].timestamp); // newest first, no gaps
        }
        CHECK(ids.size() == 250);

        // Done stays done, without I/O.
        CHECK_FALSE(co_await events.next());
        CHECK(f.event_requests() == 3);
    });
}

TEST_CASE("generator: stopping after 150 items makes exactly 2 requests") {
    events_fixture f(250);
    f.run([&]() -> asio::awaitable<void> {
        {
            auto events = f.client().meters().events_items(f.meter.id, {.limit = 100});
            for (int i = 0; i < 150; ++i) {
                auto e = co_await events.next();
                REQUIRE(e);
            }
        } // abandoned mid-page
        co_await sleep_for(30ms);
        CHECK(f.event_requests() == 2);
    });
}

TEST_CASE("generator: pages, resuming from page 2, starting past the end") {
    events_fixture f(250);
    f.run([&]() -> asio::awaitable<void> {
        auto pages = f.client().meters().events_pages(f.meter.id, {.page = 2, .limit = 100});
        std::vector<std::int64_t> numbers;
        std::vector<std::size_t> sizes;
        while (auto p = co_await pages.next()) {
            numbers.push_back(p->number);
            sizes.push_back(p->items.size());
            CHECK(p->pagination.total_count == 250);
            CHECK(p->pagination.max_page == 3);
            CHECK(p->limit == 100);
        }
        CHECK(numbers == std::vector<std::int64_t>{2, 3});
        CHECK(sizes == std::vector<std::size_t>{100, 50});
        CHECK(f.event_requests() == 2);

        // Items from page 3: the 50 oldest events.
        auto items = f.client().meters().events_items(f.meter.id, {.page = 3, .limit = 100});
        int n = 0;
        while (co_await items.next()) ++n;
        CHECK(n == 50);
        CHECK(f.event_requests() == 3);

        // Past the end the server answers items [] and max_page 0: one request, no loop.
        auto past = f.client().meters().events_pages(f.meter.id, {.page = 7, .limit = 100});
        auto p = co_await past.next();
        REQUIRE(p);
        CHECK(p->items.empty());
        CHECK(p->pagination.max_page == 0);
        CHECK(p->number == 7);
        CHECK_FALSE(co_await past.next());
        auto past_items = f.client().meters().events_items(f.meter.id, {.page = 7, .limit = 100});
        CHECK_FALSE(co_await past_items.next());
        CHECK(f.event_requests() == 5);
    });
}

TEST_CASE("generator: an empty result set ends after one request") {
    events_fixture f(0);
    f.run([&]() -> asio::awaitable<void> {
        auto items = f.client().meters().events_items(f.meter.id);
        CHECK_FALSE(co_await items.next());
        auto pages = f.client().meters().events_pages(f.meter.id);
        auto p = co_await pages.next(); // the first page is always delivered (it has the totals)
        REQUIRE(p);
        CHECK(p->items.empty());
        CHECK(p->pagination.total_count == 0);
        CHECK_FALSE(co_await pages.next());
        CHECK(f.event_requests() == 2);
    });
}

TEST_CASE("generator: list_pages and list_items with query, limit and the default sort") {
    client_fixture f;
    f.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 23; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "paged-%02d", i);
            co_await create_count_meter(f.client(), name, "x");
        }
        co_await create_count_meter(f.client(), "other", "x");
        f.server.counters().reset();

        std::vector<std::string> names;
        auto meters = f.client().meters().list_items({.query = "paged", .limit = 10});
        while (auto m = co_await meters.next()) names.push_back(m->name);
        REQUIRE(names.size() == 23);
        for (int i = 0; i < 23; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "paged-%02d", i);
            CHECK(names[static_cast<std::size_t>(i)] == name);
        }
        CHECK(f.server.counters().requests(list_route) == 3);

        auto pages = f.client().meters().list_pages({.query = "paged", .page = 3, .limit = 10});
        auto p = co_await pages.next();
        REQUIRE(p);
        CHECK(p->items.size() == 3);
        CHECK_FALSE(p->has_next());
        CHECK_FALSE(co_await pages.next());
        CHECK(f.server.counters().requests(list_route) == 4);
    });
}

TEST_CASE("generator: an empty page before max_page neither ends the stream nor loops") {
    // The API's pages are never empty before the end, but a page may come back
    // empty when the list shrinks: page 2 is rewritten to `items: []` with the
    // real totals here.
    auto state = std::make_shared<polar::testing::emulator_state>();
    const auto org = state->add_organization("Holes");
    state->add_organization_token(std::string(polar::testing::default_token), org,
                                  {"meters:read", "meters:write", "events:write"});
    client_fixture f(transport::http, {}, [state](polar::testing::emulator_options& o) {
        o.state = state;
        o.handler = [state](const polar::testing::emulator_request& r) {
            auto resp = state->handle(r);
            if (r.method == "GET" && r.target.starts_with("/v1/meters/?") &&
                r.target.find("page=2") != std::string_view::npos) {
                boost::json::value v = boost::json::parse(resp.body);
                v.as_object()["items"] = boost::json::array();
                resp.body = boost::json::serialize(v);
            }
            return resp;
        };
    });
    f.run([&]() -> asio::awaitable<void> {
        for (int i = 0; i < 25; ++i) co_await create_count_meter(f.client(), "hole-" + std::to_string(10 + i), "x");
        f.server.counters().reset();

        auto items = f.client().meters().list_items({.query = "hole", .limit = 10});
        int n = 0;
        while (co_await items.next()) ++n;
        CHECK(n == 15); // pages 1 and 3
        CHECK(f.server.counters().requests(list_route) == 3);

        std::vector<std::size_t> sizes;
        auto pages = f.client().meters().list_pages({.query = "hole", .limit = 10});
        while (auto p = co_await pages.next()) sizes.push_back(p->items.size());
        CHECK(sizes == std::vector<std::size_t>{10, 0, 5});
    });
}

TEST_CASE("generator: a meter list that changes while streaming") {
    client_fixture f;
    f.run([&]() -> asio::awaitable<void> {
        std::vector<polar::meter> created;
        for (int i = 0; i < 25; ++i)
            created.push_back(co_await create_count_meter(f.client(), "grow-" + std::to_string(100 + i), "x"));

        SUBCASE("it grows: new meters sort after the cursor and are picked up") {
            auto items = f.client().meters().list_items({.query = "grow", .limit = 10});
            std::set<std::string> seen;
            int added = 0;
            while (auto m = co_await items.next()) {
                CHECK(seen.insert(m->id).second);
                if (seen.size() % 3 == 0 && added < 20)
                    co_await create_count_meter(f.client(), "grow-" + std::to_string(200 + added++), "x");
                REQUIRE(seen.size() <= 45);
            }
            // Where it ends depends on when the last page was fetched; it ends.
            CHECK(seen.size() >= 25);
            CHECK(seen.size() <= 25u + static_cast<unsigned>(added));
        }
        SUBCASE("it shrinks to nothing: the page past the end stops the stream") {
            f.server.counters().reset();
            auto items = f.client().meters().list_items({.query = "grow", .limit = 10});
            int n = 0;
            while (co_await items.next()) {
                if (++n == 10) {
                    for (const auto& m : created) {
                        const std::string name = "gone-" + m.id;
                        co_await f.client().meters().update(m.id, {.name = name});
                    }
                }
            }
            CHECK(n == 10);
            CHECK(f.server.counters().requests(list_route) == 2);
        }
        SUBCASE("it shrinks under the cursor: offsets shift, the stream still ends") {
            auto items = f.client().meters().list_items({.query = "grow", .limit = 10});
            int n = 0;
            while (co_await items.next()) {
                if (++n == 5) {
                    for (std::size_t i = 0; i < 12; ++i) {
                        const std::string name = "gone-" + created[i].id;
                        co_await f.client().meters().update(created[i].id, {.name = name});
                    }
                }
                REQUIRE(n <= 25);
            }
            CHECK(n == 13); // 10 from page 1, then page 2 of the 13 left: 3
        }
    });
}

TEST_CASE("generator: request options and the retry policy apply to every page") {
    events_fixture f(250);
    f.run([&]() -> asio::awaitable<void> {
        // Page 1 normal, page 2 fails twice with 503, then normal.
        f.server.faults().add(polar::testing::fault::delay(0ms).times(1).on(std::string(events_route)));
        f.server.faults().add(polar::testing::fault::status(503).times(2).on(std::string(events_route)));
        const auto retry = polar::retry_policy::standard().initial_delay(1ms).max_delay(2ms).max_attempts(5);
        polar::diagnostics diag;
        auto items = f.client().meters().events_items(f.meter.id, {.limit = 100}, {.retry = &retry, .diag = &diag});
        int n = 0;
        while (co_await items.next()) {
            ++n;
            if (n == 101) {
                CHECK(diag.attempts == 3); // filled when page 2's outcome was delivered
                CHECK(diag.path.find("page=2") != std::string::npos);
            }
        }
        CHECK(n == 250);
        CHECK(f.event_requests() == 5);

        // Without the policy (the fixture's client does not retry) the 503 surfaces.
        f.server.faults().add(polar::testing::fault::delay(0ms).times(1).on(std::string(events_route)));
        f.server.faults().add(polar::testing::fault::status(503).times(1).on(std::string(events_route)));
        auto plain = f.client().meters().events_items(f.meter.id, {.limit = 100});
        for (int i = 0; i < 100; ++i) REQUIRE(co_await plain.next());
        CHECK_THROWS_AS(co_await plain.next(), polar::server_error);
    });
}

TEST_CASE("generator: errors keep the position; the next next() retries the page") {
    events_fixture f(150);
    f.run([&]() -> asio::awaitable<void> {
        // An unknown meter: 404 on the first next(), with diagnostics.
        auto missing = f.client().meters().events_items("0f6f3a52-1d7b-4a4b-9c55-0a3e2b8f6d11");
        try {
            co_await missing.next();
            FAIL("expected not_found_error");
        } catch (const polar::not_found_error& e) {
            CHECK(e.status() == 404);
            CHECK(e.diag().error == "ResourceNotFound");
        }

        f.server.faults().add(polar::testing::fault::delay(0ms).times(1).on(std::string(events_route)));
        f.server.faults().add(polar::testing::fault::status(500).times(1).on(std::string(events_route)));
        auto items = f.client().meters().events_items(f.meter.id, {.limit = 100});
        for (int i = 0; i < 100; ++i) REQUIRE(co_await items.next());
        auto [ec, none] = co_await items.next(asio::as_tuple(asio::use_awaitable));
        CHECK(ec == polar::errc::server_error);
        CHECK_FALSE(none);
        int rest = 0;
        while (co_await items.next()) ++rest;
        CHECK(rest == 50);
        CHECK(f.event_requests() == 4);
    });
}

TEST_CASE("generator: prefetch fetches one page ahead, no more") {
    events_fixture f(250);
    f.run([&]() -> asio::awaitable<void> {
        auto items = f.client().meters().events_items(f.meter.id, {.limit = 100}, {}, {.prefetch = true});
        co_await sleep_for(20ms);
        CHECK(f.event_requests() == 0); // still lazy

        REQUIRE(co_await items.next());
        CHECK(co_await eventually([&] { return f.event_requests() == 2; })); // page 2 while we work on page 1
        co_await sleep_for(50ms);
        CHECK(f.event_requests() == 2); // not page 3: one ahead at most

        int n = 1;
        while (n < 100) {
            REQUIRE(co_await items.next());
            ++n;
        }
        CHECK(f.event_requests() == 2);
        REQUIRE(co_await items.next()); // item 101 comes from the prefetched page
        ++n;
        CHECK(co_await eventually([&] { return f.event_requests() == 3; }));
        while (co_await items.next()) ++n;
        CHECK(n == 250);
        CHECK(f.event_requests() == 3);

        // Pages with prefetch: each delivered page triggers the next request.
        auto pages = f.client().meters().events_pages(f.meter.id, {.limit = 100}, {}, {.prefetch = true});
        std::size_t total = 0;
        while (auto p = co_await pages.next()) total += p->items.size();
        CHECK(total == 250);
        CHECK(f.event_requests() == 6);
    });
}

TEST_CASE("generator: moving, empty generators and one next() at a time") {
    events_fixture f(5);
    f.run([&]() -> asio::awaitable<void> {
        polar::generator<polar::event> empty;
        CHECK_FALSE(empty);
        CHECK_FALSE(co_await empty.next());

        auto a = f.client().meters().events_items(f.meter.id);
        REQUIRE(co_await a.next());
        polar::generator<polar::event> b = std::move(a);
        CHECK(b);
        CHECK_FALSE(a);
        CHECK_FALSE(co_await a.next());
        int n = 1;
        while (co_await b.next()) ++n;
        CHECK(n == 5);

        // A second next() while one is pending fails; the first one is unaffected.
        auto c = f.client().meters().events_items(f.meter.id);
        std::optional<polar::error_code> first_ec, second_ec;
        c.next([&](polar::error_code ec, std::optional<polar::event>) { first_ec = ec; });
        c.next([&](polar::error_code ec, std::optional<polar::event>) { second_ec = ec; });
        CHECK_FALSE(first_ec); // never inline
        CHECK(co_await eventually([&] { return first_ec && second_ec; }));
        CHECK(*first_ec == polar::error_code{});
        CHECK(*second_ec == polar::errc::invalid_argument);
    });
}

TEST_CASE("page<T>::next(): follows max_page, not item counts") {
    events_fixture f(250);
    f.run([&]() -> asio::awaitable<void> {
        polar::page<polar::event> p1 = co_await f.client().meters().events(f.meter.id, {.limit = 100});
        CHECK(p1.number == 1);
        CHECK(p1.has_next());
        auto p2 = co_await p1.next();
        REQUIRE(p2);
        CHECK(p2->number == 2);
        CHECK(p2->items.size() == 100);
        CHECK(p2->items.front().id != p1.items.front().id);
        auto p3 = co_await p2->next();
        REQUIRE(p3);
        CHECK(p3->items.size() == 50);
        CHECK_FALSE(p3->has_next());
        CHECK(f.event_requests() == 3);
        CHECK_FALSE(co_await p3->next()); // no request past max_page
        CHECK(f.event_requests() == 3);
        // A page may be continued more than once (it is a value).
        auto again = co_await p1.next();
        REQUIRE(again);
        CHECK(again->items == p2->items);

        // The page past the end: empty, totals 0, has no next.
        polar::page<polar::event> past = co_await f.client().meters().events(f.meter.id, {.page = 4, .limit = 100});
        CHECK(past.items.empty());
        CHECK(past.pagination.max_page == 0);
        CHECK_FALSE(past.has_next());
        CHECK_FALSE(co_await past.next());
    });
}
