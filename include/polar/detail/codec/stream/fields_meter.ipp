#ifndef POLAR_DETAIL_CODEC_STREAM_FIELDS_METER_IPP
#define POLAR_DETAIL_CODEC_STREAM_FIELDS_METER_IPP

// The streaming decoder's fields of meters and their parts: filters (a
// clause item is decoded as a clause until a `conjunction` or `clauses` key
// shows it is a nested filter), aggregations (checked when the object ends:
// `func` decides whether `property` is required), metadata maps, and the
// meter create and update bodies. v_*: a value for the frame's current key;
// e_*: the frame's object ends.

#include <polar/detail/codec/stream/core.ipp>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

POLAR_COLD inline std::string type_message(const char* expected, vk got) {
    std::string m = "expected ";
    m += expected;
    m += ", got ";
    m += kind_name(got);
    return m;
}

// Pushes a frame of `kind` for an object or array that begins, with what the
// kind needs to start.
inline frame& begin(decoder& d, fk kind, void* target) {
    frame& f = d.push(kind, target);
    switch (kind) {
    case fk::aggregation: d.agg_func_seen_ = d.agg_prop_seen_ = false; break;
    case fk::clause_item: f.catches = clause_slot; d.slot_text(clause_slot).clear(); break;
    case fk::event:
        d.slot_text(event_user_slot).clear();
        d.slot_text(event_any_slot).clear();
        break;
    case fk::event_meta: f.catches = event_user_slot; break;
    case fk::quantities: d.slot_text(quantities_slot).clear(); break;
    case fk::quantity_arr: f.catches = quantities_slot; break;
    case fk::tax_id: f.catches = tax_slot; d.slot_text(tax_slot).clear(); break;
    case fk::ingest_response: d.slot_text(dup_slot).clear(); break;
    default: break;
    }
    return f;
}

// -- filters --------------------------------------------------------------------

inline void begin_filter(decoder& d, const val& v, filter& out, std::uint32_t depth) {
    if (depth > max_filter_depth) return d.fail(filter_too_deep_message());
    if (v.kind != vk::object) return d.type_error("object", v);
    begin(d, fk::filter, &out).aux = depth;
}

inline void v_filter(decoder& d, frame& f, const val& v) {
    filter& out = *static_cast<filter*>(f.target);
    switch (f.field) {
    case 0: d.enumeration(v, out.conjunction); break;
    case 1:
        if (v.kind != vk::array) return d.type_error("array", v);
        out.clauses.clear();
        begin(d, fk::clauses, &out.clauses).aux = f.aux;
        break;
    default: break;
    }
}

inline void v_clauses(decoder& d, frame& f, const val& v) {
    if (v.kind != vk::object) return d.type_error("object", v);
    auto& nodes = *static_cast<std::vector<filter_node>*>(f.target);
    filter_node& node = nodes.emplace_back(); // an empty clause
    begin(d, fk::clause_item, &node).aux = f.aux;
}

// A key of a clause item: `conjunction` or `clauses` make it a nested filter
// (what was read as a clause, and its pending error, are dropped).
inline void key_clause_item(decoder& d, frame& f, std::string_view k) {
    std::uint8_t id = find_key(tables[static_cast<std::size_t>(fk::clause_item)], k);
    if (id == 3 || id == 4) {
        const std::uint32_t depth = f.aux + 1;
        f.field = no_field;
        f.catches = no_slot;
        d.slot_text(clause_slot).clear();
        if (depth > max_filter_depth) return d.fail_end(filter_too_deep_message());
        filter& nested = static_cast<filter_node*>(f.target)->value.emplace<1>();
        decoder::set_kind(f, fk::filter);
        f.expect = no_field;
        f.target = &nested;
        f.aux = depth;
        f.seen = 0;
        id = static_cast<std::uint8_t>(id - 3);
        f.field = id;
        f.seen |= 1u << id;
        return;
    }
    f.field = id;
    if (id < 3) f.seen |= 1u << id;
}

inline void v_clause_item(decoder& d, frame& f, const val& v) {
    filter_clause& out = std::get<0>(static_cast<filter_node*>(f.target)->value);
    switch (f.field) {
    case 0: d.str(v, out.property); break;
    case 1: d.enumeration(v, out.op); break;
    case 2: d.filter_scalar(v, out.value); break;
    default: break;
    }
}

inline void e_clause_item(decoder& d, frame& f) {
    f.catches = no_slot; // from here on errors are the document's
    if (!d.slot_text(clause_slot).empty()) return d.raise_slot(clause_slot);
    d.check_required(f);
}

// -- aggregations ----------------------------------------------------------------

inline void v_aggregation(decoder& d, frame& f, const val& v) {
    switch (f.field) {
    case 0:
        d.agg_func_seen_ = true;
        d.agg_func_kind_ = v.kind;
        if (v.kind == vk::string) d.agg_func_.assign(v.s.data(), v.s.size());
        break;
    case 1:
        d.agg_prop_seen_ = true;
        d.agg_prop_kind_ = v.kind;
        if (v.kind == vk::string) d.agg_prop_.assign(v.s.data(), v.s.size());
        break;
    default: break;
    }
}

