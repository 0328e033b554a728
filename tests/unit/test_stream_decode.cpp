// The streaming decoder (detail/codec/stream/) against the DOM decoder it
// replaced (detail/codec/dom/, kept as a reference): the same outcome, the same
// message and the same models on the recorded bodies of fuzz/corpus and on
// variants of them with each value replaced by one of another type or each
// key removed; and stream_decoder fed in pieces (split at every byte, and at
// random places) gives what decode() gives.
#include <polar/detail/codec/codec.hpp>
#include <polar/detail/codec/stream_decoder.hpp>
#include <polar/detail/codec/dom/events.ipp>
#include <polar/detail/codec/stream/server_time.ipp>
#include <polar/models.hpp>

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace bj = boost::json;

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The fuzz_decode seeds: the first byte picks the type (see fuzz_decode.cpp).
std::vector<std::pair<int, std::string>> corpus() {
    std::vector<std::pair<int, std::string>> out;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(POLAR_FUZZ_CORPUS_DIR "/fuzz_decode")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::string data = read_file(f);
        if (data.empty()) continue;
        out.emplace_back(static_cast<unsigned char>(data[0]) % 16, data.substr(1));
    }
    return out;
}

template <class T>
std::string encoded(const T& v) {
    return polar::detail::encode(v);
}

struct outcome {
    bool ok;
    std::string what;
    std::string json; // the model, encoded (events with raw_json as that text)
};

template <class T>
outcome stream_whole(std::string_view body) {
    T out{};
    outcome r;
    r.ok = !polar::detail::decode(body, out, r.what);
    if (r.ok) r.json = encoded(out);
    return r;
}

template <class T>
outcome dom_whole(std::string_view body) {
    T out{};
    outcome r;
    r.ok = !polar::detail::json_decode_impl::dom::decode_dom(body, out, r.what);
    if (r.ok) r.json = encoded(out);
    return r;
}

template <class T>
concept streamable = requires(polar::detail::stream_decoder& d, T& t) { d.start(t); };

// Feeds `body` cut at `cuts` (ascending offsets).
template <class T>
outcome stream_pieces(polar::detail::stream_decoder& dec, std::string_view body, const std::vector<std::size_t>& cuts) {
    T out{};
    dec.start(out);
    outcome r{true, {}, {}};
    std::size_t at = 0;
    for (std::size_t c : cuts) {
        if (dec.write_some(body.substr(at, c - at), r.what)) {
            r.ok = false;
            return r;
        }
        at = c;
    }
    if (dec.write_some(body.substr(at), r.what) || dec.finish(r.what)) {
        r.ok = false;
        return r;
    }
    r.json = encoded(out);
    return r;
}

void check_same(const outcome& a, const outcome& b, std::string_view body, const char* what, bool pieces = false) {
    INFO(std::string(what) << " body: " << std::string(body.substr(0, 600)));
    CHECK(a.ok == b.ok);
    // Invalid JSON found in a token that began in an earlier piece is
    // reported at the piece's start: fed in pieces, only the kind must agree.
    constexpr std::string_view invalid = "invalid JSON at offset ";
    if (pieces && a.what.starts_with(invalid) && b.what.starts_with(invalid)) return;
    CHECK(a.what == b.what);
    CHECK(a.json == b.json);
}

template <class T>
void differential(std::string_view body) {
    check_same(stream_whole<T>(body), dom_whole<T>(body), body, "stream vs DOM");
}

template <class T>
void splits(polar::detail::stream_decoder& dec, std::string_view body, bool every_byte, std::mt19937& rng) {
    if constexpr (streamable<T>) {
        const outcome whole = stream_whole<T>(body);
        if (every_byte)
            for (std::size_t i = 0; i <= body.size(); ++i) check_same(stream_pieces<T>(dec, body, {i}), whole, body, "split once", true);
        for (int k = 0; k < 4; ++k) {
            std::vector<std::size_t> cuts;
            std::uniform_int_distribution<std::size_t> at(0, body.size());
            const int n = 1 + k * 5;
            for (int j = 0; j < n; ++j) cuts.push_back(at(rng));
            std::sort(cuts.begin(), cuts.end());
            check_same(stream_pieces<T>(dec, body, cuts), whole, body, "random pieces", true);
        }
    }
}

