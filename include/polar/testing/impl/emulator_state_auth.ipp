//
// polar-cpp testing: authentication, scopes and visibility (MeterAPI.md §1, §6).
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_AUTH_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_AUTH_IPP

#include <polar/testing/impl/emulator_state_model.ipp>

namespace polar::testing::emu {

// The scopes an operation accepts (a token needs at least one).
enum class required_scope { meters_read, meters_write, events_write, events_read, customer_meters_read };

inline const std::vector<std::string_view>& accepted_scopes(required_scope r) {
    // Sorted, as they appear in WWW-Authenticate.
    static const std::vector<std::string_view> read{"meters:read", "meters:write", "web_default"};
    static const std::vector<std::string_view> write{"meters:write", "web_default"};
    static const std::vector<std::string_view> events{"events:write", "web_default"};
    // The dated versions' events list/get and customer meters (§1.1).
    static const std::vector<std::string_view> events_read{"events:read", "events:write", "web_default"};
    static const std::vector<std::string_view> customer_meters{"customer_meters:read", "web_default"};
    switch (r) {
    case required_scope::events_read: return events_read;
    case required_scope::customer_meters_read: return customer_meters;
    case required_scope::meters_read: return read;
    case required_scope::meters_write: return write;
    case required_scope::events_write: return events;
    }
    return read;
}

struct auth_subject {
    token_kind kind = token_kind::organization;
    std::string subject_id;
    // Organizations whose meters and events the subject sees.
    std::vector<std::string> organizations;

    bool sees(std::string_view org_id) const {
        return std::find(organizations.begin(), organizations.end(), org_id) != organizations.end();
    }
};

inline constexpr std::string_view invalid_token_description =
    "The access token provided is expired, revoked, malformed, or invalid for other reasons.";
inline constexpr std::string_view insufficient_scope_description =
    "The request requires higher privileges than provided by the access token.";

inline emulator_response unauthorized_response() {
    auto r = json_response(401, R"({"error":"Unauthorized","detail":"Unauthorized"})");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"polar\"");
    return r;
}

inline emulator_response invalid_token_response() {
    std::string body = R"({"error":"invalid_token","error_description":)";
    append_json_string(body, invalid_token_description);
    body.push_back('}');
    auto r = json_response(401, std::move(body));
    // UNCONFIRMED: attribute order inside WWW-Authenticate.
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"polar\", error=\"invalid_token\", error_description=\"" +
                                                   std::string(invalid_token_description) + "\"");
    return r;
}

inline emulator_response insufficient_scope_response(required_scope req) {
    std::string body = R"({"error":"insufficient_scope","error_description":)";
    append_json_string(body, insufficient_scope_description);
    body.push_back('}');
    auto r = json_response(403, std::move(body));
    std::string scopes;
    for (auto s : accepted_scopes(req)) {
        if (!scopes.empty()) scopes.push_back(' ');
        scopes.append(s);
    }
    // UNCONFIRMED: attribute order inside WWW-Authenticate.
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"polar\", scope=\"" + scopes +
                                                   "\", error=\"insufficient_scope\", error_description=\"" +
                                                   std::string(insufficient_scope_description) + "\"");
    return r;
}

inline emulator_response not_permitted_response() {
    return json_response(403, R"({"error":"NotPermitted","detail":"Not permitted"})");
}

// Authenticates `Authorization: Bearer <token>` and checks the scopes.
// Returns an error response, or fills `out`.
inline std::optional<emulator_response> authenticate(const state_data& st, std::string_view authorization,
                                                     required_scope req, auth_subject& out) {
    // FastAPI's get_authorization_scheme_param: "<scheme> <param>".
    const auto space = authorization.find(' ');
    const std::string_view scheme = authorization.substr(0, space);
    std::string_view token = space == std::string_view::npos ? std::string_view() : authorization.substr(space + 1);
    bool bearer = scheme.size() == 6;
    for (std::size_t i = 0; bearer && i < 6; ++i)
        bearer = std::tolower(static_cast<unsigned char>(scheme[i])) == "bearer"[i];
    if (!bearer || token.empty()) return unauthorized_response();

    auto it = st.tokens.find(token);
    // Customer session tokens are not accepted by the Meters API: they are
    // looked up as if unknown.
    if (it == st.tokens.end() || it->second.kind == token_kind::customer_session) return invalid_token_response();
    const access_token& t = it->second;

    out = auth_subject{};
    out.kind = t.kind;
    out.subject_id = t.subject_id;
    if (t.kind == token_kind::organization) {
        auto org = st.organizations.find(t.subject_id);
        if (org == st.organizations.end()) return invalid_token_response();
        if (org->second.blocked) return not_permitted_response();
        out.organizations.push_back(t.subject_id);
    } else {
        auto user = st.users.find(t.subject_id);
        if (user == st.users.end()) return invalid_token_response();
        out.organizations = user->second;
    }

    const auto& accepted = accepted_scopes(req);
    const bool allowed = std::any_of(t.scopes.begin(), t.scopes.end(), [&](const std::string& s) {
        return std::find(accepted.begin(), accepted.end(), s) != accepted.end();
    });
    if (!allowed) return insufficient_scope_response(req);
    return std::nullopt;
}

// organization_id rules on create and ingest (business rules, after body
// validation). Returns the organization to use, or appends an error.
inline std::optional<std::string> resolve_organization(const auth_subject& subject,
                                                       const std::optional<std::string>& given, bool given_present,
                                                       const json::value& input, const loc_t& loc, verrors& errors) {
    if (subject.kind == token_kind::organization) {
        if (given_present) {
            errors.push_back(make_error("organization_token", loc,
                                        "Setting organization_id is disallowed when using an organization token.",
                                        input));
            return std::nullopt;
        }
        return subject.organizations.front();
    }
    if (!given_present || !given) {
        errors.push_back(make_error("missing", loc, "organization_id is required.", nullptr));
        return std::nullopt;
    }
    if (!subject.sees(*given)) {
        errors.push_back(make_error("value_error", loc, "Organization not found.", input));
        return std::nullopt;
    }
    return given;
}

} // namespace polar::testing::emu

#endif
