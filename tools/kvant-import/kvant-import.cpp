//===- kvant-import.cpp - GGUF model → llm/qt/kv module -------------------===//
//
//   kvant-import model.gguf -o model.mlir [--context N] [--kv-page N]
//
// Reads a Llama-family GGUF file (llama, qwen2, mistral) and writes the model
// graph in kvant's dialects. Weights stay in the file: the module names them.
// The output is written atomically (a temporary file renamed into place).
//
//===----------------------------------------------------------------------===//

#include "kvant/InitAllDialects.h"
#include "lib/GGUF/GGUFFile.h"
#include "lib/Import/GGUFImporter.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                                      cl::desc("<model.gguf>"));
static cl::opt<std::string> outputPath("o",
                                       cl::desc("Output file ('-' for stdout)"),
                                       cl::value_desc("file"), cl::init("-"));
static cl::opt<int64_t>
    contextLength("context",
                  cl::desc("KV cache capacity in tokens (default: the "
                           "model's context length)"),
                  cl::init(0));
static cl::opt<int64_t> pageSize("kv-page", cl::desc("Tokens per KV page"),
                                 cl::init(16));
static cl::opt<std::string>
    kvCacheType("kv-cache-type",
                cl::desc("Element type of the KV cache: f32 or f16"),
                cl::init("f32"));

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "kvant-import: GGUF model to kvant IR\n");
  auto fail = [](const std::string &message) {
    WithColor::error(errs(), "kvant-import") << message << "\n";
    return 1;
  };
  if (contextLength < 0)
    return fail("--context must be positive");

  std::string error;
  std::unique_ptr<kvant::gguf::GGUFFile> file =
      kvant::gguf::GGUFFile::open(inputPath, error);
  if (!file)
    return fail(error);

  mlir::DialectRegistry registry;
  kvant::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  kvant::ImportOptions options;
  options.contextLength = contextLength;
  options.pageSize = pageSize;
  options.kvCacheType = kvCacheType;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      kvant::importGGUF(context, *file, options, error);
  if (!module)
    return fail(error);

  std::unique_ptr<ToolOutputFile> output =
      mlir::openOutputFile(outputPath, &error);
  if (!output)
    return fail(error);
  module->print(output->os());
  output->os() << "\n";
  output->keep();
  return 0;
}
