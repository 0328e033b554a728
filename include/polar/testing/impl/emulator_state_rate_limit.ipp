//
// polar-cpp testing: emulator_state::rate_limit_identity, the key the
// emulator's rate limiter counts a request under. Included at the end of
// emulator_state.ipp, after emulator_state::impl is complete.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_RATE_LIMIT_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_RATE_LIMIT_IPP

namespace polar::testing {

// Polar keys its limiter by the authenticated subject (organization,
// customer or OAuth2 client), so two tokens of one organization share a
// budget. Requests whose token is unknown are keyed by the token itself,
// like Polar's pending_auth bucket (whose own 60/min is not emulated).
POLAR_DECL std::string emulator_state::rate_limit_identity(std::string_view authorization) const {
    const auto space = authorization.find(' ');
    const std::string_view token =
        space == std::string_view::npos ? std::string_view() : authorization.substr(space + 1);
    {
        std::lock_guard lock(impl_->mutex);
        const auto& st = impl_->st;
        auto it = token.empty() ? st.tokens.end() : st.tokens.find(token);
        if (it != st.tokens.end()) {
            if (it->second.kind == emu::token_kind::organization) return "organization:" + it->second.subject_id;
            if (it->second.kind == emu::token_kind::user) return "user:" + it->second.subject_id;
        }
    }
    return "token:" + std::string(authorization);
}

} // namespace polar::testing

#endif
