//===- InitAll.cpp - register kvant's dialects, passes and pipelines ------===//

#include "kvant/CUDAPipeline.h"
#include "kvant/InitAllDialects.h"
#include "kvant/InitAllPasses.h"
#include "kvant/Pipelines.h"

#include "dialects/kv/IR/KVDialect.h"
#include "dialects/kv/Transforms/Passes.h"
#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/qt/IR/QtDialect.h"
#include "dialects/qt/Transforms/BufferizableOpInterfaceImpl.h"
#include "dialects/qt/Transforms/Passes.h"
#include "dialects/spec/IR/SpecDialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "passes/Conversion/Passes.h"
#include "passes/Transforms/Passes.h"

void kvant::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<kv::KVDialect, llm::LLMDialect, qt::QtDialect,
                  spec::SpecDialect>();
  qt::registerBufferizableOpInterfaceExternalModels(registry);
}

void kvant::registerAllPasses() {
  kv::registerKVPasses();
  qt::registerQtPasses();
  registerConversionPasses();
  registerTransformsPasses();
  registerPipelines();
  registerCUDAPipelines();
}
