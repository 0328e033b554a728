// The emulator's version middleware over real sockets (MeterAPI-2026-10.md
// §1.1, §5.5, §6): Polar-Version selects 2025-03 / 2026-04 / 2026-10 per
// request, the echo header, the version 404, the dated 411/413 checks and the
// removed /v1/meters/{id}/events route.
#include "http_test_client.hpp"

#include <polar/testing/emulator.hpp>
#include <polar/testing/emulator_state.hpp>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using polar::testing::emulator_options;
using polar::testing::fault;
using polar_test::http_request;
using polar_test::http_response;
using polar_test::running_emulator;

namespace {

emulator_options options(bool tls, std::string default_version = "2026-10") {
    emulator_options o;
    o.tls = tls;
    o.default_api_version = std::move(default_version);
    return o;
}

http_response call(polar_test::http_test_client& c, std::string method, std::string target,
                   std::string version_header, std::string body = {}, std::string bearer = "polar_test_token",
                   std::string header_name = "Polar-Version") {
    http_request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.bearer = std::move(bearer);
    req.headers.emplace_back(std::move(header_name), std::move(version_header));
    http_response r;
    auto ec = c.request(req, r);
    REQUIRE_MESSAGE(!ec, ec.message());
    return r;
}

const char* const count_meter =
    R"({"name":"Calls","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"}})";

} // namespace

TEST_CASE("emulator versions: Polar-Version selects the version and is echoed") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        running_emulator srv(options(tls));
        auto c = srv.client();

        SUBCASE("no header: the default 2026-10, echoed") {
            http_response r = c->get("/v1/meters/");
            CHECK(r.status == 200);
            CHECK(r.header("Polar-Version") == "2026-10");
        }
        SUBCASE("an empty header is the default") {
            http_response r = call(*c, "GET", "/v1/meters/", "");
            CHECK(r.status == 200);
            CHECK(r.header("Polar-Version") == "2026-10");
        }
        SUBCASE("each served version is echoed; the header name is case-insensitive") {
            for (const char* v : {"2025-03", "2026-04", "2026-10"}) {
                CAPTURE(v);
                http_response r = call(*c, "GET", "/v1/meters/", v, {}, "polar_test_token", "polar-VERSION");
                CHECK(r.status == 200);
                CHECK(r.header("Polar-Version") == v);
            }
        }
        SUBCASE("errors, redirects and route 404s carry the header") {
            http_response unauthorized = call(*c, "GET", "/v1/meters/", "2026-04", {}, "");
            CHECK(unauthorized.status == 401);
            CHECK(unauthorized.header("Polar-Version") == "2026-04");
            http_response invalid = call(*c, "GET", "/v1/meters/not-a-uuid", "2026-10");
            CHECK(invalid.status == 422);
            CHECK(invalid.header("Polar-Version") == "2026-10");
            http_response redirect = call(*c, "GET", "/v1/meters", "2026-10");
            CHECK(redirect.status == 307);
            CHECK(redirect.header("Polar-Version") == "2026-10");
            http_response route = call(*c, "GET", "/v1/nothing-here", "2026-10");
            CHECK(route.status == 404);
            CHECK(route.body == R"({"detail":"Not Found"})");
            CHECK(route.header("Polar-Version") == "2026-10");
            http_response method = call(*c, "DELETE", "/v1/meters/", "2026-10");
            CHECK(method.status == 405);
            CHECK(method.header("Polar-Version") == "2026-10");
        }
        CHECK(c->connects() == 1);
    }
}