// Calls fn.template operator()<T>() with the model type of fuzz_decode's selector.
template <class Fn>
void with_type(int selector, Fn&& fn) {
    switch (selector) {
    case 0: fn.template operator()<polar::meter>(); break;
    case 1: fn.template operator()<polar::page<polar::meter>>(); break;
    case 2: fn.template operator()<polar::page<polar::event>>(); break;
    case 3: fn.template operator()<polar::meter_quantities>(); break;
    case 4: fn.template operator()<polar::events_ingest_response>(); break;
    case 5: fn.template operator()<polar::event>(); break;
    case 6: fn.template operator()<polar::customer>(); break;
    case 7: fn.template operator()<polar::address>(); break;
    case 8: fn.template operator()<polar::filter>(); break;
    case 9: fn.template operator()<polar::aggregation>(); break;
    case 10: fn.template operator()<polar::pagination>(); break;
    case 11: fn.template operator()<polar::meter_create>(); break;
    case 12: fn.template operator()<polar::meter_update>(); break;
    case 13: fn.template operator()<polar::event_create>(); break;
    case 14: fn.template operator()<polar::events_ingest>(); break;
    default: break;
    }
}

// Every document made from `root` by replacing one value (or removing one key).
void variants(const bj::value& root, const std::function<void(const std::string&)>& emit) {
    static const char* const replacements[] = {"null", "0", "-7", "1.5", "9223372036854775808", "1e999", "\"x\"",
                                               "\"2026-01-01T00:00:00Z\"", "\"2026-13-01\"", "true", "{}", "[]",
                                               "[1,\"a\"]", "{\"a\":1}", "\"_llm\""};
    bj::value doc = root;
    // The value at `v` is swapped with a marker, the text spliced around it.
    const std::string marker = "\"@@marker@@\"";
    std::function<void(bj::value&)> walk = [&](bj::value& v) {
        bj::value saved = v;
        v = "@@marker@@";
        const std::string text = bj::serialize(doc);
        v = saved;
        const std::size_t at = text.find(marker);
        for (const char* r : replacements) emit(text.substr(0, at) + r + text.substr(at + marker.size()));
        if (bj::object* o = v.if_object()) {
            std::vector<std::string> keys;
            for (const auto& kv : *o) keys.emplace_back(kv.key());
            for (const auto& k : keys) {
                bj::value kept = (*o)[k];
                o->erase(k);
                emit(bj::serialize(doc));
                (*o)[k] = kept; // moves to the end: key orders vary too
            }
            for (auto& kv : *o) walk(kv.value());
        } else if (bj::array* a = v.if_array()) {
            for (auto& x : *a) walk(x);
        }
    };
    walk(doc);
}

} // namespace

TEST_CASE("stream decode: same outcome, message and models as the DOM decoder on the corpus and its variants") {
    std::mt19937 rng(7);
    polar::detail::stream_decoder dec;
    std::size_t documents = 0;
    for (const auto& [type, body] : corpus()) {
        with_type(type, [&]<class T>() {
            differential<T>(body);
            splits<T>(dec, body, true, rng);
            ++documents;
            bj::error_code ec;
            const bj::value root = bj::parse(body, ec);
            if (ec) return;
            variants(root, [&](const std::string& v) {
                differential<T>(v);
                ++documents;
                if (rng() % 8 == 0) splits<T>(dec, v, false, rng);
            });
        });
    }
    MESSAGE(documents << " documents compared");
    CHECK(documents > 10000);
}

TEST_CASE("stream decode: every model type on malformed and truncated input") {
    std::mt19937 rng(11);
    polar::detail::stream_decoder dec;
    for (const auto& [type, body] : corpus()) {
        with_type(type, [&]<class T>() {
            // Every prefix, and bytes flipped to JSON's structural characters.
            for (std::size_t n = 0; n < body.size(); n += 1 + body.size() / 200) differential<T>(body.substr(0, n));
            static const char flips[] = "{}[]\":,\\ 0e-\x80";
            for (int k = 0; k < 200; ++k) {
                std::string v = body;
                if (v.empty()) break;
                v[rng() % v.size()] = flips[rng() % (sizeof flips - 1)];
                differential<T>(v);
                if (k % 20 == 0) splits<T>(dec, v, false, rng);
            }
        });
    }
}

