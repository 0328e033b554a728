//
// polar-cpp testing: emulator_state's members and request dispatch.
//
// Evaluation order (MeterAPI.md §5.5, and FastAPI's own order): routing
// (404 / 405 / 307 slash redirects), body decoding (FastAPI reads the JSON
// before it resolves dependencies, so a malformed body is a 422 even without
// credentials), authentication and scopes (401 / 403), parameter and body
// validation (422, every error at once), existence and visibility (404),
// then business rules (422: organization_id, the update lock, the
// quantities range).
//
// Its parts: emulator_state_routes.ipp (route table, handler context),
// emulator_state_endpoints.ipp (the 2025-03 handlers), the dated versions'
// handlers (emulator_state_{meters,events,ingest,quantities_dated,
// customer_meters}.ipp), emulator_state_members.ipp (the public members).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_IPP

#include <polar/testing/impl/emulator_state_endpoints.ipp>

#include <polar/testing/impl/emulator_state_events.ipp>
#include <polar/testing/impl/emulator_state_ingest.ipp>
#include <polar/testing/impl/emulator_state_meters.ipp>
#include <polar/testing/impl/emulator_state_quantities_dated.ipp>
#include <polar/testing/impl/emulator_state_customer_meters.ipp>

namespace polar::testing {
namespace emu {

inline emulator_response dispatch(engine& self, const emulator_request& req, api_contract contract) {
    const parsed_target target = parse_target(req.target);
    handler_context cx{self, req, target, self.st, contract};
    const route_match m = match_route(target.path, contract);
    const std::string_view method = req.method;
    switch (m.r) {
    case route::meters_root:
        if (method == "GET") return cx.dated() ? list_meters_dated(cx) : list_meters(cx);
        if (method == "POST") return cx.dated() ? create_meter_dated(cx) : create_meter(cx);
        break;
    case route::meter:
        if (method == "GET") return get_meter(cx, m.id);
        if (method == "PATCH") return cx.dated() ? update_meter_dated(cx, m.id) : update_meter(cx, m.id);
        break;
    case route::meter_events:
        if (method == "GET") return meter_events(cx, m.id);
        break;
    case route::meter_quantities:
        if (method == "GET") return cx.dated() ? meter_quantities_dated(cx, m.id) : meter_quantities(cx, m.id);
        break;
    case route::events_ingest:
        if (method == "POST") return cx.dated() ? ingest_events_dated(cx) : ingest_events(cx);
        // Starlette keeps looking for a full match: GET /v1/events/ingest
        // is the dated versions' GET /v1/events/{id} (422 on the id).
        if (method == "GET" && cx.dated()) return get_event(cx, "ingest");
        break;
    case route::events_root:
        if (method == "GET") return list_events(cx);
        break;
    case route::event:
        if (method == "GET") return get_event(cx, m.id);
        break;
    case route::customer_meters_root:
        if (method == "GET") return list_customer_meters(cx);
        break;
    case route::customer_meter:
        if (method == "GET") return get_customer_meter(cx, m.id);
        break;
    case route::none: {
        // Starlette's redirect_slashes: toggle the trailing slash and
        // redirect (307, any method) when that path has a route.
        const std::string& path = target.path;
        if (path != "/" && !path.empty()) {
            std::string alt = path;
            if (alt.back() == '/') {
                while (!alt.empty() && alt.back() == '/') alt.pop_back();
            } else {
                alt.push_back('/');
            }
            if (match_route(alt, contract).r != route::none) {
                emulator_response r;
                r.status = 307;
                r.content_type.clear();
                std::string location;
                if (!req.host.empty()) {
                    location.append(req.scheme.empty() ? std::string_view("http") : req.scheme);
                    location.append("://");
                    location.append(req.host);
                }
                location.append(alt);
                if (!target.raw_query.empty()) {
                    location.push_back('?');
                    location.append(target.raw_query);
                }
                r.headers.emplace_back("location", std::move(location));
                return r;
            }
        }
        return detail_response(404, "Not Found");
    }
    }
    // The path matched but not the method: the first matching route's methods.
    auto r = detail_response(405, "Method Not Allowed");
    r.headers.emplace_back("Allow", m.r == route::events_ingest ? "POST" : "GET");
    return r;
}

} // namespace emu
} // namespace polar::testing

#include <polar/testing/impl/emulator_state_members.ipp>
#include <polar/testing/impl/emulator_state_rate_limit.ipp>

#endif
