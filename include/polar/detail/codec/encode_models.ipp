#ifndef POLAR_DETAIL_CODEC_ENCODE_MODELS_IPP
#define POLAR_DETAIL_CODEC_ENCODE_MODELS_IPP

// Encoding, part 2: the models as the server writes them (meters and their
// filters and aggregations, customers, events and their metadata, customer
// meters, pages).

#include <polar/detail/codec/encode_writer.ipp>

#include <cstddef>
#include <optional>

namespace polar {
namespace detail {
namespace json_encode_impl {

inline void write_filter(writer& w, const filter& f);

inline void write_clause(writer& w, const filter_clause& c) {
    w.raw("{\"property\":");
    w.str(c.property);
    w.raw(",\"operator\":");
    w.str(c.op.wire());
    w.raw(",\"value\":");
    w.scalar(c.value);
    w.raw('}');
}

inline void write_filter(writer& w, const filter& f) {
    w.raw("{\"conjunction\":");
    w.str(f.conjunction.wire());
    w.raw(",\"clauses\":[");
    bool first = true;
    for (const filter_node& n : f.clauses) {
        if (!first) w.raw(',');
        first = false;
        if (n.is_clause()) write_clause(w, n.as_clause());
        else write_filter(w, n.as_filter());
    }
    w.raw("]}");
}

inline void write_aggregation(writer& w, const aggregation& a) {
    w.raw("{\"func\":");
    w.str(a.func_name());
    if (a.is_property_aggregation() || (a.is_unknown() && !a.property().empty())) {
        w.raw(",\"property\":");
        w.str(a.property());
    }
    w.raw('}');
}

inline void write_meter(writer& w, const meter& m) {
    w.raw("{\"id\":");
    w.str(m.id);
    w.raw(",\"created_at\":");
    w.time(m.created_at);
    w.raw(",\"modified_at\":");
    w.opt_time(m.modified_at);
    w.raw(",\"metadata\":");
    w.meta(m.metadata);
    w.raw(",\"name\":");
    w.str(m.name);
    w.raw(",\"filter\":");
    write_filter(w, m.filter);
    w.raw(",\"aggregation\":");
    write_aggregation(w, m.aggregation);
    w.raw(",\"organization_id\":");
    w.str(m.organization_id);
    w.raw(",\"unit\":");
    w.str(m.unit.wire());
    w.raw(",\"custom_label\":");
    w.opt_str(m.custom_label);
    w.raw(",\"custom_multiplier\":");
    if (m.custom_multiplier) w.i64(*m.custom_multiplier);
    else w.null();
    w.raw(",\"archived_at\":");
    w.opt_time(m.archived_at);
    w.raw('}');
}

inline void write_address(writer& w, const address& a) {
    w.raw("{\"line1\":");
    w.opt_str(a.line1);
    w.raw(",\"line2\":");
    w.opt_str(a.line2);
    w.raw(",\"postal_code\":");
    w.opt_str(a.postal_code);
    w.raw(",\"city\":");
    w.opt_str(a.city);
    w.raw(",\"state\":");
    w.opt_str(a.state);
    w.raw(",\"country\":");
    w.str(a.country);
    w.raw('}');
}

inline void write_customer(writer& w, const customer& c) {
    w.raw("{\"id\":");
    w.str(c.id);
    w.raw(",\"created_at\":");
    w.time(c.created_at);
    w.raw(",\"modified_at\":");
    w.opt_time(c.modified_at);
    w.raw(",\"metadata\":");
    w.meta(c.metadata);
    w.raw(",\"external_id\":");
    w.opt_str(c.external_id);
    w.raw(",\"email\":");
    if (c.email.empty() && c.type != customer_type::individual) w.null();
    else w.str(c.email);
    w.raw(",\"email_verified\":");
    w.boolean(c.email_verified);
    w.raw(",\"name\":");
    w.opt_str(c.name);
    w.raw(",\"billing_address\":");
    if (c.billing_address) write_address(w, *c.billing_address);
    else w.null();
    w.raw(",\"tax_id\":");
    if (c.tax_id) {
        w.raw('[');
        w.str(c.tax_id->value);
        w.raw(',');
        w.str(c.tax_id->format.wire());
        w.raw(']');
    } else {
        w.null();
    }
    w.raw(",\"organization_id\":");
    w.str(c.organization_id);
    w.raw(",\"deleted_at\":");
    w.opt_time(c.deleted_at);
    w.raw(",\"avatar_url\":");
    w.str(c.avatar_url);
    w.raw(",\"type\":");
    w.str(c.type.wire());
    w.raw(",\"billing_name\":");
    w.opt_str(c.billing_name);
    w.raw(",\"locale\":");
    w.opt_str(c.locale);
    w.raw(",\"default_payment_method_id\":");
    w.opt_str(c.default_payment_method_id);
    w.raw(",\"first_user_event_at\":");
    w.opt_time(c.first_user_event_at);
    w.raw('}');
}

inline void write_llm(writer& w, const llm_metadata& l) {
    w.raw("{\"vendor\":");
    w.str(l.vendor);
    w.raw(",\"model\":");
    w.str(l.model);
    w.raw(",\"input_tokens\":");
    w.i64(l.input_tokens);
    w.raw(",\"output_tokens\":");
    w.i64(l.output_tokens);
    w.raw(",\"total_tokens\":");
    w.i64(l.total_tokens);
    if (l.prompt) {
        w.raw(",\"prompt\":");
        w.str(*l.prompt);
    }
    if (l.response) {
        w.raw(",\"response\":");
        w.str(*l.response);
    }
    if (l.cached_input_tokens) {
        w.raw(",\"cached_input_tokens\":");
        w.i64(*l.cached_input_tokens);
    }
    w.raw('}');
}

inline void write_cost(writer& w, const cost_metadata& c) {
    w.raw("{\"amount\":");
    w.str(c.amount);
    w.raw(",\"currency\":");
    w.str(c.currency);
    w.raw('}');
}

// A metadata object with the structured keys `_llm` and `_cost`.
inline void write_event_metadata(writer& w, const metadata* m, const std::optional<llm_metadata>& llm,
                                 const std::optional<cost_metadata>& cost) {
    w.raw('{');
    bool first = true;
    if (m) w.meta_entries(*m, first, llm.has_value(), cost.has_value());
    if (llm) {
        w.member(first, "_llm");
        write_llm(w, *llm);
    }
    if (cost) {
        w.member(first, "_cost");
        write_cost(w, *cost);
    }
    w.raw('}');
}

inline void write_event(writer& w, const event& e) {
    if (!e.raw_json.empty()) {
        w.raw(e.raw_json);
        return;
    }
    w.raw("{\"id\":");
    w.str(e.id);
    w.raw(",\"timestamp\":");
    w.time(e.timestamp);
    w.raw(",\"name\":");
    w.str(e.name);
    w.raw(",\"source\":");
    w.str(e.source.wire());
    w.raw(",\"organization_id\":");
    w.str(e.organization_id);
    w.raw(",\"customer_id\":");
    w.opt_str(e.customer_id);
    w.raw(",\"external_customer_id\":");
    w.opt_str(e.external_customer_id);
    w.raw(",\"customer\":");
    if (e.customer) w.nested("customer", [&] { write_customer(w, *e.customer); });
    else w.null();
    w.raw(",\"metadata\":");
    write_event_metadata(w, &e.metadata, e.llm, e.cost);
    w.raw(",\"label\":");
    w.str(e.label);
    w.raw(",\"child_count\":");
    w.i64(e.child_count);
    w.raw(",\"parent_id\":");
    w.opt_str(e.parent_id);
    w.raw(",\"member_id\":");
    w.opt_str(e.member_id);
    w.raw(",\"external_member_id\":");
    w.opt_str(e.external_member_id);
    w.raw('}');
}

inline void write_customer_meter(writer& w, const customer_meter& c) {
    w.raw("{\"id\":");
    w.str(c.id);
    w.raw(",\"created_at\":");
    w.time(c.created_at);
    w.raw(",\"modified_at\":");
    w.opt_time(c.modified_at);
    w.raw(",\"customer_id\":");
    w.str(c.customer_id);
    w.raw(",\"meter_id\":");
    w.str(c.meter_id);
    w.raw(",\"consumed_units\":");
    w.number(c.consumed_units);
    w.raw(",\"credited_units\":");
    w.i64(c.credited_units);
    w.raw(",\"balance\":");
    w.number(c.balance);
    w.raw(",\"customer\":");
    w.nested("customer", [&] { write_customer(w, c.customer); });
    w.raw(",\"meter\":");
    w.nested("meter", [&] { write_meter(w, c.meter); });
    w.raw('}');
}

inline void write_pagination(writer& w, const pagination& p) {
    w.raw("{\"total_count\":");
    w.i64(p.total_count);
    w.raw(",\"max_page\":");
    w.i64(p.max_page);
    w.raw('}');
}

template <class T, class WriteItem>
void write_page(writer& w, const page<T>& p, WriteItem write_item) {
    w.raw("{\"items\":[");
    bool first = true;
    std::size_t i = 0;
    for (const T& item : p.items) {
        if (!first) w.raw(',');
        first = false;
        w.nested("items", i++, [&] { write_item(w, item); });
    }
    w.raw("],\"pagination\":");
    write_pagination(w, p.pagination);
    w.raw('}');
}

} // namespace json_encode_impl
} // namespace detail
} // namespace polar

#endif
