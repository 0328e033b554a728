// The client's operations end to end against the emulator, over HTTP and
// HTTPS. Calls are written inline, the way users write them, so that the
// sanitizer build checks g++'s handling of temporaries in co_await.
#include "client_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_future.hpp>
#include <doctest/doctest.h>

#include <array>
#include <cctype>
#include <thread>

using namespace polar_test;
using polar::filter_operator;

namespace {

polar::meter_create tokens_meter(std::string name) {
    return polar::meter_create(std::move(name),
                               polar::filter::all(polar::clause("name", filter_operator::eq, "llm.call")),
                               polar::aggregation::sum("tokens"));
}

} // namespace

TEST_CASE("every operation works inline over http and https") {
    for (auto t : {transport::http, transport::https}) {
        CAPTURE(transport_name(t));
        client_fixture fx(t);
        auto& c = fx.client();
        fx.run([&]() -> asio::awaitable<void> {
            // create (inline constructor call), get, update (inline designated initializers)
            polar::meter created = co_await c.meters().create(
                {"API tokens", polar::filter::all(polar::clause("name", filter_operator::eq, "llm.call")),
                 polar::aggregation::sum("tokens")});
            CHECK(created.name == "API tokens");
            CHECK(created.id.size() == 36);
            CHECK_FALSE(created.modified_at.has_value());

            polar::meter got = co_await c.meters().get(created.id);
            CHECK(got.id == created.id);
            CHECK(got.aggregation.func() == polar::aggregation_function::sum);
            CHECK(got.aggregation.property() == "tokens");

            polar::meter renamed = co_await c.meters().update(created.id, {.name = "API tokens v2"});
            CHECK(renamed.name == "API tokens v2");

            polar::meter other = co_await c.meters().create(tokens_meter("Other meter"));
            CHECK(other.id != created.id);

            // list with a query and a limit, inline
            polar::page<polar::meter> p = co_await c.meters().list({.query = "api", .limit = 100});
            REQUIRE(p.items.size() == 1);
            CHECK(p.items[0].id == created.id);
            CHECK(p.pagination.total_count == 1);
            CHECK(p.pagination.max_page == 1);

            // ingest events for an external customer, then read them back
            const auto now = std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
            std::vector<polar::event_create> batch;
            for (int i = 0; i < 3; ++i)
                batch.push_back(polar::event_create::for_external_customer("cust-1", "llm.call")
                                    .set_timestamp(now - std::chrono::hours(i + 1))
                                    .set_metadata({{"tokens", std::int64_t(10 * (i + 1))}}));
            polar::events_ingest_response r = co_await c.events().ingest(polar::events_ingest(batch));
            CHECK(r.inserted == 3);

            polar::page<polar::event> ev = co_await c.meters().events(created.id, {.page = 1, .limit = 2});
            CHECK(ev.items.size() == 2);
            CHECK(ev.pagination.total_count == 3);
            CHECK(ev.pagination.max_page == 2);
            REQUIRE(ev.items.size() == 2);
            CHECK(ev.items[0].timestamp > ev.items[1].timestamp); // newest first

            using namespace std::chrono;
            const auto day0 = floor<days>(now);
            polar::meter_quantities q = co_await c.meters().quantities(
                created.id, {.start_timestamp = day0 - days(2), .end_timestamp = day0,
                             .interval = polar::time_interval::day});
            REQUIRE(q.quantities.size() == 3);
            double total = 0;
            for (const auto& point : q.quantities) total += point.quantity;
            CHECK(total == doctest::Approx(60.0));
            CHECK(q.quantities.front().timestamp == day0 - days(2));
        });
    }
}

TEST_CASE("list serializes repeated parameters and metadata filters") {
    client_fixture fx;
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        for (auto name : {"alpha", "beta", "gamma"}) {
            auto body = tokens_meter(name);
            body.metadata = polar::metadata{{"plan", std::string(name == std::string("beta") ? "pro" : "free")}};
            co_await c.meters().create(body);
        }
        const std::array sorting{polar::meter_sort_property::name_desc};
        polar::page<polar::meter> p = co_await c.meters().list({.sorting = sorting});
        REQUIRE(p.items.size() == 3);
        CHECK(p.items[0].name == "gamma");
        CHECK(p.items[2].name == "alpha");

        const std::array meta{polar::metadata_filter{"plan", "pro"}};
        polar::page<polar::meter> pro = co_await c.meters().list({.metadata = meta});
        REQUIRE(pro.items.size() == 1);
        CHECK(pro.items[0].name == "beta");

        const std::array meta_or{polar::metadata_filter{"plan", "pro"}, polar::metadata_filter{"plan", "free"}};
        polar::page<polar::meter> both = co_await c.meters().list({.metadata = meta_or});
        CHECK(both.items.size() == 3);

        polar::page<polar::meter> second = co_await c.meters().list({.page = 2, .limit = 2});
        REQUIRE(second.items.size() == 1);
        CHECK(second.pagination.total_count == 3);
        CHECK(second.pagination.max_page == 2);
    });
}