TEST_CASE("stream decode: paths of errors in nested models") {
    const std::string customer_prefix =
        R"({"id":"c","created_at":"2026-01-02T03:04:05Z","metadata":{},"email":"a@b","email_verified":true,)"
        R"("organization_id":"o","avatar_url":)";
    const std::string ev = R"({"id":"e","timestamp":"2026-11-02T10:00:00Z","name":"n","source":"user",)"
                           R"("organization_id":"o","metadata":{},"customer":)";
    std::string items;
    for (int i = 0; i < 4; ++i) {
        if (i) items += ',';
        items += ev + customer_prefix + (i == 3 ? "5" : "null") + "}}";
    }
    const std::string body = R"({"items":[)" + items + R"(],"pagination":{"total_count":4,"max_page":1}})";
    polar::page<polar::event> p;
    std::string what;
    CHECK(polar::from_json(body, p, what) == polar::make_error_code(polar::errc::invalid_response));
    CHECK(what == "items[3].customer.avatar_url: expected string or null, got number");
    // The same, fed a byte at a time.
    polar::detail::stream_decoder dec;
    dec.start(p);
    std::string w2;
    polar::error_code ec;
    for (char c : body)
        if ((ec = dec.write_some(std::string_view(&c, 1), w2))) break;
    if (!ec) ec = dec.finish(w2);
    CHECK(ec == polar::make_error_code(polar::errc::invalid_response));
    CHECK(w2 == what);
}

TEST_CASE("stream decode: invalid JSON after a wrong value wins, as when the DOM was built first") {
    polar::meter m;
    std::string what;
    CHECK(polar::from_json(R"({"id":5,"name":"x",)", m, what));
    CHECK(what == "invalid JSON at offset 19: incomplete JSON");
    CHECK(polar::from_json(R"({"id":5,"name":"x"} x)", m, what));
    CHECK(what == "invalid JSON at offset 20: extra data");
    CHECK(polar::from_json(R"({"id":5,"name":"x"}  )", m, what));
    CHECK(what == "id: expected string, got number");
}

TEST_CASE("stream decode: duplicate keys are each checked and the last one wins") {
    // A deliberate difference from the DOM decoder, which saw only the last
    // of duplicate keys: a streaming decoder cannot know a later duplicate
    // exists, so an invalid earlier one fails the decode.
    polar::pagination p;
    std::string what;
    CHECK_FALSE(polar::from_json(R"({"total_count":1,"max_page":2,"total_count":3})", p, what));
    CHECK(p.total_count == 3);
    CHECK(polar::from_json(R"({"total_count":"x","max_page":2,"total_count":3})", p, what));
    CHECK(what == "total_count: expected integer, got string");
    polar::meter_quantities q;
    CHECK_FALSE(polar::from_json(R"({"quantities":[],"quantities":[{"timestamp":"2026-01-01T00:00:00Z","quantity":1}]})", q, what));
    CHECK(q.quantities.size() == 1);
}

TEST_CASE("stream decode: invalid JSON in a token split across pieces is reported where the last piece starts") {
    polar::detail::stream_decoder dec;
    polar::meter m;
    std::string what;
    CHECK(polar::from_json("type", m, what));
    CHECK(what == "invalid JSON at offset 0: syntax error");
    dec.start(m);
    CHECK_FALSE(dec.write_some("t", what));
    CHECK(dec.write_some("ype", what));
    CHECK(what == "invalid JSON at offset 1: syntax error");
}

TEST_CASE("stream decode: the decoder is reusable and stops at the first error") {
    polar::detail::stream_decoder dec;
    polar::meter_quantities q;
    std::string what;
    dec.start(q);
    CHECK_FALSE(dec.write_some(R"({"quantities":[{"timestamp":"2026-01-01T00:00:00Z","qua)", what));
    CHECK_FALSE(dec.write_some(R"(ntity":2.5}],"total":2.5})", what));
    CHECK_FALSE(dec.finish(what));
    REQUIRE(q.quantities.size() == 1);
    CHECK(q.quantities[0].quantity == 2.5);
    CHECK(q.total == 2.5);

    dec.start(q);
    CHECK(q.quantities.empty());
    CHECK(dec.write_some("{\"quantities\":]", what));
    CHECK(what == "invalid JSON at offset 14: syntax error");
    CHECK(dec.write_some("{}", what)); // ignored, the same error again
    CHECK(what == "invalid JSON at offset 14: syntax error");
    CHECK(dec.finish(what));

    dec.start(q);
    CHECK(dec.finish(what));
    CHECK(what == "empty body");
    dec.start(q);
    CHECK_FALSE(dec.write_some("{\"quantities\":[]}", what));
    CHECK(dec.write_some(" \n x", what));
    CHECK(what == "invalid JSON at offset 20: extra data");
}

