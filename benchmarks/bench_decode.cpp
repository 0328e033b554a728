// Decoding speed: polar::detail::decode into the typed models versus
// boost::json::parse to a DOM alone, on the same bytes, interleaved.
//
// usage: bench_decode [--runs R] [--seconds S]
// Prints one line per body: "<name> bytes B decode_mbps X dom_mbps Y" (medians
// of R runs of about S seconds each).
#include "common.hpp"

#include <polar/detail/json_codec.hpp>
#include <polar/models.hpp>

#include <boost/json/parse.hpp>

#include <iostream>

using clock_type = std::chrono::steady_clock;

namespace {

// Calls fn() in batches until `seconds` have passed; returns MB/s.
template <class Fn>
double measure(std::size_t bytes, double seconds, Fn fn) {
    std::size_t iterations = 0;
    const auto t0 = clock_type::now();
    double elapsed = 0;
    do {
        for (int i = 0; i < 16; ++i) fn();
        iterations += 16;
        elapsed = std::chrono::duration<double>(clock_type::now() - t0).count();
    } while (elapsed < seconds);
    return static_cast<double>(bytes) * static_cast<double>(iterations) / elapsed / 1e6;
}

template <class Model>
void run(const char* name, const std::string& body, int runs, double seconds) {
    std::vector<double> typed, dom;
    std::string what;
    Model out;
    if (auto ec = polar::detail::decode(body, out, what))
        throw std::runtime_error(std::string(name) + ": decode failed: " + what);
    for (int r = 0; r < runs; ++r) {
        typed.push_back(measure(body.size(), seconds, [&] {
            Model m;
            if (polar::detail::decode(body, m, what)) std::abort();
            asm volatile("" : : "r"(&m) : "memory");
        }));
        dom.push_back(measure(body.size(), seconds, [&] {
            boost::json::value v = boost::json::parse(body);
            asm volatile("" : : "r"(&v) : "memory");
        }));
    }
    std::cout << name << " bytes " << body.size() << " decode_mbps " << bench::median(typed) << " dom_mbps "
              << bench::median(dom) << std::endl;
}

} // namespace

int main(int argc, char** argv) try {
    bench::arguments args(argc, argv);
    const int runs = static_cast<int>(args.num("runs", 5));
    const double seconds = args.real("seconds", 0.3);
    const auto bodies = bench::capture_bodies();
    run<polar::page<polar::event>>("events", bodies.events, runs, seconds);
    run<polar::meter_quantities>("quantities", bodies.quantities, runs, seconds);
    run<polar::meter>("get", bodies.get, runs, seconds);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_decode: " << e.what() << "\n";
    return 1;
}
