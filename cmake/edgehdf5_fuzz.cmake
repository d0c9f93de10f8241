# EDGEHDF5_FUZZ: libFuzzer targets (tests/fuzz/), with Debian's clang (clang-14):
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DEDGEHDF5_FUZZ=ON
# Every target of the build gets libFuzzer's coverage instrumentation and ASan + UBSan, so a
# fuzzer sees into the library; only the fuzz_* programs link libFuzzer's main. The normal
# build needs none of this: it replays the committed corpus and every kept crash input with
# tests/fuzz/replay_main.cpp (CTest fuzz_corpus_*).
option(EDGEHDF5_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)
if(EDGEHDF5_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "edgehdf5: EDGEHDF5_FUZZ needs clang (CC=clang CXX=clang++); "
                        "the C++ compiler is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  if(NOT EDGEHDF5_SANITIZE STREQUAL "")
    message(FATAL_ERROR "edgehdf5: EDGEHDF5_FUZZ sets its own sanitizers; leave EDGEHDF5_SANITIZE empty")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
  set(EDGEHDF5_FUZZ_VALUE 1)
else()
  set(EDGEHDF5_FUZZ_VALUE 0)
endif()
message(STATUS "edgehdf5: EDGEHDF5_FUZZ=${EDGEHDF5_FUZZ_VALUE}")