TEST_CASE("emulator versions: an unknown or malformed version is a 404 without the header, before anything else") {
    running_emulator srv(options(true));
    auto c = srv.client();
    for (const char* v : {"2025-01", "2026-4", "latest", "2026-10,2026-04", "2024-12", "v2026-10"}) {
        CAPTURE(v);
        // Before auth, body decoding and routing, for every method.
        http_response get = call(*c, "GET", "/v1/meters/", v, {}, "");
        CHECK(get.status == 404);
        CHECK(get.body == R"({"detail":"Not Found"})");
        CHECK(get.header("Content-Type") == "application/json");
        CHECK(!get.has_header("Polar-Version"));
        http_response post = call(*c, "POST", "/v1/meters/", v, "{not json", "");
        CHECK(post.status == 404);
        CHECK(post.body == R"({"detail":"Not Found"})");
        CHECK(!post.has_header("Polar-Version"));
        http_response other = call(*c, "PATCH", "/nowhere/at/all", v, "{}");
        CHECK(other.status == 404);
        CHECK(!other.has_header("Polar-Version"));
    }
    CHECK(srv->state().meter_count() == 0);
    CHECK(c->connects() == 1);
}

TEST_CASE("emulator versions: the 2025-03 default keeps the seed-era wire") {
    running_emulator srv(options(false, "2025-03"));
    auto c = srv.client();

    // Without the header: no Polar-Version on any response, and the old
    // events route is there.
    http_response created = c->send("POST", "/v1/meters/", count_meter);
    REQUIRE(created.status == 201);
    CHECK(!created.has_header("Polar-Version"));
    CHECK(created.json("/unit").empty()); // no dated keys
    CHECK(created.json("/archived_at").empty());
    const std::string id = created.json_string("/id");
    http_response events = c->get("/v1/meters/" + id + "/events");
    CHECK(events.status == 200);
    CHECK(!events.has_header("Polar-Version"));
    CHECK(!c->get("/v1/meters/", "").has_header("Polar-Version"));
    CHECK(!c->get("/v1/nothing").has_header("Polar-Version"));

    // Asked for explicitly, 2025-03 is echoed; a dated version still works.
    http_response pinned = call(*c, "GET", "/v1/meters/" + id + "/events", "2025-03");
    CHECK(pinned.status == 200);
    CHECK(pinned.header("Polar-Version") == "2025-03");
    http_response dated = call(*c, "GET", "/v1/meters/" + id + "/events", "2026-10");
    CHECK(dated.status == 404);
    CHECK(dated.header("Polar-Version") == "2026-10");
    // Unknown versions are refused whatever the default.
    CHECK(call(*c, "GET", "/v1/meters/", "2025-04").status == 404);
}

TEST_CASE("emulator versions: GET /v1/meters/{id}/events is a route 404 on the dated versions") {
    running_emulator srv(options(false));
    auto c = srv.client();
    http_response created = c->send("POST", "/v1/meters/", count_meter);
    REQUIRE(created.status == 201);
    const std::string path = "/v1/meters/" + created.json_string("/id") + "/events";
    for (const char* v : {"2026-04", "2026-10"}) {
        CAPTURE(v);
        http_response r = call(*c, "GET", path, v);
        CHECK(r.status == 404);
        CHECK(r.body == R"({"detail":"Not Found"})");
        CHECK(r.header("Polar-Version") == v);
        // Not even the slash variant redirects: there is no route to redirect to.
        http_response slash = call(*c, "GET", path + "/", v);
        CHECK(slash.status == 404);
        CHECK(slash.header("Polar-Version") == v);
        // Without credentials too: routing comes before auth.
        CHECK(call(*c, "GET", path, v, {}, "").status == 404);
    }
    CHECK(c->get(path).status == 404); // the default, 2026-10
    CHECK(call(*c, "GET", path, "2025-03").status == 200);
}

