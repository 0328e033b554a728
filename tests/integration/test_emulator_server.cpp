// The emulator's server over real sockets: HTTP and HTTPS, keep-alive,
// concurrency, limits, timeouts, counters and stop(). The API itself is
// replaced by a stand-in handler here (see test_emulator_server_api.cpp).
#include "http_test_client.hpp"

#include <polar/testing/emulator.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using polar::testing::emulator_options;
using polar::testing::emulator_request;
using polar::testing::emulator_response;
using polar_test::http_request;
using polar_test::http_response;
using polar_test::running_emulator;

namespace {

const std::string echo_body =
    R"({"id":"5b3a6f2e-7c1d-4e8f-9a0b-1c2d3e4f5a6b","name":"echo","padding":"0123456789abcdef0123456789abcdef"})";

emulator_options echo_options(bool tls) {
    emulator_options o;
    o.tls = tls;
    o.handler = [](const emulator_request& r) {
        emulator_response resp;
        resp.headers.emplace_back("x-echo-method", std::string(r.method));
        resp.headers.emplace_back("x-echo-target", std::string(r.target));
        resp.headers.emplace_back("x-echo-auth", std::string(r.authorization));
        resp.headers.emplace_back("x-echo-content-type", std::string(r.content_type));
        resp.headers.emplace_back("x-echo-body-size", std::to_string(r.body.size()));
        resp.headers.emplace_back("x-echo-scheme", std::string(r.scheme));
        resp.body = echo_body;
        return resp;
    };
    return o;
}

} // namespace

TEST_CASE("emulator server: starts on an ephemeral port and answers") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        running_emulator srv(echo_options(tls));
        CHECK(srv->port() != 0);
        CHECK(srv->base_url() == std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(srv->port()));
        CHECK(srv->certificate_pem().empty() == !tls);

        auto c = srv.client();
        http_response r = c->get("/v1/meters/abc?x=1");
        CHECK(r.status == 200);
        CHECK(r.body == echo_body);
        CHECK(r.header("Content-Type") == "application/json");
        CHECK(r.header("Content-Length") == std::to_string(echo_body.size()));
        CHECK(r.header("x-request-id").size() >= 16);
        CHECK(r.header("Date").find("GMT") != std::string::npos);
        CHECK(r.header("x-echo-method") == "GET");
        CHECK(r.header("x-echo-target") == "/v1/meters/abc?x=1");
        CHECK(r.header("x-echo-auth") == "Bearer polar_test_token");
        CHECK(r.header("x-echo-scheme") == (tls ? "https" : "http"));
        CHECK(r.keep_alive);

        http_response p = c->send("POST", "/v1/meters/", R"({"name":"x"})");
        CHECK(p.header("x-echo-body-size") == "12");
        CHECK(p.header("x-echo-content-type") == "application/json");
    }
}

TEST_CASE("emulator server: keep-alive reuses one connection") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        running_emulator srv(echo_options(tls));
        auto c = srv.client();
        std::set<std::string> ids;
        for (int i = 0; i < 10; ++i) {
            http_response r = c->get("/v1/meters/" + std::to_string(i));
            REQUIRE(r.status == 200);
            ids.insert(r.header("x-request-id"));
        }
        CHECK(ids.size() == 10); // unique request ids
        CHECK(c->connects() == 1);
        CHECK(srv->counters().connections_accepted() == 1);
        CHECK(srv->counters().total_requests() == 10);
        CHECK(srv->counters().open_connections() == 1);
    }
}

TEST_CASE("emulator server: pipelined requests are answered in order") {
    running_emulator srv(echo_options(false));
    auto c = srv.client();
    REQUIRE(!c->write_raw("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"));
    http_response r1, r2;
    REQUIRE(!c->read_response(r1));
    REQUIRE(!c->read_response(r2));
    CHECK(r1.header("x-echo-target") == "/a");
    CHECK(r2.header("x-echo-target") == "/b");
}

