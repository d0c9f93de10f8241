// libedgehdf5_cuda.so: the CUDA side of Strategy::gpu, behind the C table of
// gpu_module_abi.h. Everything that touches cudart or cuBLAS lives in this one file, so nvcc
// compiles one translation unit.
//
// A search, per group of queries (a group's scores fit a fixed work buffer):
//   1. scores: dot products of the queries with every row. One query: our own warp-per-row
//      GEMV (reads the stored type directly, float32 accumulation, the query kept float32);
//      a batch: cuBLAS sgemm, or cublasGemmEx over float16 rows (queries rounded to half,
//      float32 accumulation).
//   2. keys: each dot becomes a cosine score (stored norms), times the recency weight, and
//      then a 32-bit key whose unsigned order is the score's order; refused rows (tombstone
//      or filter) get key 0, which no score maps to.
//   3. top-k by radix selection over 64-bit keys (score key << 32 | ~row): unique keys, so
//      the k-th largest is one value and "ties go to the lower row" falls out of the order.
//      Eight 8-bit digit passes (a histogram kernel, then a one-thread-per-query select);
//      a query stops early once its whole remaining bin is taken.
//   4. compaction: rows whose key reaches the threshold are appended to the query's hits;
//      only k hits per query cross back to the host, never the N scores.
// Device errors are returned as messages, never thrown.

#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "gpu/gpu_module_abi.h"

namespace {

// Work buffer for one group's scores: 256M floats (1 GiB). A batch whose N * queries
// exceeds it is scored in several groups.
constexpr size_t kScoreBudgetFloats = size_t{256} << 20;
constexpr int kThreads = 256;
constexpr int kWarpsPerBlock = kThreads / 32;
constexpr int kDigitBits = 8;
constexpr int kBins = 1 << kDigitBits;
constexpr int kPasses = 64 / kDigitBits;

void write_error(char* error, size_t error_size, const char* what, const char* detail) {
  if (error != nullptr && error_size > 0) std::snprintf(error, error_size, "%s: %s", what, detail);
}

#define EH5_CUDA(call, what)                                                   \
  do {                                                                         \
    const cudaError_t status_ = (call);                                        \
    if (status_ != cudaSuccess) {                                              \
      write_error(error, error_size, what, cudaGetErrorString(status_));       \
      return 1;                                                                \
    }                                                                          \
  } while (0)

#define EH5_CUBLAS(call, what)                                                 \
  do {                                                                         \
    const cublasStatus_t status_ = (call);                                     \
    if (status_ != CUBLAS_STATUS_SUCCESS) {                                    \
      write_error(error, error_size, what, cublasGetStatusString(status_));    \
      return 1;                                                                \
    }                                                                          \
  } while (0)

// A device allocation that grows; its contents are kept across growth only when asked.
struct DeviceBuffer {
  void* data = nullptr;
  size_t bytes = 0;

  int reserve(size_t wanted, bool keep, size_t keep_bytes, cudaStream_t stream, char* error,
              size_t error_size) {
    if (wanted <= bytes) return 0;
    void* grown = nullptr;
    EH5_CUDA(cudaMalloc(&grown, wanted), "cudaMalloc");
    if (keep && keep_bytes > 0) {
      const cudaError_t copied =
          cudaMemcpyAsync(grown, data, keep_bytes, cudaMemcpyDeviceToDevice, stream);
      if (copied == cudaSuccess) cudaStreamSynchronize(stream);
      if (copied != cudaSuccess) {
        cudaFree(grown);
        write_error(error, error_size, "cudaMemcpy (growing a buffer)", cudaGetErrorString(copied));
        return 1;
      }
    }
    if (data != nullptr) cudaFree(data);
    data = grown;
    bytes = wanted;
    return 0;
  }
  void release() {
    if (data != nullptr) cudaFree(data);
    data = nullptr;
    bytes = 0;
  }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

// Per query of a radix selection.
struct SelectState {
  unsigned long long prefix;  // the digits chosen so far, in place
  unsigned int remaining;     // hits still to take from the keys matching prefix
  unsigned int done;          // 1: every key >= prefix is a hit
  unsigned int empty;         // 1: no row passes: no hits
  unsigned int wanted;        // min(k, rows that pass)
};

}  // namespace

struct edgehdf5_gpu_mirror {
  uint32_t dim = 0;
  bool half = false;
  size_t rows = 0;
  size_t capacity = 0;  // rows the row buffers hold
  DeviceBuffer embeddings, norms, tombstones;
  DeviceBuffer queries, queries_half, query_norms, scores, refused, weights;
  DeviceBuffer states, histograms, hits, hit_counts;
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  cudaEvent_t started = nullptr, stopped = nullptr;

