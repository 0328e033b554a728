// Decoding speed: polar::detail::decode into the typed models (built from
// the parser's events) versus, on the same bytes and interleaved:
//   dom         boost::json::parse to a DOM (default allocator);
//   dom_mono    boost::json::parse into a monotonic_resource (what a
//               hand-written client that parses a DOM does at best);
//   null        boost::json::basic_parser with a handler that does nothing
//               (the parser alone: a bound for any decoder built on it);
//   dom_models  polar's previous decoder (DOM, then the models), kept as the
//               reference of the tests.
//
// usage: bench_decode [--runs R] [--seconds S]
// Prints one line per body: "<name> bytes B decode_mbps X dom_mbps Y
// dom_mono_mbps Z null_mbps N dom_models_mbps M" (medians of R runs of about
// S seconds each).
#include "common.hpp"

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/dom/events.ipp>
#include <polar/models.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/monotonic_resource.hpp>
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

// A basic_parser handler that accepts everything and builds nothing.
struct null_handler {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    using ec = boost::json::error_code;
    using sv = boost::json::string_view;
    bool on_document_begin(ec&) { return true; }
    bool on_document_end(ec&) { return true; }
    bool on_object_begin(ec&) { return true; }
    bool on_object_end(std::size_t, ec&) { return true; }
    bool on_array_begin(ec&) { return true; }
    bool on_array_end(std::size_t, ec&) { return true; }
    bool on_key_part(sv, std::size_t, ec&) { return true; }
    bool on_key(sv, std::size_t, ec&) { return true; }
    bool on_string_part(sv, std::size_t, ec&) { return true; }
    bool on_string(sv, std::size_t, ec&) { return true; }
    bool on_number_part(sv, ec&) { return true; }
    bool on_int64(std::int64_t, sv, ec&) { return true; }
    bool on_uint64(std::uint64_t, sv, ec&) { return true; }
    bool on_double(double, sv, ec&) { return true; }
    bool on_bool(bool, ec&) { return true; }
    bool on_null(ec&) { return true; }
    bool on_comment_part(sv, ec&) { return true; }
    bool on_comment(sv, ec&) { return true; }
};

template <class Model>
void run(const char* name, const std::string& body, int runs, double seconds) {
    std::vector<double> typed, dom, mono, null, old;
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
        mono.push_back(measure(body.size(), seconds, [&] {
            boost::json::monotonic_resource mr;
            boost::json::value v = boost::json::parse(body, &mr);
            asm volatile("" : : "r"(&v) : "memory");
        }));
        null.push_back(measure(body.size(), seconds, [&] {
            boost::json::basic_parser<null_handler> p(boost::json::parse_options{});
            boost::json::error_code ec;
            p.write_some(false, body.data(), body.size(), ec);
            if (ec) std::abort();
            asm volatile("" : : "r"(&p) : "memory");
        }));
        old.push_back(measure(body.size(), seconds, [&] {
            Model m;
            if (polar::detail::json_decode_impl::dom::decode_dom(body, m, what)) std::abort();
            asm volatile("" : : "r"(&m) : "memory");
        }));
    }
    std::cout << name << " bytes " << body.size() << " decode_mbps " << bench::median(typed) << " dom_mbps "
              << bench::median(dom) << " dom_mono_mbps " << bench::median(mono) << " null_mbps "
              << bench::median(null) << " dom_models_mbps " << bench::median(old) << std::endl;
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