inline void e_aggregation(decoder& d, frame& f) {
    if (!d.agg_func_seen_) return d.missing("func");
    if (d.agg_func_kind_ != vk::string) return d.fail_end(type_message("string", d.agg_func_kind_), "func");
    open_enum<aggregation_function> fn;
    aggregation_function e;
    if (enum_from_wire(std::string_view(d.agg_func_), e)) fn = e;
    else fn = open_enum<aggregation_function>::from_wire(d.agg_func_);
    std::string property;
    if (fn == aggregation_function::count) {
        // The API ignores extra keys of CountAggregation.
    } else if (fn.is_unknown()) {
        if (d.agg_prop_seen_ && d.agg_prop_kind_ == vk::string) property = d.agg_prop_;
    } else {
        if (!d.agg_prop_seen_) return d.missing("property");
        if (d.agg_prop_kind_ != vk::string)
            return d.fail_end(type_message("string", d.agg_prop_kind_), "property");
        property = d.agg_prop_;
    }
    *static_cast<aggregation*>(f.target) = aggregation(std::move(fn), std::move(property));
}

inline void begin_aggregation(decoder& d, const val& v, aggregation& out) {
    if (v.kind != vk::object) return d.type_error("object", v);
    begin(d, fk::aggregation, &out);
}

// -- metadata maps -------------------------------------------------------------------

inline void begin_metadata(decoder& d, const val& v, metadata& out) {
    if (v.kind != vk::object) return d.type_error("object", v);
    out.clear();
    begin(d, fk::metadata, &out);
}

inline void v_metadata(decoder& d, frame& f, const val& v) { d.meta_entry(*static_cast<metadata*>(f.target), v); }

// -- meters ----------------------------------------------------------------------------

inline void v_meter(decoder& d, frame& f, const val& v) {
    meter& out = *static_cast<meter*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.id); break;
    case 1: d.time(v, out.created_at); break;
    case 2: begin_metadata(d, v, out.metadata); break;
    case 3: d.str(v, out.name); break;
    case 4: begin_filter(d, v, out.filter, 1); break;
    case 5: begin_aggregation(d, v, out.aggregation); break;
    case 6: d.str(v, out.organization_id); break;
    case 7: d.opt_time(v, out.modified_at); break;
    case 8: // absent (2025-03) or null: the default, `scalar`
        if (v.kind == vk::null) out.unit = meter_unit::scalar;
        else d.enumeration(v, out.unit);
        break;
    case 9: d.opt_str(v, out.custom_label); break;
    case 10: d.opt_i64(v, out.custom_multiplier); break;
    case 11: d.opt_time(v, out.archived_at); break;
    default: break;
    }
}

inline void v_meter_create(decoder& d, frame& f, const val& v) {
    meter_create& out = *static_cast<meter_create*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.name); break;
    case 1: begin_filter(d, v, out.filter, 1); break;
    case 2: begin_aggregation(d, v, out.aggregation); break;
    case 3:
        if (v.kind != vk::object) return d.type_error("object", v);
        begin(d, fk::metadata, &out.metadata.emplace());
        break;
    case 4: d.opt_str(v, out.organization_id); break;
    case 5:
        if (v.kind == vk::null) out.unit.reset();
        else d.enumeration(v, out.unit.emplace());
        break;
    case 6: d.opt_str(v, out.custom_label); break;
    case 7: d.opt_i64(v, out.custom_multiplier); break;
    default: break;
    }
}

inline void v_meter_update(decoder& d, frame& f, const val& v) {
    meter_update& out = *static_cast<meter_update*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.name.emplace()); break;
    case 1:
        if (v.kind == vk::null) return out.filter.set_null();
        if (v.kind != vk::object) return d.type_error("object", v);
        out.filter.set(filter());
        begin_filter(d, v, out.filter.value(), 1);
        break;
    case 2:
        if (v.kind == vk::null) return out.aggregation.set_null();
        if (v.kind != vk::object) return d.type_error("object", v);
        out.aggregation.set(aggregation());
        begin(d, fk::aggregation, &out.aggregation.value());
        break;
    case 3:
        if (v.kind != vk::object) return d.type_error("object", v);
        begin(d, fk::metadata, &out.metadata.emplace());
        break;
    case 4: {
        if (v.kind == vk::null) return out.unit.set_null();
        open_enum<meter_unit> u;
        if (d.enumeration(v, u)) out.unit.set(std::move(u));
        break;
    }
    case 5: {
        if (v.kind == vk::null) return out.custom_label.set_null();
        std::string label;
        if (d.str(v, label)) out.custom_label.set(std::move(label));
        break;
    }
    case 6: {
        if (v.kind == vk::null) return out.custom_multiplier.set_null();
        std::int64_t m = 0;
        if (d.i64(v, m)) out.custom_multiplier.set(m);
        break;
    }
    case 7: // null means "unchanged", like absent
        if (v.kind == vk::null) out.is_archived.reset();
        else d.boolean(v, out.is_archived.emplace());
        break;
    default: break;
    }
}

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
