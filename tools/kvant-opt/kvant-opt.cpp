//===- kvant-opt.cpp - kvant's opt-style driver ---------------------------===//
//
// Every upstream dialect, extension and pass plus kvant's, so that any stage
// of a kvant pipeline can be run, printed and tested on its own.
//
//===----------------------------------------------------------------------===//

#include "kvant/InitAllDialects.h"
#include "kvant/InitAllPasses.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  kvant::registerAllPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates each gpu.module to LLVM IR.
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  kvant::registerAllDialects(registry);

  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "kvant optimizer driver\n", registry));
}
