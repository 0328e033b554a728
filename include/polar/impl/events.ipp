#ifndef POLAR_IMPL_EVENTS_IPP
#define POLAR_IMPL_EVENTS_IPP

#include <polar/detail/json_codec.hpp>
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
    call.body = encode(body);
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
            call.precheck = make_error_code(errc::invalid_argument);
            call.precheck_message = "source: unknown event source";
        }
        q.add("source", to_string(v));
    }
    if (p.query) q.add("query", *p.query);
    if (p.parent_id) q.add("parent_id", *p.parent_id);
    if (p.depth) q.add("depth", *p.depth);
    if (p.limit) q.add("limit", *p.limit);
    for (auto s : p.sorting) {
        if (s == event_sort_property::unknown) {
            call.precheck = make_error_code(errc::invalid_argument);
            call.precheck_message = "sorting: unknown sort property";
        }
        q.add("sorting", to_string(s));
    }
    for (const auto& m : p.metadata) q.add_deep("metadata", m.key, m.value);
    call.paged = true;
    call.page = p.page.value_or(1);
    call.limit = p.limit.value_or(10);
    call.target = p.page ? with_page(target, *p.page) : target;
    call.page_base = std::move(target);
    return call;
}

POLAR_DECL http_call make_get_event_call(std::string_view id, const request_options& o) {
    http_call call;
    apply_options(call, o);
    if (id.empty()) {
        call.precheck = make_error_code(errc::invalid_argument);
        call.precheck_message = "event id must not be empty";
        return call;
    }
    call.target = "/v1/events/";
    append_encoded(call.target, id);
    return call;
}

} // namespace polar::detail

#endif
