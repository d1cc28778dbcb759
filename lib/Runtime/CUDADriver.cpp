//===- CUDADriver.cpp - the CUDA driver API, loaded at run time -----------===//

#include "lib/Runtime/CUDADriver.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <mutex>

using namespace kvant::runtime;

namespace {
// The few driver API types and constants used here (cuda.h), so that
// building needs no CUDA headers.
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
constexpr CUresult CUDA_SUCCESS = 0;
constexpr unsigned CU_MEM_ATTACH_GLOBAL = 1;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

struct Driver {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamDestroy)(CUstream);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemGetInfo)(size_t *, size_t *);
  CUresult (*cuGetErrorString)(CUresult, const char **);
};

struct State {
  Driver api{};
  bool ready = false;
  std::string initError;
  CUdevice device = 0;
  CUcontext context = nullptr;
  /// One stream for every launch: mgpuStreamCreate/Destroy bracket each
  /// synchronous launch, and a fresh stream per launch costs more than the
  /// tiny kernels of a small model.
  CUstream stream = nullptr;
  std::mutex errorMutex;
  std::string firstError;
};

State &state() {
  static State s;
  return s;
}

std::string describe(CUresult rc) {
  const char *text = nullptr;
  if (state().api.cuGetErrorString)
    state().api.cuGetErrorString(rc, &text);
  return std::string(text ? text : "unknown CUDA error") + " (" +
         std::to_string(rc) + ")";
}

/// Records the first failure of an mgpu* call; the runtime reports it after
/// the entry point returns.
bool check(CUresult rc, const char *what) {
  if (rc == CUDA_SUCCESS)
    return true;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.errorMutex);
  if (s.firstError.empty())
    s.firstError = std::string(what) + ": " + describe(rc);
  return false;
}

bool hasError() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.errorMutex);
  return !s.firstError.empty();
}

template <typename Fn> bool resolve(void *lib, const char *name, Fn &fn) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  return fn != nullptr;
}

bool doInitialize(State &s, std::string &error) {
  void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    error = "no CUDA driver found (libcuda.so.1): --device cuda needs an "
            "NVIDIA GPU";
    return false;
  }
  Driver &d = s.api;
  const char *missing = nullptr;
#define KVANT_RESOLVE(field, symbol)                                           \
  if (!missing && !resolve(lib, symbol, d.field))                              \
    missing = symbol;
  KVANT_RESOLVE(cuInit, "cuInit")
  KVANT_RESOLVE(cuDeviceGet, "cuDeviceGet")
  KVANT_RESOLVE(cuDeviceGetName, "cuDeviceGetName")
  KVANT_RESOLVE(cuDeviceGetAttribute, "cuDeviceGetAttribute")
  KVANT_RESOLVE(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain")
  KVANT_RESOLVE(cuCtxSetCurrent, "cuCtxSetCurrent")
  KVANT_RESOLVE(cuCtxSynchronize, "cuCtxSynchronize")
  KVANT_RESOLVE(cuModuleLoadData, "cuModuleLoadData")
  KVANT_RESOLVE(cuModuleUnload, "cuModuleUnload")
  KVANT_RESOLVE(cuModuleGetFunction, "cuModuleGetFunction")
  KVANT_RESOLVE(cuLaunchKernel, "cuLaunchKernel")
  KVANT_RESOLVE(cuStreamCreate, "cuStreamCreate")
  KVANT_RESOLVE(cuStreamSynchronize, "cuStreamSynchronize")
  KVANT_RESOLVE(cuStreamDestroy, "cuStreamDestroy_v2")
  KVANT_RESOLVE(cuMemAllocManaged, "cuMemAllocManaged")
  KVANT_RESOLVE(cuMemFree, "cuMemFree_v2")
  KVANT_RESOLVE(cuMemGetInfo, "cuMemGetInfo_v2")
  KVANT_RESOLVE(cuGetErrorString, "cuGetErrorString")
#undef KVANT_RESOLVE
  if (missing) {
    error = std::string("the CUDA driver (libcuda.so.1) lacks ") + missing +
            "; it is too old";
    return false;
  }
  CUresult rc = d.cuInit(0);
  if (rc == CUDA_SUCCESS)
    rc = d.cuDeviceGet(&s.device, 0);
  if (rc != CUDA_SUCCESS) {
    error = "no usable CUDA device: " + describe(rc);
    return false;
  }
  if ((rc = d.cuDevicePrimaryCtxRetain(&s.context, s.device)) ||
      (rc = d.cuCtxSetCurrent(s.context)) ||
      (rc = d.cuStreamCreate(&s.stream, 0))) {
    error = "cannot create a CUDA context: " + describe(rc);
    return false;
  }
  return true;
}

/// Makes the context current on the calling thread.
bool enter() {
  State &s = state();
  return s.ready && check(s.api.cuCtxSetCurrent(s.context), "cuCtxSetCurrent");
}
} // namespace

bool cuda::initialize(std::string &error) {
  State &s = state();
  static std::once_flag once;
  std::call_once(once, [&] { s.ready = doInitialize(s, s.initError); });
  if (!s.ready)
    error = s.initError;
  return s.ready;
}

bool cuda::isInitialized() { return state().ready; }

std::string cuda::getDeviceName() {
  char name[256] = {0};
  if (!enter() || state().api.cuDeviceGetName(name, sizeof(name) - 1,
                                              state().device) != CUDA_SUCCESS)
    return "?";
  return name;
}

