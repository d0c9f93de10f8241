#include "index/ivfpq/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/kernels/blas.hpp"
#include "core/kernels/kernels.hpp"
#include "index/ivfpq/adc.hpp"

namespace edgehdf5::ivfpq {
namespace {

// Points per block: a block's dot products against 1024 centroids (4 MiB at 1024 points)
// stay in L2/L3 while the argmin reads them back.
constexpr std::size_t kBlockPoints = 512;

float squared_norm(const float* x, std::size_t dim) {
  float sum = 0.0f;
  for (std::size_t j = 0; j < dim; ++j) sum += x[j] * x[j];
  return sum;
}

float squared_distance(const float* a, const float* b, std::size_t dim) {
  float sum = 0.0f;
  for (std::size_t j = 0; j < dim; ++j) {
    const float diff = a[j] - b[j];
    sum += diff * diff;
  }
  return sum;
}

}  // namespace

SingleThreadedBlas::SingleThreadedBlas() {
  if constexpr (kernels::kBlasCompiledIn) {
    previous_ = kernels::blas_threads();
    kernels::set_blas_threads(1);
  }
}

SingleThreadedBlas::~SingleThreadedBlas() {
  if constexpr (kernels::kBlasCompiledIn) kernels::set_blas_threads(previous_);
}

void assign_nearest(const float* points, std::size_t count, const float* centroids, std::size_t k,
                    std::size_t dim, std::size_t threads, std::uint32_t* labels, float* distances) {
  std::vector<float> centroid_norms(k);
  for (std::size_t c = 0; c < k; ++c) centroid_norms[c] = squared_norm(centroids + c * dim, dim);
  const kernels::KernelSet simd = kernels::best_simd_kernels();

  parallel_ranges(count, threads, [&](std::size_t begin, std::size_t end) {
    std::vector<float> dots(kBlockPoints * k);
    for (std::size_t block = begin; block < end; block += kBlockPoints) {
      const std::size_t rows = std::min(kBlockPoints, end - block);
      const float* x = points + block * dim;
      // dots[r * k + c] = x[r] . centroid[c]: the points are the "queries" of one product.
      if constexpr (kernels::kBlasCompiledIn) {
        kernels::blas_dot_f32_batch(x, rows, centroids, dim, 0, k, dots.data());
      } else {
        simd.dot_f32_batch(x, rows, centroids, dim, 0, k, dots.data());
      }
      for (std::size_t r = 0; r < rows; ++r) {
        const float* row_dots = dots.data() + r * k;
        float best = std::numeric_limits<float>::infinity();
        std::uint32_t best_c = 0;
        for (std::size_t c = 0; c < k; ++c) {
          const float partial = centroid_norms[c] - 2.0f * row_dots[c];
          if (partial < best) {
            best = partial;
            best_c = static_cast<std::uint32_t>(c);
          }
        }
        if (labels) labels[block + r] = best_c;
        if (distances) {
          distances[block + r] = std::max(0.0f, best + squared_norm(x + r * dim, dim));
        }
      }
    }
  });
}

KMeansResult kmeans(const float* points, std::size_t count, std::size_t dim, std::size_t k,
                    std::size_t iterations, std::uint64_t seed, std::size_t threads) {
  std::mt19937_64 random(seed);
  KMeansResult result;
  result.centroids.resize(k * dim);

  // k-means++ over a subset of at most 8k points, copied together so that each round's
  // distances to the newest centre are one SIMD pass: |x|^2 + |c|^2 - 2 x.c.
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  const std::size_t subset_size = std::min(count, 8 * k);
  for (std::size_t i = 0; i < subset_size; ++i) {
    std::uniform_int_distribution<std::size_t> pick(i, count - 1);
    std::swap(order[i], order[pick(random)]);
  }
  std::vector<float> subset(subset_size * dim);
  std::vector<float> subset_norms(subset_size);
  for (std::size_t i = 0; i < subset_size; ++i) {
    std::copy_n(points + order[i] * dim, dim,
                subset.begin() + static_cast<std::ptrdiff_t>(i * dim));
    subset_norms[i] = squared_norm(subset.data() + i * dim, dim);
  }
  const kernels::KernelSet simd = kernels::best_simd_kernels();
  std::vector<float> nearest(subset_size, std::numeric_limits<float>::infinity());
  std::vector<float> dots(subset_size);
  std::size_t chosen = std::uniform_int_distribution<std::size_t>(0, subset_size - 1)(random);
  for (std::size_t c = 0; c < k; ++c) {
    const float* centre = subset.data() + chosen * dim;
    std::copy_n(centre, dim, result.centroids.begin() + static_cast<std::ptrdiff_t>(c * dim));
    if (c + 1 == k) break;
    const float centre_norm = subset_norms[chosen];
    parallel_ranges(subset_size, subset_size * dim >= (1u << 20) ? threads : 1,
                    [&](std::size_t begin, std::size_t end) {
                      simd.dot_f32(centre, subset.data(), dim, begin, end, dots.data() + begin);
                      for (std::size_t i = begin; i < end; ++i) {
                        const float distance =
                            std::max(0.0f, subset_norms[i] + centre_norm - 2.0f * dots[i]);
                        nearest[i] = std::min(nearest[i], distance);
                      }
                    });
    double total = 0.0;
    for (float value : nearest) total += value;
    if (total <= 0.0) {  // fewer distinct points than k: any point will do; repair fixes it
      chosen = std::uniform_int_distribution<std::size_t>(0, subset_size - 1)(random);
      continue;
    }
    double target = std::uniform_real_distribution<double>(0.0, total)(random);
    std::size_t i = 0;
    for (; i + 1 < subset_size; ++i) {
      target -= nearest[i];
      if (target < 0.0) break;
    }
    chosen = i;
  }

  std::vector<std::uint32_t> labels(count);
  std::vector<float> distances(count);
  // Codebook training (256 centroids of a few dimensions): the PQ encoding kernel, with
  // lanes over centroids, finds the nearest centroid several times faster than sgemm with
  // an inner dimension of 8 followed by a scalar argmin.
  const bool small = k == kCodewords && dim <= 32;
  const AdcKernels adc = best_adc_kernels();
  auto assign = [&](bool want_labels) {
    if (!small) {
      assign_nearest(points, count, result.centroids.data(), k, dim, threads,
                     want_labels ? labels.data() : nullptr, distances.data());
      return;
    }
    const std::vector<float> transposed = transpose_codebooks(result.centroids, 1, dim);
    parallel_ranges(count, threads, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) {
        std::uint8_t code = 0;
        adc.encode(points + i * dim, transposed.data(), 1, dim, &code);
        labels[i] = code;
        distances[i] =
            squared_distance(points + i * dim, result.centroids.data() + code * dim, dim);
      }
    });
  };
  std::vector<double> sums(k * dim);
  std::vector<std::size_t> sizes(k);
  for (std::size_t iteration = 0; iteration < iterations; ++iteration) {
    assign(true);
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(sizes.begin(), sizes.end(), 0);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t c = labels[i];
      ++sizes[c];
      double* sum = sums.data() + c * dim;
      const float* x = points + i * dim;
      for (std::size_t j = 0; j < dim; ++j) sum[j] += x[j];
    }
    for (std::size_t c = 0; c < k; ++c) {
      if (sizes[c] == 0) continue;
      for (std::size_t j = 0; j < dim; ++j) {
        result.centroids[c * dim + j] =
            static_cast<float>(sums[c * dim + j] / static_cast<double>(sizes[c]));
      }
    }
    // Empty clusters: split the largest cluster, moving this centroid and the large one's
    // apart by a small relative step; the next assignment divides its points between them.
    for (std::size_t c = 0; c < k; ++c) {
      if (sizes[c] != 0) continue;
      const std::size_t largest =
          static_cast<std::size_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
      if (sizes[largest] < 2) break;
      constexpr float kEpsilon = 1.0f / 1024.0f;
      for (std::size_t j = 0; j < dim; ++j) {
        const float value = result.centroids[largest * dim + j];
        const float sign = (j % 2 == 0) ? 1.0f : -1.0f;
        result.centroids[c * dim + j] = value * (1.0f + sign * kEpsilon);
        result.centroids[largest * dim + j] = value * (1.0f - sign * kEpsilon);
      }
      sizes[c] = sizes[largest] / 2;
      sizes[largest] -= sizes[c];
    }
  }
  assign(false);
  double error = 0.0;
  for (float value : distances) error += value;
  result.mean_error = count ? error / static_cast<double>(count) : 0.0;
  return result;
}

}  // namespace edgehdf5::ivfpq
