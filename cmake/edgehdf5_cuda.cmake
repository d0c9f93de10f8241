# The CUDA backend (Strategy::gpu): option EDGEHDF5_CUDA, the module libedgehdf5_cuda.so and
# the loader's sources in the library. Included by the top-level CMakeLists.txt after
# edgehdf5_objects is defined.
#
# EDGEHDF5_CUDA: AUTO (default) builds the module when nvcc and cuBLAS are found; ON
# requires them; OFF never builds it. Either way the library itself never links CUDA: it
# dlopen()s the module at run time when the driver and a device are present
# (src/gpu/gpu_loader.hpp), so a binary built with CUDA runs on a machine without a GPU.
include(GNUInstallDirs)
set(EDGEHDF5_CUDA AUTO CACHE STRING
    "CUDA backend module: AUTO (when the CUDA toolkit and cuBLAS are found), ON or OFF")
set_property(CACHE EDGEHDF5_CUDA PROPERTY STRINGS AUTO ON OFF)

set(EDGEHDF5_CUDA_VALUE 0)
set(edgehdf5_cuda_reason "EDGEHDF5_CUDA=OFF")
if(NOT EDGEHDF5_CUDA STREQUAL "OFF")
  if(NOT EDGEHDF5_SANITIZE STREQUAL "")
    # nvcc does not take the sanitizer flags every target gets; the sanitizer builds test
    # the CPU paths (and the "CUDA built, no GPU" path is tested by the plain build).
    set(edgehdf5_cuda_reason "not with EDGEHDF5_SANITIZE=${EDGEHDF5_SANITIZE}")
  else()
    if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
      set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
    endif()
    include(CheckLanguage)
    check_language(CUDA)
    if(CMAKE_CUDA_COMPILER)
      enable_language(CUDA)
      find_package(CUDAToolkit QUIET)
      if(CUDAToolkit_FOUND AND TARGET CUDA::cublas)
        set(EDGEHDF5_CUDA_VALUE 1)
      else()
        set(edgehdf5_cuda_reason "nvcc found but not cuBLAS")
      endif()
    else()
      set(edgehdf5_cuda_reason "no CUDA compiler (nvcc) found")
    endif()
  endif()
  if(EDGEHDF5_CUDA STREQUAL "ON" AND NOT EDGEHDF5_CUDA_VALUE)
    message(FATAL_ERROR "edgehdf5: EDGEHDF5_CUDA=ON but ${edgehdf5_cuda_reason}")
  endif()
endif()

target_sources(edgehdf5_objects PRIVATE
  ${PROJECT_SOURCE_DIR}/src/gpu/gpu_loader.cpp
  ${PROJECT_SOURCE_DIR}/src/gpu/gpu_search.cpp)
target_link_libraries(edgehdf5_objects PRIVATE ${CMAKE_DL_LIBS})

if(EDGEHDF5_CUDA_VALUE)
  add_library(edgehdf5_cuda MODULE src/gpu/cuda_module.cu)
  # sm_90 machine code plus its PTX (for later GPUs), nothing older: one nvcc pass each.
  set_target_properties(edgehdf5_cuda PROPERTIES
    CUDA_ARCHITECTURES "90-real;90-virtual"
    CUDA_RUNTIME_LIBRARY Static
    CUDA_STANDARD 17
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin
    BUILD_RPATH "${CUDAToolkit_LIBRARY_DIR}"
    INSTALL_RPATH "${CUDAToolkit_LIBRARY_DIR}")
  target_include_directories(edgehdf5_cuda PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(edgehdf5_cuda PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-fvisibility=hidden>)
  target_link_libraries(edgehdf5_cuda PRIVATE CUDA::cublas)
  install(TARGETS edgehdf5_cuda LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set(edgehdf5_cuda_reason "module libedgehdf5_cuda.so, CUDA ${CUDAToolkit_VERSION}, sm_90")
endif()

set_source_files_properties(${PROJECT_SOURCE_DIR}/src/gpu/gpu_loader.cpp PROPERTIES
  COMPILE_DEFINITIONS "EDGEHDF5_CUDA=${EDGEHDF5_CUDA_VALUE};EDGEHDF5_CUDA_MODULE_BUILD_DIR=\"${CMAKE_BINARY_DIR}/bin\";EDGEHDF5_CUDA_MODULE_INSTALL_DIR=\"${CMAKE_INSTALL_FULL_LIBDIR}\"")
message(STATUS "edgehdf5: EDGEHDF5_CUDA=${EDGEHDF5_CUDA_VALUE} (${EDGEHDF5_CUDA}: ${edgehdf5_cuda_reason})")