TEST_CASE("errors are typed and carry the server's details") {
    client_fixture fx;
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        // 404 as an exception
        bool thrown = false;
        try {
            co_await c.meters().get("9b1c1f0e-3c1a-4d5e-8f00-0123456789ab");
        } catch (const polar::not_found_error& e) {
            thrown = true;
            CHECK(e.code() == polar::errc::not_found);
            CHECK(e.status() == 404);
            CHECK(e.diag().error == "ResourceNotFound");
            CHECK(e.diag().method == "GET");
            CHECK(e.diag().path == "/v1/meters/9b1c1f0e-3c1a-4d5e-8f00-0123456789ab");
            CHECK(std::string(e.what()).find("404") != std::string::npos);
        }
        CHECK(thrown);

        // 422 without exceptions, diagnostics through request_options
        polar::diagnostics d;
        auto [ec, m] = co_await c.meters().get("not-a-uuid", {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::validation_failed);
        CHECK(d.status == 422);
        REQUIRE_FALSE(d.validation_errors.empty());
        CHECK(d.validation_errors[0].type == "uuid_parsing");
        CHECK(d.validation_errors[0].path() == "path.id");

        // 422 from a body rule, as an exception
        thrown = false;
        try {
            co_await c.meters().create(tokens_meter("ab"));
        } catch (const polar::validation_failed_error& e) {
            thrown = true;
            REQUIRE_FALSE(e.diag().validation_errors.empty());
            CHECK(e.diag().validation_errors[0].type == "string_too_short");
            CHECK(e.diag().validation_errors[0].path() == "body.name");
        }
        CHECK(thrown);

        // an empty id is rejected before sending
        auto [ec2, m2] = co_await c.meters().get("", asio::as_tuple(asio::deferred));
        CHECK(ec2 == polar::errc::invalid_argument);
    });
    CHECK(fx.server.counters().requests("GET /v1/meters/{id}") == 2);
}

TEST_CASE("401 and 403 are reported, and the token never appears in messages") {
    const std::string secret = "polar_oat_SECRET_never_print_me";
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.access_token = secret; });
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, m] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::unauthorized);
        CHECK(d.error == "invalid_token");
        CHECK(d.summary().find(secret) == std::string::npos);
        try {
            co_await c.meters().list();
            CHECK(false);
        } catch (const polar::auth_error& e) {
            CHECK(std::string(e.what()).find(secret) == std::string::npos);
            CHECK(std::string(e.what()).find("401") != std::string::npos);
        }
    });

    // a read-only token cannot create
    auto& st = fx.server.state();
    const auto org = st.add_organization("Read only org");
    st.add_organization_token("read_only_token", org, {"meters:read"});
    polar::client_options o;
    o.access_token = "read_only_token";
    o.server_url = fx.server.base_url();
    polar::client ro(fx.ioc.get_executor(), o);
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [ec, m] = co_await ro.meters().create(tokens_meter("nope"), {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::forbidden);
        CHECK(d.error == "insufficient_scope");
        auto [ec2, p] = co_await ro.meters().list({}, asio::as_tuple(asio::deferred));
        CHECK_FALSE(ec2);
    });
}

