//
// polar-cpp testing: emulator_state's member functions (setup, counters,
// handle, snapshots, the demo). Included at the end of emulator_state.ipp,
// after the engine and the endpoints.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_STATE_MEMBERS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_STATE_MEMBERS_IPP

namespace polar::testing {

struct emulator_state::impl : emu::engine {};

// ---------------------------------------------------------------------------
// Members.

POLAR_DECL emulator_state::emulator_state() : impl_(std::make_unique<impl>()) {
    std::random_device rd;
    impl_->rng.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
}

POLAR_DECL emulator_state::emulator_state(std::uint64_t seed) : impl_(std::make_unique<impl>()) {
    impl_->rng.seed(seed);
}

POLAR_DECL emulator_state::~emulator_state() = default;

POLAR_DECL void emulator_state::set_clock(std::function<std::chrono::system_clock::time_point()> clock) {
    std::lock_guard lock(impl_->mutex);
    impl_->clock = std::move(clock);
}

POLAR_DECL std::string emulator_state::add_organization(std::string name) {
    std::lock_guard lock(impl_->mutex);
    emu::organization o;
    o.id = impl_->new_id();
    o.name = std::move(name);
    o.created_at = impl_->now();
    impl_->st.organization_order.push_back(o.id);
    auto id = o.id;
    impl_->st.organizations.emplace(id, std::move(o));
    return id;
}

POLAR_DECL std::string emulator_state::add_user(std::vector<std::string> organization_ids) {
    std::lock_guard lock(impl_->mutex);
    auto id = impl_->new_id();
    impl_->st.users.emplace(id, std::move(organization_ids));
    impl_->st.user_order.push_back(id);
    return id;
}

namespace emu {
inline void put_token(state_data& st, std::string token, access_token t) {
    if (st.tokens.find(token) == st.tokens.end()) st.token_order.push_back(token);
    st.tokens[std::move(token)] = std::move(t);
}
} // namespace emu

POLAR_DECL void emulator_state::add_organization_token(std::string token, std::string organization_id,
                                                       std::vector<std::string> scopes) {
    std::lock_guard lock(impl_->mutex);
    emu::put_token(impl_->st, std::move(token),
                   emu::access_token{emu::token_kind::organization, std::move(organization_id), std::move(scopes)});
}

POLAR_DECL void emulator_state::add_user_token(std::string token, std::string user_id, std::vector<std::string> scopes) {
    std::lock_guard lock(impl_->mutex);
    emu::put_token(impl_->st, std::move(token),
                   emu::access_token{emu::token_kind::user, std::move(user_id), std::move(scopes)});
}

POLAR_DECL void emulator_state::add_customer_session_token(std::string token) {
    std::lock_guard lock(impl_->mutex);
    emu::put_token(impl_->st, std::move(token), emu::access_token{emu::token_kind::customer_session, {}, {}});
}

POLAR_DECL void emulator_state::set_organization_blocked(const std::string& organization_id, bool blocked) {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->st.organizations.find(organization_id);
    if (it != impl_->st.organizations.end()) it->second.blocked = blocked;
}

POLAR_DECL std::string emulator_state::add_customer(std::string organization_id, std::optional<std::string> external_id,
                                                    std::string email, std::string name) {
    std::lock_guard lock(impl_->mutex);
    emu::customer c;
    c.id = impl_->new_id();
    c.organization_id = std::move(organization_id);
    c.external_id = std::move(external_id);
    c.email = std::move(email);
    c.name = std::move(name);
    c.created_at = impl_->now();
    auto id = c.id;
    impl_->st.add_customer(std::move(c));
    return id;
}

POLAR_DECL std::string emulator_state::add_team_customer(std::string organization_id,
                                                         std::optional<std::string> external_id, std::string name) {
    std::lock_guard lock(impl_->mutex);
    emu::customer c;
    c.id = impl_->new_id();
    c.organization_id = std::move(organization_id);
    c.external_id = std::move(external_id);
    c.name = std::move(name);
    c.team = true;
    c.created_at = impl_->now();
    auto id = c.id;
    impl_->st.add_customer(std::move(c));
    return id;
}

POLAR_DECL std::string emulator_state::add_event(const emulator_event& in) {
    std::error_code ec;
    auto v = boost::json::parse(in.metadata_json, ec);
    if (ec || !v.is_object()) throw std::invalid_argument("emulator_event::metadata_json must be a JSON object");
    std::lock_guard lock(impl_->mutex);
    emu::event e;
    e.id = impl_->new_id();
    e.organization_id = in.organization_id;
    e.name = in.name;
    e.source = in.source;
    e.timestamp = emu::to_micros(in.timestamp);
    e.customer_id = in.customer_id;
    e.external_customer_id = in.external_customer_id;
    e.metadata = std::move(v.as_object());
    e.parent_id = in.parent_id;
    e.member_id = in.member_id;
    e.external_member_id = in.external_member_id;
    e.external_id = in.external_id;
    auto id = e.id;
    impl_->st.add_event(std::move(e));
    return id;
}

POLAR_DECL std::size_t emulator_state::run_billing_job() {
    std::lock_guard lock(impl_->mutex);
    std::size_t updated = 0;
    for (auto& m : impl_->st.meters) {
        if (m.archived_at) continue;  // archived meters are skipped (dated §3.4)
        const emu::event* e = nullptr;
        try {
            e = m.dated ? emu::newest_dated_matching_event(impl_->st, m, true)
                        : emu::newest_matching_event(impl_->st, m, true);
        } catch (const emu::server_failure&) {
            continue;  // the job fails for this meter, as the server's would
        }
        if (e && m.last_billed_event_id != e->id) {
            m.last_billed_event_id = e->id;
            ++updated;
        }
    }
    return updated;
}

POLAR_DECL bool emulator_state::meter_locked(const std::string& meter_id) const {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->st.meter_by_id.find(meter_id);
    return it != impl_->st.meter_by_id.end() && impl_->st.meters[it->second].last_billed_event_id.has_value();
}

POLAR_DECL std::size_t emulator_state::meter_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->st.meters.size();
}

