//===- Descriptor.h - what a compiled model artifact contains ---*- C++ -*-===//
//
// A compiled model (`model.so`) exports `kvant_descriptor`, a NUL-terminated
// text that states the ABI version, the entry point, the architecture, the
// hyperparameters, the KV cache geometry and the ordered weight list with
// formats and shapes. The compiler writes it and the runtime parses it to
// check a GGUF file against the artifact before running. Plain C++, shared by
// both sides, so the format is defined once.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_ARTIFACT_DESCRIPTOR_H
#define KVANT_LIB_ARTIFACT_DESCRIPTOR_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kvant::artifact {

/// Bumped on any change of the entry point's signature or this text.
/// 2: each weight states its layout; `repack` names the repack entry point.
constexpr int kABIVersion = 2;

/// Dims joined by 'x' ("2048x5632"), as the descriptor and the runtime's
/// messages write them.
std::string formatDims(const std::vector<int64_t> &dims);

struct WeightDesc {
  std::string name;          ///< GGUF tensor name.
  std::string type;          ///< GGML type name, e.g. "Q8_0", "F32".
  std::vector<int64_t> dims; ///< GGML order: innermost first.
  /// Rows whose blocks the compiled code reads interleaved (1: the file's
  /// layout; see #qt.gguf's `interleave`). Written "file" or "interleave8".
  int64_t interleave = 1;
};

struct Descriptor {
  int abiVersion = kABIVersion;
  std::string entry;        ///< Symbol of the C-interface entry point.
  std::string target;       ///< "cpu" or "cuda:sm_90", ...
  std::string architecture; ///< "llama", ...
  std::map<std::string, int64_t> hparams;
  /// KV cache: element type name and [layers, 2, capacity, heads, head_dim].
  std::string cacheElement;
  std::vector<int64_t> cacheShape;
  int64_t vocabSize = 0;
  std::vector<WeightDesc> weights;
  /// Symbol of `repack(src, dst, offsets)`, which writes the compute layout
  /// of every interleaved weight from the file's bytes at the same offsets;
  /// empty when every weight is read as the file stores it.
  std::string repack;

  std::string serialize() const;
  /// Parses `text`; on failure returns false and sets `error`.
  static bool parse(const std::string &text, Descriptor &out,
                    std::string &error);
};

} // namespace kvant::artifact

#endif // KVANT_LIB_ARTIFACT_DESCRIPTOR_H
