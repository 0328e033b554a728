#ifndef POLAR_DETAIL_CODEC_STREAM_FIELDS_EVENT_IPP
#define POLAR_DETAIL_CODEC_STREAM_FIELDS_EVENT_IPP

// The streaming decoder's fields of customers and events.
//
// An event's metadata may come before its `source`, so it is read in a form
// that serves both outcomes: scalars go to the map (which is the same for
// user and system events), `_llm` / `_cost` objects are read, and what only
// a user event rejects (nulls, nested values, numbers beyond a double) goes
// to a slot. When the event ends, a user event raises that error, any other
// drops `llm` / `cost` and asks for its raw text (filled in when the
// document is complete). A customer's `email` is checked when the object
// ends, once its `type` is known; a tax id's size before its items.

#include <polar/detail/codec/stream/fields_meter.ipp>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

// -- customers ----------------------------------------------------------------------

inline void v_address(decoder& d, frame& f, const val& v) {
    address& out = *static_cast<address*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.country); break;
    case 1: d.opt_str(v, out.line1); break;
    case 2: d.opt_str(v, out.line2); break;
    case 3: d.opt_str(v, out.postal_code); break;
    case 4: d.opt_str(v, out.city); break;
    case 5: d.opt_str(v, out.state); break;
    default: break;
    }
}

// `[value, format]`: item errors wait in tax_slot until the size is known.
inline void v_tax_id(decoder& d, frame& f, const val& v) {
    tax_id& out = *static_cast<tax_id*>(f.target);
    if (f.index == 0) d.str(v, out.value);
    else if (f.index == 1) d.enumeration(v, out.format);
}

inline void e_tax_id(decoder& d, frame& f) {
    f.catches = no_slot;
    if (f.count != 2)
        return d.fail_end("expected a [value, format] array of 2 items, got " + std::to_string(f.count));
    if (!d.slot_text(tax_slot).empty()) d.raise_slot(tax_slot);
}

inline void v_customer(decoder& d, frame& f, const val& v) {
    customer& out = *static_cast<customer*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.id); break;
    case 1: d.time(v, out.created_at); break;
    case 2: begin_metadata(d, v, out.metadata); break;
    case 3: d.boolean(v, out.email_verified); break;
    case 4: d.str(v, out.organization_id); break;
    case 5: // the dated API sends null for customers without an avatar
        if (v.kind == vk::null) out.avatar_url.clear();
        else if (v.kind != vk::string) d.type_error("string or null", v);
        else d.str(v, out.avatar_url);
        break;
    case 6: d.opt_time(v, out.modified_at); break;
    case 7: d.opt_str(v, out.external_id); break;
    case 8: // checked at the end
        f.flag = static_cast<std::uint8_t>(1 + static_cast<unsigned>(v.kind));
        if (v.kind == vk::string) out.email.assign(v.s.data(), v.s.size());
        break;
    case 9: d.opt_str(v, out.name); break;
    case 10:
        if (v.kind == vk::null) return out.billing_address.reset();
        if (v.kind != vk::object) return d.type_error("object", v);
        begin(d, fk::address, &out.billing_address.emplace());
        break;
    case 11:
        if (v.kind == vk::null) return out.tax_id.reset();
        if (v.kind != vk::array) return d.type_error("[value, format] array or null", v);
        begin(d, fk::tax_id, &out.tax_id.emplace());
        break;
    case 12: d.opt_time(v, out.deleted_at); break;
    case 13: d.enumeration(v, out.type); break;
    case 14: d.opt_str(v, out.billing_name); break;
    case 15: d.opt_str(v, out.locale); break;
    case 16: d.opt_str(v, out.default_payment_method_id); break;
    case 17: d.opt_time(v, out.first_user_event_at); break;
    default: break;
    }
}

