#ifndef POLAR_DETAIL_CODEC_STREAM_CORE_IPP
#define POLAR_DETAIL_CODEC_STREAM_CORE_IPP

// The streaming decoder's state: a stack of frames, one per open JSON
// container, each knowing which model it fills (its kind), which field the
// next value goes to (the key seen last, matched against the kind's key
// table, keys.ipp, without allocating) and which required fields were seen.
// Values arrive as `val` (a scalar, or the start of an object or array) and
// are dispatched on the top frame's kind (fields_*.ipp); a container nobody
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
#include <polar/detail/codec/stream/keys.ipp>
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

// Slots for errors raised late (see the top comment).
enum slot : std::uint8_t { no_slot, clause_slot, event_user_slot, event_any_slot, quantities_slot, tax_slot, dup_slot, slot_count };

// One JSON value as the handler sees it: a scalar, or the start of a container.
enum class vk : std::uint8_t { null, boolean, int64, uint64, dbl, string, object, array };

// A new (value-initialized) element at the end of `v`; growing it, rare
// once it is reserved, out of line.
template <class T>
[[gnu::noinline]] T& grow_by_one(std::vector<T>& v) {
    return v.emplace_back();
}
template <class T>
[[gnu::always_inline]] inline T& new_element(std::vector<T>& v) {
    if (v.size() == v.capacity()) [[unlikely]] return grow_by_one(v);
    return v.emplace_back();
}

// Only the member of its kind is set (and read): the handler makes one for
// every value, so nothing else is written.
struct val {
    explicit val(vk k) noexcept : kind(k) {}
    vk kind;
    union {
        bool b;
        std::int64_t i;
        std::uint64_t u;
        double d;
        std::string_view s; // string contents
    };
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

// How a frame's keys are matched (and whether it has keys at all).
enum frame_keys : std::uint8_t {
    table_keys,   // against the kind's table
    array_items,  // an array: no keys, elements counted
    dynamic_keys, // data (metadata maps): kept in decoder::key_
    clause_keys,  // a clause item: `conjunction` or `clauses` turn it into a filter
};

// Trivial, so that the decoder's array of frames costs nothing to create;
// push() sets every member. What every key and value looks at (how keys
// are matched, the required keys) is copied from the table into the frame.
struct frame {
    const key_table* table;
    void* target;
    std::size_t index;    // arrays: the current element
    std::size_t count;    // arrays: elements so far
    std::uint32_t seen;   // keys seen (bit i: names[i])
    std::uint32_t need;   // required keys (bits of `seen`)
    std::uint32_t aux;    // per kind: filter depth, item kind, model kind
    fk kind;
    std::uint8_t field;   // current key (objects)
    std::uint8_t catches; // errors at or above this frame go to this slot
    std::uint8_t flag;    // per kind: email kind, structured metadata, ...
    frame_keys keys;
    std::uint8_t expect;  // the key expected next (see decoder::next_key_), or no_field
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
    // The root frame is never popped: top_ always points into frames_.
    frame& top() noexcept { return *top_; }
    frame& below_top() noexcept { return top_[-1]; }
    std::size_t depth() const noexcept { return depth_; }

    frame& push(fk kind, void* target) {
        // The parser's max_depth (max_json_depth) bounds the nesting first.
        frame& f = frames_[depth_++];
        top_ = &f;
        set_kind(f, kind);
        f.field = no_field;
        f.expect = next_key_[static_cast<std::size_t>(kind)][start_key];
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
    void pop() noexcept {
        --depth_;
        --top_;
    }
    static void set_kind(frame& f, fk kind) noexcept {
        const key_table& t = tables[static_cast<std::size_t>(kind)];
        f.table = &t;
        f.kind = kind;
        f.need = (1u << t.required) - 1;
        f.keys = t.array ? array_items : t.dynamic ? dynamic_keys : kind == fk::clause_item ? clause_keys : table_keys;
    }

    // -- failure --------------------------------------------------------------
    // The path to the current value (`value`: the top frame's current key or
    // element is part of it) or to the top object itself.
    POLAR_COLD std::string path(bool value, std::string_view extra_key = {}) const {
        std::string out;
        for (std::size_t i = 1; i < depth_; ++i) {
            const frame& f = frames_[i];
            if (i + 1 == depth_ && !value) break;
            const key_table& t = *f.table;
            if (f.keys == array_items) {
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
        if ((f.seen & f.need) == f.need) [[likely]] return true;
        return missing_required(f);
    }
    POLAR_COLD bool missing_required(const frame& f) {
        const key_table& t = *f.table;
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
    // Out of line, so that the functions of the models with a date-time do
    // not save the registers it needs on every value.
    [[gnu::noinline]] bool time(const val& v, timestamp& out) {
        if (v.kind == vk::string && days_.read(v.s, out)) [[likely]] return true;
        return other_time(v, out);
    }
    // Not in the server's form: the whole grammar, or an error.
    POLAR_COLD bool other_time(const val& v, timestamp& out) {
        if (v.kind != vk::string) return type_error("date-time string", v), false;
        if (!detail::parse_timestamp(v.s, out)) return invalid_time(v.s), false;
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
    void on_other_key(frame& f, std::string_view k);
    std::uint8_t learn_key(frame& f, std::string_view k);

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
    // most keys are matched by one comparison. 0xff: not known. A frame
    // looks up the key it expects after each key, so that the next key
    // waits on no lookup.
    static constexpr std::size_t start_key = 31;
    std::uint8_t next_key_[static_cast<std::size_t>(fk::count_)][32];

private:
    frame frames_[max_frames];
    frame* top_ = frames_;
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
