//===- LLMDialect.cpp - llm dialect, types and attributes ----------------===//

#include "dialects/llm/IR/LLMDialect.h"
#include "dialects/llm/IR/LLMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace kvant::llm;

#include "dialects/llm/IR/LLMDialect.cpp.inc"
#include "dialects/llm/IR/LLMEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/llm/IR/LLMAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/llm/IR/LLMTypes.cpp.inc"

void LLMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/llm/IR/LLMOps.cpp.inc"
      >();
}