  size_t element_bytes() const { return half ? 2 : 4; }
  size_t device_bytes() const {
    size_t total = 0;
    for (const DeviceBuffer* buffer :
         {&embeddings, &norms, &tombstones, &queries, &queries_half, &query_norms, &scores,
          &refused, &weights, &states, &histograms, &hits, &hit_counts}) {
      total += buffer->bytes;
    }
    return total;
  }
};

namespace {

// ---- kernels ---------------------------------------------------------------------------------

__device__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset >>= 1) value += __shfl_down_sync(0xffffffffu, value, offset);
  return value;
}

// One warp per row; 16-byte loads when a row is a whole number of 16-byte units (then every
// row starts 16-byte aligned, cudaMalloc aligns the base), else one value per lane.
template <bool kVector>
__global__ void gemv_f32_kernel(const float* rows, size_t row_count, uint32_t dim,
                                const float* query, float* dots) {
  const size_t warps = size_t(gridDim.x) * kWarpsPerBlock;
  const int lane = threadIdx.x & 31;
  for (size_t row = size_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32; row < row_count;
       row += warps) {
    const float* values = rows + row * dim;
    float sum = 0.0f;
    if (kVector) {
      const float4* values4 = reinterpret_cast<const float4*>(values);
      const float4* query4 = reinterpret_cast<const float4*>(query);
      for (uint32_t i = lane; i < dim / 4; i += 32) {
        const float4 a = __ldg(values4 + i);
        const float4 b = __ldg(query4 + i);
        sum += a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w;
      }
    } else {
      for (uint32_t i = lane; i < dim; i += 32) sum += __ldg(values + i) * __ldg(query + i);
    }
    sum = warp_sum(sum);
    if (lane == 0) dots[row] = sum;
  }
}

template <bool kVector>
__global__ void gemv_f16_kernel(const __half* rows, size_t row_count, uint32_t dim,
                                const float* query, float* dots) {
  const size_t warps = size_t(gridDim.x) * kWarpsPerBlock;
  const int lane = threadIdx.x & 31;
  for (size_t row = size_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32; row < row_count;
       row += warps) {
    const __half* values = rows + row * dim;
    float sum = 0.0f;
    if (kVector) {
      // 8 halves (16 bytes) per lane per step.
      const uint4* values8 = reinterpret_cast<const uint4*>(values);
      const float4* query4 = reinterpret_cast<const float4*>(query);
      for (uint32_t i = lane; i < dim / 8; i += 32) {
        const uint4 packed = __ldg(values8 + i);
        const __half2* pairs = reinterpret_cast<const __half2*>(&packed);
        const float4 q0 = __ldg(query4 + 2 * i);
        const float4 q1 = __ldg(query4 + 2 * i + 1);
        const float2 a = __half22float2(pairs[0]);
        const float2 b = __half22float2(pairs[1]);
        const float2 c = __half22float2(pairs[2]);
        const float2 d = __half22float2(pairs[3]);
        sum += a.x * q0.x + a.y * q0.y + b.x * q0.z + b.y * q0.w + c.x * q1.x + c.y * q1.y +
               d.x * q1.z + d.y * q1.w;
      }
    } else {
      for (uint32_t i = lane; i < dim; i += 32) sum += __half2float(values[i]) * __ldg(query + i);
    }
    sum = warp_sum(sum);
    if (lane == 0) dots[row] = sum;
  }
}

__global__ void to_half_kernel(const float* values, size_t count, __half* out) {
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += size_t(gridDim.x) * blockDim.x) {
    out[i] = __float2half_rn(values[i]);
  }
}

// The unsigned order of the key is the order of the score; -0 is taken as +0 (the host's
// top-k sees them equal, so must we, for the lower-row rule). Key 0 means "refused".
__device__ unsigned int score_key(float score) {
  const unsigned int bits = __float_as_uint(score == 0.0f ? 0.0f : score);
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}
__device__ float key_score(unsigned int key) {
  return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}

