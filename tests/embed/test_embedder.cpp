#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "edgehdf5/embedder.hpp"
#include "edgehdf5/error.hpp"

namespace edgehdf5 {
namespace {

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += double{a[i]} * double{b[i]};
  return sum;
}

template <typename Call>
ErrorCode error_code_of(Call call) {
  try {
    call();
  } catch (const Error& error) {
    return error.code();
  }
  ADD_FAILURE() << "no edgehdf5::Error thrown";
  return ErrorCode::io;
}

template <typename Call>
std::string error_message_of(Call call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "no edgehdf5::Error thrown";
  return {};
}

// ---- HashEmbedder ----------------------------------------------------------------------------

// Made by an independent implementation of the algorithm in embedder.hpp (Python, the
// reference in tests/cli/test_cli.py). If this test fails, the vectors of every existing
// "hash:D" file no longer match new queries: give the changed algorithm a new name instead.
TEST(HashEmbedder, GoldenVector) {
  const std::vector<float> expected = {
      0.094537f,  -0.090776f, 0.179303f,  -0.110974f, 0.221949f,  -0.088527f, 0.097870f,
      0.417689f,  0.293611f,  0.088527f,  0.000000f,  -0.153095f, 0.297372f,  0.081433f,
      -0.088527f, 0.000000f,  0.280934f,  0.000000f,  0.038885f,  0.000000f,  -0.038885f,
      -0.081433f, 0.000000f,  -0.293611f, 0.000000f,  -0.088527f, 0.192407f,  -0.110974f,
      0.088527f,  -0.480008f, -0.081433f, 0.000000f};
  const auto vector = HashEmbedder(32).embed("The user prefers dark mode in every editor.");
  ASSERT_EQ(vector.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(vector[i], expected[i], 1e-6) << "slot " << i;
  }
}

TEST(HashEmbedder, GoldenSlots384) {
  const auto vector = HashEmbedder(384).embed("Migrating the orders database to Postgres");
  std::size_t nonzero = 0;
  for (const float value : vector) nonzero += value != 0.0f;
  EXPECT_EQ(nonzero, 61u);
  EXPECT_NEAR(vector[1], -0.089379f, 1e-6);
  EXPECT_NEAR(vector[7], -0.173082f, 1e-6);
  EXPECT_NEAR(vector[20], 0.020415f, 1e-6);
  EXPECT_NEAR(vector[43], 0.346164f, 1e-6);
  EXPECT_NEAR(vector[51], 0.104373f, 1e-6);
}

TEST(HashEmbedder, NameDimensionAndUnitNorm) {
  const HashEmbedder embedder;
  EXPECT_EQ(embedder.name(), "hash:384");
  EXPECT_EQ(embedder.dimension(), 384u);
  for (const char* text : {"a", "dark mode", "日本語のテキスト", "café naïve", "x y z 1 2 3"}) {
    const auto vector = embedder.embed(text);
    ASSERT_EQ(vector.size(), 384u);
    for (const float value : vector) ASSERT_TRUE(std::isfinite(value));
    const double norm = std::sqrt(dot(vector, vector));
    if (std::string(text) == "a") {
      EXPECT_EQ(norm, 0.0) << "a text of stop words only has no features";
    } else {
      EXPECT_NEAR(norm, 1.0, 1e-6) << text;
    }
  }
}

TEST(HashEmbedder, EmptyAndStopWordTextsGiveTheZeroVector) {
  const HashEmbedder embedder(16);
  for (const char* text : {"", "   ", "?!", "the and of", "User: it is"}) {
    EXPECT_EQ(embedder.embed(text), std::vector<float>(16, 0.0f)) << text;
  }
}

TEST(HashEmbedder, DeterministicAndCaseInsensitive) {
  const HashEmbedder embedder;
  EXPECT_EQ(embedder.embed("Dark Mode, please"), embedder.embed("dark mode please"));
  EXPECT_EQ(HashEmbedder(384).embed("Ünïcode Straße"), HashEmbedder(384).embed("ünïcode straße"));
}

TEST(HashEmbedder, SharedWordsAndWordFormsAreCloserThanUnrelatedText) {
  const HashEmbedder embedder;
  const auto migration = embedder.embed("the database migration to postgres");
  const auto migrating = embedder.embed("we are migrating databases");
  const auto unrelated = embedder.embed("my beagle loves tennis balls");
  EXPECT_GT(dot(migration, migrating), 0.2);
  EXPECT_GT(dot(migration, migrating), dot(migration, unrelated) + 0.15);
}

TEST(HashEmbedder, RefusesBadDimensions) {
  EXPECT_EQ(error_code_of([] { HashEmbedder(0); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_code_of([] { HashEmbedder(HashEmbedder::kMaxDimension + 1); }),
            ErrorCode::invalid_argument);
  EXPECT_EQ(HashEmbedder(1).embed("anything").size(), 1u);
}

TEST(HashEmbedder, BatchEqualsSingleCalls) {
  const HashEmbedder embedder(64);
  const std::vector<std::string> texts = {"one memory", "", "another memory"};
  const auto vectors = embedder.embed_batch(texts);
  ASSERT_EQ(vectors.size(), 3u);
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(vectors[i], embedder.embed(texts[i]));
}

// ---- make_embedder ---------------------------------------------------------------------------

TEST(MakeEmbedder, BuiltInNames) {
  EXPECT_TRUE(is_builtin_embedder("hash:384"));
  EXPECT_TRUE(is_builtin_embedder("hash:1"));
  EXPECT_TRUE(is_builtin_embedder("hash:65536"));
  for (const char* name : {"hash:0", "hash:65537", "hash:", "hash:-3", "hash:12x", "hash: 5",
                           "hash", "unknown", "openai:text-embedding-3-small", ""}) {
    EXPECT_FALSE(is_builtin_embedder(name)) << name;
  }
  const auto embedder = make_embedder("hash:128");
  EXPECT_EQ(embedder->name(), "hash:128");
  EXPECT_EQ(embedder->dimension(), 128u);
  EXPECT_EQ(embedder->embed("same text"), HashEmbedder(128).embed("same text"));
}

TEST(MakeEmbedder, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(error_code_of([] { make_embedder("hash:abc"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_code_of([] { make_embedder("hash:0"); }), ErrorCode::invalid_argument);
  EXPECT_EQ(error_code_of([] { make_embedder("e5-small"); }), ErrorCode::unsupported);
  const auto message = error_message_of([] { make_embedder("e5-small"); });
  EXPECT_NE(message.find("e5-small"), std::string::npos) << message;
  EXPECT_NE(message.find("hash:384"), std::string::npos) << message;
}

// ---- CommandEmbedder -------------------------------------------------------------------------

// A "model" in one line of shell: the vector [n, 1, 0] for a text of n characters.
constexpr const char* kLengthModel = "while IFS= read -r line; do echo \"[${#line}, 1, 0]\"; done";

TEST(CommandEmbedder, OneVectorPerTextInOrder) {
  const CommandEmbedder embedder(kLengthModel, "length-model", 3);
  EXPECT_EQ(embedder.name(), "length-model");
  EXPECT_EQ(embedder.dimension(), 3u);
  const std::vector<std::string> texts = {"a", "abcd", "two\nlines", ""};
  const auto vectors = embedder.embed_batch(texts);
  ASSERT_EQ(vectors.size(), 4u);
  EXPECT_EQ(vectors[0], (std::vector<float>{1, 1, 0}));
  EXPECT_EQ(vectors[1], (std::vector<float>{4, 1, 0}));
  EXPECT_EQ(vectors[2], (std::vector<float>{9, 1, 0})) << "a newline inside a text is a space";
  EXPECT_EQ(vectors[3], (std::vector<float>{0, 1, 0}));
  EXPECT_EQ(embedder.embed("xyz"), (std::vector<float>{3, 1, 0}));
  EXPECT_TRUE(embedder.embed_batch({}).empty());
}

TEST(CommandEmbedder, LargeBatchesDoNotDeadlock) {
  // The command answers each line at once, so its output pipe fills while we still write.
  const CommandEmbedder embedder("sed 's/.*/[0.5, -0.25]/'", "sed", 2);
  const std::vector<std::string> texts(50000, std::string(100, 'x'));
  const auto vectors = embedder.embed_batch(texts);
  ASSERT_EQ(vectors.size(), texts.size());
  EXPECT_EQ(vectors.back(), (std::vector<float>{0.5f, -0.25f}));
}

TEST(CommandEmbedder, DimensionZeroTakesTheFirstVectorsLength) {
  const CommandEmbedder embedder("sed 's/.*/[1,2,3,4,5]/'", "probe", 0);
  EXPECT_EQ(embedder.embed("text").size(), 5u);
}

struct BadCommand {
  const char* command;
  std::size_t texts;
  const char* mentions;
};

TEST(CommandEmbedder, FailuresNameTheCommandAndTheProblem) {
  const BadCommand cases[] = {
      {"exit 3", 1, "exited with status 3"},
      {"kill -9 $$", 1, "killed by signal 9"},
      {"no-such-embedding-program-xyz", 1, "command not found"},
      {"head -n 1 | sed 's/.*/[1,2,3]/'", 2, "printed 1 vector for 2 texts"},
      {"sed 's/.*/[1,2]/'", 1, "has 2 values, expected 3"},
      {"sed 's/.*/[1,2,\"x\"]/'", 1, "value 2 is not a number"},
      {"sed 's/.*/[1e999,0,0]/'", 1, "value 0 is outside the float range"},
      {"sed 's/.*/[1e300,0,0]/'", 1, "value 0 is outside the float range"},
      {"sed 's/.*/[nan,0,0]/'", 1, "value 0 is not"},
      {"sed 's/.*/{\"embedding\": [1,2,3]}/'", 1, "expected a JSON array"},
      {"sed 's/.*/[1,2,3/'", 1, "not closed"},
      {"sed 's/.*/[1,2,3] extra/'", 1, "unexpected text after the array"},
      {"sed 's/.*/[]/'", 1, "empty"},
      {"cat > /dev/null; echo '[1,0,0]'", 3, "printed 1 vector for 3 texts"},
  };
  for (const auto& bad : cases) {
    const CommandEmbedder embedder(bad.command, "model", 3);
    const std::vector<std::string> texts(bad.texts, "some text");
    const auto message = error_message_of([&] { embedder.embed_batch(texts); });
    EXPECT_NE(message.find(bad.command), std::string::npos) << message;
    EXPECT_NE(message.find(bad.mentions), std::string::npos) << bad.command << ": " << message;
    EXPECT_EQ(error_code_of([&] { embedder.embed_batch(texts); }), ErrorCode::invalid_argument);
  }
}

TEST(CommandEmbedder, ACommandThatStopsReadingDoesNotKillTheCaller) {
  // `true` exits at once; writing 10 MB to it raises EPIPE (SIGPIPE is held back), and the
  // missing vectors are reported as an error instead of the process dying.
  const CommandEmbedder embedder("true", "model", 3);
  const std::vector<std::string> texts(100000, std::string(100, 'y'));
  const auto message = error_message_of([&] { embedder.embed_batch(texts); });
  EXPECT_NE(message.find("printed 0 vectors for 100000 texts"), std::string::npos) << message;
}

TEST(CommandEmbedder, RefusesAnEmptyCommand) {
  EXPECT_EQ(error_code_of([] { CommandEmbedder("  ", "model", 3); }), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace edgehdf5
