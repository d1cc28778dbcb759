//===- GGUFImporter.h - a GGUF model as an llm/qt/kv module -----*- C++ -*-===//

#ifndef KVANT_LIB_IMPORT_GGUFIMPORTER_H
#define KVANT_LIB_IMPORT_GGUFIMPORTER_H

#include "lib/GGUF/GGUFFile.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace kvant {

/// Options that are not in the file.
struct ImportOptions {
  /// KV cache capacity in tokens; 0 takes the model's context length.
  int64_t contextLength = 0;
  /// Tokens per KV cache page.
  int64_t pageSize = 16;
  /// Element type of the KV cache: "f32", or "f16" (keys and values are
  /// rounded to f16 as they are appended; attention reads them as f16 and
  /// computes in f32). Half the cache memory and the bytes attention reads.
  std::string kvCacheType = "f32";
};

/// The hyperparameters of a Llama-family model, read from GGUF metadata.
struct LlamaHParams {
  std::string architecture; ///< "llama", "qwen2" or "mistral".
  int64_t vocabSize = 0, dim = 0, numLayers = 0, ffnDim = 0;
  int64_t numHeads = 0, numKVHeads = 0, headDim = 0, contextLength = 0;
  int64_t ropeDim = 0;
  double rmsEpsilon = 1e-5, ropeTheta = 10000.0;
  bool neoxRope = false; ///< Rotate halves (qwen2) instead of pairs.
  bool qkvBias = false;  ///< qwen2 has biases on q, k and v.
};

/// Reads and checks the hyperparameters of `file`; on failure returns false
/// and sets `error`.
bool readLlamaHParams(const gguf::GGUFFile &file, LlamaHParams &hparams,
                      std::string &error);

/// Builds the model in `file` as a module holding `func.func @forward(tokens,
/// pos, cache) -> (logits, cache)` in the llm, qt and kv dialects. Weights are
/// `qt.weight` ops naming the file's tensors; every tensor the graph needs is
/// checked for presence, type and shape. Returns null and sets `error` on
/// failure.
mlir::OwningOpRef<mlir::ModuleOp> importGGUF(mlir::MLIRContext &context,
                                             const gguf::GGUFFile &file,
                                             const ImportOptions &options,
                                             std::string &error);

} // namespace kvant

#endif // KVANT_LIB_IMPORT_GGUFIMPORTER_H
