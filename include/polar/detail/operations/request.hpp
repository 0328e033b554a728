//
// polar-cpp: the request on the wire, and the traces of requests and
// responses (internal).
//
#ifndef POLAR_DETAIL_OPERATIONS_REQUEST_HPP
#define POLAR_DETAIL_OPERATIONS_REQUEST_HPP

#include <polar/client.hpp>
#include <polar/detail/call.hpp>
#include <polar/detail/operations/client_state.hpp>
#include <polar/detail/response.hpp>

#include <boost/beast/core/string.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace polar::detail {

namespace beast = boost::beast;

namespace client_impl {

inline std::string_view verb_name(http_verb v) {
    switch (v) {
    case http_verb::get: return "GET";
    case http_verb::post: return "POST";
    case http_verb::patch: return "PATCH";
    }
    return "GET";
}

// The request as one buffer, written straight into the connection's reusable
// string: the start line, the client's fixed fields (Host, Authorization),
// User-Agent and Accept unless the call sets them, the call's extra fields
// (the last of a repeated name wins), and the body with its length.
// `auth_field` is the attempt's "Authorization: ...\r\n" when the token is
// not the client's fixed one (a token function or a per-call token).
inline void write_request(const client_state& st, const http_call& call, std::string& wire,
                          std::string_view auth_field = {}) {
    wire.clear();
    wire.append(verb_name(call.verb)).append(" ").append(st.ep.prefix).append(call.target).append(" HTTP/1.1\r\n");
    if (auth_field.empty())
        wire.append(st.fixed_fields);
    else
        wire.append(st.host_field).append(auth_field);
    auto overridden = [&](std::string_view name) {
        for (const auto& h : call.headers)
            if (beast::iequals(h.first, name)) return true;
        return false;
    };
    if (call.headers.empty() || !overridden("user-agent")) wire.append(st.user_agent_field);
    if (call.headers.empty() || !overridden("accept")) wire.append("Accept: application/json\r\n");
    if (call.version && call.version->is_dated()) wire.append("Polar-Version: ").append(call.version->str()).append("\r\n");
    for (std::size_t i = 0; i < call.headers.size(); ++i) {
        const auto& [name, value] = call.headers[i];
        bool repeated = false;
        for (std::size_t j = i + 1; j < call.headers.size() && !repeated; ++j)
            repeated = beast::iequals(call.headers[j].first, name);
        if (!repeated) wire.append(name).append(": ").append(value).append("\r\n");
    }
    if (call.verb != http_verb::get) {
        wire.append("Content-Type: application/json\r\nContent-Length: ")
            .append(std::to_string(call.body.size()))
            .append("\r\n");
    }
    wire.append("\r\n").append(call.body);
}

// Replaces every occurrence of `secret` in `text` with "***".
inline void mask(std::string& text, std::string_view secret) {
    if (secret.empty()) return;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
        text.replace(at, secret.size(), "***");
}

// `secret`: the bare token of the attempt.
inline void trace(const client_state& st, const http_call& call, int attempt, trace_record::direction dir,
                  std::string head, std::size_t body_size, std::string_view secret) {
    mask(head, secret);
    trace_record r;
    r.dir = dir;
    r.method = verb_name(call.verb);
    r.target = call.target;
    r.attempt = attempt;
    r.head = head;
    r.body_size = body_size;
    try {
        st.opts.on_trace(r);
    } catch (...) {
    }
}

// The request head of `wire` (as written by write_request with
// `auth_field`), Authorization masked.
inline void trace_request(const client_state& st, const http_call& call, int attempt, const std::string& wire,
                          std::string_view auth_field, std::string_view secret) {
    const auto start_line = wire.find("\r\n") + 2;
    const auto end = wire.size() - call.body.size() - 2; // before the blank line
    const auto fields = auth_field.empty() ? st.fixed_fields.size() : st.host_field.size() + auth_field.size();
    std::string head = wire.substr(0, start_line);
    head += st.fixed_fields_masked;
    head.append(wire, start_line + fields, end - start_line - fields);
    trace(st, call, attempt, trace_record::direction::request, std::move(head), call.body.size(), secret);
}

inline void trace_response(const client_state& st, const http_call& call, int attempt,
                           const response_parser::value_type& res, std::string_view secret) {
    std::string head = "HTTP/1.1 ";
    head += std::to_string(res.result_int());
    head += ' ';
    head.append(res.reason());
    head += "\r\n";
    for (const auto& f : res) head.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
    trace(st, call, attempt, trace_record::direction::response, std::move(head),
          static_cast<std::size_t>(res.body().received), secret);
}

} // namespace client_impl
} // namespace polar::detail

#endif
