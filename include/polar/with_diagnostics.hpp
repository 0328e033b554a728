//
// polar-cpp: the completion token adapter that turns errors into exceptions.
//
#ifndef POLAR_WITH_DIAGNOSTICS_HPP
#define POLAR_WITH_DIAGNOSTICS_HPP

#include <polar/error.hpp>

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace polar {

/**
 * @brief Wraps a completion token so that a failed operation completes with
 * an exception (`api_error` or one of its subclasses) carrying the full
 * `diagnostics`, instead of a bare error_code.
 *
 * @details Only for polar operations (signature `void(error_code, T)`); the
 * adapted signature is `void(std::exception_ptr, T)`. It is part of the
 * default token, `polar::default_token`, so that
 * `co_await client.meters().get(id)` throws `not_found_error` with the
 * server's message. Pass `asio::as_tuple(asio::deferred)` or a callback to get
 * the error_code instead (and `request_options::diagnostics` for details).
 */
template <class CompletionToken>
struct with_diagnostics_t {
    CompletionToken token;
};

/// Makes a `with_diagnostics_t` from any completion token.
template <class CompletionToken>
with_diagnostics_t<std::decay_t<CompletionToken>> with_diagnostics(CompletionToken&& token) {
    return {std::forward<CompletionToken>(token)};
}

/// The default completion token of every operation: an awaitable that throws.
using default_token = with_diagnostics_t<boost::asio::use_awaitable_t<>>;

namespace detail {

template <class Handler, class T>
struct rethrowing_handler {
    Handler handler;
    std::shared_ptr<diagnostics> sink;

    void operator()(error_code ec, T value) {
        if (ec) {
            diagnostics d = sink ? std::move(*sink) : diagnostics{};
            std::move(handler)(make_api_exception(ec, std::move(d)), T{});
        } else {
            std::move(handler)(std::exception_ptr(), std::move(value));
        }
    }
};

// Operations pass their request description as the single initiation
// argument; it has a `diagnostics_sink` member the adapter fills in.
template <class Arg>
Arg attach_sink(Arg arg, const std::shared_ptr<diagnostics>& sink) {
    arg.diagnostics_sink = sink;
    return arg;
}

template <class Initiation>
struct with_diagnostics_initiation {
    Initiation initiation;

    template <class Handler, class... Args>
    void operator()(Handler&& handler, Args&&... args) && {
        using value_type = typename Initiation::value_type;
        auto sink = std::make_shared<diagnostics>();
        std::move(initiation)(
            rethrowing_handler<std::decay_t<Handler>, value_type>{std::forward<Handler>(handler), sink},
            attach_sink(std::forward<Args>(args), sink)...);
    }
};

} // namespace detail
} // namespace polar

namespace boost::asio {

template <class CompletionToken, class T>
class async_result<polar::with_diagnostics_t<CompletionToken>, void(polar::error_code, T)> {
public:
    template <class Initiation, class RawToken, class... Args>
    static auto initiate(Initiation&& initiation, RawToken&& token, Args&&... args) {
        return async_initiate<CompletionToken, void(std::exception_ptr, T)>(
            polar::detail::with_diagnostics_initiation<std::decay_t<Initiation>>{
                std::forward<Initiation>(initiation)},
            token.token, std::forward<Args>(args)...);
    }
};

template <template <class, class> class Associator, class Handler, class T, class DefaultCandidate>
struct associator<Associator, polar::detail::rethrowing_handler<Handler, T>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const polar::detail::rethrowing_handler<Handler, T>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const polar::detail::rethrowing_handler<Handler, T>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};

} // namespace boost::asio

#endif
