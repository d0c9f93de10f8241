// The scalar reference kernels. Accumulation is in float, in index order, as a reader would
// write it. Without -ffast-math the compiler may not reassociate a float sum, so it stays a
// scalar loop and "scalar" in a benchmark means what it says.

#include "edgehdf5/half.hpp"
#include "core/kernels/kernels.hpp"

namespace edgehdf5::kernels {
namespace {

template <typename Load>
float dot(const float* query, std::size_t dim, Load load) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < dim; ++i) sum += query[i] * load(i);
  return sum;
}

void dot_f32(const float* query, const float* matrix, std::size_t dim, std::size_t begin,
             std::size_t end, float* out) {
  for (std::size_t row = begin; row < end; ++row) {
    const float* values = matrix + row * dim;
    out[row - begin] = dot(query, dim, [&](std::size_t i) { return values[i]; });
  }
}

void dot_f16(const float* query, const std::uint16_t* matrix, std::size_t dim,
             std::size_t begin, std::size_t end, float* out) {
  for (std::size_t row = begin; row < end; ++row) {
    const std::uint16_t* values = matrix + row * dim;
    out[row - begin] = dot(query, dim, [&](std::size_t i) { return half_to_float(values[i]); });
  }
}

template <typename Element, void (*Single)(const float*, const Element*, std::size_t,
                                           std::size_t, std::size_t, float*)>
void batch(const float* queries, std::size_t query_count, const Element* matrix,
           std::size_t dim, std::size_t begin, std::size_t end, float* out) {
  for (std::size_t q = 0; q < query_count; ++q) {
    Single(queries + q * dim, matrix, dim, begin, end, out + q * (end - begin));
  }
}

void widen_f16(const std::uint16_t* bits, std::size_t count, float* out) {
  for (std::size_t i = 0; i < count; ++i) out[i] = half_to_float(bits[i]);
}

void narrow_f32(const float* values, std::size_t count, std::uint16_t* out) {
  for (std::size_t i = 0; i < count; ++i) out[i] = float_to_half(values[i]);
}

void to_cosines(float* values, const float* norms, std::size_t count, float query_norm) {
  for (std::size_t i = 0; i < count; ++i) {
    const float denominator = query_norm * norms[i];
    values[i] = denominator != 0.0f ? values[i] / denominator : 0.0f;
  }
}

std::size_t first_at_least(const float* values, std::size_t count, float limit) {
  for (std::size_t i = 0; i < count; ++i) {
    if (!(values[i] < limit)) return i;
  }
  return count;
}

}  // namespace

KernelSet scalar_kernels() {
  return {"scalar",   dot_f32,    dot_f16,    batch<float, dot_f32>, batch<std::uint16_t, dot_f16>,
          widen_f16,  narrow_f32, to_cosines, first_at_least};
}

}  // namespace edgehdf5::kernels
