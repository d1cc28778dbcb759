//===- CompiledModel.cpp - load and run a compiled model artifact ---------===//

#include "lib/Runtime/CompiledModel.h"
#include "lib/Runtime/CUDADriver.h"

#include <cstdlib>
#include <cstring>

#include <dlfcn.h>
#include <sys/mman.h>

using namespace kvant;
using namespace kvant::runtime;

namespace {
/// MLIR's C interface for a ranked memref (`StridedMemRefType`).
template <typename T, int Rank> struct MemRefDescriptor {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[Rank];
  int64_t strides[Rank];
};

template <typename T, int Rank>
MemRefDescriptor<T, Rank> makeMemRef(T *data,
                                     const std::vector<int64_t> &shape) {
  MemRefDescriptor<T, Rank> m{data, data, 0, {}, {}};
  int64_t stride = 1;
  for (int i = Rank - 1; i >= 0; --i) {
    m.sizes[i] = shape[i];
    m.strides[i] = stride;
    stride *= shape[i];
  }
  return m;
}

} // namespace

std::unique_ptr<CompiledModel>
CompiledModel::load(const std::string &artifactPath,
                    const std::string &weightsPath, std::string &error,
                    Device device, int threads) {
  if (threads < 0 || threads > kMaxThreads) {
    error = "threads must be between 1 and " + std::to_string(kMaxThreads) +
            " (or 0 for the default), got " + std::to_string(threads);
    return nullptr;
  }
  std::unique_ptr<CompiledModel> model(new CompiledModel());
  model->device = device;
  // A CUDA artifact loads its kernels when it is opened.
  if (device == Device::CUDA && !cuda::initialize(error))
    return nullptr;
  // dlopen searches the library path for a bare file name.
  std::string openPath = artifactPath.find('/') == std::string::npos
                             ? "./" + artifactPath
                             : artifactPath;
  model->library = dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!model->library) {
    const char *why = dlerror();
    error = artifactPath + ": cannot load: " + (why ? why : "unknown error");
    return nullptr;
  }
  auto *text =
      static_cast<const char *>(dlsym(model->library, "kvant_descriptor"));
  if (!text) {
    error = artifactPath + ": not a kvant model (no kvant_descriptor)";
    return nullptr;
  }
  if (!artifact::Descriptor::parse(text, model->desc, error)) {
    error = artifactPath + ": " + error;
    return nullptr;
  }
  bool isCUDA = model->desc.target.rfind("cuda:", 0) == 0;
  if (model->desc.target != "cpu" && !isCUDA) {
    error = artifactPath + ": compiled for target '" + model->desc.target +
            "', which this runtime does not run";
    return nullptr;
  }
  if (isCUDA != (device == Device::CUDA)) {
    error = artifactPath + ": compiled for target '" + model->desc.target +
            "'; run it with --device " + (isCUDA ? "cuda" : "cpu");
    return nullptr;
  }
  if (isCUDA) {
    // e.g. "cuda:sm_90": the kernels run on compute capability 9.0 and up
    // (fatbins carry PTX the driver compiles for newer GPUs).
    int wanted = std::atoi(model->desc.target.c_str() + 8);
    int have = cuda::getComputeCapability();
    if (have < wanted) {
      error = artifactPath + ": compiled for " + model->desc.target + " but " +
              cuda::getDeviceName() + " is sm_" + std::to_string(have) +
              "; recompile with --target=cuda:sm_" + std::to_string(have);
      return nullptr;
    }
    std::string loadError = cuda::takeError();
    if (!loadError.empty()) {
      error = artifactPath + ": cannot load its GPU kernels: " + loadError;
      return nullptr;
    }
  }
  model->entry = reinterpret_cast<EntryFn>(
      dlsym(model->library, model->desc.entry.c_str()));
  if (!model->entry) {
    error =
        artifactPath + ": entry point '" + model->desc.entry + "' is missing";
    return nullptr;
  }

  model->weights = gguf::GGUFFile::open(weightsPath, error);
  if (!model->weights)
    return nullptr;
  const gguf::GGUFFile &file = *model->weights;
  std::optional<std::string> arch = file.getString("general.architecture");
  if (!model->desc.architecture.empty() &&
      arch.value_or("") != model->desc.architecture) {
    error = weightsPath + ": architecture '" + arch.value_or("?") +
            "' does not match the artifact's '" + model->desc.architecture +
            "'";
    return nullptr;
  }
  // Every weight the artifact reads must exist with its format and shape.
  for (const artifact::WeightDesc &w : model->desc.weights) {
    const gguf::TensorInfo *tensor = file.findTensor(w.name);
    if (!tensor) {
      error = weightsPath + ": missing tensor '" + w.name +
              "' that the artifact reads";
      return nullptr;
    }
    if (tensor->type->name != w.type || tensor->dims != w.dims) {
      error = weightsPath + ": tensor '" + w.name + "' is " +
              std::string(tensor->type->name) + " " +
              artifact::formatDims(tensor->dims) +
              " but the artifact was compiled for " + w.type + " " +
              artifact::formatDims(w.dims) + "; recompile for this file";
      return nullptr;
    }
    model->offsets.push_back(
        static_cast<int64_t>(file.getDataOffset() + tensor->offset));
  }
  // The generated code reads and writes the cache; the runtime only sizes
  // and zeroes it.
  size_t elementBytes = model->desc.cacheElement == "F32"   ? 4
                        : model->desc.cacheElement == "F16" ? 2
                                                            : 0;
  if (elementBytes == 0) {
    error = artifactPath + ": KV cache element " + model->desc.cacheElement +
            " is not supported by this runtime (F32 and F16 are)";
    return nullptr;
  }
  int64_t cacheElements = 1;
  for (int64_t d : model->desc.cacheShape)
    cacheElements *= d;
  size_t cacheBytes = cacheElements * elementBytes;
  if (device == Device::CPU) {
    if (!model->sizeThreadTeam(artifactPath, threads, error))
      return nullptr;
    model->cache.assign(cacheBytes, 0);
    if (!model->desc.repack.empty() && !model->repackWeights(error)) {
      error = artifactPath + ": " + error;
      return nullptr;
    }
    return model;
  }
  if (!model->desc.repack.empty()) {
    error = artifactPath + ": its weights need a repack at load, which this "
                           "runtime does for CPU artifacts only";
    return nullptr;
  }

  // Managed memory that the card cannot hold can hang the GPU: check first.
  size_t offsetsBytes = model->offsets.size() * sizeof(int64_t);
  size_t needed = file.getFileSize() + cacheBytes + offsetsBytes;
  size_t freeBytes = 0, totalBytes = 0;
  if (!cuda::getMemoryInfo(freeBytes, totalBytes, error))
    return nullptr;
  if (needed > freeBytes / 10 * 9) {
    error = weightsPath + ": the weights and KV cache need " +
            std::to_string(needed >> 20) + " MiB but the GPU has " +
            std::to_string(freeBytes >> 20) + " MiB free";
    return nullptr;
  }
  if (!model->reserveManaged(model->managedWeights, file.getFileSize(),
                             error) ||
      !model->reserveManaged(model->managedOffsets, offsetsBytes, error) ||
      !model->reserveManaged(model->managedCache, cacheBytes, error))
    return nullptr;
  std::memcpy(model->managedWeights.data, file.getData(), file.getFileSize());
  std::memcpy(model->managedOffsets.data, model->offsets.data(), offsetsBytes);
  std::memset(model->managedCache.data, 0, cacheBytes);
  return model;
}