TEST_CASE("the trace hook shows request and response heads with the token masked") {
    struct seen {
        polar::trace_record::direction dir;
        std::string method, target, head;
        int attempt;
        std::size_t body_size;
    };
    std::vector<seen> traces;
    const std::string secret = "polar_oat_SECRET_never_print_me";
    auto record = [&](const polar::trace_record& r) {
        traces.push_back({r.dir, std::string(r.method), std::string(r.target), std::string(r.head), r.attempt,
                          r.body_size});
    };
    client_fixture fx(transport::http, [&](polar::client_options& o) { o.on_trace = record; });
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        auto created = co_await c.meters().create(tokens_meter("traced"));
        const polar::http_header extra[] = {{"User-Agent", "traced-app/2"}, {"X-Trace-Id", "abc123"}};
        auto got = co_await c.meters().get(created.id, {.headers = extra});
        CHECK(got.id == created.id);
    });
    using dir = polar::trace_record::direction;
    REQUIRE(traces.size() == 4);
    CHECK(traces[0].dir == dir::request);
    CHECK(traces[0].method == "POST");
    CHECK(traces[0].head.rfind("POST /v1/meters/ HTTP/1.1\r\n", 0) == 0);
    CHECK(traces[0].head.find("\r\nAuthorization: Bearer ***\r\n") != std::string::npos);
    CHECK(traces[0].head.find(std::string(polar::testing::default_token)) == std::string::npos);
    CHECK(traces[0].head.find("Content-Length: " + std::to_string(traces[0].body_size) + "\r\n") !=
          std::string::npos);
    CHECK(traces[0].body_size > 0);
    CHECK(traces[0].head.find("User-Agent: polar-cpp/") != std::string::npos);
    CHECK(traces[1].dir == dir::response);
    CHECK(traces[1].head.rfind("HTTP/1.1 201", 0) == 0);
    CHECK(traces[1].body_size > 0);
    // the second request: extra fields, the caller's User-Agent instead of the SDK's
    CHECK(traces[2].head.rfind("GET /v1/meters/", 0) == 0);
    CHECK(traces[2].head.find("\r\nX-Trace-Id: abc123\r\n") != std::string::npos);
    CHECK(traces[2].head.find("\r\nUser-Agent: traced-app/2\r\n") != std::string::npos);
    CHECK(traces[2].head.find("polar-cpp/") == std::string::npos);
    CHECK(traces[2].head.find("Content-Length") == std::string::npos);
    CHECK(traces[2].body_size == 0);
    CHECK(traces[3].head.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(traces[3].attempt == 1);

    // a rejected token is masked too, and so is the token wherever else it appears
    traces.clear();
    polar::client_options o;
    o.access_token = "Bearer " + secret;
    o.server_url = fx.server.base_url();
    o.on_trace = record;
    polar::client bad(fx.ioc.get_executor(), o);
    fx.run([&]() -> asio::awaitable<void> {
        polar::list_meters_params p;
        p.query = secret;
        auto [ec, page] = co_await bad.meters().list(p, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::unauthorized);
    });
    REQUIRE(traces.size() == 2);
    for (const auto& t : traces) CHECK(t.head.find(secret) == std::string::npos);
    CHECK(traces[0].head.find("?query=***") != std::string::npos);
    CHECK(traces[0].head.find("Authorization: Bearer ***\r\n") != std::string::npos);
    CHECK(traces[1].head.rfind("HTTP/1.1 401", 0) == 0);
    std::string lowered = traces[1].head;
    for (auto& ch : lowered) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    CHECK(lowered.find("\r\nwww-authenticate: bearer") != std::string::npos);
}

TEST_CASE("status faults map to typed errors") {
    // The 429's Retry-After (7 s) pauses every request of the client, at most
    // max_retry_after: 1 s here, to keep the test short.
    client_fixture fx(transport::http, [](polar::client_options& o) {
        o.retry = polar::retry_policy::none().max_retry_after(std::chrono::seconds(1));
    });
    auto& c = fx.client();
    using polar::testing::fault;
    fx.server.faults().add(fault::rate_limited(std::chrono::seconds(7)).on("GET /v1/meters/"));
    fx.server.faults().add(fault::status(502).on("GET /v1/meters/"));
    fx.server.faults().add(fault::wrong_content_type(200).on("GET /v1/meters/"));
    fx.server.faults().add(fault::malformed_json().on("GET /v1/meters/"));
    fx.server.faults().add(fault::status(418).on("GET /v1/meters/"));
    fx.run([&]() -> asio::awaitable<void> {
        polar::diagnostics d;
        auto [e1, p1] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e1 == polar::errc::rate_limited);
        REQUIRE(d.retry_after.has_value());
        CHECK(d.retry_after->count() == 7);

        auto [e2, p2] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e2 == polar::errc::server_error);
        CHECK(d.status == 502);

        auto [e3, p3] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e3 == polar::errc::unexpected_response);
        CHECK(d.body.find("Bad Gateway") != std::string::npos);

        auto [e4, p4] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e4 == polar::errc::invalid_response);
        CHECK_FALSE(d.message.empty());

        auto [e5, p5] = co_await c.meters().list({}, {.diag = &d}, asio::as_tuple(asio::deferred));
        CHECK(e5 == polar::errc::bad_request);
        CHECK(d.status == 418);

        // and the pool is still healthy
        auto [e6, p6] = co_await c.meters().list({}, asio::as_tuple(asio::deferred));
        CHECK_FALSE(e6);
    });
}

