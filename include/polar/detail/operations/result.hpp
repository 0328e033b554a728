//
// polar-cpp: decoding an operation's result (internal): from a whole body or
// as the body arrives, and a page's context for fetching the next one.
//
#ifndef POLAR_DETAIL_OPERATIONS_RESULT_HPP
#define POLAR_DETAIL_OPERATIONS_RESULT_HPP

#include <polar/detail/call.hpp>
#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/stream_decoder.hpp>
#include <polar/detail/operations/client_state.hpp>
#include <polar/detail/response.hpp>
#include <polar/models.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace polar::detail::client_impl {

template <class T>
void set_page_context(T&, const std::shared_ptr<client_state>&, const http_call&) {}

template <class T>
void set_page_context(page<T>& p, const std::shared_ptr<client_state>& st, const http_call& call) {
    p.number = call.page;
    p.limit = call.limit;
    auto req = std::make_shared<page_request>();
    req->state = st;
    req->call = call;
    req->call.user_diag = nullptr;
    req->call.diagnostics_sink.reset();
    p.request_ = std::move(req);
}

template <class T>
void set_page_context(std::optional<page<T>>& p, const std::shared_ptr<client_state>& st, const http_call& call) {
    if (p) set_page_context(*p, st, call);
}

template <class T>
error_code decode_into(std::string_view body, T& out, std::string& what) {
    return decode(body, out, what);
}

template <class T>
error_code decode_into(std::string_view body, std::optional<page<T>>& out, std::string& what) {
    out.emplace();
    return decode(body, *out, what);
}

template <class T>
error_code decode_erased(std::string_view body, void* out, std::string& what) {
    return decode_into(body, *static_cast<T*>(out), what);
}

// The models stream_decoder builds; other results are decoded from the whole body.
template <class T>
concept streamable_result = requires(stream_decoder& d, T& v) { d.start(v); };
template <class T>
struct stream_target {
    using type = T;
    static T& of(T& v) { return v; }
};
template <class T>
struct stream_target<std::optional<page<T>>> {
    using type = page<T>;
    static page<T>& of(std::optional<page<T>>& v) { return v.emplace(); }
};

// Decodes a 2xx JSON body as it arrives, straight into the operation's
// result (as decode() of a whole body does): each attempt starts afresh.
template <class T>
class decode_sink final : public body_sink {
public:
    explicit decode_sink(T& target) noexcept : target_(target) {}

    void start(std::uint64_t declared_length) override {
        ec_ = {};
        what_.clear();
        dec_.start(stream_target<T>::of(target_));
        if (declared_length) dec_.expect(static_cast<std::size_t>(declared_length));
    }
    void put(std::string_view bytes) override {
        if (!ec_) ec_ = dec_.write_some(bytes, what_);
    }
    void finish() override {
        if (!ec_) ec_ = dec_.finish(what_);
    }
    error_code result(std::string& what) override {
        what = what_;
        return ec_;
    }

private:
    T& target_;
    stream_decoder dec_; // allocates its state at the first body it decodes
    error_code ec_;
    std::string what_;
};

} // namespace polar::detail::client_impl

#endif
