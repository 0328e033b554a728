//
// polar-cpp: the API version a client speaks (`Polar-Version`).
//
#ifndef POLAR_API_VERSION_HPP
#define POLAR_API_VERSION_HPP

#include <cstddef>
#include <optional>
#include <string_view>

namespace polar {

/**
 * @brief A version of the Polar API: what a request's `Polar-Version` header
 * says, or the seed-era contract that predates the header.
 *
 * @details Polar dates its API: a request sends `Polar-Version: YYYY-MM` and
 * is answered in that version's contract; the response echoes the version.
 * The named versions:
 * - `v2026_10`: the current version (the default of `client_options`);
 * - `v2026_04`: the previous one, the same contract for meters, events and
 *   customer meters; Polar removes it in January 2027, after which requests
 *   that name it fail with `errc::unsupported_api_version`;
 * - `v2025_03`: the March 2025 contract this SDK was first built on, from
 *   before versioning. Requests of this version send no `Polar-Version`
 *   header at all, exactly as before. Against today's Polar the server then
 *   answers in its default version; use it only with a server (or emulator)
 *   that serves the old contract.
 *
 * Any other `YYYY-MM` (month 01-12) can be named with the constructor, for a
 * version newer than this SDK: the SDK then speaks the dated contract it
 * knows (that of 2026-10) and sends the header as given. `"2025-03"` names
 * `v2025_03` (no header is sent).
 *
 * The SDK's calls are the same in every version; where an endpoint moved,
 * the SDK picks the one of the version (README, "API versions").
 *
 * A trivially copyable value type: safe inline in `co_await` expressions
 * and in `request_options`.
 */
class api_version {
public:
    /// The March 2025 contract (no `Polar-Version` header is sent).
    static const api_version v2025_03;
    /// Version 2026-04 (removed by Polar in January 2027).
    static const api_version v2026_04;
    /// Version 2026-10, the current one and the default.
    static const api_version v2026_10;

    /// The default: `v2026_10`.
    constexpr api_version() noexcept : api_version("2026-10") {}

    /**
     * @brief A version from its `YYYY-MM` text.
     *
     * @details Never throws; a malformed text gives a value whose valid() is
     * false, which the `client` constructor (for `client_options`) and every
     * operation (for `request_options`) reject with `errc::invalid_argument`.
     * Use parse() to check a text yourself.
     */
    explicit constexpr api_version(std::string_view yyyy_mm) noexcept {
        valid_ = is_well_formed(yyyy_mm);
        if (!valid_) return;
        for (std::size_t i = 0; i < 7; ++i) text_[i] = yyyy_mm[i];
    }

    /// The version named by `yyyy_mm`, or empty when it is not `YYYY-MM`.
    static constexpr std::optional<api_version> parse(std::string_view yyyy_mm) noexcept {
        if (!is_well_formed(yyyy_mm)) return std::nullopt;
        return api_version(yyyy_mm);
    }

    /// Whether the text was `YYYY-MM` with a month from 01 to 12.
    constexpr bool valid() const noexcept { return valid_; }

    /// `"2026-10"`, `"2025-03"`, ... (empty for an invalid value).
    constexpr std::string_view str() const noexcept { return valid_ ? std::string_view(text_, 7) : std::string_view(); }

    /// True for every valid version but `v2025_03`: the dated contract, whose
    /// requests carry `Polar-Version: str()`.
    constexpr bool is_dated() const noexcept { return valid_ && str() != "2025-03"; }

    friend constexpr bool operator==(const api_version& a, const api_version& b) noexcept {
        return a.valid_ == b.valid_ && a.str() == b.str();
    }

private:
    static constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
    static constexpr bool is_well_formed(std::string_view s) noexcept {
        if (s.size() != 7 || s[4] != '-') return false;
        for (std::size_t i : {0, 1, 2, 3, 5, 6})
            if (!is_digit(s[i])) return false;
        const int month = (s[5] - '0') * 10 + (s[6] - '0');
        return month >= 1 && month <= 12;
    }

    char text_[7] = {};
    bool valid_ = false;
};

inline constexpr api_version api_version::v2025_03{"2025-03"};
inline constexpr api_version api_version::v2026_04{"2026-04"};
inline constexpr api_version api_version::v2026_10{"2026-10"};

} // namespace polar

#endif
