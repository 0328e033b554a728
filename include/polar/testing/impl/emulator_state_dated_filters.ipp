//
// polar-cpp testing: filter evaluation of the dated versions
// (MeterAPI-2026-10.md §5.1 and §5.1a). Two evaluators: PostgreSQL's (meter
// quantities, billing, customer meters) and ClickHouse's (the events list's
// `filter` and `meter_id`). The 2025-03 evaluator (emulator_state_filters.ipp)
// is untouched.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_DATED_FILTERS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_DATED_FILTERS_IPP

#include <polar/testing/impl/emulator_state_filters.ipp>

namespace polar::testing::emu {

enum class dated_engine { postgres, clickhouse };

// A property path: a leading `metadata.` removed (validation of dated
// filters and aggregations already stores it without), split on `.` and
// walked into nested objects. Null when any step is missing or not an object.
inline const json::value* metadata_path(const json::object& md, std::string_view property) {
    constexpr std::string_view prefix = "metadata.";
    if (property.substr(0, prefix.size()) == prefix) property.remove_prefix(prefix.size());
    const json::object* obj = &md;
    while (true) {
        const auto dot = property.find('.');
        const std::string_view key = property.substr(0, dot);
        auto it = obj->find(key);
        if (it == obj->end()) return nullptr;
        if (dot == std::string_view::npos) return &it->value();
        if (!it->value().is_object()) return nullptr;
        obj = &it->value().get_object();
        property.remove_prefix(dot + 1);
    }
}

// The text form of a JSON scalar as the databases print it: strings as
// themselves, numbers as JSON numbers (1.5, 5), booleans as true/false.
inline std::string dated_text(const json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    return to_json_text(v);
}

// `like` is a literal, case-sensitive substring test since 2026-06-01 (`%`
// and `_` are escaped); `not_like` is its negation.
inline bool literal_contains(std::string_view text, std::string_view needle) {
    return text.find(needle) != std::string_view::npos;
}

inline bool compare_text_literal(filter_op op, std::string_view column, std::string_view value) {
    if (op == filter_op::like) return literal_contains(column, value);
    if (op == filter_op::not_like) return !literal_contains(column, value);
    return compare(op, column, value);
}

inline bool is_int_value(const json::value& v) { return v.is_int64() || v.is_uint64(); }

inline std::int64_t epoch_seconds(micros t) {
    return t >= 0 ? t / 1'000'000 : -((-t + 999'999) / 1'000'000);
}

// The column properties left on the dated versions: name, source (text) and
// timestamp (Unix epoch seconds, compared with an integer value). A value of
// another type gives false, not an error.
inline std::optional<bool> eval_dated_column(const filter_node& c, const event& e) {
    if (c.property == "name" || c.property == "source") {
        if (!c.value.is_string()) return false;
        return compare_text_literal(c.op, c.property == "name" ? e.name : e.source, c.value.get_string());
    }
    if (c.property == "timestamp") {
        const std::int64_t secs = epoch_seconds(e.timestamp);
        if (c.op == filter_op::like || c.op == filter_op::not_like)
            return compare_text_literal(c.op, std::to_string(secs), dated_text(c.value));
        if (!is_int_value(c.value)) return false;
        return compare(c.op, static_cast<double>(secs), number_of(c.value));
    }
    return std::nullopt;
}

// §5.1: PostgreSQL. The JSON type of the stored value decides; a missing,
// null, object or array value never matches (SQL NULL).
inline bool eval_clause_pg(const filter_node& c, const event& e) {
    if (auto col = eval_dated_column(c, e)) return *col;
    const json::value* v = metadata_path(e.metadata, c.property);
    if (!v || v->is_null() || v->is_object() || v->is_array()) return false;
    if (c.op == filter_op::like || c.op == filter_op::not_like)
        return compare_text_literal(c.op, dated_text(*v), dated_text(c.value));
    if (v->is_string()) {
        // The value as text; a boolean becomes PostgreSQL's t/f.
        const std::string value = c.value.is_bool() ? (c.value.get_bool() ? "t" : "f") : dated_text(c.value);
        return compare(c.op, std::string_view(v->get_string()), std::string_view(value));
    }
    if (is_json_number(*v)) {
        if (c.value.is_string()) return false;
        return compare(c.op, number_of(*v), number_of(c.value));  // a boolean value counts as 1/0
    }
    if (v->is_bool()) {
        if (!c.value.is_bool()) return false;
        return compare(c.op, static_cast<int>(v->get_bool()), static_cast<int>(c.value.get_bool()));
    }
    return false;
}

// §5.1a: ClickHouse (events list). A string value or like/not_like reads
// the path with JSONExtractString ('' when missing or not a string), any
// other value with JSONExtractFloat (0 when missing or not a number), so
// ne/not_like/lt... can match events that lack the key.
// UNCONFIRMED (the spec leaves it open): a stored boolean reads as 1/0 with
// JSONExtractFloat, and a boolean value compares as 1/0.
inline bool eval_clause_ch(const filter_node& c, const event& e) {
    if (auto col = eval_dated_column(c, e)) return *col;
    const json::value* v = metadata_path(e.metadata, c.property);
    if (c.value.is_string() || c.op == filter_op::like || c.op == filter_op::not_like) {
        const std::string_view extracted = v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
        return compare_text_literal(c.op, extracted, dated_text(c.value));
    }
    double extracted = 0;
    if (v && (is_json_number(*v) || v->is_bool())) extracted = number_of(*v);
    // _cost.amount is read from its denormalized Decimal column, while the
    // stored metadata carries the amount as text.
    if (v && v->is_string() && (c.property == "_cost.amount" || c.property == "metadata._cost.amount")) {
        char* endp = nullptr;
        const std::string text(v->get_string());
        const double d = std::strtod(text.c_str(), &endp);
        if (endp && *endp == '\0') extracted = d;
    }
    return compare(c.op, extracted, number_of(c.value));
}

inline bool eval_dated_filter(const filter_node& f, const event& e, dated_engine engine) {
    if (f.is_clause) return engine == dated_engine::postgres ? eval_clause_pg(f, e) : eval_clause_ch(f, e);
    if (f.clauses.empty()) return true;
    if (f.conjunction_and) {
        for (const auto& c : f.clauses)
            if (!eval_dated_filter(c, e, engine)) return false;
        return true;
    }
    for (const auto& c : f.clauses)
        if (eval_dated_filter(c, e, engine)) return true;
    return false;
}

inline bool is_dated_column(std::string_view p) { return p == "name" || p == "source" || p == "timestamp"; }

// The aggregation type guard of the dated versions (§5.2). sum/max/min/avg
// on a metadata path: only JSON numbers, booleans excluded. On `timestamp`
// the guard holds; on name/source it does not. count and unique: no guard.
inline bool dated_guard(const aggregation& a, const event& e) {
    if (a.func == agg_func::count || a.func == agg_func::unique) return true;
    if (a.property == "timestamp") return true;
    if (a.property == "name" || a.property == "source") return false;
    const json::value* v = metadata_path(e.metadata, a.property);
    return v && is_json_number(*v);
}

// The events list's `meter_id` (§3.7): the meter's filter with ClickHouse
// semantics, plus, for sum/max/min/avg on a metadata key, only events whose
// value is a number (not for unique; not for the column properties).
// UNCONFIRMED: "parses as a number" is read as "is a JSON number"; a numeric
// string does not pass.
inline bool events_list_meter_matches(const meter& m, const event& e) {
    if (m.agg.func != agg_func::count && m.agg.func != agg_func::unique && !is_dated_column(m.agg.property)) {
        const json::value* v = metadata_path(e.metadata, m.agg.property);
        if (!v || !is_json_number(*v)) return false;
    }
    return eval_dated_filter(m.filter, e, dated_engine::clickhouse);
}

// Meter quantities, billing and customer meters (§5.1, §5.2): PostgreSQL.
inline bool dated_meter_matches(const meter& m, const event& e) {
    return dated_guard(m.agg, e) && eval_dated_filter(m.filter, e, dated_engine::postgres);
}

} // namespace polar::testing::emu

#endif