TEST_CASE("user input cannot change the path or inject headers") {
    client_fixture fx;
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        for (std::string_view id : {"../x", "a/b", "x?limit=1", "x#f", "x\r\nX-Evil: 1", "%2e%2e"}) {
            CAPTURE(id);
            polar::diagnostics d;
            auto [ec, m] = co_await c.meters().get(id, {.diag = &d}, asio::as_tuple(asio::deferred));
            // The id reaches the server inside one path segment: it is a
            // malformed id (422) or, once the server decodes %2F, no route (404).
            CHECK((ec == polar::errc::validation_failed || ec == polar::errc::not_found));
            CHECK(d.path.find('/', std::string_view("/v1/meters/").size()) == std::string::npos);
            CHECK(d.path.find('\n') == std::string::npos);
        }
        const std::array evil{polar::http_header{"X-Test", "a\r\nX-Evil: 1"}};
        auto [ec, p] = co_await c.meters().list({}, {.headers = evil}, asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::invalid_argument);
        const std::array auth{polar::http_header{"authorization", "Bearer other"}};
        auto [ec2, p2] = co_await c.meters().list({}, {.headers = auth}, asio::as_tuple(asio::deferred));
        CHECK(ec2 == polar::errc::invalid_argument);
    });
    CHECK(fx.server.counters().requests("GET /v1/meters/") == 0);
}

TEST_CASE("callbacks and futures work as completion tokens") {
    client_fixture fx;
    auto& c = fx.client();
    bool called = false;
    c.meters().list({}, [&](polar::error_code ec, polar::page<polar::meter> p) {
        called = true;
        CHECK_FALSE(ec);
        CHECK(p.items.empty());
    });
    fx.ioc.restart();
    fx.ioc.run_for(std::chrono::seconds(5));
    CHECK(called);

    std::thread runner;
    {
        auto work = asio::make_work_guard(fx.ioc);
        fx.ioc.restart();
        runner = std::thread([&] { fx.ioc.run(); });
        std::future<polar::page<polar::meter>> f = c.meters().list({}, asio::use_future);
        CHECK(f.get().items.empty());
        std::future<polar::meter> missing = c.meters().get("9b1c1f0e-3c1a-4d5e-8f00-0123456789ab", asio::use_future);
        CHECK_THROWS_AS(missing.get(), boost::system::system_error);
    }
    fx.ioc.stop(); // the emulator keeps accepting: run() would not return by itself
    runner.join();
}

TEST_CASE("client options are validated") {
    asio::io_context ioc;
    auto make = [&](std::function<void(polar::client_options&)> f) {
        polar::client_options o;
        o.access_token = "tok";
        f(o);
        polar::client c(ioc.get_executor(), o);
    };
    auto code_of = [&](std::function<void(polar::client_options&)> f) {
        try {
            make(f);
        } catch (const polar::api_error& e) {
            return e.code();
        }
        return polar::error_code{};
    };
    CHECK(code_of([](auto& o) { o.access_token.clear(); }) == polar::errc::invalid_argument);
    CHECK(code_of([](auto& o) { o.max_connections = 0; }) == polar::errc::invalid_argument);
    CHECK(code_of([](auto& o) { o.server_url = "ftp://x"; }) == polar::errc::invalid_argument);
    CHECK(code_of([](auto& o) { o.server_url = "https://user@host"; }) == polar::errc::invalid_argument);
    CHECK(code_of([](auto& o) { o.server_url = "http://api.example.com"; }) == polar::errc::invalid_argument);
    CHECK_FALSE(code_of([](auto& o) { o.server_url = "http://127.0.0.1:9"; }));
    CHECK_FALSE(code_of([](auto& o) {
        o.server_url = "http://api.example.com";
        o.allow_insecure_http = true;
    }));
    CHECK(code_of([](auto& o) { o.access_token = "a\r\nb"; }) == polar::errc::invalid_argument);
    polar::client_options o;
    o.access_token = "tok";
    CHECK(polar::client(ioc.get_executor(), o).base_url() == "https://api.polar.sh");
    o.server = polar::server::sandbox;
    CHECK(polar::client(ioc.get_executor(), o).base_url() == "https://sandbox-api.polar.sh");
    o.server_url = "https://example.com:8443/prefix/";
    CHECK(polar::client(ioc.get_executor(), o).base_url() == "https://example.com:8443/prefix");
}

TEST_CASE("the attempt hook sees every attempt without the token") {
    std::vector<polar::attempt_info> seen;
    std::vector<std::string> targets;
    client_fixture fx(transport::http, [&](polar::client_options& o) {
        o.on_attempt = [&](const polar::attempt_info& a) {
            seen.push_back(a);
            targets.emplace_back(a.target);
        };
    });
    auto& c = fx.client();
    fx.run([&]() -> asio::awaitable<void> {
        co_await c.meters().list({.limit = 5});
        auto [ec, m] = co_await c.meters().get("9b1c1f0e-3c1a-4d5e-8f00-0123456789ab", asio::as_tuple(asio::deferred));
        CHECK(ec == polar::errc::not_found);
    });
    REQUIRE(seen.size() == 2);
    CHECK(targets[0] == "/v1/meters/?limit=5");
    CHECK(seen[0].status == 200);
    CHECK(seen[1].status == 404);
    CHECK(seen[1].ec == polar::errc::not_found);
    CHECK(seen[1].reused_connection);
}
