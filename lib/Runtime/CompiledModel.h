//===- CompiledModel.h - load and run a compiled model artifact -*- C++ -*-===//
//
// Loads `model.so` (written by kvant-compile), checks its descriptor against
// a memory-mapped GGUF file, owns the KV cache and calls the generated entry
// point. All math runs in the generated code; this class only moves
// pointers. Plain C++: no LLVM/MLIR library is needed to run a model.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_RUNTIME_COMPILEDMODEL_H
#define KVANT_LIB_RUNTIME_COMPILEDMODEL_H

#include "lib/Artifact/Descriptor.h"
#include "lib/GGUF/GGUFFile.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kvant::runtime {

/// Where a model runs; an artifact runs only on the device it was compiled
/// for (its descriptor's target: "cpu" or "cuda:<chip>").
enum class Device { CPU, CUDA };

class CompiledModel {
public:
  /// Loads the artifact and the weights; returns null and sets `error` (which
  /// names the offending file) on any mismatch. With Device::CUDA the CUDA
  /// driver is loaded first, and the weights, the KV cache and every buffer
  /// the artifact uses live in CUDA managed memory.
  ///
  /// `threads` > 0 sizes the thread team of an artifact compiled with
  /// --parallel (0: OMP_NUM_THREADS, else the CPUs the process may use). The
  /// team belongs to the loaded artifact, one per process: loading the same
  /// artifact again with another size fails. Artifacts without parallel
  /// loops run on the calling thread whatever `threads` says.
  /// The largest thread team (lib/Artifact/ThreadTeam.c's kMaxThreads).
  static constexpr int kMaxThreads = 256;
  static std::unique_ptr<CompiledModel>
  load(const std::string &artifactPath, const std::string &weightsPath,
       std::string &error, Device device = Device::CPU, int threads = 0);
  ~CompiledModel();

  const artifact::Descriptor &getDescriptor() const { return desc; }
  const gguf::GGUFFile &getWeights() const { return *weights; }
  int64_t getVocabSize() const { return desc.vocabSize; }
  /// Tokens the KV cache holds.
  int64_t getContextLength() const { return desc.cacheShape[2]; }
  /// Tokens already in the cache.
  int64_t getPosition() const { return position; }
  /// Threads that run the artifact's parallel loops (1 without a team).
  int getThreads() const { return threads; }

  /// Runs `tokens` at the current position, appending them to the cache, and
  /// writes `tokens.size() x vocab` logits (every position's) into `logits`.
  /// Fails with a message when the tokens would not fit the context or an
  /// id is outside the vocabulary.
  bool forward(const std::vector<int32_t> &tokens, std::vector<float> &logits,
               std::string &error);
  /// Forgets the cached tokens after `newPosition` (e.g. a new prompt).
  void rollback(int64_t newPosition);

private:
  CompiledModel() = default;

  void *library = nullptr;
  using EntryFn = void (*)(void *, void *, void *, int64_t, void *, void *);
  EntryFn entry = nullptr;
  artifact::Descriptor desc;
  std::unique_ptr<gguf::GGUFFile> weights;
  /// The weights in the artifact's compute layout (a copy of the file with
  /// its interleaved weights repacked by the artifact's own repack entry
  /// point), when the descriptor names one; otherwise the entry point reads
  /// the mapped file.
  struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], FreeDeleter> computeWeights;
  const uint8_t *getComputeWeights() const {
    return computeWeights ? computeWeights.get() : weights->getData();
  }
  bool repackWeights(std::string &error);
  /// Asks the artifact's thread team (if it has one) for `requested` threads
  /// and records the size it has.
  bool sizeThreadTeam(const std::string &artifactPath, int requested,
                      std::string &error);
  std::vector<int64_t> offsets;
  /// The KV cache's bytes (F32 or F16 elements, desc.cacheShape).
  std::vector<uint8_t> cache;
  int64_t position = 0;
  int threads = 1;

  /// Device::CUDA: managed copies of what the entry point reads and writes.
  Device device = Device::CPU;
  struct ManagedBuffer {
    void *data = nullptr;
    size_t bytes = 0;
  };
  ManagedBuffer managedWeights, managedOffsets, managedCache, managedTokens,
      managedLogits;
  bool forwardCUDA(const std::vector<int32_t> &tokens,
                   std::vector<float> &logits, std::string &error);
  /// `buffer` with room for `bytes` (reallocated when too small).
  bool reserveManaged(ManagedBuffer &buffer, size_t bytes, std::string &error);
};

} // namespace kvant::runtime

#endif // KVANT_LIB_RUNTIME_COMPILEDMODEL_H
