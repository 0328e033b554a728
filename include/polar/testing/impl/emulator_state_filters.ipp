//
// polar-cpp testing: meter filters and aggregations evaluated against events
// with the events-era server's SQL semantics (MeterAPI.md §5.1, §5.2).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_FILTERS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_FILTERS_IPP

#include <polar/testing/impl/emulator_state_validation.ipp>

namespace polar::testing::emu {

enum class column_kind { none, text, nullable_text, broken };

// How a clause property resolves: an event column, else a metadata key.
inline column_kind classify_property(std::string_view p) {
    if (p == "name" || p == "source") return column_kind::text;
    if (p == "external_customer_id") return column_kind::nullable_text;
    // Clauses on the timestamp column fail in this era (the text value is
    // bound as a timestamp); the spec says to treat the uuid columns the same
    // way (UNCONFIRMED there). The other attributes of the server's event
    // model (relationships, the SQLAlchemy `metadata` registry, the raw JSON
    // column) cannot be compared with a string either: every query that
    // evaluates such a clause ends in a server error (500).
    if (p == "timestamp" || p == "customer_id" || p == "organization_id" || p == "id" || p == "customer" ||
        p == "organization" || p == "metadata" || p == "user_metadata")
        return column_kind::broken;
    return column_kind::none;
}

// True when running a query with this filter fails whatever the rows.
inline bool filter_is_broken(const filter_node& f) {
    if (f.is_clause) return classify_property(f.property) == column_kind::broken;
    for (const auto& c : f.clauses)
        if (filter_is_broken(c)) return true;
    return false;
}

template <class T>
inline bool compare(filter_op op, const T& a, const T& b) {
    switch (op) {
    case filter_op::eq: return a == b;
    case filter_op::ne: return !(a == b);
    case filter_op::gt: return b < a;
    case filter_op::gte: return !(a < b);
    case filter_op::lt: return a < b;
    case filter_op::lte: return !(b < a);
    default: return false;
    }
}

// Text comparison (byte order: the C collation; UNCONFIRMED for gt/lt with
// the production database's collation).
inline bool compare_text(filter_op op, std::string_view column, std::string_view value) {
    if (op == filter_op::like) return like_contains(column, value, false);
    if (op == filter_op::not_like) return !like_contains(column, value, false);
    return compare(op, column, value);
}

inline double number_of(const json::value& v) {
    switch (v.kind()) {
    case json::kind::int64: return static_cast<double>(v.get_int64());
    case json::kind::uint64: return static_cast<double>(v.get_uint64());
    case json::kind::double_: return v.get_double();
    case json::kind::bool_: return v.get_bool() ? 1 : 0;
    default: return 0;
    }
}

inline bool is_json_number(const json::value& v) {
    return v.is_int64() || v.is_uint64() || v.is_double();
}

// One clause against one event. SQL NULL never matches (no NOT above a
// clause, so NULL and false are the same for and/or).
inline bool eval_clause(const filter_node& c, const event& e) {
    switch (classify_property(c.property)) {
    case column_kind::text: {
        const std::string& col = c.property == "name" ? e.name : e.source;
        return compare_text(c.op, col, python_str(c.value));
    }
    case column_kind::nullable_text:
        if (!e.external_customer_id) return false;
        return compare_text(c.op, *e.external_customer_id, python_str(c.value));
    case column_kind::broken: throw server_failure("filter clause on an unsupported column");
    case column_kind::none: break;
    }
    auto it = e.metadata.find(c.property);
    if (it == e.metadata.end()) return false;
    const json::value& stored = it->value();
    if (stored.is_string()) return compare_text(c.op, stored.get_string(), python_str(c.value));
    if (is_json_number(stored)) {
        // Python's bool is an int: a boolean value takes the integer path too.
        if (c.value.is_string()) return false;
        if (c.op == filter_op::like || c.op == filter_op::not_like)
            throw server_failure("LIKE on a numeric metadata value");  // database error
        return compare(c.op, number_of(stored), number_of(c.value));
    }
    if (stored.is_bool()) {
        if (!c.value.is_bool()) return false;
        // LIKE has no boolean form: interpreted as no match.
        if (c.op == filter_op::like || c.op == filter_op::not_like) return false;
        return compare(c.op, static_cast<int>(stored.get_bool()), static_cast<int>(c.value.get_bool()));
    }
    return false;  // null, object, array
}

inline bool eval_filter(const filter_node& f, const event& e) {
    if (f.is_clause) return eval_clause(f, e);
    if (f.clauses.empty()) return true;
    if (f.conjunction_and) {
        for (const auto& c : f.clauses)
            if (!eval_filter(c, e)) return false;
        return true;
    }
    for (const auto& c : f.clauses)
        if (eval_filter(c, e)) return true;
    return false;
}

// The aggregation type guard: a property aggregation only sees events whose
// value for the key is a JSON number. (A property naming an event column is
// "meaningless" per the spec; it is looked up in metadata like any key.)
inline bool passes_guard(const aggregation& a, const event& e) {
    if (a.func == agg_func::count) return true;
    auto it = e.metadata.find(a.property);
    return it != e.metadata.end() && is_json_number(it->value());
}

// The demo's dated-only events never take part in the 2025-03 views (its
// meter events, quantities and the billing job).
inline bool meter_matches(const meter& m, const event& e) {
    if (e.dated_only) return false;
    return passes_guard(m.agg, e) && eval_filter(m.filter, e);
}

// The metadata value cast to a 32-bit integer, as the aggregation query does:
// a fraction or a value beyond int32 fails in the database (500).
inline std::int64_t int32_value(const aggregation& a, const event& e) {
    const json::value& v = e.metadata.find(a.property)->value();
    if (v.is_int64()) {
        const auto i = v.get_int64();
        if (i < INT32_MIN || i > INT32_MAX) throw server_failure("integer out of range");
        return i;
    }
    if (v.is_uint64()) throw server_failure("integer out of range");
    const double d = v.get_double();
    if (!integral_double(d)) throw server_failure("invalid input syntax for type integer");
    if (d < INT32_MIN || d > INT32_MAX) throw server_failure("integer out of range");
    return static_cast<std::int64_t>(d);
}

struct accumulator {
    std::int64_t count = 0;
    std::int64_t sum = 0;
    std::int64_t min = 0;
    std::int64_t max = 0;