inline void e_customer(decoder& d, frame& f) {
    if (!d.check_required(f)) return;
    customer& out = *static_cast<customer*>(f.target);
    const bool present = f.flag != 0;
    const vk kind = present ? static_cast<vk>(f.flag - 1) : vk::null;
    // Individuals (also 2025-03 customers, which have no type) must have an
    // email; teams and unknown types may have none.
    if (out.type == customer_type::individual) {
        if (!present) return d.missing("email");
        if (kind != vk::string) return d.fail_end(type_message("string", kind), "email");
    } else if (present && kind != vk::null) {
        if (kind != vk::string) return d.fail_end(type_message("string or null", kind), "email");
    } else {
        out.email.clear();
    }
}

// -- LLM and cost metadata ------------------------------------------------------------

inline void v_llm(decoder& d, frame& f, const val& v) {
    llm_metadata& out = *static_cast<llm_metadata*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.vendor); break;
    case 1: d.str(v, out.model); break;
    case 2: d.i64(v, out.input_tokens); break;
    case 3: d.i64(v, out.output_tokens); break;
    case 4: d.i64(v, out.total_tokens); break;
    case 5: d.opt_str(v, out.prompt); break;
    case 6: d.opt_str(v, out.response); break;
    case 7: d.opt_i64(v, out.cached_input_tokens); break;
    default: break;
    }
}

// A decimal sent as a number: its shortest text in fixed notation.
POLAR_COLD inline void decimal_text(const val& v, std::string& out) {
    char buf[400];
    std::to_chars_result res{};
    if (v.kind == vk::int64) res = std::to_chars(buf, buf + sizeof buf, v.i);
    else if (v.kind == vk::uint64) res = std::to_chars(buf, buf + sizeof buf, v.u);
    else res = std::to_chars(buf, buf + sizeof buf, v.d, std::chars_format::fixed);
    out.assign(buf, res.ec == std::errc() ? static_cast<std::size_t>(res.ptr - buf) : 0);
}

inline void v_cost(decoder& d, frame& f, const val& v) {
    cost_metadata& out = *static_cast<cost_metadata*>(f.target);
    switch (f.field) {
    case 0:
        if (v.kind == vk::string) {
            out.amount.assign(v.s.data(), v.s.size());
        } else if (v.kind == vk::int64 || v.kind == vk::uint64 || v.kind == vk::dbl) {
            if (v.kind == vk::dbl && !std::isfinite(v.d)) return d.not_finite();
            decimal_text(v, out.amount);
        } else {
            d.type_error("decimal string or number", v);
        }
        break;
    case 1: d.str(v, out.currency); break;
    default: break;
    }
}

// -- events ---------------------------------------------------------------------------

inline void v_event(decoder& d, frame& f, const val& v) {
    event& out = *static_cast<event*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.id); break;
    case 1: d.time(v, out.timestamp); break;
    case 2: d.str(v, out.name); break;
    case 3: d.enumeration(v, out.source); break;
    case 4: d.str(v, out.organization_id); break;
    case 5:
        if (v.kind != vk::object) return d.soft(event_any_slot, [&] { d.type_error("object", v); });
        out.metadata.clear();
        out.llm.reset();
        out.cost.reset();
        begin(d, fk::event_meta, &out);
        break;
    case 6: d.opt_str(v, out.customer_id); break;
    case 7: d.opt_str(v, out.external_customer_id); break;
    case 8:
        if (v.kind == vk::null) return out.customer.reset();
        if (v.kind != vk::object) return d.type_error("object", v);
        begin(d, fk::customer, &out.customer.emplace());
        break;
    case 9: d.str(v, out.label); break;
    case 10: d.i64(v, out.child_count); break;
    case 11: d.opt_str(v, out.parent_id); break;
    case 12: d.opt_str(v, out.member_id); break;
    case 13: d.opt_str(v, out.external_member_id); break;
    default: break;
    }
}

