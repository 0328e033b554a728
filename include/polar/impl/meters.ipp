#ifndef POLAR_IMPL_METERS_IPP
#define POLAR_IMPL_METERS_IPP

#include <polar/detail/codec/codec.hpp>
#include <polar/detail/url.hpp>
#include <polar/meters.hpp>

namespace polar::detail {

namespace meters_impl {

inline std::string meter_path(std::string_view id, std::string_view suffix = {}) {
    constexpr std::string_view base = "/v1/meters/";
    std::string out;
    out.reserve(base.size() + id.size() + suffix.size()); // exact unless the id needs escapes
    out += base;
    append_encoded(out, id);
    out += suffix;
    return out;
}
} // namespace meters_impl
using namespace meters_impl;

POLAR_DECL http_call make_list_meters_call(const list_meters_params& p, const request_options& o) {
    http_call call;
    apply_options(call, o);
    std::string target = "/v1/meters/";
    query_builder q(target);
    for (auto org : p.organization_id) q.add("organization_id", org);
    if (p.query) q.add("query", *p.query);
    if (p.limit) q.add("limit", *p.limit);
    add_sorting(call, q, p.sorting);
    for (const auto& m : p.metadata) q.add_deep("metadata", m.key, m.value);
    if (p.is_archived) q.add("is_archived", *p.is_archived ? "true" : "false");
    set_paged(call, std::move(target), p.page, p.limit);
    return call;
}

POLAR_DECL http_call make_get_meter_call(std::string_view id, const request_options& o) {
    http_call call;
    apply_options(call, o);
    if (check_id(call, id, "meter")) call.target = meter_path(id);
    return call;
}

POLAR_DECL http_call make_create_meter_call(const meter_create& body, const request_options& o) {
    http_call call;
    apply_options(call, o);
    call.verb = http_verb::post;
    call.idempotent = false;
    call.target = "/v1/meters/";
    // A body that cannot be encoded (a NaN in metadata) fails before sending.
    std::string what;
    if (auto ec = encode(body, call.body, what)) fail_precheck(call, ec, std::move(what));
    return call;
}

POLAR_DECL http_call make_update_meter_call(std::string_view id, const meter_update& body, const request_options& o) {
    http_call call;
    apply_options(call, o);
    call.verb = http_verb::patch;
    if (check_id(call, id, "meter")) call.target = meter_path(id);
    std::string what;
    if (auto ec = encode(body, call.body, what)) fail_precheck(call, ec, std::move(what));
    return call;
}

POLAR_DECL http_call make_update_meter_call(std::string_view id, const update_meter_params& p,
                                            const request_options& o) {
    meter_update body;
    if (p.name) body.set_name(std::string(*p.name));
    if (p.filter) body.set_filter(*p.filter);
    if (p.aggregation) body.set_aggregation(*p.aggregation);
    if (p.metadata) body.set_metadata(*p.metadata);
    if (p.unit) body.set_unit(*p.unit);
    if (p.custom_label) body.set_custom_label(std::string(*p.custom_label));
    if (p.custom_multiplier) body.set_custom_multiplier(*p.custom_multiplier);
    if (p.is_archived) body.set_is_archived(*p.is_archived);
    return make_update_meter_call(id, body, o);
}

POLAR_DECL http_call make_meter_events_call(std::string_view id, const meter_events_params& p,
                                            const request_options& o, api_version version) {
    http_call call;
    apply_options(call, o);
    if (!check_id(call, id, "meter")) return call;
    // The dated versions removed `/v1/meters/{id}/events` in favour of the
    // events list filtered by meter (newest first there too, its default
    // sorting `-timestamp`).
    std::string target = version.is_dated() ? std::string("/v1/events/") : meter_path(id, "/events");
    query_builder q(target);
    if (version.is_dated()) {
        q.add("meter_id", id);
        call.unknown_meter_is_not_found = true;
    }
    if (p.limit) q.add("limit", *p.limit);
    set_paged(call, std::move(target), p.page, p.limit);
    return call;
}

POLAR_DECL http_call make_meter_quantities_call(std::string_view id, const meter_quantities_params& p,
                                                const request_options& o) {
    http_call call;
    apply_options(call, o);
    if (!check_id(call, id, "meter")) return call;
    if (p.interval.value() == time_interval::unknown) {
        fail_precheck(call, make_error_code(errc::invalid_argument), "interval: unknown time interval");
        return call;
    }
    std::string target = meter_path(id, "/quantities");
    query_builder q(target);
    q.add("start_timestamp", format_timestamp(p.start_timestamp));
    q.add("end_timestamp", format_timestamp(p.end_timestamp));
    q.add("interval", to_string(p.interval.value()));
    for (auto c : p.customer_id) q.add("customer_id", c);
    for (auto c : p.external_customer_id) q.add("external_customer_id", c);
    if (p.timezone) q.add("timezone", *p.timezone);
    if (p.customer_aggregation_function) {
        if (*p.customer_aggregation_function == aggregation_function::unknown) {
            fail_precheck(call, make_error_code(errc::invalid_argument), "customer_aggregation_function: unknown aggregation function");
            return call;
        }
        q.add("customer_aggregation_function", to_string(*p.customer_aggregation_function));
    }
    for (const auto& m : p.metadata) q.add_deep("metadata", m.key, m.value);
    call.target = std::move(target);
    return call;
}

POLAR_DECL http_call make_next_page_call(const page_request* req, std::int64_t number, std::int64_t max_page) {
    http_call call;
    if (!req) {
        fail_precheck(call, make_error_code(errc::invalid_argument), "page::next(): this page did not come from a client");
        return call;
    }
    call = req->call;
    call.diagnostics_sink.reset();
    call.precheck = {};
    call.page = number;
    call.target = with_page(call.page_base, number);
    call.skip = number > max_page;
    return call;
}

} // namespace polar::detail

#endif
