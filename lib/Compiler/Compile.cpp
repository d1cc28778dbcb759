//===- Compile.cpp - a model to an artifact, as a library -----------------===//

#include "lib/Compiler/Compile.h"

#include "dialects/qt/Transforms/Passes.h"
#include "kvant/CUDAPipeline.h"
#include "kvant/InitAllDialects.h"
#include "kvant/InitAllPasses.h"
#include "kvant/Pipelines.h"
#include "lib/GGUF/GGUFFile.h"
#include "lib/Import/GGUFImporter.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Linker/Linker.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <mutex>

#include "ThreadTeamBitcode.h"

using namespace llvm;

const char *kvant::getDefaultClangPath() { return KVANT_CLANG_PATH; }

/// The x86 features of the CPU that `march` names (clang's -march; "native"
/// is the host).
static StringMap<bool> marchFeatures(StringRef march) {
  if (march == "native")
    return sys::getHostCPUFeatures();
  SmallVector<StringRef> names;
  X86::getFeaturesForCPU(march, names);
  StringMap<bool> features;
  for (StringRef name : names)
    features[name] = true;
  return features;
}

/// The int8-dot forms `features` can run: avx2-vnni needs 256-bit vpdpbusd,
/// from AVX-VNNI or from AVX512-VNNI with AVX512-VL.
static bool hasAVX2(const StringMap<bool> &features) {
  return features.lookup("avx2");
}
static bool hasAVX2VNNI(const StringMap<bool> &features) {
  return hasAVX2(features) &&
         (features.lookup("avxvnni") ||
          (features.lookup("avx512vnni") && features.lookup("avx512vl")));
}

std::string kvant::resolveInt8Dot(const CompileOptions &options,
                                  std::string &error) {
  StringRef choice = options.int8Dot;
  StringMap<bool> features = marchFeatures(options.march);
  if (choice == "auto")
    return hasAVX2VNNI(features) ? "avx2-vnni"
           : hasAVX2(features)   ? "avx2"
                                 : "none";
  if (choice == "none" || choice == "generic")
    return choice.str();
  if (choice == "avx2" || choice == "avx2-vnni") {
    // LLVM cannot select these intrinsics for a CPU without the instructions:
    // refuse here rather than fail in the backend.
    if (choice == "avx2" ? hasAVX2(features) : hasAVX2VNNI(features))
      return choice.str();
    error = "--int8-dot=" + options.int8Dot + " needs a CPU with " +
            (choice == "avx2" ? "AVX2"
                              : "AVX2 and AVX-VNNI (or AVX512-VNNI with "
                                "AVX512-VL)") +
            "; --march=" + options.march + " has none";
    return "";
  }
  error = "unknown --int8-dot '" + options.int8Dot +
          "' (expected auto, none, generic, avx2 or avx2-vnni)";
  return "";
}

void kvant::registerCompilerPasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    kvant::registerAllPasses();
  });
}

namespace {
/// Every dialect, extension and LLVM IR translation the compiler may meet.
mlir::DialectRegistry makeRegistry() {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  kvant::registerAllDialects(registry);
  return registry;
}

/// Routes a context's diagnostics to a stream, or collects them so that they
/// can be appended to an error message.
class Diagnostics {
public:
  Diagnostics(mlir::MLIRContext &context, raw_ostream *stream)
      : collected(text), toStream(stream != nullptr),
        handler(sourceMgr, &context, stream ? *stream : collected) {
    // A collected message should not carry a dump of the failing op (often
    // the whole model).
    if (!toStream)
      context.printOpOnDiagnostic(false);
  }

  llvm::SourceMgr &getSourceMgr() { return sourceMgr; }

