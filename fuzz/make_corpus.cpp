// Writes the seed corpora of the fuzz targets from real emulator responses:
//   make_corpus <fuzz dir>   (writes <dir>/corpus/<target>/*)
// Starts the emulator on loopback, creates meters and events over plain
// HTTP, then records raw responses (status line, headers, body) of every
// endpoint, including errors (401, 404, 422, 429 with Retry-After, 503).
#include <polar/detail/datetime.hpp>
#include <polar/testing/emulator.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

struct raw_response {
    std::string bytes; // everything the server sent
    std::string body;
};

raw_response send(std::uint16_t port, std::string_view method, std::string_view target, std::string_view body = {},
                  std::string_view token = polar::testing::default_token) {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                      "Authorization: Bearer " + std::string(token) + "\r\nAccept: application/json\r\n" +
                      "Connection: close\r\n";
    if (method != "GET")
        req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n";
    req += body;
    asio::write(s, asio::buffer(req));
    raw_response r;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(r.bytes), ec);
    const auto split = r.bytes.find("\r\n\r\n");
    if (split != std::string::npos) r.body = r.bytes.substr(split + 4);
    return r;
}

void write_file(const fs::path& dir, const std::string& name, std::string_view content) {
    fs::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << content;
}

// Selector bytes: see each target's input layout.
enum : char { sel_meter = 0, sel_page_meter = 1, sel_page_event = 2, sel_quantities = 3, sel_ingest = 4,
              sel_event = 5, sel_filter = 8, sel_aggregation = 9, sel_pagination = 10, sel_meter_create = 11,
              sel_events_ingest = 14, sel_error_body = 15 };

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: make_corpus <fuzz dir>\n";
        return 2;
    }
    const fs::path corpus = fs::path(argv[1]) / "corpus";
    asio::io_context ioc;
    polar::testing::emulator srv(ioc.get_executor());
    srv.start();
    auto work = asio::make_work_guard(ioc);
    std::thread runner([&] { ioc.run(); });
    const auto port = srv.port();

    const std::string meter_body =
        R"({"name":"API tokens","filter":{"conjunction":"and","clauses":[{"property":"name","operator":"eq","value":"llm.call"},)"
        R"({"conjunction":"or","clauses":[{"property":"model","operator":"like","value":"gpt"},{"property":"tokens","operator":"gte","value":2}]}]},)"
        R"("aggregation":{"func":"sum","property":"tokens"},"metadata":{"team":"core","n":3,"b":true}})";
    auto created = send(port, "POST", "/v1/meters/", meter_body);
    send(port, "POST", "/v1/meters/",
         R"({"name":"Calls","filter":{"conjunction":"and","clauses":[]},"aggregation":{"func":"count"}})");
    const std::string id = boost::json::parse(created.body).at("id").as_string().c_str();
    const auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    const std::string t1 = polar::detail::format_timestamp(now - std::chrono::hours(30));
    const std::string t2 = polar::detail::format_timestamp(now - std::chrono::minutes(5));
    const std::string ingest_body =
        R"({"events":[{"name":"llm.call","external_customer_id":"cust-1","timestamp":")" + t1 +
        R"(","metadata":{"tokens":120,"model":"gpt-4o"}},{"name":"llm.call","external_customer_id":"cust-2","timestamp":")" + t2 +
        R"(","metadata":{"tokens":35,"model":"gpt-4o-mini","ok":true}}]})";
    auto ingested = send(port, "POST", "/v1/events/ingest", ingest_body);

    const std::string day_start = polar::detail::format_timestamp(now - std::chrono::hours(72));
    const std::string day_end = polar::detail::format_timestamp(now + std::chrono::hours(1));
    struct sample {
        std::string name;
        char selector;
        raw_response r;
    };
    std::vector<sample> samples = {
        {"meter", sel_meter, created},
        {"meter_get", sel_meter, send(port, "GET", "/v1/meters/" + id)},
        {"meters_page", sel_page_meter, send(port, "GET", "/v1/meters/?limit=2&sorting=name")},
        {"meters_page_empty", sel_page_meter, send(port, "GET", "/v1/meters/?page=9")},
        {"events_page", sel_page_event, send(port, "GET", "/v1/meters/" + id + "/events?limit=10")},
        {"quantities_day", sel_quantities,
         send(port, "GET", "/v1/meters/" + id + "/quantities?start_timestamp=" + day_start +
                               "&end_timestamp=" + day_end + "&interval=day")},
        {"quantities_hour", sel_quantities,
         send(port, "GET", "/v1/meters/" + id + "/quantities?start_timestamp=" + t1 + "&end_timestamp=" + t2 +
                               "&interval=hour")},
        {"ingest", sel_ingest, ingested},
        {"error_404", sel_error_body, send(port, "GET", "/v1/meters/00000000-0000-0000-0000-000000000000")},
        {"error_401", sel_error_body, send(port, "GET", "/v1/meters/", {}, "wrong")},
        {"error_422_create", sel_error_body,
         send(port, "POST", "/v1/meters/", R"({"name":"x","filter":{"conjunction":"xor"},"aggregation":{"func":"max"}})")},
        {"error_422_query", sel_error_body, send(port, "GET", "/v1/meters/?limit=0&page=-1")},
        {"error_422_json", sel_error_body, send(port, "POST", "/v1/meters/", R"({"name": })")},
        {"error_422_ingest", sel_error_body, send(port, "POST", "/v1/events/ingest", R"({"events":[{"name":1}]})")},
        {"error_422_metadata", sel_error_body,
         send(port, "POST", "/v1/events/ingest",
              R"({"events":[{"name":"a","external_customer_id":"c","metadata":{"tokens":35.5}}]})")},
    };
    srv.faults().add(polar::testing::fault::rate_limited(std::chrono::seconds(2)));
    samples.push_back({"error_429", sel_error_body, send(port, "GET", "/v1/meters/")});
    srv.faults().add(polar::testing::fault::rate_limited_until(std::chrono::seconds(30)));
    samples.push_back({"error_429_date", sel_error_body, send(port, "GET", "/v1/meters/")});
    srv.faults().add(polar::testing::fault::status(503));
    samples.push_back({"error_503", sel_error_body, send(port, "GET", "/v1/meters/")});
    srv.faults().add(polar::testing::fault::wrong_content_type(502));
    samples.push_back({"error_502_html", sel_error_body, send(port, "GET", "/v1/meters/")});
    srv.faults().add(polar::testing::fault::truncated_body(40));
    samples.push_back({"truncated", sel_meter, send(port, "GET", "/v1/meters/" + id)});
    srv.faults().add(polar::testing::fault::close_mid_body());
    samples.push_back({"close_mid_body", sel_page_meter, send(port, "GET", "/v1/meters/?limit=2")});

    std::size_t files = 0;
    for (const auto& s : samples) {
        if (s.r.bytes.empty()) {
            std::cerr << "no response for " << s.name << "\n";
            return 1;
        }
        // fuzz_http: selector (result type), chunk size, raw response.
        const char http_selector = s.selector < 5 ? s.selector : sel_meter;
        write_file(corpus / "fuzz_http", s.name, std::string{http_selector, '\0'} + s.r.bytes);
        write_file(corpus / "fuzz_http", s.name + "_chunked", std::string{http_selector, '\x07'} + s.r.bytes);
        // fuzz_decode: selector, body.
        write_file(corpus / "fuzz_decode", s.name, std::string(1, s.selector) + s.r.body);
        files += 3;
    }
    // Request bodies and the parts of a meter, for the other decoders.
    const auto m = boost::json::parse(created.body).as_object();
    write_file(corpus / "fuzz_decode", "filter", std::string(1, sel_filter) + boost::json::serialize(m.at("filter")));
    write_file(corpus / "fuzz_decode", "aggregation",
               std::string(1, sel_aggregation) + boost::json::serialize(m.at("aggregation")));
    const auto page = boost::json::parse(samples[2].r.body).as_object();
    write_file(corpus / "fuzz_decode", "pagination",
               std::string(1, sel_pagination) + boost::json::serialize(page.at("pagination")));
    write_file(corpus / "fuzz_decode", "meter_create", std::string(1, sel_meter_create) + meter_body);
    write_file(corpus / "fuzz_decode", "events_ingest", std::string(1, sel_events_ingest) + ingest_body);
    const auto events = boost::json::parse(samples[4].r.body).as_object().at("items").as_array();
    if (!events.empty())
        write_file(corpus / "fuzz_decode", "event", std::string(1, sel_event) + boost::json::serialize(events[0]));

    // fuzz_datetime: the server's formats and accepted variants.
    const char* stamps[] = {"2025-03-25T15:51:07.123456Z", "2025-03-01T00:00:00Z", "2025-03-01T02:00:00+02:00",
                            "2025-03-01 00:00:00.5-05:30", "2025-03-01t10:20z",   "2024-02-29T12:00:00,25+0100",
                            "0001-01-01T00:00:00Z",        "9999-12-31T23:59:59.999999999+01"};
    int n = 0;
    for (const char* st : stamps) write_file(corpus / "fuzz_datetime", "ts" + std::to_string(n++), st);
    write_file(corpus / "fuzz_datetime", "server", t1);

    // fuzz_url: key NUL value, base URLs, Retry-After values.
    const std::string urls[] = {std::string("metadata[team]\0core & ops/+", 27), "https://api.polar.sh",
                                "http://127.0.0.1:8080/prefix/", "https://[::1]:8443/v",
                                "http://localhost", "120", "Sun, 06 Nov 1994 08:49:37 GMT",
                                "Wed, 21 Oct 2015 07:28:00 GMT"};
    n = 0;
    for (const auto& u : urls) write_file(corpus / "fuzz_url", "u" + std::to_string(n++), u);

    std::cout << "wrote " << files << " response samples to " << corpus << "\n";
    srv.stop();
    work.reset();
    ioc.stop();
    runner.join();
    return 0;
}
