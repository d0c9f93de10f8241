// Every SIMD IVF-PQ kernel set against the scalar reference, including sub-quantiser counts
// that are not a multiple of the vector width.

#include <gtest/gtest.h>

#include <string>

#include <random>
#include <vector>

#include "index/ivfpq/adc.hpp"

namespace edgehdf5::ivfpq {
namespace {

struct Shape {
  std::size_t sub_quantizers;
  std::size_t sub_dim;
};

class AdcKernelsTest : public ::testing::TestWithParam<Shape> {};

TEST_P(AdcKernelsTest, EverySetMatchesScalar) {
  const auto [m, sub_dim] = GetParam();
  const std::size_t dim = m * sub_dim;
  std::mt19937_64 random(7);
  std::normal_distribution<float> normal;
  std::vector<float> codebooks(m * kCodewords * sub_dim);
  for (float& value : codebooks) value = normal(random);
  const std::vector<float> transposed = transpose_codebooks(codebooks, m, sub_dim);
  std::vector<float> query(dim);
  for (float& value : query) value = normal(random);
  const std::size_t count = 37;
  std::vector<std::uint8_t> codes(count * m);
  for (auto& code : codes) code = static_cast<std::uint8_t>(random() & 0xff);

  const AdcKernels reference = scalar_adc_kernels();
  std::vector<float> expected_table(m * kCodewords);
  reference.table(query.data(), transposed.data(), m, sub_dim, expected_table.data());
  std::vector<float> expected_scan(count);
  reference.scan(expected_table.data(), codes.data(), count, m, 0.25f, expected_scan.data());
  std::vector<std::uint8_t> expected_code(m);
  reference.encode(query.data(), transposed.data(), m, sub_dim, expected_code.data());

  const std::vector<AdcKernels> sets = all_adc_kernels();
  ASSERT_FALSE(sets.empty());
  for (const AdcKernels& set : sets) {
    SCOPED_TRACE(std::string(set.isa) + "/" + set.scan_kind);
    std::vector<float> table(m * kCodewords);
    set.table(query.data(), transposed.data(), m, sub_dim, table.data());
    for (std::size_t i = 0; i < table.size(); ++i) {
      ASSERT_NEAR(table[i], expected_table[i], 1e-4f * (1.0f + std::abs(expected_table[i])));
    }
    std::vector<float> scan(count);
    set.scan(expected_table.data(), codes.data(), count, m, 0.25f, scan.data());
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_NEAR(scan[i], expected_scan[i], 1e-3f * (1.0f + std::abs(expected_scan[i])));
    }
    std::vector<std::uint8_t> code(m);
    set.encode(query.data(), transposed.data(), m, sub_dim, code.data());
    EXPECT_EQ(code, expected_code);
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AdcKernelsTest,
                         ::testing::Values(Shape{48, 8}, Shape{24, 4}, Shape{7, 3}, Shape{1, 16},
                                           Shape{16, 2}, Shape{33, 1}));

TEST(AdcKernels, BestSetIsNamed) {
  const AdcKernels best = best_adc_kernels();
  ASSERT_NE(best.isa, nullptr);
  EXPECT_NE(best.scan, nullptr);
  const std::string kind = best.scan_kind;
  EXPECT_TRUE(kind == "gather" || kind == "loads") << kind;
  // Measured once: every call gives the same choice.
  EXPECT_EQ(best_adc_kernels().scan, best.scan);
}

}  // namespace
}  // namespace edgehdf5::ivfpq
