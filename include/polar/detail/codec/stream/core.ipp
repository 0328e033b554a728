#ifndef POLAR_DETAIL_CODEC_STREAM_CORE_IPP
#define POLAR_DETAIL_CODEC_STREAM_CORE_IPP

// The streaming decoder's state: a stack of frames, one per open JSON
// container, each knowing which model it fills (its kind), which field the
// next value goes to (the key seen last, matched against the kind's key
// table without allocating) and which required fields were seen. Values
// arrive as `val` (a scalar, or the start of an object or array) and are
// dispatched on the top frame's kind (fields_*.ipp); a container nobody
// wants is skipped by counting its depth.
//
// Errors mirror the DOM reader's: "path: message", the path built from the
// frames only when something fails. A failure does not stop the parser:
// invalid JSON later in the body must still win, as it did when the whole
// document was parsed first. Where the DOM reader checked a value after
// later keys (event metadata, the size of a tax id, quantities, an ingest
// response's duplicates, a filter clause that may turn out to be a nested
// filter) the error is kept in a slot and raised when the object ends.
// Date-times in the server's form are read by server_time.ipp.

#include <polar/detail/codec/decode_common.ipp>
#include <polar/detail/codec/stream/server_time.ipp>

#include <boost/json/basic_parser.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Slots for errors raised late (see the top comment).
enum slot : std::uint8_t { no_slot, clause_slot, event_user_slot, event_any_slot, quantities_slot, tax_slot, dup_slot, slot_count };

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
};

template <std::size_t N>
constexpr key_table table(const sv_t (&names)[N], std::uint8_t required) {
    for (unsigned seed = 1; seed < 100000; ++seed) {
        key_table t{names, static_cast<std::uint8_t>(N), required, false, false, seed, {}};
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

// Equal bytes, in words that may overlap (keys are short; a call to memcmp
// costs more than the comparison).
template <class U>
inline bool same_word(const char* a, const char* b) noexcept {
    U x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    return x == y;
}
inline bool same_bytes(const char* a, const char* b, std::size_t n) noexcept {
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8)
            if (!same_word<std::uint64_t>(a + i, b + i)) return false;
        return same_word<std::uint64_t>(a + n - 8, b + n - 8);
    }
    if (n >= 4) return same_word<std::uint32_t>(a, b) && same_word<std::uint32_t>(a + n - 4, b + n - 4);
    if (n == 0) return true;
    return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
}
inline bool same_key(sv_t name, std::string_view k) noexcept {
    return name.size() == k.size() && same_bytes(name.data(), k.data(), k.size());
}

inline std::uint8_t find_key(const key_table& t, std::string_view k) noexcept {
    const std::uint8_t id = t.slot[key_hash(k, t.seed)];
    if (id == 0xff) return no_field;
    return same_key(t.names[id], k) ? id : no_field;
}

// One JSON value as the handler sees it: a scalar, or the start of a container.
enum class vk : std::uint8_t { null, boolean, int64, uint64, dbl, string, object, array };

struct val {
    explicit val(vk k) noexcept : kind(k) {}
    vk kind;
    bool b = false;
    std::int64_t i = 0;
    std::uint64_t u = 0;
    double d = 0;
    std::string_view s; // string contents
};

inline const char* kind_name(const val& v) noexcept {
    switch (v.kind) {
    case vk::null: return "null";
    case vk::boolean: return "boolean";
    case vk::int64:
    case vk::uint64:
    case vk::dbl: return "number";
    case vk::string: return "string";
    case vk::array: return "array";
    case vk::object: return "object";
    }
    return "value";
}
inline const char* kind_name(vk k) noexcept { return kind_name(val(k)); }

// Trivial, so that the decoder's array of frames costs nothing to create;
// push() sets every member.
struct frame {
    const key_table* table;
    fk kind;
    std::uint8_t field;   // current key (objects)
    std::uint8_t catches; // errors at or above this frame go to this slot
    std::uint8_t flag;    // per kind: email kind, structured metadata, ...
    std::uint32_t seen;   // required keys seen (bit i: names[i])
    std::uint32_t aux;    // per kind: filter depth, item kind, model kind
    std::size_t index;    // arrays: the current element
    std::size_t count;    // arrays: elements so far
    void* target;
};

