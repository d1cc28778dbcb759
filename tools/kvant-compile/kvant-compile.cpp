//===- kvant-compile.cpp - a model to an ahead-of-time artifact -----------===//
//
//   kvant-compile model.gguf|model.mlir --target=cpu -o model.so
//
// Imports a GGUF model (or reads a module that kvant-import wrote), runs the
// target's pipeline down to the LLVM dialect, translates to LLVM IR and lets
// clang optimize and link a shared library that exports the model's entry
// point and `kvant_descriptor`. `--emit` stops at an earlier stage. Every
// output is written atomically.
//
//===----------------------------------------------------------------------===//

#include "kvant/Pipelines.h"
#include "lib/Compiler/Compile.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.gguf | model.mlir>"));
static cl::opt<std::string> outputPath("o", cl::Required,
                                       cl::desc("Output file"),
                                       cl::value_desc("file"));
static cl::opt<std::string>
    target("target", cl::desc("cpu, or cuda[:sm_90|sm_80|...] (NVIDIA GPUs)"),
           cl::init("cpu"));
using kvant::EmitKind;
static cl::opt<EmitKind>
    emit("emit", cl::desc("What to write"), cl::init(EmitKind::SharedObject),
         cl::values(clEnumValN(EmitKind::Model, "model",
                               "the imported model (llm/qt/kv dialects)"),
                    clEnumValN(EmitKind::LLVMDialect, "llvm-dialect",
                               "the module after the target pipeline"),
                    clEnumValN(EmitKind::LLVMIR, "llvm-ir", "LLVM IR text"),
                    clEnumValN(EmitKind::SharedObject, "so",
                               "the shared library (default)")));
static cl::opt<int64_t>
    contextLength("context",
                  cl::desc("KV cache capacity in tokens (GGUF input; "
                           "default: the model's context length)"),
                  cl::init(0));
static cl::opt<std::string> kvCacheType(
    "kv-cache-type",
    cl::desc("Element type of the KV cache: f32 (default) or f16 (half the "
             "memory; keys and values rounded to f16 as they are stored; CPU "
             "target)"),
    cl::init("f32"));
static cl::opt<bool>
    parallel("parallel",
             cl::desc("CPU: run each op's parallel loops on the artifact's "
                      "thread team "
                      "(default; kvant-run --threads N picks how many, "
                      "--parallel=false compiles serial code)"),
             cl::init(true));
static cl::opt<std::string> march("march", cl::desc("CPU to generate code for"),
                                  cl::init("native"));
static cl::opt<std::string> int8Dot(
    "int8-dot",
    cl::desc("CPU: quantize the activations of block-format matmuls to int8 "
             "blocks (as llama.cpp does) and use integer dot products: auto "
             "(avx2-vnni when --march has AVX-VNNI or AVX512-VNNI, else avx2 "
             "when it has AVX2, else none), none (f32 math on float "
             "activations), generic, avx2 or avx2-vnni"),
    cl::init("auto"));
static cl::opt<int64_t> interleaveRows(
    "interleave-rows",
    cl::desc("CPU with int8 dot products: store the blocks of this many "
             "consecutive rows of each matmul weight together (8, the "
             "default, which the runtime repacks at load), or 1 to read the "
             "file's layout"),
    cl::init(8));
static cl::opt<bool> outlineMatmuls(
    "outline-matmuls",
    cl::desc("CPU: generate each distinct block-format matmul once, as a "
             "function every layer calls (compiles several times faster; "
             "prefill is slower, decode the same)"),
    cl::init(false));
static cl::opt<int64_t> weightPrefetchDistance(
    "weight-prefetch-distance",
    cl::desc("CPU: bytes ahead in the weights that the decode GEMVs prefetch "
             "(0: none; the hardware prefetcher alone keeps too few lines in "
             "flight for the quantized formats' decode loops)"),
    cl::init(kvant::kDefaultPrefetchDistance));
static cl::opt<std::string> parallelSchedule(
    "parallel-schedule",
    cl::desc("CPU with --parallel: dynamic (default: each thread runs its "
             "share of a loop, then helps the others finish theirs) or "
             "static (one fixed share per thread)"),
    cl::init("dynamic"));
static cl::opt<std::string> clangPath("clang",
                                      cl::desc("clang used to optimize and "
                                               "link"),
                                      cl::init(kvant::getDefaultClangPath()));

static int fail(const Twine &message) {
  WithColor::error(errs(), "kvant-compile") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  kvant::registerCompilerPasses();
  cl::ParseCommandLineOptions(argc, argv,
                              "kvant-compile: model to native artifact\n");
  kvant::CompileOptions options;
  options.inputPath = inputPath;
  options.outputPath = outputPath;
  options.target = target;
  options.emit = emit;
  options.contextLength = contextLength;
  options.kvCacheType = kvCacheType;
  options.march = march;
  options.parallel = parallel;
  options.int8Dot = int8Dot;
  options.interleaveRows = interleaveRows;
  options.outlineMatmuls = outlineMatmuls;
  options.prefetchDistance = weightPrefetchDistance;
  options.parallelSchedule = parallelSchedule;
  options.clangPath = clangPath;
  options.diagnostics = &errs();
  std::string error;
  if (!kvant::compileModel(options, error))
    return fail(error);
  return 0;
}