    void add(const aggregation& a, const event& e) {
        if (a.func == agg_func::count) {
            ++count;
            return;
        }
        if (a.func == agg_func::unique) return;
        const auto v = int32_value(a, e);
        if (count == 0 || v < min) min = v;
        if (count == 0 || v > max) max = v;
        sum += v;
        ++count;
    }

    // Empty sets give 0 (zero-filled), never null.
    double result(agg_func f) const {
        if (count == 0) return 0;
        switch (f) {
        case agg_func::count: return static_cast<double>(count);
        case agg_func::sum: return static_cast<double>(sum);
        case agg_func::max: return static_cast<double>(max);
        case agg_func::min: return static_cast<double>(min);
        case agg_func::avg: return static_cast<double>(sum) / static_cast<double>(count);
        // A `unique` meter (created on a dated version) has no seed-era
        // meaning: the 2025-03 quantities answer 0 for it.
        case agg_func::unique: return 0;
        }
        return 0;
    }
};

// The newest event of the meter's organization that matches the meter,
// optionally only among events linked to an existing customer.
inline const event* newest_matching_event(const state_data& st, const meter& m, bool require_customer) {
    if (filter_is_broken(m.filter)) throw server_failure("filter clause on an unsupported column");
    const event* best = nullptr;
    for (const auto& e : st.org_event_list(m.organization_id)) {
        if (best && e.timestamp < best->timestamp) continue;
        if (require_customer && !st.event_customer(e)) continue;
        if (!meter_matches(m, e)) continue;
        if (!best || e.timestamp >= best->timestamp) best = &e;
    }
    return best;
}

} // namespace polar::testing::emu

#endif