bool CompiledModel::sizeThreadTeam(const std::string &artifactPath,
                                   int requested, std::string &error) {
  // Exported by the thread team (lib/Artifact/ThreadTeam.c) that parallel
  // artifacts link; absent from the others, which run on the calling thread.
  using TeamSizeFn = int (*)(int);
  auto teamSize =
      reinterpret_cast<TeamSizeFn>(dlsym(library, "kvant_thread_team_size"));
  if (!teamSize) {
    threads = 1;
    return true;
  }
  threads = teamSize(requested);
  if (requested > 0 && threads != requested) {
    error = artifactPath + ": its thread team already runs " +
            std::to_string(threads) +
            " threads in this process (one team per loaded artifact), "
            "cannot use " +
            std::to_string(requested);
    return false;
  }
  return true;
}

bool CompiledModel::repackWeights(std::string &error) {
  using RepackFn = void (*)(void *, void *, void *);
  auto repack = reinterpret_cast<RepackFn>(dlsym(library, desc.repack.c_str()));
  if (!repack) {
    error = "repack entry point '" + desc.repack + "' is missing";
    return false;
  }
  // Every weight lives at its file offset in the copy too. Weights read in
  // the file's layout are copied as they are; the generated repack writes
  // the interleaved ones (most of the bytes), which are not copied first.
  size_t bytes = weights->getFileSize();
  constexpr size_t kAlignment = 64;
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  computeWeights.reset(
      static_cast<uint8_t *>(std::aligned_alloc(kAlignment, rounded)));
  if (!computeWeights) {
    error = "cannot allocate " + std::to_string(bytes >> 20) +
            " MiB for the weights' compute layout";
    return false;
  }
  const uint8_t *file = weights->getData();
  for (size_t i = 0; i < desc.weights.size(); ++i) {
    if (desc.weights[i].interleave != 1)
      continue;
    // load() checked that every weight the descriptor lists is in the file.
    const gguf::TensorInfo *tensor = weights->findTensor(desc.weights[i].name);
    std::memcpy(computeWeights.get() + offsets[i], file + offsets[i],
                tensor->numBytes);
  }
  auto srcRef = makeMemRef<uint8_t, 1>(const_cast<uint8_t *>(file),
                                       {static_cast<int64_t>(bytes)});
  auto dstRef = makeMemRef<uint8_t, 1>(computeWeights.get(),
                                       {static_cast<int64_t>(bytes)});
  auto offsetsRef = makeMemRef<int64_t, 1>(
      offsets.data(), {static_cast<int64_t>(offsets.size())});
  repack(&srcRef, &dstRef, &offsetsRef);
  // The mapped pages are not read again for the weights: let the kernel
  // reclaim them (they come back from the file if the metadata is read).
  if (weights->isMapped())
    madvise(const_cast<uint8_t *>(file), bytes, MADV_DONTNEED);
  return true;
}