int cuda::getComputeCapability() {
  int major = 0, minor = 0;
  State &s = state();
  if (!enter() ||
      s.api.cuDeviceGetAttribute(
          &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, s.device) ||
      s.api.cuDeviceGetAttribute(
          &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, s.device))
    return 0;
  return major * 10 + minor;
}

bool cuda::getMemoryInfo(size_t &freeBytes, size_t &totalBytes,
                         std::string &error) {
  if (!enter()) {
    error = "CUDA is not initialized";
    return false;
  }
  CUresult rc = state().api.cuMemGetInfo(&freeBytes, &totalBytes);
  if (rc != CUDA_SUCCESS) {
    error = "cuMemGetInfo: " + describe(rc);
    return false;
  }
  return true;
}

void *cuda::allocManaged(size_t bytes, std::string &error) {
  if (!enter()) {
    error = "CUDA is not initialized";
    return nullptr;
  }
  CUdeviceptr ptr = 0;
  CUresult rc = state().api.cuMemAllocManaged(&ptr, bytes ? bytes : 1,
                                              CU_MEM_ATTACH_GLOBAL);
  if (rc != CUDA_SUCCESS) {
    error = "cannot allocate " + std::to_string(bytes) +
            " bytes of CUDA managed memory: " + describe(rc);
    return nullptr;
  }
  return reinterpret_cast<void *>(static_cast<uintptr_t>(ptr));
}

void cuda::freeManaged(void *ptr) {
  if (ptr && enter())
    state().api.cuMemFree(
        static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(ptr)));
}

bool cuda::synchronize(std::string &error) {
  if (!enter()) {
    error = "CUDA is not initialized";
    return false;
  }
  CUresult rc = state().api.cuCtxSynchronize();
  if (rc != CUDA_SUCCESS) {
    error = "the GPU failed: " + describe(rc);
    return false;
  }
  return true;
}

std::string cuda::takeError() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.errorMutex);
  std::string error;
  error.swap(s.firstError);
  return error;
}

//===----------------------------------------------------------------------===//
// What the artifact calls. Signatures as MLIR 22's gpu-to-llvm and GPU
// offloading translation emit them (see the declarations in the artifact's
// LLVM IR). The kernel modules are loaded by global constructors when the
// artifact is dlopened, so kvant-run initializes CUDA before that.
//===----------------------------------------------------------------------===//

#define KVANT_EXPORT extern "C" __attribute__((visibility("default")))

KVANT_EXPORT void *mgpuModuleLoad(void *data, size_t /*size*/) {
  CUmodule module = nullptr;
  if (!enter() ||
      !check(state().api.cuModuleLoadData(&module, data), "cuModuleLoadData"))
    return nullptr;
  return module;
}

KVANT_EXPORT void mgpuModuleUnload(void *module) {
  if (module && enter())
    check(state().api.cuModuleUnload(module), "cuModuleUnload");
}

KVANT_EXPORT void *mgpuModuleGetFunction(void *module, const char *name) {
  CUfunction function = nullptr;
  if (!module || !enter() ||
      !check(state().api.cuModuleGetFunction(&function, module, name),
             "cuModuleGetFunction"))
    return nullptr;
  return function;
}

KVANT_EXPORT void *mgpuStreamCreate() { return state().stream; }

KVANT_EXPORT void mgpuStreamDestroy(void * /*stream*/) {}

KVANT_EXPORT void mgpuStreamSynchronize(void *stream) {
  if (enter())
    check(state().api.cuStreamSynchronize(stream), "cuStreamSynchronize");
}

KVANT_EXPORT void mgpuLaunchKernel(void *function, intptr_t gridX,
                                   intptr_t gridY, intptr_t gridZ,
                                   intptr_t blockX, intptr_t blockY,
                                   intptr_t blockZ, int32_t smem, void *stream,
                                   void **params, void **extra,
                                   size_t /*paramsCount*/) {
  // After a failure the results are garbage anyway; skipping the remaining
  // launches keeps one error from cascading into thousands.
  if (!function || hasError() || !enter())
    return;
  check(state().api.cuLaunchKernel(function, gridX, gridY, gridZ, blockX,
                                   blockY, blockZ, smem, stream, params, extra),
        "cuLaunchKernel");
}

KVANT_EXPORT void *_mlir_memref_to_llvm_alloc(size_t bytes) {
  if (!cuda::isInitialized())
    return std::malloc(bytes);
  std::string error;
  void *ptr = cuda::allocManaged(bytes, error);
  if (!ptr) {
    // The generated code has no way to fail; stop with the reason rather
    // than crash on a null buffer.
    std::fprintf(stderr, "kvant-run: error: %s\n", error.c_str());
    std::abort();
  }
  return ptr;
}

KVANT_EXPORT void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment,
                                                      size_t bytes) {
  // Managed allocations are aligned to at least 256 bytes.
  if (!cuda::isInitialized())
    return std::aligned_alloc(alignment,
                              (bytes + alignment - 1) / alignment * alignment);
  return _mlir_memref_to_llvm_alloc(bytes);
}

KVANT_EXPORT void _mlir_memref_to_llvm_free(void *ptr) {
  if (!cuda::isInitialized())
    std::free(ptr);
  else
    cuda::freeManaged(ptr);
}
