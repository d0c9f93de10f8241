#pragma once
// The allocator of the embedding matrix (MemoryColumns::embeddings_f32 / embeddings_f16).
//
// An open store maps the embeddings of its file instead of reading them (README, "The file":
// mapped embeddings): the vector's storage is then a private mapping of the file, with the
// rows saved since the checkpoint written after it in the same block, so every scan sees
// one contiguous matrix. std::vector can own such storage only through its allocator, hence
// this one. Two things differ from std::allocator:
//   - Large blocks (1 MiB and more) are their own anonymous mappings, and a block the store
//     mapped from its file is handed to the vector by reserve() (store-internal); freeing
//     either unmaps it.
//   - resize() leaves new values unset (default-initialised) instead of zeroing them: the
//     store writes every value it adds, and zeroing a mapped block would overwrite it.
// Anything else (copying, comparing, growing) behaves as for a std::vector.

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace edgehdf5 {

namespace detail {
void* allocate_rows(std::size_t bytes);
void free_rows(void* pointer, std::size_t bytes) noexcept;
}  // namespace detail

template <typename T>
struct RowAllocator {
  static_assert(std::is_trivially_copyable_v<T>, "rows are plain numbers");
  using value_type = T;

  RowAllocator() noexcept = default;
  template <typename U>
  RowAllocator(const RowAllocator<U>&) noexcept {}

  T* allocate(std::size_t count) {
    if (count > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(detail::allocate_rows(count * sizeof(T)));
  }
  void deallocate(T* pointer, std::size_t count) noexcept {
    detail::free_rows(pointer, count * sizeof(T));
  }
  // Default-initialisation: a plain number is left as the memory holds it.
  template <typename U>
  void construct(U* pointer) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(pointer)) U;
  }
  template <typename U, typename... Args>
  void construct(U* pointer, Args&&... args) {
    ::new (static_cast<void*>(pointer)) U(std::forward<Args>(args)...);
  }

  friend bool operator==(const RowAllocator&, const RowAllocator&) noexcept { return true; }
};

template <typename T>
using RowVector = std::vector<T, RowAllocator<T>>;

}  // namespace edgehdf5
