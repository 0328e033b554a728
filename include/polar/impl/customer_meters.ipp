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
    for (auto s : p.sorting) {
        if (s == customer_meter_sort_property::unknown) {
            call.precheck = make_error_code(errc::invalid_argument);
            call.precheck_message = "sorting: unknown sort property";
        }
        q.add("sorting", to_string(s));
    }
    call.paged = true;
    call.page = p.page.value_or(1);
    call.limit = p.limit.value_or(10);
    call.target = p.page ? with_page(target, *p.page) : target;
    call.page_base = std::move(target);
    return call;
}

POLAR_DECL http_call make_get_customer_meter_call(std::string_view id, const request_options& o) {
    http_call call;
    apply_options(call, o);
    if (id.empty()) {
        call.precheck = make_error_code(errc::invalid_argument);
        call.precheck_message = "customer meter id must not be empty";
        return call;
    }
    call.target = "/v1/customer-meters/";
    append_encoded(call.target, id);
    return call;
}

} // namespace polar::detail

#endif