TEST_CASE("emulator versions: faults answer inside the version middleware") {
    running_emulator srv(options(false));
    auto c = srv.client();

    // A version 404 comes first and consumes no fault.
    srv->faults().add(fault::rate_limited(3s));
    http_response refused = call(*c, "GET", "/v1/meters/", "2099-01");
    CHECK(refused.status == 404);
    CHECK(!refused.has_header("Polar-Version"));
    CHECK(srv->faults().pending() == 1);

    http_response limited = call(*c, "GET", "/v1/meters/", "2026-04");
    CHECK(limited.status == 429);
    CHECK(limited.body.empty());
    CHECK(limited.header("Retry-After") == "3");
    CHECK(limited.header("Polar-Version") == "2026-04");

    srv->faults().add(fault::status(503));
    CHECK(c->get("/v1/meters/").header("Polar-Version") == "2026-10");
    srv->faults().add(fault::malformed_json());
    CHECK(call(*c, "GET", "/v1/meters/", "2025-03").header("Polar-Version") == "2025-03");
    // A fault that sets the header itself keeps its own value.
    srv->faults().add(fault::status(404, R"({"detail":"Not Found"})").header("Polar-Version", "2026-04"));
    http_response own = c->get("/v1/meters/");
    CHECK(own.header("Polar-Version") == "2026-04");
    std::size_t version_headers = 0;
    for (const auto& h : own.headers) version_headers += h.first == "Polar-Version" || h.first == "polar-version";
    CHECK(version_headers == 1);
    // Processed faults go through the API, which adds the header.
    srv->faults().add(fault::delay(10ms));
    CHECK(c->get("/v1/meters/").header("Polar-Version") == "2026-10");

    // With a seed-era default and no header, faults add none either.
    running_emulator old(options(false, "2025-03"));
    auto c2 = old.client();
    old->faults().add(fault::rate_limited(1s));
    http_response r = c2->get("/v1/meters/");
    CHECK(r.status == 429);
    CHECK(!r.has_header("Polar-Version"));
}

TEST_CASE("emulator versions: 411 and 413 on the dated versions") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        running_emulator srv(options(tls));
        auto c = srv.client();

        SUBCASE("a chunked POST has no Content-Length: 411, before auth") {
            REQUIRE(!c->write_raw("POST /v1/meters/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n0\r\n\r\n"));
            http_response r;
            REQUIRE(!c->read_response(r));
            CHECK(r.status == 411);
            CHECK(r.body == R"({"error":"LengthRequired","detail":"A Content-Length header is required."})");
            CHECK(r.header("Polar-Version") == "2026-10");
        }
        SUBCASE("a POST/PATCH/PUT without any Content-Length: 411") {
            for (const char* m : {"POST", "PATCH", "PUT"}) {
                CAPTURE(m);
                REQUIRE(!c->write_raw(std::string(m) + " /v1/meters/ HTTP/1.1\r\nHost: x\r\nPolar-Version: 2026-04\r\n\r\n"));
                http_response r;
                REQUIRE(!c->read_response(r));
                CHECK(r.status == 411);
                CHECK(r.header("Polar-Version") == "2026-04");
            }
            // GET needs none.
            REQUIRE(!c->write_raw("GET /v1/meters/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer polar_test_token\r\n\r\n"));
            http_response r;
            REQUIRE(!c->read_response(r));
            CHECK(r.status == 200);
        }
        SUBCASE("the seed era accepts a chunked POST") {
            REQUIRE(!c->write_raw("POST /v1/meters/ HTTP/1.1\r\nHost: x\r\nPolar-Version: 2025-03\r\n"
                                  "Authorization: Bearer polar_test_token\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"));
            http_response r;
            REQUIRE(!c->read_response(r));
            CHECK(r.status == 422); // validated: the body got through
            CHECK(r.header("Polar-Version") == "2025-03");
        }
        SUBCASE("a declared length over 10 MiB: 413, without reading the body") {
            REQUIRE(!c->write_raw("POST /v1/events/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  "Content-Length: 10485761\r\n\r\n{"));
            http_response r;
            REQUIRE(!c->read_response(r));
            CHECK(r.status == 413);
            CHECK(r.body == R"({"error":"RequestBodyTooLarge","detail":"Request body exceeded the maximum allowed size of 10485760 bytes."})");
            CHECK(r.header("Polar-Version") == "2026-10");
        }
        SUBCASE("an unknown version wins over the body checks") {
            REQUIRE(!c->write_raw("POST /v1/events/ingest HTTP/1.1\r\nHost: x\r\nPolar-Version: 2030-01\r\n"
                                  "Content-Length: 20000000\r\n\r\n"));
            http_response r;
            REQUIRE(!c->read_response(r));
            CHECK(r.status == 404);
            CHECK(r.body == R"({"detail":"Not Found"})");
            CHECK(!r.has_header("Polar-Version"));
        }
        SUBCASE("the seed era keeps the emulator's own 413") {
            REQUIRE(!c->write_raw("POST /v1/events/ingest HTTP/1.1\r\nHost: x\r\nPolar-Version: 2025-03\r\n"
                                  "Content-Length: 20000000\r\n\r\n"));
            http_response r;
            REQUIRE(!c->read_response(r));
            CHECK(r.status == 413);
            CHECK(r.json_string("/error") == "RequestEntityTooLarge");
            CHECK(r.header("Polar-Version") == "2025-03");
        }
    }
}

TEST_CASE("emulator versions: default_api_version is validated") {
    boost::asio::io_context ioc;
    for (const char* bad : {"", "2026-11", "2025-3", "latest"}) {
        CAPTURE(bad);
        emulator_options o;
        o.default_api_version = bad;
        try {
            polar::testing::emulator srv(ioc.get_executor(), std::move(o));
            FAIL("no exception");
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find("default_api_version") != std::string::npos);
        }
    }
    emulator_options ok;
    CHECK(ok.default_api_version == "2026-10");
    polar::testing::emulator_state s;
    CHECK(s.default_api_version() == "2026-10");
    CHECK_THROWS_AS(s.set_default_api_version("2026-05"), std::invalid_argument);
    s.set_default_api_version("2026-04");
    CHECK(s.default_api_version() == "2026-04");
    CHECK(polar::testing::is_supported_api_version("2025-03"));
    CHECK(!polar::testing::is_supported_api_version("2025-04"));
}

