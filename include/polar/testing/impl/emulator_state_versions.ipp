//
// polar-cpp testing: the version middleware (MeterAPI-2026-10.md §1.1, §5.5,
// §6), shared by emulator_state::handle and the HTTP server, which applies it
// before the scripted faults (a 429 fault stands for the rate limiter, which
// runs inside the version middleware).
//
// The emulator serves three contracts, chosen per request by `Polar-Version`:
//   2025-03  the seed-era ("events era") contract of MeterAPI.md, exactly as
//            the emulator always served it;
//   2026-04, 2026-10  the dated contract of MeterAPI-2026-10.md (identical).
// A header that is absent or empty selects the default version. Any other
// value that is not one of the three (malformed, unknown, removed) gets
// 404 {"detail":"Not Found"} without a Polar-Version header, for any path and
// method, before anything else. Every other response under a resolved version
// carries `Polar-Version: <version>`.
//
// 2025-03 and the header: the real server of March 2025 did not know the
// header at all. The emulator echoes it anyway when a request asks for
// 2025-03 explicitly (uniformity: a client that pins a version always sees
// it answered), but a request without the header served by a 2025-03 default
// gets no Polar-Version header, so that the seed-era wire is byte for byte
// what it always was.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_VERSIONS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_VERSIONS_IPP

#include <polar/testing/emulator_state.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace polar::testing::emu {

// What a handler branches on: the seed-era contract or the dated one
// (2026-04 and 2026-10 are the same contract, §0 of the 2026-10 spec).
enum class api_contract { v2025_03, dated };

inline constexpr std::string_view version_header_name = "Polar-Version";

// The canonical spelling of a supported version (a literal that outlives
// every request), or empty.
inline std::optional<std::string_view> canonical_api_version(std::string_view v) noexcept {
    for (std::string_view s : supported_api_versions)
        if (s == v) return s;
    return std::nullopt;
}

inline api_contract contract_of(std::string_view version) noexcept {
    return version == api_version_2025_03 ? api_contract::v2025_03 : api_contract::dated;
}

struct version_resolution {
    bool ok = false;                 // false: answer the version 404
    std::string_view version;        // the resolved version (a literal)
    api_contract contract = api_contract::dated;
    bool echo = false;               // send Polar-Version on the response
};

// `header`: the request's Polar-Version value (empty optional: no header).
// `default_version`: a supported version.
inline version_resolution resolve_api_version(std::optional<std::string_view> header,
                                              std::string_view default_version) noexcept {
    version_resolution r;
    const bool given = header && !header->empty();
    // The server first checks the format (^\d{4}-\d{2}$, full match), then
    // membership; both failures give the same 404, so one lookup suffices.
    std::optional<std::string_view> v = canonical_api_version(given ? *header : default_version);
    if (!v) return r;
    r.ok = true;
    r.version = *v;
    r.contract = contract_of(*v);
    r.echo = given || r.contract != api_contract::v2025_03;
    return r;
}

// The unknown-version answer: the same body as a route 404, no version header.
inline emulator_response version_not_found() {
    emulator_response r;
    r.status = 404;
    r.body = R"({"detail":"Not Found"})";
    return r;
}

inline constexpr std::uint64_t dated_max_body = 10485760;  // 10 MiB

inline bool method_has_body(std::string_view m) noexcept { return m == "POST" || m == "PUT" || m == "PATCH"; }

// The body-size middleware of the dated contract (411 / 413), which runs
// right after the version middleware, before rate limiting and auth.
inline std::optional<emulator_response> body_size_check(const emulator_request& req, api_contract c) {
    if (c != api_contract::dated || !method_has_body(req.method)) return std::nullopt;
    emulator_response r;
    if (req.content_length_missing) {
        r.status = 411;
        r.body = R"({"error":"LengthRequired","detail":"A Content-Length header is required."})";
        return r;
    }
    const std::uint64_t declared = req.content_length ? *req.content_length : req.body.size();
    if (declared > dated_max_body) {
        r.status = 413;
        r.body = R"({"error":"RequestBodyTooLarge","detail":"Request body exceeded the maximum allowed size of 10485760 bytes."})";
        return r;
    }
    return std::nullopt;
}

inline bool has_header(const emulator_response& r, std::string_view name) noexcept {
    for (const auto& kv : r.headers) {
        if (kv.first.size() != name.size()) continue;
        bool eq = true;
        for (std::size_t i = 0; eq && i < name.size(); ++i) {
            char a = kv.first[i], b = name[i];
            if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
            eq = a == b;
        }
        if (eq) return true;
    }
    return false;
}

// Adds the echo header (unless the response already names one).
inline void stamp_version(emulator_response& r, const version_resolution& v) {
    if (v.ok && v.echo && !has_header(r, version_header_name))
        r.headers.emplace_back(std::string(version_header_name), std::string(v.version));
}

} // namespace polar::testing::emu

#endif
