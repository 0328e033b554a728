#ifndef POLAR_DETAIL_CODEC_STREAM_KEYS_IPP
#define POLAR_DETAIL_CODEC_STREAM_KEYS_IPP

// The streaming decoder's kinds of frames and the keys of each: a table per
// kind with a perfect hash, and the words the key expected next is compared
// with (see decoder::on_key in fields_list.ipp).

#include <polar/detail/codec/stream/words.ipp>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

// What a frame fills.
enum class fk : std::uint8_t {
    root, meter, meter_create, meter_update, filter, clauses, clause_item, aggregation, metadata,
    address, tax_id, customer, llm, cost, event, event_meta, event_create, create_meta,
    events_ingest, events_arr, ingest_response, quantities, quantity_arr, quantity, pagination,
    page, items, customer_meter, count_
};

constexpr std::uint8_t no_field = 0xff;
constexpr std::uint8_t dynamic_field = 0xfe; // the key is in decoder::key_

// Key tables: the required keys first, in the order the DOM reader checked them.
using sv_t = std::string_view;
inline constexpr sv_t k_meter[] = {"id", "created_at", "metadata", "name", "filter", "aggregation", "organization_id",
                                   "modified_at", "unit", "custom_label", "custom_multiplier", "archived_at"};
inline constexpr sv_t k_meter_create[] = {"name", "filter", "aggregation", "metadata", "organization_id", "unit",
                                          "custom_label", "custom_multiplier"};
inline constexpr sv_t k_meter_update[] = {"name", "filter", "aggregation", "metadata", "unit", "custom_label",
                                          "custom_multiplier", "is_archived"};
inline constexpr sv_t k_filter[] = {"conjunction", "clauses"};
inline constexpr sv_t k_clause[] = {"property", "operator", "value", "conjunction", "clauses"};
inline constexpr sv_t k_aggregation[] = {"func", "property"};
inline constexpr sv_t k_address[] = {"country", "line1", "line2", "postal_code", "city", "state"};
inline constexpr sv_t k_customer[] = {"id", "created_at", "metadata", "email_verified", "organization_id",
                                      "avatar_url", "modified_at", "external_id", "email", "name",
                                      "billing_address", "tax_id", "deleted_at", "type", "billing_name",
                                      "locale", "default_payment_method_id", "first_user_event_at"};
inline constexpr sv_t k_llm[] = {"vendor", "model", "input_tokens", "output_tokens", "total_tokens",
                                 "prompt", "response", "cached_input_tokens"};
inline constexpr sv_t k_cost[] = {"amount", "currency"};
inline constexpr sv_t k_event[] = {"id", "timestamp", "name", "source", "organization_id", "metadata",
                                   "customer_id", "external_customer_id", "customer", "label", "child_count",
                                   "parent_id", "member_id", "external_member_id"};
inline constexpr sv_t k_event_create[] = {"name", "customer_id", "external_customer_id", "timestamp", "metadata",
                                          "organization_id", "external_id", "parent_id", "member_id",
                                          "external_member_id"};
inline constexpr sv_t k_events_ingest[] = {"events"};
inline constexpr sv_t k_ingest_response[] = {"inserted", "duplicates"};
inline constexpr sv_t k_quantities[] = {"quantities", "total"};
inline constexpr sv_t k_quantity[] = {"timestamp", "quantity"};
inline constexpr sv_t k_pagination[] = {"total_count", "max_page"};
inline constexpr sv_t k_page[] = {"items", "pagination"};
inline constexpr sv_t k_customer_meter[] = {"id", "created_at", "customer_id", "meter_id", "consumed_units",
                                            "credited_units", "balance", "customer", "meter", "modified_at"};

// Keys are found with a perfect hash made at compile time for each table:
// the length and four bytes pick a slot, one comparison confirms.
constexpr std::size_t hash_slots = 64;
constexpr std::size_t max_keys = 18;

// A key's bytes in one or two words, so that the key expected next is
// compared with the token in registers, without reading the table's
// strings: the first and last 8 bytes (up to 16 bytes, the whole key), the
// first and last 4 (4 to 7 bytes), the first, middle and last byte (1 to 3).
// Words are little-endian; on a big-endian machine the expected key is
// compared byte by byte instead.
struct key_word {
    std::uint64_t head = 0;
    std::uint64_t tail = 0;
    std::size_t size = 0;
};

constexpr key_word word_of(std::string_view k) noexcept {
    const std::size_t n = k.size();
    if (n >= 8) return {le_bytes(k, 0, 8), le_bytes(k, n - 8, 8), n};
    if (n >= 4) return {le_bytes(k, 0, 4) | le_bytes(k, n - 4, 4) << 32, 0, n};
    if (n >= 1) return {le_bytes(k, 0, 1) | le_bytes(k, n / 2, 1) << 8 | le_bytes(k, n - 1, 1) << 16, 0, n};
    return {};
}

constexpr unsigned key_hash(std::string_view k, unsigned seed) noexcept {
    unsigned h = static_cast<unsigned>(k.size()) * seed;
    if (!k.empty()) {
        h ^= static_cast<unsigned char>(k[0]) * 0x9e37u;
        h += static_cast<unsigned char>(k[k.size() - 1]) * (seed | 1u);
        h ^= static_cast<unsigned char>(k[k.size() / 2]) * 31u;
        h += static_cast<unsigned char>(k[k.size() > 1]) * 0x2b1u;
    }
    return (h ^ (h >> 7) ^ (h >> 13)) & (hash_slots - 1);
}

