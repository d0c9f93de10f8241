#pragma once
// The tables that refer to others: sessions and entities point at chunks by position,
// relations at entities by id. Each reference is checked and mapped onto the new file:
//
//   sessions   [start_idx, end_idx) -> [first_id_from(start_idx), first_id_from(end_idx)):
//              end_idx is exclusive, as in the library's sessions. The new range holds the
//              ids of exactly the chunks of the old range that were written, so a session
//              whose chunks were all left out keeps its summary with an empty range.
//   entities   embedding_idx -> the id of that chunk; -1 (or NULL) stays -1, and so does an
//              entity whose chunk was left out (counted in entities_unlinked). Entity ids
//              are kept as they are.
//   relations  src and tgt must be ids of entities that were migrated.

#include "chunk_positions.hpp"
#include "read_context.hpp"
#include "source_schema.hpp"

namespace edgehdf5::migrate {

void read_sessions(const ReadContext& context, const ResolvedTable& table,
                   const ChunkPositions& positions);

// Reads entities, then the relations between them (either table may be absent).
void read_knowledge_graph(const ReadContext& context, const std::optional<ResolvedTable>& entities,
                          const std::optional<ResolvedTable>& relations,
                          const ChunkPositions& positions);

}  // namespace edgehdf5::migrate
