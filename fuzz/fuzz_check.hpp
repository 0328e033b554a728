// Helpers shared by the fuzz targets: a failed check aborts with a message, so
// libFuzzer records the input as a crash.
#ifndef POLAR_FUZZ_CHECK_HPP
#define POLAR_FUZZ_CHECK_HPP

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define POLAR_FUZZ_CHECK(cond, ...)                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            std::fprintf(stderr, __VA_ARGS__);                                            \
            std::fprintf(stderr, "\n");                                                   \
            std::abort();                                                                 \
        }                                                                                 \
    } while (0)

namespace polar_fuzz {
inline std::string_view as_text(const unsigned char* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}
} // namespace polar_fuzz

#endif
