#pragma once
// Everything public, in one include.
#include "edgehdf5/agent_memory.hpp"
#include "edgehdf5/config.hpp"
#include "edgehdf5/entry.hpp"
#include "edgehdf5/error.hpp"
#include "edgehdf5/half.hpp"
#include "edgehdf5/knowledge_graph.hpp"
#include "edgehdf5/memory.hpp"
#include "edgehdf5/memory_cache.hpp"
#include "edgehdf5/search.hpp"
#include "edgehdf5/version.hpp"
