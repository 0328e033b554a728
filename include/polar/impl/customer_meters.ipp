#ifndef POLAR_IMPL_CUSTOMER_METERS_IPP
#define POLAR_IMPL_CUSTOMER_METERS_IPP

#include <polar/customer_meters.hpp>
#include <polar/detail/url.hpp>

namespace polar::detail {

POLAR_DECL http_call make_list_customer_meters_call(const list_customer_meters_params& p, const request_options& o) {
    http_call call;
    apply_options(call, o);
    std::string target = "/v1/customer-meters/";
    query_builder q(target);
    for (auto v : p.organization_id) q.add("organization_id", v);
    for (auto v : p.customer_id) q.add("customer_id", v);
    for (auto v : p.external_customer_id) q.add("external_customer_id", v);
    for (auto v : p.meter_id) q.add("meter_id", v);
    if (p.limit) q.add("limit", *p.limit);
    add_sorting(call, q, p.sorting);
    set_paged(call, std::move(target), p.page, p.limit);
    return call;
}

POLAR_DECL http_call make_get_customer_meter_call(std::string_view id, const request_options& o) {
    http_call call;
    apply_options(call, o);
    if (!check_id(call, id, "customer meter")) return call;
    call.target = "/v1/customer-meters/";
    append_encoded(call.target, id);
    return call;
}

} // namespace polar::detail

#endif