// Dots of query blockIdx.y -> keys, in place. The score is the host engine's formula
// (src/search/engine.cpp, ExactScan::to_scores): a zero norm scores 0.
__global__ void keys_kernel(float* dots, size_t row_count, const float* query_norms,
                            const float* norms, const uint8_t* tombstones, const uint8_t* refused,
                            const float* weights) {
  const size_t query = blockIdx.y;
  float* query_dots = dots + query * row_count;
  unsigned int* keys = reinterpret_cast<unsigned int*>(query_dots);
  const float query_norm = query_norms[query];
  for (size_t row = size_t(blockIdx.x) * blockDim.x + threadIdx.x; row < row_count;
       row += size_t(gridDim.x) * blockDim.x) {
    if (tombstones[row] || (refused != nullptr && refused[row])) {
      keys[row] = 0u;
      continue;
    }
    const float denominator = query_norm * norms[row];
    float score = denominator != 0.0f ? query_dots[row] / denominator : 0.0f;
    if (weights != nullptr) score *= weights[row];
    keys[row] = score_key(score);
  }
}

__device__ unsigned long long full_key(unsigned int key, size_t row) {
  return (static_cast<unsigned long long>(key) << 32) |
         static_cast<unsigned long long>(0xffffffffu - static_cast<unsigned int>(row));
}

// Counts, per query (blockIdx.y), the digit `pass` of the keys that match the prefix chosen
// by the passes before.
__global__ void histogram_kernel(const unsigned int* keys, size_t row_count,
                                 const SelectState* states, unsigned int* histograms, int pass) {
  const size_t query = blockIdx.y;
  const SelectState state = states[query];
  if (state.done) return;
  __shared__ unsigned int bins[kBins];
  for (int bin = threadIdx.x; bin < kBins; bin += blockDim.x) bins[bin] = 0;
  __syncthreads();
  const int shift = 64 - kDigitBits * (pass + 1);
  const unsigned int* query_keys = keys + query * row_count;
  for (size_t row = size_t(blockIdx.x) * blockDim.x + threadIdx.x; row < row_count;
       row += size_t(gridDim.x) * blockDim.x) {
    const unsigned int key = query_keys[row];
    if (key == 0u) continue;
    const unsigned long long full = full_key(key, row);
    if (pass > 0 && (full >> (shift + kDigitBits)) != (state.prefix >> (shift + kDigitBits))) {
      continue;
    }
    atomicAdd(&bins[(full >> shift) & (kBins - 1)], 1u);
  }
  __syncthreads();
  unsigned int* query_bins = histograms + query * kBins;
  for (int bin = threadIdx.x; bin < kBins; bin += blockDim.x) {
    if (bins[bin] != 0u) atomicAdd(&query_bins[bin], bins[bin]);
  }
}

// One thread per query: picks the digit of the k-th largest key and clears the histogram.
__global__ void select_kernel(SelectState* states, unsigned int* histograms, size_t query_count,
                              size_t k, int pass) {
  const size_t query = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (query >= query_count) return;
  SelectState state = states[query];
  unsigned int* bins = histograms + query * kBins;
  if (!state.done) {
    if (pass == 0) {
      unsigned long long passing = 0;
      for (int bin = 0; bin < kBins; ++bin) passing += bins[bin];
      const unsigned long long wanted = passing < k ? passing : k;
      state.wanted = static_cast<unsigned int>(wanted);
      state.remaining = state.wanted;
      if (wanted == 0) {
        state.empty = 1;
        state.done = 1;
      }
    }
    if (!state.done) {
      const int shift = 64 - kDigitBits * (pass + 1);
      unsigned int above = 0;
      for (int bin = kBins - 1; bin >= 0; --bin) {
        const unsigned int count = bins[bin];
        if (above + count >= state.remaining) {
          state.prefix |= static_cast<unsigned long long>(bin) << shift;
          state.remaining -= above;
          if (count == state.remaining || pass == kPasses - 1) state.done = 1;
          break;
        }
        above += count;
      }
    }
    states[query] = state;
  }
  for (int bin = 0; bin < kBins; ++bin) bins[bin] = 0;
}

// Appends the hits of query blockIdx.y: every passing row whose key reaches the threshold.
__global__ void compact_kernel(const unsigned int* keys, size_t row_count,
                               const SelectState* states, edgehdf5_gpu_hit* hits,
                               unsigned int* hit_counts, size_t capacity) {
  const size_t query = blockIdx.y;
  const SelectState state = states[query];
  if (state.empty) return;
  const unsigned int* query_keys = keys + query * row_count;
  for (size_t row = size_t(blockIdx.x) * blockDim.x + threadIdx.x; row < row_count;
       row += size_t(gridDim.x) * blockDim.x) {
    const unsigned int key = query_keys[row];
    if (key == 0u || full_key(key, row) < state.prefix) continue;
    const unsigned int slot = atomicAdd(&hit_counts[query], 1u);
    if (slot < capacity) {
      edgehdf5_gpu_hit hit;
      hit.row = row;
      hit.score = key_score(key);
      hit.reserved = 0;
      hits[query * capacity + slot] = hit;
    }
  }
}