class decoder {
public:
    static constexpr std::size_t max_frames = max_json_depth + 2;

    // -- setup --------------------------------------------------------------
    void start(fk model, void* target) {
        depth_ = 0;
        skip_ = 0;
        failed_ = false;
        pushed_ = false;
        what_.clear();
        for (auto& s : slots_) s.clear();
        raw_events_.clear();
        item_pending_ = 0;
        first_placed_ = last_placed_ = {};
        items_started_ = 0;
        key_parts_ = str_parts_ = false;
        body_size_ = 0;
        std::memset(next_key_, 0xff, sizeof next_key_);
        num_.clear();
        frame& r = push(fk::root, target);
        r.aux = static_cast<std::uint32_t>(model);
    }

    bool failed() const noexcept { return failed_; }
    std::string& what() noexcept { return what_; }
    // Events whose raw text is wanted: the index of each in the page's items
    // (-1 for a root event), filled once the document is complete.
    const std::vector<std::ptrdiff_t>& raw_events() const noexcept { return raw_events_; }
    void* root_target() const noexcept { return frames_[0].target; }
    // The size of the whole body when known (0 otherwise): pages reserve
    // their items from it instead of growing (and moving) them.
    std::size_t body_size_ = 0;

    // -- frames ---------------------------------------------------------------
    frame& top() noexcept { return frames_[depth_ - 1]; }
    frame& below_top() noexcept { return frames_[depth_ - 2]; }
    std::size_t depth() const noexcept { return depth_; }

    frame& push(fk kind, void* target) {
        // The parser's max_depth (max_json_depth) bounds the nesting first.
        frame& f = frames_[depth_++];
        f.table = &tables[static_cast<std::size_t>(kind)];
        f.kind = kind;
        f.field = no_field;
        f.catches = no_slot;
        f.flag = 0;
        f.seen = 0;
        f.aux = 0;
        f.index = 0;
        f.count = 0;
        f.target = target;
        pushed_ = true;
        return f;
    }
    void pop() noexcept { --depth_; }

    // -- failure --------------------------------------------------------------
    // The path to the current value (`value`: the top frame's current key or
    // element is part of it) or to the top object itself.
    POLAR_COLD std::string path(bool value, std::string_view extra_key = {}) const {
        std::string out;
        for (std::size_t i = 1; i < depth_; ++i) {
            const frame& f = frames_[i];
            if (i + 1 == depth_ && !value) break;
            const key_table& t = *f.table;
            if (t.array) {
                out += '[';
                out += std::to_string(f.index);
                out += ']';
            } else if (f.field == dynamic_field) {
                if (!out.empty()) out += '.';
                out += key_;
            } else if (f.field != no_field) {
                if (!out.empty()) out += '.';
                out += t.names[f.field];
            }
        }
        if (!extra_key.empty()) {
            if (!out.empty()) out += '.';
            out += extra_key;
        }
        return out;
    }
    POLAR_COLD static std::string join(std::string path, std::string_view message) {
        if (!path.empty()) path += ": ";
        path += message;
        return path;
    }

