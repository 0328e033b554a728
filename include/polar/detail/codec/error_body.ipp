#ifndef POLAR_DETAIL_CODEC_ERROR_BODY_IPP
#define POLAR_DETAIL_CODEC_ERROR_BODY_IPP

// Error bodies (4xx/5xx) are small and read best-effort, so they keep the
// DOM (dom/document.ipp), then pick the fields.

#include <polar/detail/codec/dom/document.ipp>

#include <string>

namespace polar {
namespace detail {
namespace json_decode_impl {

inline void read_validation_error(const bj::object& o, validation_error& out) {
    if (const bj::value* loc = o.if_contains("loc")) {
        if (const bj::array* a = loc->if_array()) {
            out.loc.reserve(a->size());
            for (const bj::value& item : *a) {
                if (const bj::string* s = item.if_string())
                    out.loc.emplace_back(std::in_place_index<0>, s->data(), s->size());
                else if (item.is_int64())
                    out.loc.emplace_back(std::in_place_index<1>, item.get_int64());
                else if (item.is_uint64())
                    out.loc.emplace_back(std::in_place_index<1>, static_cast<std::int64_t>(item.get_uint64()));
                else
                    out.loc.emplace_back(std::in_place_index<0>, bj::serialize(item));
            }
        }
    }
    if (const bj::value* msg = o.if_contains("msg"))
        if (const bj::string* s = msg->if_string()) out.msg.assign(s->data(), s->size());
    if (const bj::value* type = o.if_contains("type"))
        if (const bj::string* s = type->if_string()) out.type.assign(s->data(), s->size());
    if (const bj::value* input = o.if_contains("input")) out.input = bj::serialize(*input);
    if (const bj::value* ctx = o.if_contains("ctx")) out.ctx = bj::serialize(*ctx);
}


} // namespace json_decode_impl

POLAR_DECL void decode_error_body(std::string_view body, diagnostics& out) noexcept {
    namespace bj = boost::json;
    try {
        std::string ignored;
        json_decode_impl::with_document(body, ignored, [&](const bj::value& root) {
            const bj::object* o = root.if_object();
            if (!o) return false;
            if (const bj::value* e = o->if_contains("error"))
                if (const bj::string* s = e->if_string()) out.error.assign(s->data(), s->size());
            const bj::value* detail = o->if_contains("detail");
            if (detail && detail->is_string()) {
                out.detail.assign(detail->get_string().data(), detail->get_string().size());
            } else if (const bj::value* d = o->if_contains("error_description")) {
                if (const bj::string* s = d->if_string()) out.detail.assign(s->data(), s->size());
            }
            if (detail && detail->is_array()) {
                const bj::array& a = detail->get_array();
                out.validation_errors.reserve(out.validation_errors.size() + a.size());
                for (const bj::value& item : a) {
                    if (const bj::object* io = item.if_object())
                        json_decode_impl::read_validation_error(*io, out.validation_errors.emplace_back());
                }
            }
            return true;
        });
    } catch (...) {
        // Best effort: keep whatever was filled before the failure.
    }
}

} // namespace detail
} // namespace polar

#endif