TEST_CASE("emulator server: 50 concurrent connections x 20 requests on 2 threads") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        running_emulator srv(echo_options(tls), 2);
        constexpr int clients = 50, per_client = 20;
        std::atomic<int> ok{0}, failed{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < clients; ++i) {
            threads.emplace_back([&, i] {
                try {
                    auto c = srv.client(10s);
                    for (int j = 0; j < per_client; ++j) {
                        http_response r = c->get("/v1/meters/" + std::to_string(i) + "-" + std::to_string(j));
                        if (r.status == 200 && r.body == echo_body && c->connects() == 1)
                            ++ok;
                        else
                            ++failed;
                    }
                } catch (...) {
                    ++failed;
                }
            });
        }
        for (auto& t : threads)
            t.join();
        CHECK(failed == 0);
        CHECK(ok == clients * per_client);
        CHECK(srv->counters().total_requests() == clients * per_client);
        CHECK(srv->counters().requests("GET /v1/meters/{id}") == clients * per_client);
        CHECK(srv->counters().connections_accepted() == clients);
    }
}

TEST_CASE("emulator server: counters by route") {
    running_emulator srv(echo_options(false));
    auto c = srv.client();
    c->get("/v1/meters/");
    c->get("/v1/meters/?limit=5");
    c->send("POST", "/v1/meters/", "{}");
    c->get("/v1/meters/8c3c8f3e-0b5a-4c1e-9a51-2b7e6c9d0f11");
    c->send("PATCH", "/v1/meters/8c3c8f3e-0b5a-4c1e-9a51-2b7e6c9d0f11", "{}");
    c->get("/v1/meters/abc/events?page=2");
    c->get("/v1/meters/abc/quantities");
    c->send("POST", "/v1/events/ingest", R"({"events":[]})");
    c->get("/v1/meters");
    c->get("/elsewhere/x");

    auto k = srv->counters();
    CHECK(k.total_requests() == 10);
    CHECK(k.requests() == 10);
    CHECK(k.requests("GET /v1/meters/") == 2);
    CHECK(k.requests("POST /v1/meters/") == 1);
    CHECK(k.requests("GET /v1/meters/{id}") == 1);
    CHECK(k.requests("PATCH /v1/meters/{id}") == 1);
    CHECK(k.requests("* /v1/meters/{id}") == 2);
    CHECK(k.requests("GET /v1/meters/{id}/events") == 1);
    CHECK(k.requests("GET /v1/meters/{id}/quantities") == 1);
    CHECK(k.requests("POST /v1/events/ingest") == 1);
    CHECK(k.requests("GET /v1/meters") == 1);
    CHECK(k.requests("GET /elsewhere/x") == 1);
    CHECK(k.requests("GET *") == 7);
    CHECK(k.requests("POST *") == 2);
    CHECK(k.requests("GET /v1/*") == 6);
    auto routes = k.by_route();
    CHECK(routes.at("GET /v1/meters/{id}/quantities") == 1);
    CHECK(routes.size() == 9);

    k.reset();
    CHECK(k.total_requests() == 0);
    CHECK(k.requests("GET /v1/meters/") == 0);
    CHECK(k.connections_accepted() == 0);
    CHECK(k.open_connections() == 1); // a gauge, not reset
    c->get("/v1/meters/");
    CHECK(k.requests("GET /v1/meters/") == 1);
}