// The metadata of an event whose source may not be known yet (see the top).
inline void v_event_meta(decoder& d, frame& f, const val& v) {
    event& out = *static_cast<event*>(f.target);
    switch (v.kind) {
    case vk::string:
    case vk::int64:
    case vk::boolean:
    case vk::uint64: d.meta_entry(out.metadata, v); break;
    case vk::dbl:
        if (std::isfinite(v.d)) d.meta_entry(out.metadata, v);
        else d.not_finite(); // user events only: a system event skips it
        break;
    default:
        // Non-scalar values under `_` keys are Polar's structured metadata:
        // `_llm` and `_cost` are read, others skipped.
        if (!d.key_.empty() && d.key_[0] == '_') {
            if (v.kind == vk::object && d.key_ == "_llm") begin(d, fk::llm, &out.llm.emplace());
            else if (v.kind == vk::object && d.key_ == "_cost") begin(d, fk::cost, &out.cost.emplace());
        } else {
            d.type_error("string, integer or boolean", v);
        }
        break;
    }
}

inline void e_event(decoder& d, frame& f) {
    if (!d.check_required(f)) return;
    if (!d.slot_text(event_any_slot).empty()) return d.raise_slot(event_any_slot);
    event& out = *static_cast<event*>(f.target);
    if (out.source == event_source::user) {
        if (!d.slot_text(event_user_slot).empty()) d.raise_slot(event_user_slot);
        return;
    }
    d.slot_text(event_user_slot).clear();
    out.llm.reset();
    out.cost.reset();
    // The text of the event, taken from the body once it is complete.
    const bool in_page = d.depth() >= 3 && d.below_top().kind == fk::items;
    d.raw_events_.push_back(in_page ? static_cast<std::ptrdiff_t>(d.below_top().index) : -1);
}

// -- ingestion bodies -------------------------------------------------------------------

inline void v_event_create(decoder& d, frame& f, const val& v) {
    event_create& out = *static_cast<event_create*>(f.target);
    switch (f.field) {
    case 0: d.str(v, out.name); break;
    case 1: d.str(v, out.customer_id.emplace()); break;
    case 2: d.str(v, out.external_customer_id.emplace()); break;
    case 3: d.time(v, out.timestamp.emplace()); break;
    case 4:
        if (v.kind != vk::object) return d.type_error("object", v);
        out.metadata.emplace();
        begin(d, fk::create_meta, &out);
        break;
    case 5: d.opt_str(v, out.organization_id); break;
    case 6: d.opt_str(v, out.external_id); break;
    case 7: d.opt_str(v, out.parent_id); break;
    case 8: d.opt_str(v, out.member_id); break;
    case 9: d.opt_str(v, out.external_member_id); break;
    default: break;
    }
}

inline void e_event_create(decoder& d, frame& f) {
    if (!d.check_required(f)) return;
    const event_create& out = *static_cast<event_create*>(f.target);
    if (!out.customer_id && !out.external_customer_id)
        d.fail_end("missing required field: customer_id or external_customer_id");
}

// EventMetadataInput: `_llm` and `_cost` objects go to event_create::llm and
// ::cost (the map is left unset when they were all it held).
inline void v_create_meta(decoder& d, frame& f, const val& v) {
    event_create& out = *static_cast<event_create*>(f.target);
    if (v.kind == vk::object && d.key_ == "_llm") {
        f.flag = 1;
        begin(d, fk::llm, &out.llm.emplace());
    } else if (v.kind == vk::object && d.key_ == "_cost") {
        f.flag = 1;
        begin(d, fk::cost, &out.cost.emplace());
    } else {
        d.meta_entry(*out.metadata, v);
    }
}

inline void e_create_meta(decoder&, frame& f) {
    event_create& out = *static_cast<event_create*>(f.target);
    if (f.flag && out.metadata->empty()) out.metadata.reset();
}

inline void v_events_ingest(decoder& d, frame& f, const val& v) {
    if (f.field != 0) return;
    if (v.kind != vk::array) return d.type_error("array", v);
    auto& events = static_cast<events_ingest*>(f.target)->events;
    events.clear();
    begin(d, fk::events_arr, &events);
}

inline void v_events_arr(decoder& d, frame& f, const val& v) {
    if (v.kind != vk::object) return d.type_error("object", v);
    begin(d, fk::event_create, &static_cast<std::vector<event_create>*>(f.target)->emplace_back());
}

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
