//
// polar-cpp testing: request targets as Starlette/FastAPI read them: path
// percent-decoding, query strings (`+` is a space), repeated parameters,
// `metadata[key]` deep objects, and query-parameter validation.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_QUERY_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_QUERY_IPP

#include <polar/testing/impl/emulator_state_model.ipp>

namespace polar::testing::emu {

// Percent-decoding like urllib.parse.unquote: invalid escapes stay as written.
inline std::string percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
    return out;
}

struct parsed_target {
    std::string raw_path;  // as sent (for redirects)
    std::string path;      // percent-decoded
    std::string raw_query; // without '?'
    std::vector<std::pair<std::string, std::string>> params;

    // Scalar parameters: FastAPI takes the last occurrence.
    const std::string* last(std::string_view key) const {
        const std::string* found = nullptr;
        for (const auto& kv : params)
            if (kv.first == key) found = &kv.second;
        return found;
    }
    std::vector<std::string> all(std::string_view key) const {
        std::vector<std::string> v;
        for (const auto& kv : params)
            if (kv.first == key) v.push_back(kv.second);
        return v;
    }
    bool has(std::string_view key) const { return last(key) != nullptr; }
};

// parse_qsl(query, keep_blank_values=True).
inline parsed_target parse_target(std::string_view target) {
    parsed_target t;
    const auto q = target.find('?');
    t.raw_path = std::string(target.substr(0, q));
    t.path = percent_decode(t.raw_path, false);
    if (q == std::string_view::npos) return t;
    t.raw_query = std::string(target.substr(q + 1));
    std::string_view rest = t.raw_query;
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view piece = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        if (piece.empty()) continue;
        const auto eq = piece.find('=');
        if (eq == std::string_view::npos)
            t.params.emplace_back(percent_decode(piece, true), std::string());
        else
            t.params.emplace_back(percent_decode(piece.substr(0, eq), true), percent_decode(piece.substr(eq + 1), true));
    }
    return t;
}

// `metadata[key]=value` parameters: key -> values (in order of first appearance).
inline std::vector<std::pair<std::string, std::vector<std::string>>> metadata_query(const parsed_target& t) {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& kv : t.params) {
        const std::string& k = kv.first;
        if (k.size() < 11 || k.compare(0, 9, "metadata[") != 0 || k.back() != ']') continue;
        const std::string key = k.substr(9, k.size() - 10);
        if (key.empty() || key.find(']') != std::string::npos) continue;
        auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == key; });
        if (it == out.end()) {
            out.emplace_back(key, std::vector<std::string>{});
            it = std::prev(out.end());
        }
        it->second.push_back(kv.second);
    }
    return out;
}

// Pydantic's int from a string: surrounding whitespace, a sign, digits, an
// optional all-zero fraction ("5.0"). Saturates beyond int64.
inline std::optional<std::int64_t> parse_py_int(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    if (const auto dot = s.find('.'); dot != std::string_view::npos) {
        const auto frac = s.substr(dot + 1);
        if (frac.find_first_not_of('0') != std::string_view::npos) return std::nullopt;
        s = s.substr(0, dot);
    }
    bool negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return std::nullopt;
    std::int64_t v = 0;
    bool overflow = false;
    char prev = '_';
    for (char c : s) {
        if (c == '_') {
            if (prev == '_') return std::nullopt;  // no leading or doubled underscores
            prev = c;
            continue;
        }
        if (c < '0' || c > '9') return std::nullopt;
        if (!overflow) {
            if (v > (INT64_MAX - (c - '0')) / 10)
                overflow = true;
            else
                v = v * 10 + (c - '0');
        }
        prev = c;
    }
    if (prev == '_') return std::nullopt;
    if (overflow) return negative ? INT64_MIN : INT64_MAX;
    return negative ? -v : v;
}

// An integer query parameter with `gt=0` (page, limit).
inline std::int64_t positive_int_param(const parsed_target& t, std::string_view key, std::int64_t def,
                                       verrors& errors) {
    const std::string* raw = t.last(key);
    if (!raw) return def;
    loc_t loc{"query", key};
    auto v = parse_py_int(*raw);
    if (!v) {
        errors.push_back(make_error("int_parsing", loc, "Input should be a valid integer, unable to parse string as an integer",
                                    json::string(*raw)));
        return def;
    }
    if (*v <= 0) {
        errors.push_back(make_error("greater_than", loc, "Input should be greater than 0", json::string(*raw),
                                    json::object{{"gt", 0}}));
        return def;
    }
    return *v;
}

// A list of UUID4 query values (organization_id, customer_id).
// UNCONFIRMED: the exact `loc` of errors on these multi-value parameters
// (they may carry union-branch labels); this uses ["query", name, index].
inline std::vector<std::string> uuid4_list_param(const parsed_target& t, std::string_view key, verrors& errors) {
    std::vector<std::string> out;
    auto values = t.all(key);
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (auto id = validate_uuid4(json::string(values[i]), loc_t{"query", key, static_cast<std::int64_t>(i)}, errors))
            out.push_back(std::move(*id));
    }
    return out;
}

} // namespace polar::testing::emu

#endif
