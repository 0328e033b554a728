// The polar-emulator binary: starts, prints its URL and tokens, serves,
// persists its state and shuts down cleanly on SIGTERM/SIGINT.
#include "http_test_client.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

using namespace std::chrono_literals;
using polar_test::child_process;
using polar_test::http_response;

namespace {

// "polar-emulator: listening on http://127.0.0.1:1234" -> the URL
std::string url_of(const std::string& line) {
    auto p = line.find("http");
    return p == std::string::npos ? std::string() : line.substr(p);
}

std::string after(const std::string& line, const std::string& prefix) {
    auto p = line.find(prefix);
    if (p == std::string::npos)
        return {};
    std::string rest = line.substr(p + prefix.size());
    auto sp = rest.find(' ');
    return sp == std::string::npos ? rest : rest.substr(0, sp);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

TEST_CASE("polar-emulator binary: serves HTTP with the default token, stops on SIGTERM") {
    std::string bin = polar_test::emulator_binary_path();
    if (bin.empty()) {
        MESSAGE("polar-emulator binary not found (set POLAR_EMULATOR_BIN); skipped");
        return;
    }
    child_process p({bin, "--port", "0", "--threads", "2"});
    std::string line = p.wait_for_line("listening on ", 10s);
    REQUIRE_MESSAGE(!line.empty(), p.output());
    std::string url = url_of(line);
    CHECK(url.rfind("http://127.0.0.1:", 0) == 0);
    CHECK(!p.wait_for_line("token: polar_test_token", 2s).empty());

    polar_test::http_test_client c(url);
    CHECK(c.get("/v1/meters/").status == 200);
    CHECK(c.get("/v1/meters/", "wrong").status == 401);

    p.signal(SIGTERM);
    CHECK(p.wait(10s) == 0);
}

TEST_CASE("polar-emulator binary: TLS, demo seed, extra tokens and a persisted state") {
    std::string bin = polar_test::emulator_binary_path();
    if (bin.empty()) {
        MESSAGE("polar-emulator binary not found (set POLAR_EMULATOR_BIN); skipped");
        return;
    }
    char dir_template[] = "/tmp/polar-emulator-test-XXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    const std::string state_file = dir + "/state.json";

    std::string meter_id;
    {
        child_process p({bin, "--tls", "--seed", "demo", "--state", state_file, "--token", "reader:meters:read"});
        std::string line = p.wait_for_line("listening on ", 20s);
        REQUIRE_MESSAGE(!line.empty(), p.output());
        std::string url = url_of(line);
        CHECK(url.rfind("https://127.0.0.1:", 0) == 0);
        std::string cert_line = p.wait_for_line("certificate: ", 2s);
        std::string cert_path = after(cert_line, "certificate: ");
        REQUIRE(!cert_path.empty());
        std::string cert = slurp(cert_path);
        CHECK(cert.find("BEGIN CERTIFICATE") != std::string::npos);
        CHECK(!p.wait_for_line("token: reader", 2s).empty());

        polar_test::http_test_client c(url, cert);
        http_response list = c.get("/v1/meters/", "polar_demo_token");
        CHECK(list.status == 200);
        CHECK(list.json("/pagination/total_count") != "0");
        CHECK(c.get("/v1/meters/", "reader").status == 200);
        http_response created = c.send(
            "POST", "/v1/meters/",
            R"({"name":"Persisted","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"}})",
            "polar_demo_token");
        REQUIRE(created.status == 201);
        meter_id = created.json_string("/id");
        CHECK(c.send("POST", "/v1/meters/", "{}", "reader").status == 403);

        p.signal(SIGINT);
        CHECK(p.wait(10s) == 0);
        CHECK(p.output().find("state: saved") != std::string::npos);
        ::unlink(cert_path.c_str());
    }
    {
        // Restarted on the saved state: no seed, same tokens and meters.
        child_process p({bin, "--state", state_file, "--seed", "demo"});
        std::string line = p.wait_for_line("listening on ", 20s);
        REQUIRE_MESSAGE(!line.empty(), p.output());
        CHECK(p.output().find("seed: skipped") != std::string::npos);
        polar_test::http_test_client c(url_of(line));
        http_response got = c.get("/v1/meters/" + meter_id, "polar_demo_token");
        CHECK(got.status == 200);
        CHECK(got.json_string("/name") == "Persisted");
        CHECK(c.get("/v1/meters/", "reader").status == 200);
        p.signal(SIGTERM);
        CHECK(p.wait(10s) == 0);
    }
    ::unlink(state_file.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("polar-emulator binary: rejects bad arguments") {
    std::string bin = polar_test::emulator_binary_path();
    if (bin.empty())
        return;
    child_process p({bin, "--port", "notaport"});
    CHECK(p.wait(10s) == 2);
    CHECK(p.output().find("usage:") != std::string::npos);
}

TEST_CASE("polar-emulator binary: --rate-limit enforces Polar's limit") {
    std::string bin = polar_test::emulator_binary_path();
    if (bin.empty()) {
        MESSAGE("polar-emulator binary not found (set POLAR_EMULATOR_BIN); skipped");
        return;
    }
    child_process p({bin, "--port", "0", "--rate-limit", "2/min"});
    std::string line = p.wait_for_line("listening on ", 10s);
    REQUIRE_MESSAGE(!line.empty(), p.output());
    CHECK(!p.wait_for_line("rate limit: 2 requests per minute", 2s).empty());
    polar_test::http_test_client c(url_of(line));
    CHECK(c.get("/v1/meters/").status == 200);
    CHECK(c.get("/v1/meters/").status == 200);
    http_response r = c.get("/v1/meters/");
    CHECK(r.status == 429);
    CHECK(!r.header("Retry-After").empty());
    CHECK(r.body.empty());
    p.signal(SIGTERM);
    CHECK(p.wait(10s) == 0);

    child_process bad({bin, "--rate-limit", "2/hour"});
    CHECK(bad.wait(10s) == 2);
}
