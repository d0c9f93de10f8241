// Observations and removals in the knowledge graph (for the MCP tools): in memory, through the
// log (a second handle replays it), through a checkpoint (reopen), and across compaction.

#include <gtest/gtest.h>

#include "edgehdf5/knowledge_graph.hpp"
#include "edgehdf5/memory.hpp"
#include "test_util.hpp"

namespace edgehdf5 {
namespace {

using testing::expect_error;
using testing::TempDir;

std::vector<std::string> texts_of(const KnowledgeGraph& graph, EntityId id) {
  std::vector<std::string> texts;
  for (const Observation& observation : graph.observations_of(id)) texts.push_back(observation.text);
  return texts;
}

TEST(KnowledgeGraphRemoval, EntityTakesItsRelationsAndObservations) {
  KnowledgeGraph graph;
  graph.add_entity({0, "Maya", "person", -1});
  graph.add_entity({1, "Atlas", "project", -1});
  graph.add_entity({2, "Omar", "person", -1});
  graph.add_relation({0, 1, "works_on", 1.0f, 0.0});
  graph.add_relation({2, 1, "owns", 1.0f, 0.0});
  graph.add_relation({2, 0, "manages", 1.0f, 0.0});
  graph.add_observation({0, "likes tea", -1});
  graph.add_observation({2, "in Oslo", -1});
  EXPECT_TRUE(graph.has_observation(0, "likes tea"));
  EXPECT_EQ(graph.observation_count(), 2u);

  EXPECT_TRUE(graph.remove_entity(0));
  EXPECT_FALSE(graph.remove_entity(0));
  EXPECT_EQ(graph.find_entity_by_name("Maya"), nullptr);
  EXPECT_EQ(graph.find_entity_by_name("Omar")->id, 2);  // lookups rebuilt after the shift
  ASSERT_EQ(graph.relations().size(), 1u);
  EXPECT_EQ(graph.relations_from(2).size(), 1u);
  EXPECT_EQ(graph.relations_to(1).size(), 1u);
  EXPECT_TRUE(graph.relations_to(0).empty());
  EXPECT_EQ(graph.observation_count(), 1u);
  EXPECT_TRUE(graph.observations_of(0).empty());
  EXPECT_EQ(graph.next_entity_id(), 3);  // ids are not reused

  EXPECT_EQ(graph.remove_relations(2, 1, "owns"), 1u);
  EXPECT_EQ(graph.remove_relations(2, 1, "owns"), 0u);
  EXPECT_TRUE(graph.relations_from(2).empty());
  EXPECT_TRUE(graph.remove_observation(2, "in Oslo"));
  EXPECT_FALSE(graph.remove_observation(2, "in Oslo"));
  EXPECT_EQ(graph.observation_count(), 0u);
}

class GraphChanges : public ::testing::Test {
 protected:
  TempDir dir;
  MemoryConfig config() const {
    MemoryConfig config;
    config.path = dir / "graph.h5";
    config.embedding_dim = 8;
    config.compact_threshold = 0;  // compaction only when a test asks for it
    return config;
  }
};

TEST_F(GraphChanges, ObservationsAndRemovalsSurviveLogReplayAndCheckpoint) {
  auto memory = HDF5Memory::create(config());
  std::mt19937_64 rng(7);
  const MemoryId note = memory.save(testing::make_entry(rng, 8, 0));
  const EntityId maya = memory.add_entity("Maya", "person", -1);
  const EntityId atlas = memory.add_entity("Atlas", "project", -1);
  const EntityId omar = memory.add_entity("Omar", "person", -1);
  memory.add_relation(maya, atlas, "works_on", 1.0f);
  memory.add_relation(omar, atlas, "owns", 1.0f);
  memory.add_observation(maya, "likes tea", note);
  memory.add_observation(maya, "works late");
  memory.add_observation(omar, "in Oslo");
  EXPECT_TRUE(memory.remove_observation(maya, "works late"));
  EXPECT_FALSE(memory.remove_observation(maya, "never said"));
  EXPECT_EQ(memory.remove_relations(maya, atlas, "works_on"), 1u);
  EXPECT_EQ(memory.remove_relations(maya, atlas, "works_on"), 0u);
  memory.remove_entity(omar);
  memory.flush();

  auto check = [&](const HDF5Memory& handle) {
    const KnowledgeGraph& graph = handle.knowledge();
    ASSERT_EQ(graph.entities().size(), 2u);
    EXPECT_EQ(graph.find_entity_by_name("Omar"), nullptr);
    EXPECT_TRUE(graph.relations().empty());  // works_on removed, owns went with Omar
    EXPECT_EQ(texts_of(graph, maya), std::vector<std::string>{"likes tea"});
    EXPECT_EQ(graph.observations_of(maya).front().memory_id, note);
    EXPECT_EQ(graph.observation_count(), 1u);
    EXPECT_EQ(handle.info().observations, 1u);
  };
  // A reader replays the writer's log.
  check(HDF5Memory::open(config().path, OpenOptions{.read_only = true}));
  memory.close();
  // After close, the file alone (the checkpoint) holds it all.
  check(HDF5Memory::open(config().path, OpenOptions{.read_only = true}));
}

TEST_F(GraphChanges, RefusesWhatTheGraphCannotHold) {
  auto memory = HDF5Memory::create(config());
  const EntityId maya = memory.add_entity("Maya", "person", -1);
  memory.add_observation(maya, "likes tea");
  expect_error([&] { memory.add_observation(maya, "likes tea"); }, ErrorCode::invalid_argument,
               "has this observation already");
  expect_error([&] { memory.add_observation(maya, ""); }, ErrorCode::invalid_argument, "empty");
  expect_error([&] { memory.add_observation(42, "x"); }, ErrorCode::not_found, "no entity");
  expect_error([&] { memory.add_observation(maya, "x", 99); }, ErrorCode::not_found, "memory 99");
  expect_error([&] { memory.remove_entity(42); }, ErrorCode::not_found, "no entity with id 42");
  memory.close();
  const auto reopened = HDF5Memory::open(config().path, OpenOptions{.read_only = true});
  EXPECT_EQ(reopened.knowledge().observation_count(), 1u);
}

TEST_F(GraphChanges, CompactionKeepsObservationsAndUnlinksDroppedMemories) {
  auto memory = HDF5Memory::create(config());
  const auto ids = memory.save_batch(testing::make_entries(4, 8, 0));
  const EntityId maya = memory.add_entity("Maya", "person", -1);
  memory.add_observation(maya, "kept", ids[3]);
  memory.add_observation(maya, "dropped", ids[0]);
  memory.remove(ids[0]);
  memory.remove(ids[1]);
  EXPECT_EQ(memory.compact(), 2u);
  auto check = [&](const HDF5Memory& handle) {
    const auto observations = handle.knowledge().observations_of(maya);
    ASSERT_EQ(observations.size(), 2u);
    EXPECT_EQ(observations[0].text, "kept");
    EXPECT_EQ(observations[0].memory_id, ids[3]);  // still the same memory after compaction
    EXPECT_EQ(observations[1].memory_id, -1);      // its memory is gone
  };
  check(memory);
  memory.close();
  check(HDF5Memory::open(config().path, OpenOptions{.read_only = true}));
}

}  // namespace
}  // namespace edgehdf5
