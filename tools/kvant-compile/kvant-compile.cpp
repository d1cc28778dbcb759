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
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.gguf | model.mlir>"));
static cl::opt<std::string> outputPath("o", cl::Required,
                                       cl::desc("Output file"),
                                       cl::value_desc("file"));
static cl::opt<std::string> target("target", cl::desc("cpu (cuda: not yet)"),
                                   cl::init("cpu"));
enum class Emit { Model, LLVMDialect, LLVMIR, SharedObject };
static cl::opt<Emit> emit(
    "emit", cl::desc("What to write"), cl::init(Emit::SharedObject),
    cl::values(clEnumValN(Emit::Model, "model",
                          "the imported model (llm/qt/kv dialects)"),
               clEnumValN(Emit::LLVMDialect, "llvm-dialect",
                          "the module after the target pipeline"),
               clEnumValN(Emit::LLVMIR, "llvm-ir", "LLVM IR text"),
               clEnumValN(Emit::SharedObject, "so",
                          "the shared library (default)")));
static cl::opt<int64_t>
    contextLength("context",
                  cl::desc("KV cache capacity in tokens (GGUF input; "
                           "default: the model's context length)"),
                  cl::init(0));
static cl::opt<std::string> march("march",
                                  cl::desc("CPU to generate code for"),
                                  cl::init("native"));
static cl::opt<std::string> clangPath("clang",
                                      cl::desc("clang used to optimize and "
                                               "link"),
                                      cl::init(KVANT_CLANG_PATH));

static int fail(const Twine &message) {
  WithColor::error(errs(), "kvant-compile") << message << "\n";
  return 1;
}

/// Writes `text` to `path` atomically.
static bool writeFile(StringRef path, StringRef text, std::string &error) {
  std::unique_ptr<ToolOutputFile> out = mlir::openOutputFile(path, &error);
  if (!out)
    return false;
  out->os() << text;
  out->keep();
  return true;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  mlir::registerAllPasses();
  kvant::registerAllPasses();
  cl::ParseCommandLineOptions(argc, argv,
                              "kvant-compile: model to native artifact\n");
  if (target != "cpu")
    return fail("target '" + target + "' is not supported yet (cpu only)");

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  kvant::registerAllDialects(registry);
  mlir::MLIRContext context(registry);

  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string error;
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);
  if (StringRef(inputPath).ends_with(".gguf")) {
    std::unique_ptr<kvant::gguf::GGUFFile> file =
        kvant::gguf::GGUFFile::open(inputPath, error);
    if (!file)
      return fail(error);
    kvant::ImportOptions options;
    options.contextLength = contextLength;
    module = kvant::importGGUF(context, *file, options, error);
    if (!module)
      return fail(error);
  } else {
    module = mlir::parseSourceFile<mlir::ModuleOp>(inputPath, sourceMgr,
                                                   &context);
    if (!module)
      return fail("cannot read the model module '" + inputPath + "'");
  }

  auto printModule = [&]() {
    std::string text;
    raw_string_ostream os(text);
    module->print(os);
    os << "\n";
    return text;
  };
  if (emit == Emit::Model)
    return writeFile(outputPath, printModule(), error) ? 0 : fail(error);

  mlir::PassManager pm(&context);
  if (failed(kvant::buildCPUPipeline(pm)))
    return 1;
  if (failed(pm.run(*module)))
    return fail("the CPU pipeline failed (see the diagnostics above)");
  if (emit == Emit::LLVMDialect)
    return writeFile(outputPath, printModule(), error) ? 0 : fail(error);

  LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(*module, llvmContext, "kvant-model");
  if (!llvmModule)
    return fail("translation to LLVM IR failed");
  std::string llvmText;
  {
    raw_string_ostream os(llvmText);
    llvmModule->print(os, nullptr);
  }
  if (emit == Emit::LLVMIR)
    return writeFile(outputPath, llvmText, error) ? 0 : fail(error);

  // clang optimizes (-O3 for the target CPU) and links; both go through
  // temporary files next to the output, renamed into place on success.
  SmallString<256> irPath, soPath;
  std::string stem = outputPath + ".tmp-%%%%%%";
  if (sys::fs::createUniqueFile(stem + ".ll", irPath) ||
      sys::fs::createUniqueFile(stem + ".so", soPath))
    return fail("cannot create temporary files next to '" + outputPath + "'");
  llvm::scope_exit cleanup([&] {
    sys::fs::remove(irPath);
    sys::fs::remove(soPath);
  });
  if (!writeFile(irPath, llvmText, error))
    return fail(error);
  std::string marchFlag = "-march=" + march;
  SmallVector<StringRef> args = {clangPath, "-O3",    marchFlag, "-shared",
                                 "-fPIC",   "-Wno-override-module",
                                 "-o",      soPath,    irPath,  "-lm"};
  std::string execError;
  int rc = sys::ExecuteAndWait(clangPath, args, std::nullopt, {}, 0, 0,
                               &execError);
  if (rc != 0)
    return fail("clang failed (" + std::to_string(rc) + ") " + execError);
  if (std::error_code ec = sys::fs::rename(soPath, outputPath))
    return fail("cannot write '" + outputPath + "': " + ec.message());
  return 0;
}
