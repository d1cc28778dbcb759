//===- CUDADriver.h - the CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// kvant-run runs CUDA artifacts through the CUDA driver API, which it finds
// with dlopen("libcuda.so.1") when `--device cuda` asks for it: nothing links
// against CUDA, so CPU-only machines build and run everything else.
//
// The artifact's host code calls the `mgpu*` functions that MLIR's
// gpu-to-llvm lowering emits and `_mlir_memref_to_llvm_alloc/free` (its
// buffers); CUDADriver.cpp defines them with C linkage and kvant-run exports
// them, so that the dlopened artifact resolves them against the executable.
// Every buffer lives in CUDA managed memory, which host code and kernels
// both read; each launch is synchronous.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_RUNTIME_CUDADRIVER_H
#define KVANT_LIB_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace kvant::runtime::cuda {

/// Loads the driver and makes device 0's primary context current. Fails with
/// a message when there is no driver or no device. Later calls return the
/// first call's result.
bool initialize(std::string &error);

/// Whether initialize() succeeded; until then the `mgpu*` functions do
/// nothing (a CUDA artifact loaded for the CPU loads no kernels).
bool isInitialized();

/// The device's name and compute capability (e.g. 90 for sm_90).
std::string getDeviceName();
int getComputeCapability();

/// Free and total device memory in bytes.
bool getMemoryInfo(size_t &freeBytes, size_t &totalBytes, std::string &error);

/// Managed memory that host code and kernels share; null and a message on
/// failure.
void *allocManaged(size_t bytes, std::string &error);
void freeManaged(void *ptr);

/// Waits for all work on the device.
bool synchronize(std::string &error);

/// The first error an `mgpu*` call met since the last call (empty if none),
/// and forgets it. Launches after an error are skipped.
std::string takeError();

} // namespace kvant::runtime::cuda

#endif // KVANT_LIB_RUNTIME_CUDADRIVER_H
