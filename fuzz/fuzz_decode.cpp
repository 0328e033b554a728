// Decodes arbitrary bytes as every type the client or a server decodes. The
// first byte picks the type, the rest is the body. Whatever decodes must
// encode to JSON that decodes again to the same encoding (a fixed point).
#include "fuzz_check.hpp"

#include <polar/detail/json_codec.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using polar::detail::decode;
using polar::detail::encode;

template <class T>
void round_trip(std::string_view body) {
    T v{};
    std::string what;
    const auto ec = decode(body, v, what);
    if (ec) {
        POLAR_FUZZ_CHECK(!what.empty(), "a failed decode says why");
        return;
    }
    POLAR_FUZZ_CHECK(what.empty(), "a successful decode leaves `what` empty: %s", what.c_str());
    const std::string once = encode(v);
    T again{};
    const auto ec2 = decode(once, again, what);
    POLAR_FUZZ_CHECK(!ec2, "re-decoding our own encoding failed: %s\n  input: %.*s\n  encoded: %s", what.c_str(),
                     static_cast<int>(body.size()), body.data(), once.c_str());
    const std::string twice = encode(again);
    POLAR_FUZZ_CHECK(once == twice, "encoding is not a fixed point\n  first:  %s\n  second: %s", once.c_str(),
                     twice.c_str());
}

// Request bodies have encoders too, but their decoders are for servers.
template <class T>
void decode_only(std::string_view body) {
    T v{};
    std::string what;
    if (decode(body, v, what)) return;
    (void)encode(v);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view body = polar_fuzz::as_text(data + 1, size - 1);
    switch (data[0] % 16) {
    case 0: round_trip<polar::meter>(body); break;
    case 1: round_trip<polar::page<polar::meter>>(body); break;
    case 2: round_trip<polar::page<polar::event>>(body); break;
    case 3: round_trip<polar::meter_quantities>(body); break;
    case 4: round_trip<polar::events_ingest_response>(body); break;
    case 5: round_trip<polar::event>(body); break;
    case 6: round_trip<polar::customer>(body); break;
    case 7: round_trip<polar::address>(body); break;
    case 8: round_trip<polar::filter>(body); break;
    case 9: round_trip<polar::aggregation>(body); break;
    case 10: round_trip<polar::pagination>(body); break;
    case 11: decode_only<polar::meter_create>(body); break;
    case 12: decode_only<polar::meter_update>(body); break;
    case 13: decode_only<polar::event_create>(body); break;
    case 14: decode_only<polar::events_ingest>(body); break;
    default: {
        polar::diagnostics d;
        polar::detail::decode_error_body(body, d);
        for (const auto& v : d.validation_errors) (void)v.path();
        (void)d.summary();
        break;
    }
    }
    return 0;
}