TEST_CASE("emulator server: request limits") {
    emulator_options o = echo_options(false);
    o.body_limit = 1000;
    o.header_limit = 2048;
    running_emulator srv(std::move(o));

    SUBCASE("a body over the limit gets 413 and the connection is closed") {
        auto c = srv.client();
        http_request req;
        req.method = "POST";
        req.target = "/v1/meters/";
        req.body = std::string(5000, 'a');
        http_response r;
        REQUIRE(!c->request(req, r));
        CHECK(r.status == 413);
        CHECK(!r.keep_alive);
        CHECK(r.body_is_json());
        CHECK(srv->counters().requests("POST /v1/meters/") == 1);
        req.body = std::string(1000, 'a'); // at the limit: fine, on a new connection
        REQUIRE(!c->request(req, r));
        CHECK(r.status == 200);
        CHECK(c->connects() == 2);
    }
    SUBCASE("a header over the limit gets 431") {
        auto c = srv.client();
        http_request req;
        req.headers.emplace_back("x-big", std::string(4000, 'b'));
        http_response r;
        REQUIRE(!c->request(req, r));
        CHECK(r.status == 431);
    }
    SUBCASE("garbage gets 400") {
        auto c = srv.client();
        REQUIRE(!c->write_raw("THIS IS NOT HTTP\r\n\r\n"));
        http_response r;
        REQUIRE(!c->read_response(r));
        CHECK(r.status == 400);
        CHECK(srv->counters().requests("* <invalid>") == 1);
    }
    SUBCASE("chunked request bodies are accepted") {
        auto c = srv.client();
        REQUIRE(!c->write_raw("POST /v1/events/ingest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
        http_response r;
        REQUIRE(!c->read_response(r));
        CHECK(r.status == 200);
        CHECK(r.header("x-echo-body-size") == "11");
    }
    SUBCASE("Expect: 100-continue gets an interim response") {
        auto c = srv.client();
        REQUIRE(!c->write_raw("POST /v1/meters/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
        http_response interim;
        // Beast's parser reads a 1xx as a complete response.
        REQUIRE(!c->read_response(interim));
        CHECK(interim.status == 100);
        REQUIRE(!c->write_raw("{}"));
        http_response r;
        REQUIRE(!c->read_response(r));
        CHECK(r.status == 200);
        CHECK(r.header("x-echo-body-size") == "2");
    }
    SUBCASE("Connection: close is honoured") {
        auto c = srv.client();
        http_request req;
        req.headers.emplace_back("Connection", "close");
        http_response r;
        REQUIRE(!c->request(req, r));
        CHECK(r.status == 200);
        CHECK(!r.keep_alive);
        CHECK(r.header("Connection") == "close");
    }
}

TEST_CASE("emulator server: idle and read timeouts close the connection") {
    emulator_options o = echo_options(false);
    o.idle_timeout = 200ms;
    o.read_timeout = 300ms;
    running_emulator srv(std::move(o));

    auto idle = srv.client();
    CHECK(idle->get("/x").status == 200);
    std::string rest;
    auto t0 = std::chrono::steady_clock::now();
    auto ec = idle->read_raw(rest, 3s);
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(polar_test::is_eof(ec));
    CHECK(rest.empty());
    CHECK(waited >= 150ms);
    CHECK(waited < 2s);

    auto slow = srv.client();
    REQUIRE(!slow->write_raw("GET /x HTTP/1.1\r\nHo"));
    t0 = std::chrono::steady_clock::now();
    ec = slow->read_raw(rest, 3s);
    waited = std::chrono::steady_clock::now() - t0;
    CHECK(polar_test::is_eof(ec));
    CHECK(waited >= 250ms);
    CHECK(waited < 2s);
    CHECK(srv->counters().total_requests() == 1);
}

TEST_CASE("emulator server: stop() closes open connections and the listener") {
    for (bool tls : {false, true}) {
        CAPTURE(tls);
        running_emulator srv(echo_options(tls), 2);
        auto a = srv.client();
        auto b = srv.client();
        auto partial = srv.client();
        CHECK(a->get("/x").status == 200);
        CHECK(b->get("/y").status == 200);
        REQUIRE(!partial->write_raw("GET /z HTTP/1.1\r\n"));
        REQUIRE(running_emulator::wait_until([&] { return srv->counters().open_connections() == 3; }));

        srv->stop();
        srv->stop(); // idempotent
        CHECK(running_emulator::wait_until([&] { return srv->counters().open_connections() == 0; }));
        std::string rest;
        CHECK(!polar_test::is_timeout(a->read_raw(rest, 2s)));
        CHECK(!polar_test::is_timeout(partial->read_raw(rest, 2s)));

        auto late = srv.client(1s);
        http_response r;
        CHECK(late->request(http_request{}, r));
    }
}

TEST_CASE("emulator server: stop() from another thread while clients hammer it") {
    running_emulator srv(echo_options(false), 2);
    std::atomic<bool> go{true};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            auto c = srv.client(2s);
            http_response r;
            while (go) {
                http_request req;
                if (c->request(req, r))
                    c->close();
            }
        });
    }
    std::this_thread::sleep_for(100ms);
    std::thread stopper([&] { srv->stop(); });
    stopper.join();
    CHECK(running_emulator::wait_until([&] { return srv->counters().open_connections() == 0; }, 3s));
    go = false;
    for (auto& t : threads)
        t.join();
}

TEST_CASE("emulator server: close_idle_connections") {
    running_emulator srv(echo_options(false));
    auto a = srv.client();
    auto b = srv.client();
    CHECK(a->get("/x").status == 200);
    CHECK(b->get("/x").status == 200);
    // The server turns idle once it has finished writing (after the client read).
    std::this_thread::sleep_for(100ms);
    srv->close_idle_connections();
    std::string rest;
    CHECK(polar_test::is_eof(a->read_raw(rest, 2s)));
    CHECK(polar_test::is_eof(b->read_raw(rest, 2s)));
    CHECK(running_emulator::wait_until([&] { return srv->counters().open_connections() == 0; }));
    // the client reconnects
    CHECK(a->get("/x").status == 200);
    CHECK(a->connects() == 2);
}

TEST_CASE("emulator server: TLS certificate handling") {
    SUBCASE("the generated certificate must be trusted") {
        running_emulator srv(echo_options(true));
        polar_test::http_test_client untrusting(srv->base_url(), "", 2s);
        auto ec = untrusting.connect();
        CHECK(ec);
        CHECK(srv.client()->get("/x").status == 200);
    }
    SUBCASE("a generated RSA certificate") {
        emulator_options o = echo_options(true);
        o.generated_key = polar::testing::certificate_key_type::rsa_2048;
        running_emulator srv(std::move(o));
        CHECK(srv.client()->get("/x").status == 200);
    }
    SUBCASE("a given certificate, also over localhost") {
        auto pair = polar::testing::make_self_signed_certificate();
        emulator_options o = echo_options(true);
        o.cert_pem = pair.cert_pem;
        o.key_pem = pair.key_pem;
        running_emulator srv(std::move(o));
        CHECK(srv->certificate_pem() == pair.cert_pem);
        CHECK(srv.client()->get("/x").status == 200);
        polar_test::http_test_client by_name("https://localhost:" + std::to_string(srv->port()), pair.cert_pem);
        CHECK(by_name.get("/x").status == 200);
    }
    SUBCASE("another server's certificate is rejected") {
        running_emulator srv(echo_options(true));
        auto other = polar::testing::make_self_signed_certificate();
        polar_test::http_test_client c(srv->base_url(), other.cert_pem, 2s);
        CHECK(c.connect());
    }
    SUBCASE("a bad key fails start()") {
        emulator_options o = echo_options(true);
        o.cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        o.key_pem = "nope";
        CHECK_THROWS(running_emulator(std::move(o)));
    }
}

TEST_CASE("emulator server: start() reports a port in use") {
    running_emulator first(echo_options(false));
    emulator_options o = echo_options(false);
    o.port = first->port();
    CHECK_THROWS(running_emulator(std::move(o)));
}

TEST_CASE("emulator server: a HEAD response has no body") {
    running_emulator srv(echo_options(false));
    auto c = srv.client();
    REQUIRE(!c->write_raw("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"));
    std::string raw;
    CHECK(polar_test::is_timeout(c->read_raw(raw, 300ms)));
    CHECK(raw.find("Content-Length: " + std::to_string(echo_body.size()) + "\r\n") != std::string::npos);
    CHECK(raw.size() == raw.find("\r\n\r\n") + 4);
}
