#include "store/mapped_rows.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace edgehdf5 {

namespace {

// Blocks this large are mappings of their own (glibc's malloc would map them too, but then
// a block mapped from a file could not be told from one of malloc's).
constexpr std::size_t kSmallestOwnMapping = std::size_t{1} << 20;

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

std::uintptr_t page_start(const void* pointer) noexcept {
  return reinterpret_cast<std::uintptr_t>(pointer) & ~(std::uintptr_t{page_size()} - 1);
}

std::size_t whole_pages(std::size_t bytes) noexcept {
  return (bytes + page_size() - 1) & ~(page_size() - 1);
}

struct Offer {
  void* block = nullptr;
  std::size_t bytes = 0;
};
thread_local Offer t_offer;

}  // namespace

namespace detail {

void* allocate_rows(std::size_t bytes) {
  if (t_offer.block != nullptr && t_offer.bytes == bytes) {
    void* block = t_offer.block;
    t_offer = {};
    return block;
  }
  if (bytes < kSmallestOwnMapping) return ::operator new(bytes);
  void* block = mmap(nullptr, whole_pages(bytes), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) throw std::bad_alloc();
  return block;
}

void free_rows(void* pointer, std::size_t bytes) noexcept {
  if (pointer == nullptr) return;
  if (bytes < kSmallestOwnMapping) {
    ::operator delete(pointer);
    return;
  }
  // A block mapped from a file may start inside its first page (map_file_block).
  const std::uintptr_t start = page_start(pointer);
  const std::size_t lead = reinterpret_cast<std::uintptr_t>(pointer) - start;
  munmap(reinterpret_cast<void*>(start), whole_pages(lead + bytes));
}

}  // namespace detail

namespace store {

namespace detail {

void offer_block(void* block, std::size_t capacity_bytes) noexcept {
  t_offer = {block, capacity_bytes};
}

bool withdraw_offer() noexcept {
  const bool pending = t_offer.block != nullptr;
  t_offer = {};
  return pending;
}

}  // namespace detail

void* map_file_block(int descriptor, std::uint64_t offset, std::size_t data_bytes,
                     std::size_t capacity_bytes) {
  if (capacity_bytes < kSmallestOwnMapping || capacity_bytes < data_bytes) return nullptr;
  const std::size_t lead = static_cast<std::size_t>(offset % page_size());
  const std::size_t reserved = whole_pages(lead + capacity_bytes);
  // The whole capacity first, anonymous and uncommitted (MAP_NORESERVE): rows saved later
  // land there without moving the matrix. Then the file over its start.
  void* area = mmap(nullptr, reserved, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (area == MAP_FAILED) return nullptr;
  if (data_bytes > 0) {
    void* mapped = mmap(area, whole_pages(lead + data_bytes), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_FIXED, descriptor, static_cast<off_t>(offset - lead));
    if (mapped == MAP_FAILED) {
      munmap(area, reserved);
      return nullptr;
    }
  }
  return static_cast<char*>(area) + lead;
}

}  // namespace store

}  // namespace edgehdf5
