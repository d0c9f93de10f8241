#include "edgehdf5/knowledge_graph.hpp"

#include <gtest/gtest.h>

#include "edgehdf5/error.hpp"

namespace edgehdf5 {
namespace {

KnowledgeGraph chain(int length) {
  KnowledgeGraph graph;
  for (int i = 0; i < length; ++i) {
    std::string name = "e";  // (appending avoids GCC 12's false -Wrestrict on "e" + string)
    name += std::to_string(i);
    graph.add_entity({i, name, "node", -1});
  }
  for (int i = 0; i + 1 < length; ++i) graph.add_relation({i, i + 1, "next", 1.0f, 0.0});
  return graph;
}

TEST(KnowledgeGraph, TraversalRespectsHopsAndDirectionBoth) {
  const KnowledgeGraph graph = chain(6);
  EXPECT_EQ(graph.traverse(2, 0), (std::vector<std::pair<EntityId, std::size_t>>{{2, 0}}));
  EXPECT_EQ(graph.traverse(2, 1),
            (std::vector<std::pair<EntityId, std::size_t>>{{2, 0}, {1, 1}, {3, 1}}));
  EXPECT_EQ(graph.traverse(0, 10).size(), 6u);
  EXPECT_EQ(graph.traverse(0, 10).back(), (std::pair<EntityId, std::size_t>{5, 5}));
  EXPECT_THROW(graph.traverse(99, 1), Error);
}

TEST(KnowledgeGraph, CyclesSelfLoopsAndDuplicateNames) {
  KnowledgeGraph graph = chain(3);
  graph.add_relation({2, 0, "back", 1.0f, 0.0});
  graph.add_relation({1, 1, "self", 1.0f, 0.0});
  graph.add_entity({3, "e0", "duplicate name", -1});
  EXPECT_EQ(graph.neighbors(1), (std::vector<EntityId>{0, 2}));
  EXPECT_EQ(graph.traverse(0, 5).size(), 3u);
  EXPECT_EQ(graph.find_entity_by_name("e0")->id, 0);  // the first of that name
  EXPECT_EQ(graph.next_entity_id(), 4);
  EXPECT_EQ(graph.relations_from(1).size(), 2u);
  EXPECT_EQ(graph.relations_to(0).size(), 1u);
}

}  // namespace
}  // namespace edgehdf5
