# The Python package (python/): option EDGEHDF5_PYTHON = AUTO (default: on when pybind11, the
# Python 3 headers and numpy are found for Debian's /usr/bin/python3), ON (required) or OFF.
set(EDGEHDF5_PYTHON AUTO CACHE STRING "Build the Python package edgehdf5 (AUTO, ON, OFF)")
set_property(CACHE EDGEHDF5_PYTHON PROPERTY STRINGS AUTO ON OFF)
set(EDGEHDF5_PYTHON_ENABLED OFF)
set(EDGEHDF5_PYTHON_WHY_NOT "needs pybind11-dev python3-dev python3-numpy")
# A sanitized extension cannot be loaded by an unsanitized interpreter: AUTO skips it there.
if(EDGEHDF5_PYTHON STREQUAL "AUTO" AND NOT EDGEHDF5_SANITIZE STREQUAL "")
  set(EDGEHDF5_PYTHON_WHY_NOT "off under EDGEHDF5_SANITIZE=${EDGEHDF5_SANITIZE}")
elseif(NOT EDGEHDF5_PYTHON STREQUAL "OFF")
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3)  # Debian's, with Debian's numpy and pybind11
  endif()
  find_package(Python3 QUIET COMPONENTS Interpreter Development.Module NumPy)
  set(PYBIND11_FINDPYTHON ON)
  find_package(pybind11 CONFIG QUIET)
  if(Python3_FOUND AND Python3_NumPy_FOUND AND pybind11_FOUND)
    set(EDGEHDF5_PYTHON_ENABLED ON)
  elseif(EDGEHDF5_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "edgehdf5: EDGEHDF5_PYTHON=ON needs pybind11-dev, python3-dev and "
                        "python3-numpy (found: Python3=${Python3_FOUND} "
                        "numpy=${Python3_NumPy_FOUND} pybind11=${pybind11_FOUND})")
  endif()
endif()
if(EDGEHDF5_PYTHON_ENABLED)
  message(STATUS "edgehdf5: EDGEHDF5_PYTHON=1 (${Python3_EXECUTABLE} ${Python3_VERSION}, "
                 "numpy ${Python3_NumPy_VERSION}, pybind11 ${pybind11_VERSION})")
  set(EDGEHDF5_PYTHON_VALUE 1)  # the top-level CMakeLists.txt then adds python/
else()
  set(EDGEHDF5_PYTHON_VALUE 0)
  message(STATUS "edgehdf5: EDGEHDF5_PYTHON=0 (${EDGEHDF5_PYTHON}: ${EDGEHDF5_PYTHON_WHY_NOT})")
endif()
