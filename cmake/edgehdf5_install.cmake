# Install rules for the library: `cmake --install BUILD --prefix P` puts
#   P/lib/libedgehdf5.a, P/lib/libedgehdf5.so.0.3.0 (+ .so.0.3, .so)   the libraries
#   P/include/edgehdf5/*.hpp, P/include/edgehdf5/edgehdf5.h           the public headers only
#                                                                     (edgehdf5.h: the C ABI)
#   P/lib/cmake/edgehdf5/                                             find_package(edgehdf5 CONFIG)
#   P/lib/pkgconfig/edgehdf5.pc                                       pkg-config edgehdf5
# and, from tools/, P/bin/edgehdf5 and P/bin/edgehdf5-migrate. tests/consumer/ builds programs
# against such a prefix both ways.
include(CMakePackageConfigHelpers)

set(EDGEHDF5_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/edgehdf5)
set(edgehdf5_installed_libraries edgehdf5)
if(EDGEHDF5_SHARED)
  list(APPEND edgehdf5_installed_libraries edgehdf5_shared)
endif()

install(TARGETS ${edgehdf5_installed_libraries} EXPORT edgehdf5Targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Headers under src/ are internals: only include/edgehdf5/*.hpp and the C header edgehdf5.h
# are installed.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/edgehdf5
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp" PATTERN "edgehdf5.h")

# --- CMake package ----------------------------------------------------------------------------
install(EXPORT edgehdf5Targets
  NAMESPACE edgehdf5::
  DESTINATION ${EDGEHDF5_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/edgehdf5Config.cmake.in
  ${PROJECT_BINARY_DIR}/edgehdf5Config.cmake
  INSTALL_DESTINATION ${EDGEHDF5_INSTALL_CMAKEDIR})
# 0.x: a program built against 0.3 needs 0.3.y (see EDGEHDF5_ABI_VERSION in CMakeLists.txt).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/edgehdf5ConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/edgehdf5Config.cmake
              ${PROJECT_BINARY_DIR}/edgehdf5ConfigVersion.cmake
  DESTINATION ${EDGEHDF5_INSTALL_CMAKEDIR})

# --- pkg-config -------------------------------------------------------------------------------
# The .pc file finds the prefix from its own place (${pcfiledir}), so it stays right when the
# prefix is given only at install time (cmake --install --prefix P) or the tree is moved.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(EDGEHDF5_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH edgehdf5_pc_up "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" edgehdf5_pc_up "${edgehdf5_pc_up}")
  set(EDGEHDF5_PC_PREFIX "\${pcfiledir}/${edgehdf5_pc_up}")
endif()
# The static library's dependencies, by their pkg-config names (Debian's serial HDF5 is `hdf5`).
set(EDGEHDF5_PC_REQUIRES_PRIVATE "hdf5 zlib libhwy")
if(EDGEHDF5_BLAS)
  string(APPEND EDGEHDF5_PC_REQUIRES_PRIVATE " openblas")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/edgehdf5.pc.in ${PROJECT_BINARY_DIR}/edgehdf5.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/edgehdf5.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
