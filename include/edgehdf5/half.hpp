#pragma once
// IEEE 754 binary16 <-> binary32 conversion for float16 embedding storage.
//
// Written by hand: Debian's Highway (1.0.3) converts half floats only inside its SIMD ops,
// and we need an exact scalar conversion (round to nearest, ties to even) that gives the
// same bits on every machine, because float16 values are logged and replayed.

#include <cstdint>
#include <span>

namespace edgehdf5 {

using half_bits = std::uint16_t;  // the raw bits of an IEEE half, as stored in the file

half_bits float_to_half(float value) noexcept;
float half_to_float(half_bits bits) noexcept;

// The same conversions over arrays (REQUIRES: out.size() >= the input's), vectorised where the CPU
// converts with IEEE rounding (x86 F16C): bit for bit what the scalar functions give, NaN
// aside (a NaN stays a NaN, its payload bits may differ; the store never holds NaN).
void floats_to_halves(std::span<const float> values, std::span<half_bits> out);
void halves_to_floats(std::span<const half_bits> bits, std::span<float> out);

// The largest finite half value; finite floats beyond it would become infinity.
inline constexpr float kHalfMax = 65504.0f;

// The index of the first of `values` that is NaN or whose magnitude is above `limit`, or
// values.size() when there is none: the one scan behind the checks that embeddings are
// finite (limit: the largest float) or fit a half (kHalfMax). It runs over a save's whole
// matrix, so it checks blocks without branching (the loop vectorises) and looks for the
// exact index only in a block that holds one.
std::size_t first_value_beyond(std::span<const float> values, float limit) noexcept;

}  // namespace edgehdf5
