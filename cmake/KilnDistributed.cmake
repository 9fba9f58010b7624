# c10d's process groups for data-parallel runs (runner/train/distributed.cpp, the one file that
# includes them). Every LibTorch has c10d's stores; its process groups need their libraries'
# headers:
#   Gloo  ProcessGroupGloo.hpp includes gloo's headers: Debian's are in libgloo-dev (setup.sh
#         installs it); a pip torch ships them in its include folder.
#   NCCL  a CUDA LibTorch whose ProcessGroupNCCL.hpp and nccl.h (a pip torch's nvidia-nccl
#         package) are there.
# Without them kiln builds and trains one process; a run of several says what is missing.
# Sets KILN_DISTRIBUTED_DEFINITIONS and KILN_DISTRIBUTED_INCLUDES for that one file.
set(KILN_DISTRIBUTED_DEFINITIONS "")
set(KILN_DISTRIBUTED_INCLUDES "")
set(kiln_backends "")

find_file(KILN_C10D_GLOO_HEADER torch/csrc/distributed/c10d/ProcessGroupGloo.hpp
          PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
find_path(KILN_GLOO_INCLUDE_DIR gloo/algorithm.h HINTS ${TORCH_INCLUDE_DIRS})
if(KILN_C10D_GLOO_HEADER AND KILN_GLOO_INCLUDE_DIR)
  list(APPEND KILN_DISTRIBUTED_DEFINITIONS USE_C10D_GLOO KILN_HAVE_GLOO)
  if(NOT KILN_GLOO_INCLUDE_DIR IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
    list(APPEND KILN_DISTRIBUTED_INCLUDES ${KILN_GLOO_INCLUDE_DIR})
  endif()
  list(APPEND kiln_backends gloo)
endif()

if(KILN_WITH_CUDA)
  find_file(KILN_C10D_NCCL_HEADER torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp
            PATHS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
  find_path(KILN_NCCL_INCLUDE_DIR nccl.h
            HINTS ${TORCH_INCLUDE_DIRS} ${CUDAToolkit_INCLUDE_DIRS} ${CUDA_INCLUDE_DIRS}
                  ${Torch_DIR}/../../../../nvidia/nccl/include)
  if(KILN_C10D_NCCL_HEADER AND KILN_NCCL_INCLUDE_DIR)
    list(APPEND KILN_DISTRIBUTED_DEFINITIONS USE_C10D_NCCL KILN_HAVE_NCCL)
    if(NOT KILN_NCCL_INCLUDE_DIR IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
      list(APPEND KILN_DISTRIBUTED_INCLUDES ${KILN_NCCL_INCLUDE_DIR})
    endif()
    list(APPEND kiln_backends nccl)
  endif()
endif()

if(kiln_backends)
  string(REPLACE ";" ", " kiln_backends "${kiln_backends}")
  message(STATUS "kiln: data-parallel backends: ${kiln_backends}")
else()
  message(STATUS "kiln: no data-parallel backend (libgloo-dev's headers not found): runs of one process only")
endif()