    // Raises an error with its path already in `full`: into the innermost
    // catching frame's slot (then the frames above it are skipped), into the
    // soft slot, or for the whole document.
    POLAR_COLD void raise(std::string full) {
        if (soft_) {
            if (soft_->empty()) *soft_ = std::move(full);
            return;
        }
        for (std::size_t i = depth_; i-- > 0;) {
            if (frames_[i].catches == no_slot) continue;
            std::string& s = slots_[frames_[i].catches];
            if (s.empty()) s = std::move(full);
            while (depth_ > i + 1) { // their containers are still open
                pop();
                ++skip_;
            }
            return;
        }
        failed_ = true;
        what_ = std::move(full);
        skip_ = skip_failed; // ignore the rest of the document
    }
    POLAR_COLD void fail(std::string_view message) { raise(join(path(true), message)); }
    POLAR_COLD void fail_end(std::string_view message, std::string_view key = {}) {
        raise(join(path(false, key), message));
    }
    POLAR_COLD void missing(std::string_view key) { fail_end("missing required field", key); }
    POLAR_COLD void type_error(const char* expected, const val& v) {
        std::string m = "expected ";
        m += expected;
        m += ", got ";
        m += kind_name(v);
        fail(m);
    }
    POLAR_COLD void not_finite() { fail("number out of range (beyond the range of a double)"); }
    // The error kept in a slot, for the whole document (or an outer catcher).
    POLAR_COLD void raise_slot(slot s) {
        std::string m = std::move(slots_[s]);
        slots_[s].clear();
        raise(std::move(m));
    }
    std::string& slot_text(slot s) noexcept { return slots_[s]; }

    // Runs `fn` with errors going to slot `s` (the first one kept).
    template <class Fn>
    void soft(slot s, Fn&& fn) {
        soft_ = &slots_[s];
        fn();
        soft_ = nullptr;
    }

    // Checks the generic required keys of the top frame.
    bool check_required(const frame& f) {
        const key_table& t = *f.table;
        const std::uint32_t all = (1u << t.required) - 1;
        if ((f.seen & all) == all) return true;
        for (std::uint8_t i = 0; i < t.required; ++i)
            if (!(f.seen & (1u << i))) {
                missing(t.names[i]);
                break;
            }
        return false;
    }

    // -- conversions (the DOM reader's rules and messages) -----------------------
    bool str(const val& v, std::string& out) {
        if (v.kind != vk::string) return type_error("string", v), false;
        out.assign(v.s.data(), v.s.size());
        return true;
    }
    bool opt_str(const val& v, std::optional<std::string>& out) {
        if (v.kind == vk::null) {
            out.reset();
            return true;
        }
        if (v.kind != vk::string) return type_error("string or null", v), false;
        if (out) out->assign(v.s.data(), v.s.size());
        else out.emplace(v.s.data(), v.s.size());
        return true;
    }
    bool i64(const val& v, std::int64_t& out) {
        switch (v.kind) {
        case vk::int64: out = v.i; return true;
        case vk::uint64: return fail("integer out of range (exceeds int64)"), false;
        case vk::dbl:
            return fail("expected integer, got non-integral number (or an integer out of the int64 range)"), false;
        default: return type_error("integer", v), false;
        }
    }
    bool opt_i64(const val& v, std::optional<std::int64_t>& out) {
        if (v.kind == vk::null) {
            out.reset();
            return true;
        }
        if (v.kind != vk::int64 && v.kind != vk::uint64 && v.kind != vk::dbl)
            return type_error("integer or null", v), false;
        return i64(v, out.emplace());
    }
    bool number(const val& v, double& out) {
        switch (v.kind) {
        case vk::int64: out = static_cast<double>(v.i); return true;
        case vk::uint64: out = static_cast<double>(v.u); return true;
        case vk::dbl:
            if (!std::isfinite(v.d)) return not_finite(), false;
            out = v.d;
            return true;
        default: return type_error("number", v), false;
        }
    }
    bool boolean(const val& v, bool& out) {
        if (v.kind != vk::boolean) return type_error("boolean", v), false;
        out = v.b;
        return true;
    }
    bool time(const val& v, timestamp& out) {
        if (v.kind != vk::string) return type_error("date-time string", v), false;
        if (!days_.read(v.s, out) && !detail::parse_timestamp(v.s, out)) return invalid_time(v.s), false;
        return true;
    }
    POLAR_COLD void invalid_time(std::string_view s) {
        std::string m = "invalid date-time ";
        append_quoted_excerpt(m, s);
        fail(m);
    }
    bool opt_time(const val& v, std::optional<timestamp>& out) {
        if (v.kind == vk::null) {
            out.reset();
            return true;
        }
        if (v.kind != vk::string) return type_error("date-time string or null", v), false;
        timestamp t;
        if (!time(v, t)) return false;
        out = t;
        return true;
    }