POLAR_DECL std::size_t emulator_state::event_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->st.total_events;
}

POLAR_DECL std::size_t emulator_state::customer_count() const {
    std::lock_guard lock(impl_->mutex);
    return static_cast<std::size_t>(std::count_if(impl_->st.customers.begin(), impl_->st.customers.end(),
                                                  [](const emu::customer& c) { return !c.dated_only; }));
}

POLAR_DECL void emulator_state::set_default_api_version(std::string_view version) {
    auto v = emu::canonical_api_version(version);
    if (!v)
        throw std::invalid_argument("emulator_state::set_default_api_version: \"" + std::string(version) +
                                    "\" is not one of 2025-03, 2026-04, 2026-10");
    std::lock_guard lock(impl_->mutex);
    impl_->default_version = *v;
}

POLAR_DECL std::string emulator_state::default_api_version() const {
    std::lock_guard lock(impl_->mutex);
    return std::string(impl_->default_version);
}

POLAR_DECL emulator_response emulator_state::handle(const emulator_request& request) {
    try {
        std::lock_guard lock(impl_->mutex);
        // The version middleware is the outermost layer (§1.1, §5.5).
        const auto v = emu::resolve_api_version(
            request.polar_version,
            request.default_api_version.empty() ? impl_->default_version : request.default_api_version);
        if (!v.ok) return emu::version_not_found();
        emulator_response r;
        if (auto pre = emu::body_size_check(request, v.contract))
            r = std::move(*pre);
        else
            r = emu::dispatch(*impl_, request, v.contract);
        emu::stamp_version(r, v);
        return r;
    } catch (const std::exception&) {
        // Starlette's ServerErrorMiddleware sits outside every user
        // middleware, so an unhandled error's 500 carries no Polar-Version.
        return emu::server_error_response();
    }
}

POLAR_DECL std::string emulator_state::snapshot() const {
    std::lock_guard lock(impl_->mutex);
    return emu::snapshot_state(impl_->st);
}

POLAR_DECL void emulator_state::restore(std::string_view json) {
    auto st = emu::restore_state(json);  // throws before anything changes
    std::lock_guard lock(impl_->mutex);
    impl_->st = std::move(st);
}

POLAR_DECL emulator_demo emulator_state::seed_demo() {
    std::lock_guard lock(impl_->mutex);
    return emu::seed_demo_data(impl_->st, impl_->now());
}

} // namespace polar::testing

#endif
