//
// polar-cpp testing: the emulator's fault table (scripted misbehaviour, matched
// by route and used up request by request) and its request counters.
// Included by emulator.ipp.
//
#ifndef POLAR_TESTING_IMPL_EMULATOR_FAULTS_IPP
#define POLAR_TESTING_IMPL_EMULATOR_FAULTS_IPP

#include <polar/testing/impl/emulator_http.ipp>

namespace polar::testing {
namespace detail {

// -- faults ---------------------------------------------------------------------------

class fault_table {
public:
    void add(fault f) {
        std::lock_guard<std::mutex> lk(mu_);
        if (f.uses() == 0)
            return;
        faults_.push_back(std::move(f));
        count_.store(faults_.size(), std::memory_order_relaxed);
    }
    void clear() {
        std::lock_guard<std::mutex> lk(mu_);
        faults_.clear();
        count_.store(0, std::memory_order_relaxed);
    }
    std::size_t pending() const {
        std::lock_guard<std::mutex> lk(mu_);
        return faults_.size();
    }
    std::uint64_t fired() const { return fired_.load(std::memory_order_relaxed); }
    void reset_fired() { fired_.store(0, std::memory_order_relaxed); }

    // Consumes one use of the first matching fault.
    std::optional<fault> take(std::string_view method, std::string_view path) {
        if (count_.load(std::memory_order_relaxed) == 0)
            return std::nullopt;
        std::lock_guard<std::mutex> lk(mu_);
        for (auto it = faults_.begin(); it != faults_.end(); ++it) {
            if (!route_matches(it->route(), method, path))
                continue;
            fault f = *it;
            if (it->uses() != fault::always_uses) {
                std::uint64_t left = it->uses() - 1;
                if (left == 0)
                    faults_.erase(it);
                else
                    *it = std::move(*it).times(left);
                count_.store(faults_.size(), std::memory_order_relaxed);
            }
            fired_.fetch_add(1, std::memory_order_relaxed);
            return f;
        }
        return std::nullopt;
    }

private:
    mutable std::mutex mu_;
    std::vector<fault> faults_;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> fired_{0};
};

// -- counters ---------------------------------------------------------------------------

class counter_table {
public:
    void count(std::string_view route) {
        total_.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lk(mu_);
        auto it = routes_.find(route);
        if (it != routes_.end()) {
            ++it->second;
            return;
        }
        // Bound the table when a client sprays random paths at the server.
        if (routes_.size() >= 4096)
            ++routes_["* <other>"];
        else
            routes_.emplace(std::string(route), 1);
    }
    std::uint64_t requests(std::string_view pattern) const {
        if (pattern == "*")
            return total_.load(std::memory_order_relaxed);
        std::lock_guard<std::mutex> lk(mu_);
        std::uint64_t n = 0;
        for (const auto& [route, c] : routes_) {
            auto sp = route.find(' ');
            if (route_matches(pattern, std::string_view(route).substr(0, sp), std::string_view(route).substr(sp + 1)))
                n += c;
        }
        return n;
    }
    std::map<std::string, std::uint64_t, std::less<>> by_route() const {
        std::lock_guard<std::mutex> lk(mu_);
        return routes_;
    }
    std::uint64_t total() const { return total_.load(std::memory_order_relaxed); }
    void reset() {
        std::lock_guard<std::mutex> lk(mu_);
        routes_.clear();
        total_.store(0, std::memory_order_relaxed);
        accepted.store(0, std::memory_order_relaxed);
    }

    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> open{0};

private:
    mutable std::mutex mu_;
    std::map<std::string, std::uint64_t, std::less<>> routes_;
    std::atomic<std::uint64_t> total_{0};
};

} // namespace detail
} // namespace polar::testing

#endif
