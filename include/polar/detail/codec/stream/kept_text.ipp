#ifndef POLAR_DETAIL_CODEC_STREAM_KEPT_TEXT_IPP
#define POLAR_DETAIL_CODEC_STREAM_KEPT_TEXT_IPP

// The text a stream_decoder keeps so that system events get their raw_json
// (the event object as received) when the body arrives in pieces.
//
// A single event keeps its whole body. A page of events keeps only the text
// from the start of its latest item onwards: the handler notes where each
// item's first key lies in the piece being parsed (handler.ipp), the '{'
// before it is where the item begins, and the text before that is dropped
// once the system events in it have their raw_json. So a page holds about
// one item of text at a time instead of the whole body.
//
// When an item's place is not known (its first key starts with an escape or
// with a character split between pieces), nothing is dropped until a later
// item's place is; the items in between are found by scanning the text from
// the last known one. System events before the first known item of their
// array are taken at the end, from the text kept since the last drop.

#include <polar/detail/codec/stream/handler.ipp>

#include <string>
#include <string_view>

namespace polar {
namespace detail {
namespace json_decode_impl {
namespace stream {

class kept_text {
public:
    static constexpr std::size_t none = decoder::no_item;
    static constexpr std::size_t npos = text::npos;

    // `keep`: the model has raw texts (event, page<event>); `whole`: keep
    // every byte (a single event).
    void start(bool keep, bool whole) {
        keep_ = keep;
        whole_ = whole;
        text_.clear();
        at_ = 0;
        anchor_ = none;
        items_ = 0;
        filled_ = 0;
    }

    void reserve(std::size_t body_size) {
        if (keep_ && whole_) text_.reserve(std::min<std::size_t>(body_size, std::size_t(256) * 1024));
    }

    // The bytes held for the kept text now.
    std::size_t held() const noexcept { return text_.capacity(); }

    // After the parser took `piece`, which starts at offset `piece_at` of the body.
    void add(decoder& d, std::string_view piece, std::size_t piece_at) {
        if (!keep_) return;
        if (whole_) return text_.append(piece.data(), piece.size()), void();
        if (d.items_started_ != items_) { // a new `items` array: the last one counts
            items_ = d.items_started_;
            anchor_ = none;
            filled_ = 0;
        }
        const decoder::item_place first = d.first_placed_, last = d.last_placed_;
        d.first_placed_ = d.last_placed_ = {};
        // The first item placed in the piece too when system events before
        // the last one can only be found from it.
        bool taken = false;
        if (first.item != last.item && anchor_ == none && waiting_before(d, last.item))
            place(d, first, piece, piece_at, taken);
        place(d, last, piece, piece_at, taken);
        if (!taken) text_.append(piece.data(), piece.size());
    }

    // The document is complete: the raw texts not taken yet.
    POLAR_COLD void finish(decoder& d, fk model) {
        if (!keep_ || filled_ >= d.raw_events().size()) return;
        if (anchor_ != none) return fill(d, anchor_, none);
        // The whole body, or (some of it dropped) the text from an item of
        // an earlier `items` array on.
        fill_raw_events(d, model, text_, at_ != 0);
    }

private:
    // Drops the text before item `p` (which began in `piece` or after the kept
    // text), once the system events before it have theirs; the kept text then
    // runs to the end of `piece` (`taken`). Nothing happens when `p` is
    // unknown or its events cannot be found.
    void place(decoder& d, decoder::item_place p, std::string_view piece, std::size_t piece_at, bool& taken) {
        if (p.item == none || p.item == anchor_ || (anchor_ != none && p.item < anchor_)) return;
        const std::size_t brace = brace_before(p.key_at, piece, piece_at);
        if (brace == npos) return;
        const bool waiting = waiting_before(d, p.item);
        if (waiting && anchor_ == none) return; // where they begin is not known: keep all
        if (!taken && !waiting && brace >= piece_at) {
            text_.assign(piece.data() + (brace - piece_at), piece.size() - (brace - piece_at));
        } else {
            if (!taken) text_.append(piece.data(), piece.size());
            if (waiting) fill(d, anchor_, p.item);
            text_.erase(0, brace - at_);
            if (text_.capacity() > 2 * text_.size() + 4096) text_.shrink_to_fit();
        }
        taken = true;
        at_ = brace;
        anchor_ = p.item;
    }

    // System events before `item` are still without their text.
    bool waiting_before(const decoder& d, std::size_t item) const noexcept {
        const auto& raw = d.raw_events();
        return filled_ < raw.size() && static_cast<std::size_t>(raw[filled_]) < item;
    }

    // The offset in the body of the '{' before the key that starts at
    // `key_at`, or npos.
    std::size_t brace_before(std::size_t key_at, std::string_view piece, std::size_t piece_at) const noexcept {
        // The kept text covers [at_, at_ + size), the piece what follows.
        const auto byte = [&](std::size_t at) noexcept {
            return at - at_ < text_.size() ? text_[at - at_] : piece[at - piece_at];
        };
        if (key_at < at_ + 2 || key_at < piece_at || key_at - piece_at >= piece.size() || byte(key_at - 1) != '"')
            return npos;
        for (std::size_t at = key_at - 2;; --at) {
            const char c = byte(at);
            if (c == '{') return at;
            if ((c != ' ' && c != '\t' && c != '\n' && c != '\r') || at == at_) return npos;
        }
    }

    // Gives the system events from item `item` (where the kept text starts)
    // up to item `until` their text.
    POLAR_COLD void fill(decoder& d, std::size_t item, std::size_t until) {
        const auto& raw = d.raw_events();
        std::size_t pos = 0;
        auto& items = static_cast<page<event>*>(d.root_target())->items;
        const std::string_view s = text_;
        for (; filled_ < raw.size(); ++filled_) {
            const auto want = static_cast<std::size_t>(raw[filled_]);
            if (want >= until) return;
            while (item < want && pos != npos) { // the next item
                pos = text::skip_ws(s, text::skip_value(s, pos));
                if (pos >= s.size() || s[pos] != ',') pos = npos;
                else pos = text::skip_ws(s, pos + 1), ++item;
            }
            if (pos == npos || item != want) continue; // not reached: the parser took the page
            const std::size_t end = text::skip_value(s, pos);
            if (end != npos && want < items.size()) items[want].raw_json.assign(s.substr(pos, end - pos));
        }
    }

    bool keep_ = false;
    bool whole_ = false;
    std::string text_;
    std::size_t at_ = 0;        // the offset in the body of text_[0] (the anchor's '{' once there is one)
    std::size_t anchor_ = none; // the last item whose place is known, in the current `items`
    std::uint32_t items_ = 0;   // the `items` arrays seen
    std::size_t filled_ = 0;    // the raw events given their text
};

} // namespace stream
} // namespace json_decode_impl
} // namespace detail
} // namespace polar

#endif