__global__ void read_kernel(const uint4* data, size_t count, unsigned int* sink) {
  unsigned int acc = 0;
  for (size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += size_t(gridDim.x) * blockDim.x) {
    const uint4 value = __ldg(data + i);
    acc ^= value.x ^ value.y ^ value.z ^ value.w;
  }
  // Never true for the zeroed buffer; keeps the loads from being optimised away.
  if (acc == 0x9e3779b9u) sink[0] = acc;
}

// ---- host side -------------------------------------------------------------------------------

int multiprocessors() {
  int device = 0, count = 0;
  cudaGetDevice(&device);
  cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
  return count > 0 ? count : 1;
}

unsigned int grid_for(size_t items, size_t per_block, unsigned int cap) {
  const size_t blocks = (items + per_block - 1) / per_block;
  return static_cast<unsigned int>(std::max<size_t>(1, std::min<size_t>(blocks, cap)));
}

int probe(edgehdf5_gpu_device_info* info, char* error, size_t error_size) {
  int count = 0;
  EH5_CUDA(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  if (count == 0) {
    write_error(error, error_size, "cudaGetDeviceCount", "no CUDA device");
    return 1;
  }
  EH5_CUDA(cudaSetDevice(0), "cudaSetDevice");
  cudaDeviceProp properties;
  EH5_CUDA(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
  size_t free_bytes = 0, total_bytes = 0;
  EH5_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  std::memset(info, 0, sizeof(*info));
  std::snprintf(info->name, sizeof(info->name), "%s", properties.name);
  info->total_memory_bytes = total_bytes;
  info->free_memory_bytes = free_bytes;
  info->compute_major = properties.major;
  info->compute_minor = properties.minor;
  info->multiprocessors = properties.multiProcessorCount;
  return 0;
}

void mirror_destroy(edgehdf5_gpu_mirror* mirror) {
  if (mirror == nullptr) return;
  for (DeviceBuffer* buffer :
       {&mirror->embeddings, &mirror->norms, &mirror->tombstones, &mirror->queries,
        &mirror->queries_half, &mirror->query_norms, &mirror->scores, &mirror->refused,
        &mirror->weights, &mirror->states, &mirror->histograms, &mirror->hits,
        &mirror->hit_counts}) {
    buffer->release();
  }
  if (mirror->blas != nullptr) cublasDestroy(mirror->blas);
  if (mirror->started != nullptr) cudaEventDestroy(mirror->started);
  if (mirror->stopped != nullptr) cudaEventDestroy(mirror->stopped);
  if (mirror->stream != nullptr) cudaStreamDestroy(mirror->stream);
  delete mirror;
}

int mirror_create(uint32_t dim, int half, edgehdf5_gpu_mirror** out, char* error,
                  size_t error_size) {
  *out = nullptr;
  if (dim == 0) {
    write_error(error, error_size, "mirror_create", "embedding_dim is 0");
    return 1;
  }
  auto* mirror = new (std::nothrow) edgehdf5_gpu_mirror;
  if (mirror == nullptr) {
    write_error(error, error_size, "mirror_create", "out of host memory");
    return 1;
  }
  mirror->dim = dim;
  mirror->half = half != 0;
  cudaError_t status = cudaStreamCreateWithFlags(&mirror->stream, cudaStreamNonBlocking);
  if (status == cudaSuccess) status = cudaEventCreate(&mirror->started);
  if (status == cudaSuccess) status = cudaEventCreate(&mirror->stopped);
  if (status != cudaSuccess) {
    write_error(error, error_size, "mirror_create", cudaGetErrorString(status));
    mirror_destroy(mirror);
    return 1;
  }
  const cublasStatus_t blas = cublasCreate(&mirror->blas);
  if (blas != CUBLAS_STATUS_SUCCESS) {
    mirror->blas = nullptr;
    write_error(error, error_size, "cublasCreate", cublasGetStatusString(blas));
    mirror_destroy(mirror);
    return 1;
  }
  cublasSetStream(mirror->blas, mirror->stream);
  *out = mirror;
  return 0;
}

void mirror_clear(edgehdf5_gpu_mirror* mirror) { mirror->rows = 0; }
size_t mirror_rows(const edgehdf5_gpu_mirror* mirror) { return mirror->rows; }
size_t mirror_device_bytes(const edgehdf5_gpu_mirror* mirror) { return mirror->device_bytes(); }

int mirror_append(edgehdf5_gpu_mirror* m, const void* rows, const float* norms,
                  const uint8_t* tombstones, size_t count, char* error, size_t error_size) {
  if (count == 0) return 0;
  const size_t needed = m->rows + count;
  if (needed >= 0xffffffffull) {
    // Keys carry the row in 32 bits.
    write_error(error, error_size, "mirror_append", "more than 2^32 - 2 rows");
    return 1;
  }
  if (needed > m->capacity) {
    // Grow by half again, so a stream of small saves costs amortised O(1) copies.
    const size_t capacity = std::max<size_t>({needed, m->capacity + m->capacity / 2, 1024});
    const size_t row_bytes = size_t(m->dim) * m->element_bytes();
    if (m->embeddings.reserve(capacity * row_bytes, true, m->rows * row_bytes, m->stream, error,
                              error_size) ||
        m->norms.reserve(capacity * sizeof(float), true, m->rows * sizeof(float), m->stream,
                         error, error_size) ||
        m->tombstones.reserve(capacity, true, m->rows, m->stream, error, error_size)) {
      return 1;
    }
    m->capacity = capacity;
  }
  const size_t row_bytes = size_t(m->dim) * m->element_bytes();
  EH5_CUDA(cudaMemcpyAsync(m->embeddings.as<char>() + m->rows * row_bytes, rows, count * row_bytes,
                           cudaMemcpyHostToDevice, m->stream),
           "cudaMemcpy (rows)");
  EH5_CUDA(cudaMemcpyAsync(m->norms.as<float>() + m->rows, norms, count * sizeof(float),
                           cudaMemcpyHostToDevice, m->stream),
           "cudaMemcpy (norms)");
  EH5_CUDA(cudaMemcpyAsync(m->tombstones.as<uint8_t>() + m->rows, tombstones, count,
                           cudaMemcpyHostToDevice, m->stream),
           "cudaMemcpy (tombstones)");
  EH5_CUDA(cudaStreamSynchronize(m->stream), "cudaStreamSynchronize (append)");
  m->rows = needed;
  return 0;
}

int mirror_set_tombstones(edgehdf5_gpu_mirror* m, size_t first, const uint8_t* values,
                          size_t count, char* error, size_t error_size) {
  if (first + count > m->rows) {
    write_error(error, error_size, "mirror_set_tombstones", "rows out of range");
    return 1;
  }
  if (count == 0) return 0;
  EH5_CUDA(cudaMemcpyAsync(m->tombstones.as<uint8_t>() + first, values, count,
                           cudaMemcpyHostToDevice, m->stream),
           "cudaMemcpy (tombstones)");
  EH5_CUDA(cudaStreamSynchronize(m->stream), "cudaStreamSynchronize (tombstones)");
  return 0;
}

// Queries [0, count) of the group already in m->queries: their dots into m->scores.
int score_group(edgehdf5_gpu_mirror* m, size_t count, bool force_cublas, const char** scorer,
                char* error, size_t error_size) {
  const size_t rows = m->rows;
  const int dim = static_cast<int>(m->dim);
  float* dots = m->scores.as<float>();
  const float* queries = m->queries.as<float>();
  const float one = 1.0f, zero = 0.0f;
  if (count == 1 && !force_cublas) {
    const unsigned int blocks =
        grid_for(rows, kWarpsPerBlock, static_cast<unsigned int>(multiprocessors() * 16));
    if (m->half) {
      const auto* values = m->embeddings.as<const __half>();
      if (m->dim % 8 == 0) {
        gemv_f16_kernel<true><<<blocks, kThreads, 0, m->stream>>>(values, rows, m->dim, queries, dots);
      } else {
        gemv_f16_kernel<false><<<blocks, kThreads, 0, m->stream>>>(values, rows, m->dim, queries, dots);
      }
      *scorer = "cuda-gemv-f16";
    } else {
      const auto* values = m->embeddings.as<const float>();
      if (m->dim % 4 == 0) {
        gemv_f32_kernel<true><<<blocks, kThreads, 0, m->stream>>>(values, rows, m->dim, queries, dots);
      } else {
        gemv_f32_kernel<false><<<blocks, kThreads, 0, m->stream>>>(values, rows, m->dim, queries, dots);
      }
      *scorer = "cuda-gemv-f32";
    }
    EH5_CUDA(cudaGetLastError(), "gemv kernel");
    return 0;
  }
  const int row_count = static_cast<int>(rows);
  const int query_count = static_cast<int>(count);
  if (!m->half) {
    if (count == 1) {
      EH5_CUBLAS(cublasSgemv(m->blas, CUBLAS_OP_T, dim, row_count, &one, m->embeddings.as<float>(),
                             dim, queries, 1, &zero, dots, 1),
                 "cublasSgemv");
      *scorer = "cublas-sgemv";
    } else {
      // Rows are dim x N column-major, queries dim x Q: dots = rows^T * queries, N x Q.
      EH5_CUBLAS(cublasSgemm(m->blas, CUBLAS_OP_T, CUBLAS_OP_N, row_count, query_count, dim, &one,
                             m->embeddings.as<float>(), dim, queries, dim, &zero, dots, row_count),
                 "cublasSgemm");
      *scorer = "cublas-sgemm";
    }
    return 0;
  }
  const size_t values = count * m->dim;
  to_half_kernel<<<grid_for(values, kThreads, 1024), kThreads, 0, m->stream>>>(
      queries, values, m->queries_half.as<__half>());
  EH5_CUDA(cudaGetLastError(), "to_half kernel");
  EH5_CUBLAS(cublasGemmEx(m->blas, CUBLAS_OP_T, CUBLAS_OP_N, row_count, query_count, dim, &one,
                          m->embeddings.data, CUDA_R_16F, dim, m->queries_half.data, CUDA_R_16F,
                          dim, &zero, dots, CUDA_R_32F, row_count, CUBLAS_COMPUTE_32F,
                          CUBLAS_GEMM_DEFAULT),
             "cublasGemmEx");
  *scorer = "cublas-gemmex-f16";
  return 0;
}

// Queries per group: as many as the score budget holds (at least one, at most 65535, the
// grid's y limit).
size_t group_size(size_t rows, size_t query_count) {
  const size_t fit = std::max<size_t>(1, kScoreBudgetFloats / std::max<size_t>(rows, 1));
  return std::min<size_t>({query_count, fit, 65535});
}

int reserve_work(edgehdf5_gpu_mirror* m, size_t group, size_t capacity, char* error,
                 size_t error_size) {
  const size_t rows = m->rows;
  if (m->queries.reserve(group * m->dim * sizeof(float), false, 0, m->stream, error, error_size) ||
      (m->half && m->queries_half.reserve(group * m->dim * sizeof(__half), false, 0, m->stream,
                                          error, error_size)) ||
      m->query_norms.reserve(group * sizeof(float), false, 0, m->stream, error, error_size) ||
      m->scores.reserve(group * rows * sizeof(float), false, 0, m->stream, error, error_size) ||
      m->states.reserve(group * sizeof(SelectState), false, 0, m->stream, error, error_size) ||
      m->histograms.reserve(group * kBins * sizeof(unsigned int), false, 0, m->stream, error,
                            error_size) ||
      m->hits.reserve(group * capacity * sizeof(edgehdf5_gpu_hit), false, 0, m->stream, error,
                      error_size) ||
      m->hit_counts.reserve(group * sizeof(unsigned int), false, 0, m->stream, error,
                            error_size)) {
    return 1;
  }
  return 0;
}

int search(edgehdf5_gpu_mirror* m, const edgehdf5_gpu_search_request* request,
           edgehdf5_gpu_hit* hits, size_t* hit_counts, edgehdf5_gpu_search_report* report,
           char* error, size_t error_size) {
  const size_t rows = m->rows;
  std::memset(report, 0, sizeof(*report));
  if (request->k == 0) {
    write_error(error, error_size, "search", "k is 0");
    return 1;
  }
  if (rows == 0) {
    for (size_t q = 0; q < request->query_count; ++q) hit_counts[q] = 0;
    std::snprintf(report->scorer, sizeof(report->scorer), "none");
    return 0;
  }
  const size_t capacity = std::min(request->k, rows);
  const size_t group = group_size(rows, request->query_count);
  if (reserve_work(m, group, capacity, error, error_size)) return 1;
  EH5_CUDA(cudaEventRecord(m->started, m->stream), "cudaEventRecord");
  const uint8_t* refused = nullptr;
  const float* weights = nullptr;
  if (request->refused != nullptr) {
    if (m->refused.reserve(rows, false, 0, m->stream, error, error_size)) return 1;
    EH5_CUDA(cudaMemcpyAsync(m->refused.data, request->refused, rows, cudaMemcpyHostToDevice,
                             m->stream),
             "cudaMemcpy (filter)");
    refused = m->refused.as<uint8_t>();
  }
  if (request->weights != nullptr) {
    if (m->weights.reserve(rows * sizeof(float), false, 0, m->stream, error, error_size)) return 1;
    EH5_CUDA(cudaMemcpyAsync(m->weights.data, request->weights, rows * sizeof(float),
                             cudaMemcpyHostToDevice, m->stream),
             "cudaMemcpy (recency weights)");
    weights = m->weights.as<float>();
  }
  std::vector<unsigned int> counts(group);
  const char* scorer = "none";
  for (size_t first = 0; first < request->query_count; first += group) {
    const size_t count = std::min(group, request->query_count - first);
    EH5_CUDA(cudaMemcpyAsync(m->queries.data, request->queries + first * m->dim,
                             count * m->dim * sizeof(float), cudaMemcpyHostToDevice, m->stream),
             "cudaMemcpy (queries)");
    EH5_CUDA(cudaMemcpyAsync(m->query_norms.data, request->query_norms + first,
                             count * sizeof(float), cudaMemcpyHostToDevice, m->stream),
             "cudaMemcpy (query norms)");
    if (score_group(m, count, request->force_cublas != 0, &scorer, error, error_size)) return 1;

    const unsigned int per_query_blocks =
        grid_for(rows, kThreads * 8, std::max<unsigned int>(1, 4096 / static_cast<unsigned int>(count)));
    const dim3 grid(per_query_blocks, static_cast<unsigned int>(count));
    keys_kernel<<<grid, kThreads, 0, m->stream>>>(m->scores.as<float>(), rows,
                                                  m->query_norms.as<float>(), m->norms.as<float>(),
                                                  m->tombstones.as<uint8_t>(), refused, weights);
    EH5_CUDA(cudaGetLastError(), "keys kernel");
    EH5_CUDA(cudaMemsetAsync(m->states.data, 0, count * sizeof(SelectState), m->stream),
             "cudaMemset (states)");
    EH5_CUDA(cudaMemsetAsync(m->histograms.data, 0, count * kBins * sizeof(unsigned int),
                             m->stream),
             "cudaMemset (histograms)");
    EH5_CUDA(cudaMemsetAsync(m->hit_counts.data, 0, count * sizeof(unsigned int), m->stream),
             "cudaMemset (hit counts)");
    const auto* keys = m->scores.as<const unsigned int>();
    auto* states = m->states.as<SelectState>();
    for (int pass = 0; pass < kPasses; ++pass) {
      histogram_kernel<<<grid, kThreads, 0, m->stream>>>(keys, rows, states,
                                                         m->histograms.as<unsigned int>(), pass);
      select_kernel<<<grid_for(count, 64, 65535), 64, 0, m->stream>>>(
          states, m->histograms.as<unsigned int>(), count, request->k, pass);
    }
    EH5_CUDA(cudaGetLastError(), "top-k kernels");
    compact_kernel<<<grid, kThreads, 0, m->stream>>>(keys, rows, states,
                                                     m->hits.as<edgehdf5_gpu_hit>(),
                                                     m->hit_counts.as<unsigned int>(), capacity);
    EH5_CUDA(cudaGetLastError(), "compact kernel");
    EH5_CUDA(cudaMemcpyAsync(counts.data(), m->hit_counts.data, count * sizeof(unsigned int),
                             cudaMemcpyDeviceToHost, m->stream),
             "cudaMemcpy (hit counts)");
    EH5_CUDA(cudaMemcpyAsync(hits + first * capacity, m->hits.data,
                             count * capacity * sizeof(edgehdf5_gpu_hit), cudaMemcpyDeviceToHost,
                             m->stream),
             "cudaMemcpy (hits)");
    EH5_CUDA(cudaStreamSynchronize(m->stream), "search");
    for (size_t q = 0; q < count; ++q) {
      hit_counts[first + q] = std::min<size_t>(counts[q], capacity);
    }
  }
  EH5_CUDA(cudaEventRecord(m->stopped, m->stream), "cudaEventRecord");
  EH5_CUDA(cudaEventSynchronize(m->stopped), "cudaEventSynchronize");
  float elapsed = 0.0f;
  cudaEventElapsedTime(&elapsed, m->started, m->stopped);
  report->device_ms = elapsed;
  std::snprintf(report->scorer, sizeof(report->scorer), "%s", scorer);
  return 0;
}

int time_scores_only(edgehdf5_gpu_mirror* m, const float* queries, size_t query_count,
                     size_t repeats, double* milliseconds, char* error, size_t error_size) {
  *milliseconds = 0.0;
  if (m->rows == 0 || query_count == 0) return 0;
  // One GEMM for the whole batch, however large its scores: what cuBLAS alone does best.
  if (reserve_work(m, query_count, 1, error, error_size)) return 1;
  EH5_CUDA(cudaMemcpyAsync(m->queries.data, queries, query_count * m->dim * sizeof(float),
                           cudaMemcpyHostToDevice, m->stream),
           "cudaMemcpy (queries)");
  std::vector<double> samples;
  const char* scorer = nullptr;
  for (size_t run = 0; run < repeats + 1; ++run) {  // the first run warms cuBLAS up
    EH5_CUDA(cudaEventRecord(m->started, m->stream), "cudaEventRecord");
    if (score_group(m, query_count, true, &scorer, error, error_size)) return 1;
    EH5_CUDA(cudaEventRecord(m->stopped, m->stream), "cudaEventRecord");
    EH5_CUDA(cudaEventSynchronize(m->stopped), "cudaEventSynchronize");
    float elapsed = 0.0f;
    cudaEventElapsedTime(&elapsed, m->started, m->stopped);
    if (run > 0) samples.push_back(elapsed);
  }
  std::sort(samples.begin(), samples.end());
  *milliseconds = samples.empty() ? 0.0 : samples[samples.size() / 2];
  return 0;
}

int measure_read_bandwidth(size_t bytes, size_t repeats, double* bytes_per_second, char* error,
                           size_t error_size) {
  *bytes_per_second = 0.0;
  bytes = bytes / 16 * 16;
  if (bytes == 0) return 0;
  DeviceBuffer buffer, sink;
  cudaStream_t stream = nullptr;
  EH5_CUDA(cudaStreamCreate(&stream), "cudaStreamCreate");
  cudaEvent_t started = nullptr, stopped = nullptr;
  cudaEventCreate(&started);
  cudaEventCreate(&stopped);
  int status = buffer.reserve(bytes, false, 0, stream, error, error_size) ||
               sink.reserve(16, false, 0, stream, error, error_size);
  if (status == 0) {
    cudaMemset(buffer.data, 0, bytes);
    const unsigned int blocks = static_cast<unsigned int>(multiprocessors() * 8);
    double best = 0.0;
    for (size_t run = 0; run < repeats + 1; ++run) {
      cudaEventRecord(started, stream);
      read_kernel<<<blocks, kThreads * 2, 0, stream>>>(buffer.as<const uint4>(), bytes / 16,
                                                       sink.as<unsigned int>());
      cudaEventRecord(stopped, stream);
      const cudaError_t done = cudaEventSynchronize(stopped);
      if (done != cudaSuccess) {
        write_error(error, error_size, "read kernel", cudaGetErrorString(done));
        status = 1;
        break;
      }
      float elapsed = 0.0f;
      cudaEventElapsedTime(&elapsed, started, stopped);
      if (run > 0 && elapsed > 0.0f) best = std::max(best, double(bytes) / (elapsed * 1e-3));
    }
    *bytes_per_second = best;
  }
  buffer.release();
  sink.release();
  cudaEventDestroy(started);
  cudaEventDestroy(stopped);
  cudaStreamDestroy(stream);
  return status;
}

const edgehdf5_gpu_api kApi = {
    EDGEHDF5_GPU_ABI_VERSION,
    static_cast<uint32_t>(sizeof(edgehdf5_gpu_api)),
    probe,
    mirror_create,
    mirror_destroy,
    mirror_clear,
    mirror_rows,
    mirror_device_bytes,
    mirror_append,
    mirror_set_tombstones,
    search,
    time_scores_only,
    measure_read_bandwidth,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const edgehdf5_gpu_api* edgehdf5_cuda_module() {
  return &kApi;
}
