#!/usr/bin/env python3
"""An independent implementation of the built-in embedder "hash:D" (include/edgehdf5/
embedder.hpp), from its documentation, for ASCII text (the C++ one also folds and splits
non-ASCII text; for ASCII both tokenise alike).

Two uses: the CLI tests compare the binary's vectors with these, so the documented
algorithm and the code cannot drift apart; and run as a program it is an external embedder
of the kind `--embed-cmd` runs (text lines on stdin, one JSON vector per line on stdout):

    edgehdf5 add FILE --text "..." --embed-cmd "python3 hash_embedder_reference.py 384"
"""

import json
import math
import re
import sys

STOP_WORDS = frozenset("""
    a an the and or but if of to in on at for from by with about as into over after before is
    are was were be been being am do does did has have had i me my we our you your he she it its
    they them their this that these those there here so than then too very can will would should
    could just not no also up out what when which who how all any some let s t ll ve re d m
    user assistant""".split())

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK_64 = (1 << 64) - 1


def fnv1a_64(data: bytes) -> int:
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & MASK_64
    return value


def embed(text: str, dimension: int = 384) -> list[float]:
    if not text.isascii():
        raise ValueError("the reference embedder handles ASCII text only")
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP_WORDS]
    sums = [0.0] * dimension

    def add(feature: str, weight: float) -> None:
        value = fnv1a_64(feature.encode("utf-8"))
        sums[value % dimension] += -weight if value >> 63 else weight

    for i, word in enumerate(words):
        add("w:" + word, 1.0)
        if i + 1 < len(words):
            add("b:" + word + " " + words[i + 1], 0.5)
        padded = "<" + word + ">"
        grams = [padded[j:j + n] for n in (3, 4) for j in range(len(padded) - n + 1)]
        for gram in grams:
            add("c:" + gram, 1.0 / math.sqrt(len(grams)))
    norm = math.sqrt(sum(x * x for x in sums))
    return [x / norm for x in sums] if norm else sums


def main() -> None:
    dimension = int(sys.argv[1]) if len(sys.argv) > 1 else 384
    for line in sys.stdin:
        print(json.dumps(embed(line.rstrip("\n"), dimension)))


if __name__ == "__main__":
    main()
