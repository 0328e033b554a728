#ifndef POLAR_DETAIL_CODEC_STREAM_WORDS_IPP
#define POLAR_DETAIL_CODEC_STREAM_WORDS_IPP

// Bytes read as machine words, for the streaming decoder's keys (keys.ipp)
// and date-times (server_time.ipp): a token's bytes loaded at any alignment,
// and constant text as the little-endian word it loads as. Callers compare
// the two only on little-endian machines.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

template <class U>
[[gnu::always_inline]] inline U load(const char* p) noexcept {
    U x;
    std::memcpy(&x, p, sizeof x);
    return x;
}

// The `n` bytes of `s` from `at` as a little-endian word (the rest zero).
constexpr std::uint64_t le_bytes(std::string_view s, std::size_t at, std::size_t n) noexcept {
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < n; ++i) w |= std::uint64_t(static_cast<unsigned char>(s[at + i])) << (8 * i);
    return w;
}

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
