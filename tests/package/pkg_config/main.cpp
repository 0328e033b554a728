// Built with nothing but `pkg-config --cflags --libs polar` (header-only).
#include <polar/error.hpp>
#include <polar/models/common.hpp>

#include <cstdio>

int main() {
    const auto t = polar::parse_timestamp("2025-03-01T02:00:00+02:00");
    if (!t || polar::format_timestamp(*t) != "2025-03-01T00:00:00Z") {
        std::fprintf(stderr, "timestamp round trip failed\n");
        return 1;
    }
    const polar::error_code ec = polar::make_error_code(polar::errc::timeout);
    std::printf("polar via pkg-config: %s\n", ec.message().c_str());
    return ec ? 0 : 1;
}
