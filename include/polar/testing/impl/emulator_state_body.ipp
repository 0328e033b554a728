//
// polar-cpp testing: request bodies as FastAPI hands them to validation:
// Python's json.loads errors (json_invalid with its messages and
// positions), UTF-8 checks, and Python string lengths. Split out of
// emulator_state_validation.ipp, which includes it.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_BODY_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_BODY_IPP

#include <polar/testing/impl/emulator_state_query.ipp>

namespace polar::testing::emu {
// Python string length: code points.
inline std::int64_t py_len(std::string_view s) {
    std::int64_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// ---------------------------------------------------------------------------
// Body decoding.

// Python's json scanner, reduced to finding the first error the way
// json.loads reports it (message and character position).
class py_json_checker {
public:
    explicit py_json_checker(std::string_view s) : s_(s) {}

    // Empty when the text is valid JSON for Python.
    std::optional<std::pair<std::string, std::size_t>> check() {
        std::size_t i = skip_ws(0);
        auto end = scan(i, 0);
        if (error_) return error_;
        if (!end) return fail("Expecting value", i);
        const std::size_t after = skip_ws(*end);
        if (after != s_.size()) return fail("Extra data", after);
        return std::nullopt;
    }
    bool too_deep() const { return too_deep_; }

private:
    std::string_view s_;
    std::optional<std::pair<std::string, std::size_t>> error_;
    bool too_deep_ = false;

    std::optional<std::pair<std::string, std::size_t>> fail(std::string msg, std::size_t byte_pos) {
        if (!error_) error_.emplace(std::move(msg), char_index(byte_pos));
        return error_;
    }
    std::size_t char_index(std::size_t byte_pos) const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < byte_pos && i < s_.size(); ++i)
            if ((static_cast<unsigned char>(s_[i]) & 0xC0) != 0x80) ++n;
        return n;
    }
    std::size_t skip_ws(std::size_t i) const {
        while (i < s_.size() && (s_[i] == ' ' || s_[i] == '\t' || s_[i] == '\n' || s_[i] == '\r')) ++i;
        return i;
    }
    bool starts(std::size_t i, std::string_view w) const { return s_.substr(i, w.size()) == w; }

    // Returns the end of the value at i, or empty for "no value here" (the
    // caller reports "Expecting value"); deeper errors set error_.
    std::optional<std::size_t> scan(std::size_t i, int depth) {
        if (error_) return std::nullopt;
        if (depth > 900) {
            too_deep_ = true;
            fail("too deep", i);
            return std::nullopt;
        }
        if (i >= s_.size()) return std::nullopt;
        const char c = s_[i];
        if (c == '"') return scan_string(i + 1);
        if (c == '{') return scan_object(i + 1, depth);
        if (c == '[') return scan_array(i + 1, depth);
        if (c == 'n' && starts(i, "null")) return i + 4;
        if (c == 't' && starts(i, "true")) return i + 4;
        if (c == 'f' && starts(i, "false")) return i + 5;
        // number: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?
        std::size_t j = i;
        if (j < s_.size() && s_[j] == '-') ++j;
        if (j < s_.size() && s_[j] == '0') {
            ++j;
        } else if (j < s_.size() && s_[j] >= '1' && s_[j] <= '9') {
            while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') ++j;
        } else {
            return std::nullopt;
        }
        if (j + 1 < s_.size() && s_[j] == '.' && s_[j + 1] >= '0' && s_[j + 1] <= '9') {
            j += 2;
            while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9') ++j;
        }
        if (j < s_.size() && (s_[j] == 'e' || s_[j] == 'E')) {
            std::size_t k = j + 1;
            if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
            if (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') {
                while (k < s_.size() && s_[k] >= '0' && s_[k] <= '9') ++k;
                j = k;
            }
        }
        return j;
    }