  /// `message`, followed by the collected diagnostics or a pointer to the
  /// ones already printed.
  std::string error(const std::string &message) {
    if (toStream)
      return message + " (see the diagnostics above)";
    if (text.empty())
      return message;
    std::string diags = text;
    while (!diags.empty() && diags.back() == '\n')
      diags.pop_back();
    return message + ":\n" + diags;
  }

private:
  std::string text;
  raw_string_ostream collected;
  bool toStream;
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler;
};

/// Writes `text` to `path` atomically.
bool writeFile(StringRef path, StringRef text, std::string &error) {
  std::unique_ptr<ToolOutputFile> out = mlir::openOutputFile(path, &error);
  if (!out)
    return false;
  out->os() << text;
  out->keep();
  return true;
}

/// Links the artifacts' thread team (lib/Artifact/ThreadTeam.c, embedded as
/// bitcode) into `module`: the OpenMP entry points its parallel loops call.
bool linkThreadTeam(llvm::Module &module, std::string &error) {
  MemoryBufferRef bitcode(
      StringRef(reinterpret_cast<const char *>(kThreadTeamBitcode),
                kThreadTeamBitcode_size),
      "ThreadTeam.bc");
  Expected<std::unique_ptr<llvm::Module>> team =
      parseBitcodeFile(bitcode, module.getContext());
  if (!team) {
    error =
        "cannot read the embedded thread team: " + toString(team.takeError());
    return false;
  }
  // Same target as the model; the team's functions keep their own CPU.
  (*team)->setTargetTriple(module.getTargetTriple());
  (*team)->setDataLayout(module.getDataLayout());
  if (Linker::linkModules(module, std::move(*team))) {
    error = "cannot link the thread team into the model";
    return false;
  }
  return true;
}

std::string printModule(mlir::ModuleOp module) {
  std::string text;
  raw_string_ostream os(text);
  module->print(os);
  os << "\n";
  return text;
}

mlir::OwningOpRef<mlir::ModuleOp>
importFile(mlir::MLIRContext &context, const std::string &path,
           int64_t contextLength, std::string &error,
           const std::string &kvCacheType = "f32") {
  if (contextLength < 0) {
    error = "the context length must be positive";
    return nullptr;
  }
  std::unique_ptr<kvant::gguf::GGUFFile> file =
      kvant::gguf::GGUFFile::open(path, error);
  if (!file)
    return nullptr;
  kvant::ImportOptions options;
  options.contextLength = contextLength;
  options.kvCacheType = kvCacheType;
  return kvant::importGGUF(context, *file, options, error);
}

/// Parses `text` (named `bufferName` in diagnostics).
mlir::OwningOpRef<mlir::ModuleOp> parseText(mlir::MLIRContext &context,
                                            Diagnostics &diags,
                                            const std::string &text,
                                            StringRef bufferName) {
  diags.getSourceMgr().AddNewSourceBuffer(
      MemoryBuffer::getMemBufferCopy(text, bufferName), SMLoc());
  return mlir::parseSourceFile<mlir::ModuleOp>(diags.getSourceMgr(), &context);
}
} // namespace

bool kvant::importGGUFToText(const std::string &path, int64_t contextLength,
                             std::string &moduleText, std::string &error) {
  mlir::DialectRegistry registry;
  kvant::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      importFile(context, path, contextLength, error);
  if (!module)
    return false;
  moduleText = printModule(*module);
  return true;
}

