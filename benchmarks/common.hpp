//
// polar-cpp benchmarks: helpers shared by the benchmark programs.
//
#ifndef POLAR_BENCHMARKS_COMMON_HPP
#define POLAR_BENCHMARKS_COMMON_HPP

#include <polar/client.hpp>
#include <polar/models/common.hpp>
#include <polar/testing/emulator_state.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <malloc.h>

namespace bench {

// --name value pairs; a flag without a value (followed by another --flag or
// nothing) reads as "1".
class arguments {
public:
    arguments(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument " + a);
            a.erase(0, 2);
            if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0)
                values_[a] = argv[++i];
            else
                values_[a] = "1";
        }
    }
    std::string str(const std::string& name, std::string def = {}) const {
        auto it = values_.find(name);
        return it == values_.end() ? def : it->second;
    }
    long num(const std::string& name, long def) const {
        auto it = values_.find(name);
        return it == values_.end() ? def : std::stol(it->second);
    }
    double real(const std::string& name, double def) const {
        auto it = values_.find(name);
        return it == values_.end() ? def : std::stod(it->second);
    }
    bool flag(const std::string& name) const { return values_.count(name) && values_.at(name) != "0"; }
    std::string required(const std::string& name) const {
        auto it = values_.find(name);
        if (it == values_.end()) throw std::invalid_argument("--" + name + " is required");
        return it->second;
    }

private:
    std::map<std::string, std::string> values_;
};

// The three responses the throughput benchmarks fetch, produced by the
// emulator's own logic from its demo data set, so they are what the API
// returns (schema-valid, realistic sizes). They are the 2025-03 contract's
// answers, and the clients speak that version, so that every run since the
// first measures the same bytes (the TypeScript SDK compared against speaks
// only that contract too).
struct canned_bodies {
    std::string token;      // the demo organization token
    std::string meter_id;   // the demo's first meter ("API tokens")
    std::string start, end; // the quantities range: 7 days, hourly (169 points)
    std::string get_target, quantities_target, events_target;
    std::string get, quantities, events;
};

inline canned_bodies capture_bodies() {
    polar::testing::emulator_state state;
    auto demo = state.seed_demo();
    canned_bodies b;
    b.token = demo.organization_token;
    b.meter_id = demo.meter_ids.at(0);
    using namespace std::chrono;
    const auto end = floor<hours>(system_clock::now());
    b.end = polar::format_timestamp(time_point_cast<microseconds>(end));
    b.start = polar::format_timestamp(time_point_cast<microseconds>(end - hours(24 * 7)));
    b.get_target = "/v1/meters/" + b.meter_id;
    b.quantities_target = b.get_target + "/quantities?start_timestamp=" + b.start + "&end_timestamp=" + b.end +
                          "&interval=hour";
    b.events_target = b.get_target + "/events?limit=100";
    const std::string auth = "Bearer " + b.token;
    auto fetch = [&](const std::string& target) {
        polar::testing::emulator_request req;
        req.method = "GET";
        req.target = target;
        req.authorization = auth;
        req.host = "127.0.0.1";
        req.polar_version = polar::testing::api_version_2025_03;
        auto res = state.handle(req);
        if (res.status != 200)
            throw std::runtime_error("emulator answered " + std::to_string(res.status) + " to " + target + ": " +
                                     res.body);
        return res.body;
    };
    b.get = fetch(b.get_target);
    b.quantities = fetch(b.quantities_target);
    b.events = fetch(b.events_target);
    return b;
}

inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Client options for the server named by --port, --tls and --ca: no retries,
// `max_connections` pooled connections.
inline polar::client_options client_options(const arguments& args, std::size_t max_connections) {
    polar::client_options o;
    o.access_token = args.required("token");
    o.api_version = polar::api_version::v2025_03; // the canned bodies' contract (see capture_bodies)
    const bool tls = args.flag("tls");
    o.server_url = std::string(tls ? "https" : "http") + "://127.0.0.1:" + args.required("port");
    if (tls) o.ca_pem = read_text_file(args.required("ca"));
    o.max_connections = max_connections;
    o.retry = polar::retry_policy::none();
    return o;
}

// A field of /proc/self/status in KiB (VmRSS, VmHWM).
inline long proc_status_kib(const char* field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
    return -1;
}

inline long rss_kib() { return proc_status_kib("VmRSS"); }

// RSS after giving freed heap pages back to the kernel: what is still in use.
inline long trimmed_rss_kib() {
    ::malloc_trim(0);
    return rss_kib();
}

// Bytes of heap in use (malloc'ed and not freed), from glibc.
inline long heap_in_use_kib() {
    const auto mi = ::mallinfo2();
    return static_cast<long>((mi.uordblks + mi.hblkhd) / 1024);
}

/// Requests counted in a measured window and its length.
struct window {
    std::uint64_t requests = 0;
    double seconds = 0;
    double rps() const { return seconds > 0 ? requests / seconds : 0; }
};

/// Runs `ioc` through a warm-up (connections, TLS sessions, allocator), then
/// counts the growth of `done` over `duration`, then sets `stop` and lets the
/// clients finish.
inline window run_window(boost::asio::io_context& ioc, const std::uint64_t& done, bool& stop,
                         std::chrono::duration<double> warmup, std::chrono::duration<double> duration) {
    using clock_type = std::chrono::steady_clock;
    std::uint64_t start_count = 0, end_count = 0;
    clock_type::time_point t0, t1;
    boost::asio::steady_timer timer(ioc);
    timer.expires_after(std::chrono::duration_cast<clock_type::duration>(warmup));
    timer.async_wait([&](boost::system::error_code) {
        start_count = done;
        t0 = clock_type::now();
        timer.expires_after(std::chrono::duration_cast<clock_type::duration>(duration));
        timer.async_wait([&](boost::system::error_code) {
            end_count = done;
            t1 = clock_type::now();
            stop = true;
        });
    });
    ioc.run();
    return {end_count - start_count, std::chrono::duration<double>(t1 - t0).count()};
}

/// The line run.sh reads: "rps R requests N seconds S".
inline void print_window(const window& w) {
    std::cout << "rps " << w.rps() << " requests " << w.requests << " seconds " << w.seconds << std::endl;
}

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace bench

#endif