TEST_CASE("stream decode: system events keep their text when fed in pieces") {
    const std::string sys = R"({"id":"e","timestamp":"2026-11-02T15:00:00Z","organization_id":"o","label":"L",)"
                            R"("source":"system","name":"x.y","metadata":{"s":"a \" ]}","n":{"k":[1]}}})";
    const std::string user = R"({"id":"u","timestamp":"2026-11-02T15:00:00Z","organization_id":"o","label":"L",)"
                             R"("metadata":{"_llm":{"vendor":"v"}},"name":"x.y","source":"user"})";
    const std::string body = R"({"items":[)" + sys + ", " + sys + R"(],"pagination":{"total_count":2,"max_page":1}})";
    polar::detail::stream_decoder dec;
    polar::page<polar::event> p;
    std::string what;
    dec.start(p);
    for (std::size_t i = 0; i < body.size(); i += 7)
        REQUIRE_FALSE(dec.write_some(std::string_view(body).substr(i, 7), what));
    REQUIRE_FALSE(dec.finish(what));
    REQUIRE(p.items.size() == 2);
    CHECK(p.items[0].raw_json == sys);
    CHECK(p.items[1].raw_json == sys);
    CHECK(p.items[0].metadata.size() == 1);
    // A user event's metadata errors count, even when `source` comes last.
    polar::event e;
    CHECK(polar::from_json(user, e, what));
    CHECK(what == "metadata._llm.model: missing required field");
}

namespace {

// A system event whose first key is `first` (raw text: an escape, a
// character of two bytes, whitespace before it...).
std::string system_event(std::string_view id, std::string_view first = "\"id\"") {
    std::string e = "{";
    e += first;
    e += ":\"";
    e += id;
    e += R"(","timestamp":"2026-11-02T15:00:00Z","organization_id":"o","label":"L","source":"system",)"
         R"("name":"meter.credited","metadata":{"units":5,"nested":{"k":["}",1]}},"id":")";
    e += id;
    e += "\"}";
    return e;
}

std::string user_event(std::string_view id) {
    std::string e = R"({"id":")";
    e += id;
    e += R"(","timestamp":"2026-11-02T15:00:00Z","organization_id":"o","label":"L","source":"user",)"
         R"("name":"api.call","metadata":{"route":"/v1/x \"quoted\" }]","units":3}})";
    return e;
}

std::string page_of(const std::vector<std::string>& items, std::string_view tail = {}) {
    std::string body = R"({"items":[)";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) body += i % 3 ? "," : " ,\n ";
        body += items[i];
    }
    body += R"(],"pagination":{"total_count":)" + std::to_string(items.size()) + R"(,"max_page":1})";
    body += tail;
    body += '}';
    return body;
}

// Feeds `body` in pieces of `size` bytes; the largest kept_bytes() seen.
std::size_t feed(polar::detail::stream_decoder& dec, std::string_view body, std::size_t size,
                 polar::page<polar::event>& out) {
    std::string what;
    std::size_t most = 0;
    dec.start(out);
    for (std::size_t i = 0; i < body.size(); i += size) {
        REQUIRE_FALSE(dec.write_some(body.substr(i, size), what));
        most = std::max(most, dec.kept_bytes());
    }
    REQUIRE_FALSE(dec.finish(what));
    return most;
}

} // namespace

TEST_CASE("stream decode: a page fed in pieces keeps about one item of text, its system events their text") {
    std::vector<std::string> items;
    std::vector<std::string> raw; // expected raw_json of each item
    for (int i = 0; i < 400; ++i) {
        std::string id = std::to_string(i);
        id.insert(0, 1, 'e');
        const bool sys = i % 7 == 0 || i == 1 || i == 399;
        items.push_back(sys ? system_event(id) : user_event(id));
        raw.push_back(sys ? items.back() : std::string());
    }
    const std::string body = page_of(items);
    polar::detail::stream_decoder dec;
    for (std::size_t size : {std::size_t(512), std::size_t(4096), std::size_t(65536)}) {
        INFO("pieces of " << size);
        polar::page<polar::event> p;
        const std::size_t most = feed(dec, body, size, p);
        REQUIRE(p.items.size() == items.size());
        for (std::size_t i = 0; i < items.size(); ++i) CHECK(p.items[i].raw_json == raw[i]);
        // About the item begun last and a piece that begins no item (an item
        // is about 330 bytes) with the string's spare capacity, not the body
        // (69 KB); a piece with system events in it is dropped once they have
        // their text.
        MESSAGE("pieces of " << size << ": at most " << most << " bytes held of " << body.size());
        CHECK(most <= 6000);
        CHECK(body.size() > 65536);
    }
}