bool kvant::runPipelineOnText(const std::string &moduleText,
                              const std::string &pipeline, std::string &result,
                              std::string &error) {
  registerCompilerPasses();
  mlir::MLIRContext context(makeRegistry());
  Diagnostics diags(context, nullptr);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      parseText(context, diags, moduleText, "<module text>");
  if (!module) {
    error = diags.error("cannot parse the module text");
    return false;
  }

  // "anchor(passes)", as kvant-opt --pass-pipeline takes it; a bare list of
  // passes runs on the module, and any other anchor runs on each op of that
  // name in the module.
  StringRef text = StringRef(pipeline).trim();
  StringRef anchor = "builtin.module", passes = text;
  size_t open = text.find_first_of("({, ");
  if (open != StringRef::npos && text[open] == '(') {
    int depth = 0;
    size_t close = StringRef::npos;
    for (size_t i = open; i < text.size() && close == StringRef::npos; ++i) {
      if (text[i] == '(')
        ++depth;
      else if (text[i] == ')' && --depth == 0)
        close = i;
    }
    if (close == text.size() - 1) {
      anchor = text.take_front(open);
      passes = text.slice(open + 1, close);
    }
  }
  mlir::PassManager pm(&context);
  mlir::OpPassManager &anchored =
      anchor == "builtin.module" ? pm : pm.nest(anchor);
  std::string parseErrors;
  raw_string_ostream parseStream(parseErrors);
  if (failed(mlir::parsePassPipeline(passes, anchored, parseStream))) {
    error = "invalid pass pipeline '" + pipeline + "': " + parseErrors;
    while (!error.empty() && error.back() == '\n')
      error.pop_back();
    return false;
  }
  if (failed(pm.run(*module))) {
    error = diags.error("the pass pipeline failed");
    return false;
  }
  result = printModule(*module);
  return true;
}

