# consumer_find_package: configures find_package/ against PREFIX (-DCMAKE_PREFIX_PATH only),
# builds it and runs it, once linking edgehdf5::edgehdf5 (the shared library, found at run
# time through the RPATH CMake gives a program linked to an imported shared library) and once
# linking edgehdf5::edgehdf5_static. Each time it also checks, in the program's dynamic
# section, which library it was linked with. The C ABI's consumer_c (the README's C example)
# is built and run the same way.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(JOIN " " command ${ARGN})
    message(FATAL_ERROR "consumer_find_package: `${command}` failed (${rc}):\n${out}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

set(variants static)
if(SHARED)
  list(PREPEND variants shared)
endif()
foreach(link ${variants})
  set(build ${WORK_DIR}/${link})
  file(REMOVE_RECURSE ${build})
  file(MAKE_DIRECTORY ${build}/data)
  run(${CMAKE_COMMAND} -S ${PROJECT_DIR} -B ${build} -G ${GENERATOR}
      -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
      -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}
      -DCMAKE_C_COMPILER=${CC} -DCMAKE_C_COMPILER_LAUNCHER=${LAUNCHER}
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE} "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
      "-DCMAKE_C_FLAGS=${EXTRA_FLAGS}"
      "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}" -DEDGEHDF5_CONSUMER_LINK=${link})
  string(FIND "${output}" "from ${PREFIX}/" from_prefix)
  if(from_prefix EQUAL -1)
    message(FATAL_ERROR "consumer_find_package: edgehdf5 was not found in ${PREFIX}:\n${output}")
  endif()
  run(${CMAKE_COMMAND} --build ${build})

  set(program ${build}/edgehdf5_consumer)
  run(${READELF} -d ${program})
  if(link STREQUAL "shared" AND NOT output MATCHES "NEEDED[^\n]*\\[libedgehdf5\\.so\\.")
    message(FATAL_ERROR "consumer_find_package: the shared build does not need libedgehdf5.so")
  elseif(link STREQUAL "static" AND output MATCHES "libedgehdf5\\.so")
    message(FATAL_ERROR "consumer_find_package: the static build needs libedgehdf5.so")
  endif()

  run(${program} ${build}/data)
  message(STATUS "consumer_find_package (${link}): ${output}")
  file(MAKE_DIRECTORY ${build}/c_data)
  run(${build}/edgehdf5_consumer_c ${build}/c_data)
  message(STATUS "consumer_find_package (${link}, C): ${output}")
endforeach()
message(STATUS "consumer_find_package: ok")
