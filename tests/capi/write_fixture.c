/* capi_write_fixture DIR: writes DIR/capi_f32.h5 and DIR/capi_f16.h5 through the C ABI only,
 * for test_capi_h5py.py, which rebuilds the same content in numpy and compares it with what
 * h5py reads. Keep the two in step. */
#include <stdio.h>
#include <string.h>

#include "edgehdf5/edgehdf5.h"

enum { kDim = 8, kRows = 6 };

static const char* const kChunks[kRows] = {
    "alpha the user prefers dark mode", "bravo meeting on tuesday", "caf\xc3\xa9 \xe2\x98\x95 tea",
    "delta project deadline friday",    "echo dark chocolate",      "foxtrot printer broken",
};

static int check(eh5_status status, const char* what) {
  if (status != EH5_OK) {
    fprintf(stderr, "capi_write_fixture: %s: %s: %s\n", what, eh5_status_name(status),
            eh5_last_error());
    return 1;
  }
  return 0;
}

static int write_file(const char* dir, const char* name, int float16) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  eh5_config config;
  eh5_config_init(&config);
  config.agent_id = "c-agent";
  config.embedder = "test:8";
  config.embedding_dim = kDim;
  config.float16 = float16;
  config.created_at = "2026-12-02T00:00:00Z";
  eh5_memory* memory = NULL;
  if (check(eh5_memory_create(path, &config, NULL, &memory), "create")) return 1;

  float values[kRows][kDim];
  eh5_record records[kRows];
  for (int row = 0; row < kRows; ++row) {
    for (int j = 0; j < kDim; ++j) {
      values[row][j] = (float)((row * 31 + j * 17) % 23) / 23.0f - 0.5f +
                       (j == row % kDim ? 2.0f : 0.0f);
    }
    eh5_record_init(&records[row]);
    records[row].chunk = kChunks[row];
    records[row].embedding = values[row];
    records[row].embedding_dim = kDim;
    records[row].source_channel = row % 2 ? "email" : "chat";
    records[row].timestamp = 1700000000.0 + row;
    records[row].session_id = row < 3 ? "s1" : "s2";
    records[row].tags = row % 2 ? "work" : "pref,ui";
  }
  int failed = check(eh5_memory_save(memory, &records[0], NULL), "save");
  failed |= check(eh5_memory_save_batch(memory, &records[1], kRows - 1, NULL), "save_batch");
  failed |= check(eh5_memory_remove(memory, 5), "remove");
  failed |= check(eh5_memory_add_session(memory, "s1", 0, 3, "chat", "first \xc3\xa9"), "session");
  int64_t alice = -1, project = -1;
  failed |= check(eh5_memory_add_entity(memory, "Alice", "person", 2, &alice), "entity");
  failed |= check(eh5_memory_add_entity(memory, "ProjectX", "project", -1, &project), "entity");
  failed |= check(eh5_memory_add_relation(memory, alice, project, "works_on", 0.75f), "relation");
  failed |= check(eh5_memory_close(memory), "close");
  return failed;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: capi_write_fixture DIR\n");
    return 2;
  }
  int failed = write_file(argv[1], "capi_f32.h5", 0);
  failed |= write_file(argv[1], "capi_f16.h5", 1);
  return failed;
}