bool kvant::compileModel(const CompileOptions &options, std::string &error) {
  registerCompilerPasses();
  // "cpu", or "cuda[:sm_NN]" (sm_90 by default).
  StringRef targetName = options.target;
  bool isCUDA = targetName == "cuda" || targetName.starts_with("cuda:");
  kvant::CUDATarget cudaTarget;
  if (isCUDA && targetName.consume_front("cuda:")) {
    unsigned version = 0;
    if (!targetName.starts_with("sm_") ||
        targetName.drop_front(3).getAsInteger(10, version) || version < 50) {
      error = "target '" + options.target +
              "' names no CUDA architecture (cuda:sm_90, cuda:sm_80, ...)";
      return false;
    }
    cudaTarget.chip = targetName.str();
  }
  if (options.target != "cpu" && !isCUDA) {
    error = "target '" + options.target +
            "' is not supported (cpu, cuda, cuda:sm_NN)";
    return false;
  }
  if (options.kvCacheType != "f32" && options.kvCacheType != "f16") {
    error =
        "--kv-cache-type must be f32 or f16, got '" + options.kvCacheType + "'";
    return false;
  }
  // The CUDA lowering of attention reads an f32 cache only so far.
  if (isCUDA && options.kvCacheType != "f32") {
    error = "--kv-cache-type=" + options.kvCacheType +
            " is supported on the CPU target only (the CUDA target keeps an "
            "f32 KV cache)";
    return false;
  }
  const std::string &outputPath = options.outputPath;
  if (outputPath.empty()) {
    error = "no output file given";
    return false;
  }

  mlir::MLIRContext context(makeRegistry());
  Diagnostics diags(context, options.diagnostics);
  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (options.inputIsText) {
    module = parseText(context, diags, options.inputText, "<module text>");
    if (!module) {
      error = diags.error("cannot parse the model module text");
      return false;
    }
  } else if (StringRef(options.inputPath).ends_with(".gguf")) {
    module = importFile(context, options.inputPath, options.contextLength,
                        error, options.kvCacheType);
    if (!module)
      return false;
  } else {
    std::string openError;
    std::unique_ptr<MemoryBuffer> buffer =
        mlir::openInputFile(options.inputPath, &openError);
    if (!buffer) {
      error = "cannot read the model module '" + options.inputPath +
              "': " + openError;
      return false;
    }
    diags.getSourceMgr().AddNewSourceBuffer(std::move(buffer), SMLoc());
    module =
        mlir::parseSourceFile<mlir::ModuleOp>(diags.getSourceMgr(), &context);
    if (!module) {
      error = diags.error("cannot read the model module '" + options.inputPath +
                          "'");
      return false;
    }
  }

  if (options.emit == EmitKind::Model)
    return writeFile(outputPath, printModule(*module), error);

  std::string int8Dot = resolveInt8Dot(options, error);
  if (int8Dot.empty())
    return false;
  if (options.interleaveRows != 1 &&
      options.interleaveRows != kvant::qt::kInterleavedRows) {
    error = "--interleave-rows must be 1 (the file's layout) or " +
            std::to_string(kvant::qt::kInterleavedRows) + ", got " +
            std::to_string(options.interleaveRows);
    return false;
  }
  static_assert(kvant::kDefaultPrefetchDistance == 4096,
                "CompileOptions::prefetchDistance states the same default");
  if (options.prefetchDistance < 0) {
    error =
        "--weight-prefetch-distance must be 0 (no prefetching) or a positive "
        "number of bytes, got " +
        std::to_string(options.prefetchDistance);
    return false;
  }
  if (options.parallelSchedule != "dynamic" &&
      options.parallelSchedule != "static") {
    error = "--parallel-schedule must be dynamic or static, got '" +
            options.parallelSchedule + "'";
    return false;
  }
  if (isCUDA && options.outlineMatmuls) {
    error = "--outline-matmuls is a CPU option (the CUDA target lowers "
            "matmuls in place)";
    return false;
  }
  mlir::PassManager pm(&context);
  if (isCUDA ? failed(kvant::buildCUDAPipeline(pm, "forward", cudaTarget))
             : failed(kvant::buildCPUPipeline(
                   pm, "forward", options.parallel, int8Dot,
                   options.interleaveRows, options.prefetchDistance,
                   options.parallelSchedule, options.outlineMatmuls))) {
    error = std::string("cannot build the ") + (isCUDA ? "CUDA" : "CPU") +
            " pipeline";
    return false;
  }
  if (failed(pm.run(*module))) {
    error = diags.error(std::string("the ") + (isCUDA ? "CUDA" : "CPU") +
                        " pipeline failed");
    return false;
  }
  if (options.emit == EmitKind::LLVMDialect)
    return writeFile(outputPath, printModule(*module), error);

  LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(*module, llvmContext, "kvant-model");
  if (!llvmModule) {
    error = diags.error("translation to LLVM IR failed");
    return false;
  }
  if (options.parallel && !isCUDA && !linkThreadTeam(*llvmModule, error))
    return false;
  std::string llvmText;
  {
    raw_string_ostream os(llvmText);
    llvmModule->print(os, nullptr);
  }
  if (options.emit == EmitKind::LLVMIR)
    return writeFile(outputPath, llvmText, error);

  // clang optimizes (-O3 for the target CPU) and links; both go through
  // temporary files next to the output, renamed into place on success.
  SmallString<256> irPath, soPath;
  std::string stem = outputPath + ".tmp-%%%%%%";
  if (sys::fs::createUniqueFile(stem + ".ll", irPath) ||
      sys::fs::createUniqueFile(stem + ".so", soPath)) {
    error = "cannot create temporary files next to '" + outputPath + "'";
    return false;
  }
  llvm::scope_exit cleanup([&] {
    sys::fs::remove(irPath);
    sys::fs::remove(soPath);
  });
  if (!writeFile(irPath, llvmText, error))
    return false;
  std::string clang =
      options.clangPath.empty() ? getDefaultClangPath() : options.clangPath;
  std::string marchFlag = "-march=" + options.march;
  SmallVector<StringRef> args = {
      clang, "-O3",  marchFlag, "-shared", "-fPIC", "-Wno-override-module",
      "-o",  soPath, irPath,    "-lm"};
  // CPU artifacts need nothing but libc and libm: the OpenMP entry points
  // the parallel loops call are the thread team linked in above. (CUDA
  // artifacts call the runtime's GPU functions, resolved when loaded.)
  if (!isCUDA)
    args.push_back("-Wl,--no-undefined");
  std::string execError;
  int rc = sys::ExecuteAndWait(clang, args, std::nullopt, {}, 0, 0, &execError);
  if (rc != 0) {
    error = "clang failed (" + std::to_string(rc) + ") " + execError;
    return false;
  }
  if (std::error_code ec = sys::fs::rename(soPath, outputPath)) {
    error = "cannot write '" + outputPath + "': " + ec.message();
    return false;
  }
  return true;
}
