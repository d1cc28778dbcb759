//===- Compile.h - a model to an artifact, as a library ---------*- C++ -*-===//
//
// The compile entry points that kvant-compile and the Python package share:
// import a GGUF model, run a textual pass pipeline on a module, and compile a
// model (GGUF file, .mlir file or module text) to LLVM IR or a shared
// library. The interface is plain C++ (strings in, strings out, errors as
// messages, no exceptions) so that callers need no MLIR headers.
//
//===----------------------------------------------------------------------===//

#ifndef KVANT_LIB_COMPILER_COMPILE_H
#define KVANT_LIB_COMPILER_COMPILE_H

#include <cstdint>
#include <string>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace kvant {

/// What compileModel() writes to the output file.
enum class EmitKind {
  Model,       ///< The imported model (llm/qt/kv dialects).
  LLVMDialect, ///< The module after the target pipeline.
  LLVMIR,      ///< LLVM IR text.
  SharedObject ///< The shared library (the artifact kvant-run loads).
};

struct CompileOptions {
  /// A .gguf file (imported) or an .mlir file (parsed); ignored when
  /// `inputIsText` is set.
  std::string inputPath;
  /// With `inputIsText`, the model module's text (as kvant-import writes).
  std::string inputText;
  bool inputIsText = false;
  std::string outputPath;
  /// "cpu", or "cuda[:sm_NN]" (sm_90 by default; kernels embedded as a
  /// fatbin, host code that kvant-run --device cuda runs).
  std::string target = "cpu";
  EmitKind emit = EmitKind::SharedObject;
  /// KV cache capacity in tokens for a GGUF input; 0 takes the model's.
  int64_t contextLength = 0;
  /// GGUF input: the KV cache's element type, "f32" or "f16" (CPU target).
  std::string kvCacheType = "f32";
  /// CPU to generate code for (clang's -march).
  std::string march = "native";
  /// CPU target: run the parallel loops of every op on OpenMP threads (the
  /// artifact then links libomp). 1.6-1.9x faster decode on a 1.1B model
  /// with 2 cores (bench/README.md); tiny models may prefer one thread.
  bool parallel = true;
  /// CPU target: how block-format matmuls multiply: "none" (f32 math on the
  /// float activations), "generic", "avx2" or "avx2-vnni" (activations
  /// quantized to int8 blocks as llama.cpp does, integer dot products;
  /// avx2-vnni adds vpdpbusd), or "auto": avx2-vnni when `march` has VNNI on
  /// 256 bits, else avx2 when it has AVX2, none otherwise.
  std::string int8Dot = "auto";
  /// CPU target with int8 dot products: rows whose blocks matmul weights
  /// store together in the artifact's compute layout (the runtime repacks
  /// them at load); 1 reads the file's layout. The GEMVs read 8.
  int64_t interleaveRows = 8;
  /// CPU target: bytes ahead in the weights that decode's GEMVs prefetch (0:
  /// none). The default is the CPU pipeline's, kDefaultPrefetchDistance in
  /// kvant/Pipelines.h (Compile.cpp checks that they agree).
  int64_t prefetchDistance = 4096;
  /// CPU target with `parallel`: how the thread team splits each parallel
  /// loop, "dynamic" (each thread's static share first, then taking chunks
  /// from the others') or "static" (one contiguous share per thread).
  std::string parallelSchedule = "dynamic";
  /// CPU target: lower each distinct block-format matmul once, in a function
  /// that every layer calls (qt-outline-matmuls): TinyLlama-1.1B Q4_0
  /// compiles in 18 s instead of 86, but prefills 5-8 % slower (each call
  /// quantizes its activations again).
  bool outlineMatmuls = false;
  /// clang used to optimize and link; empty takes the one kvant was built
  /// with.
  std::string clangPath;
  /// Where MLIR diagnostics go as they are emitted. Null collects them into
  /// the error message instead.
  llvm::raw_ostream *diagnostics = nullptr;
};

/// The clang kvant was built with (the default of CompileOptions::clangPath).
const char *getDefaultClangPath();

/// The int8-dot choice `options` resolves to ("auto" looked up for
/// `options.march`), or an empty string (with `error` set) for an unknown
/// value or a form that `options.march` cannot run.
std::string resolveInt8Dot(const CompileOptions &options, std::string &error);

/// Registers MLIR's and kvant's passes and pipelines with the global pass
/// registry, once (later calls do nothing). The entry points below call it.
void registerCompilerPasses();

/// Compiles as kvant-compile does: import or parse, the target's pipeline,
/// translation to LLVM IR, clang -O3. Every output is written atomically.
/// On failure returns false and sets `error` (which names the file).
bool compileModel(const CompileOptions &options, std::string &error);

/// The module kvant-import writes for the GGUF file at `path`.
bool importGGUFToText(const std::string &path, int64_t contextLength,
                      std::string &moduleText, std::string &error);

/// Parses `moduleText`, runs the textual pass pipeline `pipeline`
/// ("builtin.module(qt-fuse-dequant)", getCPUPipeline(), ...) and prints the
/// result into `result`. Diagnostics are part of `error` on failure.
bool runPipelineOnText(const std::string &moduleText,
                       const std::string &pipeline, std::string &result,
                       std::string &error);

} // namespace kvant

#endif // KVANT_LIB_COMPILER_COMPILE_H
