/* The interface between libedgehdf5 and its CUDA module (libedgehdf5_cuda.so).
 *
 * Why a module: the library must start on machines with no GPU and no CUDA libraries, so
 * nothing in it links cudart or cuBLAS. The module does, and the library dlopen()s it only
 * when the CUDA driver (libcuda.so.1) is present (src/gpu/gpu_loader.cpp).
 *
 * Why plain C: the table is the only thing the two sides share, and C keeps it free of the
 * C++ ABI (a module built by another compiler, or nvcc's host compiler, still fits). The
 * module exports one function, edgehdf5_cuda_module(), returning a pointer to a static
 * table; the loader refuses a table whose abi_version differs from EDGEHDF5_GPU_ABI_VERSION
 * or whose struct_size is smaller than its own.
 *
 * Errors: every call that can fail returns 0 on success, else nonzero with a message of at
 * most error_size - 1 characters written to `error`. No call throws or aborts.
 * Threads: a mirror is used by one thread at a time (the library holds a lock around it).
 */
#ifndef EDGEHDF5_GPU_MODULE_ABI_H
#define EDGEHDF5_GPU_MODULE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDGEHDF5_GPU_ABI_VERSION 1u
#define EDGEHDF5_GPU_MODULE_SYMBOL "edgehdf5_cuda_module"

typedef struct edgehdf5_gpu_device_info {
  char name[256];             /* "NVIDIA H200" */
  size_t total_memory_bytes;  /* the device's memory */
  size_t free_memory_bytes;   /* free when probed */
  int compute_major;          /* compute capability */
  int compute_minor;
  int multiprocessors;
} edgehdf5_gpu_device_info;

/* A device-resident copy of one store's rows: embeddings in their stored type, norms and
 * tombstones. Opaque to the library. */
typedef struct edgehdf5_gpu_mirror edgehdf5_gpu_mirror;

/* One hit: a row of the mirror and its final score (cosine, times the recency weight). */
typedef struct edgehdf5_gpu_hit {
  uint64_t row;
  float score;
  uint32_t reserved;
} edgehdf5_gpu_hit;

/* What one search asks. The mirror's own tombstones always refuse rows. */
typedef struct edgehdf5_gpu_search_request {
  const float* queries;     /* query_count * dim floats, row-major (host memory) */
  const float* query_norms; /* query_count L2 norms (host) */
  size_t query_count;
  size_t k;                 /* hits per query at most; >= 1 */
  const uint8_t* refused;   /* optional: rows() bytes, 1 = the filter refuses the row (host) */
  const float* weights;     /* optional: rows() recency weights multiplied into scores (host) */
  int force_cublas;         /* 1: score with cuBLAS even for one query (benchmarks) */
} edgehdf5_gpu_search_request;

/* What one search did, for metrics. */
typedef struct edgehdf5_gpu_search_report {
  char scorer[32];          /* "cuda-gemv", "cublas-sgemm", "cublas-gemmex-f16" ... */
  double device_ms;         /* GPU time from the first upload to the last download */
} edgehdf5_gpu_search_report;

typedef struct edgehdf5_gpu_api {
  uint32_t abi_version; /* EDGEHDF5_GPU_ABI_VERSION */
  uint32_t struct_size; /* sizeof(edgehdf5_gpu_api) as the module was built */

  /* Device 0's properties. Fails (with the CUDA runtime's words) when there is no usable
   * device or driver. */
  int (*probe)(edgehdf5_gpu_device_info* info, char* error, size_t error_size);

  /* An empty mirror for rows of `dim` values, float16 when `half` is 1, else float32. */
  int (*mirror_create)(uint32_t dim, int half, edgehdf5_gpu_mirror** out, char* error,
                       size_t error_size);
  void (*mirror_destroy)(edgehdf5_gpu_mirror* mirror);
  /* Drops every row (the next append starts at row 0); keeps the allocations. */
  void (*mirror_clear)(edgehdf5_gpu_mirror* mirror);
  size_t (*mirror_rows)(const edgehdf5_gpu_mirror* mirror);
  /* Device bytes the mirror holds now (rows, norms, tombstones, work buffers). */
  size_t (*mirror_device_bytes)(const edgehdf5_gpu_mirror* mirror);
  /* Appends `count` rows after the last: `rows` holds count * dim values of the mirror's
   * type (uint16 IEEE half bits for float16), `norms` and `tombstones` count values each. */
  int (*mirror_append)(edgehdf5_gpu_mirror* mirror, const void* rows, const float* norms,
                       const uint8_t* tombstones, size_t count, char* error, size_t error_size);
  /* Overwrites tombstones [first, first + count). REQUIRES: first + count <= rows. */
  int (*mirror_set_tombstones)(edgehdf5_gpu_mirror* mirror, size_t first, const uint8_t* values,
                               size_t count, char* error, size_t error_size);

  /* Top-k per query, selected on the device. hits holds query_count * min(k, rows) entries:
   * query q's hits start at q * min(k, rows), hit_counts[q] of them, in no particular order
   * (the library sorts the k it gets). */
  int (*search)(edgehdf5_gpu_mirror* mirror, const edgehdf5_gpu_search_request* request,
                edgehdf5_gpu_hit* hits, size_t* hit_counts, edgehdf5_gpu_search_report* report,
                char* error, size_t error_size);

  /* Benchmarks. Scores only (dot products of query_count queries with every row, cuBLAS
   * GEMV/GEMM, no top-k, nothing copied back), timed with CUDA events over `repeats` runs:
   * *milliseconds gets the median. */
  int (*time_scores_only)(edgehdf5_gpu_mirror* mirror, const float* queries,
                          size_t query_count, size_t repeats, double* milliseconds,
                          char* error, size_t error_size);
  /* The device's read bandwidth in bytes per second: a kernel summing `bytes` of device
   * memory, best of `repeats`. */
  int (*measure_read_bandwidth)(size_t bytes, size_t repeats, double* bytes_per_second,
                                char* error, size_t error_size);
} edgehdf5_gpu_api;

/* The module's one export. */
typedef const edgehdf5_gpu_api* (*edgehdf5_gpu_module_entry)(void);

#ifdef __cplusplus
}
#endif

#endif /* EDGEHDF5_GPU_MODULE_ABI_H */