    std::optional<std::size_t> scan_string(std::size_t i) {
        const std::size_t begin = i - 1;
        while (true) {
            if (i >= s_.size()) {
                fail("Unterminated string starting at", begin);
                return std::nullopt;
            }
            const auto c = static_cast<unsigned char>(s_[i]);
            if (c == '"') return i + 1;
            if (c < 0x20) {
                static constexpr const char* names[32] = {
                    "\\x00", "\\x01", "\\x02", "\\x03", "\\x04", "\\x05", "\\x06", "\\x07", "\\x08", "\\t", "\\n",
                    "\\x0b", "\\x0c", "\\r", "\\x0e", "\\x0f", "\\x10", "\\x11", "\\x12", "\\x13", "\\x14", "\\x15",
                    "\\x16", "\\x17", "\\x18", "\\x19", "\\x1a", "\\x1b", "\\x1c", "\\x1d", "\\x1e", "\\x1f"};
                fail(std::string("Invalid control character '") + names[c] + "' at", i);
                return std::nullopt;
            }
            if (c == '\\') {
                if (i + 1 >= s_.size()) {
                    fail("Unterminated string starting at", begin);
                    return std::nullopt;
                }
                const char e = s_[i + 1];
                if (e == 'u') {
                    bool ok = i + 6 <= s_.size();
                    for (std::size_t k = 2; ok && k < 6; ++k) ok = hex_value(s_[i + k]) >= 0;
                    if (!ok) {
                        fail("Invalid \\uXXXX escape", i + 1);
                        return std::nullopt;
                    }
                    i += 6;
                    continue;
                }
                if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                    fail(std::string("Invalid \\escape: '") + e + "'", i);
                    return std::nullopt;
                }
                i += 2;
                continue;
            }
            ++i;
        }
    }

    std::optional<std::size_t> scan_object(std::size_t i, int depth) {
        i = skip_ws(i);
        if (i < s_.size() && s_[i] == '}') return i + 1;
        if (i >= s_.size() || s_[i] != '"') {
            fail("Expecting property name enclosed in double quotes", i);
            return std::nullopt;
        }
        while (true) {
            auto key_end = scan_string(i + 1);
            if (!key_end) return std::nullopt;
            i = skip_ws(*key_end);
            if (i >= s_.size() || s_[i] != ':') {
                fail("Expecting ':' delimiter", i);
                return std::nullopt;
            }
            i = skip_ws(i + 1);
            auto v = scan(i, depth + 1);
            if (error_) return std::nullopt;
            if (!v) {
                fail("Expecting value", i);
                return std::nullopt;
            }
            i = skip_ws(*v);
            if (i < s_.size() && s_[i] == '}') return i + 1;
            if (i >= s_.size() || s_[i] != ',') {
                fail("Expecting ',' delimiter", i);
                return std::nullopt;
            }
            i = skip_ws(i + 1);
            if (i >= s_.size() || s_[i] != '"') {
                fail("Expecting property name enclosed in double quotes", i);
                return std::nullopt;
            }
        }
    }

    std::optional<std::size_t> scan_array(std::size_t i, int depth) {
        i = skip_ws(i);
        if (i < s_.size() && s_[i] == ']') return i + 1;
        while (true) {
            auto v = scan(i, depth + 1);
            if (error_) return std::nullopt;
            if (!v) {
                fail("Expecting value", i);
                return std::nullopt;
            }
            i = skip_ws(*v);
            if (i < s_.size() && s_[i] == ']') return i + 1;
            if (i >= s_.size() || s_[i] != ',') {
                fail("Expecting ',' delimiter", i);
                return std::nullopt;
            }
            i = skip_ws(i + 1);
        }
    }
};

inline bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n;
    }
    return true;
}

struct body_outcome {
    enum kind { value, missing, raw, json_error, unreadable } what = missing;
    json::value doc;                  // `value`: the decoded JSON; `raw`: the body as a string
    std::optional<verror> error;      // json_error
};

// What FastAPI hands to validation. Runs before authentication in FastAPI,
// so a malformed body gets its 422 even without credentials.
inline body_outcome decode_body(const emulator_request& req) {
    body_outcome out;
    if (req.body.empty()) return out;  // `missing`
    bool json_type = req.content_type.empty();
    if (!json_type) {
        std::string ct(req.content_type.substr(0, req.content_type.find(';')));
        ct.erase(0, ct.find_first_not_of(" \t"));
        ct.erase(ct.find_last_not_of(" \t") + 1);
        for (auto& ch : ct) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const auto slash = ct.find('/');
        if (slash != std::string::npos && ct.substr(0, slash) == "application") {
            const auto sub = ct.substr(slash + 1);
            json_type = sub == "json" || (sub.size() >= 5 && sub.compare(sub.size() - 5, 5, "+json") == 0);
        }
    }
    if (!json_type) {
        out.what = body_outcome::raw;
        out.doc = json::string(req.body);
        return out;
    }
    if (!valid_utf8(req.body)) {
        out.what = body_outcome::unreadable;
        return out;
    }
    py_json_checker checker(req.body);
    if (auto err = checker.check()) {
        if (checker.too_deep()) {
            out.what = body_outcome::unreadable;
            return out;
        }
        out.what = body_outcome::json_error;
        out.error = make_error("json_invalid", loc_t{"body", static_cast<std::int64_t>(err->second)},
                               "JSON decode error", json::object{}, json::object{{"error", err->first}});
        return out;
    }
    json::parse_options opts;
    opts.max_depth = 1000;
    std::error_code ec;
    json::value v = json::parse(req.body, ec, {}, opts);
    if (ec) {
        out.what = body_outcome::unreadable;
        return out;
    }
    // A JSON null body is no body at all for FastAPI (a `missing` error).
    if (v.is_null()) return out;
    out.what = body_outcome::value;
    out.doc = std::move(v);
    return out;
}

} // namespace polar::testing::emu

#endif
