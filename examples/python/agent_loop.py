"""A tiny agent loop over edgehdf5: remember each turn, recall the closest ones for the next.

Run: PYTHONPATH=build/python /usr/bin/python3 examples/python/agent_loop.py /tmp/agent.h5
The embedder here is a stand-in (a seeded random projection of character counts); put your
model's `encode` in its place.
"""
import sys

import numpy as np

import edgehdf5

DIM = 64
_PROJECTION = np.random.default_rng(0).standard_normal((256, DIM)).astype(np.float32)


def embed(texts):
    counts = np.zeros((len(texts), 256), np.float32)
    for row, text in enumerate(texts):
        for byte in text.lower().encode():
            counts[row, byte] += 1
    vectors = counts @ _PROJECTION
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main(path):
    turns = ["I prefer dark mode in every editor", "My cat is called Miso",
             "The deploy runs on Fridays at noon", "Remind me to water the plants"]
    with edgehdf5.Memory.create(path, dim=DIM, embedder="example-projection") as memory:
        memory.save_batch(turns, embed(turns), session_id="day1", source_channel="chat")
        for question in ["what is my cat's name?", "when do we deploy?"]:
            hits = memory.search(embed([question])[0], k=2).hits
            print(question, "->", [(h.id, h.chunk, round(h.score, 3)) for h in hits])
        memory.save("Miso likes tuna", embed(["Miso likes tuna"])[0], session_id="day2")
        print("memories:", len(memory))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "agent_memory_example.h5")
