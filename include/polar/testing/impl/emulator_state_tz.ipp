//
// polar-cpp testing: IANA time zones for the dated quantities' `timezone`
// (MeterAPI-2026-10.md §3.6, §5.3). libstdc++ 12 has no std::chrono time
// zone database, so the emulator reads the TZif files of the system's
// zoneinfo directory (Debian package `tzdata`, /usr/share/zoneinfo).
//
// Limits, chosen and documented here:
// - Only the transitions listed in the file are used; after the last one the
//   last offset stays. Debian's "fat" files list transitions up to 2037, so
//   this matters only for later dates (or "slim" files, whose POSIX footer
//   rule is not evaluated).
// - Without a zoneinfo directory the emulator cannot tell valid names from
//   invalid ones: it then accepts every name made of the characters IANA
//   names use (plus "UTC") and buckets in UTC.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_TZ_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_TZ_IPP

#include <polar/testing/impl/emulator_state_datetime.ipp>

#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <sys/stat.h>

namespace polar::testing::emu {

struct tz_zone {
    std::vector<std::int64_t> transitions;  // UTC seconds, ascending
    std::vector<std::int32_t> offsets;      // the offset from each transition on
    std::int32_t initial_offset = 0;        // before the first transition

    std::int64_t offset_at(micros utc) const {
        const std::int64_t secs = floor_div(utc, us_per_second);
        auto it = std::upper_bound(transitions.begin(), transitions.end(), secs);
        if (it == transitions.begin()) return initial_offset;
        return offsets[static_cast<std::size_t>(it - transitions.begin() - 1)];
    }
    // A local wall time back to UTC (PostgreSQL-like: a time in a gap moves
    // forward by the gap, an ambiguous time takes the earlier offset's
    // reading after one refinement).
    micros to_utc(micros local) const {
        const micros guess = local - offset_at(local) * us_per_second;
        return local - offset_at(guess) * us_per_second;
    }
    micros to_local(micros utc) const { return utc + offset_at(utc) * us_per_second; }
};

inline constexpr const char* zoneinfo_dir = "/usr/share/zoneinfo";

inline bool zoneinfo_available() {
    struct stat sb {};
    return ::stat(zoneinfo_dir, &sb) == 0 && S_ISDIR(sb.st_mode);
}

inline std::int64_t be_int(const unsigned char* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
}

// Parses a TZif file (RFC 8536), preferring the 64-bit (version 2+) block.
inline std::optional<tz_zone> parse_tzif(const std::string& data) {
    auto header = [&](std::size_t at, std::int64_t counts[6]) {
        if (data.size() < at + 44 || data.compare(at, 4, "TZif") != 0) return false;
        const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at + 20);
        for (int i = 0; i < 6; ++i) counts[i] = be_int(p + 4 * i, 4);
        return true;
    };
    std::int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    if (!header(0, c)) return std::nullopt;
    std::size_t at = 44;
    int tsize = 4;
    const char version = data[4];
    auto block_size = [&](int ts) {
        return static_cast<std::size_t>(c[3] * ts + c[3] + c[4] * 6 + c[5] + c[2] * (ts + 4) + c[1] + c[0]);
    };
    if (version >= '2') {
        const std::size_t next = at + block_size(4);
        if (!header(next, c)) return std::nullopt;
        at = next + 44;
        tsize = 8;
    }
    if (data.size() < at + block_size(tsize) || c[4] < 1) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + at);
    tz_zone z;
    std::vector<std::uint8_t> idx(static_cast<std::size_t>(c[3]));
    for (std::int64_t i = 0; i < c[3]; ++i) z.transitions.push_back(be_int(p + i * tsize, tsize));
    p += c[3] * tsize;
    for (std::int64_t i = 0; i < c[3]; ++i) idx[static_cast<std::size_t>(i)] = p[i];
    p += c[3];
    std::vector<std::int32_t> type_off(static_cast<std::size_t>(c[4]));
    for (std::int64_t i = 0; i < c[4]; ++i) type_off[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(be_int(p + i * 6, 4));
    for (auto i : idx) {
        if (i >= type_off.size()) return std::nullopt;
        z.offsets.push_back(type_off[i]);
    }
    z.initial_offset = type_off[0];
    return z;
}

// Characters of IANA zone names ("America/Argentina/Buenos_Aires",
// "Etc/GMT+5"); no "..", no leading "/".
inline bool plausible_zone_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') return false;
    if (name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) return false;
    for (char ch : name)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '/' && ch != '_' && ch != '-' && ch != '+')
            return false;
    return true;
}

// The zone named `name`, or nothing when the name is not a zone (422).
// Files are read once per process and kept; only zones that exist are kept,
// so the cache is bounded by the zone files however many names requests try.
inline std::optional<std::shared_ptr<const tz_zone>> find_zone(std::string_view name) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const tz_zone>, std::less<>> cache;
    if (name == "UTC") return std::make_shared<const tz_zone>();
    if (!plausible_zone_name(name)) return std::nullopt;
    // zoneinfo.available_timezones() leaves these out.
    if (name == "posixrules" || name == "localtime" || name == "Factory" || name.substr(0, 6) == "posix/" ||
        name.substr(0, 6) == "right/")
        return std::nullopt;
    std::lock_guard lock(mutex);
    if (auto it = cache.find(name); it != cache.end()) return it->second;
    if (!zoneinfo_available()) return std::make_shared<const tz_zone>(); // accepted, bucketed in UTC
    std::shared_ptr<const tz_zone> zone;
    std::ifstream in(std::string(zoneinfo_dir) + "/" + std::string(name), std::ios::binary);
    if (in) {
        std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (auto z = parse_tzif(data)) zone = std::make_shared<const tz_zone>(std::move(*z));
    }
    if (!zone) return std::nullopt;
    cache.emplace(std::string(name), zone);
    return zone;
}

// date_trunc(unit, t) in the zone (weeks start on Monday).
inline micros date_trunc_tz(const tz_zone& z, time_interval unit, micros t) {
    return z.to_utc(date_trunc(unit, z.to_local(t)));
}

// t + '1 <unit>' in the zone: an hour is absolute, the other steps are
// calendar steps of the local wall time (a day across DST keeps midnight).
inline micros add_interval_tz(const tz_zone& z, time_interval unit, micros t) {
    if (unit == time_interval::hour) return t + 3600 * us_per_second;
    return z.to_utc(add_interval(unit, z.to_local(t)));
}

} // namespace polar::testing::emu

#endif
