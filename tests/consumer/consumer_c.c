/* A C program on edgehdf5's C ABI (the README's C example, verbatim). Usage: consumer_c DIR */
#include <edgehdf5/edgehdf5.h>
#include <stdio.h>

#define TRY(call) do { eh5_status s_ = (call); if (s_ != EH5_OK) { \
    fprintf(stderr, "%s: %s\n", eh5_status_name(s_), eh5_last_error()); return 1; } } while (0)

int main(int argc, char** argv) {
  char path[4096];
  snprintf(path, sizeof path, "%s/memory.h5", argc > 1 ? argv[1] : ".");
  eh5_config config;
  eh5_config_init(&config); /* struct_size and the defaults */
  config.embedding_dim = 4;
  eh5_memory* memory = NULL;
  TRY(eh5_memory_create(path, &config, NULL, &memory));

  const float embedding[4] = {0.1f, 0.9f, 0.0f, 0.2f};
  eh5_record record;
  eh5_record_init(&record);
  record.chunk = "The user prefers dark mode.";
  record.embedding = embedding;
  record.embedding_dim = 4;
  int64_t id = -1, best = -2;
  float score = 0.0f;
  TRY(eh5_memory_save(memory, &record, &id));

  eh5_results* hits = NULL;
  TRY(eh5_memory_search(memory, embedding, 4, NULL, &hits)); /* k 10, auto strategy */
  TRY(eh5_results_hit(hits, 0, &best, &score));
  printf("best %lld, score %.3f, by %s\n", (long long)best, score, eh5_results_strategy(hits));
  eh5_results_free(hits);
  TRY(eh5_memory_close(memory)); /* checkpoints, then frees the handle */
  return best == id ? 0 : 1;
}