struct key_table {
    const sv_t* names = nullptr;
    std::uint8_t size = 0;
    std::uint8_t required = 0; // names[0..required) are required (generic check at the end)
    bool dynamic = false;      // keys are data (metadata maps)
    bool array = false;        // the frame is an array
    unsigned seed = 0;
    std::uint8_t slot[hash_slots] = {};
    key_word words[max_keys] = {};
};

template <std::size_t N>
constexpr key_table table(const sv_t (&names)[N], std::uint8_t required) {
    static_assert(N <= max_keys);
    for (unsigned seed = 1; seed < 100000; ++seed) {
        key_table t{names, static_cast<std::uint8_t>(N), required, false, false, seed, {}, {}};
        for (std::size_t i = 0; i < N; ++i) t.words[i] = word_of(names[i]);
        for (auto& x : t.slot) x = 0xff;
        bool ok = true;
        for (std::size_t i = 0; i < N && ok; ++i) {
            const unsigned h = key_hash(names[i], seed);
            if (t.slot[h] != 0xff) ok = false;
            else t.slot[h] = static_cast<std::uint8_t>(i);
        }
        if (ok) return t;
    }
    throw "no perfect hash for this key table"; // a compile-time error
}

constexpr key_table no_keys(bool dynamic, bool array) {
    key_table t{};
    for (auto& x : t.slot) x = 0xff;
    t.dynamic = dynamic;
    t.array = array;
    return t;
}

inline constexpr key_table tables[] = {
    /* root */ no_keys(false, true),
    /* meter */ table(k_meter, 7),
    /* meter_create */ table(k_meter_create, 3),
    /* meter_update */ table(k_meter_update, 0),
    /* filter */ table(k_filter, 2),
    /* clauses */ no_keys(false, true),
    /* clause_item */ table(k_clause, 3),
    /* aggregation */ table(k_aggregation, 0),
    /* metadata */ no_keys(true, false),
    /* address */ table(k_address, 1),
    /* tax_id */ no_keys(false, true),
    /* customer */ table(k_customer, 6),
    /* llm */ table(k_llm, 5),
    /* cost */ table(k_cost, 2),
    /* event */ table(k_event, 6),
    /* event_meta */ no_keys(true, false),
    /* event_create */ table(k_event_create, 1),
    /* create_meta */ no_keys(true, false),
    /* events_ingest */ table(k_events_ingest, 1),
    /* events_arr */ no_keys(false, true),
    /* ingest_response */ table(k_ingest_response, 1),
    /* quantities */ table(k_quantities, 0),
    /* quantity_arr */ no_keys(false, true),
    /* quantity */ table(k_quantity, 2),
    /* pagination */ table(k_pagination, 2),
    /* page */ table(k_page, 2),
    /* items */ no_keys(false, true),
    /* customer_meter */ table(k_customer_meter, 9),
};
static_assert(std::size(tables) == static_cast<std::size_t>(fk::count_));
static_assert(max_keys <= 32, "frame::seen has a bit per key");

// Equal bytes, in words that may overlap (keys are short; a call to memcmp
// costs more than the comparison).
template <class U>
[[gnu::always_inline]] inline bool same_word(const char* a, const char* b) noexcept {
    return load<U>(a) == load<U>(b);
}
[[gnu::always_inline]] inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8)
            if (!same_word<std::uint64_t>(a + i, b + i)) return false;
        return same_word<std::uint64_t>(a + n - 8, b + n - 8);
    }
    if (n >= 4) return same_word<std::uint32_t>(a, b) && same_word<std::uint32_t>(a + n - 4, b + n - 4);
    if (n == 0) return true;
    return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
}
[[gnu::always_inline]] inline bool same_key(sv_t name, std::string_view k) noexcept {
    return name.size() == k.size() && same_bytes(name.data(), k.data(), k.size());
}

// True when `k` is names[id] (see key_word).
[[gnu::always_inline]] inline bool is_key(const key_table& t, std::uint8_t id, std::string_view k) noexcept {
    if constexpr (std::endian::native != std::endian::little) return same_key(t.names[id], k);
    const key_word& w = t.words[id];
    const std::size_t n = k.size();
    if (n != w.size) return false;
    const char* p = k.data();
    if (n >= 8) {
        if (load<std::uint64_t>(p) != w.head || load<std::uint64_t>(p + n - 8) != w.tail) return false;
        return n <= 16 || same_bytes(p + 8, t.names[id].data() + 8, n - 16);
    }
    if (n >= 4) return (load<std::uint32_t>(p) | std::uint64_t(load<std::uint32_t>(p + n - 4)) << 32) == w.head;
    if (n == 0) return true;
    const auto byte = [](char c) { return std::uint64_t(static_cast<unsigned char>(c)); };
    return (byte(p[0]) | byte(p[n / 2]) << 8 | byte(p[n - 1]) << 16) == w.head;
}

inline std::uint8_t find_key(const key_table& t, std::string_view k) noexcept {
    const std::uint8_t id = t.slot[key_hash(k, t.seed)];
    if (id == 0xff) return no_field;
    return same_key(t.names[id], k) ? id : no_field;
}

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
