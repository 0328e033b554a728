//
// polar-cpp: incremental decoding of the models (the body fed as it arrives).
//
// This header declares only; Boost.JSON is included by the implementation
// (detail/codec/stream/entry.ipp).
//
#ifndef POLAR_DETAIL_CODEC_STREAM_DECODER_HPP
#define POLAR_DETAIL_CODEC_STREAM_DECODER_HPP

#include <polar/detail/config.hpp>
#include <polar/error.hpp>
#include <polar/models/customer_meter.hpp>
#include <polar/models/event.hpp>
#include <polar/models/meter.hpp>
#include <polar/models/meter_quantities.hpp>
#include <polar/models/page.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace polar {
namespace detail {

/**
 * @brief Decodes a model from JSON fed in pieces, without building a DOM.
 *
 * @details start() chooses the model and resets it; write_some() takes the
 * next bytes of the document (a piece may end anywhere, even inside a token);
 * finish() says the document is complete. The models are built as the bytes
 * arrive, with the rules, limits and messages of decode() (codec.hpp):
 * the outcome and `out` are the same as decode() of the concatenated pieces.
 *
 * Errors: write_some() and finish() return errc::invalid_response with `what`
 * set once the document is known to be bad (invalid JSON at once; a value of
 * the wrong type when the document is complete, since invalid JSON later in
 * the body takes precedence, as in decode()). Invalid JSON in a token that
 * began in an earlier piece is reported at the offset where the last piece
 * starts (decode() gives the token's start). After an error the decoder
 * ignores further input until the next start(). Nothing throws:
 * std::bad_alloc becomes errc::invalid_response.
 *
 * Memory: the decoder holds the models, a frame per open JSON container and
 * the current token. To give system events their `raw_json`, an `event`
 * keeps the bytes fed so far; a `page<event>` keeps only those from the
 * start of its latest item (kept_bytes()), unless an item's first key
 * begins with an escape or a character split between pieces (then the text
 * from the last item before it is kept until a later item is placed).
 *
 * Lifetimes: `out` must outlive the decode (until finish() or the next
 * start()). Not thread safe; reusable (start() again). Constructing one
 * allocates nothing: its state (about 13 KiB, mostly the frame stack) is
 * made at the first start(). write_some() or finish() before any start()
 * fail with errc::invalid_response.
 */
class stream_decoder {
public:
    POLAR_DECL stream_decoder();
    POLAR_DECL ~stream_decoder();
    stream_decoder(const stream_decoder&) = delete;
    stream_decoder& operator=(const stream_decoder&) = delete;

    POLAR_DECL void start(meter& out);
    POLAR_DECL void start(page<meter>& out);
    POLAR_DECL void start(page<event>& out);
    POLAR_DECL void start(page<customer_meter>& out);
    POLAR_DECL void start(customer_meter& out);
    POLAR_DECL void start(meter_quantities& out);
    POLAR_DECL void start(events_ingest_response& out);
    POLAR_DECL void start(event& out);

    /// Says how long the body is (a Content-Length), after start(): a page
    /// reserves its items, and an event its kept text (up to 256 KiB), instead
    /// of growing them. Only a hint: any length of input still decodes.
    POLAR_DECL void expect(std::size_t body_size);

    /// Feeds the next bytes; more are to come.
    POLAR_DECL error_code write_some(std::string_view bytes, std::string& what);
    /// Ends the document (after the last write_some()).
    POLAR_DECL error_code finish(std::string& what);

    /// The bytes held now for the text kept for raw texts (see Memory above).
    POLAR_DECL std::size_t kept_bytes() const noexcept;

    struct impl;

private:
    POLAR_DECL impl& state();
    std::unique_ptr<impl> impl_;
};

} // namespace detail
} // namespace polar

#ifdef POLAR_HEADER_ONLY
#include <polar/detail/codec/stream/entry.ipp>
#endif

#endif
