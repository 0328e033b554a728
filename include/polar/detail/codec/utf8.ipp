#ifndef POLAR_DETAIL_CODEC_UTF8_IPP
#define POLAR_DETAIL_CODEC_UTF8_IPP

// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above
// U+10FFFF), shared by the encoder (which replaces invalid bytes) and the
// decoder's error messages.

#include <cstddef>
#include <string_view>

namespace polar {
namespace detail {
namespace utf8 {

// Length of the valid sequence starting at s[i] (whose byte is >= 0x80),
// or 0 when it is not valid UTF-8.
inline std::size_t sequence_length(std::string_view s, std::size_t i) noexcept {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const auto cont = [&](std::size_t k) { return k < s.size() && (b(k) & 0xC0) == 0x80; };
    const unsigned char c = b(i);
    if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (i + 1 >= s.size()) return 0;
        const unsigned char c1 = b(i + 1);
        const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        const unsigned char hi = c == 0xED ? 0x9F : 0xBF;
        if (c1 < lo || c1 > hi) return 0;
        return cont(i + 2) ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (i + 1 >= s.size()) return 0;
        const unsigned char c1 = b(i + 1);
        const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
        if (c1 < lo || c1 > hi) return 0;
        return cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    return 0;
}

// Offset of the first byte that does not start a valid sequence, or npos.
inline std::size_t first_invalid(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const std::size_t n = sequence_length(s, i);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

} // namespace utf8
} // namespace detail
} // namespace polar

#endif
