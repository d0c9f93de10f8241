#pragma once
// The reference knowledge-graph memory server's operations (npm
// @modelcontextprotocol/server-memory, KnowledgeGraphManager) over a memory file, in the
// reference's JSON shapes: an entity is {name, entityType, observations}, a relation
// {from, to, relationType}, both by entity name.
//
// Semantics follow the reference: names are unique (an entity whose name exists is skipped),
// relations and observations are not duplicated, deleting what is not there is no error,
// deleting an entity deletes its relations. Where the reference would store something broken
// we refuse instead, and say so: a relation naming an entity that does not exist (the
// reference stores it dangling), and duplicates within one call (the reference keeps both).
// Every operation checks all its input before it changes anything, so a refused call
// changes nothing.
//
// Each observation is also saved as a memory (its text, embedded; source channel
// kObservationChannel, tag "observation"), so that recall ranks observations with memories;
// deleting the observation (or its entity) forgets that memory. Without an embedder (a file
// whose model is not at hand) observations are stored without a memory.

#include <nlohmann/json.hpp>

#include "edgehdf5/embedder.hpp"
#include "edgehdf5/memory.hpp"

namespace edgehdf5::cli::mcp {

// REQUIRES (all): arguments checked against the tool's inputSchema. Throw ToolRefusal.
nlohmann::json create_entities(HDF5Memory& memory, const TextEmbedder* embedder,
                               const nlohmann::json& entities);
nlohmann::json create_relations(HDF5Memory& memory, const nlohmann::json& relations);
nlohmann::json add_observations(HDF5Memory& memory, const TextEmbedder* embedder,
                                const nlohmann::json& observations);
void delete_entities(HDF5Memory& memory, const nlohmann::json& names);
void delete_observations(HDF5Memory& memory, const nlohmann::json& deletions);
void delete_relations(HDF5Memory& memory, const nlohmann::json& relations);

// {entities, relations}: the whole graph.
nlohmann::json read_graph(const HDF5Memory& memory);
// Entities whose name, type or an observation contains `query` (case-insensitive), and the
// relations with at least one end among them.
nlohmann::json search_nodes(const HDF5Memory& memory, const std::string& query);
// The named entities and the relations with at least one end among them.
nlohmann::json open_nodes(const HDF5Memory& memory, const nlohmann::json& names);

}  // namespace edgehdf5::cli::mcp
