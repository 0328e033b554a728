#ifndef POLAR_DETAIL_CODEC_DOM_ARENA_HPP
#define POLAR_DETAIL_CODEC_DOM_ARENA_HPP

#include <cstddef>
#include <memory>

#if defined(__SANITIZE_ADDRESS__)
#define POLAR_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POLAR_HAS_ASAN 1
#endif
#endif
#ifdef POLAR_HAS_ASAN
#include <sanitizer/asan_interface.h>
#define POLAR_ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define POLAR_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POLAR_ASAN_POISON(p, n) ((void)0)
#define POLAR_ASAN_UNPOISON(p, n) ((void)0)
#endif

namespace polar::detail::json_decode_impl {

// The block each thread keeps for the DOMs of larger bodies (up to
// max_kept bytes), so that decoding one page after another reuses memory
// that is already mapped instead of taking fresh pages from the system (and
// a page fault for each) every time.
class dom_arena {
public:
    static constexpr std::size_t max_kept = 512 * 1024;

    dom_arena(const dom_arena&) = delete;
    dom_arena& operator=(const dom_arena&) = delete;

    /// This thread's block of at least `n` bytes, or nullptr when `n` is
    /// above max_kept or the block is in use (a decode within a decode).
    /// release() gives it back.
    static dom_arena* acquire(std::size_t n) {
        if (n > max_kept) return nullptr;
        thread_local dom_arena arena;
        if (arena.busy_) return nullptr;
        POLAR_ASAN_UNPOISON(arena.data_.get(), arena.size_);
        if (arena.size_ < n) {
            arena.data_.reset(); // never hold two blocks at once
            arena.size_ = 0;
            arena.data_.reset(new unsigned char[n]);
            arena.size_ = n;
        }
        arena.busy_ = true;
        return &arena;
    }
    void release() noexcept {
        // Under AddressSanitizer a reference into a finished DOM still
        // faults, as it would if the block had been freed.
        POLAR_ASAN_POISON(data_.get(), size_);
        busy_ = false;
    }
    unsigned char* data() const noexcept { return data_.get(); }
    std::size_t size() const noexcept { return size_; }

private:
    dom_arena() = default;
    ~dom_arena() { POLAR_ASAN_UNPOISON(data_.get(), size_); }
    std::unique_ptr<unsigned char[]> data_; // new[] of unsigned char: aligned for any fundamental type
    std::size_t size_ = 0;
    bool busy_ = false;
};

} // namespace polar::detail::json_decode_impl

#endif // POLAR_DETAIL_CODEC_DOM_ARENA_HPP
