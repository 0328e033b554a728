#ifndef POLAR_IMPL_EVENTS_IPP
#define POLAR_IMPL_EVENTS_IPP

#include <polar/detail/json_codec.hpp>
#include <polar/events.hpp>

namespace polar::detail {

POLAR_DECL http_call make_ingest_call(const events_ingest& body, const request_options& o) {
    http_call call;
    apply_options(call, o);
    call.verb = http_verb::post;
    call.idempotent = false;
    call.target = "/v1/events/ingest";
    call.body = encode(body);
    return call;
}

} // namespace polar::detail

#endif