bool CompiledModel::reserveManaged(ManagedBuffer &buffer, size_t bytes,
                                   std::string &error) {
  if (buffer.data && buffer.bytes >= bytes)
    return true;
  cuda::freeManaged(buffer.data);
  buffer = {};
  buffer.data = cuda::allocManaged(bytes, error);
  if (!buffer.data)
    return false;
  buffer.bytes = bytes;
  return true;
}

CompiledModel::~CompiledModel() {
  for (ManagedBuffer *buffer : {&managedWeights, &managedOffsets, &managedCache,
                                &managedTokens, &managedLogits})
    cuda::freeManaged(buffer->data);
  if (library)
    dlclose(library);
}

bool CompiledModel::forward(const std::vector<int32_t> &tokens,
                            std::vector<float> &logits, std::string &error) {
  int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) {
    error = "no tokens to run";
    return false;
  }
  if (position + n > getContextLength()) {
    error = std::to_string(position + n) + " tokens exceed the context of " +
            std::to_string(getContextLength()) +
            " (compile with a larger --context)";
    return false;
  }
  for (int32_t t : tokens)
    if (t < 0 || t >= desc.vocabSize) {
      error = "token id " + std::to_string(t) +
              " is outside the vocabulary of " + std::to_string(desc.vocabSize);
      return false;
    }
  logits.resize(n * desc.vocabSize);
  if (device == Device::CUDA)
    return forwardCUDA(tokens, logits, error);
  auto weightsRef =
      makeMemRef<uint8_t, 1>(const_cast<uint8_t *>(getComputeWeights()),
                             {static_cast<int64_t>(weights->getFileSize())});
  auto offsetsRef = makeMemRef<int64_t, 1>(
      offsets.data(), {static_cast<int64_t>(offsets.size())});
  auto tokensRef =
      makeMemRef<int32_t, 1>(const_cast<int32_t *>(tokens.data()), {n});
  // The descriptor's sizes and strides count elements of the cache's type;
  // the pointer's type does not matter to the callee.
  auto cacheRef = makeMemRef<uint8_t, 5>(cache.data(), desc.cacheShape);
  auto logitsRef = makeMemRef<float, 2>(logits.data(), {n, desc.vocabSize});
  entry(&weightsRef, &offsetsRef, &tokensRef, position, &cacheRef, &logitsRef);
  position += n;
  return true;
}

bool CompiledModel::forwardCUDA(const std::vector<int32_t> &tokens,
                                std::vector<float> &logits,
                                std::string &error) {
  int64_t n = static_cast<int64_t>(tokens.size());
  size_t logitsBytes = logits.size() * sizeof(float);
  if (!reserveManaged(managedTokens, n * sizeof(int32_t), error) ||
      !reserveManaged(managedLogits, logitsBytes, error))
    return false;
  std::memcpy(managedTokens.data, tokens.data(), n * sizeof(int32_t));
  auto weightsRef =
      makeMemRef<uint8_t, 1>(static_cast<uint8_t *>(managedWeights.data),
                             {static_cast<int64_t>(weights->getFileSize())});
  auto offsetsRef =
      makeMemRef<int64_t, 1>(static_cast<int64_t *>(managedOffsets.data),
                             {static_cast<int64_t>(offsets.size())});
  auto tokensRef =
      makeMemRef<int32_t, 1>(static_cast<int32_t *>(managedTokens.data), {n});
  auto cacheRef = makeMemRef<uint8_t, 5>(
      static_cast<uint8_t *>(managedCache.data), desc.cacheShape);
  auto logitsRef = makeMemRef<float, 2>(
      static_cast<float *>(managedLogits.data), {n, desc.vocabSize});
  entry(&weightsRef, &offsetsRef, &tokensRef, position, &cacheRef, &logitsRef);
  std::string launchError = cuda::takeError();
  if (!launchError.empty()) {
    error = "the GPU failed: " + launchError;
    return false;
  }
  if (!cuda::synchronize(error))
    return false;
  std::memcpy(logits.data(), managedLogits.data, logitsBytes);
  position += n;
  return true;
}

void CompiledModel::rollback(int64_t newPosition) {
  if (newPosition >= 0 && newPosition < position)
    position = newPosition;
}
