#ifndef POLAR_DETAIL_CODEC_STREAM_FIELDS_LIST_IPP
#define POLAR_DETAIL_CODEC_STREAM_FIELDS_LIST_IPP

// The streaming decoder's fields of pages, quantities, customer meters and
// ingestion responses, and the dispatch of keys, values and ends on the top
// frame's kind. Quantities keep the errors of their series until the object
// ends (`total` was checked first), an ingest response those of `duplicates`
// (after `inserted`).

#include <polar/detail/codec/stream/fields_event.ipp>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

inline void v_root(decoder& d, frame& f, const val& v) {
    const auto model = static_cast<fk>(f.aux);
    if (model == fk::filter) return begin_filter(d, v, *static_cast<filter*>(f.target), 1);
    if (v.kind != vk::object) return d.type_error("object", v);
    begin(d, model, f.target).aux = f.flag; // a page's item kind
}

// -- pages ------------------------------------------------------------------------------

template <class T>
void v_page_of(decoder& d, frame& f, const val& v) {
    page<T>& out = *static_cast<page<T>*>(f.target);
    switch (f.field) {
    case 0:
        if (v.kind != vk::array) return d.type_error("array", v);
        out.items.clear();
        // The API sends at most 100 items; items take 300 bytes and more.
        if (d.body_size_) out.items.reserve(std::min<std::size_t>(100, d.body_size_ / 256 + 1));
        d.raw_events_.clear(); // the last `items` counts
        d.first_placed_ = d.last_placed_ = {};
        ++d.items_started_;
        begin(d, fk::items, &out.items).aux = f.aux;
        break;
    case 1:
        if (v.kind != vk::object) return d.type_error("object", v);
        begin(d, fk::pagination, &out.pagination);
        break;
    default: break;
    }
}

inline void v_page(decoder& d, frame& f, const val& v) {
    switch (static_cast<fk>(f.aux)) {
    case fk::meter: return v_page_of<meter>(d, f, v);
    case fk::event: return v_page_of<event>(d, f, v);
    default: return v_page_of<customer_meter>(d, f, v);
    }
}

inline void v_items(decoder& d, frame& f, const val& v) {
    if (v.kind != vk::object) return d.type_error("object", v);
    const auto kind = static_cast<fk>(f.aux);
    void* item;
    switch (kind) {
    case fk::meter: item = &new_element(*static_cast<std::vector<meter>*>(f.target)); break;
    case fk::event: {
        auto& items = *static_cast<std::vector<event>*>(f.target);
        item = &new_element(items);
        d.item_pending_ = items.size(); // its first key tells where it begins
        break;
    }
    default: item = &new_element(*static_cast<std::vector<customer_meter>*>(f.target)); break;
    }
    begin(d, kind, item);
}

inline void v_pagination(decoder& d, frame& f, const val& v) {
    pagination& out = *static_cast<pagination*>(f.target);
    if (f.field == 0) d.i64(v, out.total_count);
    else if (f.field == 1) d.i64(v, out.max_page);
}

// -- quantities -------------------------------------------------------------------------

// A year of hours; longer series grow from there.
constexpr std::size_t max_reserved_quantities = 9000;

inline void v_quantities(decoder& d, frame& f, const val& v) {
    meter_quantities& out = *static_cast<meter_quantities*>(f.target);
    switch (f.field) {
    case 0:
        f.flag = 1;
        if (v.kind != vk::array) return d.soft(quantities_slot, [&] { d.type_error("array", v); });
        out.quantities.clear();
        // An element takes about 50 bytes (`{"timestamp":"<20>","quantity":0},`):
        // the series is reserved once instead of growing (and moving) it.
        if (d.body_size_) out.quantities.reserve(std::min<std::size_t>(d.body_size_ / 48 + 1, max_reserved_quantities));
        begin(d, fk::quantity_arr, &out.quantities);
        break;
    case 1: d.number(v, out.total.emplace()); break; // dated API only
    default: break;
    }
}

inline void e_quantities(decoder& d, frame& f) {
    if (!f.flag) return d.missing("quantities");
    if (!d.slot_text(quantities_slot).empty()) d.raise_slot(quantities_slot);
}

inline void v_quantity_arr(decoder& d, frame& f, const val& v) {
    if (v.kind != vk::object) return d.type_error("object", v);
    begin(d, fk::quantity, &new_element(*static_cast<std::vector<meter_quantity>*>(f.target)));
}

inline void v_quantity(decoder& d, frame& f, const val& v) {
    meter_quantity& out = *static_cast<meter_quantity*>(f.target);
    if (f.field == 0) d.time(v, out.timestamp);
    else if (f.field == 1) d.number(v, out.quantity);
}