    template <class E>
    bool enumeration(const val& v, open_enum<E>& out) {
        if (v.kind != vk::string) return type_error("string", v), false;
        E e;
        if (enum_from_wire(v.s, e)) out = e;
        else out = open_enum<E>::from_wire(v.s);
        return true;
    }
    // A metadata value: string | integer | boolean | double.
    bool scalar(const val& v, metadata_value& out) {
        switch (v.kind) {
        case vk::string:
            if (std::string* s = std::get_if<0>(&out)) s->assign(v.s.data(), v.s.size());
            else out.emplace<0>(v.s.data(), v.s.size());
            return true;
        case vk::int64: out.emplace<1>(v.i); return true;
        case vk::boolean: out.emplace<2>(v.b); return true;
        case vk::uint64: out.emplace<3>(static_cast<double>(v.u)); return true;
        case vk::dbl:
            if (!std::isfinite(v.d)) return not_finite(), false;
            out.emplace<3>(v.d);
            return true;
        default: return type_error("string, integer or boolean", v), false;
        }
    }
    // A filter clause value: string | integer | boolean (never a float).
    bool filter_scalar(const val& v, filter_value& out) {
        switch (v.kind) {
        case vk::string: out.emplace<0>(v.s.data(), v.s.size()); return true;
        case vk::int64: out.emplace<1>(v.i); return true;
        case vk::boolean: out.emplace<2>(v.b); return true;
        case vk::uint64: return fail("integer out of range (exceeds int64)"), false;
        case vk::dbl:
            return fail("expected string, integer or boolean, got non-integral number "
                        "(or an integer out of the int64 range)"),
                   false;
        default: return type_error("string, integer or boolean", v), false;
        }
    }
    // A metadata entry under the current (dynamic) key; the last duplicate wins.
    bool meta_entry(metadata& m, const val& v) {
        auto it = m.try_emplace(m.end(), key_); // key_ stays: an error's path names it
        return scalar(v, it->second);
    }

    // -- the handler's side ------------------------------------------------------
    // Defined in fields_*.ipp and handler.ipp.
    void on_value(const val& v);
    void on_end();
    void on_key(std::string_view k);

    static constexpr std::size_t skip_failed = std::size_t(1) << 40;

    std::size_t skip_ = 0;   // depth inside a skipped container (huge once failed)
    bool pushed_ = false;    // on_value pushed a frame
    std::string key_;        // dynamic keys, and key parts
    std::string str_;        // string parts
    std::string num_;        // number parts
    bool key_parts_ = false;
    bool str_parts_ = false;

    // aggregation objects (never nested)
    vk agg_func_kind_{};
    vk agg_prop_kind_{};
    bool agg_func_seen_ = false, agg_prop_seen_ = false;
    std::string agg_func_, agg_prop_;

    std::vector<std::ptrdiff_t> raw_events_;

    // Where the items of an events page begin, so that a page fed in pieces
    // keeps only the text of its current item (stream/kept_text.ipp): the
    // item whose first key is awaited (1 + its index; 0: none), the first and
    // the last item whose first key was seen in the piece being parsed, with
    // that key's offset in the body, and the `items` arrays begun (the last
    // one counts).
    static constexpr std::size_t no_item = std::size_t(-1);
    struct item_place {
        std::size_t item = no_item;
        std::size_t key_at = 0;
    };
    std::size_t item_pending_ = 0;
    item_place first_placed_, last_placed_;
    std::uint32_t items_started_ = 0;

    // Key order: next_key_[kind][previous key] is the key that followed it
    // last time (the server writes every object of a kind in one order), so
    // most keys are matched by one comparison. 0xff: not known.
    static constexpr std::size_t start_key = 31;
    std::uint8_t next_key_[static_cast<std::size_t>(fk::count_)][32];

private:
    frame frames_[max_frames];
    std::size_t depth_ = 0;
    bool failed_ = false;
    std::string what_;
    std::string slots_[slot_count];
    std::string* soft_ = nullptr;
    server_times days_;
};

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