TEST_CASE("stream decode: system events keep their text when items cannot be placed from their first key") {
    // First keys an item's place is not read from: an escape, a character of
    // two bytes split between pieces (an unknown key, skipped), and
    // whitespace before an ordinary key.
    const std::vector<std::string> items = {
        system_event("a", R"("\u0069d")"), user_event("b"), system_event("c", "\n  \"id\""),
        system_event("d", "\"\xc3\xa9t\xc3\xa9\""), user_event("e"), system_event("f", R"("\u0069d")"),
        system_event("g"), user_event("h"), system_event("i", "\t\"\xc3\xa9\"")};
    std::vector<std::string> bodies = {page_of(items)};
    // The last `items` counts, before and after its other members.
    bodies.push_back(page_of({system_event("x"), user_event("y"), system_event("z")},
                             ",\"items\":[" + items[0] + "," + items[2] + "," + items[6] + "]"));
    bodies.push_back(R"({"items":[)" + items[6] + "," + items[8] + R"(],"items":[)" + items[5] + "," + items[6] +
                     R"(],"pagination":{"total_count":2,"max_page":1}})");
    polar::detail::stream_decoder dec;
    for (const auto& body : bodies) {
        polar::page<polar::event> whole;
        std::string what;
        REQUIRE_FALSE(polar::detail::decode(body, whole, what));
        std::size_t with_raw = 0;
        for (const auto& e : whole.items) with_raw += !e.raw_json.empty();
        CHECK(with_raw >= 2);
        // The encoding of a system event is its raw text.
        const outcome expected = stream_whole<polar::page<polar::event>>(body);
        for (std::size_t size = 1; size <= 64; ++size) {
            std::vector<std::size_t> cuts;
            for (std::size_t at = size; at < body.size(); at += size) cuts.push_back(at);
            INFO("pieces of " << size);
            check_same(stream_pieces<polar::page<polar::event>>(dec, body, cuts), expected, body, "fixed pieces");
        }
    }
}

TEST_CASE("stream decode: date-times read in the server's form agree with parse_timestamp") {
    // Well-formed date-times of every form the direct reader knows, at the
    // edges of each field, then each of them with one byte changed: whatever
    // the reader accepts, parse_timestamp() accepts with the same instant.
    const char* const bases[] = {
        "2026-01-01T00:00:00Z",          "2024-02-29T23:59:59Z",          "2023-02-29T12:00:00Z",
        "0001-01-01T00:00:00Z",          "9999-12-31T23:59:59.999999Z",   "0000-01-01T00:00:00Z",
        "2026-13-01T00:00:00Z",          "2026-00-10T00:00:00Z",          "2026-04-31T00:00:00Z",
        "2026-04-00T00:00:00Z",          "2026-01-01T24:00:00Z",          "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",          "2026-11-02T10:00:00.123456Z",   "2026-11-02T10:00:00.000001Z",
        "2026-11-02T10:00:00+05:30",     "2026-11-02T10:00:00-23:59",     "2026-11-02T10:00:00+24:00",
        "2026-11-02T10:00:00+00:60",     "2026-11-02T10:00:00.5+01:00",   "2026-11-02T10:00:00.123456-08:00",
        "0001-01-01T00:30:00+01:00",     "0001-01-01T00:30:00-01:00",     "9999-12-31T23:30:00-01:00",
        "9999-12-31T23:30:00+01:00",     "2026-11-02t10:00:00z",          "2026-11-02 10:00:00Z",
        "2026-11-02T10:00:00.1234567Z",  "2026-11-02T10:00:00+0530",      "1900-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
    };
    const char replacements[] = {'0', '9', '/', ':', '-', '+', 'T', 'Z', '.', 'a', ' ', '\0', '\x7f'};
    polar::detail::json_decode_impl::stream::server_times cached;
    std::size_t accepted = 0;
    const auto check = [&](const std::string& s) {
        INFO("input: " << s);
        for (auto* reader : {&cached, static_cast<polar::detail::json_decode_impl::stream::server_times*>(nullptr)}) {
            polar::detail::json_decode_impl::stream::server_times fresh;
            auto& r = reader ? *reader : fresh;
            polar::timestamp direct{}, parsed{};
            if (!r.read(s, direct)) continue;
            ++accepted;
            REQUIRE(polar::parse_timestamp(s, parsed));
            CHECK(direct == parsed);
        }
    };
    for (const char* base : bases) {
        const std::string s = base;
        check(s);
        for (std::size_t i = 0; i < s.size(); ++i)
            for (char c : replacements) {
                std::string t = s;
                t[i] = c;
                check(t);
                check(s); // again: the date read before is cached
            }
    }
    CHECK(accepted > 1000);
}