// -- ingestion responses -------------------------------------------------------------------

inline void v_ingest_response(decoder& d, frame& f, const val& v) {
    events_ingest_response& out = *static_cast<events_ingest_response*>(f.target);
    if (f.field == 0) d.i64(v, out.inserted);
    else if (f.field == 1) d.soft(dup_slot, [&] { d.i64(v, out.duplicates); }); // dated API only
}

inline void e_ingest_response(decoder& d, frame& f) {
    if (!d.check_required(f)) return;
    if (!d.slot_text(dup_slot).empty()) d.raise_slot(dup_slot);
}

// -- customer meters -------------------------------------------------------------------------

inline void v_customer_meter(decoder& d, frame& f, const val& v) {
    customer_meter& out = *static_cast<customer_meter*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.id); break;
    case 1: d.time(v, out.created_at); break;
    case 2: d.str(v, out.customer_id); break;
    case 3: d.str(v, out.meter_id); break;
    case 4: d.number(v, out.consumed_units); break;
    case 5: d.i64(v, out.credited_units); break;
    case 6: d.number(v, out.balance); break;
    case 7:
        if (v.kind != vk::object) return d.type_error("object", v);
        begin(d, fk::customer, &out.customer);
        break;
    case 8:
        if (v.kind != vk::object) return d.type_error("object", v);
        begin(d, fk::meter, &out.meter);
        break;
    case 9: d.opt_time(v, out.modified_at); break;
    default: break;
    }
}

// -- dispatch ----------------------------------------------------------------------------------

// Keys of a table: the key that followed the previous one last time is
// tried first, then the table's hash.
[[gnu::always_inline]] inline void decoder::on_key(std::string_view k) {
    frame& f = top();
    if (f.keys != table_keys) [[unlikely]] return on_other_key(f, k);
    std::uint8_t id = f.expect;
    if (id == no_field || !is_key(*f.table, id, k)) [[unlikely]] id = learn_key(f, k);
    f.field = id;
    f.expect = next_key_[static_cast<std::size_t>(f.kind)][id < start_key ? id : start_key];
    if (id != no_field) f.seen |= 1u << id;
}

[[gnu::noinline]] inline std::uint8_t decoder::learn_key(frame& f, std::string_view k) {
    const std::uint8_t id = find_key(*f.table, k);
    next_key_[static_cast<std::size_t>(f.kind)][f.field < start_key ? f.field : start_key] = id;
    return id;
}

[[gnu::noinline]] inline void decoder::on_other_key(frame& f, std::string_view k) {
    if (f.keys == dynamic_keys) {
        if (k.data() != key_.data()) key_.assign(k.data(), k.size());
        f.field = dynamic_field;
    } else if (f.keys == clause_keys) {
        key_clause_item(*this, f, k);
    }
}

// Values go to the function of the top frame's kind.
using value_fn = void (*)(decoder&, frame&, const val&);
inline constexpr value_fn value_fns[] = {
    v_root, v_meter, v_meter_create, v_meter_update, v_filter, v_clauses, v_clause_item, v_aggregation, v_metadata,
    v_address, v_tax_id, v_customer, v_llm, v_cost, v_event, v_event_meta, v_event_create, v_create_meta,
    v_events_ingest, v_events_arr, v_ingest_response, v_quantities, v_quantity_arr, v_quantity, v_pagination,
    v_page, v_items, v_customer_meter,
};
static_assert(std::size(value_fns) == static_cast<std::size_t>(fk::count_));

[[gnu::always_inline]] inline void decoder::on_value(const val& v) {
    frame& f = top();
    if (f.keys == array_items) f.index = f.count++;
    value_fns[static_cast<std::size_t>(f.kind)](*this, f, v);
}

inline void decoder::on_end() {
    const std::size_t before = depth_;
    frame& f = top();
    switch (f.kind) {
    case fk::clause_item: e_clause_item(*this, f); break;
    case fk::aggregation: e_aggregation(*this, f); break;
    case fk::tax_id: e_tax_id(*this, f); break;
    case fk::customer: e_customer(*this, f); break;
    case fk::event: e_event(*this, f); break;
    case fk::event_create: e_event_create(*this, f); break;
    case fk::create_meta: e_create_meta(*this, f); break;
    case fk::quantities: e_quantities(*this, f); break;
    case fk::quantity_arr: f.catches = no_slot; break;
    case fk::ingest_response: e_ingest_response(*this, f); break;
    default: check_required(f); break;
    }
    if (depth_ == before) pop();
    else --skip_; // a catcher below took this frame off already; its container closes now
}

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
