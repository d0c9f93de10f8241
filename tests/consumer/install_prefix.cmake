# consumer_install: `cmake --install BUILD_DIR --prefix PREFIX` into an emptied PREFIX, then
# checks that the prefix holds the public headers (the C++ ones and the C ABI's edgehdf5.h)
# and nothing else under include/, both
# libraries (the shared one with SONAME libedgehdf5.so.ABI_VERSION), the two tools, the CMake
# package and the pkg-config file.
function(fail what)
  message(FATAL_ERROR "consumer_install: ${what}")
endfunction()

file(REMOVE_RECURSE ${PREFIX})
set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX} ${config_args}
                OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  fail("cmake --install failed (${rc})")
endif()

# include/ holds exactly include/edgehdf5/*.hpp and the C ABI's edgehdf5.h of the source
# tree: no src/ internals.
file(GLOB_RECURSE installed RELATIVE ${PREFIX}/${INCLUDEDIR} LIST_DIRECTORIES false
     ${PREFIX}/${INCLUDEDIR}/*)
file(GLOB public RELATIVE ${SOURCE_INCLUDE_DIR} ${SOURCE_INCLUDE_DIR}/edgehdf5/*.hpp
     ${SOURCE_INCLUDE_DIR}/edgehdf5/edgehdf5.h)
list(FIND public edgehdf5/edgehdf5.h c_header)
if(c_header EQUAL -1)
  fail("the source tree has no include/edgehdf5/edgehdf5.h")
endif()
list(SORT installed)
list(SORT public)
if(NOT installed STREQUAL public)
  fail("include/ holds\n  ${installed}\nexpected the public headers\n  ${public}")
endif()

set(expected ${LIBDIR}/libedgehdf5.a ${BINDIR}/edgehdf5 ${BINDIR}/edgehdf5-migrate
             ${LIBDIR}/cmake/edgehdf5/edgehdf5Config.cmake
             ${LIBDIR}/cmake/edgehdf5/edgehdf5ConfigVersion.cmake
             ${LIBDIR}/cmake/edgehdf5/edgehdf5Targets.cmake
             ${LIBDIR}/pkgconfig/edgehdf5.pc)
if(SHARED)
  list(APPEND expected ${LIBDIR}/libedgehdf5.so ${LIBDIR}/libedgehdf5.so.${ABI_VERSION})
endif()
foreach(path ${expected})
  if(NOT EXISTS ${PREFIX}/${path})
    fail("${path} was not installed")
  endif()
endforeach()

if(SHARED)
  execute_process(COMMAND ${READELF} -d ${PREFIX}/${LIBDIR}/libedgehdf5.so
                  OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT dynamic MATCHES "Library soname: \\[([^]]*)\\]")
    fail("no SONAME in libedgehdf5.so")
  endif()
  if(NOT CMAKE_MATCH_1 STREQUAL "libedgehdf5.so.${ABI_VERSION}")
    fail("SONAME is ${CMAKE_MATCH_1}, expected libedgehdf5.so.${ABI_VERSION}")
  endif()
  message(STATUS "consumer_install: SONAME ${CMAKE_MATCH_1}")
endif()
message(STATUS "consumer_install: ok (${PREFIX})")