TEST_CASE("polar-emulator binary: --api-version") {
    std::string bin = polar_test::emulator_binary_path();
    if (bin.empty()) {
        MESSAGE("polar-emulator binary not found (set POLAR_EMULATOR_BIN); skipped");
        return;
    }
    SUBCASE("defaults to 2026-10") {
        polar_test::child_process p({bin, "--port", "0"});
        std::string line = p.wait_for_line("listening on ", 10s);
        REQUIRE_MESSAGE(!line.empty(), p.output());
        polar_test::http_test_client c(line.substr(line.find("http")));
        http_response r = c.get("/v1/meters/");
        CHECK(r.status == 200);
        CHECK(r.header("Polar-Version") == "2026-10");
    }
    SUBCASE("2025-03 serves the seed era without the header") {
        polar_test::child_process p({bin, "--port", "0", "--api-version", "2025-03"});
        std::string line = p.wait_for_line("listening on ", 10s);
        REQUIRE_MESSAGE(!line.empty(), p.output());
        CHECK(!p.wait_for_line("api version: 2025-03", 2s).empty());
        polar_test::http_test_client c(line.substr(line.find("http")));
        http_response r = c.get("/v1/meters/");
        CHECK(r.status == 200);
        CHECK(!r.has_header("Polar-Version"));
        CHECK(call(c, "GET", "/v1/meters/", "2026-04").header("Polar-Version") == "2026-04");
    }
    SUBCASE("an unknown version is a usage error") {
        polar_test::child_process p({bin, "--api-version", "2026-05"});
        CHECK(p.wait(10s) == 2);
    }
    SUBCASE("--help documents it") {
        polar_test::child_process p({bin, "--help"});
        CHECK(p.wait(10s) == 0);
        p.wait_for_line("zzz-never", 1s);
        CHECK(p.output().find("--api-version") != std::string::npos);
    }
}
