#ifndef POLAR_DETAIL_CODEC_ENCODE_REQUESTS_IPP
#define POLAR_DETAIL_CODEC_ENCODE_REQUESTS_IPP

// Encoding, part 3: the request bodies (meter create and update, event create,
// events ingest), with only the keys that were set.

#include <polar/detail/codec/encode_models.ipp>

#include <cstddef>

namespace polar {
namespace detail {
namespace json_encode_impl {

inline void write_meter_create(writer& w, const meter_create& m) {
    w.raw("{\"name\":");
    w.str(m.name);
    w.raw(",\"filter\":");
    write_filter(w, m.filter);
    w.raw(",\"aggregation\":");
    write_aggregation(w, m.aggregation);
    if (m.metadata) {
        w.raw(",\"metadata\":");
        w.meta(*m.metadata);
    }
    if (m.organization_id) {
        w.raw(",\"organization_id\":");
        w.str(*m.organization_id);
    }
    if (m.unit) {
        w.raw(",\"unit\":");
        w.str(m.unit->wire());
    }
    if (m.custom_label) {
        w.raw(",\"custom_label\":");
        w.str(*m.custom_label);
    }
    if (m.custom_multiplier) {
        w.raw(",\"custom_multiplier\":");
        w.i64(*m.custom_multiplier);
    }
    w.raw('}');
}

inline void write_meter_update(writer& w, const meter_update& m) {
    w.raw('{');
    bool first = true;
    if (m.name) {
        w.member(first, "name");
        w.str(*m.name);
    }
    if (!m.filter.is_absent()) {
        w.member(first, "filter");
        if (const filter* f = m.filter.get()) write_filter(w, *f);
        else w.null();
    }
    if (!m.aggregation.is_absent()) {
        w.member(first, "aggregation");
        if (const aggregation* a = m.aggregation.get()) write_aggregation(w, *a);
        else w.null();
    }
    if (m.metadata) {
        w.member(first, "metadata");
        w.meta(*m.metadata);
    }
    if (!m.unit.is_absent()) {
        w.member(first, "unit");
        if (const auto* u = m.unit.get()) w.str(u->wire());
        else w.null();
    }
    if (!m.custom_label.is_absent()) {
        w.member(first, "custom_label");
        if (const std::string* l = m.custom_label.get()) w.str(*l);
        else w.null();
    }
    if (!m.custom_multiplier.is_absent()) {
        w.member(first, "custom_multiplier");
        if (const std::int64_t* n = m.custom_multiplier.get()) w.i64(*n);
        else w.null();
    }
    if (m.is_archived) {
        w.member(first, "is_archived");
        w.boolean(*m.is_archived);
    }
    w.raw('}');
}

inline void write_event_create(writer& w, const event_create& e) {
    w.raw("{\"name\":");
    w.str(e.name);
    if (e.customer_id) {
        w.raw(",\"customer_id\":");
        w.str(*e.customer_id);
    }
    if (e.external_customer_id) {
        w.raw(",\"external_customer_id\":");
        w.str(*e.external_customer_id);
    }
    if (e.timestamp) {
        w.raw(",\"timestamp\":");
        w.time(*e.timestamp);
    }
    if (e.metadata || e.llm || e.cost) {
        w.raw(",\"metadata\":");
        write_event_metadata(w, e.metadata ? &*e.metadata : nullptr, e.llm, e.cost);
    }
    if (e.organization_id) {
        w.raw(",\"organization_id\":");
        w.str(*e.organization_id);
    }
    if (e.external_id) {
        w.raw(",\"external_id\":");
        w.str(*e.external_id);
    }
    if (e.parent_id) {
        w.raw(",\"parent_id\":");
        w.str(*e.parent_id);
    }
    if (e.member_id) {
        w.raw(",\"member_id\":");
        w.str(*e.member_id);
    }
    if (e.external_member_id) {
        w.raw(",\"external_member_id\":");
        w.str(*e.external_member_id);
    }
    w.raw('}');
}

inline void write_events_ingest(writer& w, const events_ingest& in) {
    w.raw("{\"events\":[");
    bool first = true;
    std::size_t i = 0;
    for (const event_create& e : in.events) {
        if (!first) w.raw(',');
        first = false;
        w.nested("events", i++, [&] { write_event_create(w, e); });
    }
    w.raw("]}");
}

} // namespace json_encode_impl
} // namespace detail
} // namespace polar

#endif
