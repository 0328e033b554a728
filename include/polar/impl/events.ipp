#ifndef POLAR_IMPL_EVENTS_IPP
#define POLAR_IMPL_EVENTS_IPP

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/url.hpp>
#include <polar/events.hpp>

#include <algorithm>

namespace polar::detail {

POLAR_DECL http_call make_ingest_call(const events_ingest& body, const request_options& o, api_version version) {
    http_call call;
    apply_options(call, o);
    call.verb = http_verb::post;
    // The dated versions drop an event whose external_id is already stored
    // (MeterAPI-2026-10 §3.9): resending a batch in which every event has
    // one cannot count anything twice.
    call.idempotent = version.is_dated() && !body.events.empty() &&
                      std::all_of(body.events.begin(), body.events.end(),
                                  [](const event_create& e) { return e.external_id && !e.external_id->empty(); });
    call.target = "/v1/events/ingest";
    // A body that cannot be encoded (a NaN in metadata) fails before sending.
    std::string what;
    if (auto ec = encode(body, call.body, what)) fail_precheck(call, ec, std::move(what));
    return call;
}

POLAR_DECL http_call make_list_events_call(const list_events_params& p, const request_options& o) {
    http_call call;
    apply_options(call, o);
    std::string target = "/v1/events/";
    query_builder q(target);
    if (p.filter) q.add("filter", encode(*p.filter));
    if (p.start_timestamp) q.add("start_timestamp", format_timestamp(*p.start_timestamp));
    if (p.end_timestamp) q.add("end_timestamp", format_timestamp(*p.end_timestamp));
    for (auto v : p.organization_id) q.add("organization_id", v);
    for (auto v : p.customer_id) q.add("customer_id", v);
    for (auto v : p.external_customer_id) q.add("external_customer_id", v);
    if (p.meter_id) q.add("meter_id", *p.meter_id);
    for (auto v : p.name) q.add("name", v);
    for (auto v : p.source) {
        if (v == event_source::unknown) {
            fail_precheck(call, make_error_code(errc::invalid_argument), "source: unknown event source");
        }
        q.add("source", to_string(v));
    }
    if (p.query) q.add("query", *p.query);
    if (p.parent_id) q.add("parent_id", *p.parent_id);
    if (p.depth) q.add("depth", *p.depth);
    if (p.limit) q.add("limit", *p.limit);
    add_sorting(call, q, p.sorting);
    for (const auto& m : p.metadata) q.add_deep("metadata", m.key, m.value);
    set_paged(call, std::move(target), p.page, p.limit);
    return call;
}

POLAR_DECL http_call make_get_event_call(std::string_view id, const request_options& o) {
    http_call call;
    apply_options(call, o);
    if (!check_id(call, id, "event")) return call;
    call.target = "/v1/events/";
    append_encoded(call.target, id);
    return call;
}

} // namespace polar::detail

#endif
