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
    case fk::meter: item = &static_cast<std::vector<meter>*>(f.target)->emplace_back(); break;
    case fk::event: {
        auto& items = *static_cast<std::vector<event>*>(f.target);
        item = &items.emplace_back();
        d.item_pending_ = items.size(); // its first key tells where it begins
        break;
    }
    default: item = &static_cast<std::vector<customer_meter>*>(f.target)->emplace_back(); break;
    }
    begin(d, kind, item);
}

inline void v_pagination(decoder& d, frame& f, const val& v) {
    pagination& out = *static_cast<pagination*>(f.target);
    if (f.field == 0) d.i64(v, out.total_count);
    else if (f.field == 1) d.i64(v, out.max_page);
}

// -- quantities -------------------------------------------------------------------------

inline void v_quantities(decoder& d, frame& f, const val& v) {
    meter_quantities& out = *static_cast<meter_quantities*>(f.target);
    switch (f.field) {
    case 0:
        f.flag = 1;
        if (v.kind != vk::array) return d.soft(quantities_slot, [&] { d.type_error("array", v); });
        out.quantities.clear();
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
    begin(d, fk::quantity, &static_cast<std::vector<meter_quantity>*>(f.target)->emplace_back());
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

[[gnu::always_inline]] inline void decoder::on_key(std::string_view k) {
    frame& f = top();
    const key_table& t = *f.table;
    if (t.dynamic) {
        if (k.data() != key_.data()) key_.assign(k.data(), k.size());
        f.field = dynamic_field;
        return;
    }
    if (f.kind == fk::clause_item) return key_clause_item(*this, f, k);
    std::uint8_t& next = next_key_[static_cast<std::size_t>(f.kind)][f.field < start_key ? f.field : start_key];
    std::uint8_t id = next;
    if (id == 0xff || !same_key(t.names[id], k)) {
        id = find_key(t, k);
        next = id;
    }
    f.field = id;
    if (id < t.required) f.seen |= 1u << id;
}

inline void decoder::on_value(const val& v) {
    frame& f = top();
    if (f.table->array) f.index = f.count++;
    switch (f.kind) {
    case fk::root: return v_root(*this, f, v);
    case fk::meter: return v_meter(*this, f, v);
    case fk::meter_create: return v_meter_create(*this, f, v);
    case fk::meter_update: return v_meter_update(*this, f, v);
    case fk::filter: return v_filter(*this, f, v);
    case fk::clauses: return v_clauses(*this, f, v);
    case fk::clause_item: return v_clause_item(*this, f, v);
    case fk::aggregation: return v_aggregation(*this, f, v);
    case fk::metadata: return v_metadata(*this, f, v);
    case fk::address: return v_address(*this, f, v);
    case fk::tax_id: return v_tax_id(*this, f, v);
    case fk::customer: return v_customer(*this, f, v);
    case fk::llm: return v_llm(*this, f, v);
    case fk::cost: return v_cost(*this, f, v);
    case fk::event: return v_event(*this, f, v);
    case fk::event_meta: return v_event_meta(*this, f, v);
    case fk::event_create: return v_event_create(*this, f, v);
    case fk::create_meta: return v_create_meta(*this, f, v);
    case fk::events_ingest: return v_events_ingest(*this, f, v);
    case fk::events_arr: return v_events_arr(*this, f, v);
    case fk::ingest_response: return v_ingest_response(*this, f, v);
    case fk::quantities: return v_quantities(*this, f, v);
    case fk::quantity_arr: return v_quantity_arr(*this, f, v);
    case fk::quantity: return v_quantity(*this, f, v);
    case fk::pagination: return v_pagination(*this, f, v);
    case fk::page: return v_page(*this, f, v);
    case fk::items: return v_items(*this, f, v);
    case fk::customer_meter: return v_customer_meter(*this, f, v);
    case fk::count_: break;
    }
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
    default:
        if (f.table->required) check_required(f);
        break;
    }
    if (depth_ == before) pop();
    else --skip_; // a catcher below took this frame off already; its container closes now
}

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
