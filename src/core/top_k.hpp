#pragma once
// BoundedTopK: the best k of a stream of (score, key) pairs. The one top-k of the library:
// the exact engine's scan (a key is a row), the exact reference and the public top_k(),
// IVF-PQ's candidates and re-ranking (rows), keyword and hybrid results (memory ids).
//
// "Best" is a total order: the higher score, and among equal scores the lower key. Rows and
// ids grow together, so ties go to the older memory whether the key is a row or an id, and
// every path returns the same hits in the same order for the same scores.
//
// Cost: O(n log k) for n offers, usually O(n): once k candidates are held, a score below the
// worst of them is turned away by one compare (threshold()), which is what keeps a scan of a
// million rows at memory speed. Nothing ever sorts more than the k kept.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "edgehdf5/entry.hpp"
#include "edgehdf5/memory_columns.hpp"

namespace edgehdf5::core {

template <typename Key>
struct Scored {
  float score;
  Key key;
};

// True when `a` ranks before `b`: a higher score, or an equal score and a lower key.
template <typename Key>
constexpr bool ranks_before(const Scored<Key>& a, const Scored<Key>& b) noexcept {
  return a.score > b.score || (a.score == b.score && a.key < b.key);
}

// Not thread-safe: one per thread (a parallel scan keeps one per slice and merges them).
template <typename Key>
class BoundedTopK {
 public:
  using Entry = Scored<Key>;

  // Keeps at most `capacity` entries; a capacity of 0 keeps none. Reserves at most 64K
  // entries up front, so a huge k for a small store does not allocate for rows that are
  // not there.
  explicit BoundedTopK(std::size_t capacity) : capacity_(capacity) {
    heap_.reserve(std::min<std::size_t>(capacity, std::size_t{1} << 16));
  }

  // The score an offer must reach to have a chance: -inf until `capacity` entries are
  // held, then the worst kept score. A score equal to it may still enter on a lower key, so
  // only a score strictly below it is certainly refused. Callers with work to do before an
  // offer (a filter, a weight) test this first.
  float threshold() const noexcept { return threshold_; }

  void offer(float score, Key key) {
    if (score < threshold_) return;  // the common case of a long scan: one compare
    const Entry entry{score, key};
    if (heap_.size() < capacity_) {
      heap_.push_back(entry);
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore{});
    } else if (heap_.empty() || !ranks_before(entry, heap_.front())) {
      return;  // (empty: capacity 0)
    } else {
      std::pop_heap(heap_.begin(), heap_.end(), RanksBefore{});
      heap_.back() = entry;
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore{});
    }
    if (heap_.size() == capacity_) threshold_ = heap_.front().score;
  }

  // Offers scores[i] with the key first_key + i, for every i < count: what offer() would do
  // one by one. `first_at_least(values, n, limit)` returns the first i < n with
  // !(values[i] < limit), else n (kernels::KernelSet's, vectorised): the scores the
  // threshold turns away are skipped a vector at a time, and only the others are offered
  // (offering score by score cost a 1K-row batch of 128 queries about 1 ns a score).
  template <typename FirstAtLeast>
  void offer_run(const float* scores, std::size_t count, Key first_key,
                 FirstAtLeast&& first_at_least) {
    for (std::size_t i = 0;; ++i) {
      i += first_at_least(scores + i, count - i, threshold_);
      if (i >= count) return;
      offer(scores[i], first_key + static_cast<Key>(i));
    }
  }

  // Offers every entry `other` holds: the best of both, as if all offers had come here.
  void merge(const BoundedTopK& other) {
    for (const Entry& entry : other.heap_) offer(entry.score, entry.key);
  }

  std::size_t size() const noexcept { return heap_.size(); }

  // The kept entries, best first; leaves this empty (and its threshold at -inf again).
  std::vector<Entry> take_sorted() {
    // The heap's front is the worst kept, so sort_heap puts the best first.
    std::sort_heap(heap_.begin(), heap_.end(), RanksBefore{});
    threshold_ = -std::numeric_limits<float>::infinity();
    return std::exchange(heap_, {});
  }

 private:
  // ranks_before as a function object: passed as a function pointer, the heap algorithms
  // called it through the pointer on every comparison instead of inlining it.
  struct RanksBefore {
    bool operator()(const Entry& a, const Entry& b) const noexcept { return ranks_before(a, b); }
  };

  std::size_t capacity_;
  std::vector<Entry> heap_;  // a heap under ranks_before: front() is the worst kept entry
  float threshold_ = -std::numeric_limits<float>::infinity();
};

// Hits for entries keyed by row of `columns`, in the entries' order.
template <typename Row>
std::vector<SearchHit> hits_of_rows(std::span<const Scored<Row>> best, const MemoryColumns& columns) {
  std::vector<SearchHit> hits;
  hits.reserve(best.size());
  for (const Scored<Row>& entry : best) hits.push_back({columns.ids[entry.key], entry.score});
  return hits;
}

}  // namespace edgehdf5::core
